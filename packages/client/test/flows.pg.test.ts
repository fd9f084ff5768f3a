/**
 * Every SDK flow against a real server started in this process: each test drives the SDK
 * and checks both its reactive state (`client.state.get()`, `channel.state`) and what the
 * server answers through its REST API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, type ClientState, type LocalMessage, MemoryStorage } from '../src/index.js';
import {
  type Harness,
  makeClient,
  serverChannel,
  serverHistory,
  serverUnread,
  startHarness,
  type TestApp,
  until,
} from './setup.js';

let h: Harness;
let app: TestApp;
const open: ChatClient[] = [];
let alice: ChatClient;
let bob: ChatClient;

async function connect(userId: string, opts: Parameters<typeof makeClient>[3] = {}) {
  const c = await makeClient(h, app, userId, opts);
  open.push(c);
  return c;
}

/** A fresh group channel made by alice with these members, watched by alice and bob. */
let n = 0;
async function group(members: string[] = ['bob']) {
  const id = `g${++n}`;
  const a = alice.channel('group', id);
  await a.createChannel({ members, name: `Group ${n}` });
  await a.watch();
  const b = bob.channel('group', id);
  if (members.includes('bob')) await b.watch();
  return { cid: `group:${id}`, a, b };
}

const serverTotal = async (user: string) => (await serverUnread(h, app, user)).total;
const byId = (list: readonly LocalMessage[] | undefined, id: string) => list?.find((m) => m.id === id);

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice' },
    { id: 'bob', username: 'bob', name: 'Bob' },
    { id: 'carol', username: 'carol', name: 'Carol' },
    { id: 'dave', username: 'dave', name: 'Dave' },
    { id: 'alfred', username: 'alfred', name: 'Alfred' },
  ]);
  alice = await connect('alice');
  bob = await connect('bob');
});
afterAll(async () => {
  for (const c of open) await c.disconnectUser();
  await h.close();
});

