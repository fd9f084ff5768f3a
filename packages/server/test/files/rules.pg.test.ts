/**
 * An app's upload rules: allowed types by what the bytes are (never the name or the declared
 * type) and per-kind size limits, refused with the documented errors and nothing kept; who may
 * read and set them; bad rules refused; a change reaching the other node's next upload at once.
 * Two nodes on one database and one broker (Redis when REDIS_URL is set), over real HTTP.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { clusterBrokers, eventually, type Harness, startHarness, type TestApp, testDatabase } from '../harness.js';
import { elfExecutable, opaqueBytes, upload } from './helpers.js';

const KB = 1024;
const MB = 1024 * KB;
const broker = clusterBrokers('upload-rules');

let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let base1: string;
let base2: string;
let app: TestApp;
const cid = 'group:rules';

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n', 'latin1'), opaqueBytes(200 * KB)]);
/** A PNG of noise (does not compress), about `side`² × 3 bytes. */
const noisePng = (side: number) =>
  sharp(opaqueBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
const smallPng = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#36c' } })
    .png()
    .toBuffer();

const rules = async (node: Harness, headers: Record<string, string>, method: 'GET' | 'PUT', payload?: object) =>
  node.call({ method, url: '/v1/files/rules', headers, ...(payload ? { payload } : {}) });
const tmpLeft = (h: Harness) => {
  try {
    return readdirSync(path.join(h.config.dataDir, 'tmp', 'uploads'));
  } catch {
    return [];
  }
};
const stored = async () =>
  (await rows<{ n: number }>(db.database.db, sql`select count(*)::int as n from files where app_id = ${app.id}`))[0]?.n;

beforeAll(async () => {
  db = await testDatabase();
  const config = { masterKey: 'e'.repeat(64), uploadMaxBytes: 1 * MB, jobPollMs: 100 };
  n1 = await startHarness({ ...config, nodeId: 'r1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...config, nodeId: 'r2' }, { database: db.database, broker: await broker() });
  base1 = await n1.listen();
  base2 = await n2.listen();
  app = await n1.createApp('upload-rules');
  await n1.users(app, [{ id: 'owner', role: 'admin' }, { id: 'bob' }]);
  const ch = await n1.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('owner'),
    payload: { type: 'group', id: 'rules', members: ['bob'] },
  });
  expect(ch.status, JSON.stringify(ch.body)).toBe(200);
});
afterAll(async () => {
  await n1?.close();
  await n2?.close();
  await db?.drop();
});

describe('upload rules', () => {
  it('are none at first, readable by any user, with the server limit', async () => {
    const r = await rules(n2, await app.user('bob'), 'GET');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      rules: { allowed_types: null, max_bytes: {} },
      server_max_bytes: 1 * MB,
      direct_uploads: false,
    });
    // Anything goes, an executable included.
    expect((await upload(base1, app, 'bob', cid, elfExecutable(), 'tool')).status).toBe(200);
  });

  it('are set by app admins and the server token, not by members, and audited', async () => {
    const want = { allowed_types: ['image/*', 'application/pdf'], max_bytes: { image: 64 * KB } };
    const refused = await rules(n1, await app.user('bob'), 'PUT', want);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    const byServer = await rules(n1, await app.server(), 'PUT', want);
    expect(byServer.status, JSON.stringify(byServer.body)).toBe(200);
    expect(byServer.body.rules).toEqual(want);
    const byAdmin = await rules(n1, await app.user('owner'), 'PUT', want);
    expect(byAdmin.status).toBe(200);
    const audit = await rows<{ actor_kind: string }>(
      db.database.db,
      sql`select actor_kind from audit_log where app_id = ${app.id} and action = 'app.upload_rules_updated' order by id`,
    );
    expect(audit.map((a) => a.actor_kind)).toEqual(['server', 'user']);
    expect((await rules(n2, await app.user('bob'), 'GET')).body.rules).toEqual(want);
  });

  it('refuse a type the bytes show, whatever the name and declared type say, keeping nothing', async () => {
    const before = await stored();
    const exe = await upload(base2, app, 'bob', cid, elfExecutable(), 'cat.png', 'image/png');
    expect(exe.status).toBe(415);
    expect(exe.json.error).toMatchObject({
      code: 'INVALID_FILE_TYPE',
      details: { mime_type: 'application/x-elf', allowed_types: ['image/*', 'application/pdf'] },
    });
    const text = await upload(base2, app, 'bob', cid, Buffer.from('just words\n'), 'notes.pdf', 'application/pdf');
    expect(text.status).toBe(415);
    expect(text.json.error.details.mime_type).toMatch(/^text\/plain/);
    const opaque = await upload(base1, app, 'bob', cid, opaqueBytes(10 * KB), 'photo.jpg', 'image/jpeg');
    expect(opaque.status).toBe(415);
    expect(await stored()).toBe(before);
    expect(tmpLeft(n1)).toEqual([]);
    expect(tmpLeft(n2)).toEqual([]);
  });

  it("refuse a file past its kind's limit with the limit, and let other kinds up to the server's", async () => {
    const big = await noisePng(200); // ~120 KB: an image, over the image limit
    expect(big.length).toBeGreaterThan(64 * KB);
    const r = await upload(base1, app, 'bob', cid, big, 'noise.png', 'image/png');
    expect(r.status).toBe(413);
    expect(r.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { kind: 'image', max_bytes: 64 * KB } });
    expect(tmpLeft(n1)).toEqual([]);
    const small = await upload(base1, app, 'bob', cid, await smallPng(), 'dot.png', 'image/png');
    expect(small.status).toBe(200);
    expect(small.json.attachment).toMatchObject({ kind: 'image', mime_type: 'image/png' });
    const pdf = await upload(base2, app, 'bob', cid, PDF, 'report.pdf', 'application/pdf');
    expect(pdf.status, JSON.stringify(pdf.json)).toBe(200);
    expect(pdf.json.attachment.mime_type).toBe('application/pdf');
  });

  it('refuse rules that mean nothing, changing nothing', async () => {
    const server = await app.server();
    for (const bad of [
      { allowed_types: [], max_bytes: {} },
      { allowed_types: ['*/*'], max_bytes: {} },
      { allowed_types: ['pictures'], max_bytes: {} },
      { allowed_types: ['image/*', 'image/*'], max_bytes: {} },
      { allowed_types: null, max_bytes: { image: 0 } },
      { allowed_types: null, max_bytes: { image: -1 } },
      { allowed_types: null, max_bytes: { pictures: 10 } },
      { allowed_types: null },
      { allowed_types: 'image/*', max_bytes: {} },
    ]) {
      const r = await rules(n1, server, 'PUT', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await rules(n1, server, 'GET')).body.rules.allowed_types).toEqual(['image/*', 'application/pdf']);
  });

  it("a change reaches the other node's next upload at once", async () => {
    // Node 2 has the app cached (the uploads above); the change is made on node 1.
    const server = await app.server();
    expect((await upload(base2, app, 'bob', cid, elfExecutable(), 'tool')).status).toBe(415);
    const cleared = await rules(n1, server, 'PUT', { allowed_types: null, max_bytes: {} });
    expect(cleared.body.rules).toEqual({ allowed_types: null, max_bytes: {} });
    // At once with the in-process broker; within a Redis round trip with Redis.
    await eventually(async () => (await upload(base2, app, 'bob', cid, elfExecutable(), 'tool')).status === 200, 3_000);
    const tight = await rules(n1, server, 'PUT', { allowed_types: null, max_bytes: { file: 1 * KB } });
    expect(tight.status).toBe(200);
    await eventually(async () => (await upload(base2, app, 'bob', cid, elfExecutable(), 'tool')).status === 413, 3_000);
  });
});
