/**
 * Busy (do not disturb) as a presence state: chosen with `presence.set busy` (optionally
 * until a time), or automatic while notifications are paused or a DND window is open; shown
 * only while connected, announced to followers, and the same on every node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterBrokers,
  eventually,
  type Harness,
  QUIET,
  startHarness,
  type TestSocket,
  testDatabase,
} from '../harness.js';
import { expectError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;

beforeAll(async () => {
  h = await startHarness({ ...QUIET, presenceGraceMs: 100, busyCheckMs: 100 });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  await w.channel('alice', 'group', 'busy', ['bob']);
});
afterEach(async () => {
  await w.closeSockets();
  for (const u of ['alice', 'bob'])
    await w.rest(u, 'PATCH', '/v1/notifications/settings', { dnd_until: null, dnd_schedule: null });
  await eventually(async () => (await presenceOf('alice')) === 'offline');
});
afterAll(async () => {
  await h.close();
});

const presenceOf = async (user: string, viewer = 'bob', ww = w) =>
  (await ww.rest(viewer, 'GET', `/v1/users/${user}`)).body.user.presence as string;
/** The last presence `s` heard of `user`. */
const heard = (s: TestSocket, user: string) =>
  s
    .events('presence.changed')
    .filter((f) => f.user.id === user)
    .map((f) => f.presence as string)
    .at(-1);
const follow = async (s: TestSocket, ids: string[]) => {
  const r = await s.request('presence.subscribe', { user_ids: ids });
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return r.presence as Record<string, string>;
};
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

describe('busy chosen by the user', () => {
  it('presence.set busy shows busy to followers and in REST, pauses notifications; online ends it', async () => {
    const alice = await w.socket('alice');
    const bob = await w.socket('bob');
    expect((await follow(bob, ['alice'])).alice).toBe('online');
    const r = await alice.request('presence.set', { presence: 'busy' });
    expect(r).toMatchObject({ ok: true, presence: 'busy' });
    await eventually(() => heard(bob, 'alice') === 'busy');
    const ev = bob.events('presence.changed').findLast((f) => f.user.id === 'alice');
    expect(ev.user.presence).toBe('busy');
    expect(await presenceOf('alice')).toBe('busy');
    // Alice's own sockets hear it too.
    await eventually(() => heard(alice, 'alice') === 'busy');
    const settings = (await w.rest('alice', 'GET', '/v1/notifications/settings')).body.settings;
    expect(settings.dnd_active).toBe(true);
    // A new follower reads busy in the subscribe answer.
    const bob2 = await w.socket('bob');
    expect((await follow(bob2, ['alice'])).alice).toBe('busy');

    expect((await alice.request('presence.set', { presence: 'online' })).presence).toBe('online');
    await eventually(() => heard(bob, 'alice') === 'online');
    expect((await w.rest('alice', 'GET', '/v1/notifications/settings')).body.settings.dnd_active).toBe(false);
  });

  it('busy with an end time turns back to online by itself when it passes', async () => {
    const alice = await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob, ['alice']);
    const until = new Date(Date.now() + 1_500).toISOString();
    expect((await alice.request('presence.set', { presence: 'busy', until })).presence).toBe('busy');
    await eventually(() => heard(bob, 'alice') === 'busy');
    // Nobody acts: the pause's job (or, were it lost, the presence sweep) sees it run out.
    await eventually(() => heard(bob, 'alice') === 'online');
    expect(await presenceOf('alice')).toBe('online');
  });

  it('stays busy while going away by choice, and offline wins over busy', async () => {
    const alice = await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob, ['alice']);
    await alice.request('presence.set', { presence: 'busy' });
    await eventually(() => heard(bob, 'alice') === 'busy');
    expect((await alice.request('presence.set', { presence: 'away' })).presence).toBe('busy');
    expect(await presenceOf('alice')).toBe('busy');
    alice.close();
    await eventually(() => heard(bob, 'alice') === 'offline');
    expect(await presenceOf('alice')).toBe('offline');
    // Still paused: back online later, she is busy again at once.
    const again = await w.socket('alice');
    await eventually(() => heard(bob, 'alice') === 'busy');
    expect((await again.waitFor((f) => f.type === 'hello')).user.id).toBe('alice');
  });

  it('refuses bad presence.set input with a typed error and changes nothing', async () => {
    const alice = await w.socket('alice');
    const bad = [
      { presence: 'busy', until: new Date(Date.now() - 60_000).toISOString() },
      { presence: 'away', until: new Date(Date.now() + 60_000).toISOString() },
      { presence: 'busy', until: 'tomorrow' },
      { presence: 'offline' },
      { presence: 'dnd' },
      {},
    ];
    for (const fields of bad) {
      const r = await alice.request('presence.set', fields);
      expect(r.ok, JSON.stringify(fields)).toBe(false);
      expect(r.error.code).toBe('VALIDATION_ERROR');
    }
    expect(await presenceOf('alice')).toBe('online');
    expect((await w.rest('alice', 'GET', '/v1/notifications/settings')).body.settings.dnd_until).toBeNull();
  });
});

