/**
 * The fallback transport's socket: a `text/event-stream` response down and POSTed frames up
 * (stream-routes.ts), behind the same small surface of `ws`'s WebSocket that the gateway and
 * Connection use — `readyState`, `bufferedAmount`, `send`, `ping`, `close`, `terminate` and the
 * `message` / `pong` / `close` / `error` events. So a stream is authenticated, admitted, opened,
 * subscribed, caught up, fed requests, heartbeaten and closed by exactly the code a WebSocket
 * is; nothing about channels, resume or ordering is written twice.
 *
 * Wire: each frame is one SSE event, `data: <the frame's JSON>` and a blank line (JSON text
 * holds no raw newline; a line break in it would be split over `data:` lines, as SSE says).
 * Heartbeats are SSE comments (`: ping`), which also keep proxies from timing an idle stream
 * out. A close is a last event, `event: close` with `{"code","reason"}` as its data — the
 * WebSocket close code and reason, so the client decides to reconnect exactly as over a
 * WebSocket (4000–4499 reconnect, 4500–4999 do not) — and then the response ends.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

/** `ws`'s readyState values, which Connection compares against. */
const OPEN = 1;
const CLOSED = 3;

export class SseSocket extends EventEmitter {
  readyState = OPEN;
  private corked = false;

  constructor(private readonly res: ServerResponse) {
    super();
    // The client went away (or the proxy cut the stream): closed as a WebSocket's TCP reset is.
    res.once('close', () => this.finish(1006, ''));
    res.on('error', () => this.finish(1006, ''));
  }

  /** Bytes written but not yet taken by the kernel: what Connection's slow-consumer check reads. */
  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  /** One frame as one event. The frames of one flush leave in one write (corked to the next tick). */
  send(text: string): void {
    if (this.readyState !== OPEN) return;
    const data = text.includes('\n') ? text.split('\n').join('\ndata: ') : text;
    this.write(`data: ${data}\n\n`);
  }

  /**
   * A keep-alive comment. Its "pong" is the kernel taking it: a stream whose peer stopped
   * reading never flushes it, so the gateway's heartbeat closes it as it closes a WebSocket
   * that misses a pong.
   */
  ping(): void {
    if (this.readyState !== OPEN) return;
    this.res.write(': ping\n\n', () => this.emit('pong'));
  }

  /** A frame POSTed for this stream, handed to the gateway as a WebSocket message is. */
  receive(text: string): void {
    if (this.readyState === OPEN) this.emit('message', Buffer.from(text), false);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState !== OPEN) return;
    this.write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
    this.res.end();
    this.finish(code, reason);
  }

  /** Cut the stream now (also after a close: shutdown ends streams whose close did not drain). */
  terminate(): void {
    // A stream whose close event has all left is done; one still writing is cut.
    if (!this.res.writableFinished) this.res.destroy();
    this.finish(1006, '');
  }

  private write(chunk: string): void {
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(() => {
        this.corked = false;
        this.res.uncork();
      });
    }
    this.res.write(chunk);
  }

  private finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit('close', code, Buffer.from(reason));
  }
}
