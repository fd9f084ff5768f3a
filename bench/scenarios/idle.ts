/**
 * (1) Idle connections: hold N authenticated, idle connections against each server and
 * report the server's RSS per connection: (RSS after − RSS before) / N, both read from
 * /proc after a forced GC in the server process. Parley runs on PostgreSQL here, so its
 * process holds only the gateway (embedded PGlite's WASM heap would grow with the first
 * queries and blur the number). Users are members of no channel: this is the cost of the
 * socket, its auth, its user and presence entries.
 */
import { Generators } from '../lib/generators.js';
import { procStats } from '../lib/proc.js';
import { type Ctx, fmt, load, progressWhile, ratio, type ScenarioResult, sleep, table } from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer } from '../lib/setup.js';

interface Row {
  server: string;
  n: number;
  connected: number;
  before: number;
  after: number;
  perConn: number;
  /** JS heap used + external memory (V8's view, after GC) per connection. */
  heapPerConn: number;
  connectMs: number;
  cpuPerConnMs: number;
}

export async function idle(ctx: Ctx): Promise<ScenarioResult> {
  const N = ctx.full ? 10_000 : 2_000;
  const log = (m: string) => ctx.log('idle', m);
  const rows: Row[] = [];
  const gens = await Generators.start('gen-idle', N > 5000 ? 2 : 1);
  const loadBefore = load();
  try {
    for (const kind of ['parley', 'raw', 'sio'] as const) {
      let server: ServerProc | null = null;
      try {
        const db = kind === 'parley' ? await scratchDatabase('idle') : null;
        server = await startServer(kind, db ? { databaseUrl: db.url } : {});
        const users = Array.from({ length: N + 50 }, (_, i) => `idle${i}`);
        const target = { proto: kind, urls: server.urls } as Parameters<Generators['init']>[0];
        if (kind === 'parley') {
          const api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await api.createUsers(users, 4);
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        }
        await gens.init(target);
        const pid = (server.nodes[0] as { pid: number }).pid;
        // Warm up (code paths compiled, pools filled), then measure from a settled heap.
        await gens.connect(
          users.slice(N).map((user) => ({ user, rooms: [], node: 0 })),
          { concurrency: 50 },
        );
        await gens.closeClients();
        await sleep(500);
        type Mem = { heapUsed: number; external: number };
        const m0 = (await server.nodes[0]?.call<Mem>('gc')) as Mem;
        const before = procStats(pid);
        const c = await progressWhile(
          gens.connect(
            users.slice(0, N).map((user) => ({ user, rooms: [], node: 0 })),
            { concurrency: 100, timeoutMs: Math.max(30_000, ctx.deadline - performance.now() - 60_000) },
          ),
          log,
          `${kind}: connecting ${N}`,
        );
        const mid = procStats(pid);
        await sleep(1000);
        const m1 = (await server.nodes[0]?.call<Mem>('gc')) as Mem;
        const after = procStats(pid);
        const held = await server.nodes[0]?.call<number>('sockets');
        const row: Row = {
          server: kind,
          n: N,
          connected: c.ok,
          before: before.rss,
          after: after.rss,
          perConn: (after.rss - before.rss) / Math.max(1, c.ok),
          heapPerConn: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / Math.max(1, c.ok),
          connectMs: c.ms,
          cpuPerConnMs: (mid.cpuMs - before.cpuMs) / Math.max(1, c.ok),
        };
        rows.push(row);
        log(
          `${kind}: ${c.ok}/${N} connected in ${(c.ms / 1000).toFixed(1)} s (server holds ${held}); ` +
            `RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MB = ${(row.perConn / 1024).toFixed(2)} KB/conn (heap+external ${(row.heapPerConn / 1024).toFixed(2)} KB/conn)` +
            (c.failed ? `; ${c.failed} failed ${JSON.stringify(c.errors)}` : ''),
        );
        await gens.closeClients();
      } finally {
        await server?.stop();
      }
    }
  } finally {
    await gens.stop();
  }
  const get = (k: string) => rows.find((r) => r.server === k);
  const p = get('parley');
  const raw = get('raw');
  const sio = get('sio');
  const name = { parley: 'Parley (PostgreSQL)', raw: 'raw ws (baseline)', sio: 'Socket.IO 4 (baseline)' } as Record<
    string,
    string
  >;
  const md = [
    `${N.toLocaleString('en-US')} idle authenticated connections per server, one server process each; RSS from /proc after a forced GC; RSS deltas include reuse of memory the process already held (a server that allocated much at start-up, like Parley's migrations, shows less), so the V8 heap+external delta is given too (load average before: ${loadBefore}; after: ${load()}).`,
    '',
    table(
      [
        'server',
        'connected',
        'RSS before MB',
        'RSS after MB',
        'KB RSS / connection',
        'vs raw ws',
        'vs Socket.IO',
        'KB heap+external / connection',
        'connect rate /s',
        'server CPU ms / connect',
      ],
      rows.map((r) => [
        name[r.server] ?? r.server,
        `${r.connected}/${r.n}`,
        fmt(r.before / 2 ** 20, 1),
        fmt(r.after / 2 ** 20, 1),
        fmt(r.perConn / 1024, 2),
        ratio(r.perConn, raw?.perConn ?? Number.NaN),
        ratio(r.perConn, sio?.perConn ?? Number.NaN),
        fmt(r.heapPerConn / 1024, 2),
        fmt(r.connected / (r.connectMs / 1000)),
        fmt(r.cpuPerConnMs, 2),
      ]),
    ),
  ];
  return {
    key: 'idle',
    title: '1. Idle connections: memory per connection',
    markdown: md,
    targets: [
      {
        // Judged on the larger of the RSS delta and the heap+external delta (see above).
        label: 'idle memory per connection ≤ 8 KB RSS',
        value: p
          ? `${fmt(p.perConn / 1024, 2)} KB RSS (${fmt(p.heapPerConn / 1024, 2)} KB heap+external)`
          : 'not measured',
        target: '≤ 8 KB (both)',
        met: p ? Math.max(p.perConn, p.heapPerConn) <= 8 * 1024 && p.connected === N : null,
      },
    ],
    charts: [
      {
        title: `Idle: KB RSS per connection (${N.toLocaleString('en-US')} connections)`,
        unit: 'KB',
        bars: rows.map((r) => ({ label: name[r.server] ?? r.server, value: r.perConn / 1024 })),
      },
    ],
  };
}
