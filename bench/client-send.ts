/**
 * One client's send rate: one SDK client sends COUNT messages into one channel without
 * awaiting each (as a chat UI does when someone pastes fast, or a bot posts), and the bench
 * times the first send to the last stored answer. Once with the outbox one at a time
 * (`sendWindow: 1`, one send per round trip, as the SDK sent before) and once with each
 * window of `--windows`, interleaved on one server, `--repeat` times; each run checks that
 * the seqs came back in send order (order is what the pipelining must keep).
 *
 *   npm run bench:client-send -- [--count 2000] [--count1 200] [--windows 1,64] [--repeat 3] [--pglite]
 *
 * PostgreSQL (BENCH_PG_URL) by default; `--pglite`: the embedded default.
 */
import { ChatClient, type SocketFactory } from '@parley/client';
import WebSocket from 'ws';
import { signToken } from '../packages/server/src/platform/auth.js';
import { hookExit, procStats } from './lib/proc.js';
import { load, table } from './lib/report.js';
import { ParleyApi, runCleanups, scratchDatabase, startServer } from './lib/setup.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? String(process.argv[i + 1]) : d;
};
const COUNT = Number(arg('count', '2000'));
/** One send per round trip is slow: fewer sends measure it as well. */
const COUNT1 = Number(arg('count1', '200'));
const WINDOWS = arg('windows', '1,64').split(',').map(Number);
const REPEAT = Number(arg('repeat', '3'));
const PGLITE = process.argv.includes('--pglite');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
};

async function main(): Promise<void> {
  hookExit();
  const loadBefore = load();
  const db = PGLITE ? null : await scratchDatabase('client_send');
  const server = await startServer('parley', {
    ...(db ? { databaseUrl: db.url } : {}),
    env: { BENCH_RATE_MESSAGES: '0' },
  });
  const rates = new Map<number, number[]>(WINDOWS.map((w) => [w, []]));
  try {
    const url = server.urls[0] as string;
    const api = new ParleyApi(url);
    await api.createApp();
    await api.createUsers(['sender'], 1);
    let run = 0;
    for (let rep = 0; rep < REPEAT; rep++) {
      for (const window of WINDOWS) {
        const client = new ChatClient({
          url,
          apiKey: api.apiKey,
          WebSocket: WebSocket as unknown as SocketFactory,
          sendWindow: window,
        });
        try {
          await client.connectUser({ id: 'sender' }, await signToken(api.secret, 'sender'));
          const ch = client.channel('group', `send-${++run}`);
          await ch.createChannel({ members: [], name: `send ${run}` });
          await ch.watch();
          // Warm: the channel's rows on the node, the socket's first frames.
          for (let i = 0; i < 5; i++) await ch.sendMessage({ text: `warm ${i}` });
          const count = window === 1 ? COUNT1 : COUNT;
          const pid = server.pids[0] as number;
          const serverCpu0 = procStats(pid).cpuMs;
          const clientCpu0 = process.cpuUsage();
          const t0 = performance.now();
          const sends = Array.from({ length: count }, (_, i) => ch.sendMessage({ text: `m${i}` }));
          const stored = await Promise.all(sends);
          const s = (performance.now() - t0) / 1000;
          const used = process.cpuUsage(clientCpu0);
          const clientUs = (used.user + used.system) / count;
          const serverUs = ((procStats(pid).cpuMs - serverCpu0) * 1000) / count;
          for (let i = 1; i < stored.length; i++)
            if ((stored[i]?.seq ?? 0) <= (stored[i - 1]?.seq ?? 0))
              throw new Error(
                `window ${window}: send ${i} stored at seq ${stored[i]?.seq}, before ${stored[i - 1]?.seq}`,
              );
          const rate = count / s;
          rates.get(window)?.push(rate);
          process.stderr.write(
            `run ${rep + 1}, window ${window}: ${count} sends in ${s.toFixed(2)} s = ${rate.toFixed(0)} msg/s; CPU a send: client ${clientUs.toFixed(0)} µs, server ${serverUs.toFixed(0)} µs\n`,
          );
        } finally {
          await client.disconnectUser().catch(() => {});
        }
      }
    }
  } finally {
    await server.stop();
    await db?.drop();
  }
  const base = median(rates.get(WINDOWS[0] as number) ?? []);
  console.log(
    [
      `One SDK client on loopback, one channel, sends not awaited one by one (${COUNT} a run; ${COUNT1} with window 1); Parley on ${PGLITE ? 'PGlite (embedded)' : 'PostgreSQL'}; ${REPEAT} interleaved runs, medians with the spread (min–max); every run's seqs in send order. Load average before: ${loadBefore}; after: ${load()}.`,
      '',
      table(
        ['outbox window', 'msg/s', `× window ${WINDOWS[0]}`],
        WINDOWS.map((w) => {
          const xs = rates.get(w) ?? [];
          const m = median(xs);
          return [
            String(w),
            `${m.toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`,
            (m / base).toFixed(1),
          ];
        }),
      ),
    ].join('\n'),
  );
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
