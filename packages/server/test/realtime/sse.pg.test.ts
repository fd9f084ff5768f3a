/**
 * The fallback transport (SSE down, POST up) through a real port, with fetch as a browser or the
 * SDK would use it: its auth, who may post to a stream, an unknown or closed stream, limits, and
 * that it carries the WebSocket's frames with the same resume and order.
 */
import { SseParser } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

/** A stream read with fetch: its frames as they come, and how it ended. */
class TestStream {
  readonly frames: any[] = [];
  closedWith: { code: number; reason: string } | null = null;
  ended = false;
  private readonly abort = new AbortController();
  private nextReq = 1;
  connectionId = '';

  private constructor(
    private readonly app: TestApp,
    private readonly userId: string,
  ) {}

  static async open(app: TestApp, userId: string): Promise<TestStream> {
    const s = new TestStream(app, userId);
    const res = await fetch(`${base}/v1/sse?api_key=${app.apiKey}`, {
      headers: { authorization: `Bearer ${await app.token(userId)}` },
      signal: s.abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    void s.read(res);
    const hello = await s.waitFor((f) => f.type === 'hello');
    s.connectionId = hello.connection_id;
    return s;
  }

  private async read(res: Response): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const ev of parser.feed(decoder.decode(chunk, { stream: true }))) {
          if (ev.event === 'close') this.closedWith = JSON.parse(ev.data);
          else this.frames.push(JSON.parse(ev.data));
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  async waitFor(pred: (f: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > end) throw new Error(`no such frame; last: ${JSON.stringify(this.frames.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async post(frames: unknown[], as: { app?: TestApp; userId?: string; id?: string } = {}): Promise<Response> {
    const a = as.app ?? this.app;
    return fetch(`${base}/v1/sse/${as.id ?? this.connectionId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': a.apiKey,
        authorization: `Bearer ${await a.token(as.userId ?? this.userId)}`,
      },
      body: JSON.stringify({ frames }),
    });
  }

  /** Requests in one POST; resolves with their replies. */
  async request(...reqs: [string, Record<string, unknown>][]): Promise<any[]> {
    const ids = reqs.map(() => this.nextReq++);
    const r = await this.post(reqs.map(([type, fields], i) => ({ type, req_id: ids[i], ...fields })));
    expect(r.status).toBe(204);
    return Promise.all(ids.map((id) => this.waitFor((f) => f.type === 'reply' && f.req_id === id)));
  }

  close(): void {
    this.abort.abort();
  }
}

beforeAll(async () => {
  h = await startHarness({ maxFrameBytes: 4096 });
  app = await h.createApp('sse');
  other = await h.createApp('other');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  await h.users(other, [{ id: 'alice' }]);
  base = await h.listen();
  await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'sse', members: ['alice', 'bob'] },
  });
});
afterAll(async () => {
  // fetch's pool (undici) leaves a socket it opened and never sent on, which server.close()
  // would wait for until the request timeout: every stream here has ended, so cut what is left.
  h.app.server.closeAllConnections();
  await h.close();
});

const send = (text: string) =>
  ['message.send', { cid: 'group:sse', message: { text } }] as [string, Record<string, unknown>];