describe('connection', () => {
  it('connectUser calls the token provider again when the token expired', async () => {
    let calls = 0;
    const dave = await connect('dave', {});
    await dave.disconnectUser();
    // A provider minting short-lived tokens; the first one expires while the socket is up.
    const user = await dave.connectUser({ id: 'dave' }, async () => {
      calls++;
      return app.token('dave', { expiresIn: '2s' });
    });
    expect(user.id).toBe('dave');
    expect(calls).toBe(1);
    expect(dave.state.get().connection).toBe('online');

    await new Promise((r) => setTimeout(r, 2_500)); // past the token's 2 s lifetime: its expiry is the point
    dave.dropConnection();
    await until(() => calls >= 2 && dave.state.get().connection === 'online', 10_000, 'reconnect with a fresh token');
    expect(calls).toBeGreaterThanOrEqual(2);
    // REST calls refresh an expired token through the provider too (401, then once more).
    await new Promise((r) => setTimeout(r, 2_500));
    const before = calls;
    const r = await dave.queryChannels({});
    expect(r.channels).toEqual([]);
    expect(calls).toBe(before + 1);
    expect(dave.state.get().connection).toBe('online');
  });

  it('connection state goes connecting → online → reconnecting → online → offline', async () => {
    const carol = await connect('carol');
    await carol.disconnectUser();
    const seen: string[] = [];
    const unsub = carol.state.subscribe((s) => {
      if (seen.at(-1) !== s.connection) seen.push(s.connection);
    });
    await carol.connectUser({ id: 'carol' }, () => app.token('carol'));
    await until(() => carol.state.get().connection === 'online');
    carol.dropConnection();
    await until(
      () => seen.includes('reconnecting') && carol.state.get().connection === 'online',
      10_000,
      'back online',
    );
    await carol.disconnectUser();
    await until(() => seen.at(-1) === 'offline');
    unsub();
    expect(seen).toContain('connecting');
    expect(seen.indexOf('online')).toBeGreaterThan(seen.indexOf('connecting'));
    expect(seen.lastIndexOf('online')).toBeGreaterThan(seen.indexOf('reconnecting'));
    expect(seen.at(-1)).toBe('offline');
  });

  it('disconnectUser closes the socket, clears state and stops events', async () => {
    const carol = await connect('carol');
    const ch = alice.channel('group', 'disc');
    await ch.createChannel({ members: ['carol'] });
    await ch.watch();
    await carol.queryChannels({});
    expect(carol.state.get().channels['group:disc']).toBeDefined();
    expect(h.server.svc.hub.connectionsOf(app.id, 'carol').size).toBe(1);

    await carol.disconnectUser();
    expect(carol.state.get().connection).toBe('offline');
    expect(carol.state.get().user).toBeNull();
    expect(carol.state.get().channels).toEqual({});
    await until(() => h.server.svc.hub.connectionsOf(app.id, 'carol').size === 0, 5_000, 'server dropped carol');

    let events = 0;
    carol.on('*', () => events++);
    await ch.sendMessage({ text: 'carol is gone' });
    await new Promise((r) => setTimeout(r, 200)); // a window for an event that must not come
    expect(events).toBe(0);
    expect(carol.state.get().channels).toEqual({});
  });

  it('a REST answer that arrives after disconnectUser does not bring state back', async () => {
    // Carol's fetch holds the answer to the channel lookup that channel.added sets off.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = 0;
    const slowFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if ((init?.method ?? 'GET') === 'GET' && String(input).includes('/v1/channels/group:late')) {
        held++;
        await gate;
      }
      return res;
    };
    const carol = await connect('carol', { fetch: slowFetch as never });
    await alice.channel('group', 'late').createChannel({ members: ['carol'] });
    await until(() => held === 1, 5_000, 'the held lookup');
    await carol.disconnectUser();
    release();
    await new Promise((r) => setTimeout(r, 100)); // a window for the held lookup to land in state, which it must not
    expect(carol.state.get().channels).toEqual({});
    expect(carol.state.get().user).toBeNull();
  });

  it('after disconnectUser nothing is sent: a view reloading as it unmounts asks for nothing', async () => {
    const asked: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      asked.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    const carol = await connect('carol', { fetch: counting as never });
    expect(await carol.inbox.count()).toBe(0);
    await carol.disconnectUser();
    asked.length = 0;
    for (const call of [() => carol.inbox.count(), () => carol.sidebar.load(), () => carol.saved.load()])
      await expect(call()).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(asked).toEqual([]);
    // Connected again, it asks as before.
    await carol.connectUser({ id: 'carol' }, () => app.token('carol'));
    expect(await carol.inbox.count()).toBe(0);
    expect(asked).toContain('GET /v1/inbox/count');
    await carol.disconnectUser();
  });

  it('client.on returns an unsubscribe function', async () => {
    const { a, b } = await group();
    const got: string[] = [];
    const off = bob.on('message.new', (e) => got.push((e.message as { text: string }).text));
    const all: string[] = [];
    const offAll = bob.on('*', (e) => all.push(e.type));
    await a.sendMessage({ text: 'one' });
    await until(() => got.length === 1);
    off();
    await a.sendMessage({ text: 'two' });
    await until(
      () => byId(b.state?.messages, b.state?.messages.at(-1)?.id ?? '')?.text === 'two',
      5_000,
      'bob gets two',
    );
    offAll();
    expect(got).toEqual(['one']);
    expect(all.filter((t) => t === 'message.new')).toHaveLength(2);
  });
});

