/**
 * GET /v1/admin/system (features/admin/system.ts): the operator's view of the deployment — this
 * node with its version and open sockets, the job queues, each webhook endpoint's backlog, the
 * database and the last backup — only with the admin token, and in the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { PARLEY_VERSION } from '../../src/platform/package-version.js';
import { ADMIN, backend, eventually, type Harness, startHarness, TestSocket } from '../harness.js';
import { appWithWebhook, type Receiver, startReceiver } from '../hooks/helpers.js';

let h: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  // Every delivery fails: what the endpoint was sent stays pending, retried later.
  rcv.answer = () => ({ status: 503 });
  h = await startHarness({
    nodeId: 'system-node',
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await rcv?.close();
});

const system = () => h.call({ method: 'GET', url: '/v1/admin/system', headers: { authorization: `Bearer ${ADMIN}` } });

describe('GET /v1/admin/system', { timeout: 60_000 }, () => {
  it('needs the admin token', async () => {
    expect((await h.call({ method: 'GET', url: '/v1/admin/system' })).status).toBe(401);
    const app = await h.createApp();
    await h.users(app, [{ id: 'alice' }]);
    const asServer = await h.call({ method: 'GET', url: '/v1/admin/system', headers: await app.server() });
    expect([401, 403]).toContain(asServer.status);
  });

  it('shows the node with its version and sockets, the backlog per endpoint, the database, no backup yet', async () => {
    const { app, webhook } = await appWithWebhook(h, `${rcv.url}/down`, ['message.new']);
    const before = await system();
    expect(before.status).toBe(200);
    expect(before.body.node).toEqual({ id: 'system-node', version: PARLEY_VERSION, connections: 0 });
    expect(before.body.nodes).toContainEqual(
      expect.objectContaining({ id: 'system-node', version: PARLEY_VERSION, live: true, connections: 0 }),
    );
    expect(before.body.webhooks).toContainEqual(
      expect.objectContaining({
        app_id: app.id,
        endpoint_id: webhook.id,
        url: `${rcv.url}/down`,
        active: true,
        pending: 0,
      }),
    );

    const url = await h.listen();
    const sockets = [await TestSocket.connect(url, app, 'alice'), await TestSocket.connect(url, app, 'bob')];
    for (const text of ['one', 'two', 'three'])
      expect(
        (
          await h.call({
            method: 'POST',
            url: '/v1/channels/group:one/messages',
            headers: await app.user('alice'),
            payload: { text },
          })
        ).status,
      ).toBe(200);
    // The first delivery was tried (and failed): the three wait, in order, behind it.
    await eventually(() => rcv.on('/down').length > 0);
    const after = (await system()).body;
    expect(after.node.connections).toBe(2);
    expect(after.nodes.find((n: { id: string }) => n.id === 'system-node')?.connections).toBe(2);
    const mine = after.webhooks.find((w: { endpoint_id: string }) => w.endpoint_id === webhook.id);
    expect(mine).toMatchObject({ app_name: expect.any(String), pending: 3 });
    expect(Date.parse(mine.oldest_pending_at)).not.toBeNaN();
    // The largest backlog first.
    expect(after.webhooks[0].pending).toBeGreaterThanOrEqual(3);

    expect(after.database.kind).toBe(backend);
    expect(after.database.migration).toMatch(/^\d{4}_/);
    if (backend === 'postgres') expect(after.database.pools.main).toMatchObject({ total: expect.any(Number) });
    else expect(after.database.pools).toEqual({});
    for (const q of after.jobs)
      expect(q).toEqual({
        queue: expect.any(String),
        created: expect.any(Number),
        retry: expect.any(Number),
        active: expect.any(Number),
        failed: expect.any(Number),
      });
    expect(after.last_backup).toBeNull();
    for (const s of sockets) s.close();
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    const op = doc.paths['/v1/admin/system']?.get;
    expect(op?.tags).toContain('admin');
    expect(Object.keys(op?.responses['200'].content['application/json'].schema.properties ?? {})).toEqual([
      'node',
      'nodes',
      'database',
      'jobs',
      'webhooks',
      'last_backup',
    ]);
  });
});
