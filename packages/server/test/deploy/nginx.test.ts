/**
 * The documented nginx configuration (deploy/nginx/parley.conf), run by Debian's nginx over TLS
 * in front of two Parley nodes on one database: plain HTTP is sent to HTTPS; WebSockets and the
 * fallback stream (whose POSTs must reach the node holding the stream) work through it, to both
 * nodes; a 100 MiB upload passes and Parley's own limit answers past it; and Parley sees the real
 * client's address, which the client cannot forge (PARLEY_TRUST_PROXY names nginx).
 *
 * The SDK's chaos run through the same proxy is in packages/client/test/chaos.pg.test.ts; the
 * rolling restart behind it in packages/cli/test/chaos/rolling.chaos.test.ts.
 */
import https from 'node:https';
import { FormData, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SocketFactory } from '../../../client/src/connection.js';
import { ChatClient, type Transport } from '../../../client/src/index.js';
import { parseTrustProxy } from '../../src/platform/config.js';
import {
  ADMIN,
  clusterBrokers,
  eventually,
  type Harness,
  startHarness,
  type TestApp,
  testDatabase,
} from '../harness.js';
import { haveNginx, type Nginx, startNginx } from '../nginx.js';

const MiB = 1024 * 1024;

describe.skipIf(!haveNginx)('nginx in front of two nodes (deploy/nginx/parley.conf)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nodes: Harness[] = [];
  let nginx: Nginx;
  let app: TestApp;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    db = await testDatabase();
    const broker = clusterBrokers('nginx');
    // As an operator sets them: the proxy is trusted, and only the proxy.
    const config = { masterKey: 'b'.repeat(64), trustProxy: parseTrustProxy('127.0.0.1') };
    nodes = [
      await startHarness({ ...config, nodeId: 'n1' }, { database: db.database, broker: await broker() }),
      await startHarness({ ...config, nodeId: 'n2' }, { database: db.database, broker: await broker() }),
    ];
    const ports = (await Promise.all(nodes.map((n) => n.listen()))).map((u) => Number(new URL(u).port));
    nginx = await startNginx(ports as [number, number]);
    app = await (nodes[0] as Harness).createApp();
    await (nodes[0] as Harness).users(
      app,
      ['alice', 'bob', 'carol', 'dan', 'erin', 'fay'].map((id) => ({ id, name: id })),
    );
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.disconnectUser();
    await nginx?.close();
    for (const n of nodes) await n.close();
    await db?.drop();
  });

  it('sends plain HTTP to HTTPS, and serves the API over TLS', async () => {
    const plain = await undiciFetch(`${nginx.httpUrl}/v1/openapi.json`, { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toMatch(/^https:\/\//);
    const api = await nginx.fetch(`${nginx.url}/v1/openapi.json`);
    expect(api.status).toBe(200);
    expect(((await api.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('carries WebSockets and fallback streams to both nodes; each stream gets its POSTs', async () => {
    const users = ['alice', 'bob', 'carol', 'dan', 'erin', 'fay'];
    const transports: Transport[] = ['websocket', 'sse', 'websocket', 'sse', 'websocket', 'sse'];
    for (const [i, id] of users.entries()) {
      const c = new ChatClient({
        url: nginx.url,
        apiKey: app.apiKey,
        WebSocket: nginx.WebSocket as unknown as SocketFactory,
        fetch: nginx.fetch as never,
        transport: transports[i] as Transport,
      });
      clients.push(c);
      await c.connectUser({ id }, () => app.token(id));
    }
    expect(clients.map((c) => c.transport)).toEqual(transports);
    // Both nodes hold sockets, and both hold streams (six users' tokens hash to both).
    const held = nodes.map((n) => [...n.server.svc.hub.allConnections()].map((c) => c.userId));
    expect(held.every((list) => list.length > 0)).toBe(true);
    const [first] = clients as [ChatClient];
    await first.channel('group', 'proxied').createChannel({ members: users.slice(1), name: 'Proxied' });
    const channels = clients.map((c) => c.channel('group', 'proxied'));
    for (const ch of channels) await ch.watch();
    // Every client sends (a stream's send is a POST that must reach its node) and hears all.
    await Promise.all(channels.map((ch, i) => ch.sendMessage({ text: `from ${users[i]}` })));
    for (const ch of channels)
      await eventually(() => users.every((u) => ch.state?.messages.some((m) => m.text === `from ${u}` && m.seq > 0)));
  });

  it("passes a 100 MiB upload, and Parley's own 413 answers past it", async () => {
    const headers = await app.user('alice');
    const made = await nginx.fetch(`${nginx.url}/v1/channels`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'group', id: 'uploads', members: [] }),
    });
    expect(made.status).toBe(200);
    const upload = (bytes: number) => {
      const form = new FormData();
      form.append('file', new Blob([Buffer.alloc(bytes, 7)]), 'big.bin');
      return nginx.fetch(`${nginx.url}/v1/channels/group:uploads/uploads`, { method: 'POST', headers, body: form });
    };
    const ok = await upload(100 * MiB);
    const okText = await ok.text();
    expect(ok.status, okText).toBe(200);
    const okBody = JSON.parse(okText) as { attachment?: { size: number } };
    expect(okBody.attachment?.size).toBe(100 * MiB);
    const over = await upload(100 * MiB + 1);
    expect(over.status).toBe(413);
    // Parley's answer (the error shape), not nginx's page.
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  }, 120_000);

  it("gives Parley the client's real address, which a forged X-Forwarded-For does not change", async () => {
    // A client on another loopback address, claiming to be someone else.
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(`${nginx.url}/v1/admin/apps/${app.id}/tokens`, {
        method: 'POST',
        ca: nginx.ca,
        localAddress: '127.0.0.2',
        headers: {
          authorization: `Bearer ${ADMIN}`,
          'content-type': 'application/json',
          'x-forwarded-for': '203.0.113.9',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ user_id: 'alice' }));
    });
    expect(status).toBe(200);
    const audit = await nginx.fetch(`${nginx.url}/v1/audit?action=app.token_minted`, { headers: await app.server() });
    const { entries } = (await audit.json()) as { entries: { action: string; ip: string | null }[] };
    expect(entries[0]?.ip).toBe('127.0.0.2');
  });
});
