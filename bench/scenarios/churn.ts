/**
 * Churn soak (issue 19): N clients connected to Parley, each a member of 2 channels of 20;
 * every second a share of them (10 %) drops its socket and reconnects, resyncing each channel
 * with `channel.watch {cid, since: last seq seen}`, while ~100 messages/s flow from random
 * connected members, with typing and reactions on the side. The same soak runs without churn
 * beside it. Reported per window: send→deliver and send→reply p50/p99, the server's event-loop
 * lag, RSS, open fds and CPU; at the end, every seq each client should have is checked: lost
 * and duplicated counts.
 *
 * send→deliver counts only live deliveries to clients that are connected and resynced (a
 * message a client missed while away reaches it through its replay, whose delay is the time it
 * was away, not the send path's): the receiver records `receive time − intended send time`,
 * on the clock every process on the machine shares.
 *
 * This file is both the orchestrator's scenario (`churn()`) and, started as a child with
 * BENCH_CHURN_GEN=1, the load generator (one process on `ws`, no SDK): churn needs requests
 * (`channel.watch`, typing, reactions) and a resync loop that the shared generator lacks.
 * Every loop is bounded by a count and a deadline; everything is on 127.0.0.1.
 */
import { readdirSync } from 'node:fs';
import { LOGGED_EVENT_TYPES } from '@parley/protocol';
import WebSocket from 'ws';
import { signToken } from '../../packages/server/src/platform/auth.js';
import { Hist, type HistData, merge, now, percentile } from '../lib/hist.js';
import { type Child, procStats, serve, spawnChild } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, progressWhile, ratio, type ScenarioResult, sleep, table } from '../lib/report.js';
import { ParleyApi, type ServerProc, scratchDatabase, startServer } from '../lib/setup.js';

const MEMBERS = 20;

// ---------------------------------------------------------------- the generator (child side)

interface GenTarget {
  url: string;
  apiKey: string;
  secret: string;
}

interface Spec {
  user: string;
  rooms: string[];
}

interface WindowStats {
  deliver: HistData;
  reply: HistData;
  /** Drop → hello → every channel watched. */
  resync: HistData;
  sent: number;
  acked: number;
  ackErrors: number;
  deliveries: number;
  replayed: number;
  reconnects: number;
  connectFailures: number;
  typing: number;
  reactions: number;
}

class Win {
  deliver = new Hist();
  reply = new Hist();
  resync = new Hist();
  sent = 0;
  acked = 0;
  ackErrors = 0;
  deliveries = 0;
  replayed = 0;
  reconnects = 0;
  connectFailures = 0;
  typing = 0;
  reactions = 0;
  toJSON(): WindowStats {
    return {
      deliver: this.deliver.toJSON(),
      reply: this.reply.toJSON(),
      resync: this.resync.toJSON(),
      sent: this.sent,
      acked: this.acked,
      ackErrors: this.ackErrors,
      deliveries: this.deliveries,
      replayed: this.replayed,
      reconnects: this.reconnects,
      connectFailures: this.connectFailures,
      typing: this.typing,
      reactions: this.reactions,
    };
  }
}

const LOGGED = new Set<string>(LOGGED_EVENT_TYPES);
const MARK = /@@C(\d+)@@/;

let gt: GenTarget | null = null;
const gclients: GenClient[] = [];
let runStart = 0;
let windowMs = 10_000;
let windows: Win[] = [];
const errorsSeen = new Map<string, number>();
/** Recent message ids per channel (targets for reactions). */
const recent = new Map<string, string[]>();

function win(): Win {
  const i = Math.max(0, Math.floor((now() - runStart) / windowMs));
  while (windows.length <= i) windows.push(new Win());
  return windows[i] as Win;
}

function countError(k: string): void {
  errorsSeen.set(k, (errorsSeen.get(k) ?? 0) + 1);
}

