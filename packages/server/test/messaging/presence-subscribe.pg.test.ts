/**
 * Presence by subscription (protocol 2): a connection hears `presence.changed` about another
 * user only after `presence.subscribe` for them, on every node, and never about another app's
 * user of the same id. Bad input is a typed error that changes nothing.
 */
import { MAX_PRESENCE_IDS, MAX_PRESENCE_SUBSCRIPTIONS } from '@parley/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterBrokers,
  eventually,
  type Harness,
  startHarness,
  type TestApp,
  TestSocket,
  testDatabase,
} from '../harness.js';

const GRACE = 100;
const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('ps');

let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;
let other: TestApp;
let url1: string;
let url2: string;
const open: TestSocket[] = [];
const masterKey = 'b'.repeat(64);

beforeAll(async () => {
  db = await testDatabase();
  n1 = await startHarness(
    { nodeId: 'p1', masterKey, presenceGraceMs: GRACE },
    { database: db.database, broker: await broker() },
  );
  n2 = await startHarness(
    { nodeId: 'p2', masterKey, presenceGraceMs: GRACE },
    { database: db.database, broker: await broker() },
  );
  app = await n1.createApp('presence-a');
  other = await n1.createApp('presence-b');
  await n1.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  await n1.users(other, [{ id: 'alice' }, { id: 'mallory' }]);
  // alice and bob share a channel: since protocol 2 that alone sends no presence.
  const r = await n1.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'ps', members: ['bob', 'carol'] },
  });
  expect(r.status).toBe(200);
  [url1, url2] = [await n1.listen(), await n2.listen()];
});
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await new Promise((r) => setTimeout(r, GRACE * 3));
});
afterAll(async () => {
  await n1?.close();
  await n2?.close();
  await db?.drop();
});

async function sock(url: string, a: TestApp, user: string): Promise<TestSocket> {
  const s = await TestSocket.connect(url, a, user);
  open.push(s);
  return s;
}
const changes = (s: TestSocket, user: string) =>
  s
    .events('presence.changed')
    .filter((f) => f.user.id === user)
    .map((f) => f.presence as string);

describe('presence.subscribe', () => {
  it('answers the presence now, then sends changes of followed users only; unsubscribe stops them', async () => {
    const bob = await sock(url1, app, 'bob');
    const carol = await sock(url1, app, 'carol');
    const r = await bob.request('presence.subscribe', { user_ids: ['alice', 'carol', 'nobody'] });
    expect(r).toMatchObject({ ok: true, presence: { alice: 'offline', carol: 'online', nobody: 'offline' } });
    const alice = await sock(url1, app, 'alice');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice');
    // carol shares a channel with alice but follows no one: connecting sent her nothing.
    await carol.request('ping');
    expect(changes(carol, 'alice')).toEqual([]);

    await alice.request('presence.set', { presence: 'away' });
    await eventually(() => changes(bob, 'alice').length === 2);
    expect(changes(bob, 'alice')).toEqual(['online', 'away']);

    expect(await bob.request('presence.unsubscribe', { user_ids: ['alice'] })).toMatchObject({ ok: true });
    await alice.request('presence.set', { presence: 'online' });
    // alice's own sockets hear her change; once it is there, bob's would have been too.
    await alice.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online');
    await bob.request('ping');
    expect(changes(bob, 'alice')).toEqual(['online', 'away']);
  });

  it('reaches a follower on another node, online and then offline', async () => {
    const bob = await sock(url2, app, 'bob');
    await bob.request('presence.subscribe', { user_ids: ['alice'] });
    const alice = await sock(url1, app, 'alice');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online');
    if (redisUrl) {
      // With a shared presence pool, a subscribe on the other node reads her state too.
      const carol = await sock(url2, app, 'carol');
      expect(await carol.request('presence.subscribe', { user_ids: ['alice'] })).toMatchObject({
        presence: { alice: 'online' },
      });
    }
    alice.close();
    open.splice(open.indexOf(alice), 1);
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'offline');
    expect(changes(bob, 'alice')).toEqual(['online', 'offline']);
  });

  it('never reaches another app: the same id there is another user', async () => {
    const bob = await sock(url1, app, 'bob');
    const mallory = await sock(url2, other, 'mallory');
    await bob.request('presence.subscribe', { user_ids: ['alice'] });
    expect(await mallory.request('presence.subscribe', { user_ids: ['alice', 'bob'] })).toMatchObject({
      ok: true,
      presence: { alice: 'offline', bob: 'offline' },
    });
    // The other app's alice comes online: bob (app A) hears nothing.
    const otherAlice = await sock(url1, other, 'alice');
    await mallory.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice');
    // App A's alice and bob come online: mallory (app B) hears nothing of them.
    await sock(url2, app, 'alice');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice');
    await otherAlice.request('presence.set', { presence: 'away' });
    await mallory.waitFor((f) => f.type === 'presence.changed' && f.presence === 'away');
    await bob.request('ping');
    expect(changes(bob, 'alice')).toEqual(['online']);
    expect(changes(mallory, 'alice')).toEqual(['online', 'away']);
    expect(changes(mallory, 'bob')).toEqual([]);
    for (const f of mallory.events('presence.changed')) expect(f.user.id).not.toBe('bob');
  });

  it('refuses bad input with VALIDATION_ERROR and changes nothing', async () => {
    const bob = await sock(url1, app, 'bob');
    const bad = async (fields: Record<string, unknown>, type = 'presence.subscribe') => {
      const r = await bob.request(type, fields);
      expect(r, JSON.stringify(fields).slice(0, 80)).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    };
    await bad({ user_ids: [] });
    await bad({});
    await bad({ user_ids: 'alice' });
    await bad({ user_ids: ['al ice'] });
    await bad({ user_ids: ['x'.repeat(65)] });
    await bad({ user_ids: [7] });
    await bad({ user_ids: ['alice'], extra: true });
    await bad({ user_ids: Array.from({ length: MAX_PRESENCE_IDS + 1 }, (_, i) => `u${i}`) });
    await bad({ user_ids: [] }, 'presence.unsubscribe');
    // Up to the per-connection bound in full requests, then one more is refused whole.
    const per = MAX_PRESENCE_IDS;
    for (let i = 0; i < MAX_PRESENCE_SUBSCRIPTIONS / per; i++) {
      const ids = Array.from({ length: per }, (_, j) => `f${i * per + j}`);
      expect((await bob.request('presence.subscribe', { user_ids: ids })).ok).toBe(true);
    }
    await bad({ user_ids: ['alice', 'carol'] });
    // Ids already followed do not count twice; refused ids were not followed.
    expect((await bob.request('presence.subscribe', { user_ids: ['f0', 'f1'] })).ok).toBe(true);
    await sock(url1, app, 'alice');
    await bob.request('ping');
    expect(changes(bob, 'alice')).toEqual([]);
    // Unsubscribing makes room again.
    await bob.request('presence.unsubscribe', { user_ids: ['f0'] });
    expect((await bob.request('presence.subscribe', { user_ids: ['carol'] })).ok).toBe(true);
  });
});
