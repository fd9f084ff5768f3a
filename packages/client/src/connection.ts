/**
 * The socket: auth handshake (the token offered with the upgrade, or as the first frame),
 * request/reply by `req_id`, heartbeats that notice a dead connection, and reconnection with
 * exponential backoff and jitter. It knows nothing about channels; the client feeds it frames
 * and receives events.
 */
import {
  CLOSE_CODES,
  type ClientRequestType,
  type HelloFrame,
  ProtocolError,
  parseServerFrame,
  type ReplyBody,
  type RequestBody,
  reconnectWithinMs,
  retryAfterMs,
  type ServerEvent,
  shouldReconnect,
  WS_AUTH_PREFIX,
  WS_PROTOCOL,
} from '@parley/protocol';
import { disconnected, ParleyError } from './errors.js';
import { type FetchLike, SseSocket } from './sse-socket.js';

/** The subset of the WebSocket API we use: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' or absent: none). */
  readonly protocol?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = new (url: string, protocols?: string[]) => SocketLike;

/**
 * How the connection reaches the server: a WebSocket, the fallback transport (a server-sent
 * event stream down, POSTs up; for networks whose proxies refuse WebSocket upgrades), or
 * `auto`: a WebSocket first, the fallback after an upgrade that fails, and a WebSocket again
 * every few reconnects (`WS_RETRY_AFTER`), so a client that moved to a better network goes back.
 */
export type Transport = 'auto' | 'websocket' | 'sse';

/** In `auto`, after this many streams on the fallback transport the next reconnect tries a WebSocket again. */
export const WS_RETRY_AFTER = 5;

/** A token the upgrade can carry (RFC 7230 token characters; a JWT always fits). */
const OFFERABLE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8000}$/;

