/**
 * A database a newer release migrated (docs/upgrading.md). Newer releases are played by this
 * code's migrations plus made-up later ones, applied with runMigrations' options as that release
 * would (its version, its releases list). A server starts on such a database only when the newer
 * release recorded its migrations as compatible with a schema this code knows (a rolling
 * upgrade's expand steps); otherwise it refuses with DatabaseTooNewError, naming both versions
 * and what to do, and changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/app.js';
import { defaultConfig } from '../../src/platform/config.js';
import { type Database, rows } from '../../src/platform/db/index.js';
import { DatabaseTooNewError, lastKnownMigration, runMigrations } from '../../src/platform/db/migrate.js';
import { compatibleFrom, RELEASES } from '../../src/platform/db/releases.js';
import { PARLEY_VERSION } from '../../src/platform/package-version.js';
import { ADMIN } from '../harness.js';
import { madeUpRelease, newerMigrations } from '../newer-release.js';
import { ownDatabase } from './helpers.js';

const drops: (() => Promise<void>)[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

const OURS = lastKnownMigration();

/** A newer release's migrations folder, removed after the file. */
function newerFolder(later: [string, string][]): string {
  const made = newerMigrations(later);
  folders.push(made.folder);
  return made.folder;
}

const release = madeUpRelease;

async function migrated(): Promise<Database> {
  const own = await ownDatabase();
  drops.push(own.drop);
  return own.database;
}

async function journalCount(database: Database): Promise<number> {
  const [r] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return r?.n ?? 0;
}

