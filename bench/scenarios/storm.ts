/**
 * (5) Reconnect storm: N clients connected (each a member of 2 channels of 20) while
 * messages flow; every socket is dropped at once; each client reconnects after the SDK's
 * first backoff (125–250 ms, full jitter, doubling on failure) and:
 *
 *   Parley    resyncs each channel with `channel.watch {cid, since: last seq it saw}`; then
 *             every client checks it received each seq of each of its channels exactly once,
 *             from its first connect up to the channel's final last_seq (lost / duplicated).
 *   ejabberd  logs in again (SASL, bind), rejoins its 2 rooms and resyncs each from its MAM
 *             archive (XEP-0313, after the last archive id it saw, page by page) — the XMPP
 *             way to catch up; messages flow here too.
 *   raw ws, Socket.IO  reconnect and rejoin their rooms (no history, nothing to resync): the
 *             floor a resync is compared with.
 *
 * Measured: time until every client is back (and resynced), server CPU spent on it.
 * Servers run interleaved (A, B, C, A, B, C, …), `repeat` times, each on a fresh server.
 */

import path from 'node:path';
import { Generators } from '../lib/generators.js';
import { pct } from '../lib/hist.js';
import { type Child, procStats } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, type ScenarioResult, sleep } from '../lib/report.js';
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
import { f0, f1, fms, type Metric, Runs, ratioTarget } from '../lib/stats.js';
import { mucRoom } from '../lib/xmpp.js';

const MEMBERS = 20;

const METRICS: Metric[] = [
  { key: 'back', label: 'back (of N)' },
  { key: 'allMs', label: 'all back ms', format: fms, ratio: true },
  { key: 'p50', label: 'p50 ms', format: fms },
  { key: 'p99', label: 'p99 ms', format: fms },
  { key: 'cpuS', label: 'server CPU s', format: f1, ratio: true },
  { key: 'retries', label: 'retries' },
  { key: 'resyncErrors', label: 'resync errors' },
  { key: 'checked', label: 'deliveries checked (Parley)' },
  { key: 'lost', label: 'lost' },
  { key: 'duplicated', label: 'duplicated' },
];

