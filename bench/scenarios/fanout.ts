/**
 * (2) Fan-out: one sender, 1,000 subscribers in one channel (room). The sender sends
 * open-loop at a rate that doubles (short run) or grows by √2 (full run) each step, until
 * p99 (measured from each message's intended send time) exceeds the bound or deliveries
 * fall behind (< 99 % arrived by the end of the drain window). Reported per server: the best
 * sustained deliveries/s (the fastest step that passed), and every step's latencies and
 * server CPU per delivery.
 *
 * Parley: the sender is a member and sends `message.send` over its socket, so every message
 * takes the real path (checks, seq, insert, event log, commit, bus, hub, 1,000 writes).
 * The database is PostgreSQL by default (its CPU is not in the server's CPU per delivery);
 * `--fanout-db pglite` runs the embedded default instead (in the server process).
 * Baselines get payloads padded to the size of Parley's message.new frame.
 */
import { Generators } from '../lib/generators.js';
import { procStats } from '../lib/proc.js';
import {
  type Ctx,
  fmt,
  load,
  ms,
  progressWhile,
  ratio,
  type ScenarioResult,
  type Series,
  sleep,
  table,
} from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer } from '../lib/setup.js';
import { runStep, type StepResult } from '../lib/step.js';

const SUBS = 1000;
const P99_BOUND_MS = 100;
const NAMES: Record<string, string> = {
  parley: 'Parley',
  raw: 'raw ws (ceiling)',
  sio: 'Socket.IO 4',
};

