/**
 * Applying migrations. The SQL files in `migrations/` come from `drizzle-kit generate`, are
 * versioned by drizzle's journal, and are never edited after they land. On PostgreSQL an
 * advisory lock makes concurrent starters (several nodes, several workers) apply them once.
 *
 * A database a newer release migrated holds migrations this code does not know. Drizzle's
 * migrator would apply nothing and let the server run on a schema it was not written for, so the
 * journal is read first: the server starts only if every such migration was recorded (in
 * schema_history) as compatible with a schema this code knows — a newer release's expand steps,
 * during a rolling upgrade — and refuses otherwise, with `DatabaseTooNewError`, before changing
 * anything. See docs/upgrading.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { PARLEY_VERSION } from '../package-version.js';
import { compatibleFrom, RELEASES, type Release } from './releases.js';
import type { Database } from './types.js';

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_KEY = 0x7061726c; // 'parl'

/** How many migrations exist, and how many were applied by this call. */
export interface MigrationReport {
  total: number;
  applied: number;
  /**
   * Set when the database is ahead of this code but compatible with it (a newer release's
   * expand migrations, mid rolling upgrade): which release migrated it, up to which migration.
   */
  newer?: { version: string | null; lastMigration: string | null; count: number };
}

/** What the migrator needs of a database: the drizzle handle and the driver underneath. */
export type Migratable = Pick<Database, 'db' | 'driver' | 'madeFrom'>;

/** Where the migrations are, and who is applying them (tests pretend to be other releases). */
export interface MigrateOptions {
  folder?: string;
  /** The version recorded as having applied them; default this server's. */
  version?: string;
  /** The releases `compatible_from` is computed from; default RELEASES. */
  releases?: readonly Release[];
}

/**
 * The server refuses this database: it holds migrations this code does not know and that were
 * not recorded as compatible with it. Nothing was changed. `parley` exits 3 on it.
 */
export class DatabaseTooNewError extends Error {
  readonly code = 'PARLEY_DATABASE_TOO_NEW';
  constructor(
    message: string,
    readonly details: {
      serverVersion: string;
      serverLastMigration: string | null;
      databaseVersion: string | null;
      databaseLastMigration: string | null;
      /** The migration a server must know to run on this database, when recorded. */
      needs: string | null;
    },
  ) {
    super(message);
    this.name = 'DatabaseTooNewError';
  }
}

type Run = <T>(text: string, params?: unknown[]) => Promise<T[]>;

interface JournalEntry {
  tag: string;
  when: number;
}

function readJournal(folder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries.map((e) => ({ tag: e.tag, when: e.when }));
}

