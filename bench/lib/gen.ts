/**
 * The load generator: one child process holding many client sockets, speaking one of three
 * protocols over `ws` (no SDKs, so the generator stays light):
 *
 *   parley  `/v1/ws?api_key=…` → {"type":"auth","token"} → hello; requests with req_id.
 *   raw     the raw `ws` baseline: `/?rooms=a,b`; a text frame "room\npayload" asks the
 *           server to broadcast payload to the room.
 *   sio     Engine.IO 4 / Socket.IO 4 over WebSocket only: `/socket.io/?EIO=4&transport=
 *           websocket&rooms=a,b` → "0{…}" → "40" → "40{…}"; events "42[…]"; pings "2" → "3".
 *   xmpp    XMPP over WebSocket (RFC 7395; ejabberd's `/ws`, subprotocol "xmpp"): <open/> →
 *           features → SASL PLAIN → <open/> again → resource bind → one MUC presence per
 *           room (joined when the room's self-presence, status 110, comes back); messages are
 *           `<message type="groupchat">` to the room, every occupant (sender included) gets
 *           the room's copy. One stanza per frame, as RFC 7395 requires.
 *
 * Every measured message carries its intended send time: `@@T<step>_<µs since epoch>@@`, on
 * the clock every process on the machine shares (`performance.timeOrigin + now()`), and the
 * receiver records `receive time − intended time` into a histogram for that step. Frames are
 * scanned for the marker as bytes; JSON is parsed only for replies, hello, and when seq
 * tracking is on (the reconnect storm).
 *
 * Every loop here is bounded by a count and a deadline.
 */
import { LOGGED_EVENT_TYPES, WS_AUTH_PREFIX, WS_PROTOCOL } from '@parley/protocol';
import WebSocket from 'ws';
import { signToken } from '../../packages/server/src/platform/auth.js';
import { Hist, type HistData, now } from './hist.js';
import { serve, stallMonitor } from './proc.js';
import { mucRoom } from './xmpp.js';

type Proto = 'parley' | 'raw' | 'sio' | 'xmpp';

export interface ClientSpec {
  user: string;
  /** Channel ids (parley: cids the user is a member of) or room names (baselines). */
  rooms: string[];
  /** Index into the target's node urls. */
  node: number;
}

export interface Target {
  proto: Proto;
  /** Base http urls of the server nodes. */
  urls: string[];
  apiKey?: string;
  secret?: string;
  /** xmpp: the virtual host, the MUC service, every bench user's password. */
  xmppHost?: string;
  mucHost?: string;
  password?: string;
}

