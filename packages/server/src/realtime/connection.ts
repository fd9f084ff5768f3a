/**
 * One client socket after auth: its subscriptions with the last seq delivered on each, and a
 * bounded outgoing queue. Frames are queued and flushed together once per tick, so a burst
 * of events costs one flush rather than one per event; a reader that lets more than
 * `maxQueuedBytes` pile up is closed with SLOW_CONSUMER (it reconnects and resyncs) rather
 * than buffered without limit.
 */

import type { User } from '@parley/protocol';
import { CLOSE_CODES } from '@parley/protocol';
import WebSocket from 'ws';
import type { Metrics } from '../platform/metrics.js';

/** What a connection knows about one channel it receives events for. */
export interface Subscription {
  /** Highest seq delivered; events at or below it are duplicates and dropped. */
  lastSeq: number;
  /** Events at or below this seq were never sent live on this connection (only by replay). */
  baseSeq: number;
  member: boolean;
  watching: boolean;
  /** While a `channel.watch` replays history, live events wait here. */
  held: { seq: number; frame: string }[] | null;
}

export class Connection {
  readonly subs = new Map<string, Subscription>();
  /** Set by the heartbeat; cleared when a pong or any frame arrives. */
  awaitingPong = false;
  lastActivity = Date.now();
  private queue: string[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly appId: string,
    readonly userId: string,
    public user: User,
    private readonly maxQueuedBytes: number,
    private readonly metrics: Metrics,
  ) {}

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Queue a frame; flushed on the next tick with everything else queued this tick. */
  send(frame: string): void {
    if (!this.isOpen) return;
    this.queuedBytes += frame.length;
    if (this.queuedBytes + this.ws.bufferedAmount > this.maxQueuedBytes) {
      this.metrics.slowConsumers.inc();
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
      return;
    }
    this.queue.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.isOpen || frames.length === 0) return;
    // Corking lets the frames of one tick leave in one write instead of one syscall each.
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    for (const f of frames) this.ws.send(f);
    socket?.uncork();
    this.metrics.framesOut.inc(frames.length);
  }

  /**
   * Deliver a logged channel event exactly once and in order: drop what was already sent,
   * hold it while the channel is replaying.
   */
  deliver(cid: string, seq: number, frame: string): void {
    const sub = this.subs.get(cid);
    if (!sub) return;
    if (sub.held) {
      sub.held.push({ seq, frame });
      return;
    }
    if (seq <= sub.lastSeq) return;
    sub.lastSeq = seq;
    this.send(frame);
  }

  reply(reqId: number, body: Record<string, unknown>): void {
    this.send(JSON.stringify({ type: 'reply', req_id: reqId, ok: true, ...body }));
  }

  replyError(reqId: number | null, error: { code: string; message: string; details?: unknown }): void {
    this.send(JSON.stringify({ type: 'reply', req_id: reqId, ok: false, error }));
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
