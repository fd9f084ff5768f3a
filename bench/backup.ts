/**
 * Backup and restore: how long `parley backup` takes and how big its archive is for a
 * deployment of N messages and F files, how long the server stops answering while PGlite copies
 * its folder (the longest pause of its event loop), and how long --verify and a restore take.
 *
 *   node --conditions=@parley/source --import tsx bench/backup.ts [--messages 10000] [--files 200]
 *        [--kb 64] [--json FILE]
 *
 * Embedded PGlite with its files folder, in this process (the archive is what the admin API
 * streams to `parley backup`). Loopback and disk only, bounded by the counts. Timings on a
 * shared machine swing 2–5×: run it on a quiet one.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildServer } from '../packages/server/src/app.js';
import { signToken } from '../packages/server/src/platform/auth.js';
import { createBackup } from '../packages/server/src/platform/backup/create.js';
import { verifyArchive } from '../packages/server/src/platform/backup/format.js';
import { restoreBackup } from '../packages/server/src/platform/backup/restore.js';
import { defaultConfig, NO_HTTP_LIMITS, NO_LIMITS } from '../packages/server/src/platform/config.js';
import { loadMasterKey } from '../packages/server/src/platform/secrets.js';
import { LocalStore } from '../packages/server/src/platform/storage/store.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    files: { type: 'string', default: '200' },
    kb: { type: 'string', default: '64' },
    json: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const FILES = Number(values.files);
const KB = Number(values.kb);
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-backup-'));
const mb = (n: number) => n / 1024 / 1024;
const rows: Record<string, unknown>[] = [];

try {
  const dataDir = path.join(dir, 'source');
  const config = defaultConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    adminToken: 'bench',
    logLevel: 'silent',
    rateMessages: 0,
    limits: NO_LIMITS,
    httpLimits: NO_HTTP_LIMITS,
    vacuumMinutes: 0,
  });
  const server = await buildServer(config, { logger: false });
  const { app } = server;
  const created = await app.inject({
    method: 'POST',
    url: '/v1/admin/apps',
    headers: { authorization: 'Bearer bench' },
    payload: { name: 'bench' },
  });
  const { api_key: apiKey, api_secret: secret } = created.json() as { api_key: string; api_secret: string };
  const as = async (user: string | null) => ({
    'x-api-key': apiKey,
    authorization: `Bearer ${await signToken(secret, user)}`,
  });
  const users = Array.from({ length: 20 }, (_, i) => ({ id: `u${i}`, name: `User ${i}` }));
  await app.inject({ method: 'POST', url: '/v1/users', headers: await as(null), payload: { users } });
  const channels = Array.from({ length: 10 }, (_, i) => `c${i}`);
  for (const id of channels)
    await app.inject({
      method: 'POST',
      url: '/v1/channels',
      headers: await as(null),
      payload: { type: 'public', id, members: users.map((u) => u.id) },
    });

  // Seed: messages from every user in every channel, then files uploaded and attached.
  let t = performance.now();
  const heads = await Promise.all(users.map((u) => as(u.id)));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) {
        const r = await app.inject({
          method: 'POST',
          url: `/v1/channels/public:${channels[i % channels.length]}/messages`,
          headers: heads[i % heads.length],
          payload: { text: `message ${i} ${randomBytes(24).toString('base64')}` },
        });
        if (r.statusCode !== 200 && r.statusCode !== 201) throw new Error(`send: ${r.statusCode} ${r.body}`);
      }
    }),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  for (let i = 0; i < FILES; i++) {
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(randomBytes(KB * 1024))], { type: 'application/octet-stream' }),
      `f${i}.bin`,
    );
    const r = await fetch(`${base}/v1/channels/public:${channels[i % channels.length]}/uploads`, {
      method: 'POST',
      headers: heads[i % heads.length],
      body: form,
    });
    const { attachment: file } = (await r.json()) as { attachment: { id: string } };
    await app.inject({
      method: 'POST',
      url: `/v1/channels/public:${channels[i % channels.length]}/messages`,
      headers: heads[i % heads.length],
      payload: { text: `file ${i}`, attachments: [file.id] },
    });
  }
  rows.push({ what: 'seed', messages: MESSAGES, files: FILES, kb_each: KB, seconds: (performance.now() - t) / 1000 });

  // The backup, as the admin API makes it, while a timer watches the event loop.
  const archive = path.join(dir, 'backup.tar');
  let longest = 0;
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 5);
    last = now;
  }, 5);
  t = performance.now();
  const made = await createBackup(
    {
      database: server.svc.database,
      store: new LocalStore(path.join(dataDir, 'files')),
      masterKey: loadMasterKey(undefined, dataDir),
      tmpDir: dataDir,
    },
    createWriteStream(archive),
    { passphrase: 'bench passphrase' },
  );
  clearInterval(watch);
  const backupSec = (performance.now() - t) / 1000;
  const dbEntry = made.manifest.entries.find((e) => e.name.startsWith('database/'));
  rows.push({
    what: 'backup',
    seconds: backupSec,
    archive_mb: mb(statSync(archive).size),
    database_mb: mb(dbEntry?.size ?? 0),
    objects: made.manifest.objects.count,
    objects_mb: mb(made.manifest.objects.bytes),
    longest_pause_ms: longest,
  });
  await app.close();

  t = performance.now();
  await verifyArchive(archive);
  rows.push({ what: 'verify', seconds: (performance.now() - t) / 1000 });

  t = performance.now();
  await restoreBackup(defaultConfig({ dataDir: path.join(dir, 'restored') }), {
    file: archive,
    passphrase: 'bench passphrase',
  });
  rows.push({ what: 'restore', seconds: (performance.now() - t) / 1000 });

  for (const r of rows)
    console.log(
      Object.entries(r)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`)
        .join('  '),
    );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
