/**
 * (6) The production mix: the chat mix as a real deployment runs it, beside the bare chat mix,
 * interleaved (bare, everything on, bare, …), each run on a fresh server and database.
 *
 * Both: N users (2,000 short, 5,000 full) in 2 channels of 20 each; half of them connected
 * (every channel has 10 online, 10 offline), messages from random online users at 500 msg/s,
 * 10 deliveries each. "Everything on" adds what an app's backend and its offline users switch
 * on: a webhook endpoint for `message.new` and a before-send hook, both on a receiver that
 * checks every signature (bench/servers/hook-receiver.ts, its own process), and a Web Push
 * subscription for every offline user, whose level is `all` in one channel in ten (the
 * receiver answers the pushes as a push service would). Search indexing is part of every send
 * (the message's search vector is written with it), so it is on in both.
 *
 * Reported, medians with spreads: send → deliver p50 / p99 (from the intended send time),
 * webhook commit → received p50 / p99 (with lost, duplicated, out-of-order counts), pushes and
 * hook calls, the CPU per send of the server and of PostgreSQL, how long the server's main
 * thread waited for a core (schedstat), and the receiver's and load generators' CPU per send
 * (they stand for other machines). Goal: p99 with everything on ≤ 1.5× bare.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { availableParallelism, setPriority } from 'node:os';
import { type FsyncStats, startFsyncProbe } from '../lib/fsync-probe.js';
import { Generators } from '../lib/generators.js';
import { type Child, machineCpu, procStats, runQueueMs, spawnChild } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, type ScenarioResult, sleep, table } from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer, targetOf } from '../lib/setup.js';
import { f1, f2, fms, type Metric, Runs } from '../lib/stats.js';
import { runStep, type StepResult } from '../lib/step.js';
import type { ReceiverStats } from '../servers/hook-receiver.js';

const MEMBERS = 20;
/** Messages a second (`BENCH_PRODMIX_RATE`; 500, the chat mix's, by default). */
const RATE = Number(process.env.BENCH_PRODMIX_RATE) || 500;
/**
 * The measured window, s (`BENCH_PRODMIX_SECONDS`; 5, or 30 with --full). A run's p99 is its
 * 1 %-slowest deliveries: in 5 s at 100 msg/s, 50 of 5,000, so one 100 ms stall of the disk
 * under a commit decides it; in 30 s, 300 of 30,000 (docs/benchmarks.md, 2026-11-27).
 */
export const prodmixSeconds = (full: boolean) => Number(process.env.BENCH_PRODMIX_SECONDS) || (full ? 30 : 5);

/**
 * The warm-up before the window, s, at the full rate (`BENCH_PRODMIX_WARM_SECONDS`, default 5):
 * the window measures a server that has been running, as a deployment's has. One second at half
 * the rate left the window paying for start-up — TLS handshakes and new connections to the push
 * service and the receiver (4–22 in the window), code not yet optimized on the background
 * thread — which only everything-on has (p99 everything on / bare 1.84× against 1.55× after four
 * seconds at the full rate, six pairs each, docs/benchmarks.md 2026-11-27 morning).
 */
const WARM_SECONDS = Number(process.env.BENCH_PRODMIX_WARM_SECONDS) || 5;

/**
 * The server as shipped: on PostgreSQL its jobs (notifications and their pushes, webhook
 * deliveries) run on a background thread of the process (`PARLEY_BACKGROUND=auto`).
 * `inline`: everything on, with that work on the loop that serves clients instead
 * (`PARLEY_BACKGROUND=inline`, as before 2026-11-26's last session). `niced`: everything on, the
 * background thread at a lower priority than the main thread (`PARLEY_BACKGROUND_NICE=10`).
 * `split`: everything on, with the background work on a worker node of its own beside the node
 * the clients use, Redis between them: the API node runs no jobs (`PARLEY_JOB_WORKERS=0`), so its
 * event loop serves sends and sockets only. `hook`, `webhook`, `push`: one part of everything on
 * alone, to see what each costs. The variants run: `BENCH_PRODMIX_VARIANTS` (default bare and
 * everything on; `bare,hook,webhook,push,all` for the parts beside the whole).
 */
