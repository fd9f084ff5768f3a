/**
 * Helpers shared by the foundation tests: the error-shape assertion, and databases whose life
 * a test controls itself (fresh and unmigrated, or closed mid-test to simulate an outage).
 */
import { randomBytes } from 'node:crypto';
import { ERRORS, type ErrorCode } from '@parley/protocol';
import { expect } from 'vitest';
import { type Database, openDatabase } from '../../src/platform/db/index.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { backend } from '../harness.js';
import { createPgDatabase, dropPgDatabase } from '../pg-template.js';

/** Assert a response is `{error:{code,message}}` with the catalogue status of `code`. */
export function expectError(r: { status: number; body: any }, code: ErrorCode): void {
  expect(r.body, `expected ${code}, got ${r.status} ${JSON.stringify(r.body)}`).toMatchObject({
    error: { code, message: expect.any(String) },
  });
  expect(r.status).toBe(ERRORS[code].status);
  expect(r.body.error.message.length).toBeGreaterThan(0);
}

/**
 * A database of the current backend that the test owns: PGlite in memory, or a new
 * PostgreSQL database. `drop()` tolerates a database the test already closed.
 */
export async function ownDatabase(opts: { migrate?: boolean } = {}): Promise<{
  database: Database;
  /** The PostgreSQL URL of this database (null on PGlite). */
  url: string | null;
  /** Open another handle on the same database (PostgreSQL only). */
  reopen(): Promise<Database>;
  drop(): Promise<void>;
}> {
  const handles: Database[] = [];
  const close = async () => {
    for (const d of handles) await d.close().catch(() => {});
  };
  if (backend === 'postgres') {
    const base = process.env.PARLEY_TEST_PG_URL as string;
    const name = `parley_f_${process.pid}_${randomBytes(4).toString('hex')}`;
    const url = await createPgDatabase(base, name, { migrated: opts.migrate !== false });
    const reopen = async () => {
      const d = await openDatabase({ url, poolSize: 4 });
      handles.push(d);
      return d;
    };
    const database = await reopen();
    if (opts.migrate !== false) await runMigrations(database);
    return {
      database,
      url,
      reopen,
      async drop() {
        await close();
        await dropPgDatabase(base, name);
      },
    };
  }
  // Migrated: a copy of the template (then the migrator, as everywhere); unmigrated: empty.
  const database = await openDatabase({ template: opts.migrate !== false });
  handles.push(database);
  if (opts.migrate !== false) await runMigrations(database);
  return {
    database,
    url: null,
    reopen: () => Promise.reject(new Error('PGlite in memory has one handle')),
    drop: close,
  };
}

/** True when a response body shows no trace of internals (stack frames, SQL, driver text). */
export function leaksNothing(raw: string): boolean {
  return !/\bat .+\(|\.ts:\d|\.js:\d|select |insert |update |from "|pglite|pool|postgres|stack/i.test(raw);
}
