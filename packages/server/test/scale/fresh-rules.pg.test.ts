/**
 * Sockets never keep old rules: a change to an app's automod lists or permission overrides
 * applies at once to sockets already open, on every node, and deleting a user closes every
 * socket of theirs on every node, app-signed tokens included. Two nodes share one database and
 * one broker (Redis when REDIS_URL is set, else an in-process network). Written after a socket
 * opened before an automod change kept sending blocked words (`ok: true`) long after it, and a
 * deleted user's app-token socket kept receiving events.
 */
import { uuidv7 } from '@parley/protocol';
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

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('fresh');

let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let url1: string;
let url2: string;
let app: TestApp;
const sockets: TestSocket[] = [];

async function connect(node: 1 | 2, user: string): Promise<TestSocket> {
  const s = await TestSocket.connect(node === 1 ? url1 : url2, app, user);
  sockets.push(s);
  return s;
}
async function rest(
  node: 1 | 2,
  user: string | null,
  method: 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
) {
  const h = node === 1 ? n1 : n2;
  return h.call({
    method,
    url,
    headers: user ? await app.user(user) : await app.server(),
    ...(payload ? { payload } : {}),
  });
}
const automod = (words: string[]) => ({
  blocked_words: words,
  blocked_patterns: [],
  blocked_domains: [],
  action: 'block',
  spam_channels: 0,
  spam_window_s: 60,
  max_mentions: 0,
});
/**
 * What a socket gets for `text` once the change has reached its node: at once on the node that
 * made the change, and within the broker's delivery (a Redis round trip) on the other.
 */
async function settled(s: TestSocket, text: string, sameNode: boolean): Promise<any> {
  if (sameNode) return send(s, text);
  let last: any;
  await eventually(async () => {
    last = await send(s, text);
    return !last.ok;
  }, 3_000);
  return last;
}
const send = (s: TestSocket, text: string, cid = 'public:fresh') =>
  s.request('message.send', { cid, message: { id: uuidv7(), text } });

beforeAll(async () => {
  db = await testDatabase();
  n1 = await startHarness(
    { nodeId: 'f1', masterKey: 'd'.repeat(64) },
    { database: db.database, broker: await broker() },
  );
  n2 = await startHarness(
    { nodeId: 'f2', masterKey: 'd'.repeat(64) },
    { database: db.database, broker: await broker() },
  );
  url1 = await n1.listen();
  url2 = await n2.listen();
  app = await n1.createApp('fresh-rules');
  await n1.users(
    app,
    ['owner', 'bob', 'carol', 'dan', 'erin'].map((id) => ({ id, name: id })),
  );
  const r = await rest(1, 'owner', 'POST', '/v1/channels', {
    type: 'public',
    id: 'fresh',
    members: ['bob', 'carol', 'dan', 'erin'],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await n1.close();
  await n2.close();
  await db.drop();
});

describe(`settings reach open sockets on every node (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('an automod change blocks words on sockets opened before it, on both nodes, and its removal frees them', async () => {
    const on1 = await connect(1, 'bob');
    const on2 = await connect(2, 'bob');
    // Both nodes have read the app (a frame each) before the change.
    expect((await send(on1, 'plain words')).ok).toBe(true);
    expect((await send(on2, 'plain words')).ok).toBe(true);
    const put = await rest(1, null, 'PUT', '/v1/moderation/automod', automod(['zorblax']));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    for (const [s, same] of [
      [on1, true],
      [on2, false],
    ] as const) {
      const r = await settled(s, 'a zorblax here', same);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, error: { code: 'MESSAGE_BLOCKED' } });
    }
    // REST on the other node too, at once rather than after its cache's 30 s.
    await eventually(
      async () =>
        (await rest(2, 'bob', 'POST', '/v1/channels/public:fresh/messages', { text: 'zorblax' })).status === 422,
      3_000,
    );
    const off = await rest(2, null, 'PUT', '/v1/moderation/automod', automod([]));
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect((await send(on2, 'a zorblax again')).ok).toBe(true);
    await eventually(async () => (await send(on1, 'a zorblax again')).ok, 3_000);
  });

  it('a permission override applies at once to open sockets on both nodes', async () => {
    const on1 = await connect(1, 'carol');
    const on2 = await connect(2, 'carol');
    expect((await send(on1, 'may post')).ok).toBe(true);
    expect((await send(on2, 'may post')).ok).toBe(true);
    const admin = { authorization: `Bearer ${n2.config.adminToken}` };
    const put = (overrides: object) =>
      n2.call({ method: 'PUT', url: `/v1/admin/apps/${app.id}/permissions`, headers: admin, payload: { overrides } });
    expect((await put({ public: { 'send-message': 'moderator' } })).status).toBe(200);
    for (const [s, same] of [
      [on2, true],
      [on1, false],
    ] as const) {
      const r = await settled(s, 'now refused', same);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect((await put({})).status).toBe(200);
    expect((await send(on2, 'allowed again')).ok).toBe(true);
    await eventually(async () => (await send(on1, 'allowed again')).ok, 3_000);
  });
});

describe('deleting a user closes every socket of theirs on every node', () => {
  for (const [mode, user] of [
    ['soft', 'dan'],
    ['hard', 'erin'],
  ] as const) {
    it(`${mode}: app-token sockets on both nodes close with 4001, and the token opens no new one`, async () => {
      const on1 = await connect(1, user);
      const on2 = await connect(2, user);
      const r = await rest(2, null, 'DELETE', `/v1/users/${user}?mode=${mode}`);
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      for (const s of [on1, on2]) {
        const closed = await s.waitClose(15_000);
        expect(closed).toEqual({ code: 4001, reason: 'This user was deleted' });
      }
      // A new socket with the same app-signed token is refused on the node that deleted them.
      const again = await TestSocket.open(url2, app.apiKey);
      sockets.push(again);
      again.sendRaw(JSON.stringify({ type: 'auth', token: await app.token(user) }));
      expect((await again.waitClose()).code).toBe(4001);
      // And nothing more reaches them: the channel goes on without them.
      const owner = await connect(1, 'owner');
      expect((await send(owner, `after ${user} left`)).ok).toBe(true);
      await eventually(() => on1.closed !== null && on2.closed !== null);
    });
  }
});