describe('busy by itself', () => {
  it('pausing notifications shows busy; resuming shows online', async () => {
    await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob, ['alice']);
    const r = await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_minutes: 30 });
    expect(r.status).toBe(200);
    await eventually(() => heard(bob, 'alice') === 'busy');
    await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_minutes: 0 });
    await eventually(() => heard(bob, 'alice') === 'online');
  });

  it('an open DND window shows busy from connect; offline users stay offline', async () => {
    const now = new Date();
    const window = {
      start: hhmm(new Date(now.getTime() - 60 * 60_000)),
      end: hhmm(new Date(now.getTime() + 60 * 60_000)),
    };
    const r = await w.rest('alice', 'PATCH', '/v1/notifications/settings', { time_zone: 'UTC', dnd_schedule: window });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.settings.dnd_active).toBe(true);
    expect(await presenceOf('alice')).toBe('offline');
    const bob = await w.socket('bob');
    await follow(bob, ['alice']);
    const alice = await w.socket('alice');
    await eventually(() => heard(bob, 'alice') === 'busy');
    expect(
      bob
        .events('presence.changed')
        .filter((f) => f.user.id === 'alice')
        .map((f) => f.presence),
    ).toEqual(['busy']);
    // `online` does not end a window (it ends only a chosen pause).
    expect((await alice.request('presence.set', { presence: 'online' })).presence).toBe('busy');
    // The window closes: online.
    await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_schedule: null });
    await eventually(() => heard(bob, 'alice') === 'online');
  });

  it("another app's user of the same id is never shown busy by this one's pause", async () => {
    const other = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
    await other.channel('alice', 'group', 'busy', ['bob']);
    await other.socket('alice');
    await w.socket('alice');
    await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_minutes: 30 });
    expect(await presenceOf('alice')).toBe('busy');
    expect(await presenceOf('alice', 'bob', other)).toBe('online');
    await other.closeSockets();
  });
});

describe('busy on two nodes', () => {
  const broker = clusterBrokers('busy');
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let n1: Harness;
  let n2: Harness;
  beforeAll(async () => {
    db = await testDatabase();
    const cfg = { ...QUIET, masterKey: 'b'.repeat(64), presenceGraceMs: 100, busyCheckMs: 100 };
    n1 = await startHarness({ ...cfg, nodeId: 'b1' }, { database: db.database, broker: await broker() });
    n2 = await startHarness({ ...cfg, nodeId: 'b2' }, { database: db.database, broker: await broker() });
  });
  afterAll(async () => {
    await n1.close();
    await n2.close();
    await db.drop();
  });

  it('busy set on one node reaches followers on the other, and survives a connection closing', async () => {
    const w1 = await makeWorld(n1, [{ id: 'alice' }, { id: 'bob' }]);
    await w1.channel('alice', 'group', 'two', ['bob']);
    const onN2 = (await import('../harness.js')).TestSocket;
    const url2 = await n2.listen();
    const bob = await onN2.connect(url2, w1.app, 'bob');
    await follow(bob, ['alice']);
    const a1 = await w1.socket('alice');
    const a2 = await onN2.connect(url2, w1.app, 'alice');
    await eventually(() => heard(bob, 'alice') === 'online');
    expect((await a1.request('presence.set', { presence: 'busy' })).presence).toBe('busy');
    await eventually(() => heard(bob, 'alice') === 'busy');
    const viaN2 = await n2.call({ method: 'GET', url: '/v1/users/alice', headers: await w1.app.user('bob') });
    expect(viaN2.body.user.presence).toBe('busy');
    // Her connection on node 1 closes; node 2 still holds one: still busy, never online between.
    a1.close();
    await a1.waitClose();
    await eventually(async () => {
      const r = await n1.call({ method: 'GET', url: '/v1/users/alice', headers: await w1.app.user('bob') });
      return r.body.user.presence === 'busy';
    });
    // Resuming notifications through node 1 (which holds none of her connections) reaches bob.
    await n1.call({
      method: 'PATCH',
      url: '/v1/notifications/settings',
      headers: await w1.app.user('alice'),
      payload: { dnd_minutes: 0 },
    });
    await eventually(() => heard(bob, 'alice') === 'online');
    const states = bob
      .events('presence.changed')
      .filter((f) => f.user.id === 'alice')
      .map((f) => f.presence);
    expect(states.slice(states.indexOf('busy'))).not.toContain('offline');
    bob.close();
    a2.close();
    await w1.closeSockets();
  });
});

it('a pause that is not a time is refused over REST with a typed error', async () => {
  const r = await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_until: 'soon' });
  expectError(r, 400, 'VALIDATION_ERROR');
});
