/**
 * Tenancy: two apps on one server share nothing. With app B's key and tokens — even a B user
 * whose id equals an A user's — nothing of app A can be read, written or found.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { expectError } from './helpers.js';

let h: Harness;
let a: TestApp;
let b: TestApp;
/** A's secret message, its thread reply, and A's public message. */
let secretMsg: any;
let replyMsg: any;
let publicMsg: any;
const SECRET = 'a-only-secret-text';

beforeAll(async () => {
  h = await startHarness();
  a = await h.createApp('tenant-a');
  b = await h.createApp('tenant-b');
  await h.users(a, [
    { id: 'alice', name: 'Alice of A', username: 'alice_a' },
    { id: 'bob', name: 'Bob of A', username: 'bob_a' },
    { id: 'only-in-a', name: 'Aonly', username: 'aonly' },
  ]);
  await h.users(b, [
    { id: 'alice', name: 'Alice of B', username: 'alice_b' },
    { id: 'eve', name: 'Eve of B', username: 'eve_b' },
  ]);
  const aAlice = await a.user('alice');
  const mk = async (headers: Record<string, string>, payload: object) => {
    const r = await h.call({ method: 'POST', url: '/v1/channels', headers, payload });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  await mk(aAlice, { type: 'group', id: 'secret', name: 'A secret', members: ['bob'] });
  await mk(aAlice, { type: 'public', id: 'general', name: 'A general', members: ['bob'] });
  await mk(await b.user('alice'), { type: 'public', id: 'general', name: 'B general', members: ['eve'] });
  const post = async (headers: Record<string, string>, cid: string, payload: object) => {
    const r = await h.call({ method: 'POST', url: `/v1/channels/${cid}/messages`, headers, payload });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.message;
  };
  secretMsg = await post(aAlice, 'group:secret', { text: SECRET });
  replyMsg = await post(await a.user('bob'), 'group:secret', { text: `${SECRET} reply`, parent_id: secretMsg.id });
  publicMsg = await post(aAlice, 'public:general', { text: `${SECRET} in public` });
  const react = await h.call({
    method: 'POST',
    url: `/v1/messages/${secretMsg.id}/reactions`,
    headers: await a.user('bob'),
    payload: { type: 'like' },
  });
  expect(react.status).toBe(200);
  await post(await b.user('eve'), 'public:general', { text: 'b hello' });
});
afterAll(async () => {
  await h?.close();
});

/** Every B identity: a user with an id that also exists in A, a B-only user, the B server. */
async function bCallers(): Promise<[string, Record<string, string>][]> {
  return [
    ['B user alice', await b.user('alice')],
    ['B user eve', await b.user('eve')],
    ['B server', await b.server()],
  ];
}

function neverA(label: string, r: { status: number; body: unknown }) {
  const raw = JSON.stringify(r.body);
  expect(raw, label).not.toContain(SECRET);
  expect(raw, label).not.toContain('Alice of A');
  expect(raw, label).not.toContain('Bob of A');
  expect(raw, label).not.toContain(secretMsg.id);
  expect(raw, label).not.toContain(a.id);
}

describe("app B cannot reach app A's data", () => {
  it("reads: channel, messages, events, replies, message, pinned of A's ids → 404", async () => {
    for (const [who, headers] of await bCallers()) {
      for (const url of [
        '/v1/channels/group:secret',
        '/v1/channels/group:secret/messages',
        '/v1/channels/group:secret/events?after=0',
        '/v1/channels/group:secret/pinned',
        `/v1/messages/${secretMsg.id}`,
        `/v1/messages/${publicMsg.id}`,
        `/v1/messages/${replyMsg.id}`,
        `/v1/messages/${secretMsg.id}/replies`,
        '/v1/users/only-in-a',
      ]) {
        const r = await h.call({ method: 'GET', url, headers });
        expectError(r, 'NOT_FOUND');
        neverA(`${who} GET ${url}`, r);
      }
    }
  });

  it("B's own public:general is B's, not A's channel of the same cid", async () => {
    const ch = await h.call({ method: 'GET', url: '/v1/channels/public:general', headers: await b.user('eve') });
    expect(ch.status).toBe(200);
    expect(ch.body.channel.name).toBe('B general');
    expect(ch.body.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'eve']);
    const msgs = await h.call({
      method: 'GET',
      url: '/v1/channels/public:general/messages',
      headers: await b.user('eve'),
    });
    expect(msgs.body.messages.map((m: any) => m.text)).toEqual(['b hello']);
    const events = await h.call({
      method: 'GET',
      url: '/v1/channels/public:general/events?after=0',
      headers: await b.server(),
    });
    expect(events.status).toBe(200);
    neverA('B events of its own general', events);
  });

  it('user search and channel queries find only B', async () => {
    for (const [who, headers] of await bCallers()) {
      for (const q of ['ali', 'bob', 'aonly', 'Alice of', '']) {
        const r = await h.call({ method: 'GET', url: `/v1/users?q=${encodeURIComponent(q)}&limit=200`, headers });
        expect(r.status, `${who} q=${q}`).toBe(200);
        neverA(`${who} search ${q}`, r);
        for (const u of r.body.users) expect(['alice', 'eve']).toContain(u.id);
      }
    }
    for (const [who, headers] of (await bCallers()).slice(0, 2)) {
      for (const filter of [
        {},
        { cid: 'group:secret' },
        { cid: { $in: ['group:secret', 'public:general'] } },
        { members: 'bob' },
        { name: { $autocomplete: 'A ' } },
        { joined: false },
        { type: 'group' },
      ]) {
        const r = await h.call({ method: 'POST', url: '/v1/channels/query', headers, payload: { filter } });
        expect(r.status, `${who} ${JSON.stringify(filter)}: ${JSON.stringify(r.body)}`).toBe(200);
        neverA(`${who} query ${JSON.stringify(filter)}`, r);
        for (const c of r.body.channels) expect(c.name).not.toMatch(/^A /);
      }
    }
  });

  it("writes into A's channel or onto A's messages are refused and change nothing", async () => {
    for (const [who, headers] of await bCallers()) {
      const attempts = [
        { method: 'POST', url: '/v1/channels/group:secret/messages', payload: { text: 'intrusion' } },
        { method: 'POST', url: `/v1/messages/${secretMsg.id}/reactions`, payload: { type: 'angry' } },
        { method: 'DELETE', url: `/v1/messages/${secretMsg.id}/reactions/like` },
        { method: 'PATCH', url: `/v1/messages/${secretMsg.id}`, payload: { text: 'defaced' } },
        { method: 'DELETE', url: `/v1/messages/${secretMsg.id}` },
        { method: 'POST', url: '/v1/channels/group:secret/read', payload: { seq: 1 } },
        { method: 'POST', url: '/v1/channels/group:secret/members', payload: { add: ['eve'] } },
        { method: 'POST', url: '/v1/channels/public:general/members', payload: { add: ['bob'] } },
        { method: 'POST', url: '/v1/channels/group:secret/join' },
        {
          method: 'POST',
          url: '/v1/channels/public:general/messages',
          payload: { text: 'reply into A', parent_id: secretMsg.id },
        },
      ] as const;
      for (const at of attempts) {
        const r = await h.call({ ...at, headers } as any);
        const label = `${who} ${at.method} ${at.url} ${JSON.stringify((at as any).payload ?? {})}`;
        expect(r.status, `${label}: ${r.status} ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
        expect(r.body?.error?.code, label).toEqual(expect.any(String));
        neverA(label, r);
      }
    }
    // A's data is exactly as it was.
    const aAlice = await a.user('alice');
    const msgs = await h.call({ method: 'GET', url: '/v1/channels/group:secret/messages', headers: aAlice });
    expect(msgs.body.messages.map((m: any) => m.text)).toEqual([SECRET]);
    const msg = msgs.body.messages[0];
    expect(msg).toMatchObject({ type: 'regular', reactions: { like: 1 }, reply_count: 1, deleted_at: null });
    const ch = await h.call({ method: 'GET', url: '/v1/channels/group:secret', headers: aAlice });
    expect(ch.body.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob']);
    const pub = await h.call({ method: 'GET', url: '/v1/channels/public:general', headers: aAlice });
    expect(pub.body.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob']);
  });

  it("a B user cannot create channels with A's users", async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await b.user('eve'),
      payload: { type: 'dm', members: ['only-in-a'] },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    neverA('dm with A user', r);
  });

  it("a B token with A's API key is refused (401)", async () => {
    for (const token of [await b.token('alice'), await b.token('eve'), await b.token(null)]) {
      const r = await h.call({
        method: 'GET',
        url: '/v1/channels/group:secret',
        headers: { 'x-api-key': a.apiKey, authorization: `Bearer ${token}` },
      });
      expectError(r, 'UNAUTHORIZED');
    }
  });

  it("B's sockets never see A's events and cannot watch A's channels", async () => {
    const url = await h.listen();
    const bAlice = await TestSocket.connect(url, b, 'alice');
    try {
      const hello = bAlice.frames.find((f) => f.type === 'hello');
      expect(Object.keys(hello.channels)).toEqual(['public:general']);
      neverA('hello', { status: 200, body: hello });

      const watch = await bAlice.request('channel.watch', { cid: 'group:secret' });
      expect(watch.ok).toBe(false);
      expect(watch.error.code).toBe('NOT_FOUND');
      neverA('watch', { status: 200, body: watch });
      // A resync reads the channel and its log in one batched statement: scoped to B all the same.
      const resync = await bAlice.request('channel.watch', { cid: 'group:secret', since: 0 });
      expect(resync.ok).toBe(false);
      expect(resync.error.code).toBe('NOT_FOUND');
      neverA('resync', { status: 200, body: resync });
      const react = await bAlice.request('reaction.add', { message_id: secretMsg.id, reaction: { type: 'wow' } });
      expect(react.ok).toBe(false);
      expect(react.error.code).toBe('NOT_FOUND');

      // A speaks in both of its channels, then B speaks in its own; B's event arriving proves
      // A's events had their chance to (wrongly) arrive first.
      for (const cid of ['group:secret', 'public:general']) {
        const r = await h.call({
          method: 'POST',
          url: `/v1/channels/${cid}/messages`,
          headers: await a.user('alice'),
          payload: { text: `${SECRET} live` },
        });
        expect(r.status).toBe(200);
      }
      await h.call({
        method: 'POST',
        url: '/v1/channels/public:general/messages',
        headers: await b.user('eve'),
        payload: { text: 'b marker' },
      });
      await bAlice.waitFor((f) => f.type === 'message.new' && f.message.text === 'b marker');
      neverA('socket frames', { status: 200, body: bAlice.frames });
    } finally {
      bAlice.close();
    }
  });
  // Last: it gives B a message with the id of A's, which the tests above must not see.
  it("message ids are per app: B reusing A's message id gets its own message, A's is untouched", async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels/public:general/messages',
      headers: await b.user('eve'),
      payload: { id: secretMsg.id, text: 'b same id' },
    });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ id: secretMsg.id, cid: 'public:general', text: 'b same id', seq: 3 });
    const again = await h.call({ method: 'GET', url: `/v1/messages/${secretMsg.id}`, headers: await b.user('eve') });
    expect(again.body.message.text).toBe('b same id');
    const inA = await h.call({ method: 'GET', url: `/v1/messages/${secretMsg.id}`, headers: await a.user('alice') });
    expect(inA.body.message).toMatchObject({ cid: 'group:secret', text: SECRET, reactions: { like: 1 } });
  });
});

describe('the app cache', () => {
  it('requests that find an app lapsed at the same instant share one read, and a change starts another', async () => {
    const apps = h.server.svc.apps;
    const select = vi.spyOn(h.server.svc.db, 'select');
    try {
      apps.forget(a.id);
      apps.forget(b.id);
      const found = await Promise.all(Array.from({ length: 20 }, () => apps.byKey(a.apiKey)));
      expect(found.map((x) => x?.id)).toEqual(Array(20).fill(a.id));
      expect(select).toHaveBeenCalledTimes(1);
      // Served from the copy now, B's key read on its own.
      expect((await apps.byKey(a.apiKey))?.id).toBe(a.id);
      expect((await apps.byKey(b.apiKey))?.id).toBe(b.id);
      expect(select).toHaveBeenCalledTimes(2);
      // A change while a read is under way: the next request reads again, and the older read
      // does not fill the cache.
      apps.forget(a.id);
      const before = apps.byKey(a.apiKey);
      apps.forget(a.id);
      const after = apps.byKey(a.apiKey);
      expect(select).toHaveBeenCalledTimes(4);
      await Promise.all([before, after]);
      expect(apps.cached(a.apiKey)?.id).toBe(a.id);
      expect(select).toHaveBeenCalledTimes(4);
    } finally {
      select.mockRestore();
    }
  });
});
