/**
 * Channel types and creation: DMs are get-or-create by member set, groups are invisible to
 * outsiders, public channels are findable and joinable, announcements are read-only for plain
 * members; create validates members, refuses taken cids, and lets the server create on behalf.
 */
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

describe('create', () => {
  it('creates a group with the creator as owner and the rest as members', async () => {
    const w = await world(h);
    const body = ok(
      await w.alice.create({
        type: 'group',
        id: 'team',
        name: 'Team',
        description: 'the team',
        topic: 'shipping',
        image: 'https://img.example/t.png',
        members: ['bob', 'carol'],
      }),
    );
    expect(body.channel).toMatchObject({
      cid: 'group:team',
      type: 'group',
      id: 'team',
      name: 'Team',
      description: 'the team',
      topic: 'shipping',
      image: 'https://img.example/t.png',
      created_by: 'alice',
      archived: false,
      archived_at: null,
      member_count: 3,
      last_seq: 0,
    });
    const roles = Object.fromEntries(body.members.map((m: any) => [m.user_id, m.role]));
    expect(roles).toEqual({ alice: 'owner', bob: 'member', carol: 'member' });
    for (const m of body.members) expect(m).toMatchObject({ last_read_seq: 0, muted: false });

    // The creator's answer carries their membership, as every channel answer does.
    expect(body.channel.membership).toMatchObject({ role: 'owner', last_read_seq: 0, muted: false });

    const got = ok(await w.bob.channel('group:team'));
    expect(got.channel).toMatchObject({ cid: 'group:team', member_count: 3, membership: { role: 'member' } });
    expect(got.members).toHaveLength(3);
  });

  it('generates an id when none is given, and lists the creator once even if named as a member', async () => {
    const w = await world(h);
    const body = ok(await w.alice.create({ type: 'public', name: 'Random', members: ['alice', 'bob', 'bob'] }));
    expect(body.channel.cid).toMatch(/^public:[A-Za-z0-9_.-]{1,64}$/);
    expect(body.channel.cid).toBe(`public:${body.channel.id}`);
    expect(body.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob']);
    expect(body.channel.member_count).toBe(2);
    // Two creations without an id make two channels.
    const again = ok(await w.alice.create({ type: 'public', name: 'Random' }));
    expect(again.channel.cid).not.toBe(body.channel.cid);
  });

  it('answers 400 for unknown member ids and creates nothing', async () => {
    const w = await world(h);
    const r = await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'ghost', 'phantom'] });
    expectError(r, 'VALIDATION_ERROR');
    expect(JSON.stringify(r.body)).toContain('ghost');
    expectError(await w.alice.channel('group:g'), 'NOT_FOUND');
    expect(cids(await w.bob.query())).toEqual([]);
    // A DM with an unknown user is refused the same way.
    expectError(await w.alice.create({ type: 'dm', members: ['ghost'] }), 'VALIDATION_ERROR');
  });

  it('answers 409 CONFLICT for an existing non-DM cid and leaves the channel as it was', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'general', name: 'General', members: ['bob'] }));
    const r = await w.carol.create({ type: 'public', id: 'general', name: 'Mine now', members: ['dave'] });
    expectError(r, 'CONFLICT');
    const got = ok(await w.alice.channel('public:general'));
    expect(got.channel).toMatchObject({ name: 'General', created_by: 'alice', member_count: 2 });
    expect(got.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob']);
    // The same id under another type is another channel.
    ok(await w.carol.create({ type: 'group', id: 'general' }));
    // Server callers get the same conflict.
    expectError(await w.server.create({ type: 'public', id: 'general', created_by: 'dave' }), 'CONFLICT');
  });

  it('lets a server token create on behalf of a user (created_by becomes owner) or of nobody', async () => {
    const w = await world(h);
    const body = ok(await w.server.create({ type: 'group', id: 'ops', created_by: 'carol', members: ['dave'] }));
    expect(body.channel).toMatchObject({ created_by: 'carol', member_count: 2 });
    const roles = Object.fromEntries(body.members.map((m: any) => [m.user_id, m.role]));
    expect(roles).toEqual({ carol: 'owner', dave: 'member' });
    expect(cids(await w.carol.query())).toEqual(['group:ops']);

    const bare = ok(await w.server.create({ type: 'public', id: 'lobby', members: ['alice'] }));
    expect(bare.channel.created_by).toBeNull();
    expect(bare.members).toMatchObject([{ user_id: 'alice', role: 'member' }]);
    // created_by naming an unknown user is a validation error like any unknown member.
    expectError(await w.server.create({ type: 'group', id: 'x', created_by: 'ghost' }), 'VALIDATION_ERROR');
  });

  it('rejects bad bodies with 400', async () => {
    const w = await world(h);
    expectError(await w.alice.create({ type: 'secret', id: 'x' }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'group', id: 'has space' }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'group', id: 'a:b' }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'group', id: 'x'.repeat(65) }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'group', id: 'x', members: ['bad id!'] }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'group', id: 'x', owner: 'alice' }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ id: 'x' }), 'VALIDATION_ERROR');
    expect(cids(await w.alice.query())).toEqual([]);
  });
});