describe('channels', () => {
  it("channel(type, id) and channel('dm', { members }) create, get and share one DM", async () => {
    const g = alice.channel('group', 'named');
    expect(g.cid).toBe('group:named');
    expect(alice.channel('group', 'named')).toBe(g); // one handle per cid
    await g.createChannel({ members: ['bob'], name: 'Named' });
    expect(g.state?.channel.name).toBe('Named');
    expect(Object.keys(g.state?.members ?? {}).sort()).toEqual(['alice', 'bob']);

    const dm = alice.channel('dm', { members: ['bob'] });
    expect(() => dm.cid).toThrow();
    await dm.watch();
    expect(dm.cid).toMatch(/^dm:/);
    const again = bob.channel('dm', { members: ['alice'] });
    await again.watch();
    expect(again.cid).toBe(dm.cid); // get-or-create for the same member set

    const server = await h.call({ method: 'GET', url: `/v1/channels/${dm.cid}`, headers: await app.user('bob') });
    expect(server.status).toBe(200);
    expect(server.body.members.map((m: { user_id: string }) => m.user_id).sort()).toEqual(['alice', 'bob']);
    expect(alice.state.get().channels[dm.cid]?.watching).toBe(true);
  });

  it('watch loads messages and receives live; stopWatching stops the events', async () => {
    // A public channel alice is not a member of: she only gets its events while watching.
    const owner = bob.channel('public', 'town');
    await owner.createChannel({ members: [], name: 'Town' });
    await owner.watch();
    const first = await owner.sendMessage({ text: 'before alice looked' });

    const ch = alice.channel('public', 'town');
    const st = await ch.watch();
    expect(st.watching).toBe(true);
    expect(st.loaded).toBe(true);
    expect(st.messages.map((m) => m.id)).toEqual([first.id]);

    const live = await owner.sendMessage({ text: 'live' });
    await until(() => byId(ch.state?.messages, live.id), 5_000, 'live message');

    await ch.stopWatching();
    expect(ch.state?.watching).toBe(false);
    const unseen = await owner.sendMessage({ text: 'after stopWatching' });
    // A marker on a channel alice is a member of, sent after: once it arrives, the other
    // would have arrived too had she still been watching.
    const { a, b } = await group();
    const marker = await b.sendMessage({ text: 'marker' });
    await until(() => byId(a.state?.messages, marker.id), 5_000, 'marker');
    expect(byId(ch.state?.messages, unseen.id)).toBeUndefined();
    const server = await serverHistory(h, app, 'public:town', 'alice');
    expect(server.map((m) => m.id)).toEqual([first.id, live.id, unseen.id]);
  });

  it('queryChannels fills the channel list, sorted, with unread counts and last message', async () => {
    const dave = await connect('dave');
    for (const id of ['q1', 'q2', 'q3'])
      await alice.channel('group', id).createChannel({ members: ['dave'], name: id });
    // q1 gets the latest message, q2 an earlier one, q3 none (it sorts by its creation).
    await h.call({
      method: 'POST',
      url: '/v1/channels/group:q2/messages',
      headers: await app.user('alice'),
      payload: { text: 'q2 a' },
    });
    await h.call({
      method: 'POST',
      url: '/v1/channels/group:q1/messages',
      headers: await app.user('alice'),
      payload: { text: 'q1 a' },
    });
    await h.call({
      method: 'POST',
      url: '/v1/channels/group:q1/messages',
      headers: await app.user('alice'),
      payload: { text: 'q1 b' },
    });

    const r = await dave.queryChannels({ type: 'group' }, [{ field: 'last_message_at', direction: -1 }]);
    expect(r.channels.map((c) => c.cid)).toEqual(['group:q1', 'group:q2', 'group:q3']);
    const s = dave.state.get();
    expect(s.channelList).toEqual(['group:q1', 'group:q2', 'group:q3']);
    expect(s.channels['group:q1']?.unreadCount).toBe(2);
    expect(s.channels['group:q2']?.unreadCount).toBe(1);
    expect(s.channels['group:q3']?.unreadCount).toBe(0);
    expect(s.channels['group:q1']?.channel.last_message?.text).toBe('q1 b');
    // The totals are the server's, pushed (`unread.updated`): over all of Dave's channels.
    const q1 = (await serverChannel(h, app, 'group:q1', 'dave')).unread_count;
    expect(await serverTotal('dave')).toBe(q1 + 1);
    await until(() => dave.state.get().totalUnread === q1 + 1, 5_000, 'the pushed total');

    // A message arriving in q2 moves it to the top with its new count and last message.
    await h.call({
      method: 'POST',
      url: '/v1/channels/group:q2/messages',
      headers: await app.user('alice'),
      payload: { text: 'q2 b' },
    });
    await until(() => dave.state.get().channelList[0] === 'group:q2', 5_000, 'q2 on top');
    const s2 = dave.state.get();
    expect(s2.channels['group:q2']?.unreadCount).toBe(2);
    expect(s2.channels['group:q2']?.channel.last_message?.text).toBe('q2 b');
    await until(() => dave.state.get().totalUnread === 4, 5_000, 'the pushed total');
    expect(await serverTotal('dave')).toBe(4);
    expect((await serverChannel(h, app, 'group:q2', 'dave')).unread_count).toBe(2);
  });

  it('the channel list re-sorts at once on an optimistic send', async () => {
    const x = alice.channel('group', 'sort-x');
    await x.createChannel({ members: ['bob'] });
    await x.watch();
    const y = alice.channel('group', 'sort-y');
    await y.createChannel({ members: ['bob'] });
    await y.watch();
    await y.sendMessage({ text: 'y is newest' });
    await until(() => alice.state.get().channelList[0] === 'group:sort-y');

    const p = x.sendMessage({ text: 'x jumps up' });
    // No await: the pending message already moved the channel to the top.
    expect(alice.state.get().channelList[0]).toBe('group:sort-x');
    expect(alice.state.get().channels['group:sort-x']?.channel.last_message?.text).toBe('x jumps up');
    await p;
    expect(alice.state.get().channelList[0]).toBe('group:sort-x');
  });
});

