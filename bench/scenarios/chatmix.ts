/**
 * (3) Chat mix: 5,000 users, each a member of 2 of 500 channels of 20 members, all
 * connected; messages from random users into one of their channels at 500 msg/s, which is
 * 10,000 deliveries/s (every member, the sender's own copy included). Latency is send →
 * deliver from the intended send time; for Parley that includes the PostgreSQL commit
 * (events are published after it), and the sender's reply ("ack") is the commit time seen
 * by the client.
 *
 * Single node: Parley on PostgreSQL vs raw ws and Socket.IO. Multi-node (--nodes 2, the
 * full run's default): two Parley processes with the Redis broker and two Socket.IO
 * processes with the Redis adapter, clients dealt out over the nodes.
 */

import { startFsyncProbe } from '../lib/fsync-probe.js';
import { Generators } from '../lib/generators.js';
import type { Child } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, ratio, type ScenarioResult, sleep, table } from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer } from '../lib/setup.js';
import { runStep, type StepResult } from '../lib/step.js';

const USERS = 5000;
const MEMBERS = 20;
const A = USERS / MEMBERS; // channels in each of the two families

interface Config {
  kind: 'parley' | 'raw' | 'sio';
  nodes: number;
  label: string;
  /**
   * Diagnostic only: the scratch database set to `synchronous_commit = off`, so a commit
   * does not wait for the disk. Not durable (a PostgreSQL crash can lose acked messages);
   * it shows how much of Parley's tail is the disk's, and never counts for a target.
   */
  asyncCommit?: boolean;
}