/** drizzle's `created_at` of every applied migration (none: no journal table yet). */
async function appliedTimes(run: Run): Promise<number[]> {
  const [exists] = await run<{ t: string | null }>(`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  if (!exists?.t) return [];
  const r = await run<{ at: string | number }>(`select created_at as at from drizzle.__drizzle_migrations`);
  return r.map((x) => Number(x.at));
}

async function hasHistory(run: Run): Promise<boolean> {
  const [r] = await run<{ t: string | null }>(`select to_regclass('public.schema_history')::text as t`);
  return !!r?.t;
}

interface HistoryRow {
  at: number;
  tag: string;
  version: string | null;
  compatible_from: string | null;
}

/**
 * Decide about a database holding migrations this code does not know: return what to report when
 * it may run on it, throw `DatabaseTooNewError` when not.
 */
async function judgeNewer(
  run: Run,
  journal: JournalEntry[],
  applied: Set<number>,
  unknown: number[],
  version: string,
): Promise<NonNullable<MigrationReport['newer']>> {
  const tags = new Set(journal.map((e) => e.tag));
  const history = (await hasHistory(run))
    ? await run<HistoryRow>(
        `select migration_at as at, tag, version, compatible_from from schema_history where migration_at = any($1::bigint[]) order by migration_at`,
        [unknown],
      )
    : [];
  const byAt = new Map(history.map((h) => [Number(h.at), h]));
  const newest = history.at(-1) ?? null;
  const ours = journal.at(-1)?.tag ?? null;
  const missing = journal.filter((e) => !applied.has(e.when)).map((e) => e.tag);
  const unvouched = unknown.filter((at) => !byAt.get(at)?.compatible_from);
  const needs = history.map((h) => h.compatible_from).find((c) => c && !tags.has(c)) ?? null;
  if (missing.length === 0 && unvouched.length === 0 && !needs) {
    return { version: newest?.version ?? null, lastMigration: newest?.tag ?? null, count: unknown.length };
  }
  const by = newest?.version ? `Parley ${newest.version}` : 'a newer Parley';
  const upTo = newest ? ` (up to migration ${newest.tag})` : '';
  const self = `Parley ${version}${ours ? ` (migrations up to ${ours})` : ''}`;
  const why =
    missing.length > 0
      ? `and lacks ${missing.length === 1 ? 'migration' : 'migrations'} ${missing.slice(0, 3).join(', ')} that this server has: their histories differ`
      : needs
        ? `and only servers that know migration ${needs} may run on it`
        : `without recording which older servers may run on it`;
  const fix = `Start ${newest?.version ? `Parley ${newest.version} or newer` : 'the release that migrated it'}, or restore the backup taken before the upgrade (docs/upgrading.md).`;
  throw new DatabaseTooNewError(
    `this database was migrated by ${by}${upTo}, newer than this server, ${self}, ${why}. ${fix}`,
    {
      serverVersion: version,
      serverLastMigration: ours,
      databaseVersion: newest?.version ?? null,
      databaseLastMigration: newest?.tag ?? null,
      needs,
    },
  );
}

/**
 * Record who applied each known migration that schema_history lacks (those applied by this call
 * under `version`, older ones with none), and what older code may run on it. Runs only where
 * the table exists (it comes with migration 0041).
 */
async function recordHistory(
  run: Run,
  journal: JournalEntry[],
  before: Set<number>,
  version: string,
  releases: readonly Release[],
): Promise<void> {
  if (!(await hasHistory(run))) return;
  const now = new Set(await appliedTimes(run));
  const known = new Set(
    (await run<{ at: string | number }>(`select migration_at as at from schema_history`)).map((r) => Number(r.at)),
  );
  const tags = journal.map((e) => e.tag);
  const rows = journal.filter((e) => now.has(e.when) && !known.has(e.when));
  if (rows.length === 0) return;
  await run(
    `insert into schema_history (migration_at, tag, version, compatible_from)
     select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) on conflict do nothing`,
    [
      rows.map((e) => e.when),
      rows.map((e) => e.tag),
      rows.map((e) => (before.has(e.when) ? null : version)),
      rows.map((e) => compatibleFrom(e.tag, tags, releases)),
    ],
  );
}

/**
 * Apply every migration not yet applied. Safe to call on every start. The second argument, a
 * folder or options, is for tests and the template builder (`template.ts`), which may apply an
 * older set.
 */
export async function runMigrations(
  database: Migratable,
  folderOrOptions: string | MigrateOptions = {},
): Promise<MigrationReport> {
  const opts = typeof folderOrOptions === 'string' ? { folder: folderOrOptions } : folderOrOptions;
  const folder = opts.folder ?? MIGRATIONS_FOLDER;
  const version = opts.version ?? PARLEY_VERSION;
  const releases = opts.releases ?? RELEASES;
  const journal = readJournal(folder);
  // Copied by this open from a template of every migration here (a data folder's first start):
  // nothing to apply and nothing to record (the template's build recorded its history). Asking
  // the new database was 85–190 ms of a first start, its first statements on a cold catalog;
  // reading the migrations' files again (the template's lookup read them) is not needed either.
  if (database.madeFrom?.migrationsFolder === folder && database.madeFrom.migrations === journal.length)
    return { total: journal.length, applied: 0 };
  const total = readMigrationFiles({ migrationsFolder: folder }).length;
  const config = { migrationsFolder: folder };

  const apply = async (run: Run, migrate: () => Promise<void>): Promise<MigrationReport> => {
    const before = new Set(await appliedTimes(run));
    const known = new Set(journal.map((e) => e.when));
    const unknown = [...before].filter((at) => !known.has(at));
    if (unknown.length > 0) {
      const newer = await judgeNewer(run, journal, before, unknown, version);
      return { total, applied: 0, newer };
    }
    await migrate();
    await recordHistory(run, journal, before, version, releases);
    const after = await appliedTimes(run);
    return { total, applied: after.length - before.size };
  };

  if (database.driver.kind === 'pglite') {
    const { client } = database.driver;
    const run: Run = async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows;
    return apply(run, () => migratePglite(database.db as unknown as PgliteDatabase, config));
  }
  const client = await database.driver.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    const run: Run = async <T>(text: string, params?: unknown[]) =>
      (await client.query(text, params)).rows as unknown as T[];
    return await apply(run, () => migratePg(database.db as unknown as NodePgDatabase, config));
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
}

/** The tag of the last migration in `folder`: the schema this code is written for. */
export function lastKnownMigration(folder: string = MIGRATIONS_FOLDER): string {
  return readJournal(folder).at(-1)?.tag ?? '';
}