export interface ConnectionOptions {
  url: string;
  apiKey: string;
  /** Needed unless `transport` is `sse`. */
  WebSocket?: SocketFactory;
  /** Default `auto` (see `Transport`). */
  transport?: Transport;
  /** A streaming fetch, for the fallback transport; default: the global one. */
  fetch?: FetchLike;
  /** Called for a token before each connect; `refresh` is true after the server refused one. */
  token(refresh: boolean): Promise<string>;
  onHello(hello: HelloFrame, reconnected: boolean): void;
  /** Every event frame, parsed (frames that do not parse are dropped; see `onFrame`). */
  onEvent(event: ServerEvent): void;
  onState(state: 'connecting' | 'online' | 'reconnecting' | 'offline'): void;
  /**
   * Offer the token with the upgrade (a subprotocol), one round trip shorter than the auth
   * frame (default true). A socket offered this way that fails before opening (a server or
   * proxy that refuses the offer) is retried with the auth frame, and back.
   */
  tokenInProtocol?: boolean;
  /** The device kind declared to the server (the `device` query parameter); default: it reads the User-Agent. */
  device?: 'web' | 'desktop' | 'mobile';
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  requestTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

interface Pending {
  /** The reply's body: the protocol's `ReplyBody` of the request's type (see `request`). */
  resolve(v: unknown): void;
  reject(e: ParleyError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export class Connection {
  private ws: SocketLike | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextReq = 1;
  private attempts = 0;
  private everConnected = false;
  private stopped = true;
  /** Stopped by `pause()` (the network or the app said so), not for good: `resume()` may start again. */
  private paused = false;
  private refreshToken = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private helloWaiters: { resolve(h: HelloFrame): void; reject(e: Error): void }[] = [];
  private online = false;
  private readonly cleanup: (() => void)[] = [];
  /** Each open() and drop() moves it: a token that arrives for an older attempt is dropped. */
  private attempt = 0;
  /** An attempt is between open() and its socket (waiting for the token). */
  private preparing = false;
  /** This attempt offers the token with the upgrade (else it sends the auth frame). */
  private viaProtocol: boolean;
  /** The transport of the next attempt (and of the current socket). */
  private mode: 'websocket' | 'sse';
  /** Streams that said hello on the fallback transport since a WebSocket was last tried (`auto`). */
  private sseHellos = 0;

  constructor(private readonly o: ConnectionOptions) {
    this.viaProtocol = o.tokenInProtocol !== false;
    this.mode = o.transport === 'sse' || !o.WebSocket ? 'sse' : 'websocket';
  }

  /** The transport of the open connection ('websocket' or 'sse'), or null while not online. */
  get transport(): 'websocket' | 'sse' | null {
    return this.online ? this.mode : null;
  }

  private get auto(): boolean {
    return (this.o.transport ?? 'auto') === 'auto' && this.o.WebSocket !== undefined;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Connect (and keep reconnecting); resolves on the first hello, rejects if auth is refused for good. */
  start(): Promise<HelloFrame> {
    this.stopped = false;
    this.paused = false;
    this.watchBrowser();
    const p = new Promise<HelloFrame>((resolve, reject) => this.helloWaiters.push({ resolve, reject }));
    this.open();
    return p;
  }

  /** Close for good: no reconnect, pending requests fail. */
  stop(): void {
    this.stopped = true;
    this.paused = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const c of this.cleanup.splice(0)) c();
    this.drop(1000, 'client disconnect');
    this.o.onState('offline');
    for (const w of this.helloWaiters.splice(0))
      w.reject(new ParleyError('DISCONNECTED', 'disconnected', { retryable: false }));
  }

  /** Drop the current socket as if the network failed (tests, and `offline` events); reconnects. */
  kill(): void {
    this.drop(4000, 'client dropped the connection');
    this.scheduleReconnect(0);
  }

  /**
   * Send a request frame and wait for its reply. The reply is typed by the protocol's
   * `REQUEST_REPLIES`; its body is the server's (checked as an envelope only, like every frame).
   */
  request<K extends ClientRequestType>(
    type: K,
    fields: RequestBody<K>,
    timeoutMs = this.o.requestTimeoutMs ?? 15_000,
  ): Promise<ReplyBody<K>> {
    const ws = this.ws;
    if (!ws || !this.online || ws.readyState !== OPEN) return Promise.reject(disconnected());
    const req_id = this.nextReq++;
    return new Promise<ReplyBody<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req_id);
        reject(new ParleyError('TIMEOUT', `No reply to ${type} in ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      // The one place a reply meets its request's type: the server answers `req_id` with the
      // reply of the request it was given.
      this.pending.set(req_id, { resolve: (v) => resolve(v as ReplyBody<K>), reject, timer });
      try {
        ws.send(JSON.stringify({ type, req_id, ...fields }));
      } catch {
        clearTimeout(timer);
        this.pending.delete(req_id);
        reject(disconnected());
      }
    });
  }

  private open(): void {
    if (this.stopped) return;
    this.o.onState(this.everConnected ? 'reconnecting' : 'connecting');
    const url = `${this.o.url.replace(/^http/, 'ws').replace(/\/$/, '')}/v1/ws?api_key=${encodeURIComponent(this.o.apiKey)}${this.deviceQuery()}`;
    const attempt = ++this.attempt;
    // Back to a WebSocket now and then: the network that refused upgrades may be gone.
    if (this.auto && this.mode === 'sse' && this.sseHellos >= WS_RETRY_AFTER) {
      this.mode = 'websocket';
      this.sseHellos = 0;
    }
    // The stream carries the token in its request: it always needs one first.
    const viaProtocol = this.viaProtocol || this.mode === 'sse';
    if (!viaProtocol) {
      this.connect(url, null);
      return;
    }
    // The token first: it goes with the upgrade.
    this.preparing = true;
    this.o
      .token(this.refreshToken)
      .then((token) => {
        if (attempt !== this.attempt || this.stopped) return;
        this.preparing = false;
        this.connect(url, OFFERABLE.test(token) ? token : null);
      })
      .catch(() => {
        if (attempt !== this.attempt || this.stopped) return;
        this.preparing = false;
        this.scheduleReconnect();
      });
  }

  /** Open the socket; `token`: offered with the upgrade, or null to send it as the auth frame. */
  private connect(url: string, token: string | null): void {
    let ws: SocketLike;
    const WS = this.o.WebSocket;
    try {
      if (this.mode === 'sse' || !WS) ws = this.openStream(token ?? '');
      else ws = token === null ? new WS(url) : new WS(url, [WS_PROTOCOL, WS_AUTH_PREFIX + token]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      // The server read the offered token only if it selected `parley`; else, the frame, with
      // the token this attempt already holds (or a fresh one when it offered none).
      if (token !== null && ws.protocol === WS_PROTOCOL) return;
      (token !== null ? Promise.resolve(token) : this.o.token(this.refreshToken))
        .then((t) => {
          if (this.ws === ws && ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'auth', token: t }));
        })
        .catch(() => this.drop(4000, 'token provider failed'));
    };
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const stream = ws instanceof SseSocket;
      if (!opened && stream && this.auto) {
        // A stream that failed to open (a server that is down, for which either is as good):
        // a WebSocket next.
        this.mode = 'websocket';
      } else if (!opened && !stream) {
        // A WebSocket that failed before opening: the other way of giving the token next (a
        // refused offer, or a server that is down). In `auto`, when the token already went
        // by frame (or never goes with the upgrade), the upgrade itself is what fails (a proxy
        // that refuses them): the stream next, at once.
        if (this.auto && (token === null || this.o.tokenInProtocol === false)) {
          this.mode = 'sse';
          this.viaProtocol = this.o.tokenInProtocol !== false;
          this.afterClose(ev.code, ev.reason, true);
          return;
        }
        if (this.o.tokenInProtocol !== false) this.viaProtocol = !this.viaProtocol;
      }
      this.afterClose(ev.code, ev.reason);
    };
  }

  /** A socket of the fallback transport (sse-socket.ts). */
  private openStream(token: string): SocketLike {
    const f = this.o.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
    if (!f) throw new Error('No fetch implementation for the fallback transport');
    const base = this.o.url.replace(/^ws/, 'http').replace(/\/$/, '');
    return new SseSocket(base, this.o.apiKey, token, f, this.deviceQuery());
  }

  /**
   * `&device=…` when the client declared its device kind, and `&reconnect=1` on every connect
   * after the first hello (the server counts reconnects per connection-hour from it).
   */
  private deviceQuery(): string {
    return (
      (this.o.device ? `&device=${encodeURIComponent(this.o.device)}` : '') + (this.everConnected ? '&reconnect=1' : '')
    );
  }

  private onFrame(ws: SocketLike, data: unknown): void {
    if (this.ws !== ws) return;
    const frame = parseServerFrame(typeof data === 'string' ? data : String(data));
    // Not JSON, malformed, or of a type this SDK does not know (a newer server's event): dropped.
    if (frame instanceof ProtocolError) return;
    switch (frame.type) {
      case 'hello': {
        const reconnected = this.everConnected;
        this.everConnected = true;
        this.online = true;
        this.attempts = 0;
        this.refreshToken = false;
        if (this.mode === 'sse') this.sseHellos++;
        else this.sseHellos = 0;
        this.startPings();
        this.o.onState('online');
        this.o.onHello(frame, reconnected);
        for (const w of this.helloWaiters.splice(0)) w.resolve(frame);
        return;
      }
      case 'reply': {
        if (frame.req_id === null) return;
        const p = this.pending.get(frame.req_id);
        if (!p) return;
        this.pending.delete(frame.req_id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame);
        else p.reject(new ParleyError(frame.error.code, frame.error.message, { details: frame.error.details }));
        return;
      }
      default:
        this.o.onEvent(frame);
    }
  }

  /** `now`: reconnect at once (a failed upgrade falling back to the stream), not after a backoff. */
  private afterClose(code: number, reason: string, now = false): void {
    this.online = false;
    this.stopPings();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(disconnected());
      this.pending.delete(id);
    }
    if (this.stopped) return;
    if (code === CLOSE_CODES.UNAUTHORIZED) this.refreshToken = true;
    if (!shouldReconnect(code)) {
      this.stopped = true;
      this.o.onState('offline');
      for (const w of this.helloWaiters.splice(0))
        w.reject(new ParleyError('UNAUTHORIZED', reason || `closed with ${code}`, { retryable: false }));
      return;
    }
    // A refused token on the very first connect, twice in a row, is final: tell the caller.
    if (code === CLOSE_CODES.UNAUTHORIZED && !this.everConnected && this.attempts >= 1) {
      for (const w of this.helloWaiters.splice(0))
        w.reject(new ParleyError('UNAUTHORIZED', reason || 'token refused', { retryable: false }));
    }
    // The server is opening as many sockets as it can: come back when it says, not before,
    // with up to half the hint again as jitter so the refused do not return together.
    const hint = code === CLOSE_CODES.OVERLOADED ? retryAfterMs(reason) : null;
    if (hint !== null) {
      this.scheduleReconnect(Math.round(hint + Math.random() * (hint / 2)));
      return;
    }
    // The node is draining and no longer takes connections: back at once (to another node),
    // at a random moment within the hint, so its sockets do not all arrive in one instant.
    const spread = code === CLOSE_CODES.SHUTTING_DOWN ? reconnectWithinMs(reason) : null;
    if (spread !== null) {
      this.scheduleReconnect(Math.round(Math.random() * spread));
      return;
    }
    this.scheduleReconnect(now ? 0 : undefined);
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.stopped || this.retryTimer) return;
    this.o.onState(this.everConnected ? 'reconnecting' : 'connecting');
    const min = this.o.backoffMinMs ?? 250;
    const max = this.o.backoffMaxMs ?? 15_000;
    // Full jitter: a server restart must not be answered by every client at the same instant.
    const base = Math.min(max, min * 2 ** this.attempts);
    const delay = delayMs ?? Math.round(base / 2 + Math.random() * (base / 2));
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  private drop(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = null;
    // An attempt still fetching its token is abandoned too.
    this.attempt++;
    this.preparing = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Keep an error handler: closing a socket that is still connecting makes `ws` emit
      // "closed before the connection was established" later, and an `error` event with no
      // listener would crash a Node process.
      ws.onerror = () => {};
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
      this.afterCloseQuiet();
    }
  }

  private afterCloseQuiet(): void {
    this.online = false;
    this.stopPings();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(disconnected());
      this.pending.delete(id);
    }
  }

  /** Ping on an interval; a ping with no reply in time means the socket is dead. */
  private startPings(): void {
    this.stopPings();
    this.pingTimer = setInterval(() => this.checkAlive(), this.o.pingIntervalMs ?? 15_000);
  }

  private checkAlive(): void {
    if (!this.online) return;
    this.request('ping', {}, this.o.pongTimeoutMs ?? 10_000).catch((e: ParleyError) => {
      if (e.code === 'TIMEOUT') this.kill();
    });
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /**
   * The network is back, or the app came to the foreground: with no socket, connect now (not
   * after the backoff, which starts over); with one, ping it, since a socket the OS froze in
   * the background can look open and be dead (no answer in time drops it and reconnects).
   * Browsers call it on `online` and when the tab is shown; React Native on a NetInfo change
   * and on AppState `active`.
   */
  resume(): void {
    if (this.stopped && !this.paused) return;
    this.stopped = false;
    this.paused = false;
    if (this.ws || this.preparing) {
      this.checkAlive();
      return;
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempts = 0;
    this.open();
  }

  /**
   * The network is gone, or the app went to the background: close the socket and stay offline,
   * without retrying, until `resume()`. Pending requests fail as on any drop; unsent messages
   * wait in the outbox.
   */
  pause(reason = 'client paused'): void {
    if (this.stopped) return;
    this.paused = true;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.drop(4000, reason);
    this.o.onState('offline');
  }

  /** Browsers: reconnect at once when the network returns; check the socket when the tab is shown. */
  private watchBrowser(): void {
    const g = globalThis as unknown as {
      addEventListener?: (t: string, f: () => void) => void;
      removeEventListener?: (t: string, f: () => void) => void;
      document?: {
        visibilityState?: string;
        addEventListener?: (t: string, f: () => void) => void;
        removeEventListener?: (t: string, f: () => void) => void;
      };
    };
    if (!g.addEventListener || !g.removeEventListener || this.cleanup.length) return;
    const onOnline = () => this.resume();
    const onOffline = () => this.pause('browser offline');
    const onVisible = () => {
      if (g.document?.visibilityState === 'visible' && !this.stopped) this.checkAlive();
    };
    g.addEventListener('online', onOnline);
    g.addEventListener('offline', onOffline);
    g.document?.addEventListener?.('visibilitychange', onVisible);
    this.cleanup.push(() => {
      g.removeEventListener?.('online', onOnline);
      g.removeEventListener?.('offline', onOffline);
      g.document?.removeEventListener?.('visibilitychange', onVisible);
    });
  }
}