export async function fanout(
  ctx: Ctx,
  opts: { db: 'pglite' | 'pg'; budgetMs: number; membersFirst: boolean },
): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('fan-out', m);
  const started = performance.now();
  const end = Math.min(ctx.deadline, started + opts.budgetMs);
  const rates = ctx.full
    ? [10, 14, 20, 28, 40, 56, 80, 113, 160, 226, 320, 452, 640, 905, 1280, 1810, 2560]
    : [10, 14, 20, 28, 40, 56, 80, 113, 160, 226, 320, 452, 640, 905, 1280];
  const durationMs = ctx.full ? 5000 : 1500;
  const drainMs = ctx.full ? 3000 : 1200;
  const results: Record<string, StepResult[]> = {};
  const notes: string[] = [];
  const loadBefore = load();
  let frameBytes = 0;
  let parleyConnectNote = '';

  const receivers = await Generators.start('gen-fan', 2);
  const sender = await Generators.start('gen-fan-send', 1);
  try {
    for (const kind of ['parley', 'raw', 'sio'] as const) {
      // Each server gets a share of what is left (Parley, with its setup, half), so a slow
      // one cannot starve the others.
      const share = kind === 'parley' ? 0.5 : kind === 'raw' ? 0.5 : 1;
      const kindEnd = performance.now() + (end - performance.now()) * share;
      let server: ServerProc | null = null;
      const steps: StepResult[] = [];
      results[kind] = steps;
      try {
        const db = kind === 'parley' && opts.db === 'pg' ? await scratchDatabase('fanout') : null;
        // One sender at hundreds of msg/s: Parley's per-user send limit is turned off here.
        server = await startServer(kind, { ...(db ? { databaseUrl: db.url } : {}), env: { BENCH_RATE_MESSAGES: '0' } });
        const subs = Array.from({ length: SUBS }, (_, i) => `sub${i}`);
        let room = 'fan';
        const target = { proto: kind, urls: server.urls } as Parameters<Generators['init']>[0];
        let api: ParleyApi | null = null;
        if (kind === 'parley') {
          api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await api.createUsers(['sender', ...subs]);
          room = await api.createChannel('fanout', opts.membersFirst ? ['sender', ...subs] : ['sender']);
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        }
        await receivers.init(target);
        await sender.init(target);
        await receivers.measure(0);
        const t0 = performance.now();
        const cpu0 = procStats(server.nodes[0]?.pid as number).cpuMs;
        const c = await progressWhile(
          receivers.connect(
            subs.map((user) => ({ user, rooms: [room], node: 0 })),
            { concurrency: 100 },
          ),
          log,
          `${NAMES[kind]}: connecting ${SUBS} subscribers`,
        );
        await sender.connect([{ user: 'sender', rooms: [room], node: 0 }]);
        // Members connect after joining (the natural order, --fanout-order members-first) or
        // join after connecting (the default: connecting 1,000 members of one channel sets
        // off a presence storm, measured and reported, but not what the ramp measures).
        if (api && !opts.membersFirst) await api.addMembers(room, subs);
        if (api) {
          await sleep(1000);
          const frames = (await receivers.report()).frames;
          const cpuS = (procStats(server.nodes[0]?.pid as number).cpuMs - cpu0) / 1000;
          parleyConnectNote = opts.membersFirst
            ? `Parley: connecting ${SUBS.toLocaleString('en-US')} members of one channel took ${((performance.now() - t0 - 1000) / 1000).toFixed(1)} s and ${cpuS.toFixed(1)} s of server CPU; the subscribers received ${frames.toLocaleString('en-US')} frames meanwhile (presence.changed for every member that came online).`
            : `Parley: ${SUBS.toLocaleString('en-US')} subscribers connected, then added to the channel 100 at a time: ${((performance.now() - t0 - 1000) / 1000).toFixed(1)} s, ${cpuS.toFixed(1)} s of server CPU, ${frames.toLocaleString('en-US')} frames to the subscribers (member.added for each new member).`;
          log(parleyConnectNote);
        }
        log(`${NAMES[kind]}: ${c.ok}/${SUBS} subscribers connected in ${(c.ms / 1000).toFixed(1)} s`);
        if (c.ok < SUBS) throw new Error(`only ${c.ok} of ${SUBS} subscribers connected: ${JSON.stringify(c.errors)}`);
        await sleep(500);
        const pids = server.nodes.map((n) => n.pid);
        const textBytes =
          kind === 'parley'
            ? 48
            : kind === 'raw'
              ? Math.round(frameBytes || 900)
              : Math.round((frameBytes || 900) - 10);
        // Warm-up (unmeasured): JIT, pools, first-use allocations.
        await runStep({
          receivers,
          senders: sender,
          serverPids: pids,
          step: 1,
          rate: rates[0] as number,
          durationMs: 1000,
          drainMs: 1500,
          textBytes,
          from: 'first',
          fanout: SUBS,
          ...(kind === 'parley' ? { queries: (server as ServerProc).queries } : {}),
        });
        const retried = new Set<number>();
        for (let i = 0; i < rates.length; i++) {
          if (performance.now() + durationMs + drainMs > kindEnd) {
            notes.push(`${NAMES[kind]}: stopped before ${rates[i]} msg/s (time budget of the run).`);
            log(`${NAMES[kind]}: time budget reached, stopping`);
            break;
          }
          const rate = rates[i] as number;
          const retry = retried.has(i);
          const r = await runStep({
            receivers,
            senders: sender,
            serverPids: pids,
            step: (retry ? 100 : 10) + i,
            rate,
            durationMs,
            drainMs,
            textBytes,
            from: 'first',
            fanout: SUBS,
            ...(kind === 'parley' ? { queries: (server as ServerProc).queries } : {}),
          });
          steps.push(r);
          if (kind === 'parley' && r.frameBytes) frameBytes = r.frameBytes;
          const pass = r.p99 <= P99_BOUND_MS && r.fraction >= 0.99;
          log(
            `${NAMES[kind]}: ${rate} msg/s${retry ? ' (again)' : ''} → ${fmt(r.perSecond)} deliveries/s (${(r.fraction * 100).toFixed(1)} %), ` +
              `p50 ${ms(r.p50)} p95 ${ms(r.p95)} p99 ${ms(r.p99)} ms, ${fmt(r.cpuUsPerDelivery, 2)} µs CPU/delivery, ` +
              `server ${r.serverCores.toFixed(2)} cores, generators ${r.genCores.toFixed(2)} cores` +
              `${r.retransmits ? `, ${r.retransmits} TCP retransmits` : ''}${pass ? '' : '  ✗ p99 broke / fell behind'}`,
          );
          if (!pass) {
            // A step that breaks is tried once more (a burst of other work on the machine can
            // break one short step); the second failure ends the ramp.
            if (retry) break;
            retried.add(i);
            i--;
          }
        }
      } catch (e) {
        notes.push(`${NAMES[kind]}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${NAMES[kind]}: FAILED ${(e as Error).message}`);
      } finally {
        await receivers.closeClients().catch(() => {});
        await sender.closeClients().catch(() => {});
        await server?.stop();
      }
    }
  } finally {
    await receivers.stop();
    await sender.stop();
  }

  const passed = (k: string) => (results[k] ?? []).filter((r) => r.p99 <= P99_BOUND_MS && r.fraction >= 0.99);
  const best = (k: string) => {
    const p = passed(k);
    return p.length ? p.reduce((a, b) => (b.perSecond > a.perSecond ? b : a)) : null;
  };
  const bp = best('parley');
  const br = best('raw');
  const bs = best('sio');
  const v = (r: StepResult | null) => r?.perSecond ?? 0;
  const summaryTable = table(
    ['', 'Parley', 'raw ws (ceiling)', 'Socket.IO 4', 'Parley / raw ws', 'Parley / Socket.IO'],
    [
      ['best sustained deliveries/s', fmt(v(bp)), fmt(v(br)), fmt(v(bs)), ratio(v(bp), v(br)), ratio(v(bp), v(bs))],
      ['at msg/s', fmt(bp?.rate ?? 0), fmt(br?.rate ?? 0), fmt(bs?.rate ?? 0), '', ''],
      [
        'p50 ms',
        ms(bp?.p50 ?? Number.NaN),
        ms(br?.p50 ?? Number.NaN),
        ms(bs?.p50 ?? Number.NaN),
        ratio(bp?.p50 ?? Number.NaN, br?.p50 ?? Number.NaN),
        ratio(bp?.p50 ?? Number.NaN, bs?.p50 ?? Number.NaN),
      ],
      [
        'p95 ms',
        ms(bp?.p95 ?? Number.NaN),
        ms(br?.p95 ?? Number.NaN),
        ms(bs?.p95 ?? Number.NaN),
        ratio(bp?.p95 ?? Number.NaN, br?.p95 ?? Number.NaN),
        ratio(bp?.p95 ?? Number.NaN, bs?.p95 ?? Number.NaN),
      ],
      [
        'p99 ms',
        ms(bp?.p99 ?? Number.NaN),
        ms(br?.p99 ?? Number.NaN),
        ms(bs?.p99 ?? Number.NaN),
        ratio(bp?.p99 ?? Number.NaN, br?.p99 ?? Number.NaN),
        ratio(bp?.p99 ?? Number.NaN, bs?.p99 ?? Number.NaN),
      ],
      [
        'server CPU µs / delivery',
        fmt(bp?.cpuUsPerDelivery ?? Number.NaN, 2),
        fmt(br?.cpuUsPerDelivery ?? Number.NaN, 2),
        fmt(bs?.cpuUsPerDelivery ?? Number.NaN, 2),
        ratio(bp?.cpuUsPerDelivery ?? Number.NaN, br?.cpuUsPerDelivery ?? Number.NaN),
        ratio(bp?.cpuUsPerDelivery ?? Number.NaN, bs?.cpuUsPerDelivery ?? Number.NaN),
      ],
    ],
  );
  const disturbed = !!br && ((!!bp && v(bp) > v(br)) || (!!bs && v(bs) > v(br)));
  if (disturbed)
    notes.push(
      'raw ws, the ceiling, sustained less than another server in this run: its ramp was cut short by the machine (see its p99 and the TCP retransmits column), so ratios to it overstate the others. Repeat on a quiet machine, or with `npm run bench:full`.',
    );
  const stepRows: (string | number)[][] = [];
  for (const k of ['parley', 'raw', 'sio'])
    for (const r of results[k] ?? [])
      stepRows.push([
        NAMES[k] as string,
        fmt(r.rate),
        fmt(r.rate * SUBS),
        fmt(r.perSecond),
        `${(r.fraction * 100).toFixed(1)} %`,
        ms(r.p50),
        ms(r.p95),
        ms(r.p99),
        k === 'parley' ? ms(r.ackP99) : '',
        k === 'parley' ? r.queriesPerMessage.toFixed(1) : '',
        fmt(r.cpuUsPerDelivery, 2),
        r.serverCores.toFixed(2),
        r.genCores.toFixed(2),
        fmt(r.retransmits),
        r.p99 <= P99_BOUND_MS && r.fraction >= 0.99 ? 'ok' : 'broke',
      ]);
  const md = [
    `1 sender → ${SUBS.toLocaleString('en-US')} subscribers of one channel; steps of ${durationMs / 1000} s, open loop; a step passes when p99 ≤ ${P99_BOUND_MS} ms and ≥ 99 % of deliveries arrive within ${drainMs / 1000} s after it; a step that breaks is run once more, and the ramp ends when it breaks twice. Latency from the intended send time. Parley database: ${opts.db === 'pg' ? 'PostgreSQL' : 'embedded PGlite (in the server process)'}; frames: Parley message.new ≈ ${Math.round(frameBytes)} B, baselines padded to the same size. Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    summaryTable,
    '',
    'Every step:',
    '',
    table(
      [
        'server',
        'msg/s',
        'offered deliveries/s',
        'delivered/s',
        'arrived',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'ack p99 ms',
        'SQL / msg',
        'CPU µs/delivery',
        'server cores',
        'generator cores',
        'TCP retransmits',
        '',
      ],
      stepRows,
    ),
    ...(parleyConnectNote || notes.length
      ? ['', ...[parleyConnectNote, ...notes].filter(Boolean).map((n) => `- ${n}`)]
      : []),
  ];
  const series: Series[] = ['parley', 'raw', 'sio'].map((k) => ({
    label: NAMES[k] as string,
    points: (results[k] ?? []).map((r) => ({ x: r.perSecond, y: r.p99 })),
  }));
  return {
    key: 'fanout',
    title: '2. Fan-out: 1 sender → 1,000 subscribers',
    markdown: md,
    targets: [
      {
        label: 'fan-out ≥ 0.8× raw ws deliveries/s',
        value: `${ratio(v(bp), v(br))}${disturbed ? ' (raw ws ramp cut short by the machine: see notes)' : ''}`,
        target: '≥ 0.80×',
        met: br ? v(bp) >= 0.8 * v(br) : null,
      },
      {
        label: 'fan-out ≥ 1.5× Socket.IO deliveries/s',
        value: ratio(v(bp), v(bs)),
        target: '≥ 1.50×',
        met: bs ? v(bp) >= 1.5 * v(bs) : null,
      },
    ],
    charts: [
      {
        title: 'Fan-out: p99 latency (ms) vs delivered/s, 1 → 1,000',
        unit: 'ms',
        xUnit: 'deliveries/s',
        series,
        logY: true,
        refY: P99_BOUND_MS,
        refLabel: `p99 bound ${P99_BOUND_MS} ms`,
      },
      {
        title: 'Fan-out: best sustained deliveries/s (p99 ≤ 100 ms)',
        unit: '/s',
        bars: [
          { label: 'Parley', value: v(bp) },
          { label: 'raw ws', value: v(br) },
          { label: 'Socket.IO', value: v(bs) },
        ],
      },
    ],
  };
}