describe('fallback transport (SSE + POST)', () => {
  it('refuses a stream without a key, without a token, with a forged token or a server token', async () => {
    expect((await fetch(`${base}/v1/sse`)).status).toBe(401);
    expect((await fetch(`${base}/v1/sse?api_key=${app.apiKey}`)).status).toBe(401);
    const forged = await fetch(`${base}/v1/sse?api_key=${app.apiKey}`, {
      headers: { authorization: `Bearer ${await other.token('alice')}` },
    });
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.code).toBe('UNAUTHORIZED');
    const server = await fetch(`${base}/v1/sse?api_key=${app.apiKey}`, {
      headers: { authorization: `Bearer ${await app.token(null)}` },
    });
    expect(server.status).toBe(403);
    expect((await server.json()).error.code).toBe('FORBIDDEN');
  });

  it('says hello and answers requests posted for it down the stream, in order', async () => {
    const s = await TestStream.open(app, 'alice');
    expect(s.frames[0]).toMatchObject({ type: 'hello', user: { id: 'alice' }, channels: { 'group:sse': 0 } });
    const replies = await s.request(...Array.from({ length: 20 }, (_, i) => send(`in order ${i}`)));
    const seqs = replies.map((r) => r.message.seq);
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(replies.map((r) => r.message.text)).toEqual(Array.from({ length: 20 }, (_, i) => `in order ${i}`));
    // Its own events come down too (a member's subscription), in seq order, each once.
    await s.waitFor((f) => f.type === 'message.new' && f.message.text === 'in order 19');
    const news = s.frames.filter((f) => f.type === 'message.new').map((f) => f.seq);
    expect(news).toEqual([...new Set(news)].sort((a, b) => a - b));
    // Bad frames get the WebSocket's answers, and the stream stays open.
    const [bad] = await s.request(['no.such', {}]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    s.close();
  });

  it('delivers to a WebSocket user and from one: the same frames on both transports', async () => {
    const s = await TestStream.open(app, 'alice');
    const ws = await TestSocket.connect(base, app, 'bob');
    const [r] = await s.request(send('from sse'));
    const onWs = await ws.waitFor((f) => f.type === 'message.new' && f.message.id === r.message.id);
    await ws.request('message.send', { cid: 'group:sse', message: { text: 'from ws' } });
    const onSse = await s.waitFor((f) => f.type === 'message.new' && f.message.text === 'from ws');
    const mine = await s.waitFor((f) => f.type === 'message.new' && f.message.id === r.message.id);
    expect(mine).toEqual(onWs);
    expect(onSse.seq).toBeGreaterThan(mine.seq);
    ws.close();
    s.close();
  });

  it('lets only the stream’s own user, in its own app, post to it; others get NOT_FOUND', async () => {
    const s = await TestStream.open(app, 'alice');
    const frame = { type: 'ping', req_id: 1 };
    const bob = await s.post([frame], { userId: 'bob' });
    expect(bob.status).toBe(404);
    expect((await bob.json()).error.code).toBe('NOT_FOUND');
    // Another app's alice: the same user id, another tenant.
    const stranger = await s.post([frame], { app: other, userId: 'alice' });
    expect(stranger.status).toBe(404);
    expect(s.frames.some((f) => f.type === 'reply')).toBe(false);
    expect((await s.post([frame])).status).toBe(204);
    await s.waitFor((f) => f.type === 'reply' && f.req_id === 1);
    s.close();
  });

  it('answers NOT_FOUND for an unknown stream and for one that is gone', async () => {
    const s = await TestStream.open(app, 'alice');
    const unknown = await s.post([{ type: 'ping', req_id: 1 }], { id: 'no-such-connection' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('NOT_FOUND');
    s.close();
    // Once the server has seen the stream go, its id is dead.
    for (;;) {
      const r = await s.post([{ type: 'ping', req_id: 2 }]);
      if (r.status === 404) break;
      expect(r.status).toBe(204);
      await new Promise((res) => setTimeout(res, 20));
    }
  });

  it('refuses a body that is not a frame batch, a batch too big, and a frame over the limit', async () => {
    const s = await TestStream.open(app, 'alice');
    expect((await s.post([])).status).toBe(400);
    const tooBig = await fetch(`${base}/v1/sse/${s.connectionId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await app.user('alice')) },
      body: JSON.stringify({ frames: [{ type: 'ping', pad: 'x'.repeat(2 * 1024 * 1024) }] }),
    });
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    // Within the body limit but one frame over maxFrameBytes: as `ws` does, the connection ends.
    const frame = await s.post([{ type: 'ping', req_id: 9, pad: 'x'.repeat(5000) }]);
    expect(frame.status).toBe(413);
    for (let i = 0; i < 500 && !s.closedWith; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.closedWith?.code).toBe(1009);
    s.close();
  });

  it('resumes from the last seq after the stream is cut: every event once, in order', async () => {
    const s = await TestStream.open(app, 'bob');
    const { channel } = (await s.request(['channel.watch', { cid: 'group:sse' }]))[0];
    let last = channel.last_seq as number;
    const seen: number[] = [];
    const writer = await TestStream.open(app, 'alice');
    // Cut the stream server-side (as a proxy would), send meanwhile, resume with `since`.
    let current = s;
    for (let round = 0; round < 3; round++) {
      const conn = [...h.server.svc.hub.allConnections()].find((c) => c.id === current.connectionId);
      conn?.ws.terminate();
      await writer.request(send(`while cut ${round} a`), send(`while cut ${round} b`));
      const next = await TestStream.open(app, 'bob');
      await next.request(['channel.watch', { cid: 'group:sse', since: last }]);
      await writer.request(send(`live ${round}`));
      await next.waitFor((f) => f.type === 'message.new' && f.message.text === `live ${round}`);
      const got = next.frames.filter((f) => f.type === 'message.new' && f.cid === 'group:sse').map((f) => f.seq);
      seen.push(...got);
      last = got[got.length - 1];
      current.close();
      current = next;
    }
    current.close();
    writer.close();
    // Three cuts, nine messages, each seen exactly once, contiguous and in order.
    expect(seen).toHaveLength(9);
    expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => channel.last_seq + 1 + i));
  });

  it('is in the OpenAPI document, with its errors', async () => {
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    expect(Object.keys(doc.paths['/v1/sse'].get.responses).sort()).toEqual(['200', '401', '403', '429']);
    expect(Object.keys(doc.paths['/v1/sse/{connection_id}'].post.responses).sort()).toEqual(
      ['204', '400', '401', '403', '404', '413', '429'].sort(),
    );
  });

  it('sends heartbeats as comments and CORS headers to another origin', async () => {
    const res = await fetch(`${base}/v1/sse?api_key=${app.apiKey}`, {
      headers: { authorization: `Bearer ${await app.token('alice')}`, origin: 'https://embedder.example' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (what: string) => {
      while (!text.includes(what)) {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
    };
    // The connection is in a heartbeat slice once it has said hello (before that, a tick would
    // not reach it and the test would wait for the timer's own ping).
    await readUntil('"type":"hello"');
    // Every slice once: whichever holds this connection pings it.
    for (let i = 0; i < 20; i++) h.server.gateway.heartbeatTick();
    await readUntil(': ping');
    expect(text).toContain(': ping');
    await reader.cancel();
  });
});