describe('dm', () => {
  it('is get-or-create for the same member set, in any order, by any member', async () => {
    const w = await world(h);
    const first = ok(await w.alice.create({ type: 'dm', members: ['bob', 'carol'] }));
    const cid = first.channel.cid;
    expect(cid).toMatch(/^dm:/);
    expect(first.channel).toMatchObject({ type: 'dm', name: null, member_count: 3, created_by: 'alice' });
    // Nobody owns a DM.
    expect(first.members.map((m: any) => m.role)).toEqual(['member', 'member', 'member']);

    const byCarol = ok(await w.carol.create({ type: 'dm', members: ['bob', 'alice'] }));
    const byBob = ok(await w.bob.create({ type: 'dm', members: ['carol', 'bob', 'alice', 'carol'] }));
    const byServer = ok(await w.server.create({ type: 'dm', members: ['carol', 'alice', 'bob'] }));
    for (const again of [byCarol, byBob, byServer]) {
      expect(again.channel.cid).toBe(cid);
      expect(again.channel.created_by).toBe('alice');
      expect(again.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob', 'carol']);
    }
    // A message sent before a re-create is still there: the same channel, not a copy.
    const sent = ok(await w.bob.send(cid, 'hello both'));
    expect(ok(await w.carol.create({ type: 'dm', members: ['alice', 'bob'] })).channel.last_seq).toBe(sent.message.seq);

    // Another member set is another DM.
    const pair = ok(await w.alice.create({ type: 'dm', members: ['bob'] }));
    expect(pair.channel.cid).not.toBe(cid);
    expect(ok(await w.bob.create({ type: 'dm', members: ['alice'] })).channel.cid).toBe(pair.channel.cid);

    // Alice has exactly two DMs, each listed once.
    expect(cids(await w.alice.query({ filter: { type: 'dm' } })).sort()).toEqual([cid, pair.channel.cid].sort());
    // Dave, not in either, cannot see them.
    expectError(await w.dave.channel(cid), 'NOT_FOUND');
    expectError(await w.dave.history(cid), 'NOT_FOUND');
  });

  it('takes no id or name, and needs two distinct members', async () => {
    const w = await world(h);
    expectError(await w.alice.create({ type: 'dm', id: 'mine', members: ['bob'] }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'dm', name: 'Us', members: ['bob'] }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'dm', members: [] }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'dm', members: ['alice'] }), 'VALIDATION_ERROR');
    expectError(await w.alice.create({ type: 'dm' }), 'VALIDATION_ERROR');
    expect(cids(await w.alice.query())).toEqual([]);
  });
});

describe('group privacy', () => {
  it('answers an outsider 404 everywhere, exactly as for a channel that does not exist', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'secret', name: 'Secret', members: ['bob'] }));
    const sent = ok(await w.alice.send('group:secret', 'classified'));
    const outsider = w.dave;
    const probes = async (cid: string) => [
      await outsider.channel(cid),
      await outsider.history(cid),
      await outsider.events(cid, 0),
      await outsider.send(cid, 'let me in'),
      await outsider.join(cid),
      await outsider.leave(cid),
      await outsider.members(cid, { add: ['dave'] }),
      await outsider.members(cid, { add: ['erin'] }),
      await outsider.update(cid, { topic: 'mine' }),
      await outsider.setMember(cid, 'dave', { muted: true }),
      await outsider.read(cid, 1),
    ];
    const real = await probes('group:secret');
    const none = await probes('group:nonexistent');
    for (const [i, r] of real.entries()) {
      expectError(r, 'NOT_FOUND');
      expect(r.body.error.message.replace('secret', 'X')).toBe(none[i]!.body.error.message.replace('nonexistent', 'X'));
    }
    // The message inside is unknown to them as well.
    expectError(await outsider.get(`/v1/messages/${sent.message.id}/replies`), 'NOT_FOUND');
    expectError(await outsider.unread('group:secret', sent.message.id), 'NOT_FOUND');
    // And the group never shows in any of their queries.
    for (const filter of [{}, { joined: false }, { type: 'group' }, { cid: 'group:secret' }, { members: 'bob' }])
      expect(cids(await outsider.query({ filter }))).toEqual([]);
    // Over the socket too: watching it is as unknown as watching nothing.
    const sock = await TestSocket.connect(await h.listen(), w.app, 'dave');
    try {
      for (const cid of ['group:secret', 'group:nonexistent']) {
        const r = await sock.request('channel.watch', { cid, since: 0 });
        expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
        const send = await sock.request('message.send', { cid, message: { text: 'hi' } });
        expect(send).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      }
      await sock.request('ping');
      expect(sock.events().filter((f) => f.cid === 'group:secret')).toEqual([]);
    } finally {
      sock.close();
    }
    // Nothing they tried changed it.
    const log = await eventLog(w.alice, 'group:secret');
    expect(summary(log)).toEqual(['1 message.new regular: classified']);
    expect(ok(await w.alice.channel('group:secret')).channel).toMatchObject({ topic: null, member_count: 2 });
  });
});

