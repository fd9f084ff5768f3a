/**
 * The WebSocket gateway at `/v1/ws`: upgrade, auth handshake, heartbeats, request dispatch.
 *
 *   open → {"type":"auth","token"} within authTimeoutMs → {"type":"hello",…} → requests/events
 *
 * Requests are parsed with the protocol's schemas and answered with a `reply` carrying their
 * `req_id`. A frame that is not JSON or of an unknown type gets an error reply and the socket
 * stays open. Handlers call the same actions as the REST routes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AuthFrame,
  CLIENT_REQUESTS,
  CLOSE_CODES,
  type ClientRequestType,
  type HelloFrame,
  PROTOCOL_VERSION,
} from '@parley/protocol';
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { and, eq, inArray } from 'drizzle-orm';
import WebSocket, { WebSocketServer } from 'ws';
import type { Ending } from '../features/accounts/chat-sessions.js';
import { readEvents } from '../features/events/log.js';
import { ensureUser } from '../features/users/actions.js';
import { presentUser } from '../features/users/present.js';
import { type Caller, verifyToken } from '../platform/auth.js';
import { schema } from '../platform/db/index.js';
import { ApiError, toApiError } from '../platform/errors.js';
import type { Services } from '../services.js';
import type { BusMessage } from './broker.js';
import { Connection } from './connection.js';
import type { SocketHandler, SocketHandlers } from './handlers.js';

const authCheck = TypeCompiler.Compile(AuthFrame);
const requestChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(CLIENT_REQUESTS).map(([type, s]) => [type, TypeCompiler.Compile(s as TSchema)]),
);

/** Heartbeat slices: each connection is pinged in one slice, one slice per tick. */
const HEARTBEAT_SLICES = 20;

export class Gateway {
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
  /** Connections opened with a token an account session minted, by that session's id. */
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly sessionOf = new Map<Connection, string>();

