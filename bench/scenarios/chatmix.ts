/**
 * (3) Chat mix: N users (2,000 short, 5,000 full), each a member of 2 channels of 20, all
 * connected; messages from random users into one of their channels at 500 msg/s (`--mix-rate`),
 * which is 10,000 deliveries/s (every member, the sender's own copy included). Latency is send →
 * deliver from the intended send time; for Parley that includes the PostgreSQL commit
 * (events are published after it), for ejabberd the MAM insert into PostgreSQL (the room
 * archives a message before it broadcasts it). Both store every message: "stored / sent"
 * counts the rows of their tables.
 *
 * Servers run interleaved (A, B, C, A, B, C, …), `repeat` times, each on a fresh server.
 * `--nodes 2`: Parley and Socket.IO as two processes each (Redis broker / adapter).
 */

import { startFsyncProbe } from '../lib/fsync-probe.js';
import { Generators } from '../lib/generators.js';
import type { Child } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, type ScenarioResult, sleep } from '../lib/report.js';
import {
  countRows,
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
import { f1, f2, fms, type Metric, Runs, ratioTarget } from '../lib/stats.js';
import { runStep } from '../lib/step.js';
import { mucRoom } from '../lib/xmpp.js';

const MEMBERS = 20;

const METRICS: Metric[] = [
  { key: 'delivered', label: 'delivered/s' },
  { key: 'arrived', label: 'arrived %', format: f1 },
  { key: 'p50', label: 'p50 ms', format: fms, ratio: true },
  { key: 'p95', label: 'p95 ms', format: fms },
  { key: 'p99', label: 'p99 ms', format: fms, ratio: true },
  { key: 'cpu', label: 'server CPU µs / delivery', format: f2, ratio: true },
  { key: 'pgCpu', label: 'PostgreSQL CPU µs / delivery', format: f2 },
  { key: 'connectS', label: 'connect all, s', format: f1, ratio: true },
  { key: 'stored', label: 'messages stored / sent', format: f2 },
  { key: 'fsyncP99', label: 'disk fsync p99 ms (probe)', format: fms },
];

export async function chatmix(
  ctx: Ctx,
  /** `rate`: messages per second (default 500, 10,000 deliveries a second). */
  opts: { budgetMs: number; multiNode: boolean; servers: Kind[]; repeat: number; rate?: number | undefined },
): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('chat-mix', m);
  const USERS = ctx.full ? 5000 : 2000;
  const A = USERS / MEMBERS; // channels in each of the two families
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const rate = opts.rate ?? 10_000 / MEMBERS;
  const deliveriesTarget = rate * MEMBERS;
  const durationMs = ctx.full ? 30_000 : 5_000;
  const drainMs = ctx.full ? 5_000 : 2_000;
  const users = Array.from({ length: USERS }, (_, i) => `mix${i}`);
  const roomsOf = (i: number) => [`group:mix-a-${i % A}`, `group:mix-b-${Math.floor(i / MEMBERS) % A}`];
  const runs = new Runs(opts.servers);
  const loadBefore = load();
  const nodesOf = (k: Kind) => (opts.multiNode && (k === 'parley' || k === 'sio') ? 2 : 1);
  let frameBytes = 0;

  const gens = await Generators.start('gen-mix', 2);
  // Parley's setup (users, channels, connects through the database) weighs the most.
  const weight = (k: Kind) => (k === 'parley' ? 2.5 : k === 'ejabberd' ? 1.5 : 1) * nodesOf(k);
  const order: { kind: Kind; rep: number }[] = [];
  for (let rep = 0; rep < opts.repeat; rep++) for (const kind of opts.servers) order.push({ kind, rep });
  try {
    for (const [oi, { kind, rep }] of order.entries()) {
      const rest = order.slice(oi).reduce((a, x) => a + weight(x.kind), 0);
      const runEnd = performance.now() + ((end - performance.now()) * weight(kind)) / rest;
      if (runEnd - performance.now() < 8000) {
        runs.notes.push(`${NAMES[kind]}: run ${rep + 1} skipped (time budget).`);
        continue;
      }
      const label = `run ${rep + 1} ${NAMES[kind]}${nodesOf(kind) > 1 ? ' ×2' : ''}`;
      let server: ServerProc | null = null;
      try {
        const db =
          kind === 'parley'
            ? await scratchDatabase('mix')
            : kind === 'ejabberd'
              ? await scratchDatabase('mix_ejabberd', EJABBERD_TEMPLATE)
              : kind === 'raw-pg'
                ? await scratchDatabase('mix_raw')
                : null;
        const nodes = nodesOf(kind);
        server = await startServer(kind, { nodes, ...(db ? { databaseUrl: db.url } : {}), redis: nodes > 1 });
        const target = targetOf(server);
        const channels: { id: string; members: string[] }[] = [];
        for (let k = 0; k < A; k++) {
          channels.push({ id: `mix-a-${k}`, members: users.filter((_, i) => i % A === k) });
          channels.push({ id: `mix-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
        }
        const t = performance.now();
        let ej: EjabberdSetup | null = null;
        if (kind === 'parley') {
          const api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await progressWhile(api.createUsers(users, 4), log, `${label}: creating users`);
          await progressWhile(api.createChannels(channels, 6), log, `${label}: creating channels`);
          await db?.analyze();
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        } else if (kind === 'ejabberd' && db) {
          ej = new EjabberdSetup(server, db.url);
          await ej.createUsers(users);
          await progressWhile(
            ej.createRooms(channels.map((c) => mucRoom(`group:${c.id}`))),
            log,
            `${label}: creating rooms`,
          );
        }
        if (db)
          log(
            `${label}: ${USERS} users and ${channels.length} channels in ${((performance.now() - t) / 1000).toFixed(1)} s`,
          );
        await gens.init(target);
        const conn = await progressWhile(
          gens.connect(
            users.map((user, i) => ({ user, rooms: roomsOf(i), node: i % nodes })),
            { concurrency: 100, timeoutMs: Math.max(20_000, runEnd - performance.now() - durationMs) },
          ),
          log,
          `${label}: connecting ${USERS} clients`,
        );
        log(
          `${label}: ${conn.ok}/${USERS} connected in ${(conn.ms / 1000).toFixed(1)} s${conn.failed ? ` (${JSON.stringify(conn.errors)})` : ''}`,
        );
        if (conn.ok < USERS * 0.99) throw new Error(`only ${conn.ok} of ${USERS} connected`);
        await sleep(kind === 'parley' ? 1500 : 300);
        const textBytes =
          kind === 'parley' || kind === 'ejabberd' ? 48 : Math.round((frameBytes || 900) - (kind === 'sio' ? 10 : 0));
        const base = {
          receivers: gens,
          senders: gens,
          serverPids: server.pids,
          textBytes,
          from: 'all' as const,
          fanout: MEMBERS,
          ...(kind === 'parley' ? { queries: (server as ServerProc).queries } : {}),
        };
        const stored0 = ej ? await ej.archived() : db ? await countRows(db.url, 'messages') : 0;
        const warm = await runStep({
          ...base,
          step: 1,
          rate: rate / 2,
          durationMs: ctx.full ? 5000 : 1000,
          drainMs: 1000,
        });
        const budgetLeft = runEnd - performance.now() - drainMs - 1000;
        const d = Math.max(2000, Math.min(durationMs, budgetLeft));
        if (d < durationMs) runs.notes.push(`${label}: measured for ${(d / 1000).toFixed(1)} s only (time budget).`);
        const probe = db ? startFsyncProbe() : null;
        // Parley's own account of where sends waited: reset now, read after the window.
        if (kind === 'parley') await (server.nodes[0] as Child).call('sendStages');
        const r = await runStep({
          ...base,
          step: 2,
          rate,
          durationMs: d,
          drainMs,
          // BENCH_PROFILE_DIR: a CPU profile of Parley (first node) over the measured window.
          ...(kind === 'parley'
            ? { profile: { child: server.nodes[0] as Child, name: `chatmix-run${rep + 1}-${Date.now()}` } }
            : {}),
        });
        const disk = await probe?.stop();
        if (kind === 'parley') log(`${label}: ${await (server.nodes[0] as Child).call<string>('sendStages')}`);
        if (kind === 'parley' && r.frameBytes) frameBytes = r.frameBytes;
        await sleep(300);
        const stored = ej
          ? ((await ej.archived()) - stored0) / Math.max(1, warm.sent + r.sent)
          : db
            ? ((await countRows(db.url, 'messages')) - stored0) / Math.max(1, warm.sent + r.sent)
            : 0;
        runs.add(kind, rep, {
          delivered: r.perSecond,
          arrived: r.fraction * 100,
          p50: r.p50,
          p95: r.p95,
          p99: r.p99,
          cpu: r.cpuUsPerDelivery,
          pgCpu: r.pgUsPerDelivery,
          connectS: conn.ms / 1000,
          stored,
          fsyncP99: disk?.p99 ?? Number.NaN,
        });
        log(
          `${label}: ${fmt(r.perSecond)} deliveries/s (${(r.fraction * 100).toFixed(1)} % arrived), p50 ${ms(r.p50)} p95 ${ms(r.p95)} p99 ${ms(r.p99)} ms` +
            (kind === 'parley'
              ? `, ack (commit) p99 ${ms(r.ackP99)} ms, ${r.queriesPerMessage.toFixed(2)} statements a message`
              : '') +
            `, ${fmt(r.cpuUsPerDelivery, 2)} µs CPU/delivery (PostgreSQL ${fmt(r.pgUsPerDelivery, 2)}), server ${r.serverCores.toFixed(2)} cores, generators ${r.genCores.toFixed(2)} cores` +
            (db ? `, stored/sent ${stored.toFixed(2)}` : '') +
            (disk ? `, fsync p99 ${ms(disk.p99)} ms` : '') +
            (Object.keys(r.ackErrors).length ? `, errors ${JSON.stringify(r.ackErrors)}` : ''),
        );
      } catch (e) {
        runs.add(kind, rep, null);
        runs.notes.push(`${label}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${label}: FAILED ${(e as Error).message}`);
      } finally {
        await gens.closeClients().catch(() => {});
        await server?.stop();
      }
    }
  } finally {
    await gens.stop();
  }

  const p99 = runs.med('parley', 'p99');
  const md = [
    `${USERS.toLocaleString('en-US')} users connected, each in 2 of ${2 * A} channels / rooms of ${MEMBERS}; ${rate} msg/s from random users = ${deliveriesTarget.toLocaleString('en-US')} deliveries/s offered, for ${durationMs / 1000} s after a warm-up at half rate; latency send → deliver from the intended send time (Parley: through the PostgreSQL commit; ejabberd: through its MAM insert into PostgreSQL). ${opts.repeat} interleaved runs on fresh servers; medians with the spread (min–max). "stored / sent": rows the server added to its message table (Parley \`messages\`, ejabberd \`archive\`) per message sent (warm-up included). ${opts.multiNode ? 'Parley and Socket.IO on 2 nodes (Redis). ' : ''}Load average before: ${loadBefore}; after: ${load()}.`,
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
  const pCell = runs.cell('parley', METRICS[4] as Metric);
  return {
    key: 'chatmix',
    title: `3. Chat mix: ${USERS.toLocaleString('en-US')} users, ${deliveriesTarget / 1000}k deliveries/s`,
    markdown: md,
    targets: [
      {
        label: 'chat mix p99 ≤ 20 ms (durable)',
        value: Number.isFinite(p99) ? `${pCell} ms` : 'not measured',
        target: '≤ 20 ms',
        met: Number.isFinite(p99) ? p99 <= 20 : null,
      },
      ratioTarget(runs, 'chat mix p99 ≤ 3× Socket.IO p99', 'sio', 'p99', 3, false),
      ratioTarget(
        runs,
        `chat mix: ${USERS.toLocaleString('en-US')} connects within 2× Socket.IO's time`,
        'sio',
        'connectS',
        2,
        false,
      ),
      ratioTarget(runs, 'chat mix p99 lower than ejabberd (both durable)', 'ejabberd', 'p99', 1, false),
    ],
    charts: [
      {
        title: `Chat mix: send→deliver p99 ms at ${deliveriesTarget / 1000}k deliveries/s`,
        unit: 'ms',
        bars: runs.bars('p99'),
      },
      {
        title: `Chat mix: seconds to connect ${USERS.toLocaleString('en-US')}`,
        unit: 's',
        bars: runs.bars('connectS'),
      },
    ],
  };
}