describe('messages', () => {
  it('sendMessage is optimistic: sending, then sent with its seq, as the server stored it', async () => {
    const { cid, a, b } = await group();
    const p = a.sendMessage({ text: 'hello there' });
    const pending = a.state?.messages.at(-1);
    expect(pending?.status).toBe('sending');
    expect(pending?.seq).toBe(0);
    expect(pending?.text).toBe('hello there');
    const sent = await p;
    expect(sent.id).toBe(pending?.id);
    expect(sent.status).toBe('sent');
    expect(sent.seq).toBeGreaterThan(0);
    expect(byId(a.state?.messages, sent.id)?.status).toBe('sent');
    expect(byId(a.state?.messages, sent.id)?.seq).toBe(sent.seq);

    const server = await serverHistory(h, app, cid, 'alice');
    expect(server.find((m) => m.id === sent.id)?.seq).toBe(sent.seq);
    await until(() => byId(b.state?.messages, sent.id), 5_000, 'bob receives');
    expect(bob.state.get().channels[cid]?.channel.last_message?.id).toBe(sent.id);
  });

  it('a refused send ends failed with its code; retry(id) after the fix reuses the id and ends sent', async () => {
    const { cid, a, b } = await group(['bob']);
    // Too long: refused for good, shown as failed with the server's code.
    const tooLong = 'x'.repeat(10_001);
    await expect(a.sendMessage({ text: tooLong })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    const failed = a.state?.messages.at(-1);
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.code).toBe('VALIDATION_ERROR');
    expect(alice.outbox.some((o) => o.message.id === failed?.id)).toBe(false);

    // Bob is removed: his send is refused; once re-added, retry sends the same id.
    await a.removeMembers(['bob']);
    await until(() => bob.state.get().channels[cid]?.channel.membership === null, 5_000, 'bob sees removal');
    const err = await b.sendMessage({ text: 'let me back in' }).catch((e) => e);
    // The code is the server's: the same send through REST is refused the same way.
    const rest = await h.call({
      method: 'POST',
      url: `/v1/channels/${cid}/messages`,
      headers: await app.user('bob'),
      payload: { text: 'x' },
    });
    expect(rest.status).toBeGreaterThanOrEqual(400);
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(rest.body.error.code);
    expect(err.code).toBe(rest.body.error.code);
    const bobFailed = b.state?.messages.find((m) => m.text === 'let me back in');
    expect(bobFailed?.status).toBe('failed');
    expect(bobFailed?.error?.code).toBe(rest.body.error.code);
    expect((await serverHistory(h, app, cid, 'alice')).some((m) => m.id === bobFailed?.id)).toBe(false);

    await a.addMembers(['bob']);
    const retried = await b.retry(bobFailed!.id);
    expect(retried.id).toBe(bobFailed?.id);
    expect(retried.status).toBe('sent');
    expect(retried.seq).toBeGreaterThan(0);
    const mine = b.state?.messages.filter((m) => m.id === bobFailed?.id) ?? [];
    expect(mine).toHaveLength(1);
    expect(mine[0]?.status).toBe('sent');
    expect(mine[0]?.error).toBeUndefined();
    const server = await serverHistory(h, app, cid, 'alice');
    expect(server.filter((m) => m.id === bobFailed?.id)).toHaveLength(1);
    await until(() => byId(a.state?.messages, bobFailed!.id)?.seq === retried.seq, 5_000, 'alice receives the retry');
  });

  it('updateMessage edits at once, keeps the server answer, and rolls back when refused', async () => {
    const { cid, a, b } = await group();
    const m = await a.sendMessage({ text: 'frist' });
    const p = a.updateMessage(m.id, 'first');
    expect(byId(a.state?.messages, m.id)?.text).toBe('first'); // at once
    const updated = await p;
    expect(updated.text).toBe('first');
    expect(updated.edited_at).not.toBeNull();
    await until(() => byId(b.state?.messages, m.id)?.text === 'first', 5_000, 'bob sees the edit');
    expect((await serverHistory(h, app, cid, 'bob')).find((x) => x.id === m.id)?.text).toBe('first');

    // Bob may not edit alice's message: his optimistic edit rolls back.
    const refused = b.updateMessage(m.id, 'hijacked');
    expect(byId(b.state?.messages, m.id)?.text).toBe('hijacked');
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(byId(b.state?.messages, m.id)?.text).toBe('first');
  });

  it('deleteMessage soft-deletes everywhere', async () => {
    const { cid, a, b } = await group();
    const keep = await a.sendMessage({ text: 'keep' });
    const gone = await a.sendMessage({ text: 'gone' });
    await until(() => byId(b.state?.messages, gone.id));
    const d = await a.deleteMessage(gone.id);
    expect(d.type).toBe('deleted');
    expect(byId(a.state?.messages, gone.id)?.type).toBe('deleted');
    await until(() => byId(b.state?.messages, gone.id)?.type === 'deleted', 5_000, 'bob sees the delete');
    const server = await serverHistory(h, app, cid, 'bob');
    expect(server.find((m) => m.id === gone.id)?.type).toBe('deleted');
    expect(bob.state.get().channels[cid]?.channel.last_message?.id).toBe(keep.id);
  });

  it('sendReaction / deleteReaction toggle at once and agree with the server', async () => {
    const { a, b } = await group();
    const m = await a.sendMessage({ text: 'react to me' });
    await until(() => byId(b.state?.messages, m.id));

    const p = b.sendReaction(m.id, 'like');
    const now = byId(b.state?.messages, m.id);
    expect(now?.own_reactions).toEqual(['like']);
    expect(now?.reactions.like).toBe(1);
    const answered = await p;
    expect(answered.reactions.like).toBe(1);
    await until(() => byId(a.state?.messages, m.id)?.reactions.like === 1, 5_000, 'alice sees the like');
    expect(byId(a.state?.messages, m.id)?.own_reactions).toEqual([]);

    const q = b.deleteReaction(m.id, 'like');
    expect(byId(b.state?.messages, m.id)?.own_reactions).toEqual([]);
    expect(byId(b.state?.messages, m.id)?.reactions.like).toBeUndefined();
    await q;
    await until(() => byId(a.state?.messages, m.id)?.reactions.like === undefined, 5_000, 'alice sees it removed');
    const server = await h.call({ method: 'GET', url: `/v1/messages/${m.id}`, headers: await app.user('bob') });
    expect(server.body.message.reactions).toEqual({});
    expect(server.body.message.own_reactions).toEqual([]);
  });

  it('a reaction on a message just deleted on the server rolls back', async () => {
    const { a, b } = await group();
    const m = await b.sendMessage({ text: 'about to vanish' });
    await until(() => byId(a.state?.messages, m.id));
    // Deleted on the server (by bob, through REST): alice's client has not heard yet.
    const del = await h.call({ method: 'DELETE', url: `/v1/messages/${m.id}`, headers: await app.user('bob') });
    expect(del.status).toBe(200);
    const p = a.sendReaction(m.id, 'love');
    expect(byId(a.state?.messages, m.id)?.own_reactions).toEqual(['love']); // optimistic
    const err = await p.catch((e) => e);
    expect(err.code).toBeDefined();
    await until(() => byId(a.state?.messages, m.id)?.type === 'deleted', 5_000, 'delete arrives');
    const after = byId(a.state?.messages, m.id);
    expect(after?.own_reactions).toEqual([]);
    expect(after?.reactions.love).toBeUndefined();
    expect(after?.text).toBe('');
  });

  it('an edit refused because the message was just deleted does not resurrect it', async () => {
    const { a } = await group();
    const m = await a.sendMessage({ text: 'edit me' });
    const del = await h.call({ method: 'DELETE', url: `/v1/messages/${m.id}`, headers: await app.user('alice') });
    expect(del.status).toBe(200);
    const p = a.updateMessage(m.id, 'edited too late').catch((e) => e);
    const err = await p;
    expect(err.code).toBeDefined();
    await until(() => byId(a.state?.messages, m.id)?.type === 'deleted', 5_000, 'delete arrives');
    // Whichever came first, the reply or the event, the delete stands.
    await new Promise((r) => setTimeout(r, 100));
    expect(byId(a.state?.messages, m.id)?.type).toBe('deleted');
    expect(byId(a.state?.messages, m.id)?.text).toBe('');
  });

  it('markRead and markUnread agree with the server counts', async () => {
    const { cid, a, b } = await group();
    const sent: LocalMessage[] = [];
    for (const t of ['r1', 'r2', 'r3']) sent.push(await b.sendMessage({ text: t }));
    await until(() => alice.state.get().channels[cid]?.unreadCount === 3, 5_000, 'three unread');
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(3);
    // The totals are the server's, pushed after each change (`unread.updated`).
    const total = await serverTotal('alice');
    await until(() => alice.state.get().totalUnread === total, 5_000, 'the pushed total');

    await a.markRead();
    expect(alice.state.get().channels[cid]?.unreadCount).toBe(0);
    await until(() => alice.state.get().totalUnread === total - 3, 5_000, 'the total after the read');
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(0);

    await a.markUnread(sent[1]!.id);
    expect(alice.state.get().channels[cid]?.unreadCount).toBe(2);
    await until(() => alice.state.get().totalUnread === total - 1, 5_000, 'the total after mark unread');
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(2);
    // Bob sees alice's read receipt.
    await until(() => bob.state.get().channels[cid]?.read.alice === sent[0]!.seq, 5_000, 'bob sees the receipt');
  });

  it('a read made offline shows at once and reaches the server after the reconnect, even after a restart', async () => {
    const { cid, a } = await group();
    const bobCh = bob.channel('group', cid.split(':')[1] as string);
    for (const t of ['o1', 'o2']) await bobCh.sendMessage({ text: t });
    await until(() => alice.state.get().channels[cid]?.unreadCount === 2, 5_000, 'two unread');

    alice.pauseConnection();
    await until(() => alice.state.get().connection !== 'online', 5_000, 'alice offline');
    await expect(a.markRead()).rejects.toMatchObject({ retryable: true });
    // Read here at once; the server has not heard of it, and keeps it to send again.
    expect(alice.state.get().channels[cid]?.unreadCount).toBe(0);
    expect(alice.state.get().channels[cid]?.unsentRead?.seq).toBe(a.state?.lastSeq);
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(2);

    alice.resumeConnection();
    await until(async () => (await serverChannel(h, app, cid, 'alice')).unread_count === 0, 10_000, 'the mark sent');
    await until(() => alice.state.get().channels[cid]?.unsentRead === undefined, 5_000, 'nothing left to send');
    expect(alice.state.get().channels[cid]?.unreadCount).toBe(0);

    // Offline again, a read, and the app closed before it went: the next start sends it.
    const storage = new MemoryStorage();
    const phone = await connect('alice', { storage });
    const ch = phone.channel('group', cid.split(':')[1] as string);
    await ch.watch();
    await bobCh.sendMessage({ text: 'o3' });
    await until(() => phone.state.get().channels[cid]?.unreadCount === 1, 5_000, 'one unread on the phone');
    phone.pauseConnection();
    await until(() => phone.state.get().connection !== 'online', 5_000, 'the phone offline');
    await expect(ch.markRead()).rejects.toMatchObject({ retryable: true });
    await phone.disconnectUser(); // the state is written as it closes
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(1);
    const again = await connect('alice', { storage });
    await until(
      async () => (await serverChannel(h, app, cid, 'alice')).unread_count === 0,
      10_000,
      'sent after the restart',
    );
    await until(
      () => again.state.get().channels[cid]?.unsentRead === undefined,
      5_000,
      'nothing left after the restart',
    );
  });

  /** A group where Bob sent alice three messages (`texts`), unread on her phone; her desktop watches it. */
  async function threeUnreadAndADesktop(texts: string[]) {
    const { cid, a } = await group();
    const bobCh = bob.channel('group', cid.split(':')[1] as string);
    const sent: LocalMessage[] = [];
    for (const t of texts) sent.push(await bobCh.sendMessage({ text: t }));
    await until(() => alice.state.get().channels[cid]?.unreadCount === 3, 5_000, 'three unread');
    const desktop = await connect('alice');
    const there = desktop.channel('group', cid.split(':')[1] as string);
    await there.watch();
    return { cid, a, sent, there };
  }

  it('a read made offline is not sent over a mark unread made since on another device', async () => {
    const { cid, a, sent, there } = await threeUnreadAndADesktop(['p1', 'p2', 'p3']);
    await there.markRead();

    // On the phone, offline: read. Then on the desktop, mark unread from the second on.
    alice.pauseConnection();
    await until(() => alice.state.get().connection !== 'online', 5_000, 'alice offline');
    await expect(a.markRead()).rejects.toMatchObject({ retryable: true });
    await there.markUnread(sent[1]!.id);
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(2);

    // The phone comes back: the desktop's later mark stands, on the server and on the phone.
    alice.resumeConnection();
    await until(() => alice.state.get().channels[cid]?.unsentRead === undefined, 10_000, 'the unsent mark dropped');
    await until(() => alice.state.get().channels[cid]?.unreadCount === 2, 10_000, 'the phone shows the desktop mark');
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(2);
  });

  it('the same when the phone went offline before the desktop read: its counts come back from the server', async () => {
    const { cid, a, sent, there } = await threeUnreadAndADesktop(['q1', 'q2', 'q3']);

    // The phone goes offline first, so it never hears of the desktop's read; it reads offline
    // too (all read, here), then the desktop marks unread from the second on.
    alice.pauseConnection();
    await until(() => alice.state.get().connection !== 'online', 5_000, 'alice offline');
    await there.markRead();
    await expect(a.markRead()).rejects.toMatchObject({ retryable: true });
    await there.markUnread(sent[1]!.id);

    // Back, a push of the server's counts can land before the resync's snapshot brings the
    // server's mark, and be settled against the phone's own (0 unread): dropping the unsent
    // mark reads the counts again, so the phone shows the desktop's 2, not 0.
    alice.resumeConnection();
    await until(() => alice.state.get().channels[cid]?.unsentRead === undefined, 10_000, 'the unsent mark dropped');
    await until(() => alice.state.get().channels[cid]?.unreadCount === 2, 10_000, 'the phone shows the desktop mark');
    expect(alice.state.get().channels[cid]?.channel.membership?.last_read_seq).toBe(sent[0]!.seq);
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(2);
  });

  it('keystroke and stopTyping show and clear typing users', async () => {
    const { cid, a } = await group();
    a.keystroke();
    await until(() => bob.state.get().channels[cid]?.typing['alice|'], 5_000, 'bob sees alice typing');
    expect(bob.state.get().channels[cid]?.typing['alice|']?.user.id).toBe('alice');
    expect(alice.state.get().channels[cid]?.typing).toEqual({}); // not yourself
    a.stopTyping();
    await until(() => !bob.state.get().channels[cid]?.typing['alice|'], 5_000, 'typing cleared');
  });

  it('getReplies loads a thread, which then stays live', async () => {
    const { a, b } = await group();
    const parent = await a.sendMessage({ text: 'thread root' });
    await until(() => byId(b.state?.messages, parent.id));
    const r1 = await b.sendMessage({ text: 'reply 1', parent_id: parent.id });
    const r2 = await b.sendMessage({ text: 'reply 2', parent_id: parent.id });

    const replies = await a.getReplies(parent.id);
    expect(replies.map((m) => m.id)).toEqual([r1.id, r2.id]);
    expect(a.state?.threads[parent.id]?.map((m) => m.text)).toEqual(['reply 1', 'reply 2']);
    // Thread replies stay out of the channel view.
    expect(byId(a.state?.messages, r1.id)).toBeUndefined();

    const r3 = await b.sendMessage({ text: 'reply 3', parent_id: parent.id });
    await until(() => a.state?.threads[parent.id]?.length === 3, 5_000, 'live reply');
    expect(a.state?.threads[parent.id]?.map((m) => m.id)).toEqual([r1.id, r2.id, r3.id]);
    expect(byId(a.state?.messages, parent.id)?.reply_count).toBe(3);
    const server = await h.call({
      method: 'GET',
      url: `/v1/messages/${parent.id}/replies`,
      headers: await app.user('alice'),
    });
    expect(server.body.messages.map((m: { id: string }) => m.id)).toEqual([r1.id, r2.id, r3.id]);
  });

  it('pin and unpin', async () => {
    const { a, b } = await group();
    const m = await a.sendMessage({ text: 'pin me' });
    const pinned = await a.pin(m.id);
    expect(pinned.pinned).toBe(true);
    expect(byId(a.state?.messages, m.id)?.pinned).toBe(true);
    expect((await a.getPinned()).map((x) => x.id)).toEqual([m.id]);
    await until(() => byId(b.state?.messages, m.id)?.pinned, 5_000, 'bob sees the pin');
    await a.unpin(m.id);
    expect(byId(a.state?.messages, m.id)?.pinned).toBe(false);
    expect(await a.getPinned()).toEqual([]);
  });
});

