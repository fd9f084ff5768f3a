/**
 * Several nodes on one database: events published on one node reach sockets on the others,
 * in seq order, exactly once — through Redis when REDIS_URL is set (CI), else through an
 * in-process network of memory brokers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterBrokers, type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('mn');

let db: Awaited<ReturnType<typeof testDatabase>>;
let nodes: Harness[] = [];
let app: TestApp;

// Nodes of one deployment share the master key that seals app secrets (docs/security.md).
const masterKey = 'a'.repeat(64);

beforeAll(async () => {
  db = await testDatabase();
  nodes = [
    await startHarness({ nodeId: 'n1', masterKey }, { database: db.database, broker: await broker() }),
    await startHarness({ nodeId: 'n2', masterKey }, { database: db.database, broker: await broker() }),
    await startHarness({ nodeId: 'n3', masterKey }, { database: db.database, broker: await broker() }),
  ];
  app = await (nodes[0] as Harness).createApp();
  // dana is only in the presence test: alice's sockets of the tests before may still be in
  // their grace period (online), and an `online` that never went away is never announced.
  await (nodes[0] as Harness).users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dana' }]);
});
afterAll(async () => {
  for (const n of nodes) await n.close();
  await db.drop();
});

describe(`multi-node fan-out (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('delivers every message to members connected to other nodes, once and in seq order', async () => {
    const [n1, n2, n3] = nodes as [Harness, Harness, Harness];
    const created = await n1.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'spread', members: ['bob', 'carol'] },
    });
    expect(created.status).toBe(200);
    const bob = await TestSocket.connect(await n2.listen(), app, 'bob');
    const carol = await TestSocket.connect(await n3.listen(), app, 'carol');
    const alice = await TestSocket.connect(await n1.listen(), app, 'alice');

    // Sends spread over the three nodes, concurrently.
    const senders = [
      { h: n1, user: 'alice' },
      { h: n2, user: 'bob' },
      { h: n3, user: 'carol' },
    ];
    const total = 90;
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const s = senders[i % 3] as (typeof senders)[number];
        const r = await s.h.call({
          method: 'POST',
          url: '/v1/channels/group:spread/messages',
          headers: await app.user(s.user),
          payload: { text: `m${i}` },
        });
        expect(r.status).toBe(200);
      }),
    );
    for (const sock of [alice, bob, carol]) {
      await sock.waitFor(() => sock.events('message.new').length >= total, 15_000);
      const seqs = sock.events('message.new').map((e) => e.seq as number);
      expect(seqs).toHaveLength(total);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(total);
    }
    for (const s of [alice, bob, carol]) s.close();
  });

  it('fills a gap when one node misses a publish', async () => {
    const [n1, n2] = nodes as [Harness, Harness];
    await n1.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'gappy', members: ['bob'] },
    });
    const bob = await TestSocket.connect(await n2.listen(), app, 'bob');
    // Node 2 stops hearing this channel for one message (as if its Redis connection blipped)…
    const topic = `c:${app.id}:group:gappy`;
    n2.server.svc.broker.unsubscribe(topic);
    await n2.server.svc.broker.settled();
    const first = await n1.call({
      method: 'POST',
      url: '/v1/channels/group:gappy/messages',
      headers: await app.user('alice'),
      payload: { text: 'missed' },
    });
    n2.server.svc.broker.subscribe(topic);
    await n2.server.svc.broker.settled();
    // …then the next message shows the gap, and the hub fetches the missed one from the log.
    const second = await n1.call({
      method: 'POST',
      url: '/v1/channels/group:gappy/messages',
      headers: await app.user('alice'),
      payload: { text: 'seen' },
    });
    await bob.waitFor(() => bob.events('message.new').length >= 2);
    expect(bob.events('message.new').map((e) => e.message.id)).toEqual([first.body.message.id, second.body.message.id]);
    bob.close();
  });

  it.runIf(!!redisUrl)('pools presence over nodes: online while any node holds a connection', async () => {
    const [n1, n2, n3] = nodes as [Harness, Harness, Harness];
    await n1.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('dana'),
      payload: { type: 'group', id: 'presence', members: ['bob'] },
    });
    const bob = await TestSocket.connect(await n3.listen(), app, 'bob');
    // Protocol 2: bob hears dana's presence because he follows it; she starts offline.
    const followed = await bob.request('presence.subscribe', { user_ids: ['dana'] });
    expect(followed.presence).toEqual({ dana: 'offline' });
    const a1 = await TestSocket.connect(await n1.listen(), app, 'dana');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'dana' && f.presence === 'online');
    const a2 = await TestSocket.connect(await n2.listen(), app, 'dana');
    a1.close();
    // Past the grace period on node 1, dana is still online through node 2.
    await new Promise((r) => setTimeout(r, n1.config.presenceGraceMs * 3));
    const seen = await n3.call({ method: 'GET', url: '/v1/users/dana', headers: await app.user('bob') });
    expect(seen.body.user.presence).toBe('online');
    expect(bob.events('presence.changed').filter((e) => e.user.id === 'dana' && e.presence === 'offline')).toHaveLength(
      0,
    );
    a2.close();
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'dana' && f.presence === 'offline');
    const gone = await n3.call({ method: 'GET', url: '/v1/users/dana', headers: await app.user('bob') });
    expect(gone.body.user.presence).toBe('offline');
    bob.close();
  });
});
