/**
 * Micro benchmark of one before-send hook call from the caller's side: what the server pays per
 * call, apart from the send around it. The receiver (bench/servers/hook-receiver.ts, its own
 * process: checks the signature, answers `{"action":"allow"}`) is on loopback; this process
 * makes `--calls` calls, `--concurrency` at a time, and reports its own CPU (process.cpuUsage,
 * user + system, all threads) per call and the receiver's, for:
 *
 * - `pooled`: how the hook calls now (`WebhookSender` with a read answer: undici, a kept-alive
 *   connection pool per app, no cap on connections);
 * - `fresh`: `safeFetch` on a new TCP connection per call (how it called before 2026-11-25,
 *   session 21).
 *
 * The CPU is counted until the calls' time limit (`--timeout`, ms) has run out after the last
 * one, so what a call leaves behind counts too (a timer that fires later, say).
 *
 * The modes alternate (`--rounds`), median of rounds. CPU time does not swing with the
 * machine's load the way latency does, so this can be read on a shared machine.
 *
 *   node --conditions=@parley/source --import tsx bench/micro-hook.ts [--calls 3000] [--concurrency 8] [--rounds 3] [--timeout 2000]
 */
import { parseArgs } from 'node:util';
import { safeFetch } from '../packages/server/src/features/links/safe-fetch.js';
import { WebhookSender } from '../packages/server/src/features/webhooks/sender.js';
import { signatureHeader } from '../packages/server/src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../packages/server/src/platform/outbound.js';
import { hookExit, killAll, spawnChild } from './lib/proc.js';
import type { ReceiverStats } from './servers/hook-receiver.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '2000' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const TIMEOUT = Number(values.timeout);
hookExit();

const SECRET = 'hksec_bench';
const { child: rcv, ready } = await spawnChild('receiver', 'servers/hook-receiver.ts');
await rcv.call('secret', { path: '/before-send', secret: SECRET });
const url = `${String(ready.url)}/before-send`;
const allow = outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: String(ready.host) }).before_send;
const sender = new WebhookSender({ allow, timeoutMs: TIMEOUT, connections: null });

const bodyOf = (i: number) =>
  JSON.stringify({
    type: 'message.before_send',
    app_id: '00000000-0000-0000-0000-000000000000',
    cid: 'group:bench',
    user_id: 'u1',
    message: { id: `m${i}`, text: `hello ${i}`, parent_id: null, quoted_message_id: null },
    created_at: new Date().toISOString(),
  });
const headers = (body: string) => ({
  'content-type': 'application/json',
  accept: 'application/json',
  'user-agent': 'Parley-Hooks/1.0',
  'x-parley-signature': signatureHeader(SECRET, Math.floor(Date.now() / 1000), body),
  'x-parley-event': 'message.before_send',
});

type Mode = 'pooled' | 'fresh';
async function call(mode: Mode, i: number): Promise<void> {
  const body = bodyOf(i);
  let text: string;
  if (mode === 'pooled') {
    const r = await sender.post('app', url, headers(body), body, { timeoutMs: TIMEOUT, read: 256 * 1024 });
    if (r.error !== null || !r.body) throw new Error(`pooled: ${r.error}`);
    text = r.body.toString('utf8');
  } else {
    const r = await safeFetch(url, {
      method: 'POST',
      body,
      headers: headers(body),
      accept: 'application/json',
      userAgent: 'Parley-Hooks/1.0',
      allow,
      timeoutMs: TIMEOUT,
      maxRedirects: 0,
      maxBytes: 256 * 1024,
    });
    text = r.body.toString('utf8');
  }
  if (JSON.parse(text).action !== 'allow') throw new Error(`unexpected answer ${text}`);
}

async function round(mode: Mode) {
  await rcv.call('reset');
  const r0 = (await rcv.call<ReceiverStats>('stats')).cpu;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) await call(mode, next++);
    }),
  );
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, TIMEOUT + 250));
  const c1 = process.cpuUsage(c0);
  const st = await rcv.call<ReceiverStats>('stats');
  if (st.hooks !== CALLS || st.hookBadSignatures !== 0) throw new Error(`receiver counted ${st.hooks} calls`);
  return {
    cpu: (c1.user + c1.system) / 1000 / CALLS,
    rcvCpu: (st.cpu.user + st.cpu.system - r0.user - r0.system) / 1000 / CALLS,
    perS: CALLS / (ms / 1000),
    connections: st.connections,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
try {
  // Warm both paths (JIT, the pool's first connections), then alternate.
  await round('pooled');
  await round('fresh');
  const res: Record<Mode, Awaited<ReturnType<typeof round>>[]> = { pooled: [], fresh: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const m of ['fresh', 'pooled'] as Mode[]) {
      const x = await round(m);
      res[m].push(x);
      console.log(
        `round ${r + 1} ${m}: caller ${x.cpu.toFixed(3)} ms CPU/call, receiver ${x.rcvCpu.toFixed(3)}, ${x.perS.toFixed(0)} calls/s, ${x.connections} connections`,
      );
    }
  console.log(
    `\n| mode | caller CPU ms/call (rounds) | receiver CPU ms/call | calls/s | connections |\n|---|---|---|---:|---:|`,
  );
  for (const m of ['fresh', 'pooled'] as Mode[]) {
    const xs = res[m];
    console.log(
      `| ${m} | **${median(xs.map((x) => x.cpu)).toFixed(3)}** (${xs.map((x) => x.cpu.toFixed(3)).join(', ')}) | ${median(xs.map((x) => x.rcvCpu)).toFixed(3)} | ${median(xs.map((x) => x.perS)).toFixed(0)} | ${median(xs.map((x) => x.connections))} |`,
    );
  }
} finally {
  await sender.close();
  killAll();
}
process.exit(0);
