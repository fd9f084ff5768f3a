/**
 * (1) Idle connections: connect N authenticated, idle clients to each server and report the
 * connect rate, the server CPU per connect and the server's RSS per connection: (RSS after −
 * RSS before) / N, both read from /proc (Node servers after a forced GC). Parley runs on
 * PostgreSQL here, so its process holds only the gateway. Users are members of no channel:
 * this is the cost of the socket, its auth, its user and presence entries. ejabberd: SASL
 * PLAIN against its SQL users table, resource bind, no room; CPU and RSS are its Erlang VM's.
 *
 * Servers run interleaved (A, B, C, A, B, C, …), `repeat` times, each on a fresh server.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { Generators } from '../lib/generators.js';
import { type Child, machineCpu, procStats } from '../lib/proc.js';
import { type Ctx, load, progressWhile, type ScenarioResult, sleep } from '../lib/report.js';
import {
  EJABBERD_TEMPLATE,
  EjabberdSetup,
  type Kind,
  NAMES,
  ParleyApi,
  type ServerProc,
  scratchDatabase,
  startServer,
  targetOf,
} from '../lib/setup.js';
import { f0, f2, type Metric, Runs, ratioTarget } from '../lib/stats.js';

const METRICS: Metric[] = [
  { key: 'connected', label: 'connected' },
  { key: 'rate', label: 'connects / s', ratio: true },
  { key: 'cpuMs', label: 'server CPU ms / connect', format: f2, ratio: true },
  { key: 'kb', label: 'KB RSS / connection', format: f2, ratio: true },
  { key: 'heapKb', label: 'KB heap+external / connection (V8)', format: f2 },
];

export async function idle(
  ctx: Ctx,
  opts: { servers: Kind[]; repeat: number; budgetMs: number },
): Promise<ScenarioResult> {
  const N = ctx.full ? 10_000 : 1_000;
  const log = (m: string) => ctx.log('idle', m);
  const servers = opts.servers.filter((k) => k !== 'raw-each' || opts.servers.length === 1);
  const runs = new Runs(servers);
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const gens = await Generators.start('gen-idle', N > 5000 ? 2 : 1);
  const loadBefore = load();
  try {
    // Parley's setup (users through its API) weighs the most; each run gets its share of what is left.
    const weight = (k: Kind) => (k === 'parley' ? 3 : k === 'ejabberd' ? 1.5 : 1);
    const order: { kind: Kind; rep: number }[] = [];
    for (let rep = 0; rep < opts.repeat; rep++) for (const kind of servers) order.push({ kind, rep });
    for (const [oi, { kind, rep }] of order.entries()) {
      const rest = order.slice(oi).reduce((a, x) => a + weight(x.kind), 0);
      const runEnd = performance.now() + ((end - performance.now()) * weight(kind)) / rest;
      if (runEnd - performance.now() < 5000) {
        runs.notes.push(`${NAMES[kind]}: run ${rep + 1} skipped (time budget).`);
        continue;
      }
      let server: ServerProc | null = null;
      try {
        const db =
          kind === 'parley'
            ? await scratchDatabase('idle')
            : kind === 'ejabberd'
              ? await scratchDatabase('idle_ejabberd', EJABBERD_TEMPLATE)
              : null;
        server = await startServer(kind, db ? { databaseUrl: db.url } : {});
        // N measured users, then two sets of 50 for the warm-ups.
        const users = Array.from({ length: N + 100 }, (_, i) => `idle${i}`);
        const target = targetOf(server);
        if (kind === 'parley') {
          const api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await api.createUsers(users, 4);
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        } else if (kind === 'ejabberd' && db) await new EjabberdSetup(server, db.url).createUsers(users);
        await gens.init(target);
        const pid = server.pids[0] as number;
        // Warm up (code paths compiled, pools filled), then measure from a settled heap.
        const warmUp = (from: number) =>
          gens.connect(
            users.slice(from, from + 50).map((user) => ({ user, rooms: [], node: 0 })),
            { concurrency: 50 },
          );
        await warmUp(N);
        await gens.closeClients();
        await sleep(500);
        type Mem = { heapUsed: number; external: number } | null;
        const m0 = (await server.nodes[0]?.call<Mem>('gc')) ?? null;
        // Heap snapshots before and after the window (BENCH_HEAP_DIR), to see what a connection
        // holds: compare them in DevTools' Memory tab, or by constructor with bench/heap-diff.ts.
        const heapDir = kind === 'parley' ? process.env.BENCH_HEAP_DIR : undefined;
        const stamp = Date.now();
        if (heapDir)
          await server.nodes[0]?.call('heapSnapshot', {
            file: path.join(heapDir, `idle-${stamp}-before.heapsnapshot`),
          });
        // Warmed up again, and these 50 stay connected: the forced collection frees what the
        // first warm-up left, and V8 throws away the optimized code that had embedded any of it
        // ("weak objects"), so without this the window began by compiling the connect path
        // again (`--trace-deopt`: about 25 functions of Parley's; Socket.IO's alike). Closed,
        // they would leave state behind that the heap delta counted against the window's
        // connections (8.05 KB a connection instead of 7.91); open, they are counted as the
        // connections they are, in the heap delta only (RSS and CPU are read around the window).
        const extra = (await warmUp(N + 50)).ok;
        await sleep(300);
        // Parley's tokens are minted before the window, as a client holds its token before it
        // connects (its app's backend issued it).
        const specs = users.slice(0, N).map((user) => ({ user, rooms: [], node: 0 }));
        await gens.tokens(specs);
        // A CPU profile of Parley's connects (BENCH_PROFILE_DIR), for DevTools. The profiler
        // adds CPU of its own: a profiled run's CPU per connect reads high.
        const profileDir = kind === 'parley' ? process.env.BENCH_PROFILE_DIR : undefined;
        const node = server.nodes[0] as Child;
        if (profileDir) await node.call('profileStart');
        // A mark for tools that attach to the server (`perf record -p`) over the window.
        log(`${NAMES[kind]}: measuring ${N} connects`);
        const q0 = await server.queries();
        const before = procStats(pid);
        const genPids = gens.procs.map((p) => p.pid);
        const m0cpu = machineCpu(genPids);
        const c = await progressWhile(
          gens.connect(specs, {
            concurrency: 100,
            timeoutMs: Math.max(20_000, runEnd - performance.now()),
          }),
          log,
          `${NAMES[kind]}: connecting ${N}`,
        );
        const mid = procStats(pid);
        const m1cpu = machineCpu(genPids);
        const statements = (await server.queries()) - q0;
        if (profileDir)
          log(
            `  profile: ${await node.call('profileStop', { file: path.join(profileDir, `idle-parley-${Date.now()}.cpuprofile`) })}`,
          );
        await sleep(1000);
        const m1 = (await server.nodes[0]?.call<Mem>('gc')) ?? null;
        if (heapDir)
          await server.nodes[0]?.call('heapSnapshot', { file: path.join(heapDir, `idle-${stamp}-after.heapsnapshot`) });
        const after = procStats(pid);
        const m = {
          connected: c.ok,
          rate: c.ok / (c.ms / 1000),
          cpuMs: (mid.cpuMs - before.cpuMs) / Math.max(1, c.ok),
          kb: (after.rss - before.rss) / Math.max(1, c.ok) / 1024,
          heapKb:
            m0 && m1
              ? (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / Math.max(1, c.ok + extra) / 1024
              : Number.NaN,
        };
        runs.add(kind, rep, m);
        log(
          `run ${rep + 1} ${NAMES[kind]}: ${c.ok}/${N} connected in ${(c.ms / 1000).toFixed(1)} s = ${f0(m.rate)}/s, ` +
            `${f2(m.cpuMs)} ms CPU/connect, ${f2(m.kb)} KB RSS/conn` +
            (kind === 'parley' ? `, ${f2(statements / Math.max(1, c.ok))} SQL statements/connect` : '') +
            (c.failed ? `; ${c.failed} failed ${JSON.stringify(c.errors)}` : ''),
        );
        {
          // Who used the two cores over the window: the server's CPU alone is not what a
          // connect costs when the load generator and PostgreSQL share the machine.
          const per = (v: number) => f2(v / Math.max(1, c.ok));
          const gen = m1cpu.pids - m0cpu.pids;
          const pg = m1cpu.postgres - m0cpu.postgres;
          const busy = m1cpu.busy - m0cpu.busy;
          const srv = mid.cpuMs - before.cpuMs;
          log(
            `  machine CPU ms per connect: server ${per(srv)}, load generator ${per(gen)}, ` +
              `PostgreSQL ${per(pg)}, the rest ${per(busy - srv - gen - pg)}; ` +
              `cores busy ${(busy / Math.max(1, c.ms)).toFixed(2)} of ${cpus().length}`,
          );
        }
        await gens.closeClients();
      } catch (e) {
        runs.add(kind, rep, null);
        runs.notes.push(`${NAMES[kind]} run ${rep + 1}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${NAMES[kind]}: FAILED ${(e as Error).message}`);
      } finally {
        await gens.closeClients().catch(() => {});
        await server?.stop();
      }
    }
  } finally {
    await gens.stop();
  }
  const pCpu = runs.med('parley', 'cpuMs');
  const pKb = Math.max(runs.med('parley', 'kb'), runs.med('parley', 'heapKb') || 0);
  const md = [
    `${N.toLocaleString('en-US')} idle authenticated connections per server, 100 connecting at a time, one server process each (ejabberd: its Erlang VM), ${opts.repeat} interleaved runs on fresh servers; medians with the spread (min–max) of the runs. RSS from /proc (Node servers after a forced GC); RSS deltas include reuse of memory the process already held, so the V8 heap+external delta is given too. Parley's and ejabberd's logins read PostgreSQL, whose CPU is not in "server CPU". Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    runs.table(METRICS),
    '',
    runs.ratioTable(METRICS),
    '',
    '<details><summary>Every run</summary>',
    '',
    runs.runTable(METRICS),
    '',
    '</details>',
    ...(runs.notes.length ? ['', ...runs.notes.map((n) => `- ${n}`)] : []),
  ];
  return {
    key: 'idle',
    title: '1. Idle connections: connect rate, CPU and memory per connection',
    markdown: md,
    targets: [
      ratioTarget(runs, 'connects/s ≥ Socket.IO (idle connects)', 'sio', 'rate', 1, true),
      {
        label: 'server CPU per connect ≤ 1.0 ms',
        value: Number.isFinite(pCpu) ? `${runs.cell('parley', METRICS[2] as Metric)} ms` : 'not measured',
        target: '≤ 1.0 ms',
        met: Number.isFinite(pCpu) ? pCpu <= 1.0 : null,
      },
      {
        label: 'idle memory per connection ≤ 8 KB',
        value: Number.isFinite(pKb)
          ? `${runs.cell('parley', METRICS[3] as Metric)} KB RSS, ${runs.cell('parley', METRICS[4] as Metric)} KB heap+external`
          : 'not measured',
        target: '≤ 8 KB (RSS and heap)',
        met: Number.isFinite(pKb) ? pKb <= 8 : null,
      },
    ],
    charts: [
      {
        title: `Idle: connects/s (${N.toLocaleString('en-US')}, median, min–max)`,
        unit: '/s',
        bars: runs.bars('rate'),
      },
      { title: 'Idle: server CPU ms per connect', unit: 'ms', bars: runs.bars('cpuMs') },
    ],
  };
}
