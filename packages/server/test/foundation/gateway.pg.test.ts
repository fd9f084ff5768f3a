/**
 * The WebSocket gateway on a real port: the auth handshake and its close codes, bad frames,
 * frame size, heartbeats and graceful shutdown.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { CLOSE_CODES, shouldReconnect, WS_AUTH_PREFIX, WS_PROTOCOL } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '../../src/platform/auth.js';
import { openDatabase } from '../../src/platform/db/index.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

const AUTH_TIMEOUT_MS = 400;
const MAX_FRAME = 4096;

let h: Harness;
let app: TestApp;
let url: string;
const sockets: TestSocket[] = [];

/** Track sockets so a failed test still closes them. */
function track(s: TestSocket): TestSocket {
  sockets.push(s);
  return s;
}
const open = async (key = app.apiKey) => track(await TestSocket.open(url, key));
const connect = async (user: string, on: Harness = h, a: TestApp = app) =>
  track(await TestSocket.connect(await on.listen(), a, user));
const wsUrl = (base: string, key: string) => `${base.replace(/^http/, 'ws')}/v1/ws?api_key=${encodeURIComponent(key)}`;
const auth = (s: TestSocket, token: string) => s.sendRaw(JSON.stringify({ type: 'auth', token }));

beforeAll(async () => {
  h = await startHarness({ authTimeoutMs: AUTH_TIMEOUT_MS, maxFrameBytes: MAX_FRAME });
  app = await h.createApp('gateway');
  await h.users(app, [{ id: 'alice', name: 'Alice' }]);
  url = await h.listen();
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await h?.close();
});