// ---- XMPP over WebSocket (RFC 7395) ----
const XMPP_OPEN = (host: string) => `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${host}" version="1.0"/>`;
const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const xmlEsc = (s: string) => s.replace(/[&<>"']/g, (c) => XML_ESC[c] as string);
const GROUPCHAT = Buffer.from('groupchat');
const IQ_REPLY = /^<iq[^>]*?type=["'](?:result|error)["']/;
const STANZA_ID =
  /<stanza-id[^>]*?\sid=["']([^"']+)["'][^>]*?by=["']([^"'@]+)@|<stanza-id[^>]*?by=["']([^"'@]+)@[^>]*?\sid=["']([^"']+)["']/;

const LOGGED = new Set<string>(LOGGED_EVENT_TYPES);
const MARK = Buffer.from('@@T');
const REPLY_PREFIX = Buffer.from('{"type":"reply"');

let target: Target | null = null;
const clients: Client[] = [];
/**
 * Parley: each user's token, minted before any timed connect (`tokens`). A client is handed its
 * token by its app's backend before it connects (the SDK's `tokenProvider`); minting one here
 * (HS256, ~0.1 ms of CPU) inside a timed connect put that backend's work on the two cores the
 * server shares with this process.
 */
const tokens = new Map<string, string>();
async function mintTokens(users: string[]): Promise<void> {
  const t = target as Target;
  if (t.proto !== 'parley') return;
  for (const user of users) if (!tokens.has(user)) tokens.set(user, await signToken(t.secret as string, user));
}

// Measurement state for the current step.
let step = 0;
let hist = new Hist();
let ackHist = new Hist();
let deliveries = 0;
let otherStep = 0;
let markedBytes = 0;
let frames = 0;
let bytes = 0;
let acksOk = 0;
let acksErr = 0;
const ackErrors = new Map<string, number>();
let unexpectedCloses = 0;
let track = false;
let stopSending = false;
/** A stall here delays every delivery it holds. */
const stalls = stallMonitor();

function scanMarker(buf: Buffer): void {
  const i = buf.indexOf(MARK);
  if (i < 0) return;
  let j = i + 3;
  let s = 0;
  let c = buf[j];
  while (c !== undefined && c >= 48 && c <= 57) {
    s = s * 10 + (c - 48);
    c = buf[++j];
  }
  if (c !== 95) return; // '_'
  c = buf[++j];
  let us = 0;
  while (c !== undefined && c >= 48 && c <= 57) {
    us = us * 10 + (c - 48);
    c = buf[++j];
  }
  if (s !== step) {
    otherStep++;
    return;
  }
  deliveries++;
  markedBytes += buf.length;
  hist.record(now() - us / 1000);
}

const marker = (st: number, t: number) => `@@T${st}_${Math.round(t * 1000)}@@`;

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  if (buf.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

class Client {
  ws: WebSocket | null = null;
  open = false;
  dropping = false;
  /** Dropped by the storm and not (yet) back and resynced: its seqs cannot be checked. */
  lost = false;
  /** parley: highest seq seen per channel. */
  readonly last = new Map<string, number>();
  /** parley: the seq each channel was at when this client first connected. */
  readonly first = new Map<string, number>();
  /** parley: `last` as it was when the storm dropped the socket (what resync asks from). */
  sinceAtDrop = new Map<string, number>();
  /** parley: the channel seqs the latest hello announced. */
  readonly helloSeq = new Map<string, number>();
  /** parley, while tracking: every logged seq received, per channel. */
  readonly seen = new Map<string, number[]>();
  private reqId = 0;
  private readonly replies = new Map<number, (f: Record<string, unknown>) => void>();
  private token: string | null = null;

  constructor(readonly spec: ClientSpec) {}

  /** Open the socket and finish the handshake; resolves when ready for traffic. */
  async connect(timeoutMs: number): Promise<Record<string, unknown> | null> {
    const t = target as Target;
    const base = (t.urls[this.spec.node % t.urls.length] as string).replace(/^http/, 'ws');
    if (t.proto === 'parley' && !this.token) {
      await mintTokens([this.spec.user]);
      this.token = tokens.get(this.spec.user) as string;
    }
    const rooms = encodeURIComponent(this.spec.rooms.join(','));
    const url =
      t.proto === 'parley'
        ? `${base}/v1/ws?api_key=${t.apiKey}`
        : t.proto === 'raw'
          ? `${base}/?rooms=${rooms}`
          : t.proto === 'xmpp'
            ? `${base}/ws`
            : `${base}/socket.io/?EIO=4&transport=websocket&rooms=${rooms}`;
    // A new attempt replaces whatever socket this client still had.
    if (this.ws) {
      this.dropping = true;
      this.open = false;
      this.ws.terminate();
    }
    return new Promise((resolve, reject) => {
      // Parley: the token with the upgrade, as the SDK connects (docs/protocol/socket.md, "Handshake").
      const protocols =
        t.proto === 'xmpp' ? ['xmpp'] : t.proto === 'parley' ? [WS_PROTOCOL, WS_AUTH_PREFIX + this.token] : [];
      const ws = new WebSocket(url, protocols, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        maxPayload: 16 << 20,
      });
      this.ws = ws;
      this.dropping = false;
      this.xstage = 0;
      let done = false;
      const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
      const fail = (e: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      const ok = (info: Record<string, unknown> | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.open = true;
        resolve(info);
      };
      ws.on('error', (e) => fail(e));
      ws.on('close', (code, reason) => {
        // Parley's admission control (4006 OVERLOADED) says when to come back, as the SDK reads it.
        const hint = code === 4006 ? /retry_after_ms=(\d+)/.exec(reason.toString()) : null;
        if (!done)
          fail(Object.assign(new Error(`closed ${code} before ready`), hint ? { retryAfterMs: Number(hint[1]) } : {}));
        if (this.ws !== ws) return; // an earlier socket of this client, closing late
        if (this.open && !this.dropping) unexpectedCloses++;
        this.open = false;
        for (const r of this.replies.values()) r({ ok: false, error: { code: 'CLOSED' } });
        this.replies.clear();
        for (const r of this.xmppReplies.values()) r('');
        this.xmppReplies.clear();
      });
      ws.on('open', () => {
        if (t.proto === 'parley') {
          if (ws.protocol !== WS_PROTOCOL) ws.send(JSON.stringify({ type: 'auth', token: this.token }));
        } else if (t.proto === 'raw') ok(null);
        else if (t.proto === 'xmpp') ws.send(XMPP_OPEN(t.xmppHost as string));
      });
      ws.on('message', (data: Buffer) => {
        frames++;
        bytes += data.length;
        if (t.proto === 'parley') {
          if (!done) {
            const hello = JSON.parse(data.toString()) as { type: string; channels?: Record<string, number> };
            if (hello.type !== 'hello') return fail(new Error(`expected hello, got ${hello.type}`));
            for (const [cid, seq] of Object.entries(hello.channels ?? {})) {
              if (!this.first.has(cid)) this.first.set(cid, seq);
              if (!this.last.has(cid)) this.last.set(cid, seq);
              this.helloSeq.set(cid, seq);
            }
            return ok(hello as unknown as Record<string, unknown>);
          }
          if (startsWith(data, REPLY_PREFIX)) {
            const f = JSON.parse(data.toString()) as { req_id: number } & Record<string, unknown>;
            const r = this.replies.get(f.req_id);
            if (r) {
              this.replies.delete(f.req_id);
              r(f);
            }
            return;
          }
          if (track) this.trackFrame(data);
          scanMarker(data);
          return;
        }
        if (t.proto === 'raw') {
          scanMarker(data);
          return;
        }
        if (t.proto === 'xmpp') {
          if (!done) {
            this.xmppHandshake(ws, data.toString(), ok, fail);
            return;
          }
          if (data.indexOf(GROUPCHAT) >= 0) {
            if (track) this.trackStanzaId(data);
            scanMarker(data);
          } else if (data[1] === 105 /* <i */ && IQ_REPLY.test(data.toString('latin1', 0, 200))) {
            const m = /\sid=["']([^"']+)["']/.exec(data.toString());
            const r = m ? this.xmppReplies.get(m[1] as string) : undefined;
            if (r && m) {
              this.xmppReplies.delete(m[1] as string);
              r(data.toString());
            }
          } else if (track && data.indexOf('urn:xmpp:mam:2') >= 0) {
            this.trackStanzaId(data);
          }
          return;
        }
        // Engine.IO packets: 0 open, 2 ping, 4 message (40 connect, 42 event, 44 connect error).
        const c0 = data[0];
        if (c0 === 52 /* 4 */) {
          const c1 = data[1];
          if (c1 === 50 /* 2 */) scanMarker(data);
          else if (c1 === 48 /* 0 */) ok(null);
          else if (c1 === 52 /* 4 */) fail(new Error(`socket.io connect error ${data.toString()}`));
        } else if (c0 === 50 /* 2 */) ws.send('3');
        else if (c0 === 48 /* 0 */) ws.send('40');
      });
    });
  }

  /** xmpp: handshake stage, the rooms still to be joined, pending iq replies by id. */
  private xstage = 0;
  private xjoin = new Set<string>();
  private readonly xmppReplies = new Map<string, (xml: string) => void>();
  /** xmpp: last archive (MAM) id seen per room, what a resync asks from. */
  readonly lastId = new Map<string, string>();
  private iqSeq = 0;

  private xmppHandshake(
    ws: WebSocket,
    xml: string,
    ok: (info: Record<string, unknown> | null) => void,
    fail: (e: Error) => void,
  ): void {
    const t = target as Target;
    if (xml.startsWith('<open') || xml.startsWith('<?xml')) return; // the server's stream header
    if (xml.includes('<stream:error') || xml.includes('<failure') || xml.includes('<close')) {
      fail(new Error(`xmpp: ${xml.slice(0, 120)}`));
      return;
    }
    if (this.xstage === 0 && xml.includes('<stream:features')) {
      this.xstage = 1;
      const plain = Buffer.from(`\0${this.spec.user}\0${t.password}`).toString('base64');
      ws.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${plain}</auth>`);
    } else if (this.xstage === 1 && xml.startsWith('<success')) {
      this.xstage = 2;
      ws.send(XMPP_OPEN(t.xmppHost as string));
    } else if (this.xstage === 2 && xml.includes('<stream:features')) {
      this.xstage = 3;
      ws.send(
        '<iq type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>bench</resource></bind></iq>',
      );
    } else if (this.xstage === 3 && /id=["']bind["']/.test(xml)) {
      if (!/type=["']result["']/.test(xml)) {
        fail(new Error(`xmpp bind: ${xml.slice(0, 120)}`));
        return;
      }
      this.xstage = 4;
      this.xjoin = new Set(this.spec.rooms.map(mucRoom));
      if (this.xjoin.size === 0) {
        ok(null);
        return;
      }
      for (const r of this.xjoin)
        ws.send(
          `<presence to="${r}@${t.mucHost}/${xmlEsc(this.spec.user)}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
        );
    } else if (this.xstage === 4 && xml.startsWith('<presence')) {
      const from = /\sfrom=["']([^"'@]+)@/.exec(xml)?.[1];
      if (!from || !this.xjoin.has(from)) return;
      if (/type=["']error["']/.test(xml)) {
        fail(new Error(`xmpp join ${from}: ${xml.slice(0, 160)}`));
        return;
      }
      if (!/code=["']110["']/.test(xml)) return;
      this.xjoin.delete(from);
      if (this.xjoin.size === 0) ok(null);
    }
  }

  /** xmpp, while tracking: the archive id of a room message (resync asks from the last one). */
  private trackStanzaId(data: Buffer): void {
    const m = STANZA_ID.exec(data.toString());
    if (!m) return;
    const id = (m[1] ?? m[4]) as string;
    const room = (m[2] ?? m[3]) as string;
    this.lastId.set(room, id);
  }

  /** xmpp: an iq; resolves with the reply stanza (or '' on timeout / close). */
  iq(body: (id: string) => string, timeoutMs: number): Promise<string> {
    const ws = this.ws;
    if (!ws || !this.open || ws.readyState !== WebSocket.OPEN) return Promise.resolve('');
    const id = `q${++this.iqSeq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.xmppReplies.delete(id);
        resolve('');
      }, timeoutMs);
      this.xmppReplies.set(id, (x) => {
        clearTimeout(timer);
        resolve(x);
      });
      ws.send(body(id));
    });
  }

  private trackFrame(data: Buffer): void {
    const f = JSON.parse(data.toString()) as { type?: string; cid?: string; seq?: number };
    if (!f.type || !LOGGED.has(f.type) || typeof f.cid !== 'string' || typeof f.seq !== 'number') return;
    let list = this.seen.get(f.cid);
    if (!list) {
      list = [];
      this.seen.set(f.cid, list);
    }
    list.push(f.seq);
    if (f.seq > (this.last.get(f.cid) ?? 0)) this.last.set(f.cid, f.seq);
  }

  /** A parley request; resolves with the reply frame (or a CLOSED / TIMEOUT error). */
  request(body: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (!ws || !this.open || ws.readyState !== WebSocket.OPEN)
      return Promise.resolve({ ok: false, error: { code: 'CLOSED' } });
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

  /** Send one measured message to `room` (fire and forget; parley acks are counted). */
  publish(room: string, text: string, intended: number, acks: boolean): void {
    const t = target as Target;
    const ws = this.ws;
    if (!ws || !this.open || ws.readyState !== WebSocket.OPEN) return;
    if (t.proto === 'parley') {
      const p = this.request({ type: 'message.send', cid: room, message: { text } });
      if (acks)
        void p.then((f) => {
          if (f.ok) {
            acksOk++;
            ackHist.record(now() - intended);
            const m = f.message as { seq?: number } | undefined;
            if (m?.seq && m.seq > (this.last.get(room) ?? 0) && !track) this.last.set(room, m.seq);
          } else {
            acksErr++;
            const code = String((f.error as { code?: string })?.code ?? '?');
            ackErrors.set(code, (ackErrors.get(code) ?? 0) + 1);
          }
        });
    } else if (t.proto === 'raw') {
      ws.send(`${room}\n${text}`);
    } else if (t.proto === 'xmpp') {
      ws.send(`<message to="${mucRoom(room)}@${t.mucHost}" type="groupchat"><body>${xmlEsc(text)}</body></message>`);
    } else {
      ws.send(`42["pub","${room}","${text}"]`);
    }
  }

  /** xmpp: `lastId` as it was when the storm dropped the socket. */
  lastIdAtDrop = new Map<string, string>();

  drop(): void {
    this.sinceAtDrop = new Map(this.last);
    this.lastIdAtDrop = new Map(this.lastId);
    this.dropping = true;
    this.open = false;
    this.ws?.terminate();
  }
}

/** Run `fn` over items with at most `limit` in flight; bounded by a deadline. */
async function pool<T>(items: T[], limit: number, deadline: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length && now() < deadline) {
        const x = items[next++] as T;
        await fn(x);
      }
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pad = (s: string, n: number) => (s.length >= n ? s : s + 'x'.repeat(n - s.length));

serve({
  init: (a: Target) => {
    target = a;
    tokens.clear(); // a new server: a new app, whose secret signs them
    return { pid: process.pid };
  },

  /** Mint the tokens of these clients' users now, outside any timed connect. */
  tokens: async (a: { users: string[] }) => {
    await mintTokens(a.users);
    return null;
  },

  /** Open clients (concurrency-limited); resolves with how many are ready (timed after minting). */
  connect: async (a: { specs: ClientSpec[]; concurrency: number; timeoutMs: number }) => {
    await mintTokens(a.specs.map((s) => s.user));
    const t0 = now();
    const deadline = t0 + a.timeoutMs;
    let ok = 0;
    let failed = 0;
    const errors = new Map<string, number>();
    // Each ready client's own connect time (socket open → hello), apart from the batch's total.
    const each = new Hist();
    const fresh = a.specs.map((s) => new Client(s));
    clients.push(...fresh);
    await pool(fresh, a.concurrency, deadline, async (c) => {
      try {
        const t = now();
        await c.connect(Math.max(1000, deadline - now()));
        each.record(now() - t);
        ok++;
      } catch (e) {
        failed++;
        const k = (e as Error).message.slice(0, 80);
        errors.set(k, (errors.get(k) ?? 0) + 1);
      }
    });
    return {
      ok,
      failed,
      ms: now() - t0,
      errors: Object.fromEntries(errors),
      open: clients.filter((c) => c.open).length,
      hist: each.toJSON(),
    };
  },

  /** Start a measurement step: counters and histograms start from zero. */
  measure: (a: { step: number; track?: boolean }) => {
    step = a.step;
    hist = new Hist();
    ackHist = new Hist();
    deliveries = 0;
    otherStep = 0;
    markedBytes = 0;
    frames = 0;
    bytes = 0;
    acksOk = 0;
    acksErr = 0;
    ackErrors.clear();
    stalls.reset();
    if (a.track !== undefined) track = a.track;
    return null;
  },

  report: () => ({
    step,
    hist: hist.toJSON() as HistData,
    ackHist: ackHist.toJSON() as HistData,
    deliveries,
    otherStep,
    frameBytes: deliveries ? markedBytes / deliveries : 0,
    frames,
    bytes,
    acksOk,
    acksErr,
    ackErrors: Object.fromEntries(ackErrors),
    unexpectedCloses,
    open: clients.filter((c) => c.open).length,
    stallMs: stalls.stallMs(),
  }),

  /**
   * Open-loop sending: message i is due at start + i/rate; each is sent as soon as it is due
   * (late sends keep their intended time, so a stall shows as latency, not as a lower rate).
   * `from`: which local clients send — all of them (picked at random) or the first only.
   * `room`: send to that one of the sender's rooms (by index), not to one picked at random.
   */
  send: async (a: {
    step: number;
    rate: number;
    durationMs: number;
    textBytes: number;
    from: 'first' | 'all';
    room?: number;
  }) => {
    const total = Math.max(1, Math.round((a.rate * a.durationMs) / 1000));
    const start = now() + 5;
    const deadline = start + a.durationMs + 5_000;
    const gap = 1000 / a.rate;
    const proto = (target as Target).proto;
    let i = 0;
    let skipped = 0;
    stopSending = false;
    await new Promise<void>((resolve) => {
      const pump = () => {
        const t = now();
        while (i < total && start + i * gap <= t) {
          const intended = start + i * gap;
          // A random client that is connected (a few tries: during a storm most are not).
          let c = a.from === 'first' ? clients[0] : undefined;
          for (let k = 0; a.from === 'all' && k < 20 && !c?.open; k++)
            c = clients[Math.floor(Math.random() * clients.length)] as Client | undefined;
          i++;
          if (!c?.open || c.spec.rooms.length === 0) {
            skipped++;
            continue;
          }
          const room = c.spec.rooms[a.room ?? Math.floor(Math.random() * c.spec.rooms.length)] as string;
          c.publish(room, pad(`${marker(a.step, intended)} `, a.textBytes), intended, proto === 'parley');
        }
        if (i >= total || t > deadline || stopSending) resolve();
        else setTimeout(pump, 1);
      };
      pump();
    });
    return { sent: i - skipped, skipped, due: total };
  },

  /** End a running `send` early. */
  stopSend: () => {
    stopSending = true;
    return null;
  },

  /**
   * The reconnect storm: drop every socket at once, then each client reconnects after the
   * SDK's first backoff (125–250 ms, full jitter; doubling on failure) and, for parley,
   * resyncs each channel with `channel.watch {cid, since: last seq seen}`.
   */
  storm: async (a: {
    minDelayMs: number;
    maxDelayMs: number;
    timeoutMs: number;
    resync: boolean;
    /** How long one attempt may take before it is given up (default 15 s; the SDK has no such limit). */
    attemptTimeoutMs?: number;
  }) => {
    const t0 = now();
    const deadline = t0 + a.timeoutMs;
    for (const c of clients) {
      c.drop();
      c.lost = true;
    }
    const done: number[] = [];
    let failed = 0;
    let attempts = 0;
    let reloads = 0;
    let watchErrors = 0;
    let hinted_ = 0;
    // Why attempts did not get in: the retry hints admission control gave, and every other failure by its message.
    const hints = new Hist();
    const failures = new Map<string, number>();
    let over = false;
    const all = Promise.all(
      clients.map(async (c) => {
        let backoff = a.minDelayMs * 2;
        let delay = a.minDelayMs + Math.random() * (a.maxDelayMs - a.minDelayMs);
        // Twelve failed attempts at most; a refusal with a hint (admission control) is not a failure.
        for (let n = 0; n < 12 && now() < deadline; ) {
          await sleep(delay);
          if (over) return;
          attempts++;
          try {
            await c.connect(Math.max(500, Math.min(a.attemptTimeoutMs ?? 15_000, deadline - now())));
          } catch (e) {
            const hinted = (e as { retryAfterMs?: number }).retryAfterMs;
            if (hinted !== undefined) {
              // The SDK's rule: wait the hint plus up to half of it again, no doubling.
              hinted_++;
              hints.record(hinted);
              delay = hinted + Math.random() * (hinted / 2);
              continue;
            }
            n++;
            const why = (e as Error).message.slice(0, 60);
            failures.set(why, (failures.get(why) ?? 0) + 1);
            backoff = Math.min(15_000, backoff * 2);
            delay = backoff / 2 + (Math.random() * backoff) / 2;
            continue;
          }
          if (a.resync && (target as Target).proto === 'parley') {
            const rs = await Promise.all(
              c.spec.rooms.map((cid) =>
                c.request(
                  { type: 'channel.watch', cid, since: c.sinceAtDrop.get(cid) ?? 0 },
                  Math.max(500, deadline - now()),
                ),
              ),
            );
            if (over) return;
            for (const r of rs) {
              if (!r.ok) watchErrors++;
              else if (r.reload) reloads++;
            }
            if (rs.some((r) => !r.ok)) {
              n++;
              continue;
            }
          }
          if (a.resync && (target as Target).proto === 'xmpp') {
            // MAM (XEP-0313) over each room's archive, from the last archive id seen before
            // the drop, page by page (RSM), until the archive says it is complete.
            let okAll = true;
            for (const room of c.spec.rooms.map(mucRoom)) {
              let after = c.lastIdAtDrop.get(room);
              for (let page = 0; page < 20; page++) {
                const x = await c.iq(
                  (id) =>
                    `<iq type="set" id="${id}" to="${room}@${(target as Target).mucHost}"><query xmlns="urn:xmpp:mam:2" queryid="${id}"><set xmlns="http://jabber.org/protocol/rsm"><max>100</max>${after ? `<after>${after}</after>` : ''}</set></query></iq>`,
                  Math.max(500, deadline - now()),
                );
                if (!x || !/type=["']result["']/.test(x)) {
                  okAll = false;
                  break;
                }
                const last = /<last>([^<]+)<\/last>/.exec(x)?.[1];
                if (last) {
                  after = last;
                  c.lastId.set(room, last);
                }
                if (/complete=["']true["']/.test(x) || !last) break;
              }
              if (!okAll) break;
            }
            if (over) return;
            if (!okAll) {
              watchErrors++;
              n++;
              continue;
            }
          }
          if (over) return;
          c.lost = false;
          done.push(now() - t0);
          return;
        }
      }),
    );
    // At the deadline, whoever is not back counts as failed (and stays unchecked).
    await Promise.race([all, sleep(Math.max(0, deadline - now()) + 1000)]);
    over = true;
    failed = clients.length - done.length;
    return {
      done,
      failed,
      attempts,
      hinted: hinted_,
      hints: hints.toJSON(),
      failures: Object.fromEntries(failures),
      reloads,
      watchErrors,
      ms: now() - t0,
    };
  },

  /**
   * Check seqs: every logged event of each channel after the client's first connect, up to
   * the channel's final seq, received exactly once.
   */
  verify: async (a: { finals: Record<string, number>; waitMs: number }) => {
    // Give deliveries still in flight a bounded time to arrive: until every checked client
    // has seen each of its channels' final seq.
    const until = now() + a.waitMs;
    const behind = () =>
      clients.some(
        (c) =>
          !c.lost &&
          c.spec.rooms.some(
            (cid) => (a.finals[cid] ?? 0) > (c.seen.get(cid) ?? []).reduce((m, x) => Math.max(m, x), 0),
          ),
      );
    while (now() < until && behind()) await sleep(100);
    const details: Record<string, unknown>[] = [];
    let channels = 0;
    let missing = 0;
    let duplicates = 0;
    let received = 0;
    let clientsWithGaps = 0;
    let unchecked = 0;
    for (const c of clients) {
      if (c.lost) {
        unchecked++;
        continue;
      }
      let bad = false;
      for (const cid of c.spec.rooms) {
        const final = a.finals[cid];
        const first = c.first.get(cid);
        if (final === undefined || first === undefined) continue;
        channels++;
        const got = c.seen.get(cid) ?? [];
        const counts = new Map<number, number>();
        for (const s of got) if (s > first) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (let s = first + 1; s <= final; s++) {
          const n = counts.get(s) ?? 0;
          if (n === 0) {
            missing++;
            if (details.length < 10)
              details.push({
                user: c.spec.user,
                cid,
                seq: s,
                first,
                since: c.sinceAtDrop.get(cid),
                hello: c.helloSeq.get(cid),
                final,
                laterSeen: got.some((x) => x > s),
              });
          } else if (n > 1) duplicates += n - 1;
          if (n !== 1) bad = true;
          received += Math.min(n, 1);
        }
      }
      if (bad) clientsWithGaps++;
    }
    return { channels, missing, duplicates, received, clientsWithGaps, unchecked, details };
  },

  close: () => {
    for (const c of clients) c.drop();
    clients.length = 0;
    return null;
  },
});
