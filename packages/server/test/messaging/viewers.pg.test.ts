/**
 * Who is viewing a conversation: `channel.view` and `viewers.changed` — two people viewing, one
 * leaving the view, one's socket closing; the device kind each views on; access (a private
 * channel's non-member, another app, bad input); and over several nodes (with Redis): the pool,
 * and a dead node's viewer lapsing.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterBrokers, type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';
import { expectWsError, makeWorld, type World } from './world.js';

let h: Harness;
let w: World;
let url: string;
let n = 0;
const group = () => w.channel('alice', 'group', `v${n++}`, ['bob']);
const extra: TestSocket[] = [];

/** A socket of `user` that declares `device`, or sends `userAgent` with its upgrade. */
async function deviceSocket(
  base: string,
  app: TestApp,
  user: string,
  opts: { device?: string; userAgent?: string },
): Promise<TestSocket> {
  const q = opts.device ? `&device=${opts.device}` : '';
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws?api_key=${encodeURIComponent(app.apiKey)}${q}`, {
    headers: opts.userAgent ? { 'user-agent': opts.userAgent } : {},
  });
  const s = new TestSocket(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  s.sendRaw(JSON.stringify({ type: 'auth', token: await app.token(user) }));
  await s.waitFor((f) => f.type === 'hello');
  extra.push(s);
  return s;
}

/** The viewers.changed frames of `cid` a socket got, as `user:devices` lists. */
const lists = (s: TestSocket, cid: string) =>
  s
    .events()
    .filter((f) => f.type === 'viewers.changed' && f.cid === cid)
    .map((f) => f.viewers.map((v: any) => `${v.user_id}:${v.devices.join('+')}`).join(','));

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'zed' }]);
  url = await h.listen();
});
afterEach(async () => {
  for (const s of extra.splice(0)) if (!s.closed) s.close();
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
});

describe('viewers', () => {
  it('two people viewing; one leaves the view, then the other’s socket closes: each change is told', async () => {
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    const first = await alice.request('channel.view', { cid });
    expect(first).toMatchObject({ ok: true, viewers: [{ user_id: 'alice', devices: ['web'] }] });
    await bob.waitFor((f) => f.type === 'viewers.changed' && f.cid === cid);
    const both = await bob.request('channel.view', { cid });
    expect(both.viewers.map((v: any) => v.user_id)).toEqual(['alice', 'bob']);
    await alice.waitFor((f) => f.type === 'viewers.changed' && f.viewers.length === 2);

    // Bob's view is hidden (another channel, or none): Alice is told he left.
    const none = await bob.request('channel.view', { cid: null });
    expect(none).toMatchObject({ ok: true, viewers: [] });
    await alice.waitFor((f) => f.type === 'viewers.changed' && lists(alice, cid).length === 3);
    expect(lists(alice, cid)).toEqual(['alice:web', 'alice:web,bob:web', 'alice:web']);

    // Bob views again; then his socket closes: that ends his view too.
    await bob.request('channel.view', { cid });
    await alice.waitFor(() => lists(alice, cid).length === 4);
    bob.close();
    await alice.waitFor(() => lists(alice, cid).length === 5);
    expect(lists(alice, cid).slice(3)).toEqual(['alice:web,bob:web', 'alice:web']);
    // The same view again changes nothing and tells no one.
    const again = await alice.request('channel.view', { cid });
    expect(again.viewers).toEqual([{ user_id: 'alice', devices: ['web'] }]);
    await alice.request('ping');
    expect(lists(alice, cid)).toHaveLength(5);
  });

  it('moving to another channel leaves the first; outsiders hear nothing', async () => {
    const [one, two] = [await group(), await group()];
    const [alice, bob, zed] = [await w.socket('alice'), await w.socket('bob'), await w.socket('zed')];
    await alice.request('channel.view', { cid: one });
    await bob.waitFor(() => lists(bob, one).length === 1);
    await alice.request('channel.view', { cid: two });
    await bob.waitFor(() => lists(bob, one).length === 2 && lists(bob, two).length === 1);
    expect(lists(bob, one)).toEqual(['alice:web', '']);
    expect(lists(bob, two)).toEqual(['alice:web']);
    await zed.request('ping');
    expect(zed.events().filter((f) => f.type === 'viewers.changed')).toEqual([]);
  });

  it('each person is shown once, with the kinds of device they view on (declared, or from the User-Agent)', async () => {
    const cid = await group();
    const bob = await w.socket('bob');
    const phone = await deviceSocket(url, w.app, 'alice', {
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
    });
    const desk = await deviceSocket(url, w.app, 'alice', { device: 'desktop' });
    const odd = await deviceSocket(url, w.app, 'alice', { device: 'toaster' });
    await phone.request('channel.view', { cid });
    await desk.request('channel.view', { cid });
    const r = await odd.request('channel.view', { cid });
    expect(r.viewers).toEqual([{ user_id: 'alice', devices: ['web', 'desktop', 'mobile'] }]);
    await bob.waitFor(() => lists(bob, cid).at(-1) === 'alice:web+desktop+mobile');
    desk.close();
    await bob.waitFor(() => lists(bob, cid).at(-1) === 'alice:web+mobile');
  });

  it('a non-member may not view a private channel, nor anyone of another app; bad input is a typed error', async () => {
    const cid = await group();
    const zed = await w.socket('zed');
    const refused = await zed.request('channel.view', { cid });
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(refused.error?.code);
    expectWsError(refused, refused.error.code);
    // Another app's user with the same ids sees no such channel.
    const other = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
    const stranger = await other.socket('alice');
    expectWsError(await stranger.request('channel.view', { cid }), 'NOT_FOUND');
    expectWsError(await zed.request('channel.view', { cid: 42 }), 'VALIDATION_ERROR');
    expectWsError(await zed.request('channel.view', {}), 'VALIDATION_ERROR');
    expectWsError(await zed.request('channel.view', { cid: 'no colon' }), 'VALIDATION_ERROR');
    await other.closeSockets();
    // None of this made anyone a viewer.
    const alice = await w.socket('alice');
    const r = await alice.request('channel.view', { cid });
    expect(r.viewers.map((v: any) => v.user_id)).toEqual(['alice']);
  });

  it('a member removed from a private channel stops viewing it', async () => {
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    await bob.request('channel.view', { cid });
    await alice.request('channel.view', { cid });
    await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web,bob:web');
    const removed = await w.rest('alice', 'POST', `/v1/channels/${cid}/members`, { remove: ['bob'] });
    expect(removed.status).toBe(200);
    await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web');
  });

  it('too many views in a minute are refused with RATE_LIMITED', async () => {
    const cid = await group();
    const bob = await w.socket('bob');
    const saved = h.config.limits;
    h.config.limits = { ...saved, views: { user: 3, ip: 0, app: 0, windowMs: 60_000 } };
    try {
      for (const view of [cid, null, cid]) expect((await bob.request('channel.view', { cid: view })).ok).toBe(true);
      expectWsError(await bob.request('channel.view', { cid: null }), 'RATE_LIMITED');
    } finally {
      h.config.limits = saved;
    }
  });

  it('anyone who may read a public channel may view it, and its watchers are told', async () => {
    const cid = await w.channel('alice', 'public', `open${n++}`, []);
    const [alice, zed] = [await w.socket('alice'), await w.socket('zed')];
    await zed.request('channel.watch', { cid });
    await alice.request('channel.view', { cid });
    await zed.waitFor(() => lists(zed, cid).length === 1);
    const r = await zed.request('channel.view', { cid });
    expect(r.viewers.map((v: any) => v.user_id)).toEqual(['alice', 'zed']);
    await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web,zed:web');
  });
});

describe('device kinds on presence', () => {
  it('presence.changed and the presence.subscribe answer carry the kinds of device a user is on', async () => {
    const other = await makeWorld(h, [{ id: 'dev' }, { id: 'fan' }]);
    try {
      const fan = await other.socket('fan');
      const followed = await fan.request('presence.subscribe', { user_ids: ['dev'] });
      expect(followed.presence).toEqual({ dev: 'offline' });
      expect(followed.devices).toEqual({});
      const devices = () =>
        fan
          .events()
          .filter((f) => f.type === 'presence.changed' && f.user.id === 'dev' && f.devices)
          .map((f) => `${f.presence}:${f.devices.join('+')}`);
      const web = await deviceSocket(url, other.app, 'dev', {});
      await fan.waitFor(() => devices().at(-1) === 'online:web');
      expect(fan.events().find((f) => f.type === 'presence.changed')?.user.devices).toEqual(['web']);
      const phone = await deviceSocket(url, other.app, 'dev', { device: 'mobile' });
      await fan.waitFor(() => devices().at(-1) === 'online:web+mobile');
      // A second web connection is no new kind: nothing is announced for it.
      const web2 = await deviceSocket(url, other.app, 'dev', {});
      const again = await fan.request('presence.subscribe', { user_ids: ['dev'] });
      expect(again.devices).toEqual({ dev: ['web', 'mobile'] });
      // The phone closes: after the grace, the user is online on the web only.
      phone.close();
      await fan.waitFor(() => devices().at(-1) === 'online:web');
      web.close();
      web2.close();
      await fan.waitFor(() => devices().at(-1) === 'offline:');
      expect(devices()).toEqual(['online:web', 'online:web+mobile', 'online:web', 'offline:']);
    } finally {
      await other.closeSockets();
    }
  });
});

const redisUrl = process.env.REDIS_URL;

describe.runIf(!!redisUrl)('viewers over several nodes (redis)', () => {
  const broker = clusterBrokers('viewers');
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nodes: Harness[] = [];
  let app: TestApp;
  const TTL = 600;

  beforeAll(async () => {
    db = await testDatabase();
    const masterKey = 'b'.repeat(64);
    nodes = [
      await startHarness(
        { nodeId: 'v1', masterKey, presenceTtlMs: TTL },
        { database: db.database, broker: await broker() },
      ),
      await startHarness(
        { nodeId: 'v2', masterKey, presenceTtlMs: TTL },
        { database: db.database, broker: await broker() },
      ),
    ];
    app = await (nodes[0] as Harness).createApp();
    await (nodes[0] as Harness).users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'cy' }]);
    await (nodes[0] as Harness).call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'pooled', members: ['bob'] },
    });
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await db?.drop();
  });

  it('pools the viewers of nodes; a dead node’s viewer lapses and is announced gone', async () => {
    const [n1, n2] = nodes as [Harness, Harness];
    const cid = 'group:pooled';
    const alice = await TestSocket.connect(await n1.listen(), app, 'alice');
    const bob = await TestSocket.connect(await n2.listen(), app, 'bob');
    await alice.request('channel.view', { cid });
    const r = await bob.request('channel.view', { cid });
    expect(r.viewers.map((v: any) => v.user_id)).toEqual(['alice', 'bob']);
    await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web,bob:web');
    bob.close();
    await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web');

    // A node that dies leaves its viewer's field behind, no longer refreshed: here one written
    // straight into the pool, as that node would have, good for 2.5 s (long enough for the two
    // requests below on a loaded machine; the live nodes refresh every TTL/3).
    const redis = new Redis(redisUrl as string);
    try {
      await redis.hset(`parley:viewers:${app.id}:${cid}`, 'dead-node|c1', `bob|mobile|${Date.now() + 2_500}`);
      // The next change reads the pool: bob is there, on his phone…
      const seen = await alice.request('channel.view', { cid: null });
      expect(seen.ok).toBe(true);
      const back = await alice.request('channel.view', { cid });
      expect(back.viewers.map((v: any) => `${v.user_id}:${v.devices.join('+')}`)).toEqual(['alice:web', 'bob:mobile']);
      await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web,bob:mobile');
      // …and once his field expires, alice's node announces the list without him on its own.
      await alice.waitFor(() => lists(alice, cid).at(-1) === 'alice:web');
    } finally {
      redis.disconnect();
    }
    alice.close();
  });

  it('pools the kinds of device a user is on over nodes', async () => {
    const [n1, n2] = nodes as [Harness, Harness];
    const bob = await TestSocket.connect(await n1.listen(), app, 'bob');
    await bob.request('presence.subscribe', { user_ids: ['cy'] });
    const devices = () =>
      bob
        .events()
        .filter((f) => f.type === 'presence.changed' && f.user.id === 'cy' && f.devices)
        .map((f) => `${f.presence}:${f.devices.join('+')}`);
    const web = await deviceSocket(await n1.listen(), app, 'cy', {});
    await bob.waitFor(() => devices().at(-1) === 'online:web');
    const phone = await deviceSocket(await n2.listen(), app, 'cy', { device: 'mobile' });
    await bob.waitFor(() => devices().at(-1) === 'online:web+mobile');
    const seen = await bob.request('presence.subscribe', { user_ids: ['cy'] });
    expect(seen.devices).toEqual({ cy: ['web', 'mobile'] });
    // The phone's node lets go of her: she is online on the web only, through the other node.
    phone.close();
    await bob.waitFor(() => devices().at(-1) === 'online:web');
    web.close();
    await bob.waitFor(() => devices().at(-1) === 'offline:');
    bob.close();
  });
});