type Variant = 'bare' | 'all' | 'inline' | 'niced' | 'split' | Part;
/** What "everything on" switches on, each also a variant of its own: what each part costs. */
type Part = 'hook' | 'webhook' | 'push';
const PARTS: readonly Part[] = ['hook', 'webhook', 'push'];
const NAMES: Record<Variant, string> = {
  bare: 'bare',
  all: 'everything on',
  inline: 'everything on, jobs inline',
  niced: 'everything on, background thread at nice 10',
  split: 'everything on, worker node',
  hook: 'before-send hook only',
  webhook: 'webhook only',
  push: 'Web Push only',
};
const isPart = (v: Variant): v is Part => (PARTS as readonly string[]).includes(v);
const VARIANTS = (process.env.BENCH_PRODMIX_VARIANTS ?? 'bare,all').split(',').filter((v): v is Variant => v in NAMES);
/** The variants a repetition runs, bare always among them. */
const RUN_VARIANTS: Variant[] = VARIANTS.includes('bare') ? VARIANTS : ['bare', ...VARIANTS];
/** How many runs a repetition makes (bench/run.ts scales the scenario's time budget by it). */
export const prodmixVariants = () => RUN_VARIANTS.length;

const METRICS: Metric[] = [
  { key: 'delivered', label: 'delivered/s' },
  { key: 'arrived', label: 'arrived %', format: f1 },
  { key: 'p50', label: 'send→deliver p50 ms', format: fms, ratio: true },
  { key: 'p99', label: 'send→deliver p99 ms', format: fms, ratio: true },
  { key: 'serverCpu', label: 'server CPU ms / send', format: f2, ratio: true },
  { key: 'pgCpu', label: 'PostgreSQL CPU ms / send', format: f2, ratio: true },
  { key: 'totalCpu', label: 'server + PostgreSQL CPU ms / send', format: f2, ratio: true },
  { key: 'statements', label: 'statements / send', format: f2, ratio: true },
  { key: 'waitCpu', label: 'server waiting for a core, ms / send', format: f2, ratio: true },
  { key: 'rcvCpu', label: 'receiver CPU ms / send (hook, webhooks, push service)', format: f2 },
  { key: 'genCpu', label: 'load generators CPU ms / send', format: f2, ratio: true },
  { key: 'busy', label: 'machine CPU busy %, all cores', format: f1 },
  { key: 'fsyncMax', label: 'disk: longest fsync in the window ms (probe)', format: fms },
  { key: 'fsyncSlow', label: 'disk: fsyncs over 50 ms in the window (probe)' },
  { key: 'genStall', label: 'load generators’ longest event-loop stall ms', format: fms },
  { key: 'rcvStall', label: 'receiver’s longest event-loop stall ms', format: fms },
  { key: 'whP50', label: 'webhook commit→received p50 ms', format: fms },
  { key: 'whP99', label: 'webhook commit→received p99 ms', format: fms },
  { key: 'whLost', label: 'webhooks lost' },
  { key: 'whDup', label: 'webhooks duplicated' },
  { key: 'whDisorder', label: 'webhooks out of order' },
  { key: 'hooks', label: 'before-send calls / send', format: f2 },
  { key: 'pushes', label: 'Web Push requests in the window / s', format: f1 },
  { key: 'pushDrain', label: 'Web Push backlog drained after the window, s', format: f1 },
];

/** Online users: half of every channel (both families), by the parity of i + ⌊i / A⌋. */
const online = (i: number, a: number) => (i + Math.floor(i / a)) % 2 === 0;

