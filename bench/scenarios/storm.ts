/**
 * (5) Reconnect storm: N clients connected (each a member of 2 channels of 20) while
 * messages flow; every socket is dropped at once; each client reconnects after the SDK's
 * first backoff (125–250 ms, full jitter, doubling on failure) and, on Parley, resyncs
 * each channel with `channel.watch {cid, since: last seq it saw}`. Measured: time until
 * every client is back (and resynced), server CPU spent on it, and — on Parley — whether any
 * event was lost or duplicated: every client checks it received each seq of each of its
 * channels exactly once, from its first connect up to the channel's final last_seq.
 * Baselines: raw ws and Socket.IO clients reconnect and rejoin their rooms (no resync:
 * they have no history to resync from).
 */
import { Generators } from '../lib/generators.js';
import { pct } from '../lib/hist.js';
import { procStats } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, ratio, type ScenarioResult, sleep, table } from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer } from '../lib/setup.js';

const MEMBERS = 20;

interface Row {
  kind: 'parley' | 'raw' | 'sio';
  label: string;
  n: number;
  back: number;
  failed: number;
  retries: number;
  allMs: number;
  p50: number;
  p99: number;
  cpuS: number;
  reloads: number;
  watchErrors: number;
  check: {
    channels: number;
    missing: number;
    duplicates: number;
    received: number;
    clientsWithGaps: number;
    unchecked: number;
    details: Record<string, unknown>[];
  } | null;
  sent: number;
  /** SQL statements issued during the storm (traffic included), per client. */
  queriesPerClient: number;
}

