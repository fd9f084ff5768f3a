/**
 * The WebSocket gateway at `/v1/ws`: upgrade, auth handshake, heartbeats, request dispatch.
 *
 *   open → {"type":"auth","token"} within authTimeoutMs → {"type":"hello",…} → requests/events
 *
 * or, one round trip shorter, the token offered with the upgrade as a subprotocol
 * (`Sec-WebSocket-Protocol: parley, parley.auth.<token>`; the server selects `parley`, never
 * echoing the token): the hello follows the 101 with no frame from the client.
 *
 * Requests are parsed with the protocol's schemas and answered with a `reply` carrying their
 * `req_id`. A frame that is not JSON or of an unknown type gets an error reply and the socket
 * stays open. Handlers call the same actions as the REST routes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AuthFrame,
  CLIENT_REQUESTS,
  CLOSE_CODES,
  type ClientRequestType,
  DEVICE_KINDS,
  type DeviceKind,
  describeTextPattern,
  drainReason,
  type HelloFrame,
  PROTOCOL_VERSION,
  registerFormats,
  retryAfterReason,
  WS_AUTH_PREFIX,
  WS_PROTOCOL,
} from '@parley/protocol';
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import WebSocket, { WebSocketServer } from 'ws';
import { type AppContext, type Caller, verifyClaims } from '../platform/auth.js';
import { clientAddress } from '../platform/client-ip.js';
import { ApiError, toApiError } from '../platform/errors.js';
import { inSpan, tracingOn } from '../platform/tracing.js';
import type { Services } from '../services.js';
import type { BusMessage } from './broker.js';
import { Connection } from './connection.js';
import type { Ending } from './ending.js';
import type { SocketHandler, SocketHandlers } from './handlers.js';
import type { Opening } from './opening.js';
import { SseSocket } from './sse-socket.js';
import type { Subscription } from './subscription.js';

export type { Opening } from './opening.js';

// The request schemas use `date-time` and `email`: TypeBox refuses a format it has not been told.
registerFormats();
const authCheck = TypeCompiler.Compile(AuthFrame);

/**
 * The token a client offered with the upgrade, if any: undefined when it offered none (it will
 * send an auth frame), null when the offer is malformed (empty, too long, or several).
 */
export function upgradeToken(header: string | string[] | undefined): string | null | undefined {
  const offers = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(WS_AUTH_PREFIX));
  if (offers.length === 0) return undefined;
  const token = (offers[0] as string).slice(WS_AUTH_PREFIX.length);
  return offers.length === 1 && token.length > 0 && token.length <= 8192 ? token : null;
}
const requestChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(CLIENT_REQUESTS).map(([type, s]) => [type, TypeCompiler.Compile(s as TSchema)]),
);

/**
 * What features provide the gateway, so it queries no table itself: the opening of a
 * connection (one query), the channels' last seqs (for the catch-up of channels this node
 * was not subscribed to), and pages of a channel's event log.
 */
export interface GatewayHooks {
  open(svc: Services, appId: string, userId: string): Promise<Opening | null>;
  /**
   * The connection rate limits (per user and per IP): null to admit, or the ms to wait, which
   * the close (4006 OVERLOADED, `retry_after_ms=N`) tells the client.
   */
  admit?(svc: Services, appId: string, userId: string, ip: string | null): Promise<number | null>;
  lastSeqs(svc: Services, appId: string, cids: string[]): Promise<Map<string, number>>;
  readLog(
    svc: Services,
    appId: string,
    cid: string,
    after: number,
    limit: number,
    upTo?: number,
  ): Promise<{ seq: number; frame: string; shadowOf?: string | null }[]>;
  /** A connection closed (after its subscriptions were dropped); features that hold per-device state react. */
  closed?(svc: Services, conn: Connection): void;
  /**
   * Whether `caller` may still read `cid` (the channel policy's `read-channel`): asked when a
   * member who also watches the channel is removed, to end the watch of a channel that is not
   * theirs to read any more. Without it, a removal ends every watch.
   */
  mayRead?(svc: Services, caller: Caller & { kind: 'user' }, cid: string): Promise<boolean>;
  /**
   * A member was removed and the connection no longer receives the channel (not watching it,
   * or no longer allowed to read it): per-connection state about the channel ends (its view).
   */
  channelLost?(svc: Services, conn: Connection, cid: string): void;
}

/** Verified tokens, per app object (a new secret is a new object), until they expire; bounded. */
const verified = new WeakMap<AppContext, Map<string, { caller: Caller; until: number }>>();
const VERIFIED_MAX = 50_000;
const VERIFIED_TTL_MS = 5 * 60_000;

