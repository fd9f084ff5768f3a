/**
 * Graceful shutdown over real HTTP: a request already in flight when the server begins to close
 * gets its answer, and its keep-alive connection is then closed, so `close()` does not wait out
 * the keep-alive timeout (72 s) for a client that keeps the connection open.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness } from '../harness.js';

let h: Harness | undefined;
let h2: Harness | undefined;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const raw: net.Socket[] = [];
afterAll(async () => {
  agent.destroy();
  for (const s of raw) s.destroy();
  await h?.close().catch(() => {});
  await h2?.close().catch(() => {});
});

describe('graceful shutdown', () => {
  it('answers a request in flight at close, then closes its keep-alive connection', async () => {
    h = await startHarness();
    const app = await h.createApp();
    await h.users(app, [{ id: 'alice' }]);
    const base = new URL(await h.listen());
    const headers = await app.user('alice');
    const created = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers,
      payload: { type: 'group', id: 'closing', members: [] },
    });
    expect(created.status).toBe(200);

    // A send whose body arrives in two parts: the request is in flight, not idle, while the
    // server starts to close.
    const body = Buffer.from(JSON.stringify({ text: 'sent while the server closes' }));
    const serverGotIt = new Promise<void>((r) => h?.app.server.once('request', () => r()));
    let socketClosed = false;
    const answered = new Promise<{ status: number; connection: string | undefined; json: any }>((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path: '/v1/channels/group:closing/messages',
          method: 'POST',
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            }),
          );
        },
      );
      req.on('socket', (s) => s.once('close', () => (socketClosed = true)));
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      void serverGotIt.then(async () => {
        // Past the preClose hooks and server.close(), which reaps only idle connections.
        await eventually(() => !h?.app.server.listening);
        req.end(body.subarray(10));
      });
    });
    await serverGotIt;
    const closed = h.app.close();

    const reply = await answered;
    expect(reply.status).toBe(200);
    expect(reply.json.message.text).toBe('sent while the server closes');
    expect(reply.connection).toBe('close');
    // Without the connection closed, this waits for the keep-alive timeout (past the test's).
    await closed;
    await eventually(() => socketClosed);
  });

  it('does not wait for connections that never made a request (silent, or half a request line)', async () => {
    h2 = await startHarness();
    const base = new URL(await h2.listen());
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(Number(base.port), base.hostname, () => resolve(s));
        s.on('error', reject);
        raw.push(s);
      });
    const silent = await connect();
    const partial = await connect();
    partial.write('GET /v1/heal');
    const ended = [silent, partial].map((s) => new Promise<void>((r) => s.once('close', () => r())));
    // Both are accepted and counted before the close begins.
    await eventually(async () => {
      const count = await new Promise<number>((r, j) => h2?.app.server.getConnections((e, n) => (e ? j(e) : r(n))));
      return count >= 2;
    });
    // Node reaps idle keep-alive connections, but these two would hold close() until the
    // headers timeout (60 s, past this test's timeout).
    await h2.app.close();
    await Promise.all(ended);
    expect(silent.destroyed || silent.readableEnded).toBe(true);
  });
});
