/**
 * Membership and permissions: who may add, remove, leave, change roles and mute; app-level
 * admins and moderators; the logged events and system messages each change writes; and the
 * sockets of the people added and removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { eventLog, expectError, ok, summary, world } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const memberIds = (body: any) => body.members.map((m: any) => m.user_id).sort();
const roleOf = (body: any, id: string) => body.members.find((m: any) => m.user_id === id)?.role;

describe('adding members', () => {
  it('lets any member add to a group, logging member.added for each and one system message', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    const body = ok(await w.bob.members('group:g', { add: ['carol', 'dave'] }));
    expect(memberIds(body)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(body.channel).toMatchObject({ member_count: 4, last_seq: 3 });
    expect(roleOf(body, 'carol')).toBe('member');

    // Adding people who are already members changes nothing; a mix adds only the new ones.
    ok(await w.alice.members('group:g', { add: ['carol'] }));
    ok(await w.carol.members('group:g', { add: ['dave', 'erin'] }));
    const log = await eventLog(w.alice, 'group:g');
    expect(summary(log)).toEqual([
      '1 member.added carol',
      '2 member.added dave',
      '3 message.new system: bob added carol and dave',
      '4 member.added erin',
      '5 message.new system: carol added erin',
    ]);
    expect(log[0].member).toMatchObject({ user_id: 'carol', role: 'member', last_read_seq: 0, muted: false });
    expect(log[2].message).toMatchObject({ user_id: 'bob', type: 'system' });
    expect(ok(await w.erin.channel('group:g')).channel.member_count).toBe(5);
  });

  it('names added and removed people in the order given, not in database order', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p' }));
    ok(await w.alice.members('public:p', { add: ['erin', 'bob', 'dave'] }));
    ok(await w.alice.members('public:p', { remove: ['dave', 'bob'] }));
    expect(summary(await eventLog(w.alice, 'public:p'))).toEqual([
      '1 member.added erin',
      '2 member.added bob',
      '3 member.added dave',
      '4 message.new system: alice added erin, bob and dave',
      '5 member.removed dave',
      '6 member.removed bob',
      '7 message.new system: alice removed dave and bob',
    ]);
  });

  it('does not name a member as the actor of a server-token add or remove', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p' }));
    ok(await w.server.members('public:p', { add: ['bob', 'carol'] }));
    ok(await w.server.members('public:p', { add: ['dave'] }));
    ok(await w.server.members('public:p', { remove: ['bob'] }));
    ok(await w.server.members('public:p', { remove: ['carol', 'dave'] }));
    expect(summary(await eventLog(w.alice, 'public:p'))).toEqual([
      '1 member.added bob',
      '2 member.added carol',
      '3 message.new system: bob and carol were added',
      '4 member.added dave',
      '5 message.new system: dave was added',
      '6 member.removed bob',
      '7 message.new system: bob was removed',
      '8 member.removed carol',
      '9 member.removed dave',
      '10 message.new system: carol and dave were removed',
    ]);
  });

  it('keeps seqs contiguous and counts right when many join and create DMs at once', async () => {
    const w = await world(h);
    const crowd = Array.from({ length: 8 }, (_, i) => `u${i}`);
    await h.users(
      w.app,
      crowd.map((id) => ({ id, name: id })),
    );
    ok(await w.alice.create({ type: 'public', id: 'p' }));
    const results = await Promise.all([
      ...crowd.map((id) => w.as(id).join('public:p')),
      ...crowd.map((id) => w.as(id).join('public:p')),
      w.alice.send('public:p', 'busy'),
      w.dave.create({ type: 'dm', members: ['erin'] }),
      w.erin.create({ type: 'dm', members: ['dave'] }),
      w.erin.create({ type: 'dm', members: ['erin', 'dave'] }),
    ]);
    for (const r of results) ok(r);
    const dms = new Set(results.slice(-3).map((r) => r.body.channel.cid));
    expect(dms.size).toBe(1);
    const log = await eventLog(w.alice, 'public:p');
    expect(log).toHaveLength(8 * 2 + 1);
    expect(
      log
        .filter((e) => e.type === 'member.added')
        .map((e) => e.member.user_id)
        .sort(),
    ).toEqual(crowd);
    expect(ok(await w.alice.channel('public:p')).channel.member_count).toBe(9);
    expect(ok(await w.dave.query({ filter: { type: 'dm' } })).channels).toHaveLength(1);
  });

  it('lets members of a public channel add people, but not outsiders', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    ok(await w.bob.members('public:p', { add: ['carol'] }));
    expectError(await w.dave.members('public:p', { add: ['erin'] }), 'FORBIDDEN');
    // ...though an outsider adding only themselves is joining.
    ok(await w.dave.members('public:p', { add: ['dave'] }));
    expect(summary(await eventLog(w.alice, 'public:p'))).toEqual([
      '1 member.added carol',
      '2 message.new system: bob added carol',
      '3 member.added dave',
      '4 message.new system: dave joined',
    ]);
  });

  it('answers 400 for unknown users and changes nothing', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    expectError(await w.alice.members('group:g', { add: ['carol', 'ghost'] }), 'VALIDATION_ERROR');
    expectError(await w.alice.members('group:g', { add: [] }), 'VALIDATION_ERROR');
    expectError(await w.alice.members('group:g', {}), 'VALIDATION_ERROR');
    expectError(await w.alice.members('group:g', { add: ['carol'], remove: ['carol'] }), 'VALIDATION_ERROR');
    const ch = ok(await w.alice.channel('group:g'));
    expect(memberIds(ch)).toEqual(['alice', 'bob']);
    expect(ch.channel.last_seq).toBe(0);
  });

  it('lets nobody add to or leave a DM', async () => {
    const w = await world(h, [{ id: 'boss', role: 'admin' }]);
    const cid = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid;
    expectError(await w.alice.members(cid, { add: ['carol'] }), 'FORBIDDEN');
    expectError(await w.as('boss').members(cid, { add: ['carol'] }), 'FORBIDDEN');
    expectError(await w.server.members(cid, { add: ['carol'] }), 'FORBIDDEN');
    expectError(await w.alice.members(cid, { remove: ['bob'] }), 'FORBIDDEN');
    expectError(await w.alice.members(cid, { remove: ['alice'] }), 'FORBIDDEN');
    expectError(await w.bob.leave(cid), 'FORBIDDEN');
    expectError(await w.alice.setMember(cid, 'bob', { role: 'admin' }), 'FORBIDDEN');
    const ch = ok(await w.alice.channel(cid));
    expect(memberIds(ch)).toEqual(['alice', 'bob']);
    expect(ch.channel.last_seq).toBe(0);
  });
});

describe('removing and leaving', () => {
  it('needs channel admin or more to remove others, and never someone of equal or higher role', async () => {
    const w = await world(h, [
      { id: 'mia', role: 'user' },
      { id: 'max', role: 'user' },
    ]);
    const cid = 'group:g';
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'carol', 'dave', 'erin', 'mia', 'max'] }));
    ok(await w.alice.setMember(cid, 'bob', { role: 'admin' }));
    ok(await w.alice.setMember(cid, 'carol', { role: 'admin' }));
    ok(await w.alice.setMember(cid, 'dave', { role: 'moderator' }));

    // Members and moderators cannot remove anyone else.
    expectError(await w.erin.members(cid, { remove: ['mia'] }), 'FORBIDDEN');
    expectError(await w.dave.members(cid, { remove: ['mia'] }), 'FORBIDDEN');
    // An admin cannot remove another admin or the owner...
    expectError(await w.bob.members(cid, { remove: ['carol'] }), 'FORBIDDEN');
    expectError(await w.bob.members(cid, { remove: ['alice'] }), 'FORBIDDEN');
    // ...and a batch with one such target removes nobody.
    expectError(await w.bob.members(cid, { remove: ['mia', 'carol'] }), 'FORBIDDEN');
    expect(memberIds(ok(await w.alice.channel(cid)))).toContain('mia');
    // ...but removes moderators and members.
    const after = ok(await w.bob.members(cid, { remove: ['dave', 'mia'] }));
    expect(memberIds(after)).toEqual(['alice', 'bob', 'carol', 'erin', 'max']);
    expect(after.channel.member_count).toBe(5);
    // The owner removes an admin.
    ok(await w.alice.members(cid, { remove: ['carol'] }));
    // Removing someone who is not a member is a no-op.
    ok(await w.alice.members(cid, { remove: ['dave'] }));

    const log = await eventLog(w.alice, cid);
    expect(summary(log).slice(3)).toEqual([
      '4 member.removed dave',
      '5 member.removed mia',
      '6 message.new system: bob removed dave and mia',
      '7 member.removed carol',
      '8 message.new system: alice removed carol',
    ]);
    // The removed lose access to the group.
    expectError(await w.dave.channel(cid), 'NOT_FOUND');
    expectError(await w.carol.history(cid), 'NOT_FOUND');
  });

  it('lets anyone leave, by /leave or by removing themselves, with a "left" system message', async () => {
    const w = await world(h);
    const cid = 'group:g';
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'carol'] }));
    ok(await w.alice.setMember(cid, 'carol', { role: 'admin' }));
    expect(ok(await w.bob.leave(cid))).toEqual({ removed: ['bob'] });
    ok(await w.carol.members(cid, { remove: ['carol'] }));
    // Leaving twice: no longer a member, so the group is invisible.
    expectError(await w.bob.leave(cid), 'NOT_FOUND');
    // The owner may leave too.
    ok(await w.alice.leave(cid));

    // A server token still sees the log.
    expect(summary(await eventLog(w.server, cid))).toEqual([
      '1 member.updated carol',
      '2 member.removed bob',
      '3 message.new system: bob left',
      '4 member.removed carol',
      '5 message.new system: carol left',
      '6 member.removed alice',
      '7 message.new system: alice left',
    ]);
    expect(ok(await w.server.channel(cid)).channel.member_count).toBe(0);
  });

  it('answers 200 with the channel, not 404, to a member who removes themselves from a private group', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'carol'] }));
    const body = ok(await w.bob.members('group:g', { remove: ['bob'] }));
    expect(body.channel).toMatchObject({ cid: 'group:g', member_count: 2, membership: null });
    expect(memberIds(body)).toEqual(['alice', 'carol']);
    // The leave really happened, and the group is now hidden from bob.
    expectError(await w.bob.channel('group:g'), 'NOT_FOUND');
    expect(summary(await eventLog(w.alice, 'group:g'))).toEqual([
      '1 member.removed bob',
      '2 message.new system: bob left',
    ]);
  });

  it('refuses leaving a public channel one is not in', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    expectError(await w.dave.leave('public:p'), 'FORBIDDEN');
    ok(await w.bob.leave('public:p'));
    expectError(await w.bob.leave('public:p'), 'FORBIDDEN');
    expect(ok(await w.alice.channel('public:p')).channel.member_count).toBe(1);
  });
});

describe('roles and mute', () => {
  it('lets admins grant only roles below their own, and the owner any role', async () => {
    const w = await world(h);
    const cid = 'public:p';
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob', 'carol', 'dave', 'erin'] }));

    // Plain members and moderators change no roles.
    expectError(await w.erin.setMember(cid, 'dave', { role: 'moderator' }), 'FORBIDDEN');
    expectError(await w.erin.setMember(cid, 'erin', { role: 'admin' }), 'FORBIDDEN');
    ok(await w.alice.setMember(cid, 'dave', { role: 'moderator' }));
    expectError(await w.dave.setMember(cid, 'erin', { role: 'moderator' }), 'FORBIDDEN');

    ok(await w.alice.setMember(cid, 'bob', { role: 'admin' }));
    // An admin grants moderator and demotes a moderator...
    expect(ok(await w.bob.setMember(cid, 'erin', { role: 'moderator' })).member).toMatchObject({
      user_id: 'erin',
      role: 'moderator',
    });
    ok(await w.bob.setMember(cid, 'dave', { role: 'member' }));
    // ...but cannot grant admin or owner, nor change another admin or the owner.
    expectError(await w.bob.setMember(cid, 'carol', { role: 'admin' }), 'FORBIDDEN');
    expectError(await w.bob.setMember(cid, 'carol', { role: 'owner' }), 'FORBIDDEN');
    expectError(await w.bob.setMember(cid, 'bob', { role: 'owner' }), 'FORBIDDEN');
    ok(await w.alice.setMember(cid, 'carol', { role: 'admin' }));
    expectError(await w.bob.setMember(cid, 'carol', { role: 'member' }), 'FORBIDDEN');
    expectError(await w.bob.setMember(cid, 'alice', { role: 'member' }), 'FORBIDDEN');
    // The owner may make another owner.
    ok(await w.alice.setMember(cid, 'carol', { role: 'owner' }));

    // Bad targets and bodies.
    expectError(await w.alice.setMember(cid, 'ghost', { role: 'member' }), 'NOT_FOUND');
    expectError(await w.alice.setMember(cid, 'bob', { role: 'king' }), 'VALIDATION_ERROR');
    expectError(await w.alice.setMember(cid, 'bob', {}), 'VALIDATION_ERROR');

    const roles = ok(await w.alice.channel(cid));
    expect(Object.fromEntries(roles.members.map((m: any) => [m.user_id, m.role]))).toEqual({
      alice: 'owner',
      bob: 'admin',
      carol: 'owner',
      dave: 'member',
      erin: 'moderator',
    });
    // Each real change logged member.updated; setting the same role again logs nothing.
    ok(await w.alice.setMember(cid, 'bob', { role: 'admin' }));
    const log = await eventLog(w.alice, cid);
    expect(summary(log)).toEqual([
      '1 member.updated dave',
      '2 member.updated bob',
      '3 member.updated erin',
      '4 member.updated dave',
      '5 member.updated carol',
      '6 member.updated carol',
    ]);
    expect(log[5].member).toMatchObject({ user_id: 'carol', role: 'owner' });
  });

  it('lets a member mute only themselves', async () => {
    const w = await world(h);
    const cid = 'group:g';
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    expect(ok(await w.bob.setMember(cid, 'bob', { muted: true })).member).toMatchObject({ muted: true });
    expectError(await w.alice.setMember(cid, 'bob', { muted: false }), 'FORBIDDEN');
    expectError(await w.server.setMember(cid, 'bob', { muted: false }), 'FORBIDDEN');
    expectError(await w.alice.setMember(cid, 'bob', { role: 'admin', muted: false }), 'FORBIDDEN');
    expect(ok(await w.bob.channel(cid)).channel.membership).toMatchObject({ muted: true, role: 'member' });
    expect(ok(await w.bob.query()).channels[0].membership).toMatchObject({ muted: true });
    expect(ok(await w.bob.setMember(cid, 'bob', { muted: false })).member.muted).toBe(false);
    // Muting in a DM is fine too.
    const dm = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid;
    ok(await w.alice.setMember(dm, 'alice', { muted: true }));
  });
});

describe('app-level roles', () => {
  it('makes an app admin act as owner in every channel, member or not', async () => {
    const w = await world(h, [{ id: 'boss', role: 'admin' }]);
    const boss = w.as('boss');
    const cid = 'group:g';
    ok(await w.alice.create({ type: 'group', id: 'g', name: 'G', members: ['bob', 'carol'] }));
    ok(await w.alice.setMember(cid, 'bob', { role: 'admin' }));
    ok(await w.alice.send(cid, 'hello'));

    // Sees the private group.
    expect(ok(await boss.channel(cid)).channel).toMatchObject({ cid, membership: null });
    expect(ok(await boss.history(cid)).messages).toHaveLength(1);
    // Renames, adds, grants admin, removes an admin — as an owner may.
    ok(await boss.update(cid, { name: 'Renamed' }));
    ok(await boss.members(cid, { add: ['dave'] }));
    ok(await boss.setMember(cid, 'dave', { role: 'admin' }));
    ok(await boss.members(cid, { remove: ['bob'] }));
    // But not the owner (equal role).
    expectError(await boss.members(cid, { remove: ['alice'] }), 'FORBIDDEN');

    expect(summary(await eventLog(boss, cid))).toEqual([
      '1 member.updated bob',
      '2 message.new regular: hello',
      '3 channel.updated',
      '4 message.new system: boss renamed the channel to Renamed',
      '5 member.added dave',
      '6 message.new system: boss added dave',
      '7 member.updated dave',
      '8 member.removed bob',
      '9 message.new system: boss removed bob',
    ]);
    // Private channels of others still do not show up in the admin's own list.
    expect(ok(await boss.query()).channels).toEqual([]);
  });

  it('gains and loses app-admin powers when the role is set through POST /v1/users', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    expectError(await w.erin.channel('group:g'), 'NOT_FOUND');
    await h.users(w.app, [{ id: 'erin', role: 'admin' }]);
    ok(await w.erin.channel('group:g'));
    ok(await w.erin.update('group:g', { archived: true }));
    await h.users(w.app, [{ id: 'erin', role: 'user' }]);
    expectError(await w.erin.channel('group:g'), 'NOT_FOUND');
    expectError(await w.erin.update('group:g', { archived: false }), 'NOT_FOUND');
  });

  it('lets app moderators, channel moderators and authors delete messages, and nobody else', async () => {
    const w = await world(h, [{ id: 'mod', role: 'moderator' }]);
    const cid = 'public:p';
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob', 'carol', 'dave'] }));
    ok(await w.alice.setMember(cid, 'carol', { role: 'moderator' }));
    const m1 = ok(await w.bob.send(cid, 'one')).message;
    const m2 = ok(await w.bob.send(cid, 'two')).message;
    const m3 = ok(await w.bob.send(cid, 'three')).message;
    ok(await w.dave.send(cid, 'four'));

    expectError(await w.dave.deleteMessage(m1.id), 'FORBIDDEN');
    expect(ok(await w.as('mod').deleteMessage(m1.id)).message).toMatchObject({ type: 'deleted', text: '' });
    expect(ok(await w.carol.deleteMessage(m2.id)).message.type).toBe('deleted');
    expect(ok(await w.bob.deleteMessage(m3.id)).message.type).toBe('deleted');
    const types = ok(await w.alice.history(cid)).messages.map((m: any) => m.type);
    expect(types).toEqual(['deleted', 'deleted', 'deleted', 'regular']);
  });
});

describe('sockets follow membership', () => {
  it('sends channel.added on create and add, then the channel events; channel.removed, then nothing', async () => {
    const w = await world(h);
    const url = await h.listen();
    const bob = await TestSocket.connect(url, w.app, 'bob');
    const carol = await TestSocket.connect(url, w.app, 'carol');
    try {
      // Created with bob in it.
      ok(await w.alice.create({ type: 'group', id: 'one', members: ['bob'] }));
      const created = await bob.waitFor((f) => f.type === 'channel.added' && f.cid === 'group:one');
      expect(created.channel).toMatchObject({ cid: 'group:one', member_count: 2 });

      // Carol is added later: channel.added, then everything that follows.
      ok(await w.alice.create({ type: 'group', id: 'two', members: ['bob'] }));
      ok(await w.bob.members('group:two', { add: ['carol'] }));
      const added = await carol.waitFor((f) => f.type === 'channel.added' && f.cid === 'group:two');
      expect(added.channel).toMatchObject({ cid: 'group:two', member_count: 3, last_seq: 2 });
      const sent = ok(await w.alice.send('group:two', 'welcome carol')).message;
      const got = await carol.waitFor((f) => f.type === 'message.new' && f.cid === 'group:two' && f.seq === 3);
      expect(got.message.id).toBe(sent.id);
      // Bob, a member all along, saw the member.added and the system message in order.
      await bob.waitFor((f) => f.type === 'message.new' && f.cid === 'group:two' && f.seq === 3);
      expect(
        bob
          .events()
          .filter((f) => f.cid === 'group:two' && f.seq !== undefined)
          .map((f) => f.type),
      ).toEqual(['member.added', 'message.new', 'message.new']);

      // Carol is removed: member.removed and the system message, then channel.removed, then silence.
      ok(await w.alice.members('group:two', { remove: ['carol'] }));
      await carol.waitFor((f) => f.type === 'channel.removed' && f.cid === 'group:two');
      ok(await w.alice.send('group:two', 'after carol left'));
      ok(await w.alice.update('group:two', { topic: 'secret plans' }));
      await bob.waitFor((f) => f.type === 'channel.updated' && f.cid === 'group:two');
      // A round trip on carol's socket: anything sent to her before it has arrived.
      await carol.request('ping');
      // (Her unread counts' pushes aside: test/reads/unread-push.pg.test.ts.)
      const carolTwo = carol.events().filter((f) => f.cid === 'group:two' && f.type !== 'unread.updated');
      expect(carolTwo.map((f) => `${f.type}${f.seq ? ` ${f.seq}` : ''}`)).toEqual([
        'channel.added',
        'message.new 3',
        'member.removed 4',
        'message.new 5',
        'channel.removed',
      ]);
      // Her other memberships are untouched.
      ok(await w.alice.members('group:one', { add: ['carol'] }));
      ok(await w.alice.send('group:one', 'still here'));
      await carol.waitFor((f) => f.type === 'message.new' && f.cid === 'group:one' && f.message.text === 'still here');
    } finally {
      bob.close();
      carol.close();
    }
  });

  it('subscribes a user who joins a public channel, and unsubscribes them when they leave', async () => {
    const w = await world(h);
    const url = await h.listen();
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    const dave = await TestSocket.connect(url, w.app, 'dave');
    const dave2 = await TestSocket.connect(url, w.app, 'dave');
    try {
      ok(await w.dave.join('public:p'));
      for (const s of [dave, dave2]) await s.waitFor((f) => f.type === 'channel.added' && f.cid === 'public:p');
      ok(await w.bob.send('public:p', 'hi dave'));
      for (const s of [dave, dave2]) await s.waitFor((f) => f.type === 'message.new' && f.message.text === 'hi dave');
      ok(await w.dave.leave('public:p'));
      for (const s of [dave, dave2]) await s.waitFor((f) => f.type === 'channel.removed' && f.cid === 'public:p');
      ok(await w.bob.send('public:p', 'bye dave'));
      for (const s of [dave, dave2]) {
        await s.request('ping');
        expect(s.events('message.new').map((f) => f.message.text)).toEqual(['hi dave', 'dave left']);
      }
    } finally {
      dave.close();
      dave2.close();
    }
  });

  it('a watch outlives a removal only where the user may still read: public yes, group no', async () => {
    const w = await world(h);
    const url = await h.listen();
    ok(await w.alice.create({ type: 'public', id: 'pw', members: ['bob'] }));
    ok(await w.alice.create({ type: 'group', id: 'gw', members: ['bob', 'dave'] }));
    const dave = await TestSocket.connect(url, w.app, 'dave');
    try {
      ok(await w.dave.join('public:pw'));
      await dave.waitFor((f) => f.type === 'channel.added' && f.cid === 'public:pw');
      for (const cid of ['public:pw', 'group:gw']) expect((await dave.request('channel.watch', { cid })).ok).toBe(true);
      ok(await w.dave.leave('public:pw'));
      ok(await w.alice.members('group:gw', { remove: ['dave'] }));
      for (const cid of ['public:pw', 'group:gw'])
        await dave.waitFor((f) => f.type === 'channel.removed' && f.cid === cid);
      ok(await w.bob.send('group:gw', 'not for dave'));
      ok(await w.bob.send('public:pw', 'anyone may read this'));
      // Published after the group's message on the one node: once it is here, that one would be too.
      await dave.waitFor((f) => f.type === 'message.new' && f.message.text === 'anyone may read this');
      expect(dave.events('message.new').map((f) => f.message.text)).not.toContain('not for dave');
      expect((await dave.request('channel.watch', { cid: 'group:gw' })).error.code).toBe('NOT_FOUND');
    } finally {
      dave.close();
    }
  });
});
