/**
 * A group made in one step (`first_message` of POST /v1/channels), as Slack's and WhatsApp's
 * new-group dialogs make one: the channel, its members and its first message are one
 * transaction; members get `channel.added` carrying the message (and never the message again);
 * a group of one is GROUP_TOO_SMALL; a message refused (too long, automod, a ban) creates no
 * group; a retry with the same message id answers what the first made; another tenant's users
 * are unknown here.
 */
import { uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { cids, eventLog, expectError, ok, summary, world } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const group = (members: string[], text: string, extra: Record<string, unknown> = {}) => ({
  type: 'group',
  name: 'Launch',
  members,
  first_message: { text, ...extra },
});

describe('a group with its first message', () => {
  it('creates the group, its members and the message in one step, read by its author and unread by the rest', async () => {
    const w = await world(h);
    const body = ok(
      await w.alice.create({ ...group(['bob', 'carol'], 'Welcome @bob'), image: 'https://img.example/g.png' }),
    );
    const cid = body.channel.cid;
    expect(cid).toMatch(/^group:/);
    expect(body.channel).toMatchObject({ name: 'Launch', image: 'https://img.example/g.png', last_seq: 1 });
    expect(body.channel.membership).toMatchObject({ role: 'owner', last_read_seq: 1 });
    expect(body.message).toMatchObject({
      cid,
      seq: 1,
      user_id: 'alice',
      text: 'Welcome @bob',
      type: 'regular',
      mentioned_users: ['bob'],
    });
    expect(body.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob', 'carol']);

    // One logged event: the message; seqs have no hole.
    expect(summary(await eventLog(w.bob, cid))).toEqual(['1 message.new regular: Welcome @bob']);
    expect(ok(await w.carol.history(cid)).messages.map((m: any) => m.id)).toEqual([body.message.id]);

    const [bobs] = ok(await w.bob.query({ filter: { cid } })).channels;
    expect(bobs).toMatchObject({ unread_count: 1, mention_count: 1, last_message: { id: body.message.id } });
    const [carols] = ok(await w.carol.query({ filter: { cid } })).channels;
    expect(carols).toMatchObject({ unread_count: 1, mention_count: 0 });
    const [alices] = ok(await w.alice.query({ filter: { cid } })).channels;
    expect(alices).toMatchObject({ unread_count: 0 });
  });

  it('sends each member the channel with its first message in channel.added, and the message never again', async () => {
    const w = await world(h);
    const url = await h.listen();
    const bob = await TestSocket.connect(url, w.app, 'bob');
    const alice = await TestSocket.connect(url, w.app, 'alice');
    try {
      const body = ok(await w.alice.create(group(['bob', 'carol'], 'first words')));
      const cid = body.channel.cid;
      for (const [sock, unread] of [
        [bob, 1],
        [alice, 0],
      ] as const) {
        const added = await sock.waitFor((f) => f.type === 'channel.added' && f.cid === cid);
        expect(added.channel).toMatchObject({
          cid,
          last_seq: 1,
          unread_count: unread,
          last_message: { id: body.message.id, text: 'first words', seq: 1 },
        });
      }
      // Later messages arrive live, and the first is not repeated as a message.new.
      ok(await w.carol.send(cid, 'second'));
      await bob.waitFor((f) => f.type === 'message.new' && f.message.text === 'second');
      expect(bob.events('message.new').map((f) => f.message.text)).toEqual(['second']);
    } finally {
      bob.close();
      alice.close();
    }
  });

  it('refuses a group of one (nobody else, or only yourself) with GROUP_TOO_SMALL and creates nothing', async () => {
    const w = await world(h);
    for (const members of [[], ['alice'], ['alice', 'alice']]) {
      const r = await w.alice.create(group(members, 'anyone there?'));
      expectError(r, 'GROUP_TOO_SMALL');
      expect(r.body.error.details).toEqual({ members: 1 });
    }
    expect(cids(await w.alice.query({ filter: { type: 'group' } }))).toEqual([]);
    // Without a first message, a group of one is still the private channel it always was.
    ok(await w.alice.create({ type: 'group', id: 'notes', members: [] }));
  });

  it('validates the message as a send: too long, blank or a DM refused, and nothing is created', async () => {
    const w = await world(h);
    expectError(await w.alice.create(group(['bob'], 'x'.repeat(10_001))), 'VALIDATION_ERROR');
    expectError(await w.alice.create(group(['bob'], '   ')), 'VALIDATION_ERROR');
    expectError(await w.alice.create(group(['bob'], 'hi', { parent_id: uuidv7() })), 'VALIDATION_ERROR');
    expectError(
      await w.alice.create({ type: 'dm', members: ['bob'], first_message: { text: 'hi' } }),
      'VALIDATION_ERROR',
    );
    // A message is written by a user: the server token names none.
    expectError(await w.server.create({ ...group(['bob'], 'hi'), created_by: 'alice' }), 'FORBIDDEN');
    expect(cids(await w.alice.query({}))).toEqual([]);
    expect(cids(await w.bob.query({}))).toEqual([]);
    ok(await w.alice.create(group(['bob'], 'x'.repeat(10_000))));
  });

  it('creates no group when the message is refused: automod, or an app-wide ban', async () => {
    const w = await world(h);
    ok(
      await h.call({
        method: 'PUT',
        url: '/v1/moderation/automod',
        headers: await w.app.server(),
        payload: {
          blocked_words: ['darn'],
          blocked_patterns: [],
          blocked_domains: [],
          action: 'block',
          spam_channels: 0,
          spam_window_s: 60,
          max_mentions: 0,
        },
      }),
    );
    const r = await w.alice.create(group(['bob', 'carol'], 'well darn'));
    expectError(r, 'MESSAGE_BLOCKED');
    expect(r.body.error.details.rule).toBe('word');
    expect(cids(await w.bob.query({}))).toEqual([]);

    ok(await w.server.post('/v1/moderation/bans', { user_id: 'dave' }));
    expectError(await w.dave.create(group(['bob'], 'let me in')), 'BANNED');
    expect(cids(await w.bob.query({}))).toEqual([]);
  });

  it('is idempotent by the message id: a retry answers the same group and message, alone or at once', async () => {
    const w = await world(h);
    const id = uuidv7();
    const first = ok(await w.alice.create(group(['bob'], 'once', { id })));
    const again = ok(await w.alice.create(group(['bob'], 'once', { id })));
    expect(again.channel.cid).toBe(first.channel.cid);
    expect(again.message).toMatchObject({ id, seq: 1, text: 'once' });
    expect(cids(await w.bob.query({}))).toEqual([first.channel.cid]);
    expect(summary(await eventLog(w.bob, first.channel.cid))).toEqual(['1 message.new regular: once']);

    // Two tries in flight together (the first one's answer lost): one group, one message.
    const id2 = uuidv7();
    const [a, b] = await Promise.all([
      w.carol.create(group(['dave'], 'twice', { id: id2 })),
      w.carol.create(group(['dave'], 'twice', { id: id2 })),
    ]);
    expect(ok(a).channel.cid).toBe(ok(b).channel.cid);
    expect(cids(await w.dave.query({}))).toEqual([ok(a).channel.cid]);

    // With a channel id too, a retry answers the same; another create on that id is CONFLICT.
    const id3 = uuidv7();
    ok(await w.alice.create({ ...group(['carol'], 'named', { id: id3 }), id: 'named' }));
    const named = ok(await w.alice.create({ ...group(['carol'], 'named', { id: id3 }), id: 'named' }));
    expect(named).toMatchObject({ channel: { cid: 'group:named' }, message: { id: id3 } });
    expectError(await w.alice.create({ ...group(['carol'], 'other'), id: 'named' }), 'CONFLICT');
  });

  it('answers CONFLICT for a message id another message has, and creates nothing', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    const sent = ok(await w.bob.send('public:p', 'mine', { id: uuidv7() })).message;
    // Someone else's id, and the author's own id of a plain send: neither is a group's first message.
    expectError(await w.alice.create(group(['bob'], 'hijack', { id: sent.id })), 'CONFLICT');
    expectError(await w.bob.create(group(['carol'], 'reuse', { id: sent.id })), 'CONFLICT');
    expect(cids(await w.carol.query({}))).toEqual([]);
  });

  it("refuses another tenant's users as unknown, and creates nothing in either app", async () => {
    const w = await world(h);
    const other = await h.createApp('other');
    await h.users(other, [{ id: 'mallory', name: 'Mallory' }]);
    const r = await w.alice.create(group(['bob', 'mallory'], 'hello both'));
    expectError(r, 'VALIDATION_ERROR');
    expect(r.body.error.details).toMatchObject({ missing: ['mallory'] });
    expect(cids(await w.bob.query({}))).toEqual([]);
  });
});