/**
 * `verifyToken`, remembered: a reconnect storm presents the same tokens again, and checking
 * an HS256 signature is a large part of an open's CPU. A token is remembered for at most five
 * minutes and never past its `exp`.
 */
async function verifyCached(app: AppContext, token: string): Promise<Caller> {
  let cache = verified.get(app);
  const now = Date.now();
  const hit = cache?.get(token);
  if (hit && hit.until > now) return hit.caller;
  const { caller, exp } = await verifyClaims(app, token);
  const until = Math.min(now + VERIFIED_TTL_MS, typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY);
  if (!cache) {
    cache = new Map();
    verified.set(app, cache);
  }
  if (cache.size >= VERIFIED_MAX) cache.clear();
  cache.set(token, { caller, until });
  return caller;
}

/**
 * What the upgrade request of each socket being opened said (read in `open`): its device kind,
 * and whether its client came back (`reconnect=1`, counted by realtime/stability.ts).
 */
const declaredOf = new WeakMap<object, { device: DeviceKind; reconnect: boolean }>();

function declared(query: URLSearchParams, userAgent: string | undefined) {
  return { device: deviceKind(query.get('device'), userAgent), reconnect: query.get('reconnect') === '1' };
}

/**
 * The kind of device a connection is on: the `device` query parameter the client declared, or
 * else a guess from the User-Agent (Electron: desktop; a phone or tablet browser: mobile).
 */
