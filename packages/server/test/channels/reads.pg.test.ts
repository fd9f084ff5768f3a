/**
 * Read state: the read mark (REST and `read.mark`), mark-unread, `read.updated` to the other
 * members and the user's other sockets, and unread and mention counts per channel and in the
 * /v1/me totals — exact numbers at every step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { eventLog, expectError, ok, world } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('unread and mention counts', () => {
  it('follow messages, own messages, deletes, read marks, mark-unread, mentions and mutes exactly', async () => {
    const w = await world(h);
    const G = 'group:g';
    const P = 'public:p';
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'carol'] }));
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    const DM = ok(await w.carol.create({ type: 'dm', members: ['alice'] })).channel.cid as string;

    /** Alice's counts per channel (from QueryChannels) and her /v1/me totals. */
    const counts = async () => {
      const list = ok(await w.alice.query()).channels;
      const of = (cid: string) => {
        const c = list.find((x: any) => x.cid === cid);
        return [c.unread_count, c.mention_count];
      };
      // The totals' `rev` orders them with the pushes (test/reads/unread-push.pg.test.ts).
      const { rev: _rev, ...totals } = ok(await w.alice.me()).unread;
      return { g: of(G), p: of(P), dm: of(DM), me: totals };
    };
    const me = (total: number, mentions: number, channels: number) => ({ total, mentions, channels });

    expect(await counts()).toEqual({ g: [0, 0], p: [0, 0], dm: [0, 0], me: me(0, 0, 0) });

    // Three messages from bob, one mentioning alice by @username.
    const m1 = ok(await w.bob.send(G, 'one')).message;
    const m2 = ok(await w.bob.send(G, 'two')).message;
    const m3 = ok(await w.bob.send(G, 'hey @alice')).message;
    expect(m3.mentioned_users).toEqual(['alice']);
    expect(await counts()).toEqual({ g: [3, 1], p: [0, 0], dm: [0, 0], me: me(3, 1, 1) });

    // Alice's own messages never count, even when she mentions herself.
    ok(await w.alice.send(G, 'my own'));
    ok(await w.alice.send(G, '@alice note to self'));
    // System messages (bob adds dave) do not count either.
    ok(await w.bob.members(G, { add: ['dave'] }));
    expect(await counts()).toEqual({ g: [3, 1], p: [0, 0], dm: [0, 0], me: me(3, 1, 1) });

    // @channel mentions everyone.
    const standup = ok(await w.carol.send(G, '@channel standup')).message;
    expect(await counts()).toEqual({ g: [4, 2], p: [0, 0], dm: [0, 0], me: me(4, 2, 1) });

    // Deleting an unread message takes it out of the count.
    ok(await w.bob.deleteMessage(m2.id));
    expect(await counts()).toEqual({ g: [3, 2], p: [0, 0], dm: [0, 0], me: me(3, 2, 1) });
    // ...and deleting an unread mention takes it out of both (username matched case-insensitively).
    const m4 = ok(await w.bob.send(G, 'urgent @ALICE')).message;
    expect(await counts()).toEqual({ g: [4, 3], p: [0, 0], dm: [0, 0], me: me(4, 3, 1) });
    ok(await w.bob.deleteMessage(m4.id));
    expect(await counts()).toEqual({ g: [3, 2], p: [0, 0], dm: [0, 0], me: me(3, 2, 1) });

    // A thread reply that stays in the thread is not in the channel view; one shown in channel is.
    ok(await w.bob.send(G, 'in the thread', { parent_id: m1.id }));
    expect(await counts()).toEqual({ g: [3, 2], p: [0, 0], dm: [0, 0], me: me(3, 2, 1) });
    const shown = ok(await w.bob.send(G, 'also in channel', { parent_id: m1.id, show_in_channel: true })).message;
    expect(await counts()).toEqual({ g: [4, 2], p: [0, 0], dm: [0, 0], me: me(4, 2, 1) });

    // Other channels add up in the totals; a mention of someone else is no mention of alice.
    ok(await w.bob.send(P, 'hello @carol'));
    ok(await w.bob.send(P, 'and @alice'));
    ok(await w.carol.send(DM, 'psst @alice'));
    expect(await counts()).toEqual({ g: [4, 2], p: [2, 1], dm: [1, 1], me: me(7, 4, 3) });

    // A muted channel keeps its own counts but leaves the /v1/me totals.
    ok(await w.alice.setMember(DM, 'alice', { muted: true }));
    expect(await counts()).toEqual({ g: [4, 2], p: [2, 1], dm: [1, 1], me: me(6, 3, 2) });

    // Mark read up to the @alice message: what is left after it is @channel and the shown reply.
    const r1 = ok(await w.alice.read(G, m3.seq));
    expect(r1).toEqual({
      cid: G,
      last_read_seq: m3.seq,
      read_rev: expect.any(Number),
      unread_count: 2,
      mention_count: 1,
      // The counts stand at the channel's last seq, read with them.
      last_seq: shown.seq,
    });
    expect(await counts()).toEqual({ g: [2, 1], p: [2, 1], dm: [1, 1], me: me(4, 2, 2) });

    // The mark never moves back.
    const r2 = ok(await w.alice.read(G, 1));
    expect(r2).toEqual({
      cid: G,
      last_read_seq: m3.seq,
      read_rev: expect.any(Number),
      unread_count: 2,
      mention_count: 1,
      last_seq: shown.seq,
    });
    expect(await counts()).toEqual({ g: [2, 1], p: [2, 1], dm: [1, 1], me: me(4, 2, 2) });

    // Mark unread from the first message: everything from it on is unread again.
    const r3 = ok(await w.alice.unread(G, m1.id));
    expect(r3).toEqual({
      cid: G,
      last_read_seq: m1.seq - 1,
      read_rev: expect.any(Number),
      unread_count: 4,
      mention_count: 2,
      last_seq: shown.seq,
    });
    expect(await counts()).toEqual({ g: [4, 2], p: [2, 1], dm: [1, 1], me: me(6, 3, 2) });

    // Mark unread from @channel: only it and the shown reply remain.
    const r4 = ok(await w.alice.unread(G, standup.id));
    expect(r4).toMatchObject({
      last_read_seq: standup.seq - 1,
      read_rev: expect.any(Number),
      unread_count: 2,
      mention_count: 1,
    });

    // A read mark past the end is capped at the channel's last seq.
    const lastSeq = ok(await w.alice.channel(G)).channel.last_seq;
    expect(lastSeq).toBe(shown.seq);
    const r5 = ok(await w.alice.read(G, 1_000_000));
    expect(r5).toEqual({
      cid: G,
      last_read_seq: lastSeq,
      read_rev: expect.any(Number),
      unread_count: 0,
      mention_count: 0,
      last_seq: lastSeq,
    });
    expect(ok(await w.alice.channel(G)).channel.membership.last_read_seq).toBe(lastSeq);
    expect(await counts()).toEqual({ g: [0, 0], p: [2, 1], dm: [1, 1], me: me(2, 1, 1) });
    // New messages after a capped mark are unread as usual.
    ok(await w.bob.send(G, 'after the cap'));
    expect(await counts()).toEqual({ g: [1, 0], p: [2, 1], dm: [1, 1], me: me(3, 1, 2) });

    // @here mentions only those online at the time: alice is offline, then connects.
    ok(await w.bob.send(G, '@here anyone?'));
    expect(await counts()).toEqual({ g: [2, 0], p: [2, 1], dm: [1, 1], me: me(4, 1, 2) });
    const url = await h.listen();
    const sock = await TestSocket.connect(url, w.app, 'alice');
    try {
      const here = ok(await w.bob.send(G, '@here now?')).message;
      await sock.waitFor((f) => f.type === 'notification.new' && f.message.id === here.id);
      expect(await counts()).toEqual({ g: [3, 1], p: [2, 1], dm: [1, 1], me: me(5, 2, 2) });

      // Reading the public channel and unmuting the DM.
      ok(await w.alice.read(P, ok(await w.alice.channel(P)).channel.last_seq));
      ok(await w.alice.setMember(DM, 'alice', { muted: false }));
      expect(await counts()).toEqual({ g: [3, 1], p: [0, 0], dm: [1, 1], me: me(4, 2, 2) });
    } finally {
      sock.close();
    }

    // Bob's view of the same channel is his own: everything he did not write.
    const bobView = ok(await w.bob.query({ filter: { cid: G } })).channels[0];
    expect(bobView).toMatchObject({ unread_count: 3, mention_count: 1 });
  });

  it('counts a mention by @username only for members of the channel', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    const m = ok(await w.bob.send('public:p', 'ping @dave and @alice')).message;
    expect(m.mentioned_users).toEqual(['alice']);
    // Dave joins later: the old mention was not his.
    ok(await w.dave.join('public:p'));
    expect(ok(await w.dave.query()).channels[0]).toMatchObject({ mention_count: 0 });
    expect(ok(await w.dave.me()).unread.mentions).toBe(0);
    expect(ok(await w.alice.query()).channels[0]).toMatchObject({ mention_count: 1 });
  });
});

