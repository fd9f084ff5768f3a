/**
 * The fallback transport against the WebSocket: the same chat mix — users connected through the
 * SDK, each a member of one channel of MEMBERS, messages from random users at a fixed rate — once
 * over WebSockets and once over server-sent events + POST, interleaved (WS, SSE, WS, SSE, …) on
 * fresh servers, `--repeat` times. Measures send → deliver (p50, p99; sender and receivers are
 * in this process, one clock) and the server's CPU per delivery, and prints medians with the
 * spread (min–max) of the runs (bench/lib/stats.ts `Runs`).
 *
 * The clients are the SDK (ChatClient, `transport: 'websocket' | 'sse'`), not the chat mix's
 * raw-WebSocket generators (bench/lib/gen.ts), which speak only WebSocket: so both columns pay
 * the SDK's client cost alike, and the comparison is of the transports, not of the generators.
 *
 *   npm run bench:transport -- [--users 200] [--rate 50] [--seconds 10] [--repeat 3]
 */
import { ChatClient, type SocketFactory } from '@parley/client';
import WebSocket from 'ws';
import { signToken } from '../packages/server/src/platform/auth.js';
import { hookExit, procStats } from './lib/proc.js';
import { load, sleep, table } from './lib/report.js';
import { ParleyApi, runCleanups, scratchDatabase, startServer } from './lib/setup.js';
import { f2, fms, type Metric, Runs } from './lib/stats.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const USERS = arg('users', 200);
const RATE = arg('rate', 50);
const SECONDS = arg('seconds', 10);
const REPEAT = arg('repeat', 3);
const MEMBERS = 20;

const METRICS: Metric[] = [
  { key: 'delivered', label: 'delivered/s' },
  { key: 'arrived', label: 'arrived %', format: f2 },
  { key: 'p50', label: 'send→deliver p50 ms', format: fms },
  { key: 'p99', label: 'send→deliver p99 ms', format: fms },
  { key: 'cpu', label: 'server CPU µs / delivery', format: f2 },
  { key: 'connectS', label: `connect ${USERS}, s`, format: f2 },
];

type Transport = 'websocket' | 'sse';
// Runs is keyed by the bench's server kinds; the two transports take two of its slots (both are
// Parley): the table below is labelled by transport, never by these names.
const SLOT = { websocket: 'parley', sse: 'raw' } as const;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function run(transport: Transport): Promise<Record<string, number>> {
  const db = await scratchDatabase('transport');
  const server = await startServer('parley', { databaseUrl: db.url });
  const clients: ChatClient[] = [];
  try {
    const url = server.urls[0] as string;
    const api = new ParleyApi(url);
    await api.createApp();
    const users = Array.from({ length: USERS }, (_, i) => `tr${i}`);
    const channels = Array.from({ length: Math.ceil(USERS / MEMBERS) }, (_, k) => ({
      id: `tr-${k}`,
      members: users.slice(k * MEMBERS, (k + 1) * MEMBERS),
    }));
    await api.createUsers(users, 4);
    await api.createChannels(channels, 4);
    await db.analyze();

    const latencies: number[] = [];
    let delivered = 0;
    let measuring = false;
    const t0 = performance.now();
    for (let i = 0; i < USERS; i += 20) {
      const batch = users.slice(i, i + 20).map(async (id) => {
        const c = new ChatClient({
          url,
          apiKey: api.apiKey,
          transport,
          WebSocket: WebSocket as unknown as SocketFactory,
        });
        await c.connectUser({ id }, await signToken(api.secret, id));
        c.on('message.new', (e) => {
          const sent = Number(/^t=([\d.]+)/.exec(e.message.text)?.[1]);
          if (!measuring || !Number.isFinite(sent)) return;
          delivered++;
          latencies.push(performance.now() - sent);
        });
        return c;
      });
      clients.push(...(await Promise.all(batch)));
    }
    const connectS = (performance.now() - t0) / 1000;
    for (const c of clients) {
      if (c.transport !== transport) throw new Error(`a client is on ${c.transport}, not ${transport}`);
    }
    await sleep(1000);

    // The window: RATE sends a second from random users into their channel.
    const pid = server.pids[0] as number;
    const cpu0 = procStats(pid).cpuMs;
    measuring = true;
    let sent = 0;
    const sends: Promise<unknown>[] = [];
    const start = performance.now();
    const end = start + SECONDS * 1000;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE);
      while (sent < due) {
        const i = Math.floor(Math.random() * USERS);
        const ch = (clients[i] as ChatClient).channel('group', `tr-${Math.floor(i / MEMBERS)}`);
        sends.push(ch.sendMessage({ text: `t=${performance.now()}` }).catch(() => {}));
        sent++;
      }
      await sleep(5);
    }
    await Promise.allSettled(sends);
    await sleep(2000);
    measuring = false;
    const cpuMs = procStats(pid).cpuMs - cpu0;
    latencies.sort((a, b) => a - b);
    const expected = sent * MEMBERS;
    return {
      delivered: delivered / SECONDS,
      arrived: (100 * delivered) / Math.max(1, expected),
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      cpu: (cpuMs * 1000) / Math.max(1, delivered),
      connectS,
    };
  } finally {
    await Promise.all(clients.map((c) => c.disconnectUser().catch(() => {})));
    await server.stop();
    await db.drop();
  }
}

async function main(): Promise<void> {
  hookExit();
  const runs = new Runs([SLOT.websocket, SLOT.sse]);
  const loadBefore = load();
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const transport of ['websocket', 'sse'] as const) {
      try {
        const m = await run(transport);
        runs.add(SLOT[transport], rep, m);
        process.stderr.write(`run ${rep + 1} ${transport}: ${JSON.stringify(m)}\n`);
      } catch (e) {
        runs.add(SLOT[transport], rep, null);
        runs.notes.push(`run ${rep + 1} ${transport} failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
  const out = [
    `${USERS} SDK clients, each in 1 of ${Math.ceil(USERS / MEMBERS)} channels of ${MEMBERS}; ${RATE} msg/s from random users for ${SECONDS} s (${RATE * MEMBERS} deliveries/s offered); Parley on PostgreSQL; ${REPEAT} interleaved runs on fresh servers; medians with the spread (min–max). Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      ['', 'WebSocket', 'SSE + POST'],
      METRICS.map((m) => [m.label, runs.cell(SLOT.websocket, m), runs.cell(SLOT.sse, m)]),
    ),
    ...runs.notes.map((n) => `- ${n}`),
  ];
  console.log(out.join('\n'));
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
