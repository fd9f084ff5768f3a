/**
 * Micro benchmark of the realtime write path alone: one channel event fanned out to 1,000
 * local sockets through the real Hub and Connections, next to a raw `ws` loop that sends one
 * pre-built Buffer to the same 1,000 sockets (what bench/baselines/raw-ws.ts does per publish).
 * No database, no auth, no request parsing: only what every delivery costs once the event is
 * on the bus.
 *
 *   node --import tsx bench/micro-fanout.ts [--events 200] [--rounds 3] [--subs 1000]
 *
 * The 1,000 client sockets live in a child process (this file again, `client` mode) so their
 * CPU is not the server's. Events go out one per event-loop turn, at most WINDOW in flight
 * (the child says when all subscribers have one), so both sides write one frame per socket
 * per event, as at the fan-out scenario's rates. Reported: server CPU (process.cpuUsage, user
 * + system, all threads) per delivery, and deliveries/s; the modes alternate, median of rounds.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket, { WebSocketServer } from 'ws';
import { createMetrics } from '../packages/server/src/platform/metrics.js';
import { channelTopic, MemoryBroker } from '../packages/server/src/realtime/broker.js';
import { Connection } from '../packages/server/src/realtime/connection.js';
import { Hub } from '../packages/server/src/realtime/hub.js';

const APP = 'bench-app';
const CID = 'group:fan';
const WINDOW = 4;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    subs: { type: 'string', default: '1000' },
  },
});

/** A message.new frame of about 900 bytes, like Parley's in the fan-out scenario. */
function eventFrame(seq: number): string {
  return JSON.stringify({
    type: 'message.new',
    cid: CID,
    seq,
    message: {
      id: `m_${seq.toString(36).padStart(12, '0')}`,
      cid: CID,
      seq,
      user: { id: 'sender', name: 'Sender', username: 'sender', image: null, role: 'user' },
      text: 'lorem ipsum dolor sit amet '.repeat(25).slice(0, 640),
      attachments: [],
      reactions: {},
      reply_count: 0,
      created_at: new Date(1_790_000_000_000 + seq).toISOString(),
      updated_at: null,
    },
  });
}

if (positionals[0] === 'client') await runClients();
else await runServer();

/**
 * Child: open `subs` sockets, count frames per socket, report each event once all have it.
 * Events are numbered by arrival across the whole run (frames stay in order per socket).
 */
async function runClients(): Promise<void> {
  const [, url, subsArg] = positionals;
  const subs = Number(subsArg);
  const got: number[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < subs; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, subs - i) }, () => {
        const ws = new WebSocket(url as string, { perMessageDeflate: false, skipUTF8Validation: true });
        sockets.push(ws);
        let n = 0;
        ws.on('message', () => {
          const k = n++;
          got[k] = (got[k] ?? 0) + 1;
          if (got[k] === subs) process.send?.({ done: k });
        });
        return new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
      }),
    );
  }
  process.send?.({ ready: sockets.length });
  process.on('message', (m: { close?: boolean }) => {
    if (m.close) {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
}

async function runServer(): Promise<void> {
  const subs = Number(values.subs);
  const events = Number(values.events);
  const rounds = Number(values.rounds);
  const silent = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;
  const metrics = createMetrics('bench');
  const broker = new MemoryBroker();
  const hub = new Hub(broker, async () => [], silent);
  const user = {
    id: 'u',
    name: 'u',
    username: null,
    image: null,
    role: 'user',
    created_at: '',
    updated_at: '',
  } as const;
  const sockets: WebSocket[] = [];

  // As the gateway builds it: no compression, the server's own frame limit.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      const conn = new Connection(`c${sockets.length}`, ws, APP, `u${sockets.length}`, user, 8 << 20, metrics);
      hub.addConnection(conn);
      hub.subscribe(conn, CID, 0, { member: true });
    }),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;

  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    ['client', `ws://127.0.0.1:${port}/`, String(subs)],
    {
      execArgv: ['--conditions=@parley/source', '--import', 'tsx'],
    },
  );
  const deadline = setTimeout(() => {
    process.stderr.write('micro-fanout: over 120 s, giving up\n');
    child.kill('SIGKILL');
    process.exit(1);
  }, 120_000);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
  });

  // The hub orders a channel's events by seq and waits out gaps: Parley's events get their own
  // unbroken sequence.
  let seq = 0;
  let parleySeq = 0;
  /** Publish `n` events, one per loop turn, WINDOW in flight; resolves when all arrived. */
  function run(mode: 'parley' | 'raw', n: number): Promise<void> {
    return new Promise((resolve) => {
      let sent = 0;
      let done = 0;
      let pumping = false;
      const publish = () => {
        if (mode === 'parley') {
          const s = ++parleySeq;
          broker.publish(channelTopic(APP, CID), { type: 'message.new', cid: CID, seq: s, frame: eventFrame(s) });
        } else {
          const buf = Buffer.from(eventFrame(++seq));
          for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(buf, { binary: false });
        }
      };
      const pump = () => {
        if (sent < n && sent - done < WINDOW) {
          publish();
          sent++;
          setImmediate(pump);
        } else pumping = false;
      };
      const onMessage = (m: { done?: number }) => {
        if (m.done === undefined) return;
        done++;
        if (done === n) {
          child.off('message', onMessage);
          resolve();
        } else if (!pumping) {
          pumping = true;
          setImmediate(pump);
        }
      };
      child.on('message', onMessage);
      pumping = true;
      pump();
    });
  }

  async function measure(mode: 'parley' | 'raw'): Promise<{ us: number; perSecond: number }> {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(mode, events);
    const cpu = process.cpuUsage(cpu0);
    const s = (performance.now() - t0) / 1000;
    const deliveries = events * subs;
    return { us: (cpu.user + cpu.system) / deliveries, perSecond: deliveries / s };
  }

  // Warm-up: JIT, buffer pools, socket buffers.
  await run('raw', 50);
  await run('parley', 50);
  const results: Record<'parley' | 'raw', { us: number; perSecond: number }[]> = { parley: [], raw: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['raw', 'parley'] as const) {
      const m = await measure(mode);
      results[mode].push(m);
      process.stderr.write(
        `round ${r + 1} ${mode.padEnd(6)} ${m.us.toFixed(2)} µs CPU/delivery, ${Math.round(m.perSecond)} deliveries/s\n`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const raw = median(results.raw.map((m) => m.us));
  const parley = median(results.parley.map((m) => m.us));
  const rawRate = median(results.raw.map((m) => m.perSecond));
  const parleyRate = median(results.parley.map((m) => m.perSecond));
  process.stdout.write(
    `\n${events} events × ${subs} sockets, ${rounds} rounds, median\n` +
      `| path   | µs CPU / delivery | deliveries/s |\n|---|--:|--:|\n` +
      `| raw ws | ${raw.toFixed(2)} | ${Math.round(rawRate)} |\n` +
      `| Parley | ${parley.toFixed(2)} | ${Math.round(parleyRate)} |\n` +
      `Parley / raw ws by CPU per delivery: ${(raw / parley).toFixed(2)}×\n`,
  );

  clearTimeout(deadline);
  child.send({ close: true });
  for (const ws of sockets) ws.terminate();
  wss.close();
  http.close();
  await broker.close();
  process.exit(0);
}