export async function prodmix(ctx: Ctx, opts: { budgetMs: number; repeat: number }): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('prod-mix', m);
  const USERS = ctx.full ? 5000 : 2000;
  const A = USERS / MEMBERS;
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const durationMs = prodmixSeconds(ctx.full) * 1000;
  const users = Array.from({ length: USERS }, (_, i) => `pm${i}`);
  const roomsOf = (i: number) => [`group:pm-a-${i % A}`, `group:pm-b-${Math.floor(i / MEMBERS) % A}`];
  const variants = RUN_VARIANTS;
  const on = variants.filter((v) => v !== 'bare');
  const runs = new Runs<Variant>(variants, NAMES);
  const loadBefore = load();

  const gens = await Generators.start('gen-prod', 2);
  const { child: rcv, ready } = await spawnChild('receiver', 'servers/hook-receiver.ts');
  // BENCH_RECEIVER_NICE=19: the receiver (the app's backend and the push service, which in a
  // deployment run on other machines) yields the cores to the server and PostgreSQL.
  if (process.env.BENCH_RECEIVER_NICE) setPriority(rcv.proc.pid as number, Number(process.env.BENCH_RECEIVER_NICE));
  const genPids = gens.procs.map((g) => g.proc.pid as number);
  /** CPU ms of some of the bench's own processes (they stand for other machines). */
  const cpuOf = (pids: number[]) => pids.reduce((a, pid) => a + procStats(pid).cpuMs, 0);
  const rcvUrl = String(ready.url);
  const order: { v: Variant; rep: number }[] = [];
  for (let rep = 0; rep < opts.repeat; rep++) for (const v of variants) order.push({ v, rep });
  try {
    for (const [oi, { v, rep }] of order.entries()) {
      const runEnd = performance.now() + (end - performance.now()) / (order.length - oi);
      if (runEnd - performance.now() < 15_000) {
        runs.notes.push(`${NAMES[v]}: run ${rep + 1} skipped (time budget).`);
        continue;
      }
      const label = `run ${rep + 1} ${NAMES[v]}`;
      let server: ServerProc | null = null;
      let db: Awaited<ReturnType<typeof scratchDatabase>> | null = null;
      try {
        db = await scratchDatabase('prod');
        server = await startServer('parley', {
          databaseUrl: db.url,
          ...(v === 'split'
            ? { nodes: 2, redis: true, nodeEnv: (i: number) => ({ BENCH_JOB_WORKERS: i === 0 ? '0' : '1' }) }
            : {}),
          // Every message a push to each offline member whose level lets it through (no one-per-burst
          // collapsing): the push path at its busiest.
          env: {
            BENCH_OUTBOUND_ALLOW: `${ready.host},${ready.pushHost}`,
            BENCH_WEB_PUSH_CA: String(ready.ca),
            BENCH_PUSH_BURST_SECONDS: '0',
            ...(v === 'inline' || v === 'split' ? { BENCH_BACKGROUND: 'inline' } : {}),
            ...(v === 'niced' ? { BENCH_BACKGROUND_NICE: '10' } : {}),
          },
        });
        // BENCH_WORKER_NICE=19: the worker node runs at the lowest CPU priority, as if it were on
        // cores (or a machine) of its own that the API node never waits for.
        if (v === 'split' && process.env.BENCH_WORKER_NICE)
          setPriority(server.pids[1] as number, Number(process.env.BENCH_WORKER_NICE));
        const api = new ParleyApi(server.urls[0] as string);
        await api.createApp();
        await progressWhile(api.createUsers(users, 4), log, `${label}: creating users`);
        const channels: { id: string; members: string[] }[] = [];
        for (let k = 0; k < A; k++) {
          channels.push({ id: `pm-a-${k}`, members: users.filter((_, i) => i % A === k) });
          channels.push({ id: `pm-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
        }
        await progressWhile(api.createChannels(channels, 6), log, `${label}: creating channels`);
        await rcv.call('reset');
        const whPath = `/wh/prod-${oi}`;
        if (v !== 'bare')
          await progressWhile(
            switchOn(api, rcv, rcvUrl, String(ready.pushUrl), whPath, users, A, partsOf(v)),
            log,
            `${label}: hooks on`,
          );
        await db.analyze();
        const target = targetOf(server);
        target.apiKey = api.apiKey;
        target.secret = api.secret;
        await gens.init(target);
        const specs = users.flatMap((user, i) => (online(i, A) ? [{ user, rooms: roomsOf(i), node: 0 }] : []));
        const conn = await progressWhile(
          gens.connect(specs, { concurrency: 100, timeoutMs: 60_000 }),
          log,
          `${label}: connecting ${specs.length} clients`,
        );
        if (conn.ok < specs.length * 0.99) throw new Error(`only ${conn.ok} of ${specs.length} connected`);
        await sleep(1500);
        const base = {
          receivers: gens,
          senders: gens,
          serverPids: server.pids,
          textBytes: 48,
          from: 'all' as const,
          fanout: MEMBERS / 2,
        };
        const warm = await runStep({ ...base, step: 1, rate: RATE, durationMs: WARM_SECONDS * 1000, drainMs: 1000 });
        // The warm-up's webhooks arrive before the measured window starts counting.
        if (v !== 'bare' && (await rcv.call<ReceiverStats>('stats')).paths[whPath])
          await waitFor(rcv, whPath, warm.sent, 30_000);
        await rcv.call('reset');
        const node = server.nodes[0] as Child;
        await node.call('sendStages');
        const profile = process.env.BENCH_PROFILE_DIR;
        if (profile) await node.call('profileStart');
        if (process.env.BENCH_STATEMENTS === '1') await node.call('statements');
        const q0 = await server.queries();
        const cpu0 = machineCpu(server.pids);
        const rcv0 = cpuOf([rcv.proc.pid as number]);
        const gen0 = cpuOf(genPids);
        const wait0 = runQueueMs(server.pids);
        const cpuAt0 = performance.now();
        // BENCH_FSYNC_PROBE=1: the disk's own commit latency beside the window (a sync of 100 ms
        // or more holds every commit in flight, and the sends behind them, for as long). Off by
        // default: its syncs and wakeups every 5 ms slow the mix it measures (docs/benchmarks.md).
        const probe = process.env.BENCH_FSYNC_PROBE === '1' ? startFsyncProbe() : null;
        let disk: FsyncStats | null = null;
        let r: StepResult;
        try {
          r = await runStep({ ...base, step: 2, rate: RATE, durationMs, drainMs: 2000 });
        } finally {
          disk = (await probe?.stop()) ?? null;
        }
        const st =
          v !== 'bare' && warm.sent > 0 && (await rcv.call<ReceiverStats>('stats')).paths[whPath]
            ? await waitFor(rcv, whPath, r.sent, 60_000)
            : await rcv.call<ReceiverStats>('stats');
        const cpu1 = machineCpu(server.pids);
        const rcv1 = cpuOf([rcv.proc.pid as number]);
        const gen1 = cpuOf(genPids);
        const wait1 = runQueueMs(server.pids);
        const cpuAt1 = performance.now();
        const q1 = await server.queries();
        // Pushes still queued when the window closed: how long until the last one goes out.
        const drained = v !== 'bare' ? await pushesSettle(rcv, st.pushes) : { pushes: 0, ms: 0 };
        const wh = st.paths[whPath];
        log(`${label}: ${await node.call<string>('sendStages')}`);
        if (process.env.BENCH_STATEMENTS === '1')
          for (const [text, n] of (await node.call<[string, number][]>('statements')).slice(0, 30))
            log(`${label}:   ${(n / Math.max(1, r.sent)).toFixed(3)}/send  ${text}`);
        if (profile) await node.call('profileStop', { file: `${profile}/prodmix-${v}-${rep + 1}.cpuprofile` });
        const m: Record<string, number> = {
          delivered: r.perSecond,
          arrived: r.fraction * 100,
          p50: r.p50,
          p99: r.p99,
          serverCpu: (cpu1.pids - cpu0.pids) / Math.max(1, r.sent),
          pgCpu: (cpu1.postgres - cpu0.postgres) / Math.max(1, r.sent),
          totalCpu: (cpu1.pids - cpu0.pids + cpu1.postgres - cpu0.postgres) / Math.max(1, r.sent),
          statements: (q1 - q0) / Math.max(1, r.sent),
          waitCpu: (wait1 - wait0) / Math.max(1, r.sent),
          rcvCpu: (rcv1 - rcv0) / Math.max(1, r.sent),
          genCpu: (gen1 - gen0) / Math.max(1, r.sent),
          // Every process's CPU (the load generators and the receiver too) over the same span.
          busy: (100 * (cpu1.busy - cpu0.busy)) / Math.max(1, availableParallelism() * (cpuAt1 - cpuAt0)),
          fsyncMax: disk?.max ?? Number.NaN,
          fsyncSlow: disk?.over50 ?? Number.NaN,
          genStall: r.genStallMs,
          rcvStall: v !== 'bare' ? st.stallMs : Number.NaN,
          whP50: wh?.p50 ?? Number.NaN,
          whP99: wh?.p99 ?? Number.NaN,
          whLost: v !== 'bare' && wh ? r.sent - (wh?.unique ?? 0) : Number.NaN,
          whDup: wh?.duplicates ?? Number.NaN,
          whDisorder: wh?.outOfOrder ?? Number.NaN,
          hooks: v !== 'bare' ? st.hooks / Math.max(1, r.sent) : Number.NaN,
          pushes: v !== 'bare' ? st.pushes / (durationMs / 1000) : Number.NaN,
          pushDrain: v !== 'bare' ? drained.ms / 1000 : Number.NaN,
        };
        if (v !== 'bare' && ((wh?.badSignatures ?? 0) > 0 || st.hookBadSignatures > 0))
          runs.notes.push(
            `${label}: ${wh?.badSignatures} webhook and ${st.hookBadSignatures} hook signatures did not verify.`,
          );
        if (v !== 'bare' && (m.whLost as number) > 0) runs.notes.push(`${label}: ${m.whLost} webhook deliveries LOST.`);
        runs.add(v, rep, m);
        log(
          `${label}: ${fmt(r.perSecond)} deliveries/s (${(r.fraction * 100).toFixed(1)} %), p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms, ` +
            `server ${(m.serverCpu as number).toFixed(2)} + PostgreSQL ${(m.pgCpu as number).toFixed(2)} CPU ms/send, ${(m.statements as number).toFixed(2)} statements/send` +
            (v !== 'bare'
              ? `, webhooks p50 ${ms(m.whP50 as number)} p99 ${ms(m.whP99 as number)} ms (lost ${m.whLost}, dup ${m.whDup}, disorder ${m.whDisorder}), ${fmt(m.pushes as number, 1)} pushes/s (${drained.pushes - st.pushes} more in ${(drained.ms / 1000).toFixed(1)} s after), ${(m.hooks as number).toFixed(2)} hook calls/send, ${st.connections} connections to the receiver`
              : ''),
        );
      } catch (e) {
        runs.add(v, rep, null);
        runs.notes.push(`${label}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${label}: FAILED ${(e as Error).message}`);
      } finally {
        await gens.closeClients().catch(() => {});
        await server?.stop();
        await db?.drop();
      }
    }
  } finally {
    await gens.stop();
    await rcv.kill();
  }

  const ratios = table(
    ['', ...on.map((v) => `${NAMES[v]} / bare`)],
    METRICS.filter((m) => m.ratio).map((m) => [m.label, ...on.map((v) => runs.ratioCell(v, 'bare', m.key))]),
  );
  const md = [
    `${USERS.toLocaleString('en-US')} users in 2 of ${2 * A} channels of ${MEMBERS}, half of them connected (10 online in every channel); ${RATE} msg/s from random online users for ${durationMs / 1000} s after a warm-up, ${RATE * 10} deliveries/s. The server runs with a push burst window of 0 (every message pushes each offline member whose level lets it through). "Everything on": a webhook endpoint (\`message.new\`) and a before-send hook on a loopback receiver that verifies every signature, and a Web Push subscription for each offline user (level \`all\` in one channel in ten); search indexing is part of every send in both. The server runs as shipped: on PostgreSQL its jobs (notifications and their pushes, webhook deliveries) run on a background thread of the process. "Everything on, jobs inline": the same with that work on the event loop that serves clients (\`PARLEY_BACKGROUND=inline\`). "Everything on, worker node": the same, with the clients on one node that runs no jobs and the notification jobs, pushes and webhook deliveries on a second node, Redis between them. "… only": one of those parts alone (the hook, the webhook, or the pushes), to see what each costs. ${variants.map((v) => NAMES[v]).join(', ')} interleaved, ${opts.repeat} runs each on fresh servers and databases; medians with the spread (min–max). CPU per send: the server's process and every PostgreSQL process over the measured window (and until its webhooks arrived); statements per send: the server's, over the same span. Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    runs.table(METRICS),
    '',
    ratios,
    '',
    '<details><summary>Every run</summary>',
    '',
    runs.runTable(METRICS),
    '',
    '</details>',
    ...(runs.notes.length ? ['', ...runs.notes.map((n) => `- ${n}`)] : []),
  ];
  return {
    key: 'prodmix',
    title: `6. Production mix: the chat mix with webhooks, a before-send hook and Web Push, beside it bare`,
    markdown: md,
    // The goals are of everything on; a part's variant only says what that part costs.
    targets: on.flatMap((v) => {
      if (isPart(v)) return [];
      const ratio = runs.ratio(v, 'bare', 'p99');
      const cpu = runs.ratio(v, 'bare', 'totalCpu');
      const wh = runs.values(v, 'whP99').length;
      return [
        {
          label: `production mix: send→deliver p99 ${NAMES[v]} ≤ 1.5× bare`,
          value: ratio.n ? runs.ratioCell(v, 'bare', 'p99') : 'not measured',
          target: '≤ 1.50×',
          met: ratio.n ? ratio.med <= 1.5 : null,
          unreliable: ratio.unreliable,
        },
        {
          label: `production mix: webhook commit→received p99 ≤ 1 s (${NAMES[v]})`,
          value: wh ? `${runs.cell(v, METRICS.find((x) => x.key === 'whP99') as Metric)} ms` : 'not measured',
          target: '≤ 1,000 ms',
          met: wh ? runs.med(v, 'whP99') <= 1000 : null,
        },
        {
          label: `production mix: server + PostgreSQL CPU a send, ${NAMES[v]} ≤ 1.3× bare`,
          value: cpu.n ? runs.ratioCell(v, 'bare', 'totalCpu') : 'not measured',
          target: '≤ 1.30×',
          met: cpu.n ? cpu.med <= 1.3 : null,
          unreliable: cpu.unreliable,
        },
      ];
    }),
    charts: [{ title: 'Production mix: send→deliver p99 ms', unit: 'ms', bars: runs.bars('p99') }],
  };
}

/**
 * The parts a variant switches on: its own for a part's variant; else every part, or those
 * `BENCH_PRODMIX_ON` names (`webhook,hook,push`).
 */
function partsOf(v: Variant): ReadonlySet<Part> {
  if (isPart(v)) return new Set([v]);
  const named = process.env.BENCH_PRODMIX_ON?.split(',');
  return new Set(named ? PARTS.filter((p) => named.includes(p)) : PARTS);
}

/** The webhook, the before-send hook, and the offline users' push subscriptions and levels. */
async function switchOn(
  api: ParleyApi,
  rcv: Child,
  rcvUrl: string,
  pushUrl: string,
  whPath: string,
  users: string[],
  a: number,
  on: ReadonlySet<Part>,
) {
  if (on.has('webhook')) await webhookOn(api, rcv, rcvUrl, whPath);
  if (on.has('hook')) await hookOn(api, rcv, rcvUrl);
  if (on.has('push')) await pushOn(api, pushUrl, users, a);
}

async function webhookOn(api: ParleyApi, rcv: Child, rcvUrl: string, whPath: string) {
  const wh = await api.call<{ secret: string }>('POST', '/v1/webhooks', {
    url: `${rcvUrl}${whPath}`,
    events: ['message.new'],
  });
  await rcv.call('secret', { path: whPath, secret: wh.secret });
}

async function hookOn(api: ParleyApi, rcv: Child, rcvUrl: string) {
  const hook = await api.call<{ secret?: string }>('PUT', '/v1/hooks/before-send', {
    url: `${rcvUrl}/before-send`,
    timeout_ms: 2000,
    fail_open: true,
  });
  if (hook.secret) await rcv.call('secret', { path: '/before-send', secret: hook.secret });
}

async function pushOn(api: ParleyApi, pushUrl: string, users: string[], a: number) {
  const offline = users.map((u, i) => ({ u, i })).filter(({ i }) => !online(i, a));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < offline.length) {
        const { u, i } = offline[next++] as { u: string; i: number };
        const ecdh = createECDH('prime256v1');
        ecdh.generateKeys();
        await api.call(
          'POST',
          '/v1/push/web/subscriptions',
          {
            endpoint: `${pushUrl}/push/${u}`,
            keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
          },
          u,
        );
        // One channel in ten (of the first family) notifies them of everything.
        if ((i % a) % 10 === 0)
          await api.call(
            'PUT',
            `/v1/channels/${encodeURIComponent(`group:pm-a-${i % a}`)}/notifications`,
            { level: 'all' },
            u,
          );
      }
    }),
  );
}

async function waitFor(rcv: Child, path: string, want: number, timeoutMs: number): Promise<ReceiverStats> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const s = await rcv.call<ReceiverStats>('stats');
    if ((s.paths[path]?.unique ?? 0) >= want || performance.now() > until) return s;
    await sleep(100);
  }
}

/** Wait until the receiver's push count stops growing (2 s without one, at most 60 s). */
async function pushesSettle(rcv: Child, start: number): Promise<{ pushes: number; ms: number }> {
  const t0 = performance.now();
  let last = start;
  let lastAt = t0;
  while (performance.now() - lastAt < 2000 && performance.now() - t0 < 60_000) {
    await sleep(250);
    const n = (await rcv.call<ReceiverStats>('stats')).pushes;
    if (n !== last) {
      last = n;
      lastAt = performance.now();
    }
  }
  return { pushes: last, ms: lastAt - t0 };
}
