/**
 * Feature flags on two nodes sharing one database and one broker (Redis when REDIS_URL is set,
 * else an in-process network): each node keeps the app's flag rules in memory for the hellos,
 * so a change made through one node must reach the other by the broker's word — a connection
 * that opens there after the change is told the new value in its hello, and a connection open
 * there hears the change with its own user's value. (One master key: a node opens the app secret
 * the other sealed.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterBrokers,
  eventually,
  type Harness,
  startHarness,
  type TestApp,
  TestSocket,
  testDatabase,
} from '../harness.js';

const broker = clusterBrokers('flags');
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;
let base1: string;
let base2: string;

beforeAll(async () => {
  db = await testDatabase();
  const masterKey = 'b'.repeat(64);
  n1 = await startHarness({ nodeId: 'f1', masterKey }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ nodeId: 'f2', masterKey }, { database: db.database, broker: await broker() });
  app = await n1.createApp();
  await n1.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  base1 = await n1.listen();
  base2 = await n2.listen();
}, 60_000);

afterAll(async () => {
  await n2?.close();
  await n1?.close();
  await db?.drop();
});

const put = async (node: Harness, key: string, payload: object) => {
  const r = await node.call({ method: 'PUT', url: `/v1/feature-flags/${key}`, headers: await app.server(), payload });
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
};
const helloFlags = (s: TestSocket) => s.frames.find((f) => f.type === 'hello').flags as Record<string, boolean>;

describe('feature flags on two nodes', () => {
  it('a change made on one node is in the other’s hellos and reaches its connections with their values', async () => {
    await put(n1, 'beta', { enabled: true, user_ids: ['alice'] });
    // Node 2 reads the rules for its first hello of the app (and keeps them).
    const first = await TestSocket.connect(base2, app, 'bob');
    expect(helloFlags(first)).toEqual({ beta: false });
    const alice = await TestSocket.connect(base2, app, 'alice');
    expect(helloFlags(alice)).toEqual({ beta: true });

    // Changed through node 1: node 2's open connections hear their own values…
    await put(n1, 'beta', { user_ids: ['bob'] });
    const bobHears = await first.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'beta');
    const aliceHears = await alice.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'beta');
    expect([bobHears.value, aliceHears.value]).toEqual([true, false]);
    // …and its next hello says the new value (its kept rules were forgotten).
    const again = await TestSocket.connect(base2, app, 'bob');
    expect(helloFlags(again)).toEqual({ beta: true });

    // A new flag made on node 1 while node 2 has no connection of the app open: the broker's word
    // alone makes node 2 read again.
    for (const s of [first, alice, again]) s.close();
    await Promise.all([first, alice, again].map((s) => s.waitClose()));
    await put(n1, 'gamma', { enabled: true, percentage: 100 });
    // The word travels after the commit: a hello opened in the moment between may still say the
    // old rules, so ask until one says the new (each attempt a real connection).
    const later = await eventually(async () => {
      const s = await TestSocket.connect(base2, app, 'alice');
      s.close();
      return 'gamma' in helloFlags(s) ? helloFlags(s) : null;
    }, 10_000);
    expect(later).toEqual({ beta: false, gamma: true });
    // The node that made the change knows too.
    const here = await TestSocket.connect(base1, app, 'bob');
    expect(helloFlags(here)).toEqual({ beta: true, gamma: true });
    here.close();
  });
});