describe('public', () => {
  it('is found by outsiders, readable, and joined with POST /join', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'general', name: 'General', members: ['bob', 'carol'] }));
    ok(await w.alice.send('public:general', 'welcome'));

    // Dave is in nothing, so his own list is empty, but the public channel can be found.
    expect(cids(await w.dave.query())).toEqual([]);
    for (const filter of [{ joined: false }, { type: 'public' }]) {
      const found = ok(await w.dave.query({ filter }));
      expect(found.channels.map((c: any) => c.cid)).toEqual(['public:general']);
      expect(found.channels[0]).toMatchObject({
        name: 'General',
        member_count: 3,
        membership: null,
        last_message: { text: 'welcome' },
      });
    }
    // Readable without joining.
    expect(ok(await w.dave.channel('public:general')).channel).toMatchObject({ membership: null, member_count: 3 });
    expect(ok(await w.dave.history('public:general')).messages.map((m: any) => m.text)).toEqual(['welcome']);
    expect(ok(await w.dave.events('public:general')).events).toHaveLength(1);
    // Posting needs membership.
    expectError(await w.dave.send('public:general', 'hi'), 'FORBIDDEN');
    // Reading state needs membership too.
    expectError(await w.dave.read('public:general', 1), 'FORBIDDEN');

    const joined = ok(await w.dave.join('public:general'));
    expect(joined.channel).toMatchObject({ member_count: 4, membership: { role: 'member' } });
    expect(joined.members.map((m: any) => m.user_id)).toContain('dave');
    ok(await w.dave.send('public:general', 'hi all'));
    // Joining again changes nothing.
    const before = ok(await w.alice.channel('public:general')).channel.last_seq;
    ok(await w.dave.join('public:general'));
    expect(ok(await w.alice.channel('public:general')).channel).toMatchObject({ last_seq: before, member_count: 4 });

    expect(summary(await eventLog(w.alice, 'public:general'))).toEqual([
      '1 message.new regular: welcome',
      '2 member.added dave',
      '3 message.new system: dave joined',
      '4 message.new regular: hi all',
    ]);
    // Now a member, Dave sees it in his own list and no longer among the unjoined.
    expect(cids(await w.dave.query())).toEqual(['public:general']);
    expect(cids(await w.dave.query({ filter: { joined: false } }))).toEqual([]);
  });

  it('cannot be joined when it is a group, a DM, or does not exist', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    const dm = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid;
    expectError(await w.dave.join('group:g'), 'NOT_FOUND');
    expectError(await w.dave.join(dm), 'NOT_FOUND');
    expectError(await w.dave.join('public:nope'), 'NOT_FOUND');
    // Nor by adding yourself through /members.
    expectError(await w.dave.members('group:g', { add: ['dave'] }), 'NOT_FOUND');
    expect(ok(await w.alice.channel('group:g')).channel.member_count).toBe(2);
  });
});

describe('announcement', () => {
  it('lets members read but only moderators, admins and the owner post', async () => {
    const w = await world(h, [{ id: 'boss', role: 'admin' }]);
    ok(await w.alice.create({ type: 'announcement', id: 'news', members: ['bob', 'carol', 'dave'] }));
    ok(await w.alice.send('announcement:news', 'from the owner'));

    expectError(await w.bob.send('announcement:news', 'from a member'), 'FORBIDDEN');
    const sock = await TestSocket.connect(await h.listen(), w.app, 'bob');
    try {
      const r = await sock.request('message.send', { cid: 'announcement:news', message: { text: 'via socket' } });
      expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    } finally {
      sock.close();
    }
    expect(ok(await w.bob.history('announcement:news')).messages.map((m: any) => m.text)).toEqual(['from the owner']);

    ok(await w.alice.setMember('announcement:news', 'carol', { role: 'moderator' }));
    ok(await w.alice.setMember('announcement:news', 'dave', { role: 'admin' }));
    ok(await w.carol.send('announcement:news', 'from a moderator'));
    ok(await w.dave.send('announcement:news', 'from an admin'));
    expectError(await w.bob.send('announcement:news', 'still a member'), 'FORBIDDEN');

    // An app admin who joins posts as an owner would.
    ok(await w.as('boss').join('announcement:news'));
    ok(await w.as('boss').send('announcement:news', 'from the app admin'));

    // A plain member may not add people to an announcement channel; its admins may.
    expectError(await w.bob.members('announcement:news', { add: ['erin'] }), 'FORBIDDEN');
    ok(await w.dave.members('announcement:news', { add: ['erin'] }));

    const texts = ok(await w.bob.history('announcement:news')).messages.map((m: any) => `${m.type}: ${m.text}`);
    expect(texts).toEqual([
      'regular: from the owner',
      'regular: from a moderator',
      'regular: from an admin',
      'system: boss joined',
      'regular: from the app admin',
      'system: dave added erin',
    ]);
  });
});