export async function storm(
  ctx: Ctx,
  opts: { budgetMs: number; servers: Kind[]; repeat: number },
): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('storm', m);
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const N = ctx.full ? 10_000 : 2_000;
  const A = N / MEMBERS;
  const rate = ctx.full ? 300 : 100;
  const users = Array.from({ length: N }, (_, i) => `st${i}`);
  const roomsOf = (i: number) => [`group:st-a-${i % A}`, `group:st-b-${Math.floor(i / MEMBERS) % A}`];
  const servers = opts.servers.filter((k) => k !== 'raw-each' || opts.servers.length === 1);
  const runs = new Runs(servers);
  const loadBefore = load();
  const resyncs = (k: Kind) => k === 'parley' || k === 'ejabberd';
  const weight = (k: Kind) => (k === 'parley' ? 5 : k === 'ejabberd' ? 3 : 1);
  const order: { kind: Kind; rep: number }[] = [];
  for (let rep = 0; rep < opts.repeat; rep++) for (const kind of servers) order.push({ kind, rep });
  const gens = await Generators.start('gen-storm', 2);
  try {
    for (const [oi, { kind, rep }] of order.entries()) {
      const rest = order.slice(oi).reduce((a, x) => a + weight(x.kind), 0);
      const runEnd = performance.now() + ((end - performance.now()) * weight(kind)) / rest;
      const label = `run ${rep + 1} ${NAMES[kind]}`;
      if (runEnd - performance.now() < 8000) {
        runs.notes.push(`${label}: skipped (time budget).`);
        continue;
      }
      let server: ServerProc | null = null;
      try {
        const db =
          kind === 'parley'
            ? await scratchDatabase('storm')
            : kind === 'ejabberd'
              ? await scratchDatabase('storm_ejabberd', EJABBERD_TEMPLATE)
              : null;
        server = await startServer(kind, db ? { databaseUrl: db.url } : {});
        const target = targetOf(server);
        let api: ParleyApi | null = null;
        const channels: { id: string; members: string[] }[] = [];
        for (let k = 0; k < A; k++) {
          channels.push({ id: `st-a-${k}`, members: users.filter((_, i) => i % A === k) });
          channels.push({ id: `st-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
        }
        if (kind === 'parley') {
          api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await api.createUsers(users, 4);
          await progressWhile(api.createChannels(channels, 6), log, `${label}: creating channels`);
          await db?.analyze();
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        } else if (kind === 'ejabberd' && db) {
          const ej = new EjabberdSetup(server, db.url);
          await ej.createUsers(users);
          await progressWhile(
            ej.createRooms(channels.map((c) => mucRoom(`group:${c.id}`))),
            log,
            `${label}: creating rooms`,
          );
        }
        await gens.init(target);
        const conn = await progressWhile(
          gens.connect(
            users.map((user, i) => ({ user, rooms: roomsOf(i), node: 0 })),
            { concurrency: 100, timeoutMs: Math.max(20_000, (runEnd - performance.now()) / 2) },
          ),
          log,
          `${label}: connecting`,
        );
        log(`${label}: ${conn.ok}/${N} connected in ${(conn.ms / 1000).toFixed(1)} s`);
        // A client that could not connect at first still takes part in the storm (it reconnects too).
        if (conn.ok < N * 0.99) throw new Error(`only ${conn.ok} of ${N} connected: ${JSON.stringify(conn.errors)}`);
        await sleep(resyncs(kind) ? 1000 : 200);
        await gens.measure(50, resyncs(kind));
        // Messages flow before, during and after the storm (what a resync must bring back).
        // The same time for every server that resyncs (Parley, ejabberd), whatever its setup took.
        const stormTimeout = resyncs(kind)
          ? ctx.full
            ? 120_000
            : 30_000
          : Math.max(10_000, Math.min(30_000, runEnd - performance.now() - 8_000));
        const traffic = resyncs(kind)
          ? gens.send({ step: 50, rate, durationMs: stormTimeout + 10_000, textBytes: 48, from: 'all' })
          : Promise.resolve({ sent: 0, skipped: 0 });
        traffic.catch(() => {});
        await sleep(1500);
        const pid = server.pids[0] as number;
        // A CPU profile of Parley over the storm (BENCH_PROFILE_DIR), for DevTools.
        const profileDir = kind === 'parley' ? process.env.BENCH_PROFILE_DIR : undefined;
        const node = server.nodes[0] as Child;
        if (profileDir) await node.call('profileStart');
        // BENCH_STATEMENTS=1: the statements the storm sent to PostgreSQL, by their text.
        const statements = kind === 'parley' && process.env.BENCH_STATEMENTS === '1';
        if (statements) await node.call('statements');
        const cpu0 = procStats(pid).cpuMs;
        log(`${label}: dropping all ${N} sockets`);
        const s = await progressWhile(
          gens.storm({ minDelayMs: 125, maxDelayMs: 250, timeoutMs: stormTimeout, resync: resyncs(kind) }),
          log,
          `${label}: reconnecting`,
        );
        const cpu1 = procStats(pid).cpuMs;
        if (statements)
          for (const [text, n] of (await node.call<[string, number][]>('statements')).slice(0, 30))
            log(`  ${String(n).padStart(7)}  ${text}`);
        if (profileDir)
          log(
            `  profile: ${await node.call('profileStop', { file: path.join(profileDir, `storm-${label}-${Date.now()}.cpuprofile`) })}`,
          );
        if (resyncs(kind)) await sleep(2000);
        await gens.stopSend();
        const sent = await traffic;
        let check: Awaited<ReturnType<Generators['verify']>> | null = null;
        if (api) {
          await sleep(1500);
          const finals = await api.lastSeqs(channels.map((c) => `group:${c.id}`));
          check = await gens.verify(finals, ctx.full ? 15_000 : 5_000);
          if (check.missing || check.duplicates)
            for (const d of check.details.slice(0, 5)) log(`  not delivered: ${JSON.stringify(d)}`);
        }
        const m = {
          back: s.done.length,
          // Not everyone back within the storm's time: the time allowed is a lower bound.
          allMs: s.done.length === N ? Math.max(...s.done) : stormTimeout,
          p50: pct(s.done, 50),
          p99: pct(s.done, 99),
          cpuS: (cpu1 - cpu0) / 1000,
          retries: s.attempts - s.done.length - s.failed,
          resyncErrors: s.watchErrors,
          checked: check ? check.received : Number.NaN,
          lost: check ? check.missing : Number.NaN,
          duplicated: check ? check.duplicates : Number.NaN,
        };
        runs.add(kind, rep, m);
        if (m.back < N)
          runs.notes.push(
            `${label}: ${m.back} of ${N} back within the ${(stormTimeout / 1000).toFixed(0)} s allowed; "all back" counts the time allowed (a lower bound).`,
          );
        log(
          `${label}: ${sent.sent} messages sent; ${m.back}/${N} back in ${ms(Math.max(...s.done))} ms (p50 ${ms(m.p50)}, p99 ${ms(m.p99)}), ${s.failed} failed, ${m.retries} retries, ${m.resyncErrors} resync errors, server CPU ${m.cpuS.toFixed(1)} s` +
            (check
              ? `; ${fmt(check.received)} deliveries checked: ${check.missing} lost, ${check.duplicates} duplicated`
              : ''),
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
  const pRuns = (runs.by.get('parley') ?? []).filter(Boolean) as Record<string, number>[];
  const clean = pRuns.length > 0 && pRuns.every((r) => r.back === N && r.lost === 0 && r.duplicated === 0);
  const md = [
    `${N.toLocaleString('en-US')} clients, each in 2 channels / rooms of ${MEMBERS}; on Parley and ejabberd, ${rate} msg/s flow from random connected members before, during and until 2 s after the storm (what a resync must bring back). Times from the moment every socket was dropped (the first reconnect waits 125–250 ms by design); "all back" counts only runs where every client came back. Parley: reconnect + \`channel.watch {since}\` per channel, then a seq check of every delivery; ejabberd: login + MUC rejoin + MAM query per room from the last archive id seen; raw ws / Socket.IO: reconnect + rejoin only. ${opts.repeat} interleaved runs on fresh servers; medians with the spread (min–max). Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    runs.table(METRICS.map((m) => (m.key === 'back' ? { ...m, label: `back (of ${N})` } : m))),
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
  const resyncTarget = ratioTarget(
    runs,
    `storm of ${N.toLocaleString('en-US')}: all back + resynced within 3× Socket.IO's bare reconnect`,
    'sio',
    'allMs',
    3,
    false,
  );
  return {
    key: 'storm',
    title: '5. Reconnect storm',
    markdown: md,
    targets: [
      resyncTarget,
      {
        label: 'storm: every client back, nothing lost or duplicated (every run)',
        value: pRuns.length
          ? pRuns.map((r) => `${f0(r.back as number)}/${N}, ${r.lost} lost, ${r.duplicated} dup`).join('; ')
          : 'not measured',
        target: 'all back, 0 lost, 0 dup',
        met: pRuns.length ? clean : null,
      },
    ],
    charts: [
      {
        title: `Reconnect storm: ms until all ${N.toLocaleString('en-US')} are back`,
        unit: 'ms',
        bars: runs.bars('allMs'),
      },
    ],
  };
}
