/**
 * One client socket after auth: its subscriptions with the last seq delivered on each, and a
 * bounded outgoing queue. Frames are queued and flushed together once per tick, so a burst
 * of events costs one flush rather than one per event; a reader that lets more than
 * `maxQueuedBytes` pile up is closed with SLOW_CONSUMER (it reconnects and resyncs) rather
 * than buffered without limit.
 *
 * The write path is what a fan-out pays a thousand times per event, so it is kept lean: one
 * setImmediate per turn for every connection of the process (not one per connection; a very
 * wide flush is cut into `FLUSH_CHUNK`s over several turns), and
 * frames encoded once per event (frame.ts) and written as the same bytes to every socket.
 */

import type { DeviceKind, User } from '@parley/protocol';
import { CLOSE_CODES } from '@parley/protocol';
import WebSocket from 'ws';
import type { Metrics } from '../platform/metrics.js';
import { OutFrame } from './frame.js';
import { Subscription } from './subscription.js';

/** The parts of `ws` internals the direct write relies on (ws ≥ 8.17; see `rawSocketOf`). */
interface WsInternals {
  _socket?: RawSocket | null;
  _extensions?: Record<string, unknown>;
  /** `_state` 0 (DEFAULT): nothing compressing or awaiting a Blob, so `ws.send` writes now. */
  _sender?: { _state?: number } | null;
}

interface RawSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

/**
 * The TCP socket under `ws`, when frames may be written to it directly; null means `ws.send`.
 *
 * Safe because with no extension negotiated (the gateway turns permessage-deflate off) and no
 * Blob ever sent, `ws`'s Sender writes each frame to the socket synchronously and whole, so a
 * direct write can never land inside one of its frames (pings, pongs, the close frame). Its
 * `bufferedAmount` reads the socket's writable length, so it counts direct writes too.
 */
function rawSocketOf(ws: WebSocket): RawSocket | null {
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  if (!socket || typeof socket.write !== 'function' || !w._sender) return null;
  if (w._extensions && Object.keys(w._extensions).length > 0) return null;
  return socket;
}

/**
 * Connections with frames queued, in the order they got their first; one setImmediate flushes
 * them, `FLUSH_CHUNK` at a time.
 */
let dirty: Connection[] = [];

/**
 * Connections written per turn of the event loop; the rest are written on the next turn. One
 * message to 1,000 subscribers flushes in one turn as before, but a batch's fan-out to thousands
 * of sockets no longer holds the loop for tens of milliseconds while the database's answer to
 * the next batch waits unread: in fan-out (1 → 1,000, 320 msg/s) the loop's delay p99 was
 * 33–35 ms, and with the answers read between chunks 320 msg/s passed in 4 of 7 runs against
 * 1 of 7, p50 at 160 msg/s 23.5 against 29.8 ms (medians; docs/benchmarks.md). A connection's
 * frames still leave in the order queued: it is flushed whole, once per place in the list.
 */
export const FLUSH_CHUNK = 250;

function scheduleFlush(conn: Connection): void {
  if (dirty.length === 0) setImmediate(flushDirty);
  dirty.push(conn);
}

function flushDirty(): void {
  let conns = dirty;
  dirty = [];
  if (conns.length > FLUSH_CHUNK) {
    dirty = conns.slice(FLUSH_CHUNK);
    conns = conns.slice(0, FLUSH_CHUNK);
    setImmediate(flushDirty);
  }
  // framesOut counted once per server per chunk rather than once per connection.
  let metrics: Metrics | null = null;
  let frames = 0;
  let failure: unknown;
  for (const conn of conns) {
    if (conn.metrics !== metrics) {
      if (metrics && frames > 0) metrics.framesOut.inc(frames);
      metrics = conn.metrics;
      frames = 0;
    }
    try {
      frames += conn.flush();
    } catch (err) {
      // One broken socket must not stall the others' queues: it is closed, they go on, and
      // the error is thrown once they have been written, as a per-connection flush would.
      failure ??= err;
      conn.ws.terminate();
    }
  }
  if (metrics && frames > 0) metrics.framesOut.inc(frames);
  if (failure !== undefined) throw failure;
}

/**
 * Connections holding frames that may wait for company (`sendLazy`): each goes out with the
 * connection's next frame that may not wait, or at its time, checked every `HOLD_TICK_MS`.
 */
