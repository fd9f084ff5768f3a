/**
 * `parley import mattermost` on a large synthetic bulk export (docs/benchmarks.md, "Mattermost
 * import"): makes a workspace through a `parley start` on a fresh data folder, stops it, writes an
 * export of `--messages` posts and replies over `--channels` channels (50 people, a mention in
 * each post, a thread of four replies on every fifth, a reaction on every third), zipped as
 * `mmctl export create` zips it, then runs the real CLI twice — `--dry-run` (read and check every
 * line) and the import — and reports wall time, messages/s and the CLI process's peak RSS.
 *
 *   node --conditions=@parley/source --import tsx bench/mattermost-import.ts [--messages 100000] [--channels 20]
 *
 * With DATABASE_URL set, the import goes to that PostgreSQL database (use a scratch one).
 * Run `npm run build` first to measure the built CLI (else it runs its sources through tsx).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { strToU8, zipSync } from 'fflate';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '100000' }, channels: { type: 'string', default: '20' } },
});
const MESSAGES = Number(values.messages);
const CHANNELS = Number(values.channels);
const BIN = path.resolve(import.meta.dirname, '../packages/cli/bin/parley.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-mm-'));
const data = path.join(dir, 'data');

function parley(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err })),
  );
  return { child, done };
}

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const server = parley(['start', '--port', String(port), '--data', data]);
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (
    await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (i > 600) throw new Error('the server did not start');
  await new Promise((r) => setTimeout(r, 100)); // polls /healthz
}
const origin = { origin: base, 'content-type': 'application/json' };
const signup = await fetch(`${base}/v1/auth/signup`, {
  method: 'POST',
  headers: origin,
  body: JSON.stringify({ email: 'owner@example.com', password: 'correct horse battery', name: 'Owner' }),
});
const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] as string;
const ws = await fetch(`${base}/v1/workspaces`, {
  method: 'POST',
  headers: { ...origin, cookie },
  body: JSON.stringify({ name: 'Bench' }),
});
const workspace = ((await ws.json()) as { workspace: { id: string } }).workspace.id;
server.child.kill('SIGTERM');
await server.done;

const T0 = Date.UTC(2024, 0, 1);
const lines: unknown[] = [
  { type: 'version', version: 1 },
  { type: 'team', team: { name: 'acme', display_name: 'Acme', type: 'O' } },
];
for (let c = 0; c < CHANNELS; c++)
  lines.push({ type: 'channel', channel: { team: 'acme', name: `chan${c}`, type: 'O' } });
const channels = Array.from({ length: CHANNELS }, (_, c) => ({ name: `chan${c}` }));
for (let u = 0; u < 50; u++)
  lines.push({
    type: 'user',
    user: {
      username: `user${u}`,
      email: `user${u}@example.com`,
      first_name: `User ${u}`,
      teams: [{ name: 'acme', channels }],
    },
  });
let n = 0;
for (let i = 0; n < MESSAGES; i++) {
  const at = T0 + i * 60_000;
  const replies =
    i % 5 === 0
      ? Array.from({ length: 4 }, (_, r) => ({
          user: `user${(i + r + 1) % 50}`,
          message: `reply ${r}`,
          create_at: at + r + 1,
        }))
      : [];
  n += 1 + replies.length;
  lines.push({
    type: 'post',
    post: {
      team: 'acme',
      channel: `chan${i % CHANNELS}`,
      user: `user${i % 50}`,
      message: `message ${i} for @user${(i + 7) % 50}, with **some** words`,
      create_at: at,
      reactions: i % 3 === 0 ? [{ user: `user${(i + 1) % 50}`, emoji_name: '+1', create_at: at + 500 }] : [],
      replies,
    },
  });
}
const entries: Record<string, Uint8Array> = { 'import.jsonl': strToU8(lines.map((l) => JSON.stringify(l)).join('\n')) };
const zip = path.join(dir, 'export.zip');
writeFileSync(zip, zipSync(entries));
const rssFile = path.join(dir, 'rss');
const preload = path.join(dir, 'rss.cjs');
writeFileSync(
  preload,
  `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
);
console.log(
  `export: ${n} messages, ${CHANNELS} channels, ${lines.length} lines, zip ${(readFileSync(zip).length / 1048576).toFixed(1)} MiB`,
);
for (const mode of ['--dry-run', 'import']) {
  const t = performance.now();
  const r = await parley(
    [
      'import',
      'mattermost',
      zip,
      '--workspace',
      workspace,
      '--data',
      data,
      '--json',
      ...(mode === 'import' ? [] : [mode]),
    ],
    { NODE_OPTIONS: `--require ${preload}` },
  ).done;
  const s = (performance.now() - t) / 1000;
  if (r.code !== 0) throw new Error(`${mode}: exit ${r.code}: ${r.err}`);
  const imported = (JSON.parse(r.out) as { messages: { imported: number } }).messages.imported;
  const rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
  console.log(
    `${mode}: ${imported} messages in ${s.toFixed(1)} s (${Math.round(imported / s)} msg/s), peak RSS ${rss.toFixed(0)} MiB`,
  );
}
rmSync(dir, { recursive: true, force: true });
