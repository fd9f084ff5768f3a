/**
 * User groups and the activity inbox through the public API, on both databases: who manages
 * groups, handle rules, members, audit; a group mention reaches the members who can read the
 * channel (and respects their channel settings), never one who cannot; an inbox item for each
 * cause; read one / all with the count on every socket of the user; another tenant sees
 * nothing; bad input is a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const as = async (user: string | null, method: Method, url: string, payload?: object, a: TestApp = app) =>
  h.call({
    method,
    url,
    headers: user === null ? await a.server() : await a.user(user),
    ...(payload ? { payload } : {}),
  });

const inbox = async (user: string, query = '', a: TestApp = app) => {
  const r = await as(user, 'GET', `/v1/inbox${query}`, undefined, a);
  expect(r.status).toBe(200);
  return r.body as { items: any[]; next: string | null; unread_count: number };
};
/** Wait until `user` has an item about `messageId` (items are recorded just after commit). */
const itemAbout = (user: string, messageId: string, kind?: string) =>
  eventually(async () =>
    (await inbox(user)).items.find((i) => i.message_id === messageId && (!kind || i.kind === kind)),
  );
const send = async (user: string, cid: string, text: string, extra: object = {}) => {
  const r = await as(user, 'POST', `/v1/channels/${cid}/messages`, { text, ...extra });
  expect(r.status).toBe(200);
  return r.body.message as { id: string };
};

beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
  app = await h.createApp('groups');
  other = await h.createApp('elsewhere');
  await h.users(app, [
    { id: 'alice', username: 'alice', role: 'admin' },
    { id: 'bob', username: 'bob' },
    { id: 'carol', username: 'carol' },
    { id: 'dave', username: 'dave' },
    { id: 'erin', username: 'erin' },
    { id: 'gina', username: 'gina', role: 'guest' },
  ]);
  await h.users(other, [{ id: 'mallory', username: 'mallory', role: 'admin' }]);
  // A private channel dave is not in.
  const c = await as('alice', 'POST', '/v1/channels', { type: 'group', id: 'studio', members: ['bob', 'carol'] });
  expect(c.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('user groups', () => {
  let groupId: string;

  it('are created by admins only (by default), with their members, and audited', async () => {
    const refused = await as('bob', 'POST', '/v1/user-groups', { handle: 'designers', name: 'Designers' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    const r = await as('alice', 'POST', '/v1/user-groups', {
      handle: 'designers',
      name: 'Designers',
      description: 'The design team',
      members: ['bob', 'carol', 'dave'],
    });
    expect(r.status).toBe(201);
    expect(r.body.group).toMatchObject({ handle: 'designers', member_count: 3, members: ['bob', 'carol', 'dave'] });
    groupId = r.body.group.id;
    const audit = await as(null, 'GET', '/v1/audit?action=user_group.');
    expect(audit.status).toBe(200);
    expect(
      audit.body.entries.some(
        (e: any) => e.action === 'user_group.created' && e.target?.id === groupId && e.actor.id === 'alice',
      ),
    ).toBe(true);
  });

  it('refuses a handle that is a username, a keyword, taken in any case, or malformed', async () => {
    const cases: [object, number, string][] = [
      [{ handle: 'bob', name: 'x' }, 409, 'CONFLICT'],
      [{ handle: 'here', name: 'x' }, 400, 'VALIDATION_ERROR'],
      [{ handle: 'Designers', name: 'x' }, 409, 'CONFLICT'],
      [{ handle: 'no spaces', name: 'x' }, 400, 'VALIDATION_ERROR'],
      [{ handle: 'ok-handle', name: '' }, 400, 'VALIDATION_ERROR'],
      [{ handle: 'ok-handle', name: 'x', members: ['nobody-here'] }, 400, 'VALIDATION_ERROR'],
      [{ handle: 'ok-handle', name: 'x', extra: 1 }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of cases) {
      const r = await as('alice', 'POST', '/v1/user-groups', body);
      expect([JSON.stringify(body), r.status, r.body.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    // Nothing half-made: still one group.
    expect((await as('bob', 'GET', '/v1/user-groups')).body.groups).toHaveLength(1);
    // And the username of a group's handle is taken.
    const name = await as('erin', 'GET', '/v1/usernames/designers');
    expect(name.body).toMatchObject({ available: false });
  });

  it('are listed, searched, read, edited and their members changed, live on the socket', async () => {
    const erin = await TestSocket.connect(base, app, 'erin');
    const list = await as('bob', 'GET', '/v1/user-groups?q=des');
    expect(list.body.groups.map((g: any) => g.handle)).toEqual(['designers']);
    expect((await as('bob', 'GET', '/v1/user-groups?q=zzz')).body.groups).toEqual([]);
    expect((await as('bob', 'GET', `/v1/user-groups/${groupId}`)).body.group.name).toBe('Designers');
    const edited = await as('alice', 'PATCH', `/v1/user-groups/${groupId}`, { description: 'Pixels' });
    expect(edited.body.group.description).toBe('Pixels');
    const seen = await erin.waitFor((f) => f.type === 'user_group.updated' && f.change === 'updated');
    expect(seen.group.description).toBe('Pixels');
    const m = await as('alice', 'POST', `/v1/user-groups/${groupId}/members`, { add: ['erin'], remove: ['carol'] });
    expect(m.body.group.members).toEqual(['bob', 'dave', 'erin']);
    await as('alice', 'POST', `/v1/user-groups/${groupId}/members`, { add: ['carol'] });
    expect((await as('bob', 'POST', `/v1/user-groups/${groupId}/members`, { add: ['bob'] })).status).toBe(403);
    expect((await as('alice', 'POST', `/v1/user-groups/${groupId}/members`, {})).status).toBe(400);
    erin.close();
  });

  it('may be managed by everyone but guests when the app says so', async () => {
    expect((await as('bob', 'PUT', '/v1/user-group-settings', { managers: 'everyone' })).status).toBe(403);
    expect((await as('alice', 'PUT', '/v1/user-group-settings', { managers: 'everyone' })).status).toBe(200);
    const made = await as('bob', 'POST', '/v1/user-groups', { handle: 'lunch', name: 'Lunch' });
    expect(made.status).toBe(201);
    expect((await as('gina', 'POST', '/v1/user-groups', { handle: 'guests', name: 'G' })).status).toBe(403);
    expect((await as('bob', 'DELETE', `/v1/user-groups/${made.body.group.id}`)).status).toBe(200);
    expect((await as('bob', 'GET', `/v1/user-groups/${made.body.group.id}`)).status).toBe(404);
    await as('alice', 'PUT', '/v1/user-group-settings', { managers: 'admins' });
  });

  it('are invisible to another app', async () => {
    expect((await as('mallory', 'GET', `/v1/user-groups/${groupId}`, undefined, other)).status).toBe(404);
    expect((await as('mallory', 'GET', '/v1/user-groups', undefined, other)).body.groups).toEqual([]);
    const r = await as('mallory', 'PATCH', `/v1/user-groups/${groupId}`, { name: 'mine' }, other);
    expect(r.status).toBe(404);
    expect((await as('bob', 'GET', '/v1/user-groups/not-a-uuid')).status).toBe(400);
  });
});

describe('a group mention', () => {
  it('reaches the members who can read the channel, as a mention, and never one who cannot', async () => {
    // carol set the channel to `none`: she keeps the mention flag but gets no inbox item.
    expect((await as('carol', 'PUT', '/v1/channels/group:studio/notifications', { level: 'none' })).status).toBe(200);
    const bob = await TestSocket.connect(base, app, 'bob');
    const dave = await TestSocket.connect(base, app, 'dave');
    const m = await send('alice', 'group:studio', 'review please @designers');
    const note = await bob.waitFor((f) => f.type === 'notification.new' && f.message.id === m.id);
    expect(note.reason).toBe('mention');
    const item = await itemAbout('bob', m.id);
    expect(item).toMatchObject({ kind: 'mention', via: 'group', group_handle: 'designers', actor_id: 'alice' });
    expect(item.message.text).toBe('review please @designers');
    // bob's channel counts it as a mention.
    const q = await as('bob', 'POST', '/v1/channels/query', { filter: { cid: 'group:studio' } });
    expect(q.body.channels[0].mention_count).toBeGreaterThan(0);
    // A later message to dave's own inbox proves his items were recorded after this one's.
    const dm = await as('erin', 'POST', '/v1/channels', { type: 'dm', members: ['erin', 'dave'] });
    dave.close();
    const probe = await send('erin', dm.body.channel.cid, 'ping @dave');
    await itemAbout('dave', probe.id);
    const daves = await inbox('dave');
    expect(daves.items.some((i) => i.message_id === m.id)).toBe(false);
    expect(dave.frames.some((f) => f.type === 'notification.new' && f.message?.id === m.id)).toBe(false);
    // carol: flagged (it is a mention) but nothing in her inbox.
    expect((await inbox('carol')).items.some((i) => i.message_id === m.id)).toBe(false);
    bob.close();
  });
});

describe('the inbox', () => {
  it('has an item for each cause', async () => {
    // A mention by name, and @channel.
    const byName = await send('bob', 'group:studio', 'hey @alice');
    expect(await itemAbout('alice', byName.id)).toMatchObject({ kind: 'mention', via: 'user', actor_id: 'bob' });
    const all = await send('bob', 'group:studio', 'news for @channel');
    expect(await itemAbout('alice', all.id)).toMatchObject({ kind: 'mention', via: 'channel' });
    // A reply in a thread alice follows (she started it).
    const parent = await send('alice', 'group:studio', 'thread start');
    const reply = await send('bob', 'group:studio', 'a reply', { parent_id: parent.id });
    expect(await itemAbout('alice', reply.id)).toMatchObject({ kind: 'thread', parent_id: parent.id });
    // A reaction to her message.
    expect((await as('bob', 'POST', `/v1/messages/${parent.id}/reactions`, { type: 'like' })).status).toBe(200);
    expect(await itemAbout('alice', parent.id, 'reaction')).toMatchObject({ reaction_type: 'like', actor_id: 'bob' });
    // A DM while away (erin has no socket open).
    const dm = await as('alice', 'POST', '/v1/channels', { type: 'dm', members: ['alice', 'erin'] });
    const d = await send('alice', dm.body.channel.cid, 'are you there?');
    expect(await itemAbout('erin', d.id)).toMatchObject({ kind: 'dm', actor_id: 'alice' });
    // An invitation: added to a channel by someone else.
    await as('alice', 'POST', '/v1/channels', { type: 'group', id: 'later', members: [] });
    expect((await as('alice', 'POST', '/v1/channels/group:later/members', { add: ['erin'] })).status).toBe(200);
    const inv = await eventually(async () => (await inbox('erin')).items.find((i) => i.kind === 'invitation'));
    expect(inv).toMatchObject({ cid: 'group:later', actor_id: 'alice' });
    // A DM while connected is no item; @here reaches who is connected, as a mention.
    const erin = await TestSocket.connect(base, app, 'erin');
    const present = await send('alice', dm.body.channel.cid, 'oh, you are here');
    const here = await send('alice', 'group:later', 'standup @here');
    expect(await itemAbout('erin', here.id)).toMatchObject({ kind: 'mention', via: 'here' });
    expect((await inbox('erin')).items.some((i) => i.message_id === present.id)).toBe(false);
    erin.close();
    // Filters.
    const mentions = await inbox('alice', '?filter=mentions');
    expect(mentions.items.every((i) => i.kind === 'mention')).toBe(true);
    expect((await inbox('alice', '?filter=threads')).items.map((i) => i.message_id)).toEqual([reply.id]);
    expect((await inbox('alice', '?filter=reactions')).items.map((i) => i.message_id)).toEqual([parent.id]);
  });

  it('pages by cursor', async () => {
    const first = await inbox('alice', '?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.next).not.toBeNull();
    const second = await inbox('alice', `?limit=2&cursor=${first.next}`);
    expect(second.items.length).toBeGreaterThan(0);
    expect(second.items.some((i) => first.items.some((f) => f.id === i.id))).toBe(false);
  });

  it('marks one item and all read, pushing the count to every socket of the user', async () => {
    const one = await TestSocket.connect(base, app, 'alice');
    const two = await TestSocket.connect(base, app, 'alice');
    const before = await inbox('alice');
    expect(before.unread_count).toBeGreaterThan(1);
    const target = before.items[0];
    const r = await as('alice', 'POST', `/v1/inbox/${target.id}/read`, {});
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ item: { id: target.id, read: true }, unread_count: before.unread_count - 1 });
    for (const s of [one, two])
      await s.waitFor((f) => f.type === 'inbox.updated' && f.unread_count === before.unread_count - 1);
    expect((await as('alice', 'POST', '/v1/inbox/read', {})).body.unread_count).toBe(0);
    for (const s of [one, two]) await s.waitFor((f) => f.type === 'inbox.updated' && f.unread_count === 0);
    expect((await as('alice', 'GET', '/v1/inbox/count')).body.unread_count).toBe(0);
    // A new item moves the count on both sockets again.
    const m = await send('bob', 'group:studio', 'one more @alice');
    for (const s of [one, two])
      await s.waitFor((f) => f.type === 'inbox.updated' && f.unread_count === 1 && f.item?.message_id === m.id);
    one.close();
    two.close();
  });

  it('reading a channel reads its mentions up to the mark, not thread replies; every device hears which', async () => {
    // bob's unread items are then only these: two mentions, one in a thread reply, one elsewhere.
    expect((await as('bob', 'POST', '/v1/inbox/read', {})).status).toBe(200);
    const one = await TestSocket.connect(base, app, 'bob');
    const two = await TestSocket.connect(base, app, 'bob');
    const first = await send('alice', 'group:studio', 'first @bob');
    const second = await send('alice', 'group:studio', 'second @bob');
    const root = await send('bob', 'group:studio', 'a thread of mine');
    const reply = await send('alice', 'group:studio', 'in the thread @bob', { parent_id: root.id });
    await as('alice', 'POST', '/v1/channels', { type: 'group', id: 'elsewhere', members: ['bob', 'carol'] });
    const away = await send('alice', 'group:elsewhere', 'over here @bob');
    const items = await Promise.all([first, second, reply, away].map((m) => itemAbout('bob', m.id)));
    expect(items.map((i) => i.kind)).toEqual(['mention', 'mention', 'mention', 'mention']);
    expect((await inbox('bob')).unread_count).toBe(4);
    const seqOf = async (id: string) => (await as('bob', 'GET', `/v1/messages/${id}`)).body.message.seq as number;

    // Read up to the first mention: that one is read, on both devices, by its id.
    const r1 = await as('bob', 'POST', '/v1/channels/group:studio/read', { seq: await seqOf(first.id) });
    expect(r1.status).toBe(200);
    for (const s of [one, two]) {
      const e = await s.waitFor((f) => f.type === 'inbox.updated' && f.read?.includes(items[0].id));
      expect(e).toMatchObject({ unread_count: 3, read: [items[0].id] });
    }
    // Read the whole channel (the thread reply's seq is past the rest): the second is read, the
    // mention inside the thread and the one in another channel are not.
    const r2 = await as('bob', 'POST', '/v1/channels/group:studio/read', { seq: await seqOf(reply.id) });
    expect(r2.status).toBe(200);
    await one.waitFor((f) => f.type === 'inbox.updated' && f.read?.includes(items[1].id) && f.unread_count === 2);
    const after = await inbox('bob');
    const readOf = (id: string) => after.items.find((i) => i.id === id)?.read;
    expect([items[0].id, items[1].id, items[2].id, items[3].id].map(readOf)).toEqual([true, true, false, false]);
    expect(after.unread_count).toBe(2);
    // A mark that does not move reads nothing more and says nothing.
    const frames = one.events('inbox.updated').length;
    expect((await as('bob', 'POST', '/v1/channels/group:studio/read', { seq: 1 })).status).toBe(200);
    expect((await inbox('bob')).unread_count).toBe(2);
    expect(one.events('inbox.updated')).toHaveLength(frames);
    // Opening one item tells the other device which.
    expect((await as('bob', 'POST', `/v1/inbox/${items[3].id}/read`, {})).status).toBe(200);
    await two.waitFor((f) => f.type === 'inbox.updated' && f.read?.[0] === items[3].id && f.unread_count === 1);
    one.close();
    two.close();
  });

  it("is nobody else's: another user or another app sees and marks nothing of it", async () => {
    const mine = (await inbox('alice')).items[0];
    expect((await as('bob', 'POST', `/v1/inbox/${mine.id}/read`, {})).status).toBe(404);
    expect((await as('mallory', 'POST', `/v1/inbox/${mine.id}/read`, {}, other)).status).toBe(404);
    expect((await inbox('mallory', '', other)).items).toEqual([]);
    expect((await as(null, 'GET', '/v1/inbox')).status).toBe(403);
  });

  it('answers bad input with typed errors', async () => {
    for (const url of [
      '/v1/inbox?cursor=zzz',
      '/v1/inbox?filter=bogus',
      '/v1/inbox?limit=0',
      '/v1/inbox?limit=1000',
      '/v1/inbox?extra=1',
    ]) {
      const r = await as('alice', 'GET', url);
      expect([url, r.status, r.body.error?.code]).toEqual([url, 400, 'VALIDATION_ERROR']);
    }
    expect((await as('alice', 'POST', '/v1/inbox/not-a-uuid/read', {})).status).toBe(400);
    expect(
      (await as('alice', 'POST', `/v1/inbox/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}/read`, {})).status,
    ).toBe(404);
    expect((await as('alice', 'POST', '/v1/inbox/read', { extra: 1 })).status).toBe(400);
  });
});

describe('the inbox is bounded', () => {
  it('keeps at most inboxMaxItems per user, the newest, and drops items past the retention', async () => {
    let now = Date.now();
    const small = await startHarness({ inboxMaxItems: 3, inboxRetentionDays: 1 }, { clock: () => now });
    try {
      const a = await small.createApp('bounded');
      await small.users(a, [
        { id: 'ann', username: 'ann' },
        { id: 'ben', username: 'ben' },
      ]);
      const post = async (text: string) => {
        const r = await small.call({
          method: 'POST',
          url: '/v1/channels/group:b/messages',
          headers: await a.user('ben'),
          payload: { text },
        });
        expect(r.status).toBe(200);
        return r.body.message.id as string;
      };
      const anns = async () =>
        (await small.call({ method: 'GET', url: '/v1/inbox', headers: await a.user('ann') })).body.items as any[];
      expect(
        (
          await small.call({
            method: 'POST',
            url: '/v1/channels',
            headers: await a.user('ann'),
            payload: { type: 'group', id: 'b', members: ['ben'] },
          })
        ).status,
      ).toBe(200);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await post(`ping ${i} @ann`));
        await eventually(async () => (await anns()).some((x) => x.message_id === ids[i]));
      }
      // The three newest stay.
      expect((await anns()).map((x) => x.message_id)).toEqual([ids[4], ids[3], ids[2]]);
      // Two days on, the next recording sweeps what is past a day: only the new one is left.
      now += 2 * 86_400_000;
      const late = await post('late @ann');
      await eventually(async () => {
        const items = await anns();
        return items.length === 1 && items[0].message_id === late;
      });
    } finally {
      await small.close();
    }
  });
});