let holding: Connection[] = [];
let holdTimer: NodeJS.Timeout | null = null;
const HOLD_TICK_MS = 25;

function hold(conn: Connection): void {
  holding.push(conn);
  if (!holdTimer) armHold();
}

function armHold(): void {
  holdTimer = setTimeout(releaseDue, HOLD_TICK_MS);
  holdTimer.unref?.();
}

function releaseDue(): void {
  holdTimer = null;
  const now = performance.now();
  holding = holding.filter((conn) => !conn.releaseIfDue(now));
  if (holding.length > 0) armHold();
}

const NO_SUBS: ReadonlyMap<string, Subscription> = new Map();
const NO_USERS: ReadonlySet<string> = new Set();

export class Connection {
  /**
   * This connection's channel subscriptions; each owns its delivery state (subscription.ts).
   * Changed through the hub. Made at the first: a connection in no channel and following no one
   * holds neither collection (about 340 bytes of an idle connection's, bench/heap-diff.ts).
   */
  get subs(): ReadonlyMap<string, Subscription> {
    return this.subsOrNull ?? NO_SUBS;
  }
  /** Users whose presence this connection follows (`presence.subscribe`); the hub indexes them. */
  get presence(): ReadonlySet<string> {
    return this.presenceOrNull ?? NO_USERS;
  }
  private subsOrNull: Map<string, Subscription> | null = null;
  private presenceOrNull: Set<string> | null = null;
  /** Whether this connection watches its app's spaces (`spaces.watch`). */
  watchesSpaces = false;
  /** The kind of device it is on, declared at connect or read from the User-Agent (gateway.ts). */
  device: DeviceKind = 'web';
  /** The client said it came back (`reconnect=1` on its connect URL): realtime/stability.ts. */
  reconnect = false;
  /** It reported its resync (`connection.resynced`); a second report is not counted. */
  resyncReported = false;
  /** Set by the heartbeat; cleared when a pong or any frame arrives. */
  awaitingPong = false;
  /**
   * The app being read again for this connection's frames (gateway.ts): later frames wait for
   * the same read, so handlers start in the order their frames arrived.
   */
  appRead: Promise<unknown> | null = null;
  lastActivity = Date.now();
  private queue: OutFrame[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  /** When frames queued by `sendLazy` must go at the latest (performance.now()); 0: none held. */
  private heldUntil = 0;
  private closed = false;
  private readonly raw: RawSocket | null;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly appId: string,
    readonly userId: string,
    public user: User,
    private readonly maxQueuedBytes: number,
    readonly metrics: Metrics,
  ) {
    this.raw = rawSocketOf(ws);
  }

  /** Keep `sub` as the subscription to `cid` (hub.ts). */
  putSub(cid: string, sub: Subscription): void {
    this.subsOrNull ??= new Map();
    this.subsOrNull.set(cid, sub);
  }

  /** Forget the subscription to `cid`; whether there was one (hub.ts). */
  dropSub(cid: string): boolean {
    return this.subsOrNull?.delete(cid) ?? false;
  }

  /** Forget every subscription (hub.ts, at close). */
  dropSubs(): void {
    this.subsOrNull = null;
  }

  /** Follow `userId`'s presence; false when it was followed already (hub.ts). */
  addPresence(userId: string): boolean {
    this.presenceOrNull ??= new Set();
    if (this.presenceOrNull.has(userId)) return false;
    this.presenceOrNull.add(userId);
    return true;
  }

  /** Stop following `userId`'s presence; false when it was not followed (hub.ts). */
  dropPresence(userId: string): boolean {
    return this.presenceOrNull?.delete(userId) ?? false;
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Queue a frame; flushed on the next tick with everything else queued this tick. Pass the
   * same OutFrame to many connections to encode it once.
   */
  send(frame: string | OutFrame): void {
    if (this.enqueue(frame)) this.flushSoon();
  }

  /**
   * Queue a frame that may wait up to `holdMs` for the connection's next frame that may not, and
   * leave with it in one write (in the order queued), else alone at its time. A write is a
   * syscall and a wakeup of the client's process: the unread pushes of a busy member, one for
   * every few messages they get, each went out in a write of its own (the chat mix: 0.57 a
   * delivery). Clients count the messages they get in the meantime themselves.
   */
  sendLazy(frame: string | OutFrame, holdMs: number): void {
    if (!this.enqueue(frame) || this.flushScheduled || this.heldUntil > 0) return;
    if (holdMs <= 0) {
      this.flushSoon();
      return;
    }
    this.heldUntil = performance.now() + holdMs;
    hold(this);
  }

  /** For the hold timer: flush the held frames if their time has come; whether it let go of them. */
  releaseIfDue(now: number): boolean {
    if (this.heldUntil === 0 || this.closed) return true;
    if (this.heldUntil > now) return false;
    this.heldUntil = 0;
    if (this.queue.length > 0) this.flushSoon();
    return true;
  }

  /** Have what is queued written on the next flush of the process, once. */
  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    scheduleFlush(this);
  }