describe('read marks over REST', () => {
  it('refuses bad input and non-members, and is not logged as a channel event', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    ok(await w.alice.create({ type: 'group', id: 'other', members: ['bob'] }));
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    const m = ok(await w.bob.send('group:g', 'hi')).message;
    const elsewhere = ok(await w.bob.send('group:other', 'elsewhere')).message;

    expectError(await w.alice.post('/v1/channels/group:g/read', { seq: -1 }), 'VALIDATION_ERROR');
    expectError(await w.alice.post('/v1/channels/group:g/read', { seq: 'one' }), 'VALIDATION_ERROR');
    expectError(await w.alice.post('/v1/channels/group:g/read', {}), 'VALIDATION_ERROR');
    expectError(await w.alice.post('/v1/channels/group:g/unread', { message_id: 'nope' }), 'VALIDATION_ERROR');
    expectError(await w.alice.unread('group:g', elsewhere.id), 'VALIDATION_ERROR');
    expectError(await w.alice.unread('group:g', '01900000-0000-7000-8000-000000000000'), 'NOT_FOUND');
    // Outsiders: 404 for a group, 403 (no read state) for a public channel.
    expectError(await w.dave.read('group:g', 1), 'NOT_FOUND');
    expectError(await w.dave.unread('group:g', m.id), 'NOT_FOUND');
    expectError(await w.dave.read('public:p', 0), 'FORBIDDEN');
    // Read state belongs to users.
    expectError(await w.server.read('group:g', 1), 'FORBIDDEN');

    ok(await w.alice.read('group:g', 1));
    ok(await w.alice.unread('group:g', m.id));
    // Reads take no seq and write nothing to the log.
    const log = await eventLog(w.alice, 'group:g');
    expect(log.map((e) => e.type)).toEqual(['message.new']);
  });
});

