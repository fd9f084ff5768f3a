/**
 * The connection's write path over real loopback `ws` sockets (and a fake socket for the
 * fallback): frames pre-encoded once and written straight to the TCP socket must reach a real
 * `ws` client as the same text, in order, batched once per tick across up to `FLUSH_CHUNK`
 * connections, the rest on the next tick.
 */
import type { AddressInfo } from 'node:net';
import { CLOSE_CODES } from '@parley/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Metrics } from '../platform/metrics.js';
import { Connection, FLUSH_CHUNK } from './connection.js';
import { OutFrame } from './frame.js';

const user = {
  id: 'u1',
  name: 'u1',
  username: null,
  image: null,
  role: 'user',
  created_at: '',
  updated_at: '',
} as const;

function fakeMetrics() {
  const framesOut = vi.fn();
  const slowConsumers = vi.fn();
  return {
    metrics: { framesOut: { inc: framesOut }, slowConsumers: { inc: slowConsumers } } as unknown as Metrics,
    framesOut,
    slowConsumers,
  };
}

/** A socket with no `_socket` under it, as tests elsewhere use: only `send` is there. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith: number | null = null;
  send(frame: string) {
    this.sent.push(frame);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = WebSocket.CLOSED;
  }
  terminate() {
    this.readyState = WebSocket.CLOSED;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

interface Pair {
  server: WebSocket;
  client: WebSocket;
  /** Text frames the client has received, in order. */
  received: string[];
  /** Resolves once the client has `n` frames. */
  until(n: number): Promise<string[]>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});