export function deviceKind(declared: string | null, userAgent: string | undefined): DeviceKind {
  if (declared && (DEVICE_KINDS as readonly string[]).includes(declared)) return declared as DeviceKind;
  const ua = userAgent ?? '';
  if (/Electron\//.test(ua)) return 'desktop';
  if (/Mobi|Android|iPhone|iPad|iPod/.test(ua)) return 'mobile';
  return 'web';
}

/** Heartbeat slices: each connection is pinged in one slice, one slice per tick. */
const HEARTBEAT_SLICES = 20;

export class Gateway {
  /** How long a drain waits for the requests being handled before it closes the sockets. */
  static readonly IN_FLIGHT_WAIT_MS = 5_000;
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  /**
   * Connections dealt out over the heartbeat's slices. Pinging every socket at once stalls
   * the event loop (one syscall per socket: ≈ 150–200 ms at 5,000 sockets on a small VM, a
   * latency spike for every delivery of that moment); a slice per tick spreads the same
   * pings over the interval, and each connection is still pinged once per `heartbeatMs`.
   */
  private readonly slices: Set<Connection>[];
  private nextSlice = 0;
  private tick = 0;
  private readonly pending = new Set<WebSocket>();
  private closing = false;
  /** Request frames being handled now, on every connection; the drain waits for them. */
  private inFlight = 0;
  private onIdle: (() => void) | null = null;
  /**
   * Admission: sockets between upgrade and hello. Beyond `maxOpeningSockets` a new socket is
   * closed at once with OVERLOADED and a retry hint, instead of joining a queue in which every
   * opening would time out together.
   */
  private opening = 0;
  /** Average ms from upgrade to hello (moving average), what an opening costs here now. */
  private openMs = 20;
  /** Refusals in the current second, to spread the retries of one burst. */
  private refused = 0;
  private refusedAt = 0;
  /** The client's address of an upgrade, by `PARLEY_TRUST_PROXY` as for REST. */
  private readonly clientIp: (req: IncomingMessage) => string | null;
  /** Connections opened with a token an account session minted, by that session's id. */
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly sessionOf = new Map<Connection, string>();
  /** Who each open connection is, for access checks the gateway makes on its own (a removal's watch). */
  private readonly callerOf = new WeakMap<Connection, Caller & { kind: 'user' }>();
  /** Open connections of the fallback transport (SSE + POST), by connection id: where a POST goes. */
  private readonly streams = new Map<string, Connection>();
  /** Every fallback-transport response still open, hello or not: shutdown ends them all. */
  private readonly streamSockets = new Set<SseSocket>();

  constructor(
    private readonly svc: Services,
    private readonly handlers: SocketHandlers,
    private readonly hooks: GatewayHooks,
  ) {
    this.clientIp = clientAddress(svc.config.trustProxy);
    // No permessage-deflate: besides its CPU and memory per socket, Connection writes each
    // event's pre-built frame straight to the socket (realtime/frame.ts), which is only correct
    // while no extension rewrites frames (it falls back to ws.send if one is ever negotiated).
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: svc.config.maxFrameBytes,
      perMessageDeflate: false,
      // Offered `parley` (with the token beside it): selected, so the client knows the token
      // was read. The token's own entry is never selected (it would echo the credential).
      handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    const slices = Math.max(1, Math.min(HEARTBEAT_SLICES, Math.floor(svc.config.heartbeatMs / 50)));
    this.slices = Array.from({ length: slices }, () => new Set<Connection>());
    this.heartbeat = setInterval(() => this.heartbeatTick(), svc.config.heartbeatMs / slices);
    this.heartbeat.unref();
    svc.hub.onUserEvent = (conn, msg) => this.userEvent(conn, msg);
    svc.chatSessions.onEnded = (ending) => this.sessionsEnded(ending);
  }

  /** Close this node's sockets whose token an ended account session (or membership) minted. */
  private sessionsEnded(ending: Ending): void {
    const doomed: Connection[] = [];
    if ('sessions' in ending) {
      for (const sid of ending.sessions) doomed.push(...(this.bySession.get(sid) ?? []));
    } else {
      for (const conn of this.svc.hub.connectionsOf(ending.appId, ending.userId))
        if (ending.user || this.sessionOf.has(conn)) doomed.push(conn);
    }
    const reason = ('reason' in ending && ending.reason) || 'signed out';
    for (const conn of doomed) conn.close(CLOSE_CODES.UNAUTHORIZED, reason);
  }

  /** Handle an HTTP upgrade for `/v1/ws`; other paths are refused. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/ws' || this.closing) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const offered = upgradeToken(req.headers['sec-websocket-protocol']);
    // With the token on the upgrade the client sends nothing before the hello, so the 101 can
    // wait for it: corked, the two (or the 101 and a refusal's close frame) leave in one write,
    // a syscall and a packet less per connect. Every way out of `accept` uncorks. No closure
    // for that: a socket's closures live as long as it does, and one made here would keep
    // this scope's request (2 KB) with it.
    const held = typeof offered === 'string' ? socket : null;
    held?.cork();
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.opening >= this.svc.config.maxOpeningSockets) {
        this.refuse(ws);
        held?.uncork();
        return;
      }
      declaredOf.set(ws, declared(url.searchParams, req.headers['user-agent']));
      void this.accept(ws, url.searchParams.get('api_key') ?? '', this.clientIp(req), offered, held);
    });
  }

  /**
   * Open a fallback-transport connection on `res`, a `text/event-stream` response whose headers
   * were written (stream-routes.ts). From here it is a socket like any other: the same admission,
   * handshake, hello, subscriptions, catch-up, requests and heartbeats, with `token` in the role
   * of the token offered with a WebSocket upgrade. Its frames up arrive through `post`.
   */
  handleStream(req: IncomingMessage, res: ServerResponse, apiKey: string, token: string): void {
    const socket = new SseSocket(res);
    this.streamSockets.add(socket);
    res.once('close', () => this.streamSockets.delete(socket));
    // SseSocket has the part of `ws`'s WebSocket the gateway and Connection use (sse-socket.ts).
    const ws = socket as unknown as WebSocket;
    if (this.closing) {
      socket.close(CLOSE_CODES.SHUTTING_DOWN, 'server shutting down');
      return;
    }
    if (this.opening >= this.svc.config.maxOpeningSockets) {
      this.refuse(ws);
      return;
    }
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    declaredOf.set(ws, declared(query, req.headers['user-agent']));
    void this.accept(ws, apiKey, this.clientIp(req), token, null);
  }

  /**
   * Frames POSTed for a fallback-transport connection, in order, handled exactly as a
   * WebSocket's frames are (their replies and errors go down the stream). Only the user who
   * opened the stream, in the app they opened it in, may post to it: for anyone else it does
   * not exist (NOT_FOUND, as for a closed or unknown one; the id says nothing to a stranger).
   */
  post(caller: Caller & { kind: 'user' }, connectionId: string, frames: string[]): void {
    const conn = this.streams.get(connectionId);
    if (!conn?.isOpen || conn.appId !== caller.app.id || conn.userId !== caller.userId)
      throw new ApiError('NOT_FOUND', 'No open stream with this connection id: open a new one (GET /v1/sse)');
    const socket = conn.ws as unknown as SseSocket;
    for (const f of frames) {
      if (Buffer.byteLength(f) > this.svc.config.maxFrameBytes) {
        // What `ws` does with a frame over maxPayload: the connection closes (1009, reconnect).
        conn.close(1009, 'frame too large');
        throw new ApiError('PAYLOAD_TOO_LARGE', `A frame is larger than ${this.svc.config.maxFrameBytes} bytes`);
      }
      socket.receive(f);
    }
  }

  /**
   * Too many sockets opening: close with OVERLOADED and when to come back. The hint spreads a
   * burst's refusals over the time the gateway needs to open that many: the opening's average
   * cost times how many were refused this second per admission slot.
   */
  private refuse(ws: WebSocket): void {
    const now = Date.now();
    if (now - this.refusedAt > 1_000) {
      this.refused = 0;
      this.refusedAt = now;
    }
    this.refused++;
    const slots = Math.max(1, this.svc.config.maxOpeningSockets);
    const hint = Math.min(30_000, Math.max(100, this.openMs * (1 + this.refused / slots)));
    ws.on('error', () => ws.terminate());
    ws.close(CLOSE_CODES.OVERLOADED, retryAfterReason(hint));
  }

  /**
   * From upgrade to hello. `offered`: the token of the upgrade's subprotocol (undefined: none
   * was offered, the first frame must be an auth frame; null: a malformed offer, refused).
   * `held`: the socket whose 101 is corked (`handleUpgrade`), uncorked once the handshake is
   * over, behind the hello or the refusal's close frame.
   */
  private async accept(
    ws: WebSocket,
    apiKey: string,
    ip: string | null,
    offered: string | null | undefined,
    held: Duplex | null,
  ): Promise<void> {
    try {
      await this.handshake(ws, apiKey, ip, offered);
    } finally {
      held?.uncork();
    }
  }

  /** Authenticate and open `ws`, or close it with the reason; resolves when either is done. */
  private async handshake(
    ws: WebSocket,
    apiKey: string,
    ip: string | null,
    offered: string | null | undefined,
  ): Promise<void> {
    const { svc } = this;
    const started = performance.now();
    this.opening++;
    let admitted = true;
    const done = () => {
      if (!admitted) return;
      admitted = false;
      this.opening--;
    };
    // The handshake's own end, should the socket close first. Taken off once the connection is
    // open (below), so an open connection keeps no listener of its handshake (each held a
    // closure, its scope and a once-wrapper: bench/heap-diff.ts).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closedEarly = () => {
      clearTimeout(timer);
      this.pending.delete(ws);
      done();
    };
    ws.once('close', closedEarly);
    const opened = () => {
      if (admitted) this.openMs += (performance.now() - started - this.openMs) / 16;
      done();
    };
    this.pending.add(ws);
    ws.on('error', () => ws.terminate());
    // Listen from the first moment: a client sends auth as soon as it is open (often with
    // requests right behind it), while the key lookup and the opening below are still
    // awaiting. `ws` drops a frame nobody listens for, so they wait in the inbox instead.
    const inbox = new Inbox(ws);
    let app: Awaited<ReturnType<typeof svc.apps.byKey>>;
    try {
      app = apiKey ? await svc.apps.byKey(apiKey) : null;
    } catch (err) {
      // The key could not be checked (database down): not UNKNOWN_APP, which tells the client
      // never to retry. 1013 (try again later) is outside 4500–4999, so clients reconnect.
      svc.log.error({ err }, 'socket app lookup failed');
      this.pending.delete(ws);
      ws.close(1013, 'server unavailable, retry later');
      return;
    }
    if (!app) {
      this.pending.delete(ws);
      ws.close(CLOSE_CODES.UNKNOWN_APP, 'unknown api_key');
      return;
    }
    // Only a token still to come by frame can be late: one offered with the upgrade is here.
    if (offered === undefined)
      timer = setTimeout(() => ws.close(CLOSE_CODES.AUTH_TIMEOUT, 'auth timeout'), svc.config.authTimeoutMs);
    // The token: offered with the upgrade, or the first frame's (a frame that is not a good
    // auth frame is refused like a bad token).
    const token: Promise<string> =
      offered === undefined
        ? inbox.next().then(([data, isBinary]) => {
            const frame: unknown = JSON.parse(isBinary ? '' : data.toString());
            if (!authCheck.Check(frame))
              throw new ApiError('UNAUTHORIZED', 'The first frame must be {"type":"auth","token":"…"}');
            return frame.token;
          })
        : offered === null
          ? Promise.reject(new ApiError('UNAUTHORIZED', `Offer one token, as ${WS_AUTH_PREFIX}<token>`))
          : Promise.resolve(offered);
    let caller: Caller;
    let epoch: number;
    try {
      const presented = await token;
      clearTimeout(timer);
      // Endings seen from here on: one that lands while this socket opens is checked again.
      epoch = svc.chatSessions.epoch;
      caller = await verifyCached(app, presented);
      if (caller.kind !== 'user') throw new ApiError('UNAUTHORIZED', 'Sockets need a user token');
      if (caller.sessionId && !(await svc.chatSessions.check(caller.app.id, caller.userId, caller.sessionId)))
        throw new ApiError('UNAUTHORIZED', 'This token was signed out');
      svc.metrics.handshakes.inc({
        via: (ws as unknown) instanceof SseSocket ? 'stream' : offered === undefined ? 'frame' : 'upgrade',
      });
    } catch (err) {
      this.pending.delete(ws);
      const message = err instanceof ApiError ? err.message : 'invalid auth frame';
      ws.close(CLOSE_CODES.UNAUTHORIZED, message.slice(0, 120));
      return;
    }
    try {
      const wait = this.hooks.admit ? await this.hooks.admit(svc, caller.app.id, caller.userId, ip) : null;
      if (wait !== null) {
        this.pending.delete(ws);
        ws.close(CLOSE_CODES.OVERLOADED, retryAfterReason(wait));
        return;
      }
      await this.open(ws, caller, inbox, epoch, opened);
      // Open (or closed and counted): nothing is left for the handshake's listener to do.
      if (!admitted) ws.removeListener('close', closedEarly);
    } catch (err) {
      // A typed refusal at open (a deleted user's token): closed like a bad token.
      if (err instanceof ApiError) {
        ws.close(CLOSE_CODES.UNAUTHORIZED, err.message.slice(0, 120));
        return;
      }
      svc.log.error({ err }, 'socket open failed');
      ws.close(1011, 'internal error');
    } finally {
      this.pending.delete(ws);
    }
  }

  private async open(
    ws: WebSocket,
    caller: Caller & { kind: 'user' },
    inbox: Inbox,
    epoch: number,
    opened: () => void,
  ): Promise<void> {
    const { svc } = this;
    if (ws.readyState !== WebSocket.OPEN) return;
    const opening = await this.hooks.open(svc, caller.app.id, caller.userId);
    if (opening?.deleted) throw new ApiError('UNAUTHORIZED', 'This user was deleted');
    if (!opening || ws.readyState !== WebSocket.OPEN) return;
    if (opening.banned) {
      ws.close(CLOSE_CODES.BANNED, 'banned from this app');
      return;
    }
    const memberships = opening.channels;

    const conn = new Connection(
      randomUUID(),
      ws,
      caller.app.id,
      caller.userId,
      opening.user,
      svc.config.maxQueuedBytes,
      svc.metrics,
    );
    const said = declaredOf.get(ws);
    declaredOf.delete(ws);
    conn.device = said?.device ?? 'web';
    conn.reconnect = said?.reconnect ?? false;
    svc.hub.addConnection(conn);
    this.callerOf.set(conn, caller);
    const sid = caller.sessionId;
    if (sid) {
      let set = this.bySession.get(sid);
      if (!set) {
        set = new Set();
        this.bySession.set(sid, set);
      }
      set.add(conn);
      this.sessionOf.set(conn, sid);
      // An ending published between the check and now found no socket to close: ask again.
      if (svc.chatSessions.epoch !== epoch)
        void svc.chatSessions.check(caller.app.id, caller.userId, sid).then(
          (ok) => ok || conn.close(CLOSE_CODES.UNAUTHORIZED, 'signed out'),
          () => {},
        );
    }
    const slice = this.slices[this.nextSlice++ % this.slices.length] as Set<Connection>;
    slice.add(conn);
    // Subscribed now, each at the seq the opening read. What the node fanned out of a channel
    // since that read is replayed from the log; a channel this node was not subscribed to may
    // have had events published before now, so its seq is read again (one query for all).
    const behind: { sub: Subscription; after: number; upTo: number }[] = [];
    const unknown: { sub: Subscription; after: number }[] = [];
    for (const m of memberships) {
      const { sub, created, nodeSeq } = svc.hub.subscribe(conn, m.cid, m.lastSeq, 'member');
      if (!created) continue;
      if (nodeSeq === null) {
        sub.hold(); // released by the catch-up
        unknown.push({ sub, after: m.lastSeq });
      } else if (nodeSeq > m.lastSeq) {
        sub.hold();
        behind.push({ sub, after: m.lastSeq, upTo: nodeSeq });
      }
    }
    svc.metrics.openSockets.inc();
    svc.stability.opened(caller.app.id, conn.reconnect);
    svc.presence.connected(caller.app.id, caller.userId, opening.user, opening.dnd, conn.device);
    // Object.assign, not `{ ...user, presence }`: V8 gives each object made by a spread followed
    // by a new property a hidden class of its own (about 500 bytes a connection, measured with
    // bench/heap-diff.ts), where Object.assign's copies share one.
    conn.user = Object.assign({}, opening.user, { presence: svc.presence.shownStateOf(caller.app.id, caller.userId) });

    const hello: HelloFrame = {
      type: 'hello',
      user: conn.user,
      connection_id: conn.id,
      protocol_version: PROTOCOL_VERSION,
      channels: Object.fromEntries(memberships.map((m) => [m.cid, m.lastSeq])),
      ...(svc.dataEpoch ? { epoch: svc.dataEpoch } : {}),
      ...(opening.flags ? { flags: opening.flags } : {}),
    };
    conn.send(JSON.stringify(hello));
    // Now, not at the tick's flush: a held 101 leaves with it (`handleUpgrade`).
    conn.flush();
    opened();
    // Not awaited: requests must not wait behind it (a watch of the same channel is safe: each
    // subscription decides what it sends, whichever replay reads an event).
    if (behind.length > 0 || unknown.length > 0)
      this.catchUp(conn, behind, unknown).catch((err: unknown) => svc.log.warn({ err }, 'connect catch-up failed'));

    ws.on('pong', () => {
      conn.awaitingPong = false;
    });
    inbox.handle((data, isBinary) => {
      conn.awaitingPong = false;
      // onFrame answers every failure itself; a throw that escapes it is a bug, logged, never
      // an unhandled rejection (which would end the process).
      this.inFlight++;
      this.onFrame(conn, caller, isBinary ? null : data.toString())
        .catch((err: unknown) => svc.log.error({ err }, 'socket frame failed'))
        .finally(() => {
          if (--this.inFlight === 0) this.onIdle?.();
        });
    });
    const stream = ws instanceof SseSocket;
    if (stream) this.streams.set(conn.id, conn);
    ws.once('close', () => {
      if (stream) this.streams.delete(conn.id);
      slice.delete(conn);
      if (sid) {
        this.sessionOf.delete(conn);
        const set = this.bySession.get(sid);
        set?.delete(conn);
        if (set?.size === 0) this.bySession.delete(sid);
      }
      svc.hub.removeConnection(conn);
      svc.metrics.openSockets.dec();
      svc.stability.closed(caller.app.id);
      svc.presence.disconnected(caller.app.id, caller.userId, conn.device);
      if (svc.hub.connectionsOf(caller.app.id, caller.userId).size === 0)
        svc.typing.stopAll(caller.app.id, caller.userId);
      this.hooks.closed?.(svc, conn);
    });
  }

  private async onFrame(conn: Connection, caller: Caller & { kind: 'user' }, text: string | null): Promise<void> {
    const { svc } = this;
    let frame: unknown;
    try {
      if (text === null) throw new SyntaxError('binary');
      frame = JSON.parse(text);
    } catch {
      svc.metrics.framesIn.inc({ type: 'invalid' });
      conn.replyError(null, { code: 'BAD_JSON', message: 'Frames must be JSON text' });
      return;
    }
    // `null` is JSON too: reading a field of it threw, outside any reply (and, unhandled, ended
    // the process).
    const f = (frame !== null && typeof frame === 'object' ? frame : {}) as { type?: unknown; req_id?: unknown };
    const reqId = typeof f.req_id === 'number' && Number.isSafeInteger(f.req_id) ? f.req_id : null;
    const type = typeof f.type === 'string' ? f.type : '';
    const check = requestChecks.get(type);
    svc.metrics.framesIn.inc({ type: check ? type : 'unknown' });
    if (!check) {
      conn.replyError(reqId, { code: 'VALIDATION_ERROR', message: `Unknown frame type "${type.slice(0, 40)}"` });
      return;
    }
    if (!check.Check(frame)) {
      const details = [...check.Errors(frame)]
        .slice(0, 5)
        .map((e) => ({ path: e.path, message: describeTextPattern(e.schema.pattern) ?? e.message }));
      conn.replyError(reqId, { code: 'VALIDATION_ERROR', message: `Invalid ${type} frame`, details });
      return;
    }
    svc.presence.activity(caller.app.id, caller.userId);
    const handler = this.handlers[type as ClientRequestType] as SocketHandler<ClientRequestType> | undefined;
    try {
      if (!handler) throw new ApiError('VALIDATION_ERROR', `Unsupported frame type "${type}"`);
      // The app as it is now, not as it was at the hello: a socket once kept the permission
      // overrides and automod lists of its connect for as long as it stayed open. The registry
      // forgets an app on every node when it changes (platform/tenancy.ts), so this is a Map
      // read but for the first frame after a change.
      // While one frame waits for that read, later frames wait behind it (not on a read of their
      // own, which could end first): handlers start in frame order, which sends rely on
      // (features/messages/send-order.ts).
      let app = conn.appRead ? undefined : svc.apps.cached(caller.app.apiKey);
      if (!app) {
        const key = caller.app.apiKey;
        const readApp = () => svc.apps.cached(key) ?? svc.apps.byKey(key);
        const read = (conn.appRead ?? Promise.resolve()).then(readApp, readApp);
        conn.appRead = read;
        try {
          app = await read;
        } finally {
          if (conn.appRead === read) conn.appRead = null;
        }
      }
      if (!app || app.id !== caller.app.id) {
        conn.close(CLOSE_CODES.UNKNOWN_APP, 'This app no longer exists');
        return;
      }
      const now = app === caller.app ? caller : { ...caller, app };
      const run = () => handler({ svc, conn, caller: now }, frame as never);
      // A span per request frame when tracing is on (platform/tracing.ts), its action inside it.
      const body = tracingOn()
        ? await inSpan(`ws ${type}`, run, {
            kind: 'server',
            parent: null,
            attributes: { 'parley.frame': type, 'parley.connection_id': conn.id },
          })
        : await run();
      if (reqId !== null) conn.reply(reqId, body ?? {});
    } catch (err) {
      const { error, unexpected } = toApiError(err);
      if (unexpected) svc.log.error({ err, frame: type }, 'socket request failed');
      conn.replyError(reqId, error.toBody().error);
    }
  }

  /**
   * Events committed between the opening's read and the subscription reached no socket of
   * this connection: they are replayed from the log, then the live events held meanwhile go
   * out, deduplicated (Subscription.replay). `behind`: the node fanned out up to a known seq;
   * `unknown`: the node was not subscribed, so the channels' seqs are read again first.
   */
  private async catchUp(
    conn: Connection,
    behind: { sub: Subscription; after: number; upTo: number }[],
    unknown: { sub: Subscription; after: number }[],
  ): Promise<void> {
    const { svc, hooks } = this;
    const read = (cid: string) => (after: number, limit: number, upTo: number | undefined) =>
      hooks.readLog(svc, conn.appId, cid, after, limit, upTo);
    try {
      for (const b of behind) await b.sub.replayHeld(read(b.sub.cid), { after: b.after, upTo: b.upTo });
      if (unknown.length > 0) {
        const now = await hooks.lastSeqs(
          svc,
          conn.appId,
          unknown.map((u) => u.sub.cid),
        );
        for (const u of unknown) {
          const last = now.get(u.sub.cid) ?? u.after;
          if (last > u.after) await u.sub.replayHeld(read(u.sub.cid), { after: u.after, upTo: last });
        }
      }
    } finally {
      for (const b of behind) b.sub.release();
      for (const u of unknown) u.sub.release();
    }
  }

  /** Per-user bus messages: membership changes move subscriptions before the frame goes out. */
  private userEvent(conn: Connection, msg: BusMessage): void {
    if (msg.conn !== undefined && msg.conn !== conn.id) return;
    if (msg.type === 'channel.added' && msg.cid) {
      const seq = msg.seq ?? (JSON.parse(msg.frame) as { channel?: { last_seq?: number } }).channel?.last_seq ?? 0;
      this.svc.hub.subscribe(conn, msg.cid, seq, 'member');
    } else if (msg.type === 'channel.removed' && msg.cid) {
      this.memberRemoved(conn, msg.cid);
    } else if (msg.type === 'user.banned') {
      // An app-wide ban of this connection's user: tell it why, then close (4503: do not
      // reconnect). The event reaches the user's topic on every node, so every socket closes.
      const e = JSON.parse(msg.frame) as { user_id?: string; ban?: { cid?: string | null } };
      if (e.user_id === conn.userId && !e.ban?.cid) {
        conn.send(msg.frame);
        // The event (and whatever was queued before it) goes out before the close frame.
        conn.closeAfterQueued(CLOSE_CODES.BANNED, 'banned from this app');
        return;
      }
    }
    conn.send(msg.frame);
  }

  /**
   * The user stopped being a member of `cid`: the membership subscription ends. A watch of the
   * channel on this connection outlives it only if the user may still read the channel (a
   * public one, or staff); a private channel's watch would otherwise keep sending a former
   * member its events (a space's room after leaving the space). Until the policy answers, the
   * subscription holds what arrives; refused, it ends and the held events are dropped unsent.
   */
  private memberRemoved(conn: Connection, cid: string): void {
    const { svc } = this;
    const sub = conn.subs.get(cid);
    if (!sub) return;
    svc.hub.unsubscribe(conn, cid, 'member');
    const lost = () => this.hooks.channelLost?.(svc, conn, cid);
    if (!sub.watching) {
      lost();
      return;
    }
    if (conn.subs.get(cid) !== sub) return;
    const caller = this.callerOf.get(conn);
    if (!caller || !this.hooks.mayRead) {
      svc.hub.unsubscribe(conn, cid, 'watching');
      lost();
      return;
    }
    sub.hold();
    this.hooks.mayRead(svc, caller, cid).then(
      (ok) => {
        if (ok) sub.release();
        else if (conn.subs.get(cid) === sub) {
          svc.hub.unsubscribe(conn, cid, 'watching');
          lost();
        }
      },
      (err: unknown) => {
        // Fail closed: the client can watch again once the database answers.
        svc.log.warn({ err, cid }, 'read check after a removal failed; the watch ends');
        if (conn.subs.get(cid) === sub) {
          svc.hub.unsubscribe(conn, cid, 'watching');
          lost();
        }
      },
    );
  }

  /** One heartbeat slice: close who missed the last ping, ping the rest (the timer's tick). */
  heartbeatTick(): void {
    const slice = this.slices[this.tick++ % this.slices.length] as Set<Connection>;
    for (const conn of slice) {
      if (conn.awaitingPong) {
        conn.close(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        conn.ws.terminate();
        continue;
      }
      conn.awaitingPong = true;
      if (conn.isOpen) conn.ws.ping();
    }
  }

  /**
   * The drain's socket part (the node has already stopped taking connections): requests being
   * handled finish and their replies go out (for at most `IN_FLIGHT_WAIT_MS`), then every socket
   * is closed with SHUTTING_DOWN and a `reconnect_within_ms` hint that spreads the reconnects
   * over the other nodes' admission (about 2,000 a second: half a millisecond per socket, from
   * 250 ms to 10 s). Resolves when they are closed (or after a bound).
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    if (this.inFlight > 0)
      await new Promise<void>((resolve) => {
        const bound = setTimeout(resolve, Gateway.IN_FLIGHT_WAIT_MS);
        bound.unref();
        this.onIdle = () => {
          clearTimeout(bound);
          resolve();
        };
      });
    this.onIdle = null;
    const sockets = [...this.wss.clients];
    const conns = [...this.svc.hub.allConnections()];
    const reason = drainReason(Math.min(10_000, Math.max(250, (conns.length + this.pending.size) / 2)));
    for (const conn of conns) conn.closeAfterQueued(CLOSE_CODES.SHUTTING_DOWN, reason);
    for (const ws of this.pending) ws.close(CLOSE_CODES.SHUTTING_DOWN, reason);
    await Promise.race([
      Promise.all(
        sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? null : new Promise((r) => ws.once('close', r)))),
      ),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.streamSockets) s.terminate();
    this.wss.close();
  }
}

type Frame = [data: WebSocket.RawData, isBinary: boolean];

/** Frames that arrived before anyone took them, in order; bounded, as nothing reads them yet. */
class Inbox {
  private static readonly MAX_HELD = 100;
  private held: Frame[] = [];
  private handler: ((data: WebSocket.RawData, isBinary: boolean) => void) | null = null;

  private readonly listener = (data: WebSocket.RawData, isBinary: boolean) => {
    if (this.handler) {
      this.handler(data, isBinary);
      return;
    }
    if (this.held.length >= Inbox.MAX_HELD) {
      this.ws.close(CLOSE_CODES.PROTOCOL_VIOLATION, 'too many frames before hello');
      return;
    }
    this.held.push([data, isBinary]);
  };

  constructor(private readonly ws: WebSocket) {
    ws.on('message', this.listener);
  }

  /** The next frame, held or yet to come. */
  next(): Promise<Frame> {
    const first = this.held.shift();
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => {
      this.handler = (data, isBinary) => {
        this.handler = null;
        resolve([data, isBinary]);
      };
    });
  }

  /**
   * Every frame from now on, the held ones first. `fn` becomes the socket's own listener and
   * the inbox lets go of it: an open connection keeps no inbox.
   */
  handle(fn: (data: WebSocket.RawData, isBinary: boolean) => void): void {
    for (const [data, isBinary] of this.held.splice(0)) fn(data, isBinary);
    this.ws.removeListener('message', this.listener);
    this.ws.on('message', fn);
  }
}