  /** Queue a frame unless the connection is closed or its reader too slow (then closed); whether queued. */
  private enqueue(frame: string | OutFrame): boolean {
    if (!this.isOpen) return false;
    const out = typeof frame === 'string' ? OutFrame.of(frame) : frame;
    // Bytes as they will sit in the socket's buffer, the same unit as bufferedAmount.
    this.queuedBytes += out.wire.length;
    if (this.queuedBytes + this.ws.bufferedAmount > this.maxQueuedBytes) {
      this.metrics.slowConsumers.inc();
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
      return false;
    }
    this.queue.push(out);
    return true;
  }

  /** Write what is queued, in order; returns how many frames went out. */
  flush(): number {
    this.flushScheduled = false;
    this.heldUntil = 0;
    const frames = this.queue;
    if (frames.length === 0) return 0;
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.isOpen) return 0;
    const raw = this.raw;
    if (frames.length === 1) {
      // The common case under fan-out: one event this tick, one write, nothing to cork.
      this.write(raw, frames[0] as OutFrame);
      return 1;
    }
    // Corking lets the frames of one tick leave in one write instead of one syscall each.
    const socket = raw ?? (this.ws as unknown as WsInternals)._socket;
    socket?.cork();
    for (const f of frames) this.write(raw, f);
    socket?.uncork();
    return frames.length;
  }

  private write(raw: RawSocket | null, frame: OutFrame): void {
    // Only while `ws`'s Sender is idle, the state in which it writes synchronously itself: if it
    // ever holds a frame (never expected without extensions or Blobs), ws.send queues behind it,
    // and so does every frame after, until it is idle again. An unknown ws (no `_state`) falls back.
    if (raw && (this.ws as unknown as WsInternals)._sender?._state === 0) raw.write(frame.wire);
    else this.ws.send(frame.text);
  }

  /** A new subscription whose frames go to this connection's queue (the hub adds it to `subs`). */
  newSubscription(cid: string, knownSeq: number): Subscription {
    return new Subscription(
      cid,
      knownSeq,
      (frame) => this.send(frame),
      (author) => this.seesShadowOf(author),
    );
  }

  /**
   * Whether this connection receives events about a shadowed message of `author`: the author
   * and app moderators and admins (as of connect) do (moderation/shadow.ts).
   */
  seesShadowOf(author: string): boolean {
    return author === this.userId || this.user.role === 'moderator' || this.user.role === 'admin';
  }

  /**
   * Deliver a logged channel event exactly once and in order: its subscription decides (sent,
   * held behind a replay, or dropped as a duplicate).
   */
  deliver(cid: string, seq: number, frame: string | OutFrame): void {
    const sub = this.subs.get(cid);
    if (!sub) return;
    // A shadowed message's event: others' subscriptions move past its seq without sending it.
    if (typeof frame !== 'string' && frame.shadowOf !== null && !this.seesShadowOf(frame.shadowOf))
      sub.offer(seq, null);
    else sub.offer(seq, frame);
  }

  reply(reqId: number, body: Record<string, unknown>): void {
    this.send(JSON.stringify({ type: 'reply', req_id: reqId, ok: true, ...body }));
  }

  replyError(reqId: number | null, error: { code: string; message: string; details?: unknown }): void {
    this.send(JSON.stringify({ type: 'reply', req_id: reqId, ok: false, error }));
  }

  /**
   * Write what is queued now, then close: those frames leave before the close frame, wherever
   * this connection stands in the flush (a wide fan-out is written over several turns).
   */
  closeAfterQueued(code: number, reason: string): void {
    this.flush();
    this.close(code, reason);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }
}
