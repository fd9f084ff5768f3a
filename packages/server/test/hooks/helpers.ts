/** A webhook receiver for the hooks tests: a real HTTP server on loopback that records what it gets. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Harness, TestApp } from '../harness.js';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

/**
 * What the receiver answers a request with: a status and body (after `delayMs`, or once `until`
 * settles), or `hang` (never answers).
 */
export type Answer = { status: number; body?: string; delayMs?: number; until?: Promise<unknown> } | 'hang';

export interface Receiver {
  url: string;
  host: string;
  got: Received[];
  /** Decide the answer per request (default 200 `{}`). */
  answer: (r: Received, nth: number) => Answer;
  /** Requests so far on `path`. */
  on(path: string): Received[];
  /** TCP connections accepted so far. */
  connections: number;
  /** Most requests on one path being answered at once (delayed answers), by path. */
  mostAtOnce: Map<string, number>;
  /** Close every idle kept-alive connection, as a receiver's own idle timeout would. */
  dropIdle(): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const counts = new Map<string, number>();
  const atOnce = new Map<string, number>();
  const rcv: Receiver = {
    url: '',
    host: '',
    got: [],
    answer: () => ({ status: 200, body: '{}' }),
    on: (p) => rcv.got.filter((g) => g.path === p),
    connections: 0,
    mostAtOnce: new Map(),
    dropIdle: () => server.closeIdleConnections(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {}
      const r: Received = { path: req.url ?? '/', headers: req.headers, body, json };
      rcv.got.push(r);
      // Count per path and delivery (or per path for hooks without a delivery id).
      const key = `${r.path}\n${req.headers['x-parley-delivery'] ?? ''}`;
      const nth = (counts.get(key) ?? 0) + 1;
      counts.set(key, nth);
      const a = rcv.answer(r, nth);
      if (a === 'hang') return;
      const reply = () => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body ?? '{}');
      };
      if (!a.delayMs && !a.until) return reply();
      const now = (atOnce.get(r.path) ?? 0) + 1;
      atOnce.set(r.path, now);
      rcv.mostAtOnce.set(r.path, Math.max(rcv.mostAtOnce.get(r.path) ?? 0, now));
      const later = () => {
        atOnce.set(r.path, (atOnce.get(r.path) ?? 1) - 1);
        reply();
      };
      if (a.until) void a.until.then(later, later);
      else setTimeout(later, a.delayMs);
    });
  });
  server.on('connection', () => rcv.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  rcv.host = `127.0.0.1:${port}`;
  rcv.url = `http://127.0.0.1:${port}`;
  return rcv;
}

/**
 * A fresh app with alice and bob in two group channels (`group:<id>` of `channels`), and a
 * webhook of the app's server token on `url` for `events`: what the webhook suites start from.
 */
export async function appWithWebhook(
  h: Harness,
  url: string,
  events: string[],
  channels: readonly string[] = ['one', 'two'],
): Promise<{ app: TestApp; webhook: { id: string }; secret: string }> {
  const app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  for (const id of channels) {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id, members: ['bob'] },
    });
    if (r.status !== 200) throw new Error(`channel ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const w = await h.call({
    method: 'POST',
    url: '/v1/webhooks',
    headers: await app.server(),
    payload: { url, events },
  });
  if (w.status !== 201) throw new Error(`webhook: ${w.status} ${JSON.stringify(w.body)}`);
  return { app, webhook: w.body.webhook as { id: string }, secret: w.body.secret as string };
}