class GenClient {
  ws: WebSocket | null = null;
  /** Connected, hello received, every channel watched: live deliveries count. */
  ready = false;
  busy = false;
  readonly last = new Map<string, number>();
  /** Seqs received above `last` + 1, waiting for the gap below them. */
  private readonly ahead = new Map<string, Set<number>>();
  readonly first = new Map<string, number>();
  readonly seen = new Map<string, number[]>();
  /** The latest connects: per channel, the seq hello announced and the `since` watched from. */
  readonly history: { at: number; hello: Record<string, number>; since: Record<string, number> }[] = [];
  private reqId = 0;
  private readonly replies = new Map<number, (f: Record<string, unknown>) => void>();
  private token: string | null = null;

  constructor(readonly spec: Spec) {}

  private record(f: { type?: string; cid?: string; seq?: number; message?: { id?: string; text?: string } }): void {
    if (!f.type || !LOGGED.has(f.type) || typeof f.cid !== 'string' || typeof f.seq !== 'number') return;
    let list = this.seen.get(f.cid);
    if (!list) {
      list = [];
      this.seen.set(f.cid, list);
    }
    list.push(f.seq);
    // `last` is the seq applied in order (the protocol's client rules): a live event can arrive
    // before the replay of the gap below it, and resyncing from the highest seq seen would skip
    // that gap for good.
    const applied = this.last.get(f.cid) ?? 0;
    if (f.seq > applied + 1) {
      const ahead = this.ahead.get(f.cid) ?? new Set<number>();
      this.ahead.set(f.cid, ahead);
      ahead.add(f.seq);
    } else if (f.seq === applied + 1) {
      let next = f.seq;
      const ahead = this.ahead.get(f.cid);
      while (ahead?.delete(next + 1)) next++;
      this.last.set(f.cid, next);
    }
    if (f.type !== 'message.new') return;
    const w = win();
    const m = MARK.exec(f.message?.text ?? '');
    if (this.ready && m) {
      w.deliveries++;
      w.deliver.record(now() - Number(m[1]) / 1000);
    } else w.replayed++;
    const id = f.message?.id;
    if (id && this.spec.rooms[0] === f.cid) {
      const r = recent.get(f.cid) ?? [];
      r.push(id);
      if (r.length > 20) r.shift();
      recent.set(f.cid, r);
    }
  }