export async function chatmix(ctx: Ctx, opts: { budgetMs: number; multiNode: boolean }): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('chat-mix', m);
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const deliveriesTarget = 10_000;
  const rate = deliveriesTarget / MEMBERS;
  const durationMs = ctx.full ? 30_000 : 6_000;
  const drainMs = ctx.full ? 5_000 : 2_000;
  const configs: Config[] = [
    { kind: 'parley', nodes: 1, label: 'Parley (PostgreSQL)' },
    {
      kind: 'parley',
      nodes: 1,
      label: 'Parley (PostgreSQL, synchronous_commit off: diagnostic, not durable)',
      asyncCommit: true,
    },
    { kind: 'raw', nodes: 1, label: 'raw ws' },
    { kind: 'sio', nodes: 1, label: 'Socket.IO 4' },
  ];
  if (opts.multiNode)
    configs.push(
      { kind: 'parley', nodes: 2, label: 'Parley ×2 (PostgreSQL + Redis)' },
      { kind: 'sio', nodes: 2, label: 'Socket.IO 4 ×2 (Redis adapter)' },
    );
  const users = Array.from({ length: USERS }, (_, i) => `mix${i}`);
  const roomsOf = (i: number) => [`group:mix-a-${i % A}`, `group:mix-b-${Math.floor(i / MEMBERS) % A}`];
  const results: { c: Config; r: StepResult; connectS: number }[] = [];
  const notes: string[] = [];
  const loadBefore = load();
  let frameBytes = 0;

  const gens = await Generators.start('gen-mix', 2);
  try {
    // Parley's setup (users, channels, connects through the database) takes most of the time:
    // it gets a larger share of what is left.
    const weight = (c: Config) => (c.kind === 'parley' ? 3 : 1) * c.nodes;
    for (const [ci, c] of configs.entries()) {
      const rest = configs.slice(ci).reduce((a, x) => a + weight(x), 0);
      const kindEnd = performance.now() + ((end - performance.now()) * weight(c)) / rest;
      let server: ServerProc | null = null;
      try {
        const db = c.kind === 'parley' ? await scratchDatabase('mix') : null;
        if (db && c.asyncCommit) await db.setting('synchronous_commit', 'off');
        server = await startServer(c.kind, {
          nodes: c.nodes,
          ...(db ? { databaseUrl: db.url } : {}),
          redis: c.nodes > 1,
        });
        const target = { proto: c.kind, urls: server.urls } as Parameters<Generators['init']>[0];
        if (c.kind === 'parley') {
          const api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          const t = performance.now();
          await progressWhile(api.createUsers(users, 4), log, `${c.label}: creating users`);
          const channels: { id: string; members: string[] }[] = [];
          for (let k = 0; k < A; k++) {
            channels.push({ id: `mix-a-${k}`, members: users.filter((_, i) => i % A === k) });
            channels.push({ id: `mix-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
          }
          await progressWhile(api.createChannels(channels, 6), log, `${c.label}: creating channels`);
          await db?.analyze();
          log(
            `${c.label}: ${USERS} users and ${channels.length} channels created in ${((performance.now() - t) / 1000).toFixed(1)} s`,
          );
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        }
        await gens.init(target);
        const conn = await progressWhile(
          gens.connect(
            users.map((user, i) => ({ user, rooms: roomsOf(i), node: i % c.nodes })),
            { concurrency: 100, timeoutMs: Math.max(20_000, kindEnd - performance.now() - durationMs) },
          ),
          log,
          `${c.label}: connecting ${USERS} clients`,
        );
        log(
          `${c.label}: ${conn.ok}/${USERS} connected in ${(conn.ms / 1000).toFixed(1)} s${conn.failed ? ` (${JSON.stringify(conn.errors)})` : ''}`,
        );
        if (conn.ok < USERS * 0.99) throw new Error(`only ${conn.ok} of ${USERS} connected`);
        await sleep(c.kind === 'parley' ? 1500 : 300);
        const pids = server.nodes.map((n) => n.pid);
        const textBytes =
          c.kind === 'parley'
            ? 48
            : c.kind === 'raw'
              ? Math.round(frameBytes || 900)
              : Math.round((frameBytes || 900) - 10);
        const warm = await runStep({
          receivers: gens,
          senders: gens,
          serverPids: pids,
          step: 1,
          rate: rate / 2,
          durationMs: ctx.full ? 5000 : 1000,
          drainMs: 1000,
          textBytes,
          from: 'all',
          fanout: MEMBERS,
          ...(c.kind === 'parley' ? { queries: (server as ServerProc).queries } : {}),
        });
        log(`${c.label}: warm-up at ${rate / 2} msg/s: p99 ${ms(warm.p99)} ms`);
        const budgetLeft = kindEnd - performance.now() - drainMs - 1000;
        const d = Math.max(2000, Math.min(durationMs, budgetLeft));
        if (d < durationMs) notes.push(`${c.label}: measured for ${(d / 1000).toFixed(1)} s only (time budget).`);
        const probe = c.kind === 'parley' ? startFsyncProbe() : null;
        const r = await runStep({
          receivers: gens,
          senders: gens,
          serverPids: pids,
          step: 2,
          rate,
          durationMs: d,
          drainMs,
          textBytes,
          from: 'all',
          fanout: MEMBERS,
          ...(c.kind === 'parley' ? { queries: (server as ServerProc).queries } : {}),
          ...(c.kind === 'parley'
            ? { profile: { child: server.nodes[0] as Child, name: `chatmix-parley-${c.nodes}node` } }
            : {}),
        });
        const disk = await probe?.stop();
        if (disk)
          notes.push(
            `${c.label}: disk fsync (8 KB + fdatasync every 5 ms, beside the measurement): p50 ${ms(disk.p50)}, p99 ${ms(disk.p99)}, max ${ms(disk.max)} ms; ${disk.over50} of ${disk.n} over 50 ms.`,
          );
        if (c.kind === 'parley' && c.nodes === 1 && r.frameBytes) frameBytes = r.frameBytes;
        results.push({ c, r, connectS: conn.ms / 1000 });
        log(
          `${c.label}: ${fmt(r.perSecond)} deliveries/s (${(r.fraction * 100).toFixed(1)} % arrived), p50 ${ms(r.p50)} p95 ${ms(r.p95)} p99 ${ms(r.p99)} ms` +
            (c.kind === 'parley'
              ? `, ack (commit) p99 ${ms(r.ackP99)} ms, ${r.queriesPerMessage.toFixed(1)} SQL statements/message`
              : '') +
            `, ${fmt(r.cpuUsPerDelivery, 2)} µs CPU/delivery, server ${r.serverCores.toFixed(2)} cores, generators ${r.genCores.toFixed(2)} cores` +
            (Object.keys(r.ackErrors).length ? `, errors ${JSON.stringify(r.ackErrors)}` : ''),
        );
      } catch (e) {
        notes.push(`${c.label}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${c.label}: FAILED ${(e as Error).message}`);
      } finally {
        await gens.closeClients().catch(() => {});
        await server?.stop();
      }
    }
  } finally {
    await gens.stop();
  }

  const find = (kind: string, nodes: number) =>
    results.find((x) => x.c.kind === kind && x.c.nodes === nodes && !x.c.asyncCommit)?.r;
  const raw = find('raw', 1);
  const sio1 = find('sio', 1);
  const rows = results.map(({ c, r, connectS }) => {
    const sio = c.nodes > 1 ? find('sio', c.nodes) : sio1;
    return [
      c.label,
      fmt(r.perSecond),
      `${(r.fraction * 100).toFixed(1)} %`,
      ms(r.p50),
      ms(r.p95),
      ms(r.p99),
      c.kind === 'parley' ? ms(r.ackP99) : '',
      c.kind === 'parley' ? r.queriesPerMessage.toFixed(1) : '',
      fmt(r.cpuUsPerDelivery, 2),
      r.serverCores.toFixed(2),
      fmt(r.retransmits),
      c.kind === 'raw' ? '' : ratio(r.p99, raw?.p99 ?? Number.NaN),
      c.kind === 'sio' ? '' : ratio(r.p99, sio?.p99 ?? Number.NaN),
      fmt(connectS, 1),
      Object.keys(r.ackErrors).length ? JSON.stringify(r.ackErrors) : '',
    ];
  });
  const p1 = find('parley', 1);
  const p2 = find('parley', 2);
  const md = [
    `${USERS.toLocaleString('en-US')} users connected, each in 2 of ${2 * A} channels of ${MEMBERS}; ${rate} msg/s from random users = ${deliveriesTarget.toLocaleString('en-US')} deliveries/s offered, for ${durationMs / 1000} s after a warm-up; latency send → deliver from the intended send time (Parley: through the PostgreSQL commit). Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      [
        'server',
        'delivered/s',
        'arrived',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'ack (commit) p99 ms',
        'SQL / message',
        'CPU µs/delivery',
        'server cores',
        'TCP retransmits',
        'p99 vs raw ws',
        'p99 vs Socket.IO',
        'connect s',
        'errors',
      ],
      rows,
    ),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ];
  return {
    key: 'chatmix',
    title: '3. Chat mix: 5,000 users, 10k deliveries/s',
    markdown: md,
    targets: [
      {
        label: 'chat mix send→deliver p99 ≤ 50 ms (1 node)',
        value: p1 ? `${ms(p1.p99)} ms (${(p1.fraction * 100).toFixed(1)} % arrived)` : 'not measured',
        target: '≤ 50 ms',
        met: p1 ? p1.p99 <= 50 && p1.fraction >= 0.99 : null,
      },
      ...(opts.multiNode
        ? [
            {
              label: 'chat mix send→deliver p99 ≤ 50 ms (2 nodes + Redis)',
              value: p2 ? `${ms(p2.p99)} ms (${(p2.fraction * 100).toFixed(1)} % arrived)` : 'not measured',
              target: '≤ 50 ms',
              met: p2 ? p2.p99 <= 50 && p2.fraction >= 0.99 : null,
            },
          ]
        : []),
    ],
    charts: [
      {
        title: 'Chat mix: send→deliver p99 (ms) at 10k deliveries/s',
        unit: 'ms',
        bars: results.map(({ c, r }) => ({ label: c.label.replace(' (PostgreSQL)', ''), value: r.p99 })),
      },
    ],
  };
}
