/**
 * Backups and the object store (platform/backup): while a backup runs, an object that its
 * database snapshot names is never removed from under it — a removal made between the snapshot
 * and the copy of the objects is held, and done when the backup ends. The admin API reports
 * the last backup. Archives that are not sound are refused with a message naming what is wrong.
 * (The whole round trip, under a send storm with spawned servers: packages/cli/test/backup.pg.test.ts.)
 */
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, keyFingerprint } from '../../src/platform/backup/create.js';
import { openKey, verifyArchive } from '../../src/platform/backup/format.js';
import { restoreBackup } from '../../src/platform/backup/restore.js';
import { defaultConfig } from '../../src/platform/config.js';
import { loadMasterKey } from '../../src/platform/secrets.js';
import { type BlobStore, LocalStore } from '../../src/platform/storage/store.js';
import { ADMIN, type Harness, startHarness, type TestApp, testDatabase } from '../harness.js';

const hasPgDump = (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, 'pg_dump')));
const ON_PG = process.env.PARLEY_TEST_DB === 'postgres';
// CI installs pg_dump and requires it (.ci/run); a laptop without it skips the PostgreSQL run.
const skip = ON_PG && !hasPgDump && process.env.PARLEY_REQUIRE_PG_DUMP !== '1';

let h: Harness;
let app: TestApp;
let url: string | undefined;
let drop: () => Promise<void>;
const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'parley-backup-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  if (skip) return;
  const own = await testDatabase();
  url = own.url;
  drop = own.drop;
  h = await startHarness({}, { database: own.database });
  app = await h.createApp();
});
afterAll(async () => {
  await h?.close();
  await drop?.();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function addEmoji(shortcode: string): Promise<string> {
  const base = await h.listen();
  const form = new FormData();
  form.append('shortcode', shortcode);
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#40a0f0' } })
    .png()
    .toBuffer();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'e.png');
  const r = await fetch(`${base}/v1/emoji`, { method: 'POST', headers: await app.server(), body: form });
  expect(r.status).toBe(200);
  const { rows } = (await h.database.db.execute(
    sql`select storage_key from custom_emoji where shortcode = ${shortcode}`,
  )) as unknown as { rows: { storage_key: string }[] };
  return rows[0]?.storage_key as string;
}

const removeEmoji = async (shortcode: string) =>
  expect((await h.call({ method: 'DELETE', url: `/v1/emoji/${shortcode}`, headers: await app.server() })).status).toBe(
    200,
  );

const heldKeys = async () =>
  (
    (await h.database.db.execute(sql`select key from storage_deletions`)) as unknown as { rows: { key: string }[] }
  ).rows.map((r) => r.key);

// Each test makes a whole backup: PGlite's folder is ~64 MB (mostly WAL) before it is gzipped.
describe.skipIf(skip)('backups and the object store', { timeout: 90_000 }, () => {
  it('holds a removal made between the database snapshot and the copy of the objects, and does it after', async () => {
    const files = new LocalStore(path.join(h.config.dataDir, 'files'));
    const key = await addEmoji('bkparty');
    expect(existsSync(path.join(h.config.dataDir, 'files'))).toBe(true);
    // The store the backup reads: when the backup starts listing objects (its database snapshot
    // is taken by then, naming the emoji), the emoji is removed through the API.
    let removedDuring = false;
    const store: BlobStore = Object.assign(Object.create(files) as BlobStore, {
      async *list() {
        await removeEmoji('bkparty');
        removedDuring = true;
        // Held: the bytes are still there, the removal recorded.
        expect(await heldKeys()).toEqual([key]);
        expect(await files.size(key)).toBeGreaterThan(0);
        yield* files.list();
      },
    });
    const file = path.join(temp(), 'b.tar');
    const key32 = loadMasterKey(undefined, h.config.dataDir);
    const { manifest } = await createBackup(
      { database: h.database, databaseUrl: url, store, masterKey: key32, tmpDir: temp() },
      createWriteStream(file),
    );
    expect(removedDuring).toBe(true);
    expect(manifest.entries.map((e) => e.name)).toContain(`objects/${key}`);
    expect((await verifyArchive(file)).manifest.backup_id).toBe(manifest.backup_id);
    // The backup ended: the held removal is done, and nothing is held any more.
    expect(await heldKeys()).toEqual([]);
    await expect(files.size(key)).rejects.toThrow();

    // With no backup running, a removal is done at once.
    const other = await addEmoji('bkwave');
    await removeEmoji('bkwave');
    expect(await heldKeys()).toEqual([]);
    await expect(files.size(other)).rejects.toThrow();

    // The admin API reports it as the last backup, with its size.
    const r = await h.call({ method: 'GET', url: '/v1/admin/backups', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(r.status).toBe(200);
    expect(r.body.last).toMatchObject({
      id: manifest.backup_id,
      status: 'ok',
      database_kind: h.database.kind,
      bytes: readFileSync(file).length,
      key_included: false,
      restored_at: null,
    });
    expect(r.body.last_ok.id).toBe(manifest.backup_id);
    expect((await h.call({ method: 'GET', url: '/v1/admin/backups' })).status).toBe(401);
  });

  it('streams a backup through the admin API, with the master key sealed by the passphrase', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/admin/backup',
      headers: admin,
      payload: { passphrase: 'a passphrase of ours' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-tar');
    const file = path.join(temp(), 'api.tar');
    writeFileSync(file, r.rawPayload);
    const { manifest, sealedKey } = await verifyArchive(file);
    expect(manifest.key.included).toBe(true);
    expect(manifest.database.kind).toBe(h.database.kind);
    const key = loadMasterKey(undefined, h.config.dataDir);
    expect((await openKey(sealedKey as Buffer, 'a passphrase of ours')).equals(key)).toBe(true);
    await expect(openKey(sealedKey as Buffer, 'another passphrase')).rejects.toThrow(/wrong passphrase/);
    expect(manifest.key.fingerprint).toBe(keyFingerprint(key));

    const short = await h.call({
      method: 'POST',
      url: '/v1/admin/backup',
      headers: admin,
      payload: { passphrase: 'short' },
    });
    expect(short.status).toBe(400);
    expect((await h.call({ method: 'POST', url: '/v1/admin/backup', payload: {} })).status).toBe(401);
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    expect(doc.paths['/v1/admin/backup'].post).toBeDefined();
    expect(doc.paths['/v1/admin/backups'].get).toBeDefined();
  });

  it('a failed backup is recorded as failed and holds nothing after it', async () => {
    const files = new LocalStore(path.join(h.config.dataDir, 'files'));
    const store: BlobStore = Object.assign(Object.create(files) as BlobStore, {
      // biome-ignore lint/correctness/useYield: it fails before its first object
      async *list(): AsyncIterable<{ key: string; size: number }> {
        throw new Error('the bucket went away');
      },
    });
    const out = path.join(temp(), 'failed.tar');
    await expect(
      createBackup(
        { database: h.database, databaseUrl: url, store, masterKey: loadMasterKey(undefined, h.config.dataDir) },
        createWriteStream(out),
      ),
    ).rejects.toThrow('the bucket went away');
    const r = await h.call({ method: 'GET', url: '/v1/admin/backups', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(r.body.last).toMatchObject({ status: 'failed', error: 'the bucket went away' });
    expect(r.body.last_ok.status).toBe('ok');
    // The archive has no manifest: --verify says the backup did not finish.
    await expect(verifyArchive(out)).rejects.toThrow(/ends before its manifest.json/);
    const key = await addEmoji('bkafter');
    await removeEmoji('bkafter');
    await expect(files.size(key)).rejects.toThrow();
  });
});

describe('archives that are not sound', () => {
  /** A tar file of these entries. */
  async function archive(entries: { name: string; body: string }[]): Promise<string> {
    const file = path.join(temp(), 'a.tar');
    const pack = tar.pack();
    for (const e of entries) pack.entry({ name: e.name }, e.body);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    writeFileSync(file, Buffer.concat(chunks));
    return file;
  }

  it('refuses what is not a Parley backup, and one from a newer Parley', async () => {
    const junk = path.join(temp(), 'junk.tar');
    writeFileSync(junk, 'this is not a tar file at all'.repeat(40));
    await expect(verifyArchive(junk)).rejects.toThrow(
      /is not a readable backup archive|is empty or not a Parley backup/,
    );
    await expect(verifyArchive(await archive([{ name: 'hello.txt', body: 'hi' }]))).rejects.toThrow(
      /is not a Parley backup/,
    );
    await expect(verifyArchive(path.join(temp(), 'missing.tar'))).rejects.toThrow(/no such file/);

    // A sound archive whose database has more migrations than this code knows.
    const { createHash } = await import('node:crypto');
    const header = {
      format: 'parley-backup',
      format_version: 1,
      parley_version: '99.0.0',
      backup_id: '00000000-0000-4000-8000-000000000001',
      created_at: new Date().toISOString(),
      database: {
        kind: 'pglite',
        entry: 'database/pgdata.tar.gz',
        migrations: 9999,
        last_migration: null,
        server_version: '18',
      },
      store: { kind: 'local' },
      key: { included: false, fingerprint: 'x' },
    };
    const hb = `${JSON.stringify(header)}\n`;
    const manifest = {
      ...header,
      finished_at: new Date().toISOString(),
      objects: { count: 0, bytes: 0 },
      entries: [{ name: 'backup.json', size: hb.length, sha256: createHash('sha256').update(hb).digest('hex') }],
    };
    const newer = await archive([
      { name: 'backup.json', body: hb },
      { name: 'manifest.json', body: JSON.stringify(manifest) },
    ]);
    expect((await verifyArchive(newer)).manifest.parley_version).toBe('99.0.0');
    const target = temp();
    await expect(restoreBackup(defaultConfig({ dataDir: target }), { file: newer })).rejects.toThrow(
      /comes from a newer Parley \(99\.0\.0: 9999 migrations; this one has \d+\): upgrade Parley, then restore/,
    );
    expect(existsSync(path.join(target, 'pgdata'))).toBe(false);
  });
});
