/**
 * `parley import slack` on a large synthetic export (docs/benchmarks.md, "Slack import"): makes a
 * workspace through a `parley start` on a fresh data folder, stops it, writes an export of
 * `--messages` messages over `--channels` channels (20 a day a channel, 50 people, a mention in
 * each), then runs the real CLI twice — `--dry-run` (read and check everything) and the import —
 * and reports wall time, messages/s and the CLI process's peak RSS (read at its exit through a
 * preloaded hook: `process.resourceUsage().maxRSS`).
 *
 *   node --conditions=@parley/source --import tsx bench/slack-import.ts [--messages 100000] [--channels 20]
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
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-import-'));
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

const users = Array.from({ length: 50 }, (_, i) => ({ id: `U${i}`, name: `user${i}`, real_name: `User ${i}` }));
const entries: Record<string, Uint8Array> = { 'users.json': strToU8(JSON.stringify(users)) };
const T0 = 1_600_000_000;
const perChannel = Math.ceil(MESSAGES / CHANNELS);
let n = 0;
for (let c = 0; c < CHANNELS; c++) {
  for (let d = 0; d * 20 < perChannel; d++) {
    const day = [];
    for (let k = 0; k < 20 && d * 20 + k < perChannel; k++) {
      n++;
      day.push({
        type: 'message',
        user: `U${(k * 7 + d) % 50}`,
        text: `message ${n} for <@U${k}>, with *some* words`,
        ts: `${T0 + d * 86_400 + k * 60}.000100`,
      });
    }
    entries[`chan${c}/${new Date((T0 + d * 86_400) * 1000).toISOString().slice(0, 10)}.json`] = strToU8(
      JSON.stringify(day),
    );
  }
}
entries['channels.json'] = strToU8(
  JSON.stringify(
    Array.from({ length: CHANNELS }, (_, c) => ({
      id: `C${c}`,
      name: `chan${c}`,
      created: T0,
      members: users.map((u) => u.id),
    })),
  ),
);
const zip = path.join(dir, 'export.zip');
writeFileSync(zip, zipSync(entries));
const rssFile = path.join(dir, 'rss');
const preload = path.join(dir, 'rss.cjs');
writeFileSync(
  preload,
  `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
);
console.log(
  `export: ${n} messages, ${CHANNELS} channels, ${Object.keys(entries).length} entries, zip ${(readFileSync(zip).length / 1048576).toFixed(1)} MiB`,
);
for (const mode of ['--dry-run', 'import']) {
  const t = performance.now();
  const r = await parley(
    ['import', 'slack', zip, '--workspace', workspace, '--data', data, '--json', ...(mode === 'import' ? [] : [mode])],
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