  /** Open, authenticate, and (on a reconnect) resync every channel from its last seq. */
  async connect(timeoutMs: number, resync: boolean): Promise<void> {
    const t = gt as GenTarget;
    this.token ??= await signToken(t.secret, this.spec.user);
    this.drop();
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/v1/ws?api_key=${t.apiKey}`, {
      perMessageDeflate: false,
      maxPayload: 16 << 20,
    });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
      const fail = (e: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      ws.on('error', (e) => fail(e));
      ws.on('close', (code) => {
        fail(new Error(`closed ${code} before hello`));
        if (this.ws !== ws) return;
        this.ready = false;
        for (const r of this.replies.values()) r({ ok: false, error: { code: 'CLOSED' } });
        this.replies.clear();
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: this.token })));
      ws.on('message', (data: Buffer) => {
        if (this.ws !== ws) return;
        const f = JSON.parse(data.toString()) as Record<string, unknown> & { type: string };
        if (!done) {
          if (f.type !== 'hello') return fail(new Error(`expected hello, got ${f.type}`));
          const hello = (f.channels as Record<string, number>) ?? {};
          for (const [cid, seq] of Object.entries(hello)) {
            if (!this.first.has(cid)) this.first.set(cid, seq);
            if (!this.last.has(cid)) this.last.set(cid, seq);
          }
          this.history.push({ at: Math.round(now() - runStart), hello, since: Object.fromEntries(this.last) });
          if (this.history.length > 4) this.history.shift();
          done = true;
          clearTimeout(timer);
          resolve();
          return;
        }
        if (f.type === 'reply') {
          const r = this.replies.get(f.req_id as number);
          if (r) {
            this.replies.delete(f.req_id as number);
            r(f);
          }
          return;
        }
        this.record(f);
      });
    });
    if (resync) {
      const rs = await Promise.all(
        this.spec.rooms.map((cid) =>
          this.request({ type: 'channel.watch', cid, since: this.last.get(cid) ?? 0 }, timeoutMs),
        ),
      );
      for (const r of rs) if (!r.ok) throw new Error(`watch: ${String((r.error as { code?: string })?.code)}`);
    }
    this.ready = true;
  }

  request(body: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ ok: false, error: { code: 'CLOSED' } });
    const reqId = ++this.reqId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.replies.delete(reqId);
        resolve({ ok: false, error: { code: 'TIMEOUT' } });
      }, timeoutMs);
      this.replies.set(reqId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      ws.send(JSON.stringify({ ...body, req_id: reqId }));
    });
  }

  drop(): void {
    this.ready = false;
    const ws = this.ws;
    this.ws = null;
    ws?.terminate();
    for (const r of this.replies.values()) r({ ok: false, error: { code: 'CLOSED' } });
    this.replies.clear();
  }
}

async function genConnect(a: { specs: Spec[]; concurrency: number; timeoutMs: number }) {
  const fresh = a.specs.map((s) => new GenClient(s));
  gclients.push(...fresh);
  let next = 0;
  let failed = 0;
  const deadline = now() + a.timeoutMs;
  await Promise.all(
    Array.from({ length: a.concurrency }, async () => {
      while (next < fresh.length && now() < deadline) {
        const c = fresh[next++] as GenClient;
        try {
          await c.connect(Math.max(1000, deadline - now()), false);
        } catch (e) {
          failed++;
          countError((e as Error).message.slice(0, 60));
        }
      }
    }),
  );
  return { ok: gclients.filter((c) => c.ready).length, failed };
}

/**
 * The soak: open-loop sends at `rate`, typing and reactions at their rates, and every second
 * `churn` × N clients dropped and reconnected (after 0–200 ms) with a resync. Bounded by
 * `durationMs` plus the time the last reconnects take (at most `connectTimeoutMs`).
 */
async function genRun(a: {
  durationMs: number;
  windowMs: number;
  rate: number;
  churn: number;
  typingRate: number;
  reactionRate: number;
  connectTimeoutMs: number;
}) {
  windowMs = a.windowMs;
  windows = [];
  runStart = now();
  const end = runStart + a.durationMs;
  const pending = new Set<Promise<void>>();
  const pick = (): GenClient | undefined => {
    for (let k = 0; k < 20; k++) {
      const c = gclients[Math.floor(Math.random() * gclients.length)];
      if (c?.ready) return c;
    }
    return undefined;
  };
  // Churn: once a second, a share of the ready clients drops and comes back.
  const churnTimer = setInterval(() => {
    if (now() >= end) return;
    const n = Math.round(gclients.length * a.churn);
    for (let k = 0; k < n; k++) {
      const c = pick();
      if (!c || c.busy) continue;
      c.busy = true;
      c.drop();
      const t0 = now();
      const p = (async () => {
        await sleep(Math.random() * 200);
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            await c.connect(a.connectTimeoutMs, true);
            const w = win();
            w.reconnects++;
            w.resync.record(now() - t0);
            return;
          } catch (e) {
            win().connectFailures++;
            countError((e as Error).message.slice(0, 60));
            await sleep(250 * 2 ** attempt * (0.5 + Math.random() / 2));
          }
        }
      })().finally(() => {
        c.busy = false;
        pending.delete(p);
      });
      pending.add(p);
    }
  }, 1000);
  // Sends, typing and reactions, each due at start + i / rate (late ones keep their time).
  let sent = 0;
  let typed = 0;
  let reacted = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      const t = now();
      while (runStart + (sent * 1000) / a.rate <= t && sent < (a.rate * a.durationMs) / 1000) {
        const intended = runStart + (sent * 1000) / a.rate;
        sent++;
        const c = pick();
        if (!c) continue;
        const cid = c.spec.rooms[Math.floor(Math.random() * c.spec.rooms.length)] as string;
        const w = win();
        w.sent++;
        void c
          .request({
            type: 'message.send',
            cid,
            message: { text: `@@C${Math.round(intended * 1000)}@@ a message of about fifty bytes` },
          })
          .then((f) => {
            const w2 = win();
            if (f.ok) {
              w2.acked++;
              w2.reply.record(now() - intended);
            } else {
              w2.ackErrors++;
              countError(`send: ${String((f.error as { code?: string })?.code)}`);
            }
          });
      }
      while (a.typingRate > 0 && runStart + (typed * 1000) / a.typingRate <= t && t < end) {
        typed++;
        const c = pick();
        if (!c) continue;
        win().typing++;
        void c.request({ type: 'typing.start', cid: c.spec.rooms[0] });
      }
      while (a.reactionRate > 0 && runStart + (reacted * 1000) / a.reactionRate <= t && t < end) {
        reacted++;
        const c = pick();
        const ids = c ? recent.get(c.spec.rooms[0] as string) : undefined;
        if (!c || !ids?.length) continue;
        win().reactions++;
        void c
          .request({
            type: 'reaction.add',
            message_id: ids[Math.floor(Math.random() * ids.length)],
            reaction: { type: ['like', 'love', 'haha'][reacted % 3] },
          })
          .then((f) => {
            if (!f.ok) countError(`reaction: ${String((f.error as { code?: string })?.code)}`);
          });
      }
      if (t >= end) resolve();
      else setTimeout(pump, 2);
    };
    pump();
  });
  clearInterval(churnTimer);
  // The last reconnects finish (each bounded by its own time-outs).
  await Promise.race([Promise.allSettled([...pending]), sleep(5 * a.connectTimeoutMs)]);
  return {
    windows: windows.map((w) => w.toJSON()),
    errors: Object.fromEntries(errorsSeen),
    ready: gclients.filter((c) => c.ready).length,
  };
}

/** Every logged seq of each channel after the client's first connect, up to `finals`, exactly once. */
async function genVerify(a: { finals: Record<string, number>; waitMs: number }) {
  const until = now() + a.waitMs;
  const maxSeen = (c: GenClient, cid: string) => (c.seen.get(cid) ?? []).reduce((m, x) => Math.max(m, x), 0);
  const behind = () =>
    gclients.some((c) => c.ready && c.spec.rooms.some((cid) => (a.finals[cid] ?? 0) > maxSeen(c, cid)));
  while (now() < until && behind()) await sleep(100);
  let missing = 0;
  const details: Record<string, unknown>[] = [];
  let duplicates = 0;
  let checked = 0;
  let unchecked = 0;
  for (const c of gclients) {
    if (!c.ready) {
      unchecked++;
      continue;
    }
    for (const cid of c.spec.rooms) {
      const final = a.finals[cid];
      const first = c.first.get(cid);
      if (final === undefined || first === undefined) continue;
      const counts = new Map<number, number>();
      for (const s of c.seen.get(cid) ?? []) if (s > first) counts.set(s, (counts.get(s) ?? 0) + 1);
      for (let s = first + 1; s <= final; s++) {
        const n = counts.get(s) ?? 0;
        if (n === 0) {
          missing++;
          if (details.length < 8) details.push({ user: c.spec.user, cid, seq: s, first, final, history: c.history });
        } else if (n > 1) duplicates += n - 1;
        checked++;
      }
    }
  }
  return { missing, duplicates, checked, unchecked, details };
}

if (process.env.BENCH_CHURN_GEN === '1')
  serve({
    init: (a: GenTarget) => {
      gt = a;
      return null;
    },
    connect: genConnect,
    run: genRun,
    verify: genVerify,
    close: () => {
      for (const c of gclients) c.drop();
      gclients.length = 0;
      return null;
    },
  });

// ---------------------------------------------------------------- the orchestrator side

export interface ChurnOptions {
  /** Clients on PostgreSQL (PGlite gets a third). */
  clients: number;
  /** Messages per second on PostgreSQL (PGlite gets a third). */
  rate: number;
  /** Seconds each soak lasts. */
  seconds: number;
  /** Seconds per reported window. */
  windowSeconds: number;
  /** Share of clients dropped and reconnected each second. */
  churn: number;
  backends: ('postgres' | 'pglite')[];
  /** Server environment (e.g. instrumentation switches). */
  env?: Record<string, string>;
}

/** Full run: the soak of issue 19 (300 clients, 6 minutes); short run: 160 clients, 60 s. */
export const churnDefaults = (full: boolean): ChurnOptions => ({
  clients: full ? 300 : 160,
  rate: 100,
  seconds: full ? 360 : 60,
  windowSeconds: full ? 30 : 10,
  churn: 0.1,
  backends: ['postgres', 'pglite'],
});

interface ServerSample {
  t: number;
  rss: number;
  fds: number;
  cpuMs: number;
}

/** What the server's /metrics says about the send path (totals since start). */
interface ServerMetrics {
  lagP99: number;
  lagMax: number;
  /** Event-loop utilization since the previous scrape (0–1). */
  elu: number;
  /** Histogram sums/counts by stage (seconds). */
  stages: Record<string, { sum: number; count: number; p99?: number }>;
  raw: string;
}

export interface ChurnRun {
  backend: 'postgres' | 'pglite';
  churn: boolean;
  clients: number;
  rate: number;
  windows: (WindowStats & {
    lagP99: number;
    lagMax: number;
    elu: number;
    rss: number;
    fds: number;
    cpuPct: number;
  })[];
  total: { deliver: HistData; reply: HistData; resync: HistData };
  check: { missing: number; duplicates: number; checked: number; unchecked: number; details: unknown[] };
  errors: Record<string, number>;
  connectFailures: number;
  rssStart: number;
  rssEnd: number;
  fdsStart: number;
  fdsEnd: number;
  metrics: string;
}

async function scrape(url: string): Promise<ServerMetrics> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const val = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  return {
    lagP99: val('parley_nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMax: val('parley_nodejs_eventloop_lag_max_seconds') * 1000,
    elu: val('parley_event_loop_utilization'),
    stages: {},
    raw: text,
  };
}

const fdsOf = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
};

/** One soak on one backend, with or without churn. */
async function soak(
  backend: 'postgres' | 'pglite',
  withChurn: boolean,
  o: ChurnOptions,
  log: (m: string) => void,
): Promise<ChurnRun> {
  const share = backend === 'pglite' ? 3 : 1;
  const N = Math.max(MEMBERS * 2, Math.round(o.clients / share / MEMBERS) * MEMBERS);
  const rate = o.rate / share;
  const A = N / MEMBERS;
  const users = Array.from({ length: N }, (_, i) => `ch${i}`);
  const roomsOf = (i: number) => [`group:ch-a-${i % A}`, `group:ch-b-${Math.floor(i / MEMBERS) % A}`];
  let server: ServerProc | null = null;
  let gen: Child | null = null;
  try {
    const db = backend === 'postgres' ? await scratchDatabase('churn') : null;
    server = await startServer('parley', {
      ...(db ? { databaseUrl: db.url } : {}),
      env: { BENCH_RATE_MESSAGES: '0', ...o.env },
    });
    const url = server.urls[0] as string;
    const api = new ParleyApi(url);
    await api.createApp();
    await api.createUsers(users, 4);
    const channels: { id: string; members: string[] }[] = [];
    for (let k = 0; k < A; k++) {
      channels.push({ id: `ch-a-${k}`, members: users.filter((_, i) => i % A === k) });
      channels.push({ id: `ch-b-${k}`, members: users.slice(k * MEMBERS, (k + 1) * MEMBERS) });
    }
    await progressWhile(api.createChannels(channels, 4), log, 'creating channels');
    await db?.analyze();
    gen = (await spawnChild('gen-churn', 'scenarios/churn.ts', { env: { BENCH_CHURN_GEN: '1' }, heapMb: 1024 })).child;
    await gen.call('init', { url, apiKey: api.apiKey, secret: api.secret });
    const conn = await gen.call<{ ok: number; failed: number }>(
      'connect',
      { specs: users.map((user, i) => ({ user, rooms: roomsOf(i) })), concurrency: 20, timeoutMs: 60_000 },
      70_000,
    );
    if (conn.ok < N) throw new Error(`only ${conn.ok} of ${N} connected`);
    await sleep(1000);
    const pid = (server.nodes[0] as Child).pid;
    await scrape(url); // resets the loop-lag histogram
    const samples: ServerSample[] = [];
    const sample = () => {
      const s = procStats(pid);
      samples.push({ t: performance.now(), rss: s.rss, fds: fdsOf(pid), cpuMs: s.cpuMs });
    };
    sample();
    const lags: { lagP99: number; lagMax: number; elu: number }[] = [];
    const wms = o.windowSeconds * 1000;
    const timer = setInterval(sample, 1000);
    const lagTimer = setInterval(() => {
      void scrape(url).then(
        (m) => lags.push({ lagP99: m.lagP99, lagMax: m.lagMax, elu: m.elu }),
        () => lags.push({ lagP99: Number.NaN, lagMax: Number.NaN, elu: Number.NaN }),
      );
    }, wms);
    const durationMs = o.seconds * 1000;
    // A CPU profile of the server over the soak (BENCH_PROFILE_DIR), for DevTools.
    const profileDir = process.env.BENCH_PROFILE_DIR;
    if (profileDir) await (server.nodes[0] as Child).call('profileStart');
    let r: { windows: WindowStats[]; errors: Record<string, number>; ready: number };
    try {
      r = await progressWhile(
        gen.call(
          'run',
          {
            durationMs,
            windowMs: wms,
            rate,
            churn: withChurn ? o.churn : 0,
            typingRate: rate / 5,
            reactionRate: rate / 20,
            connectTimeoutMs: 10_000,
          },
          durationMs + 120_000,
        ),
        log,
        `${backend} ${withChurn ? 'with' : 'without'} churn, ${N} clients, ${rate.toFixed(0)} msg/s`,
      );
    } finally {
      clearInterval(timer);
      clearInterval(lagTimer);
    }
    sample();
    if (profileDir)
      log(
        `profile: ${await (server.nodes[0] as Child).call('profileStop', { file: `${profileDir}/churn-${backend}-${withChurn ? 'churn' : 'steady'}-${Date.now()}.cpuprofile` })}`,
      );
    const end = await scrape(url);
    // The last window ends with the soak: its loop figures are the final scrape's.
    if (lags.length < Math.ceil(durationMs / wms)) lags.push({ lagP99: end.lagP99, lagMax: end.lagMax, elu: end.elu });
    await sleep(1000);
    const finals = await api.lastSeqs(channels.map((c) => `group:${c.id}`));
    const check = await gen.call<ChurnRun['check']>('verify', { finals, waitMs: 10_000 }, 30_000);
    for (const d of check.details) log(`  not delivered: ${JSON.stringify(d)}`);
    const at = (w: number) => samples.find((s) => s.t >= samples[0]!.t + w * wms) ?? samples[samples.length - 1]!;
    const windows = r.windows.slice(0, Math.ceil(durationMs / wms)).map((w, i) => {
      const a = at(i);
      const b = at(i + 1);
      return {
        ...w,
        lagP99: lags[i]?.lagP99 ?? Number.NaN,
        lagMax: lags[i]?.lagMax ?? Number.NaN,
        elu: lags[i]?.elu ?? Number.NaN,
        rss: b.rss,
        fds: b.fds,
        cpuPct: b.t > a.t ? ((b.cpuMs - a.cpuMs) / (b.t - a.t)) * 100 : Number.NaN,
      };
    });
    const first = samples[0] as ServerSample;
    const last = samples[samples.length - 1] as ServerSample;
    return {
      backend,
      churn: withChurn,
      clients: N,
      rate,
      windows,
      total: {
        deliver: merge(windows.map((w) => w.deliver)),
        reply: merge(windows.map((w) => w.reply)),
        resync: merge(windows.map((w) => w.resync)),
      },
      check,
      errors: r.errors,
      connectFailures: windows.reduce((a, w) => a + w.connectFailures, 0),
      rssStart: first.rss,
      rssEnd: last.rss,
      fdsStart: first.fds,
      fdsEnd: last.fds,
      metrics: end.raw
        .split('\n')
        .filter((l) => /^parley_(send_|db_pool|messages_sent)/.test(l))
        .join('\n'),
    };
  } finally {
    await gen?.call('close', {}, 10_000).catch(() => {});
    await gen?.kill();
    await server?.stop();
  }
}

const p = (h: HistData, q: number) => ms(percentile(h, q));

/** The soak on each backend, without churn and with it. */
export async function churn(ctx: Ctx, o: ChurnOptions): Promise<ScenarioResult & { runs: ChurnRun[] }> {
  const log = (m: string) => ctx.log('churn', m);
  const runs: ChurnRun[] = [];
  const notes: string[] = [];
  const loadBefore = load();
  for (const backend of o.backends)
    for (const withChurn of [false, true]) {
      if (performance.now() > ctx.deadline) {
        notes.push(`${backend} ${withChurn ? 'with' : 'without'} churn: skipped (the run's deadline)`);
        continue;
      }
      try {
        const r = await soak(backend, withChurn, o, log);
        runs.push(r);
        log(
          `${backend} ${withChurn ? 'churn' : 'no churn'}: deliver p50 ${p(r.total.deliver, 50)} p99 ${p(r.total.deliver, 99)} ms, reply p50 ${p(r.total.reply, 50)} p99 ${p(r.total.reply, 99)} ms, ${r.connectFailures} connect failures, ${r.check.missing} lost, ${r.check.duplicates} dup of ${r.check.checked}`,
        );
      } catch (e) {
        notes.push(
          `${backend} ${withChurn ? 'with' : 'without'} churn: failed: ${(e as Error).message.split('\n')[0]}`,
        );
        log(`FAILED ${(e as Error).message}`);
      }
    }
  const label = (r: ChurnRun) =>
    `${r.backend === 'postgres' ? 'PostgreSQL' : 'PGlite'}, ${r.churn ? 'churn' : 'no churn'}`;
  const md: string[] = [
    `Clients in 2 channels of ${MEMBERS}; PostgreSQL: ${o.clients} clients and ${o.rate} msg/s, PGlite a third of both; typing at a fifth and reactions at a twentieth of the message rate; with churn, ${Math.round(o.churn * 100)} % of the clients drop every second and reconnect (after 0–200 ms) with \`channel.watch {since}\` on both channels. ${o.seconds} s per soak, windows of ${o.windowSeconds} s. send→deliver: live deliveries to resynced clients. Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      [
        '',
        'deliveries',
        'deliver p50 / p99 ms',
        'reply p50 / p99 ms',
        'resync p50 / p99 ms',
        'reconnects',
        'connect failures',
        'checked',
        'lost',
        'dup',
        'RSS MB start → end',
        'fds start → end',
      ],
      runs.map((r) => [
        label(r),
        fmt(r.total.deliver.n),
        `${p(r.total.deliver, 50)} / ${p(r.total.deliver, 99)}`,
        `${p(r.total.reply, 50)} / ${p(r.total.reply, 99)}`,
        r.churn ? `${p(r.total.resync, 50)} / ${p(r.total.resync, 99)}` : '',
        r.churn ? fmt(r.total.resync.n) : '',
        r.connectFailures,
        fmt(r.check.checked),
        r.check.missing,
        r.check.duplicates,
        `${(r.rssStart / 2 ** 20).toFixed(0)} → ${(r.rssEnd / 2 ** 20).toFixed(0)}`,
        `${r.fdsStart} → ${r.fdsEnd}`,
      ]),
    ),
    '',
    'Per window:',
    '',
    table(
      [
        '',
        'window',
        'sent',
        'deliver p50 / p99 ms',
        'reply p50 / p99 ms',
        'loop lag p99 / max ms',
        'loop busy %',
        'CPU %',
        'RSS MB',
        'fds',
      ],
      runs.flatMap((r) =>
        r.windows.map((w, i) => [
          label(r),
          `${i * o.windowSeconds}–${(i + 1) * o.windowSeconds} s`,
          w.sent,
          `${p(w.deliver, 50)} / ${p(w.deliver, 99)}`,
          `${p(w.reply, 50)} / ${p(w.reply, 99)}`,
          `${ms(w.lagP99)} / ${ms(w.lagMax)}`,
          Number.isFinite(w.elu) ? (w.elu * 100).toFixed(0) : '–',
          w.cpuPct.toFixed(0),
          (w.rss / 2 ** 20).toFixed(0),
          w.fds,
        ]),
      ),
    ),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ];
  for (const r of runs)
    if (Object.keys(r.errors).length) md.push('', `- ${label(r)}: errors ${JSON.stringify(r.errors)}`);
  const pgC = runs.find((r) => r.backend === 'postgres' && r.churn);
  const pgN = runs.find((r) => r.backend === 'postgres' && !r.churn);
  const lite = runs.find((r) => r.backend === 'pglite' && r.churn);
  const p99 = (r?: ChurnRun) => (r ? percentile(r.total.deliver, 99) : Number.NaN);
  return {
    key: 'churn',
    title: 'Churn soak',
    markdown: md,
    runs,
    targets: [
      {
        label: 'churn on PostgreSQL: send→deliver p99',
        value: `${ms(p99(pgC))} ms`,
        target: '≤ 50 ms',
        met: pgC ? p99(pgC) <= 50 : null,
      },
      {
        label: 'churn on PostgreSQL: p99 with churn / without',
        value: ratio(p99(pgC), p99(pgN)),
        target: '≤ 1.5×',
        met: pgC && pgN ? p99(pgC) <= 1.5 * p99(pgN) : null,
      },
      {
        label: 'churn on PGlite (a third of the load): connect time-outs',
        value: lite ? String(lite.errors['connect timeout'] ?? 0) : 'not measured',
        target: '0',
        met: lite ? !lite.errors['connect timeout'] : null,
      },
      {
        label: 'churn: nothing lost or duplicated',
        value: runs.map((r) => `${label(r)}: ${r.check.missing} lost, ${r.check.duplicates} dup`).join('; '),
        target: '0 / 0',
        met: runs.length ? runs.every((r) => r.check.missing === 0 && r.check.duplicates === 0) : null,
      },
    ],
    charts: [
      {
        title: 'Churn soak: send→deliver p99 per window',
        unit: 'ms',
        xUnit: 's',
        series: runs.map((r) => ({
          label: label(r),
          points: r.windows.map((w, i) => ({ x: (i + 1) * o.windowSeconds, y: percentile(w.deliver, 99) })),
        })),
        refY: 50,
        refLabel: 'target 50 ms',
      },
    ],
  };
}
