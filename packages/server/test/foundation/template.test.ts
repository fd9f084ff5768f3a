/**
 * The migrated template (src/platform/db/template.ts) that first starts and test files copy
 * instead of running initdb: it must give the same database as migrating an empty one, and a
 * template older than the migrations must get the newer ones applied. PGlite only: PostgreSQL
 * databases are never made from it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DATA_FOLDER_SHARED_BUFFERS } from '../../src/platform/db/data-folder.js';
import { type Database, openDatabase, rows } from '../../src/platform/db/index.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/platform/db/migrate.js';
import { databaseTemplate } from '../../src/platform/db/template.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/install.js';
import { JobQueue } from '../../src/platform/jobs/queue.js';
import { TEMPLATE_QUEUES } from '../../src/platform/jobs/template-queues.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'parley-template-test-'));
const open: Database[] = [];
afterAll(async () => {
  for (const d of open) await d.close();
  rmSync(scratch, { recursive: true, force: true });
});

const track = (d: Database) => {
  open.push(d);
  return d;
};

/** Everything the migrations define, as text: tables, columns, indexes, constraints, functions… */
async function catalog(d: Database) {
  const q = (query: ReturnType<typeof sql>) => rows<Record<string, unknown>>(d.db, query);
  return {
    journal: await q(sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`),
    columns: await q(sql`select table_schema, table_name, column_name, data_type, column_default, is_nullable
      from information_schema.columns where table_schema in ('public', 'drizzle') order by 1, 2, 3`),
    indexes: await q(sql`select schemaname, indexname, indexdef from pg_indexes
      where schemaname in ('public', 'drizzle') order by 1, 2`),
    constraints: await q(sql`select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
      from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`),
    functions: await q(sql`select proname, pg_get_functiondef(oid) as def from pg_proc
      where pronamespace = 'public'::regnamespace order by 1`),
    triggers: await q(
      sql`select tgname, pg_get_triggerdef(oid) as def from pg_trigger where not tgisinternal order by 1`,
    ),
    extensions: await q(sql`select extname from pg_extension order by 1`),
    sequences: await q(sql`select sequencename from pg_sequences order by 1`),
  };
}

/** A copy of the migrations folder holding only the first `n` migrations. */
function olderMigrations(n: number): string {
  const dir = path.join(scratch, `migrations-${n}`);
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const file = path.join(dir, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(file, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, n);
  writeFileSync(file, JSON.stringify(journal));
  return dir;
}

// A fresh PGlite migrated from nothing takes 5–10 s alone and several times that on a loaded
// machine (CI ran it past the 30 s default beside other suites).
describe('the migrated template', { timeout: 180_000 }, () => {
  let fresh: Awaited<ReturnType<typeof catalog>>;
  let total = 0;

  it('gives a database identical in schema to a freshly migrated one', async () => {
    const empty = track(await openDatabase({}));
    total = (await runMigrations(empty)).applied;
    expect(total).toBeGreaterThan(1);
    fresh = await catalog(empty);
    expect(fresh.journal).toHaveLength(total);
    expect(fresh.columns.length).toBeGreaterThan(20);

    // The template of the real migrations (the one `npm ci` built, or built now), loaded in
    // memory: the path of every test file.
    const fromTemplate = track(await openDatabase({ template: true }));
    expect(await runMigrations(fromTemplate)).toEqual({ total, applied: 0 });
    expect(await catalog(fromTemplate)).toEqual(fresh);
    // …holding pg-boss's schema and every queue, which a first start would otherwise build.
    const queues = await rows<{ name: string }>(
      fromTemplate.db,
      sql`select name from ${sql.identifier(JOBS_SCHEMA)}.queue order by name`,
    );
    expect(queues.map((q) => q.name)).toEqual(TEMPLATE_QUEUES.map((q) => q.name).sort());

    // A data folder's first start copies it (the `parley start` path): the same database again.
    const onDisk = track(await openDatabase({ dataDir: path.join(scratch, 'data') }));
    // It knows it holds every migration, so the start's migration step asks it nothing (on a
    // cold catalog, those statements were 50–90 ms of a first start).
    expect(onDisk.madeFrom).toEqual({ migrationsFolder: MIGRATIONS_FOLDER, migrations: total });
    if (onDisk.driver.kind !== 'pglite') throw new Error('a data folder is PGlite');
    const { client } = onDisk.driver;
    const asked = [vi.spyOn(client, 'query'), vi.spyOn(client, 'exec'), vi.spyOn(client, 'transaction')];
    expect(await runMigrations(onDisk)).toEqual({ total, applied: 0 });
    for (const spy of asked) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
    expect(await catalog(onDisk)).toEqual(fresh);
    // With the data folder's shared buffers, not the template's initdb default.
    const [buffers] = await rows<{ shared_buffers: string }>(onDisk.db, sql`show shared_buffers`);
    expect(buffers?.shared_buffers).toBe(DATA_FOLDER_SHARED_BUFFERS);
  });

  it('gets the migrations newer than an older template applied', async () => {
    const cacheDir = path.join(scratch, 'older');
    const older = await databaseTemplate({ cacheDir, migrationsFolder: olderMigrations(total - 1) });
    expect(older?.migrations).toBe(total - 1);

    // Asked for the current migrations, the cache offers the older template (a prefix of them)…
    const found = await databaseTemplate({ cacheDir });
    expect(found).toEqual(older);
    // …and the migrator applies the rest: the same database as a fresh one.
    const d = track(await openDatabase({ dataDir: path.join(scratch, 'data-older'), template: { cacheDir } }));
    expect(d.madeFrom).toEqual({ migrationsFolder: MIGRATIONS_FOLDER, migrations: total - 1 });
    expect(await runMigrations(d)).toEqual({ total, applied: 1 });
    expect(await catalog(d)).toEqual(fresh);
  });

  /** A copy of the cache's template named `name`, its meta.json changed by `edit`; answers the original. */
  async function copyEdited(
    cacheDir: string,
    name: string,
    edit: (meta: { migrations: string[]; jobs?: string }) => void,
  ) {
    const older = await databaseTemplate({ cacheDir });
    if (!older) throw new Error('no template');
    const copy = path.join(cacheDir, name);
    cpSync(older.dir, copy, { recursive: true });
    const file = path.join(copy, 'meta.json');
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { migrations: string[]; jobs?: string };
    edit(meta);
    writeFileSync(file, JSON.stringify(meta));
    return older;
  }

  it('a data folder made from the template by this open is fresh: its queue starts without looking for old work or offering recurring jobs at once, and runs new work', async () => {
    const dir = path.join(scratch, 'data-fresh');
    const first = await openDatabase({ dataDir: dir });
    expect(first.fresh).toBe(true);
    const ran: string[] = [];
    const queueOn = (d: Database) =>
      new JobQueue(d, {
        log: pino({ level: 'silent' }),
        registry: new Registry(),
        work: true,
        pollMs: 100,
        stopTimeoutMs: 500,
        maintenanceSeconds: 60,
      });
    const kind = { name: 'test.fresh', run: async (job: { n: string }) => void ran.push(job.n) };
    // Offered when the queue starts, except on a database this start made (nothing recurring
    // has work there yet): a first offer is a first write to its queue's partition, on a first
    // start's way to listening.
    const offers = async (d: Database) =>
      (
        await rows<{ n: number }>(
          d.db,
          sql`select count(*)::int as n from ${sql.raw(JOBS_SCHEMA)}.job where name = 'test.recurring'`,
        )
      )[0]?.n;
    const defineAll = async (q: JobQueue) => {
      await q.define(kind);
      await q.defineRecurring('test.recurring', 3600, async () => {});
    };
    let q = queueOn(first);
    await defineAll(q);
    await q.start();
    // The offers are not awaited by `start`, but PGlite runs statements in order: a read issued
    // now comes after any offer made at the start.
    expect(await offers(first)).toBe(0);
    await q.enqueue(first.db, kind, { n: 'after the start' });
    await expect.poll(() => ran, { timeout: 20_000 }).toEqual(['after the start']);
    await q.stop();
    // A job left waiting, then the folder opened again: not fresh, and the start finds the job.
    await q.enqueue(first.db, kind, { n: 'from before' });
    await first.close();
    const again = track(await openDatabase({ dataDir: dir }));
    expect(again.fresh).toBe(false);
    q = queueOn(again);
    await defineAll(q);
    await q.start();
    expect(await offers(again)).toBe(1);
    await expect.poll(() => ran, { timeout: 20_000 }).toEqual(['after the start', 'from before']);
    await q.stop();
  });

  it('never uses a template made from a migration that has since changed', async () => {
    const cacheDir = path.join(scratch, 'older');
    // A template claiming every migration, but whose last one differs from the real one.
    const older = await copyEdited(cacheDir, 'changed', (meta) => {
      meta.migrations.push(`${Date.now()}:not-the-real-hash`);
      expect(meta.migrations).toHaveLength(total);
    });
    expect(await databaseTemplate({ cacheDir })).toEqual(older);
  });

  it("never uses a template holding another pg-boss's job schema (it could be newer than this one reads)", async () => {
    const cacheDir = path.join(scratch, 'older');
    const older = await copyEdited(cacheDir, 'other-boss', (meta) => {
      // Every current migration: it would be preferred to the older one, were it usable.
      meta.migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map(
        (m) => `${m.folderMillis}:${m.hash}`,
      );
      meta.jobs = '99.0.0:abcdef012345';
    });
    expect(await databaseTemplate({ cacheDir })).toEqual(older);
  });
});