describe('handshake', () => {
  it('answers a valid token with hello', async () => {
    const s = await connect('alice');
    const hello = s.frames.find((f) => f.type === 'hello');
    expect(hello).toMatchObject({
      type: 'hello',
      user: { id: 'alice', name: 'Alice' },
      connection_id: expect.any(String),
    });
    s.close();
  });

  it('closes with 4001 for a forged token', async () => {
    const s = await open();
    auth(s, await signToken('sk_someone-else', 'alice'));
    expect((await s.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect(s.frames).toEqual([]);
  });

  it('closes with 4001 for an expired token', async () => {
    const s = await open();
    auth(s, await app.token('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 }));
    const closed = await s.waitClose();
    expect(closed.code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect(closed.reason).toMatch(/expired/i);
  });

  it('closes with 4001 for a server token, a first frame that is not auth, or not JSON', async () => {
    for (const first of [
      JSON.stringify({ type: 'auth', token: await app.token(null) }),
      JSON.stringify({ type: 'ping', req_id: 1 }),
      JSON.stringify({ type: 'auth' }),
      'not json at all',
    ]) {
      const s = await open();
      s.sendRaw(first);
      expect((await s.waitClose()).code, first).toBe(CLOSE_CODES.UNAUTHORIZED);
      expect(s.frames, first).toEqual([]);
    }
  });

  it('closes with 4501 for an unknown or missing api_key', async () => {
    for (const key of ['pk_nobody', '']) {
      const s = await open(key);
      expect((await s.waitClose()).code).toBe(CLOSE_CODES.UNKNOWN_APP);
    }
  });

  it('closes with a code that says "reconnect" (not 4501) when the API key cannot be checked', async () => {
    // Nothing listens on port 1: the database is down, so no key can be looked up.
    const database = await openDatabase({ url: 'postgres://parley@127.0.0.1:1/nothing', poolSize: 1 });
    const down = await startHarness({}, { database });
    try {
      const s = track(await TestSocket.open(await down.listen(), app.apiKey));
      const closed = await s.waitClose();
      expect(closed.code).not.toBe(CLOSE_CODES.UNKNOWN_APP);
      expect(shouldReconnect(closed.code)).toBe(true);
    } finally {
      await down.close();
      await database.close();
    }
  });

  it('does not lose an auth frame sent while the API key is still being looked up', async () => {
    const fresh = await h.createApp('slow-lookup');
    const apps = h.server.svc.apps;
    const byKey = apps.byKey;
    // Slow the real lookup down, so the client's auth frame surely arrives during it.
    apps.byKey = async (key: string) => {
      await new Promise((r) => setTimeout(r, 300)); // a slow lookup is the point
      return byKey.call(apps, key);
    };
    try {
      const token = await fresh.token('early-bird');
      const s = track(new TestSocket(new WebSocket(wsUrl(url, fresh.apiKey))));
      s.ws.once('open', () => auth(s, token));
      const hello = await s.waitFor((f) => f.type === 'hello', AUTH_TIMEOUT_MS + 5_000);
      expect(hello.user.id).toBe('early-bird');
      s.close();
    } finally {
      apps.byKey = byKey;
    }
  });

  it('answers requests pipelined right behind the auth frame, before hello', async () => {
    const token = await app.token('pipeliner');
    const s = track(new TestSocket(new WebSocket(wsUrl(url, app.apiKey))));
    s.ws.once('open', () => {
      auth(s, token);
      s.sendRaw(JSON.stringify({ type: 'ping', req_id: 1 }));
      s.sendRaw(JSON.stringify({ type: 'ping', req_id: 2 }));
    });
    const second = await s.waitFor((f) => f.type === 'reply' && f.req_id === 2);
    expect(second.ok).toBe(true);
    const order = s.frames.filter((f) => f.type === 'hello' || f.type === 'reply');
    expect(order.map((f) => (f.type === 'reply' ? f.req_id : f.type))).toEqual(['hello', 1, 2]);
    s.close();
  });

  it('closes with 4002 when no auth frame arrives within authTimeoutMs', async () => {
    const s = await open();
    const closed = await s.waitClose(AUTH_TIMEOUT_MS + 10_000);
    expect(closed.code).toBe(CLOSE_CODES.AUTH_TIMEOUT);
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/not-ws?api_key=${app.apiKey}`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    ws.terminate();
    expect([404, -1]).toContain(status);
    expect(status).not.toBe(101);
  });
});

describe('the token offered with the upgrade', () => {
  /** A socket offering these subprotocols; resolves once open (or closed before). */
  const offering = async (protocols: string[], key = app.apiKey) => {
    const s = track(new TestSocket(new WebSocket(wsUrl(url, key), protocols)));
    await new Promise<void>((resolve) => {
      s.ws.once('open', () => resolve());
      s.ws.once('close', () => resolve());
      s.ws.once('error', () => resolve());
    });
    return s;
  };

  const handshakes = async (via: string) =>
    Number(
      new RegExp(`^parley_ws_handshakes_total\\{[^}]*via="${via}"[^}]*\\} (\\d+)`, 'm').exec(
        (await h.app.inject({ method: 'GET', url: '/metrics' })).body,
      )?.[1] ?? 0,
    );

  it('answers hello with no frame from the client, and selects `parley`, never the token', async () => {
    const token = await app.token('alice');
    const [upgrades, frames] = [await handshakes('upgrade'), await handshakes('frame')];
    const s = await offering([WS_PROTOCOL, WS_AUTH_PREFIX + token]);
    expect(s.ws.protocol).toBe(WS_PROTOCOL);
    const hello = await s.waitFor((f) => f.type === 'hello');
    expect(hello.user.id).toBe('alice');
    expect([await handshakes('upgrade'), await handshakes('frame')]).toEqual([upgrades + 1, frames]);
    // The socket works like any other: requests are answered after hello.
    expect((await s.request('ping')).ok).toBe(true);
    // An auth frame after all is just an unknown request now, never a second handshake.
    s.sendRaw(JSON.stringify({ type: 'auth', token }));
    expect((await s.request('ping')).ok).toBe(true);
    expect(s.closed).toBeNull();
    s.close();
  });

  /**
   * A raw TCP client's upgrade offering `protocols`: the first bytes it reads, and how many
   * writes the server's socket handed the kernel up to then (`_write` and `_writev` are where a
   * Node socket's writes leave for a syscall; corked writes leave together in one `_writev`).
   */
  const firstRead = async (protocols: string[]) => {
    let writes = 0;
    h.app.server.once('connection', (s: Socket) => {
      const own = s as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
      for (const m of ['_write', '_writev'] as const) {
        const f = own[m];
        own[m] = function (this: Socket, ...a: unknown[]) {
          writes++;
          return f.apply(this, a);
        };
      }
    });
    const { hostname, port } = new URL(url);
    const sock = tcpConnect(Number(port), hostname);
    await once(sock, 'connect');
    sock.write(
      `GET /v1/ws?api_key=${app.apiKey} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols.join(', ')}\r\n\r\n`,
    );
    let got = Buffer.alloc(0);
    const end = () => got.indexOf('\r\n\r\n');
    // Until the headers and the first frame's first bytes are in.
    while (end() < 0 || got.length < end() + 8) got = Buffer.concat([got, ((await once(sock, 'data')) as [Buffer])[0]]);
    sock.destroy();
    return { head: got.subarray(0, end()).toString(), rest: got.subarray(end() + 4), writes };
  };

  it('writes the 101 and the hello together, in one write', async () => {
    const ok = await firstRead([WS_PROTOCOL, WS_AUTH_PREFIX + (await app.token('alice'))]);
    expect(ok.head).toMatch(/^HTTP\/1\.1 101 /);
    // An unmasked text frame (FIN + text = 0x81) carrying the hello right behind the headers.
    expect(ok.rest[0]).toBe(0x81);
    expect(ok.rest.toString('latin1')).toContain('"type":"hello"');
    expect(ok.writes).toBe(1);
    // A refusal's close frame (FIN + close = 0x88) rides with its 101 the same way.
    const refused = await firstRead([WS_PROTOCOL, `${WS_AUTH_PREFIX}not-a-jwt`]);
    expect(refused.head).toMatch(/^HTTP\/1\.1 101 /);
    expect(refused.rest[0]).toBe(0x88);
    expect(refused.rest.readUInt16BE(2)).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect(refused.writes).toBe(1);
  });

  it('refuses a bad, expired or server token offered so with 4001, before any frame', async () => {
    for (const token of [
      await signToken('sk_someone-else', 'alice'),
      await app.token('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await app.token(null),
      'not-a-jwt',
    ]) {
      const s = await offering([WS_PROTOCOL, WS_AUTH_PREFIX + token]);
      expect((await s.waitClose()).code, token).toBe(CLOSE_CODES.UNAUTHORIZED);
      expect(s.frames).toEqual([]);
    }
  });

  it('refuses two token offers, or an empty one, with 4001; an unknown key with 4501', async () => {
    const token = await app.token('alice');
    for (const protocols of [
      [WS_PROTOCOL, WS_AUTH_PREFIX + token, `${WS_AUTH_PREFIX}${token}x`],
      [WS_PROTOCOL, WS_AUTH_PREFIX],
    ]) {
      const s = await offering(protocols);
      expect((await s.waitClose()).code, protocols.join()).toBe(CLOSE_CODES.UNAUTHORIZED);
    }
    const s = await offering([WS_PROTOCOL, WS_AUTH_PREFIX + token], 'pk_nobody');
    expect((await s.waitClose()).code).toBe(CLOSE_CODES.UNKNOWN_APP);
  });

  it('offered `parley` without a token: the auth frame, as before (and a timeout without it)', async () => {
    const s = await offering([WS_PROTOCOL]);
    expect(s.ws.protocol).toBe(WS_PROTOCOL);
    auth(s, await app.token('alice'));
    expect((await s.waitFor((f) => f.type === 'hello')).user.id).toBe('alice');
    s.close();
    const idle = await offering([WS_PROTOCOL]);
    expect((await idle.waitClose(AUTH_TIMEOUT_MS + 10_000)).code).toBe(CLOSE_CODES.AUTH_TIMEOUT);
  });
});

describe('frames after hello', () => {
  it('answers a non-JSON frame with a BAD_JSON error and stays usable', async () => {
    const s = await connect('alice');
    s.sendRaw('{"type": "message.send", oops');
    const err = await s.waitFor((f) => f.type === 'reply' && f.ok === false);
    expect(err).toMatchObject({ type: 'reply', ok: false, error: { code: 'BAD_JSON', message: expect.any(String) } });
    const pong = await s.request('ping');
    expect(pong).toMatchObject({ type: 'reply', ok: true });
    expect(s.closed).toBeNull();
    s.close();
  });

  it('answers a binary frame with BAD_JSON and stays usable', async () => {
    const s = await connect('alice');
    s.ws.send(Buffer.from(JSON.stringify({ type: 'ping', req_id: 99 })), { binary: true });
    const err = await s.waitFor((f) => f.type === 'reply' && f.ok === false);
    expect(err.error.code).toBe('BAD_JSON');
    expect((await s.request('ping')).ok).toBe(true);
    s.close();
  });

  it('answers an unknown frame type with VALIDATION_ERROR carrying its req_id', async () => {
    const s = await connect('alice');
    s.sendRaw(JSON.stringify({ type: 'launch.rockets', req_id: 4242 }));
    const r = await s.waitFor((f) => f.type === 'reply' && f.req_id === 4242);
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    // A second auth frame is not a way to change identity: it is an unknown request.
    s.sendRaw(JSON.stringify({ type: 'auth', token: await app.token('mallory'), req_id: 4343 }));
    const again = await s.waitFor((f) => f.type === 'reply' && f.req_id === 4343);
    expect(again.ok).toBe(false);
    // An invalid known frame names what is wrong.
    s.sendRaw(JSON.stringify({ type: 'message.send', req_id: 4444, cid: 'group:x' }));
    const invalid = await s.waitFor((f) => f.type === 'reply' && f.req_id === 4444);
    expect(invalid).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR', details: expect.any(Array) } });
    expect((await s.request('ping')).ok).toBe(true);
    s.close();
  });

  it('closes with 1009 on a frame larger than maxFrameBytes', async () => {
    const s = await connect('alice');
    s.sendRaw(JSON.stringify({ type: 'ping', req_id: 1, pad: 'x'.repeat(MAX_FRAME + 100) }));
    expect((await s.waitClose()).code).toBe(1009);
  });

  it('accepts a frame just under maxFrameBytes', async () => {
    const s = await connect('alice');
    const r = await s.request('message.send', { cid: 'group:none', message: { text: 'y'.repeat(MAX_FRAME - 200) } });
    expect(r.ok).toBe(false);
    expect(r.error.code).toBe('NOT_FOUND');
    expect(s.closed).toBeNull();
    s.close();
  });
});

describe('heartbeat and shutdown', () => {
  const HEARTBEAT_MS = 300;
  let h2: Harness;
  let app2: TestApp;
  let closedByTest = false;

  beforeAll(async () => {
    h2 = await startHarness({ heartbeatMs: HEARTBEAT_MS });
    app2 = await h2.createApp('heartbeat');
    await h2.listen();
  });
  afterAll(async () => {
    if (!closedByTest) await h2?.app.close();
    await h2?.close();
  });

  const serverConnections = () => [...h2.server.svc.hub.allConnections()].length;

  it('drops a client that stops answering pings (4003) and keeps one that answers', async () => {
    const base = await h2.listen();
    const live = await connect('live', h2, app2);
    // A client that never answers pings: ws's autoPong off is what a dead peer looks like.
    const dead = track(new TestSocket(new WebSocket(wsUrl(base, app2.apiKey), { autoPong: false })));
    await new Promise((r) => dead.ws.once('open', r));
    auth(dead, await app2.token('dead'));
    await dead.waitFor((f) => f.type === 'hello');
    expect(serverConnections()).toBe(2);

    const closed = await dead.waitClose(HEARTBEAT_MS * 10 + 5_000);
    expect(closed.code).toBe(CLOSE_CODES.HEARTBEAT_TIMEOUT);
    await eventually(() => serverConnections() === 1);
    // The answering client outlived the dead one's two heartbeats and is still served.
    expect(live.closed).toBeNull();
    expect((await live.request('ping')).ok).toBe(true);
    live.close();
    await eventually(() => serverConnections() === 0);
  });

  it('pings a slice of the sockets per tick, each socket once per interval, never all at once', async () => {
    // A heartbeat far off, so only the ticks this test makes run.
    const h3 = await startHarness({ heartbeatMs: 600_000 });
    try {
      const app3 = await h3.createApp('slices');
      const base = await h3.listen();
      const pings = new Map<string, number>();
      const sockets: TestSocket[] = [];
      for (let i = 0; i < 40; i++) {
        const s = track(new TestSocket(new WebSocket(wsUrl(base, app3.apiKey))));
        await new Promise((r) => s.ws.once('open', r));
        s.ws.on('ping', () => pings.set(`u${i}`, (pings.get(`u${i}`) ?? 0) + 1));
        auth(s, await app3.token(`u${i}`));
        await s.waitFor((f) => f.type === 'hello');
        sockets.push(s);
      }
      const total = () => [...pings.values()].reduce((a, b) => a + b, 0);
      // 20 slices: one tick pings 40 / 20 sockets.
      h3.server.gateway.heartbeatTick();
      await eventually(() => total() === 2);
      for (let t = 1; t < 20; t++) h3.server.gateway.heartbeatTick();
      await eventually(() => total() === 40);
      expect([...pings.values()].every((n) => n === 1)).toBe(true);
      // Everyone answered (ws answers pings by itself): a second round closes nobody.
      for (const s of sockets) await s.request('ping');
      for (let t = 0; t < 20; t++) h3.server.gateway.heartbeatTick();
      await eventually(() => total() === 80);
      expect(sockets.every((s) => s.closed === null)).toBe(true);
      for (const s of sockets) s.close();
    } finally {
      await h3.close();
    }
  });

  it('drops a client whose socket stopped reading (paused), server side', async () => {
    const s = await connect('paused', h2, app2);
    expect(serverConnections()).toBe(1);
    // Stop reading at the TCP level: pings pile up unread, so no pong is ever sent.
    const raw = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    await eventually(() => serverConnections() === 0, HEARTBEAT_MS * 10 + 5_000);
    raw.resume();
    const closed = await s.waitClose();
    expect([CLOSE_CODES.HEARTBEAT_TIMEOUT, 1006]).toContain(closed.code);
  });

  it('closes open and still-authenticating sockets with 4005 on app.close()', async () => {
    const base = await h2.listen();
    const a = await connect('a', h2, app2);
    const b = await connect('b', h2, app2);
    const pending = track(await TestSocket.open(base, app2.apiKey));
    closedByTest = true;
    await h2.app.close();
    for (const s of [a, b, pending]) expect((await s.waitClose()).code).toBe(CLOSE_CODES.SHUTTING_DOWN);
    expect(serverConnections()).toBe(0);
  });
});