describe('users', () => {
  it('queryUsers finds by prefix and fills state.users', async () => {
    const users = await alice.queryUsers('al');
    expect(users.map((u) => u.id).sort()).toEqual(['alfred', 'alice']);
    expect(alice.state.get().users.alfred?.name).toBe('Alfred');
  });

  it('setStatus updates me and reaches the people who follow my presence', async () => {
    await group();
    // Protocol 2: a status travels in presence.changed, to followers only.
    const stop = bob.watchPresence(['alice']);
    await new Promise((r) => setTimeout(r, 0)); // the follow goes out at the end of the tick
    await bob.request('ping', {}); // and, handled in order, is in place once this is answered
    const me = await alice.setStatus({ text: 'in a meeting', emoji: ':calendar:' });
    expect(me.status?.text).toBe('in a meeting');
    expect(alice.state.get().user?.status?.text).toBe('in a meeting');
    const server = await h.call({ method: 'GET', url: '/v1/users/alice', headers: await app.user('bob') });
    expect(server.body.user.status.text).toBe('in a meeting');
    await until(() => bob.state.get().users.alice?.status?.text === 'in a meeting', 5_000, 'bob sees the status');
    await alice.setStatus({ text: null });
    expect(alice.state.get().user?.status ?? null).toBeNull();
    stop();
  });

  it('presence: others go online and offline in state.users, for the users the client follows', async () => {
    const ch = alice.channel('group', 'presence');
    await ch.createChannel({ members: ['carol'] });
    // Protocol 2: sharing a channel sends no presence; following does.
    const stop = alice.watchPresence(['carol']);
    const carol = await connect('carol');
    await until(() => alice.state.get().users.carol?.presence === 'online', 5_000, 'carol online');
    await carol.disconnectUser();
    await until(() => alice.state.get().users.carol?.presence === 'offline', 5_000, 'carol offline');
    stop();
  });
});