export async function storm(ctx: Ctx, opts: { budgetMs: number }): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('storm', m);
  const end = Math.min(ctx.deadline, performance.now() + opts.budgetMs);
  const N = ctx.full ? 10_000 : 2_000;
  const A = N / MEMBERS;
  const rate = ctx.full ? 300 : 100;
  const users = Array.from({ length: N }, (_, i) => `st${i}`);
  const roomsOf = (i: number) => [`group:st-a-${i % A}`, `group:st-b-${Math.floor(i / MEMBERS) % A}`];
  const rows: Row[] = [];
  const notes: string[] = [];
  const loadBefore = load();
  const kinds = [
    { kind: 'parley' as const, label: 'Parley (PostgreSQL), reconnect + resync' },
    { kind: 'raw' as const, label: 'raw ws, reconnect' },
    { kind: 'sio' as const, label: 'Socket.IO 4, reconnect' },
  ];
  const gens = await Generators.start('gen-storm', 2);
  try {
    for (const [ki, { kind, label }] of kinds.entries()) {
      // Parley (setup through the database, resync) gets a larger share of what is left.
      const rest = kinds.slice(ki).reduce((a, k) => a + (k.kind === 'parley' ? 5 : 1), 0);
      const kindEnd = performance.now() + ((end - performance.now()) * (kind === 'parley' ? 5 : 1)) / rest;
      let server: ServerProc | null = null;
      try {
        const db = kind === 'parley' ? await scratchDatabase('storm') : null;
        server = await startServer(kind, db ? { databaseUrl: db.url } : {});
        const target = { proto: kind, urls: server.urls } as Parameters<Generators['init']>[0];
        let api: ParleyApi | null = null;
        const cids = new Set<string>();
        if (kind === 'parley') {
          api = new ParleyApi(server.urls[0] as string);
          await api.createApp();
          await api.createUsers(users, 4);
          const channels: { id: string; members: string[] }[] = [];
          for (let k = 0; k < A; k++) {
            channels.push({ id: `st-a-${k}`, members: users.filter((_, i) => i % A === k) });
            channels.push({ id: `st-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
          }
          await progressWhile(api.createChannels(channels, 6), log, `${label}: creating channels`);
          await db?.analyze();
          for (const c of channels) cids.add(`group:${c.id}`);
          target.apiKey = api.apiKey;
          target.secret = api.secret;
        }
        await gens.init(target);
        const conn = await progressWhile(
          gens.connect(
            users.map((user, i) => ({ user, rooms: roomsOf(i), node: 0 })),
            { concurrency: 100, timeoutMs: Math.max(20_000, (kindEnd - performance.now()) / 2) },
          ),
          log,
          `${label}: connecting`,
        );
        log(`${label}: ${conn.ok}/${N} connected in ${(conn.ms / 1000).toFixed(1)} s`);
        if (conn.ok < N) throw new Error(`only ${conn.ok} of ${N} connected: ${JSON.stringify(conn.errors)}`);
        await sleep(kind === 'parley' ? 1000 : 200);
        await gens.measure(50, kind === 'parley');
        // Messages flow before, during and after the storm (Parley: so there is something to resync).
        const stormTimeout = Math.max(
          10_000,
          Math.min(ctx.full ? 120_000 : 45_000, kindEnd - performance.now() - 8_000),
        );
        // Until the storm is over and 2 s more (stopped then; bounded by its own duration).
        const traffic =
          kind === 'parley'
            ? gens.send({ step: 50, rate, durationMs: stormTimeout + 10_000, textBytes: 48, from: 'all' })
            : Promise.resolve({ sent: 0, skipped: 0 });
        // Awaited below; if the storm fails first, its rejection must not go unhandled.
        traffic.catch(() => {});
        await sleep(1500);
        const pid = (server.nodes[0] as { pid: number }).pid;
        const cpu0 = procStats(pid).cpuMs;
        const q0 = await server.queries();
        log(`${label}: dropping all ${N} sockets`);
        const s = await progressWhile(
          gens.storm({ minDelayMs: 125, maxDelayMs: 250, timeoutMs: stormTimeout, resync: kind === 'parley' }),
          log,
          `${label}: reconnecting`,
        );
        const cpu1 = procStats(pid).cpuMs;
        const q1 = await server.queries();
        if (kind === 'parley') await sleep(2000);
        await gens.stopSend();
        const sent = await traffic;
        let check: Row['check'] = null;
        if (api) {
          await sleep(1500);
          const finals = await api.lastSeqs([...cids]);
          check = await gens.verify(finals, ctx.full ? 15_000 : 5_000);
          if (check.missing || check.duplicates)
            for (const d of check.details.slice(0, 5)) log(`  not delivered: ${JSON.stringify(d)}`);
        }
        const row: Row = {
          kind,
          label,
          n: N,
          back: s.done.length,
          failed: s.failed,
          retries: s.attempts - s.done.length - s.failed,
          allMs: s.done.length ? Math.max(...s.done) : Number.NaN,
          p50: pct(s.done, 50),
          p99: pct(s.done, 99),
          cpuS: (cpu1 - cpu0) / 1000,
          reloads: s.reloads,
          watchErrors: s.watchErrors,
          check,
          sent: sent.sent,
          queriesPerClient: (q1 - q0) / N,
        };
        rows.push(row);
        log(
          `${label}: ${sent.sent} messages sent in all; ${row.back}/${N} back in ${ms(row.allMs)} ms (p50 ${ms(row.p50)}, p99 ${ms(row.p99)} ms), ${row.failed} failed, ${row.retries} retries, server CPU ${row.cpuS.toFixed(1)} s${kind === 'parley' ? `, ${row.queriesPerClient.toFixed(1)} SQL statements per client` : ''}` +
            (check
              ? `; ${check.received} deliveries checked on ${row.back} resynced clients: ${check.missing} lost, ${check.duplicates} duplicated, ${row.reloads} reloads, ${row.watchErrors} watch errors`
              : ''),
        );
      } catch (e) {
        notes.push(`${label}: failed: ${(e as Error).message.split('\n')[0]}`);
        log(`${label}: FAILED ${(e as Error).message}`);
      } finally {
        await gens.closeClients().catch(() => {});
        await server?.stop();
      }
    }
  } finally {
    await gens.stop();
  }
  const raw = rows.find((r) => r.kind === 'raw');
  const sio = rows.find((r) => r.kind === 'sio');
  const p = rows.find((r) => r.kind === 'parley');
  const md = [
    `${N.toLocaleString('en-US')} clients, each in 2 channels of ${MEMBERS}; Parley clients send ${rate} msg/s from random connected members before, during and until 2 s after the storm (what was sent while a client was away is what its resync must bring). Times are from the moment every socket was dropped (the first reconnect waits 125–250 ms by design). Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      [
        '',
        'back',
        'all back ms',
        'p50 ms',
        'p99 ms',
        'vs raw ws',
        'vs Socket.IO',
        'failed',
        'retries',
        'server CPU s',
        'SQL / client',
        'deliveries checked',
        'lost',
        'duplicated',
        'reloads',
      ],
      rows.map((r) => [
        r.label,
        `${r.back}/${r.n}`,
        ms(r.allMs),
        ms(r.p50),
        ms(r.p99),
        r.kind === 'raw' ? '' : ratio(r.allMs, raw?.allMs ?? Number.NaN),
        r.kind === 'sio' ? '' : ratio(r.allMs, sio?.allMs ?? Number.NaN),
        r.failed,
        r.retries,
        r.cpuS.toFixed(1),
        r.kind === 'parley' ? r.queriesPerClient.toFixed(1) : '',
        r.check ? fmt(r.check.received) : 'n/a',
        r.check ? r.check.missing : 'n/a',
        r.check ? r.check.duplicates : 'n/a',
        r.kind === 'parley' ? r.reloads : 'n/a',
      ]),
    ),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ];
  return {
    key: 'storm',
    title: '5. Reconnect storm',
    markdown: md,
    targets: [
      {
        label: 'reconnect storm: every client resynced, nothing lost or duplicated',
        value: p?.check
          ? `${p.back}/${p.n} back in ${ms(p.allMs)} ms; ${p.check.missing} lost, ${p.check.duplicates} duplicated`
          : 'not measured',
        target: 'all back, 0 lost, 0 dup',
        met: p?.check ? p.back === p.n && p.check.missing === 0 && p.check.duplicates === 0 : null,
      },
    ],
    charts: [
      {
        title: `Reconnect storm: ms until all ${N.toLocaleString('en-US')} are back`,
        unit: 'ms',
        bars: rows.map((r) => ({
          label: r.label.split(',')[0]?.replace(' (PostgreSQL)', '') ?? r.label,
          value: r.allMs,
        })),
      },
    ],
  };
}
