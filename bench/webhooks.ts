/**
 * Webhook deliveries on PostgreSQL, one node: how many a second it sustains, their delay from
 * commit to a receiver, and what having endpoints costs a send.
 *
 *   node --conditions=@parley/source --import tsx bench/webhooks.ts [--seconds 10] [--rate 400]
 *        [--channels 64] [--endpoints 0,1] [--repeat 3] [--trouble none|healthy|slow|failing] [--hook off,on]
 *
 * Each in its own process: the server (bench/servers/parley.ts, a fresh scratch database per
 * run), the receiver (bench/servers/hook-receiver.ts: checks every signature, counts
 * duplicates, checks order per channel), and this load generator, which sends over HTTP at
 * `--rate` a second spread over `--channels` channels (a channel's deliveries to an endpoint
 * are serial, so channels are the parallelism) for `--seconds`, then waits for every delivery.
 *
 * `--endpoints` takes a list: each count is a variant, run in turn (A, B, A, B, …) `--repeat`
 * times; 0 is the baseline a send with endpoints is compared with (its answer time, and the
 * server's and PostgreSQL's CPU per send). `--trouble slow` adds a second app whose endpoint
 * answers after 200 ms, `failing` one whose endpoint answers 500 to everything, both sent to at
 * the same rate: the measured app's deliveries must not notice, compared with `healthy`, a
 * second app as busy whose endpoint answers at once (not with `none`: the second app doubles
 * the sends). Prints a table per run and
 * one of medians (with the runs' spread).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { signToken } from '../packages/server/src/platform/auth.js';
import { type Child, hookExit, killAll, machineCpu, spawnChild } from './lib/proc.js';
import { fmt, load, ms, progress, sleep, table } from './lib/report.js';
import { median, spread } from './lib/stats.js';
import type { PathStats } from './servers/hook-receiver.js';

const USAGE = `usage: node --conditions=@parley/source --import tsx bench/webhooks.ts [options]
  --seconds N      measured seconds of sending (default 10)
  --rate N         sends a second (default 400)
  --channels N     channels the sends are spread over (default 64)
  --endpoints L    endpoints of the measured app, a list of variants (default 0,1)
  --repeat N       interleaved runs of each variant (default 3)
  --hook L         the measured app's before-send hook, a list of variants crossed with
                   --endpoints: off | on (fail open, 2 s, the receiver allows) (default off)
  --trouble T      none | healthy | slow | failing: another app sending as much, whose endpoint
                   answers at once (the baseline for the other two), in 200 ms, or with 500s`;

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '400' },
      channels: { type: 'string', default: '64' },
      endpoints: { type: 'string', default: '0,1' },
      repeat: { type: 'string', default: '3' },
      trouble: { type: 'string', default: 'none' },
      hook: { type: 'string', default: 'off' },
    },
  }));
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const channels = Number(values.channels);
const hookModes = String(values.hook).split(',');
const variants = String(values.endpoints).split(',').map(Number);
const repeat = Number(values.repeat);
const trouble = String(values.trouble);
if (
  ![seconds, rate, channels, repeat].every((n) => Number.isFinite(n) && n > 0) ||
  !variants.every((n) => Number.isInteger(n) && n >= 0) ||
  !hookModes.every((m) => ['off', 'on'].includes(m)) ||
  !['none', 'healthy', 'slow', 'failing'].includes(trouble)
) {
  console.error(USAGE);
  process.exit(2);
}
const baseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const log = (m: string) => progress('webhooks', m);
hookExit();

type Headers = Record<string, string>;

/** An app with `users` (one per channel, each the member of its own channel) and `endpoints`. */
async function makeApp(
  http: Pool,
  rcv: Child,
  name: string,
  n: number,
  endpoints: number,
  hook = false,
): Promise<{ heads: Headers[]; paths: string[] }> {
  const call = async (method: string, path: string, headers: Headers, body?: object) => {
    const r = await http.request({
      method: method as 'POST',
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text}`);
    return JSON.parse(text);
  };
  const app = await call('POST', '/v1/admin/apps', { authorization: 'Bearer bench-admin-token' }, { name });
  const srv = { 'x-api-key': app.api_key, authorization: `Bearer ${await signToken(app.api_secret, null)}` };
  const users = Array.from({ length: n }, (_, i) => `u${i}`);
  await call('POST', '/v1/users', srv, { users: users.map((id) => ({ id, name: id })) });
  const heads = await Promise.all(
    users.map(async (id) => ({
      'x-api-key': app.api_key,
      authorization: `Bearer ${await signToken(app.api_secret, id)}`,
    })),
  );
  for (let i = 0; i < n; i++)
    await call('POST', '/v1/channels', heads[i] as Headers, { type: 'group', id: `c${i}`, members: [] });
  const paths: string[] = [];
  for (let e = 0; e < endpoints; e++) {
    const path = `/wh/${name}-${e}`;
    const url = `${(await rcv.call<{ url: string }>('info')).url}${path}`;
    const made = await call('POST', '/v1/webhooks', srv, { url, events: ['message.new'] });
    await rcv.call('secret', { path, secret: made.secret });
    paths.push(path);
  }
  if (hook) {
    const url = `${(await rcv.call<{ url: string }>('info')).url}/before-send`;
    const made = await call('PUT', '/v1/hooks/before-send', srv, { url, timeout_ms: 2000, fail_open: true });
    await rcv.call('secret', { path: '/before-send', secret: made.secret });
  }
  return { heads, paths };
}

/** Send at `perSecond` for `forMs`, over every app's channels in turn; answers the send times. */
async function drive(
  http: Pool,
  apps: { heads: Headers[]; measured: boolean }[],
  perSecond: number,
  forMs: number,
  tag: string,
): Promise<{ sent: number; failed: number; times: number[]; ms: number }> {
  const t0 = performance.now();
  const times: number[] = [];
  let sent = 0;
  let failed = 0;
  let started = 0;
  const inflight = new Set<Promise<void>>();
  while (performance.now() - t0 < forMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
    while (started < due && inflight.size < 512) {
      const k = started++;
      for (const a of apps) {
        const i = k % a.heads.length;
        const began = performance.now();
        const p = http
          .request({
            method: 'POST',
            path: `/v1/channels/group:c${i}/messages`,
            headers: { ...(a.heads[i] as Headers), 'content-type': 'application/json' },
            body: JSON.stringify({ text: `${tag} ${k}` }),
          })
          .then(async (r) => {
            await r.body.dump();
            if (r.statusCode !== 200) throw new Error(String(r.statusCode));
            if (a.measured) {
              sent++;
              times.push(performance.now() - began);
            }
          })
          .catch(() => {
            if (a.measured) failed++;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  return { sent, failed, times, ms: performance.now() - t0 };
}

async function waitDeliveries(rcv: Child, paths: string[], want: number, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await rcv.call<{ paths: Record<string, PathStats> }>('stats');
    const got = paths.reduce((a, p) => a + (s.paths[p]?.unique ?? 0), 0);
    if (got >= want || Date.now() > until) return s.paths;
    await sleep(100);
  }
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};

async function runOnce(rcv: Child, endpoints: number, hook: string, run: number): Promise<Record<string, number>> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const dbName = `parley_bench_wh_${process.pid}_${run}`;
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  const u = new URL(baseUrl);
  u.pathname = `/${dbName}`;
  const rinfo = await rcv.call<{ host: string }>('info');
  const { child: server, ready } = await spawnChild(`parley-${run}`, 'servers/parley.ts', {
    env: {
      BENCH_DATABASE_URL: u.toString(),
      BENCH_DATA_DIR: `/tmp/parley-bench-wh-${process.pid}-${run}`,
      BENCH_RATE_MESSAGES: '0',
      BENCH_OUTBOUND_ALLOW: rinfo.host,
    },
  });
  const http = new Pool(String(ready.url), { connections: 64 });
  try {
    await rcv.call('reset');
    const main = await makeApp(http, rcv, `m${run}`, channels, endpoints, hook !== 'off');
    const apps = [{ heads: main.heads, measured: true }];
    if (trouble !== 'none') {
      const other = await makeApp(http, rcv, `t${run}`, channels, 1);
      if (trouble !== 'healthy')
        await rcv.call(
          'answer',
          trouble === 'slow' ? { path: other.paths[0], delayMs: 200 } : { path: other.paths[0], status: 500 },
        );
      apps.push({ heads: other.heads, measured: false });
    }
    // Warm-up (connections, plans, caches), then its deliveries are waited for and forgotten.
    const warm = await drive(http, apps, rate, 2_000, 'warm-up');
    await waitDeliveries(rcv, main.paths, warm.sent * endpoints, 60_000);
    await rcv.call('reset');
    await server.call('sendStages');
    if (process.env.BENCH_STATEMENTS === '1') await server.call('statements');
    const profile = process.env.BENCH_PROFILE_DIR;
    if (profile) await server.call('profileStart');
    const cpu0 = machineCpu([server.pid]);
    const rcv0 = machineCpu([rcv.pid]).pids;
    const t0 = Date.now();
    const d = await drive(http, apps, rate, seconds * 1000, 'measured');
    const want = d.sent * endpoints;
    log(`run ${run}: ${endpoints} endpoint(s), ${d.sent} sent (${d.failed} failed); waiting for ${want} deliveries`);
    const got = await waitDeliveries(rcv, main.paths, want, 180_000);
    const cpu1 = machineCpu([server.pid]);
    const rcv1 = machineCpu([rcv.pid]).pids;
    if (profile) await server.call('profileStop', { file: `${profile}/webhooks-${endpoints}-${run}.cpuprofile` });
    log(`run ${run}: ${await server.call<string>('sendStages')}`);
    if (process.env.BENCH_STATEMENTS === '1') {
      const top = await server.call<[string, number][]>('statements');
      for (const [text, n] of top.slice(0, 25)) log(`  ${(n / Math.max(1, d.sent)).toFixed(3)}/send  ${text}`);
    }
    const all = main.paths.map((p) => got[p]).filter((s): s is PathStats => !!s);
    const unique = all.reduce((a, s) => a + s.unique, 0);
    const lastAt = Math.max(t0, ...all.map((s) => s.lastAt));
    const st = await rcv.call<{ hooks: number; hookBadSignatures: number; connections: number }>('stats');
    const r = {
      endpoints,
      hook: hookModes.indexOf(hook),
      hooks: st.hooks / Math.max(1, d.sent),
      connections: st.connections,
      sendsPerS: d.sent / (d.ms / 1000),
      sendP50: q(d.times, 0.5),
      sendP99: q(d.times, 0.99),
      serverCpu: (cpu1.pids - cpu0.pids) / Math.max(1, d.sent),
      pgCpu: (cpu1.postgres - cpu0.postgres) / Math.max(1, d.sent),
      rcvCpu: (rcv1 - rcv0) / Math.max(1, d.sent),
      busyCpu: (cpu1.busy - cpu0.busy) / Math.max(1, d.sent),
      delivered: unique,
      wanted: want,
      deliveriesPerS: endpoints ? unique / ((lastAt - t0) / 1000) : Number.NaN,
      delayP50: endpoints ? median(all.map((s) => s.p50)) : Number.NaN,
      delayP99: endpoints ? Math.max(...all.map((s) => s.p99)) : Number.NaN,
      delayMax: endpoints ? Math.max(...all.map((s) => s.max)) : Number.NaN,
      duplicates: all.reduce((a, s) => a + s.duplicates, 0),
      outOfOrder: all.reduce((a, s) => a + s.outOfOrder, 0),
      badSignatures: all.reduce((a, s) => a + s.badSignatures, 0),
      load: Number(load().split(' ')[0]),
    };
    if (endpoints && (r.delivered < want || r.outOfOrder > 0 || r.badSignatures > 0))
      log(`run ${run}: LOST ${want - r.delivered}, out of order ${r.outOfOrder}, bad signatures ${r.badSignatures}`);
    return r;
  } finally {
    await http.close().catch(() => {});
    await server.kill();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
}

const COLUMNS: [string, string, (n: number) => string][] = [
  ['endpoints', 'endpoints', (n) => String(n)],
  ['hook', 'hook', (n) => hookModes[n] ?? '?'],
  ['hooks', 'hook calls/send', (n) => n.toFixed(2)],
  ['connections', 'receiver connections', (n) => fmt(n)],
  ['sendsPerS', 'sends/s', (n) => fmt(n)],
  ['sendP50', 'send p50 ms', (n) => n.toFixed(2)],
  ['sendP99', 'send p99 ms', (n) => n.toFixed(1)],
  ['serverCpu', 'server CPU ms/send', (n) => n.toFixed(2)],
  ['pgCpu', 'PostgreSQL CPU ms/send', (n) => n.toFixed(2)],
  ['rcvCpu', 'receiver CPU ms/send', (n) => n.toFixed(2)],
  ['busyCpu', 'machine CPU ms/send', (n) => n.toFixed(2)],
  ['delivered', 'delivered', (n) => fmt(n)],
  ['deliveriesPerS', 'deliveries/s', (n) => (Number.isFinite(n) ? fmt(n) : '–')],
  ['delayP50', 'commit→received p50', (n) => (Number.isFinite(n) ? `${ms(n)} ms` : '–')],
  ['delayP99', 'p99', (n) => (Number.isFinite(n) ? `${ms(n)} ms` : '–')],
  ['delayMax', 'max', (n) => (Number.isFinite(n) ? `${ms(n)} ms` : '–')],
  ['duplicates', 'dup', (n) => String(n)],
  ['outOfOrder', 'out of order', (n) => String(n)],
  ['load', 'load', (n) => n.toFixed(1)],
];

const { child: rcv } = await spawnChild('receiver', 'servers/hook-receiver.ts');
const results: Record<string, number>[] = [];
try {
  log(
    `${repeat} × [${variants.join(', ')}] endpoints at ${rate}/s over ${channels} channels, ${seconds} s; trouble: ${trouble}; load ${load()}`,
  );
  let run = 0;
  for (let rep = 0; rep < repeat; rep++)
    for (const e of variants)
      for (const hk of hookModes) {
        const r = await runOnce(rcv, e, hk, run++);
        results.push(r);
        console.log(
          table(
            COLUMNS.map((c) => c[1]),
            [COLUMNS.map(([k, , f]) => f(r[k] as number))],
          ),
        );
      }
  const rows = variants.flatMap((e) =>
    hookModes.map((hk, hi) => {
      const rs = results.filter((r) => r.endpoints === e && r.hook === hi);
      return COLUMNS.map(([k, , f]) => {
        if (k === 'endpoints') return String(e);
        if (k === 'hook') return hk;
        const xs = rs.map((r) => r[k] as number);
        const s = spread(xs);
        return Number.isFinite(median(xs)) ? `**${f(median(xs))}** (${f(s.min)}–${f(s.max)})` : '–';
      });
    }),
  );
  console.log(
    `\nMedians of ${repeat} interleaved runs (spread in parentheses), ${rate}/s offered, ${channels} channels, trouble: ${trouble}:\n`,
  );
  console.log(
    table(
      COLUMNS.map((c) => c[1]),
      rows,
    ),
  );
  const base = results.filter((r) => r.endpoints === 0 && r.hook === 0);
  for (const e of variants.filter((v) => v > 0)) {
    const pairs = results
      .filter((r) => r.endpoints === e && r.hook === 0)
      .map((r, i) => (base[i] ? (r.sendP50 as number) / (base[i].sendP50 as number) : Number.NaN));
    if (base.length)
      console.log(
        `send p50 with ${e} endpoint(s) / with none, pair by pair: ${pairs.map((x) => x.toFixed(2)).join(', ')} (median ${median(pairs).toFixed(2)})`,
      );
  }
} finally {
  killAll();
}
process.exit(0);
