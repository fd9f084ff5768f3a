/**
 * PostgreSQL test databases copied from a migrated template, the server-side twin of PGlite's
 * template (src/platform/db/template.ts): migrating a fresh database costs 1–3 s per test file
 * on this machine, a `create database … template` a fraction of that.
 *
 * The template is named after a hash of the migration files, so a branch with other migrations
 * (another worktree running its tests against the same server) gets its own, and a changed
 * migration can never be served from an old copy. It is built once, under an advisory lock, as
 * a database of a temporary name that is renamed when complete: a run killed halfway leaves a
 * stray `…_build_…` database, never a half-migrated template. Nothing connects to the template
 * afterwards, which `create database … template` requires. It holds pg-boss's schema and the
 * queues as well (platform/jobs/install.ts), which a server otherwise builds at its first start.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/platform/db/index.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../src/platform/db/migrate.js';
import { installJobSchema } from '../src/platform/jobs/install.js';
import { JOBS_TEMPLATE_TAG } from '../src/platform/jobs/template-queues.js';

const LOCK_KEY = 0x7470_6c74; // 'tplt'

/** The template's name: a hash of every migration file and the journal. */
function templateName(): string {
  const h = createHash('sha256');
  const files = readdirSync(MIGRATIONS_FOLDER)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const f of [...files, path.join('meta', '_journal.json')]) {
    h.update(f);
    h.update(readFileSync(path.join(MIGRATIONS_FOLDER, f)));
  }
  // pg-boss's schema and the queues are in it too (platform/jobs/install.ts).
  h.update(JOBS_TEMPLATE_TAG);
  return `parley_tpl_${h.digest('hex').slice(0, 16)}`;
}

function urlOf(base: string, database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

let ready: Promise<string> | undefined;

/** The migrated template on the server at `base`, built if missing (once per process). */
function template(base: string): Promise<string> {
  ready ??= (async () => {
    const name = templateName();
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      const exists = async () =>
        (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
      if (await exists()) return name;
      await admin.query('select pg_advisory_lock($1)', [LOCK_KEY]);
      try {
        if (await exists()) return name;
        const build = `${name}_build_${process.pid}`;
        await admin.query(`drop database if exists ${build}`);
        await admin.query(`create database ${build}`);
        const database = await openDatabase({ url: urlOf(base, build), poolSize: 2 });
        try {
          await runMigrations(database);
          if (database.driver.kind !== 'postgres') throw new Error('pg-template: not a PostgreSQL database');
          const { pool } = database.driver;
          await installJobSchema({ executeSql: (text, values) => pool.query(text, values as unknown[]) });
        } finally {
          await database.close();
        }
        await admin.query(`alter database ${build} rename to ${name}`);
        return name;
      } finally {
        await admin.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
      }
    } finally {
      await admin.end();
    }
  })();
  ready.catch(() => {
    ready = undefined; // a failed build is tried again by the next caller
  });
  return ready;
}

/**
 * A new database named `name` on the server at `base`: a copy of the migrated template, or
 * empty with `migrated: false` (for tests of the migrator itself). Returns its URL.
 */
export async function createPgDatabase(base: string, name: string, opts: { migrated: boolean }): Promise<string> {
  const from = opts.migrated ? ` template ${await template(base)}` : '';
  await onPostgres(base, `create database ${name}${from}`);
  return urlOf(base, name);
}

/** Drop database `name` of the server at `base`, ending its sessions first. */
export async function dropPgDatabase(base: string, name: string): Promise<void> {
  await onPostgres(base, `drop database if exists ${name} with (force)`);
}

/** One statement on the database at `url`, over a connection of its own; its rows. */
export async function onPostgres(url: string, text: string, values?: unknown[]): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}