  constructor(
    private readonly svc: Services,
    private readonly handlers: SocketHandlers,
  ) {
    // No permessage-deflate: besides its CPU and memory per socket, Connection writes each
    // event's pre-built frame straight to the socket (realtime/frame.ts), which is only correct
    // while no extension rewrites frames (it falls back to ws.send if one is ever negotiated).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: svc.config.maxFrameBytes, perMessageDeflate: false });
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
        if (this.sessionOf.has(conn)) doomed.push(conn);
    }
    for (const conn of doomed) conn.close(CLOSE_CODES.UNAUTHORIZED, 'signed out');
  }

  /** Handle an HTTP upgrade for `/v1/ws`; other paths are refused. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/ws' || this.closing) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.accept(ws, url.searchParams.get('api_key') ?? '');
    });
  }

  private async accept(ws: WebSocket, apiKey: string): Promise<void> {
    const { svc } = this;
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
    const timer = setTimeout(() => ws.close(CLOSE_CODES.AUTH_TIMEOUT, 'auth timeout'), svc.config.authTimeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      this.pending.delete(ws);
    });
    void inbox.next().then(([data, isBinary]) => {
      clearTimeout(timer);
      void (async () => {
        let caller: Caller;
        // Endings seen from here on: one that lands while this socket opens is checked again.
        const epoch = svc.chatSessions.epoch;
        try {
          const frame: unknown = JSON.parse(isBinary ? '' : data.toString());
          if (!authCheck.Check(frame))
            throw new ApiError('UNAUTHORIZED', 'The first frame must be {"type":"auth","token":"…"}');
          caller = await verifyToken(app, frame.token);
          if (caller.kind !== 'user') throw new ApiError('UNAUTHORIZED', 'Sockets need a user token');
          if (caller.sessionId && !(await svc.chatSessions.check(caller.app.id, caller.userId, caller.sessionId)))
            throw new ApiError('UNAUTHORIZED', 'This token was signed out');
        } catch (err) {
          this.pending.delete(ws);
          const message = err instanceof ApiError ? err.message : 'invalid auth frame';
          ws.close(CLOSE_CODES.UNAUTHORIZED, message.slice(0, 120));
          return;
        }
        try {
          await this.open(ws, caller, inbox, epoch);
        } catch (err) {
          svc.log.error({ err }, 'socket open failed');
          ws.close(1011, 'internal error');
        } finally {
          this.pending.delete(ws);
        }
      })();
    });
  }

  private async open(ws: WebSocket, caller: Caller & { kind: 'user' }, inbox: Inbox, epoch: number): Promise<void> {
    const { svc } = this;
    if (ws.readyState !== WebSocket.OPEN) return;
    await ensureUser(svc, caller.app.id, caller.userId);
    const [userRow] = await svc.db
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId)));
    const memberships = await svc.db
      .select({ cid: schema.members.cid, lastSeq: schema.channels.lastSeq })
      .from(schema.members)
      .innerJoin(
        schema.channels,
        and(eq(schema.channels.appId, schema.members.appId), eq(schema.channels.cid, schema.members.cid)),
      )
      .where(and(eq(schema.members.appId, caller.app.id), eq(schema.members.userId, caller.userId)));
    if (!userRow || ws.readyState !== WebSocket.OPEN) return;

    const conn = new Connection(
      randomUUID(),
      ws,
      caller.app.id,
      caller.userId,
      presentUser(userRow),
      svc.config.maxQueuedBytes,
      svc.metrics,
    );
    svc.hub.addConnection(conn);
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
    for (const m of memberships) {
      svc.hub.subscribe(conn, m.cid, m.lastSeq, { member: true });
      const sub = conn.subs.get(m.cid);
      if (sub && sub.held === null) sub.held = []; // held until the catch-up below
    }
    svc.metrics.openSockets.inc();
    svc.presence.connected(caller.app.id, caller.userId);
    conn.user = presentUser(userRow, svc.presence.stateOf(caller.app.id, caller.userId));

    const hello: HelloFrame = {
      type: 'hello',
      user: conn.user,
      connection_id: conn.id,
      protocol_version: PROTOCOL_VERSION,
      channels: Object.fromEntries(memberships.map((m) => [m.cid, m.lastSeq])),
    };
    conn.send(JSON.stringify(hello));
    // Not awaited: requests must not wait behind it (a watch of the same channel is safe, as the
    // catch-up covers seqs above hello's and a replay those at or below them).
    this.catchUp(conn, memberships).catch((err: unknown) => svc.log.warn({ err }, 'connect catch-up failed'));

    ws.on('pong', () => {
      conn.awaitingPong = false;
    });
    inbox.handle((data, isBinary) => {
      conn.awaitingPong = false;
      void this.onFrame(conn, caller, isBinary ? null : data.toString());
    });
    ws.once('close', () => {
      slice.delete(conn);
      if (sid) {
        this.sessionOf.delete(conn);
        const set = this.bySession.get(sid);
        set?.delete(conn);
        if (set?.size === 0) this.bySession.delete(sid);
      }
      svc.hub.removeConnection(conn);
      svc.metrics.openSockets.dec();
      svc.presence.disconnected(caller.app.id, caller.userId);
      if (svc.hub.connectionsOf(caller.app.id, caller.userId).size === 0)
        svc.typing.stopAll(caller.app.id, caller.userId);
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
    const f = frame as { type?: unknown; req_id?: unknown };
    const reqId = typeof f.req_id === 'number' && Number.isSafeInteger(f.req_id) ? f.req_id : null;
    const type = typeof f.type === 'string' ? f.type : '';
    const check = requestChecks.get(type);
    svc.metrics.framesIn.inc({ type: check ? type : 'unknown' });
    if (!check) {
      conn.replyError(reqId, { code: 'VALIDATION_ERROR', message: `Unknown frame type "${type.slice(0, 40)}"` });
      return;
    }
    if (!check.Check(frame)) {
      const details = [...check.Errors(frame)].slice(0, 5).map((e) => ({ path: e.path, message: e.message }));
      conn.replyError(reqId, { code: 'VALIDATION_ERROR', message: `Invalid ${type} frame`, details });
      return;
    }
    svc.presence.activity(caller.app.id, caller.userId);
    const handler = this.handlers[type as ClientRequestType] as SocketHandler<ClientRequestType> | undefined;
    try {
      if (!handler) throw new ApiError('VALIDATION_ERROR', `Unsupported frame type "${type}"`);
      const body = await handler({ svc, conn, caller }, frame as never);
      if (reqId !== null) conn.reply(reqId, body ?? {});
    } catch (err) {
      const { error, unexpected } = toApiError(err);
      if (unexpected) svc.log.error({ err, frame: type }, 'socket request failed');
      conn.replyError(reqId, error.toBody().error);
    }
  }

  /**
   * An event committed between reading the counters and subscribing reached no socket of this
   * connection. So the counters are read again after subscribing (one query), any such events
   * are replayed from the log, and then the live events held meanwhile go out, deduplicated.
   */
  private async catchUp(conn: Connection, memberships: { cid: string; lastSeq: number }[]): Promise<void> {
    if (memberships.length === 0) return;
    const { svc } = this;
    const known = new Map(memberships.map((m) => [m.cid, m.lastSeq]));
    try {
      const now = await svc.db
        .select({ cid: schema.channels.cid, lastSeq: schema.channels.lastSeq })
        .from(schema.channels)
        .where(and(eq(schema.channels.appId, conn.appId), inArray(schema.channels.cid, [...known.keys()])));
      for (const c of now) {
        const before = known.get(c.cid) ?? c.lastSeq;
        if (c.lastSeq <= before) continue;
        const missed = await readEvents(svc, conn.appId, c.cid, before, c.lastSeq - before, c.lastSeq);
        const sub = conn.subs.get(c.cid);
        const live = sub?.held ?? [];
        if (sub) sub.held = null;
        for (const e of missed) conn.deliver(c.cid, e.seq, e.frame);
        for (const e of live) conn.deliver(c.cid, e.seq, e.frame);
      }
    } finally {
      for (const cid of known.keys()) {
        const sub = conn.subs.get(cid);
        if (!sub?.held) continue;
        const live = sub.held;
        sub.held = null;
        for (const e of live) conn.deliver(cid, e.seq, e.frame);
      }
    }
  }

  /** Per-user bus messages: membership changes move subscriptions before the frame goes out. */
  private userEvent(conn: Connection, msg: BusMessage): void {
    if (msg.type === 'channel.added' && msg.cid) {
      const event = JSON.parse(msg.frame) as { channel?: { last_seq?: number } };
      const seq = event.channel?.last_seq ?? 0;
      this.svc.hub.subscribe(conn, msg.cid, seq, { member: true });
    } else if (msg.type === 'channel.removed' && msg.cid) {
      this.svc.hub.unsubscribe(conn, msg.cid, 'member');
    }
    conn.send(msg.frame);
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

  /** Close every socket with a reconnect code; resolves when they are closed (or after a bound). */
  async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    const sockets = [...this.wss.clients];
    for (const conn of this.svc.hub.allConnections()) conn.close(CLOSE_CODES.SHUTTING_DOWN, 'server shutting down');
    for (const ws of this.pending) ws.close(CLOSE_CODES.SHUTTING_DOWN, 'server shutting down');
    await Promise.race([
      Promise.all(
        sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? null : new Promise((r) => ws.once('close', r)))),
      ),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

type Frame = [data: WebSocket.RawData, isBinary: boolean];

/** Frames that arrived before anyone took them, in order; bounded, as nothing reads them yet. */
class Inbox {
  private static readonly MAX_HELD = 100;
  private held: Frame[] = [];
  private handler: ((data: WebSocket.RawData, isBinary: boolean) => void) | null = null;

  constructor(ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (this.handler) {
        this.handler(data, isBinary);
        return;
      }
      if (this.held.length >= Inbox.MAX_HELD) {
        ws.close(CLOSE_CODES.PROTOCOL_VIOLATION, 'too many frames before hello');
        return;
      }
      this.held.push([data, isBinary]);
    });
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

  /** Every frame from now on, the held ones first. */
  handle(fn: (data: WebSocket.RawData, isBinary: boolean) => void): void {
    for (const [data, isBinary] of this.held.splice(0)) fn(data, isBinary);
    this.handler = fn;
  }
}