describe('read marks over WebSocket', () => {
  it('delivers read.updated to sockets already following the channel (its seq is a read mark, not a channel seq)', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    for (const text of ['one', 'two', 'three']) ok(await w.alice.send('group:g', text));
    const url = await h.listen();
    const bob = await TestSocket.connect(url, w.app, 'bob');
    try {
      // Bob's socket follows group:g from seq 3; a read mark of 2 (or 3) must still reach him.
      ok(await w.bob.send('group:g', 'four'));
      await bob.waitFor((f) => f.type === 'message.new' && f.seq === 4);
      ok(await w.alice.read('group:g', 2));
      expect(await bob.waitFor((f) => f.type === 'read.updated')).toMatchObject({
        cid: 'group:g',
        seq: 2,
        user: { id: 'alice' },
      });
      ok(await w.alice.read('group:g', 4));
      await bob.waitFor((f) => f.type === 'read.updated' && f.seq === 4);
      // Ordering of the logged events is unaffected.
      ok(await w.alice.send('group:g', 'five'));
      await bob.waitFor((f) => f.type === 'message.new' && f.seq === 5);
      expect(
        bob
          .events()
          .filter((f) => f.cid === 'group:g' && f.type !== 'unread.updated')
          .map((f) => `${f.type} ${f.seq}`),
      ).toEqual(['message.new 4', 'read.updated 2', 'read.updated 4', 'message.new 5']);
    } finally {
      bob.close();
    }
  });

  it('read.mark moves the mark forward only, and read.updated reaches the others and my other sockets', async () => {
    const w = await world(h);
    const cid = 'group:g';
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob', 'carol'] }));
    ok(await w.alice.create({ type: 'group', id: 'private', members: ['bob'] }));
    const sent = [];
    for (const text of ['one', 'two', 'three']) sent.push(ok(await w.bob.send(cid, text)).message);

    const url = await h.listen();
    const a1 = await TestSocket.connect(url, w.app, 'alice');
    const a2 = await TestSocket.connect(url, w.app, 'alice');
    const bob = await TestSocket.connect(url, w.app, 'bob');
    const dave = await TestSocket.connect(url, w.app, 'dave');
    const socks = [a1, a2, bob, dave];
    try {
      const reply = await a1.request('read.mark', { cid, seq: 2 });
      expect(reply).toMatchObject({ ok: true, last_read_seq: 2, unread_count: 1 });
      for (const s of [a1, a2, bob]) {
        const ev = await s.waitFor((f) => f.type === 'read.updated' && f.seq === 2);
        expect(ev).toMatchObject({ cid, seq: 2, user: { id: 'alice' } });
      }
      expect(ok(await w.alice.channel(cid)).channel.membership.last_read_seq).toBe(2);

      // Backwards: accepted, nothing moves, nobody is told.
      expect(await a1.request('read.mark', { cid, seq: 1 })).toMatchObject({ ok: true, last_read_seq: 2 });
      // Past the end: capped at last_seq (3).
      expect(await a2.request('read.mark', { cid, seq: 50 })).toMatchObject({
        ok: true,
        last_read_seq: 3,
        unread_count: 0,
      });
      await bob.waitFor((f) => f.type === 'read.updated' && f.seq === 3);
      // Mark unread over REST is announced the same way.
      ok(await w.alice.unread(cid, sent[1]!.id));
      for (const s of [a1, a2, bob]) await s.waitFor((f) => f.type === 'read.updated' && f.seq === 1);

      // Barrier: one round trip on each socket, then count exactly what arrived.
      for (const s of socks) await s.request('ping');
      for (const s of [a1, a2, bob])
        expect(s.events('read.updated').map((f) => `${f.user.id}@${f.seq}`)).toEqual(['alice@2', 'alice@3', 'alice@1']);
      // Dave, not a member, hears nothing of it.
      expect(dave.events('read.updated')).toEqual([]);

      // Bad read.mark frames get an error reply and the socket stays open.
      const notMine = await dave.request('read.mark', { cid: 'group:private', seq: 1 });
      expect(notMine).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      const badCid = await a1.request('read.mark', { cid: 'nope', seq: 1 });
      expect(badCid).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
      const badSeq = await a1.request('read.mark', { cid, seq: -5 });
      expect(badSeq).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
      expect(await a1.request('ping')).toMatchObject({ ok: true });
      expect(ok(await w.alice.channel(cid)).channel.membership.last_read_seq).toBe(1);
    } finally {
      for (const s of socks) s.close();
    }
  });
});