describe('reactive state', () => {
  it('snapshots are immutable: a change makes a new snapshot and leaves the old one as it was', async () => {
    const { cid, a } = await group();
    await a.sendMessage({ text: 'before' });
    const before = alice.state.get();
    const copy = structuredClone(before);
    const otherCids = Object.keys(before.channels).filter((c) => c !== cid);
    await a.sendMessage({ text: 'after' });
    const after = alice.state.get();
    expect(after).not.toBe(before);
    expect(before).toEqual(copy); // nothing changed in place
    expect(after.channels[cid]).not.toBe(before.channels[cid]);
    expect(after.channels[cid]?.messages).not.toBe(before.channels[cid]?.messages);
    // Untouched channels keep their identity, so views can skip them.
    for (const c of otherCids) expect(after.channels[c]).toBe(before.channels[c]);
  });

  it('a subscriber is called once per batch of changes', async () => {
    const { cid, a } = await group();
    const calls: ClientState[] = [];
    const unsub = alice.state.subscribe((s) => calls.push(s));
    const sends = [a.sendMessage({ text: 'b1' }), a.sendMessage({ text: 'b2' }), a.sendMessage({ text: 'b3' })];
    a.keystroke();
    expect(calls).toHaveLength(0); // nothing yet: notified at the end of the tick
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.channels[cid]?.messages.slice(-3).map((m) => [m.text, m.status])).toEqual([
      ['b1', 'sending'],
      ['b2', 'sending'],
      ['b3', 'sending'],
    ]);
    await Promise.all(sends);
    unsub();
    a.stopTyping();
    expect(calls.every((s, i) => i === 0 || s !== calls[i - 1])).toBe(true);
  });
});
