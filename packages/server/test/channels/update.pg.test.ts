/**
 * PATCH /v1/channels/{cid}: who may change what, renames as system messages, DMs that cannot
 * be renamed or archived, and archiving as a read-only state that keeps history readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { eventLog, expectError, ok, summary, world } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('update', () => {
  it('lets any member change topic and description, but only admins and the owner name, image, archive', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', name: 'G', members: ['bob', 'carol', 'dave'] }));
    ok(await w.alice.setMember('group:g', 'carol', { role: 'admin' }));
    ok(await w.alice.setMember('group:g', 'dave', { role: 'moderator' }));

    // Plain member and moderator: topic and description yes, the rest no.
    expect(ok(await w.bob.update('group:g', { topic: 'bob topic' })).channel.topic).toBe('bob topic');
    expect(ok(await w.dave.update('group:g', { description: 'dave desc' })).channel.description).toBe('dave desc');
    for (const who of [w.bob, w.dave]) {
      expectError(await who.update('group:g', { name: 'nope' }), 'FORBIDDEN');
      expectError(await who.update('group:g', { image: 'https://x/y.png' }), 'FORBIDDEN');
      expectError(await who.update('group:g', { archived: true }), 'FORBIDDEN');
      // Mixed with an allowed field, the whole change is refused.
      expectError(await who.update('group:g', { topic: 'sneaky', name: 'nope' }), 'FORBIDDEN');
    }
    // Channel admin and owner may.
    expect(ok(await w.carol.update('group:g', { name: 'Carol named it' })).channel.name).toBe('Carol named it');
    expect(ok(await w.alice.update('group:g', { image: 'https://img/a.png' })).channel.image).toBe('https://img/a.png');

    const ch = ok(await w.bob.channel('group:g')).channel;
    expect(ch).toMatchObject({
      name: 'Carol named it',
      topic: 'bob topic',
      description: 'dave desc',
      image: 'https://img/a.png',
    });
    expect(summary(await eventLog(w.alice, 'group:g'))).toEqual([
      '1 member.updated carol',
      '2 member.updated dave',
      '3 channel.updated',
      '4 channel.updated',
      '5 channel.updated',
      '6 message.new system: carol renamed the channel to Carol named it',
      '7 channel.updated',
    ]);
  });

  it('refuses non-members of a public channel, and answers 400 for empty or unknown fields', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    expectError(await w.dave.update('public:p', { topic: 'drive-by' }), 'FORBIDDEN');
    expectError(await w.bob.update('public:p', {}), 'VALIDATION_ERROR');
    expectError(await w.bob.update('public:p', { color: 'red' }), 'VALIDATION_ERROR');
    expectError(await w.bob.update('public:p', { topic: 'x'.repeat(501) }), 'VALIDATION_ERROR');
    expectError(await w.bob.update('public:nope', { topic: 'x' }), 'NOT_FOUND');
    expectError(await w.bob.update('nope', { topic: 'x' }), 'VALIDATION_ERROR');
    expect(ok(await w.alice.channel('public:p')).channel).toMatchObject({ topic: null, last_seq: 0 });
  });

  it('writes a system message for a rename, with the channel.updated event first', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', name: 'Old', members: ['bob'] }));
    const body = ok(await w.alice.update('public:p', { name: 'New name' }));
    expect(body.channel).toMatchObject({ name: 'New name', last_seq: 2 });
    const msgs = ok(await w.bob.history('public:p')).messages;
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({
      type: 'system',
      seq: 2,
      user_id: 'alice',
      text: 'alice renamed the channel to New name',
    });
    const log = await eventLog(w.bob, 'public:p');
    expect(summary(log)).toEqual(['1 channel.updated', '2 message.new system: alice renamed the channel to New name']);
    expect(log[0].channel).toMatchObject({ cid: 'public:p', name: 'New name' });
    // The same name again is not a rename: no system message.
    ok(await w.alice.update('public:p', { name: 'New name', topic: 't' }));
    expect(summary(await eventLog(w.bob, 'public:p')).slice(2)).toEqual(['3 channel.updated']);
    // A system message is not unread for anybody.
    expect(ok(await w.bob.query()).channels[0]).toMatchObject({ unread_count: 0 });
  });

  it('keeps the seqs contiguous when a server token renames (no system message, no hole)', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', name: 'Old', members: ['bob'] }));
    ok(await w.alice.send('public:p', 'one'));
    const body = ok(await w.server.update('public:p', { name: 'Renamed by server' }));
    expect(body.channel).toMatchObject({ name: 'Renamed by server', last_seq: 2 });
    ok(await w.alice.send('public:p', 'two'));
    // eventLog asserts seqs 1..last_seq with no gap.
    expect(summary(await eventLog(w.alice, 'public:p'))).toEqual([
      '1 message.new regular: one',
      '2 channel.updated',
      '3 message.new regular: two',
    ]);
  });

  it('does not let a DM be renamed or archived, but its members may set its topic', async () => {
    const w = await world(h, [{ id: 'boss', role: 'admin' }]);
    const cid = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid;
    expectError(await w.alice.update(cid, { name: 'Us' }), 'FORBIDDEN');
    expectError(await w.bob.update(cid, { archived: true }), 'FORBIDDEN');
    // Not even an app admin (owner powers everywhere).
    expectError(await w.as('boss').update(cid, { name: 'Us' }), 'FORBIDDEN');
    expectError(await w.as('boss').update(cid, { archived: true }), 'FORBIDDEN');
    expect(ok(await w.bob.update(cid, { topic: 'lunch' })).channel.topic).toBe('lunch');
    expect(ok(await w.alice.channel(cid)).channel).toMatchObject({ name: null, archived: false, topic: 'lunch' });
  });
});

describe('archive', () => {
  it('makes the channel read-only while history stays readable, and unarchive restores it', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', name: 'P', members: ['bob', 'carol'] }));
    const m1 = ok(await w.bob.send('public:p', 'before archive')).message;

    const archived = ok(await w.alice.update('public:p', { archived: true })).channel;
    expect(archived.archived).toBe(true);
    expect(Date.parse(archived.archived_at)).not.toBeNaN();
    const seqAtArchive = archived.last_seq;

    // Writes are refused.
    expectError(await w.bob.send('public:p', 'after archive'), 'FORBIDDEN');
    expectError(await w.bob.react(m1.id), 'FORBIDDEN');
    expectError(await w.bob.members('public:p', { add: ['dave'] }), 'FORBIDDEN');
    expectError(await w.alice.members('public:p', { add: ['dave'] }), 'FORBIDDEN');
    expectError(await w.dave.join('public:p'), 'FORBIDDEN');
    expectError(await w.bob.update('public:p', { topic: 'x' }), 'FORBIDDEN');
    expectError(await w.alice.update('public:p', { name: 'renamed while archived' }), 'FORBIDDEN');

    // Reads still work, for members and outsiders of a public channel.
    expect(ok(await w.carol.history('public:p')).messages.map((m: any) => m.text)).toEqual(['before archive']);
    expect(ok(await w.dave.history('public:p')).messages.map((m: any) => m.text)).toEqual(['before archive']);
    expect(ok(await w.carol.channel('public:p')).channel).toMatchObject({ archived: true, last_seq: seqAtArchive });
    // Reading is not writing: the read mark still moves.
    expect(ok(await w.carol.read('public:p', seqAtArchive))).toMatchObject({ unread_count: 0 });

    // Found with archived:true, not with archived:false.
    const archivedList = ok(await w.carol.query({ filter: { archived: true } })).channels;
    expect(archivedList.map((c: any) => c.cid)).toEqual(['public:p']);
    expect(ok(await w.carol.query({ filter: { archived: false } })).channels).toEqual([]);

    // Only admins unarchive.
    expectError(await w.bob.update('public:p', { archived: false }), 'FORBIDDEN');
    const back = ok(await w.alice.update('public:p', { archived: false })).channel;
    expect(back).toMatchObject({ archived: false, archived_at: null });
    ok(await w.bob.send('public:p', 'after unarchive'));
    ok(await w.bob.react(m1.id));
    ok(await w.dave.join('public:p'));

    expect(summary(await eventLog(w.alice, 'public:p'))).toEqual([
      '1 message.new regular: before archive',
      '2 channel.updated',
      '3 channel.updated',
      '4 message.new regular: after unarchive',
      '5 reaction.new',
      '6 member.added dave',
      '7 message.new system: dave joined',
    ]);
  });

  it('lets an app admin archive and unarchive a group they are not in; app moderators may not', async () => {
    const w = await world(h, [
      { id: 'boss', role: 'admin' },
      { id: 'mod', role: 'moderator' },
    ]);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    expectError(await w.as('mod').update('group:g', { archived: true }), 'FORBIDDEN');
    expect(ok(await w.as('boss').update('group:g', { archived: true })).channel.archived).toBe(true);
    expectError(await w.bob.send('group:g', 'x'), 'FORBIDDEN');
    expect(ok(await w.as('boss').update('group:g', { archived: false })).channel.archived).toBe(false);
    ok(await w.bob.send('group:g', 'x'));
  });
});
