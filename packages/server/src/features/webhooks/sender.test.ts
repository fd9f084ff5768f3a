/**
 * The sender's own edges, against a real HTTP server on loopback: the answer read or thrown
 * away, an answer past its cap, a time limit that holds while a request waits for a connection,
 * and a kept-alive connection the receiver closed while it idled.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../platform/outbound.js';
import { WebhookSender } from './sender.js';

let server: http.Server;
let base: string;
let host: string;
const sockets = new Set<Socket>();
let connections = 0;
/** Requests that hang: answered when the test says so (or never). */
const hanging: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/echo') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else if (req.url === '/huge') res.writeHead(200).end('x'.repeat(300_000));
      else if (req.url === '/fail') res.writeHead(503).end('down');
      else if (req.url === '/hang') hanging.push(res);
      else res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  base = `http://${host}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const senderWith = (o: { timeoutMs?: number; connections?: number | null } = {}) =>
  new WebhookSender({
    allow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: host }).webhooks,
    timeoutMs: o.timeoutMs ?? 2000,
    connections: o.connections ?? null,
  });

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('WebhookSender', () => {
  it('posts the body and reads the answer when asked, else only its status', async () => {
    const s = senderWith();
    try {
      const read = await s.post('ep', `${base}/echo`, JSON_HEADERS, '{"a":1}', { read: 1024 });
      expect(read.error).toBeNull();
      expect(read.status).toBe(200);
      expect(read.body?.toString('utf8')).toBe('{"a":1}');
      const unread = await s.post('ep', `${base}/echo`, JSON_HEADERS, '{"b":2}');
      expect(unread).toMatchObject({ status: 200, error: null });
      expect(unread.body).toBeUndefined();
      const failed = await s.post('ep', `${base}/fail`, JSON_HEADERS, '{}', { read: 1024 });
      expect(failed).toMatchObject({ status: 503, error: 'HTTP 503' });
      expect(failed.body?.toString('utf8')).toBe('down');
    } finally {
      await s.close();
    }
  });

  it('fails an answer past its cap and does not reuse that connection; unread, a large answer is fine', async () => {
    const s = senderWith();
    try {
      expect((await s.post('ep', `${base}/echo`, JSON_HEADERS, '{}')).error).toBeNull();
      const over = await s.post('ep', `${base}/huge`, JSON_HEADERS, '{}', { read: 1024 });
      expect(over.status).toBe(200);
      expect(over.error).toMatch(/^too-large:/);
      expect(over.body).toBeUndefined();
      // The cut connection is gone, not handed to the next request: that one is answered.
      const next = await s.post('ep', `${base}/echo`, JSON_HEADERS, '{"c":3}', { read: 1024 });
      expect(next.body?.toString('utf8')).toBe('{"c":3}');
      // A delivery does not keep the answer: past 64 KiB it is cut, and the status counts.
      expect(await s.post('ep', `${base}/huge`, JSON_HEADERS, '{}')).toMatchObject({ status: 200, error: null });
    } finally {
      await s.close();
    }
  });

  it('times out a request that waits for a connection another request holds, by its own time limit', async () => {
    const s = senderWith({ timeoutMs: 300, connections: 1 });
    try {
      // The first holds the only connection past the second's limit. With the same limit for
      // both, the first's abort could free the connection before the second's timer fired (a
      // loaded machine runs late timers late, and not all equally), and the second was
      // rightly answered within its limit.
      const first = s.post('ep', `${base}/hang`, JSON_HEADERS, '{}', { timeoutMs: 2_500 });
      // Queued behind the first on the endpoint's only connection.
      const second = s.post('ep', `${base}/echo`, JSON_HEADERS, '{}');
      const [a, b] = await Promise.all([first, second]);
      expect(a).toMatchObject({ status: null, error: 'timeout: The delivery took too long' });
      expect(b).toMatchObject({ status: null, error: 'timeout: The delivery took too long' });
      // The time limit is the call's, not one per try: settled near it, not at twice it.
      expect(b.latencyMs).toBeLessThan(2000);
      // The hung request's connection was aborted: the endpoint is usable at once.
      expect(await s.post('ep', `${base}/echo`, JSON_HEADERS, '{}')).toMatchObject({ status: 200, error: null });
    } finally {
      await s.close();
    }
  });

  it('sends again on a new connection when the kept-alive one was closed by the receiver', async () => {
    const s = senderWith();
    try {
      expect((await s.post('ep', `${base}/echo`, JSON_HEADERS, '{}')).error).toBeNull();
      const before = connections;
      // The receiver drops its idle connections (as a server whose keep-alive ran out does).
      for (const sock of sockets) sock.destroy();
      const r = await s.post('ep', `${base}/echo`, JSON_HEADERS, '{"d":4}', { read: 1024 });
      expect(r).toMatchObject({ status: 200, error: null });
      expect(r.body?.toString('utf8')).toBe('{"d":4}');
      expect(connections - before).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('refuses a target the allow-list does not let through, without a request', async () => {
    const s = new WebhookSender({
      allow: outboundAllowFromEnv({}).webhooks,
      timeoutMs: 1000,
      connections: null,
    });
    try {
      const before = connections;
      const r = await s.post('ep', `${base}/echo`, JSON_HEADERS, '{}');
      expect(r.status).toBeNull();
      // Refused by the target check, with its reason (here: a port public targets do not use).
      expect(r.error).toMatch(/^port: /);
      expect(connections).toBe(before);
    } finally {
      await s.close();
    }
  });
});