/** `n` real server/client socket pairs on one loopback server. */
async function pairs(n: number, perMessageDeflate = false): Promise<Pair[]> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const out: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = new WebSocket(url, { perMessageDeflate });
    const received: string[] = [];
    const waiters: (() => void)[] = [];
    client.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      received.push(data.toString());
      for (const w of waiters.splice(0)) w();
    });
    await new Promise((r) => client.once('open', r));
    const server = await accepted;
    const until = async (k: number) => {
      while (received.length < k) await new Promise<void>((r) => waiters.push(r));
      return received;
    };
    out.push({ server, client, received, until });
  }
  cleanups.push(async () => {
    for (const p of out) p.client.terminate();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  return out;
}

const connect = (ws: WebSocket, metrics: Metrics, maxQueuedBytes = 1 << 20) =>
  new Connection('c', ws, 'app', 'u1', user, maxQueuedBytes, metrics);

describe('Connection write path', () => {
  it('delivers pre-framed bytes that a ws client reads as the same text, at every length', async () => {
    const [p] = await pairs(1);
    const send = vi.spyOn(p!.server, 'send');
    const conn = connect(p!.server, fakeMetrics().metrics);
    const texts = [
      '{"type":"ping"}',
      'x'.repeat(125),
      'x'.repeat(126),
      JSON.stringify({ text: 'héllo wörld 🌍 中文 — ✓'.repeat(40) }), // > 125 bytes, multi-byte
      'y'.repeat(65535),
      JSON.stringify({ text: 'é🌍'.repeat(20_000) }), // > 65535 bytes: 64-bit length
      '',
    ];
    for (const t of texts) {
      conn.send(new OutFrame(t));
      await tick(); // one frame per flush: the uncorked single-write path
    }
    for (const t of texts) conn.send(t); // and all in one flush: the corked path
    expect(await p!.until(texts.length * 2)).toEqual([...texts, ...texts]);
    expect(send).not.toHaveBeenCalled(); // every frame took the direct write
  });

  it('keeps frames in order per connection, across ticks, shared events and replies', async () => {
    const ps = await pairs(3);
    const { metrics } = fakeMetrics();
    const conns = ps.map((p) => connect(p.server, metrics));
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      const f = new OutFrame(JSON.stringify({ type: 'message.new', seq: i + 1 }));
      for (const c of conns) c.send(f);
      expected.push(f.text);
      if (i % 7 === 0) {
        for (const c of conns) c.reply(i, { n: i });
        expected.push(JSON.stringify({ type: 'reply', req_id: i, ok: true, n: i }));
      }
      if (i % 50 === 0) await tick();
    }
    for (const p of ps) expect(await p.until(expected.length)).toEqual(expected);
  });

  it('writes events delivered to subscribed connections in seq order, each once', async () => {
    const ps = await pairs(2);
    const conns = ps.map((p) => connect(p.server, fakeMetrics().metrics));
    for (const c of conns) c.putSub('ch', c.newSubscription('ch', 0));
    const frames = Array.from({ length: 200 }, (_, i) => new OutFrame(`{"seq":${i + 1}}`));
    for (const [i, f] of frames.entries()) {
      for (const c of conns) {
        c.deliver('ch', i + 1, f);
        c.deliver('ch', i + 1, f); // a duplicate is dropped
      }
      if (i % 3 === 0) await tick();
    }
    for (const p of ps) expect(await p.until(200)).toEqual(frames.map((f) => f.text));
  });

  it('flushes every connection with one setImmediate per tick, and counts frames once', async () => {
    const { metrics, framesOut } = fakeMetrics();
    const sockets = Array.from({ length: 100 }, () => new FakeSocket());
    const conns = sockets.map((s) => connect(s as unknown as WebSocket, metrics));
    const immediate = vi.spyOn(globalThis, 'setImmediate');
    const f = new OutFrame('{"type":"message.new"}');
    for (const c of conns) {
      c.send(f);
      c.send('{"type":"typing"}');
    }
    expect(immediate).toHaveBeenCalledTimes(1);
    immediate.mockRestore();
    expect(sockets[0]!.sent).toEqual([]); // nothing before the flush
    await tick();
    for (const s of sockets) expect(s.sent).toEqual(['{"type":"message.new"}', '{"type":"typing"}']);
    expect(framesOut).toHaveBeenCalledTimes(1);
    expect(framesOut).toHaveBeenCalledWith(200);
  });

  it('writes a fan-out wider than FLUSH_CHUNK over several ticks, each connection still in order', async () => {
    const { metrics, framesOut } = fakeMetrics();
    const n = FLUSH_CHUNK * 2 + 17;
    const sockets = Array.from({ length: n }, () => new FakeSocket());
    const conns = sockets.map((s) => connect(s as unknown as WebSocket, metrics));
    const immediate = vi.spyOn(globalThis, 'setImmediate');
    for (const c of conns) c.send('{"seq":1}');
    expect(immediate).toHaveBeenCalledTimes(1);
    immediate.mockRestore();
    await tick();
    // One chunk this turn: the loop is free for other I/O before the next.
    const written = () => sockets.filter((s) => s.sent.length > 0).length;
    expect(written()).toBe(FLUSH_CHUNK);
    // New frames between chunks: a flushed connection is queued again, a waiting one keeps its
    // place and writes both frames in order.
    const first = conns[0] as Connection;
    const last = conns[n - 1] as Connection;
    first.send('{"seq":2}');
    last.send('{"seq":2}');
    await tick();
    expect(written()).toBe(FLUSH_CHUNK * 2);
    await tick();
    await tick();
    for (const s of sockets.slice(1, -1)) expect(s.sent).toEqual(['{"seq":1}']);
    expect(sockets[0]!.sent).toEqual(['{"seq":1}', '{"seq":2}']);
    expect(sockets[n - 1]!.sent).toEqual(['{"seq":1}', '{"seq":2}']);
    expect(framesOut.mock.calls.reduce((a, [k]) => a + (k as number), 0)).toBe(n + 2);
  });

  it('closes after its queued frames, even when its place in a wide flush is a turn away', async () => {
    const ps = await pairs(1);
    const { metrics } = fakeMetrics();
    // Fill the first chunk, so the real connection's flush would come a turn later.
    const others = Array.from({ length: FLUSH_CHUNK }, () => new FakeSocket());
    for (const s of others) connect(s as unknown as WebSocket, metrics).send('{"type":"x"}');
    const conn = connect(ps[0]!.server, metrics);
    conn.send('{"type":"message.new","seq":7}');
    conn.send('{"type":"user.banned"}');
    const closed = new Promise<number>((r) => ps[0]!.client.once('close', (code) => r(code)));
    conn.closeAfterQueued(CLOSE_CODES.BANNED, 'banned from this app');
    expect(await closed).toBe(CLOSE_CODES.BANNED);
    expect(ps[0]!.received).toEqual(['{"type":"message.new","seq":7}', '{"type":"user.banned"}']);
    await tick();
    await tick();
  });

  it('falls back to ws.send when there is no raw socket', async () => {
    const socket = new FakeSocket();
    const conn = connect(socket as unknown as WebSocket, fakeMetrics().metrics);
    conn.send(new OutFrame('{"a":"ü"}'));
    conn.send('{"b":2}');
    await tick();
    expect(socket.sent).toEqual(['{"a":"ü"}', '{"b":2}']);
  });

  it('falls back to ws.send when an extension (permessage-deflate) was negotiated', async () => {
    const [p] = await pairs(1, true);
    expect(p!.server.extensions).toContain('permessage-deflate');
    const send = vi.spyOn(p!.server, 'send');
    const conn = connect(p!.server, fakeMetrics().metrics);
    const text = JSON.stringify({ text: 'é'.repeat(2000) });
    conn.send(new OutFrame(text));
    conn.send('{"b":2}');
    expect(await p!.until(2)).toEqual([text, '{"b":2}']);
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('closes a slow consumer once queued plus buffered bytes pass the limit', async () => {
    const socket = new FakeSocket();
    const { metrics, slowConsumers } = fakeMetrics();
    const conn = connect(socket as unknown as WebSocket, metrics, 1000);
    conn.send('x'.repeat(600));
    socket.bufferedAmount = 500;
    conn.send('y'); // 602 queued bytes + 500 buffered > 1000
    expect(socket.closedWith).toBe(CLOSE_CODES.SLOW_CONSUMER);
    expect(slowConsumers).toHaveBeenCalledTimes(1);
    await tick();
    expect(socket.sent).toEqual([]); // the queue is dropped with the connection
  });

  it('closes a real socket whose reader stopped, counting direct writes as buffered', async () => {
    const [p] = await pairs(1);
    const { metrics, slowConsumers } = fakeMetrics();
    const conn = connect(p!.server, metrics, 4 << 20);
    // The client stops reading: the kernel buffers fill, then the server socket's own buffer.
    (p!.client as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = new OutFrame('z'.repeat(256 * 1024));
    let rounds = 0;
    while (conn.isOpen && rounds < 400) {
      conn.send(big);
      await tick();
      rounds++;
    }
    expect(conn.isOpen).toBe(false);
    expect(rounds).toBeGreaterThan(1);
    expect(slowConsumers).toHaveBeenCalledTimes(1);
    expect(p!.server.bufferedAmount).toBeGreaterThan(0);
  });

  it('lets a lazy frame wait for the next frame that may not, then both leave in order in one flush', async () => {
    const ws = new FakeSocket();
    const conn = connect(ws as unknown as WebSocket, fakeMetrics().metrics);
    conn.sendLazy('{"type":"unread.updated","n":1}', 5_000);
    conn.sendLazy('{"type":"unread.updated","n":2}', 5_000);
    await new Promise((r) => setTimeout(r, 60)); // past two hold ticks: still held
    expect(ws.sent).toEqual([]);
    conn.send('{"type":"message.new"}');
    await tick();
    expect(ws.sent).toEqual([
      '{"type":"unread.updated","n":1}',
      '{"type":"unread.updated","n":2}',
      '{"type":"message.new"}',
    ]);
    // Held again after that flush: a new hold, not the spent one.
    conn.sendLazy('{"type":"unread.updated","n":3}', 5_000);
    await tick();
    expect(ws.sent).toHaveLength(3);
  });

  it('writes a lazy frame alone once its hold is over, and at once with no hold', async () => {
    const ws = new FakeSocket();
    const conn = connect(ws as unknown as WebSocket, fakeMetrics().metrics);
    const t0 = performance.now();
    conn.sendLazy('a', 80);
    await tick();
    expect(ws.sent).toEqual([]);
    while (ws.sent.length === 0 && performance.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(ws.sent).toEqual(['a']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    conn.sendLazy('b', 0);
    await tick();
    expect(ws.sent).toEqual(['a', 'b']);
  });

  it('drops the held frames of a connection closed before their time, and the hold lets it go', async () => {
    const ws = new FakeSocket();
    const conn = connect(ws as unknown as WebSocket, fakeMetrics().metrics);
    conn.sendLazy('a', 30);
    conn.close(1000, 'bye');
    await new Promise((r) => setTimeout(r, 80)); // past its hold: nothing may come, so no condition to wait for
    expect(ws.sent).toEqual([]);
    expect(conn.releaseIfDue(performance.now())).toBe(true);
  });

  it('holds frames while a channel replays and releases them in seq order, each once', () => {
    const ws = new FakeSocket();
    const conn = connect(ws as unknown as WebSocket, fakeMetrics().metrics);
    const sent: string[] = [];
    conn.send = (f) => {
      sent.push(typeof f === 'string' ? f : f.text);
    };
    const sub = conn.newSubscription('ch', 0);
    conn.putSub('ch', sub);
    sub.hold();
    conn.deliver('ch', 2, '{"seq":2}');
    conn.deliver('ch', 1, new OutFrame('{"seq":1}'));
    conn.deliver('ch', 2, '{"seq":2}');
    expect(sent).toEqual([]);
    sub.release();
    expect(sent).toEqual(['{"seq":1}', '{"seq":2}']);
  });
});