describe('a database newer than this server', () => {
  it('records who applied each migration and what older code may run on it', async () => {
    const database = await migrated();
    const history = await rows<{ tag: string; version: string | null; compatible_from: string | null }>(
      database.db,
      sql`select tag, version, compatible_from from schema_history order by migration_at`,
    );
    expect(history.length).toBe(await journalCount(database));
    expect(history.at(-1)).toEqual({
      tag: OURS,
      version: PARLEY_VERSION,
      compatible_from: RELEASES.at(-1)?.lastMigration,
    });
    // What the last release shipped has nothing older to run on it.
    const released = history.find((h) => h.tag === RELEASES[0]?.lastMigration);
    expect(released?.compatible_from).toBeNull();
  });

  it('starts on the expand migrations of the next release, and says so', async () => {
    const database = await migrated();
    // 9.0.0 is this code's schema released; 9.1.0 adds a table, an expand step.
    const next = newerFolder([['9001_expand_more', 'CREATE TABLE "later_things" ("id" integer PRIMARY KEY);']]);
    const releases = [...RELEASES, release('9.0.0', OURS)];
    const r = await runMigrations(database, { folder: next, version: '9.1.0', releases });
    expect(r.applied).toBe(1);

    const before = await journalCount(database);
    const again = await runMigrations(database);
    expect(again).toMatchObject({
      applied: 0,
      newer: { version: '9.1.0', lastMigration: '9001_expand_more', count: 1 },
    });
    expect(await journalCount(database)).toBe(before);

    // The server starts; the node list shows its version and the database's.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-newer-node-'));
    folders.push(dataDir);
    const lines: string[] = [];
    const server = await buildServer(
      defaultConfig({ dataDir, adminToken: ADMIN, masterKey: 'c3'.repeat(32), nodeId: 'old-node', logLevel: 'warn' }),
      { database, migrate: true, logStream: { write: (l: string) => void lines.push(l) } },
    );
    try {
      expect(lines.join('\n')).toContain('migrated by a newer release');
      const r = await server.app.inject({
        method: 'GET',
        url: '/v1/admin/nodes',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(r.statusCode).toBe(200);
      const body = r.json() as {
        nodes: { id: string; version: string; schema: string; live: boolean }[];
        database: unknown;
      };
      expect(body.nodes.find((n) => n.id === 'old-node')).toMatchObject({
        version: PARLEY_VERSION,
        schema: OURS,
        live: true,
      });
      expect(body.database).toEqual({ migration: '9001_expand_more', version: '9.1.0' });
      const health = await server.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.json()).toEqual({ ok: true, version: PARLEY_VERSION });
      const anonymous = await server.app.inject({ method: 'GET', url: '/v1/admin/nodes' });
      expect(anonymous.statusCode).toBe(401);
    } finally {
      await server.app.close();
    }
  });

  it('refuses a database two releases ahead, naming both versions and what to do, and changes nothing', async () => {
    const database = await migrated();
    // 9.1.0 expands; 9.2.0 contracts what only code older than 9.1.0 read.
    const later = newerFolder([
      ['9001_expand_more', 'CREATE TABLE "later_things" ("id" integer PRIMARY KEY, "old" text);'],
      ['9002_contract', 'ALTER TABLE "later_things" DROP COLUMN "old";'],
    ]);
    const releases = [...RELEASES, release('9.0.0', OURS), release('9.1.0', '9001_expand_more')];
    const tags = (
      JSON.parse(readFileSync(path.join(later, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] }
    ).entries.map((e) => e.tag);
    expect(compatibleFrom('9002_contract', tags, releases)).toBe('9001_expand_more');
    expect(compatibleFrom('9001_expand_more', tags, releases)).toBe(OURS);
    await runMigrations(database, { folder: later, version: '9.2.0', releases });
    const before = await journalCount(database);

    const refusal = await runMigrations(database).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DatabaseTooNewError);
    const e = refusal as DatabaseTooNewError;
    expect(e.message).toContain('Parley 9.2.0 (up to migration 9002_contract)');
    expect(e.message).toContain(`this server, Parley ${PARLEY_VERSION} (migrations up to ${OURS})`);
    expect(e.message).toContain('know migration 9001_expand_more');
    expect(e.message).toMatch(/Start Parley 9\.2\.0 or newer, or restore the backup taken before the upgrade/);
    expect(e.details).toEqual({
      serverVersion: PARLEY_VERSION,
      serverLastMigration: OURS,
      databaseVersion: '9.2.0',
      databaseLastMigration: '9002_contract',
      needs: '9001_expand_more',
    });
    expect(await journalCount(database)).toBe(before);

    // buildServer refuses the same way, before it listens or writes anything.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-newer-node-'));
    folders.push(dataDir);
    await expect(
      buildServer(defaultConfig({ dataDir, adminToken: ADMIN, masterKey: 'c3'.repeat(32), logLevel: 'silent' }), {
        database,
        migrate: true,
        logger: false,
      }),
    ).rejects.toBeInstanceOf(DatabaseTooNewError);
    const [registered] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from server_nodes`);
    expect(registered?.n).toBe(0);
  });

  it('refuses a migration applied without a record of what may run on it', async () => {
    const database = await migrated();
    const next = newerFolder([['9001_unrecorded', 'CREATE TABLE "later_things" ("id" integer PRIMARY KEY);']]);
    await runMigrations(database, { folder: next, version: '9.1.0', releases: [...RELEASES, release('9.0.0', OURS)] });
    // As a build that keeps no history (or an edit by hand) would leave it.
    await database.db.execute(sql`delete from schema_history where tag = '9001_unrecorded'`);
    const e = (await runMigrations(database).catch((x: unknown) => x)) as DatabaseTooNewError;
    expect(e).toBeInstanceOf(DatabaseTooNewError);
    expect(e.message).toContain('a newer Parley');
    expect(e.message).toContain('without recording which older servers may run on it');
    expect(e.message).toContain('Start the release that migrated it');
  });

  it('refuses a database whose history parted from this code: it lacks a migration this code has', async () => {
    const database = await migrated();
    const before = await journalCount(database);
    // Another line of development: everything but this code's last migration, then one of its own.
    const [last] = await rows<{ at: string }>(
      database.db,
      sql`select created_at::text as at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
    );
    await database.db.execute(
      sql`update drizzle.__drizzle_migrations set created_at = created_at + 1 where created_at = ${last?.at}::bigint`,
    );
    const e = (await runMigrations(database).catch((x: unknown) => x)) as DatabaseTooNewError;
    expect(e).toBeInstanceOf(DatabaseTooNewError);
    expect(e.message).toContain(`lacks migration ${OURS} that this server has`);
    expect(await journalCount(database)).toBe(before);
  });
});
