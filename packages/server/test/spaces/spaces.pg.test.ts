/**
 * Spaces, the virtual office, on two nodes sharing one database and one broker (Redis when
 * REDIS_URL is set, else an in-process network): entering, leaving and moving, the room
 * channel's membership following who is where, its quiet-window system messages, status
 * changes (a call in the room is a meeting), teleports (accept, decline, timeout), knocks,
 * capacity, and refusals for guests, non-admins and another app's users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backend,
  clusterBrokers,
  type Harness,
  startHarness,
  type TestApp,
  TestSocket,
  testDatabase,
} from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('spaces');

const INVITE_MS = 1_000;
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;
let other: TestApp;
let url1: string;
let url2: string;
const sockets: TestSocket[] = [];

async function connect(node: 1 | 2, user: string, a: TestApp = app): Promise<TestSocket> {
  const s = await TestSocket.connect(node === 1 ? url1 : url2, a, user);
  sockets.push(s);
  return s;
}
const ok = (reply: any) => {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply.error)}`);
  return reply;
};

async function rest(
  node: 1 | 2,
  user: string | null,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  a = app,
) {
  const h = node === 1 ? n1 : n2;
  return h.call({
    method,
    url,
    headers: user ? await a.user(user) : await a.server(),
    ...(payload ? { payload } : {}),
  });
}

async function space(name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await rest(1, 'admin', 'POST', '/v1/spaces', { name, ...extra });
  expect(r.status).toBe(200);
  return r.body.space;
}

async function messages(cid: string, user = 'admin'): Promise<any[]> {
  const r = await rest(2, user, 'GET', `/v1/channels/${cid}/messages`);
  expect(r.status).toBe(200);
  return r.body.messages;
}
const systemTexts = async (cid: string) => (await messages(cid)).filter((m) => m.type === 'system').map((m) => m.text);
const members = async (cid: string) => {
  const r = await rest(1, 'admin', 'GET', `/v1/channels/${cid}`);
  return r.body.members.map((m: any) => m.user_id).sort();
};

beforeAll(async () => {
  db = await testDatabase();
  const cfg = {
    masterKey: 'c'.repeat(64),
    spaces: { quietMs: 60_000, inviteTimeoutMs: INVITE_MS, awayMs: 300_000 },
    jobPollMs: 200,
  };
  n1 = await startHarness({ ...cfg, nodeId: 's1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...cfg, nodeId: 's2' }, { database: db.database, broker: await broker() });
  url1 = await n1.listen();
  url2 = await n2.listen();
  app = await n1.createApp();
  other = await n1.createApp('other');
  await n1.users(app, [
    { id: 'admin', name: 'Ada', role: 'admin' },
    ...['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((id) => ({
      id,
      name: id[0]!.toUpperCase() + id.slice(1),
    })),
    { id: 'gus', name: 'Gus', role: 'guest' },
  ]);
  await n1.users(other, [{ id: 'alice', name: 'Other Alice' }]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await n1.close();
  await n2.close();
  await db.drop();
});

describe(`spaces across two nodes (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('admins lay out the office; others, guests and another app are refused', async () => {
    const desk = await space('Desk 1', { kind: 'desk', capacity: 1 });
    expect(desk).toMatchObject({ name: 'Desk 1', kind: 'desk', capacity: 1, status: 'free', cid: null, occupants: [] });
    const lounge = await space('Lounge', { kind: 'lounge' });
    expect(lounge.position).toBe(desk.position + 1);

    expect((await rest(1, 'alice', 'POST', '/v1/spaces', { name: 'Mine' })).body.error.code).toBe('FORBIDDEN');
    expect((await rest(1, 'alice', 'PATCH', `/v1/spaces/${desk.id}`, { name: 'x' })).status).toBe(403);
    expect((await rest(1, 'gus', 'GET', '/v1/spaces')).body.error.code).toBe('FORBIDDEN');
    expect((await rest(1, 'admin', 'POST', '/v1/spaces', { name: ' ' })).body.error.code).toBe('VALIDATION_ERROR');
    // Another app's user sees its own (empty) office and cannot enter this one's spaces.
    expect((await rest(1, 'alice', 'GET', '/v1/spaces', undefined, other)).body.spaces).toEqual([]);
    expect((await rest(1, 'alice', 'POST', `/v1/spaces/${desk.id}/enter`, undefined, other)).body.error.code).toBe(
      'NOT_FOUND',
    );

    const arranged = await rest(2, 'admin', 'POST', '/v1/spaces/arrange', { order: [lounge.id, desk.id] });
    expect(arranged.status).toBe(200);
    const list = (await rest(1, 'alice', 'GET', '/v1/spaces')).body.spaces;
    const ids = list.map((s: any) => s.id);
    expect(ids.indexOf(lounge.id)).toBeLessThan(ids.indexOf(desk.id));
    const renamed = await rest(1, 'admin', 'PATCH', `/v1/spaces/${lounge.id}`, { name: 'Big lounge', capacity: 3 });
    expect(renamed.body.space).toMatchObject({ name: 'Big lounge', capacity: 3 });
  });

  it('enter, move, leave: one space at a time, the room follows, watchers and followers see it live', async () => {
    const a = await space('Room A');
    const b = await space('Room B');
    const watcher = await connect(2, 'carol');
    const watched = ok(await watcher.request('spaces.watch'));
    expect(watched.spaces.some((s: any) => s.id === a.id)).toBe(true);
    const follower = await connect(1, 'dave');
    const sub = ok(await follower.request('presence.subscribe', { user_ids: ['alice'] }));
    expect(sub.spaces).toEqual({ alice: null });
    const alice = await connect(1, 'alice');

    const entered = ok(await alice.request('space.enter', { space_id: a.id }));
    expect(entered.space).toMatchObject({ id: a.id, status: 'in_use', cid: `group:space-${a.id}` });
    expect(entered.space.occupants.map((o: any) => o.user_id)).toEqual(['alice']);
    const seen = await watcher.waitFor(
      (f) => f.type === 'space.updated' && f.change === 'entered' && f.space.id === a.id,
    );
    expect(seen.user_id).toBe('alice');
    await watcher.waitFor((f) => f.type === 'space.updated' && f.change === 'status' && f.space.status === 'in_use');
    const moved = await follower.waitFor((f) => f.type === 'presence.changed' && f.space_id === a.id);
    expect(moved.user.id).toBe('alice');
    // Alice's socket was subscribed to the room (channel.added) and gets its messages.
    const roomA = entered.space.cid as string;
    await alice.waitFor((f) => f.type === 'channel.added' && f.cid === roomA);
    expect(await members(roomA)).toEqual(['alice']);
    const sub2 = ok(await follower.request('presence.subscribe', { user_ids: ['alice', 'bob'] }));
    expect(sub2.spaces).toEqual({ alice: a.id, bob: null });

    // Bob joins her over REST on the other node; both are members, and a message reaches Alice live.
    const bobIn = await rest(2, 'bob', 'POST', `/v1/spaces/${a.id}/enter`);
    expect(bobIn.status).toBe(200);
    expect(await members(roomA)).toEqual(['alice', 'bob']);
    const bob = await connect(2, 'bob');
    ok(await bob.request('message.send', { cid: roomA, message: { text: 'hi Alice' } }));
    await alice.waitFor((f) => f.type === 'message.new' && f.message.text === 'hi Alice');

    // Alice moves to B: out of A's room, into B's, A still in use (Bob), B in use.
    const toB = ok(await alice.request('space.enter', { space_id: b.id }));
    expect(toB.space.occupants.map((o: any) => o.user_id)).toEqual(['alice']);
    expect(await members(roomA)).toEqual(['bob']);
    expect(await members(toB.space.cid)).toEqual(['alice']);
    await follower.waitFor((f) => f.type === 'presence.changed' && f.space_id === b.id);
    const office = (await rest(1, 'carol', 'GET', '/v1/spaces')).body.spaces;
    const where = (id: string) => office.find((s: any) => s.id === id).occupants.map((o: any) => o.user_id);
    expect(where(a.id)).toEqual(['bob']);
    expect(where(b.id)).toEqual(['alice']);
    // Out of A, Alice is out of its room: she can no longer post there.
    const late = await alice.request('message.send', { cid: roomA, message: { text: 'still here?' } });
    expect(late.ok).toBe(false);

    // Leaving: out of the room and the office; B is free again, announced.
    const left = ok(await alice.request('space.leave'));
    expect(left.space.id).toBe(b.id);
    expect(left.space.status).toBe('free');
    await watcher.waitFor(
      (f) => f.type === 'space.updated' && f.change === 'status' && f.space.id === b.id && f.space.status === 'free',
    );
    await follower.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.space_id === null);
    expect(await members(toB.space.cid)).toEqual([]);
    expect(ok(await alice.request('space.leave')).space).toBeNull();
    expect(await systemTexts(roomA)).toEqual(['Alice entered', 'Bob entered', 'Alice left']);
  });

  it('the room says who came and went, but not again for the same person within the quiet window', async () => {
    const s = await space('Corridor');
    // The quiet window is shared through the rate limiter: Redis across nodes, else one node's memory.
    for (let i = 0; i < 3; i++) {
      const node = redisUrl && i % 2 ? 2 : 1;
      expect((await rest(node, 'erin', 'POST', `/v1/spaces/${s.id}/enter`)).status).toBe(200);
      expect((await rest(1, 'erin', 'POST', '/v1/spaces/leave')).status).toBe(200);
    }
    const cid = `group:space-${s.id}`;
    expect(await systemTexts(cid)).toEqual(['Erin entered', 'Erin left']);
    // The moves themselves all happened: three member.added and three member.removed were logged.
    const ev = await rest(1, 'admin', 'GET', `/v1/channels/${cid}/events?after=0`);
    const types = ev.body.events.map((e: any) => e.type);
    expect(types.filter((t: string) => t === 'member.added')).toHaveLength(3);
    expect(types.filter((t: string) => t === 'member.removed')).toHaveLength(3);
  });

  it('privacy: who leaves a space stops getting its room, a watch of the room included', async () => {
    const s = await space('Private corner');
    const stay = await connect(2, 'carol');
    const roomOf = ok(await stay.request('space.enter', { space_id: s.id })).space.cid as string;
    // Two sockets of Dave on different nodes: one only a member, one that also watched the room.
    const plain = await connect(1, 'dave');
    const watching = await connect(2, 'dave');
    const aside = (await rest(2, 'carol', 'POST', '/v1/channels', { type: 'group', members: ['carol', 'dave'] })).body
      .channel.cid as string;
    ok(await plain.request('space.enter', { space_id: s.id }));
    for (const d of [plain, watching]) await d.waitFor((f) => f.type === 'channel.added' && f.cid === roomOf);
    ok(await watching.request('channel.watch', { cid: roomOf }));
    ok(await stay.request('message.send', { cid: roomOf, message: { text: 'before' } }));
    for (const d of [plain, watching])
      await d.waitFor((f) => f.type === 'message.new' && f.cid === roomOf && f.message.text === 'before');

    ok(await plain.request('space.leave'));
    for (const d of [plain, watching]) await d.waitFor((f) => f.type === 'channel.removed' && f.cid === roomOf);
    ok(await stay.request('message.send', { cid: roomOf, message: { text: 'after' } }));
    ok(await stay.request('typing.start', { cid: roomOf }));
    // A barrier: published by the same node after those, through the same broker, to a channel
    // Dave is in — once it arrived, anything of the room's that was coming has arrived too.
    ok(await stay.request('message.send', { cid: aside, message: { text: 'barrier' } }));
    for (const d of [plain, watching]) {
      await d.waitFor((f) => f.type === 'message.new' && f.message.text === 'barrier');
      expect(d.events('message.new').map((f) => f.message.text)).not.toContain('after');
      expect(d.events('typing.start').filter((f) => f.cid === roomOf)).toEqual([]);
      // Watching again is refused: the room is for who is in the space (NOT_FOUND, as any private channel).
      expect((await d.request('channel.watch', { cid: roomOf })).error.code).toBe('NOT_FOUND');
    }
    ok(await stay.request('space.leave'));
  });

  it('a full space refuses with SPACE_FULL, changing nothing', async () => {
    const booth = await space('Booth', { capacity: 1 });
    expect((await rest(1, 'frank', 'POST', `/v1/spaces/${booth.id}/enter`)).status).toBe(200);
    const full = await rest(2, 'erin', 'POST', `/v1/spaces/${booth.id}/enter`);
    expect(full.status).toBe(409);
    expect(full.body.error).toMatchObject({ code: 'SPACE_FULL', details: { capacity: 1 } });
    const erin = await connect(1, 'erin');
    const viaSocket = await erin.request('space.enter', { space_id: booth.id });
    expect(viaSocket.error.code).toBe('SPACE_FULL');
    expect(await members(`group:space-${booth.id}`)).toEqual(['frank']);
    // Deleting a space someone is in is refused; an empty one goes.
    expect((await rest(1, 'admin', 'DELETE', `/v1/spaces/${booth.id}`)).body.error.code).toBe('CONFLICT');
    await rest(1, 'frank', 'POST', '/v1/spaces/leave');
    expect((await rest(1, 'admin', 'DELETE', `/v1/spaces/${booth.id}`)).status).toBe(200);
    expect((await rest(1, 'frank', 'POST', `/v1/spaces/${booth.id}/enter`)).body.error.code).toBe('NOT_FOUND');
  });

  it('teleport: accept moves the invitee, decline tells the inviter, silence expires; strangers are refused', async () => {
    const t = await space('Teleport room');
    const elsewhere = await space('Elsewhere');
    const alice = await connect(1, 'alice');
    const bob = await connect(2, 'bob');
    ok(await alice.request('space.enter', { space_id: t.id }));
    ok(await bob.request('space.enter', { space_id: elsewhere.id }));

    // Not from a space you are not in; not to a guest; not to another app's user.
    expect((await bob.request('space.teleport', { space_id: t.id, user_id: 'carol' })).error.code).toBe('FORBIDDEN');
    expect((await alice.request('space.teleport', { space_id: t.id, user_id: 'gus' })).error.code).toBe('FORBIDDEN');
    expect((await alice.request('space.teleport', { space_id: t.id, user_id: 'nobody' })).error.code).toBe('NOT_FOUND');

    const inv = ok(await alice.request('space.teleport', { space_id: t.id, user_id: 'bob' })).invitation;
    expect(inv).toMatchObject({
      kind: 'teleport',
      space_id: t.id,
      from_user_id: 'alice',
      to_user_id: 'bob',
      state: 'pending',
    });
    await bob.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'pending');
    // Someone else cannot answer Bob's teleport.
    expect(
      (await rest(1, 'carol', 'POST', `/v1/spaces/${t.id}/teleport/answer`, { accept: true })).body.error.code,
    ).toBe('CONFLICT');
    const answered = ok(await bob.request('space.teleport.answer', { space_id: t.id, accept: true })).invitation;
    expect(answered).toMatchObject({ state: 'accepted', answered_by: 'bob' });
    await alice.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'accepted');
    const now = (await rest(1, 'carol', 'GET', '/v1/spaces')).body.spaces.find((s: any) => s.id === t.id);
    expect(now.occupants.map((o: any) => o.user_id).sort()).toEqual(['alice', 'bob']);
    expect(await members(`group:space-${t.id}`)).toEqual(['alice', 'bob']);
    // Answered once: a second answer is refused.
    expect((await bob.request('space.teleport.answer', { space_id: t.id, accept: true })).error.code).toBe('CONFLICT');

    // Decline: Carol stays put and Alice is told.
    const carol = await connect(2, 'carol');
    ok(await alice.request('space.teleport', { space_id: t.id, user_id: 'carol' }));
    ok(await carol.request('space.teleport.answer', { space_id: t.id, accept: false }));
    await alice.waitFor(
      (f) => f.type === 'space.invitation' && f.invitation.to_user_id === 'carol' && f.invitation.state === 'declined',
    );

    // Timeout: nobody answers Dave's; both are told it expired (on either node).
    const dave = await connect(1, 'dave');
    ok(await alice.request('space.teleport', { space_id: t.id, user_id: 'dave' }));
    await dave.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'expired', 15_000);
    await alice.waitFor(
      (f) => f.type === 'space.invitation' && f.invitation.to_user_id === 'dave' && f.invitation.state === 'expired',
    );
    expect((await dave.request('space.teleport.answer', { space_id: t.id, accept: true })).error.code).toBe('CONFLICT');
    ok(await alice.request('space.leave'));
    ok(await bob.request('space.leave'));
  });

  it('a call in the room makes it a meeting: the door closes, a knock is answered from inside', async () => {
    const m = await space('Meeting room', { kind: 'meeting_room', capacity: 4 });
    const alice = await connect(1, 'alice');
    const bob = await connect(2, 'bob');
    const watcher = await connect(2, 'dave');
    ok(await watcher.request('spaces.watch'));
    const room = ok(await alice.request('space.enter', { space_id: m.id })).space.cid;
    ok(await bob.request('space.enter', { space_id: m.id }));
    // Knocking on a space that is not in a meeting: just enter.
    const erin = await connect(1, 'erin');
    expect((await erin.request('space.knock', { space_id: m.id })).error.code).toBe('CONFLICT');

    // One click: the room's call (calls feature) rings who is in the room; the space is in a meeting.
    const call = ok(await alice.request('call.start', { cid: room, kind: 'audio' })).call;
    await bob.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    await watcher.waitFor((f) => f.type === 'space.updated' && f.space.id === m.id && f.space.status === 'in_meeting');
    ok(await bob.request('call.accept', { call_id: call.id }));

    // Walking in is refused; knocking asks everyone inside.
    expect((await erin.request('space.enter', { space_id: m.id })).error.code).toBe('FORBIDDEN');
    const k = ok(await erin.request('space.knock', { space_id: m.id })).invitation;
    expect(k).toMatchObject({
      kind: 'knock',
      space_id: m.id,
      from_user_id: 'erin',
      to_user_id: null,
      state: 'pending',
    });
    await alice.waitFor(
      (f) => f.type === 'space.invitation' && f.invitation.kind === 'knock' && f.invitation.from_user_id === 'erin',
    );
    await bob.waitFor(
      (f) => f.type === 'space.invitation' && f.invitation.kind === 'knock' && f.invitation.from_user_id === 'erin',
    );
    // Only who is inside may answer.
    expect(
      (await rest(1, 'carol', 'POST', `/v1/spaces/${m.id}/knock/answer`, { user_id: 'erin', admit: true })).body.error
        .code,
    ).toBe('FORBIDDEN');
    const admitted = ok(await bob.request('space.knock.answer', { space_id: m.id, user_id: 'erin', admit: true }));
    expect(admitted.invitation).toMatchObject({ state: 'accepted', answered_by: 'bob' });
    await erin.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'accepted');
    // Alice answering too is refused: one answer wins.
    expect(
      (await alice.request('space.knock.answer', { space_id: m.id, user_id: 'erin', admit: false })).error.code,
    ).toBe('CONFLICT');
    expect(await members(room)).toEqual(['alice', 'bob', 'erin']);

    // A knock turned away: Frank stays out.
    const frank = await connect(2, 'frank');
    ok(await frank.request('space.knock', { space_id: m.id }));
    ok(await alice.request('space.knock.answer', { space_id: m.id, user_id: 'frank', admit: false }));
    await frank.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'declined');
    expect(await members(room)).toEqual(['alice', 'bob', 'erin']);

    // The call ends: the meeting is over, the room is in use again.
    ok(await alice.request('call.end', { call_id: call.id }));
    await watcher.waitFor(
      (f) => f.type === 'space.updated' && f.space.id === m.id && f.change === 'status' && f.space.status === 'in_use',
    );
    for (const s of [alice, bob, erin]) ok(await s.request('space.leave'));
  });

  it('measures teleport → ring and enter → a co-member sees the move, across the two nodes (logged, not asserted)', async () => {
    const here = await space('Bench here');
    const there = await space('Bench there');
    const frank = await connect(1, 'frank');
    const carol = await connect(2, 'carol');
    const dave = await connect(2, 'dave');
    ok(await frank.request('space.enter', { space_id: here.id }));
    ok(await dave.request('presence.subscribe', { user_ids: ['frank'] }));
    const line = (what: string, times: number[]) => {
      const t = [...times].sort((a, b) => a - b);
      const mid = t[Math.floor(t.length / 2)];
      console.log(
        `[spaces] ${what} (${redisUrl ? 'redis' : 'memory'} broker, ${backend}): ` +
          `median ${mid?.toFixed(1)} ms, min ${t[0]?.toFixed(1)}, max ${t[t.length - 1]?.toFixed(1)} (${t.length} runs)`,
      );
    };

    // Teleport: Frank (node 1) asks Carol (node 2); timed until her socket has the invitation.
    const rings: number[] = [];
    for (let i = 0; i < 9; i++) {
      carol.frames.length = 0;
      const t0 = performance.now();
      const asked = frank.request('space.teleport', { space_id: here.id, user_id: 'carol' });
      const rang = await carol.waitFor((f) => f.type === 'space.invitation' && f.invitation.state === 'pending');
      rings.push(performance.now() - t0);
      expect(ok(await asked).invitation.to_user_id).toBe('carol');
      expect(rang.invitation.from_user_id).toBe('frank');
      ok(await carol.request('space.teleport.answer', { space_id: here.id, accept: false }));
      await frank.waitFor(
        (f) =>
          f.type === 'space.invitation' && f.invitation.to_user_id === 'carol' && f.invitation.state === 'declined',
      );
      frank.frames.length = 0;
    }
    line('teleport → ring on the other node', rings);

    // A move: Frank (node 1) goes back and forth; timed until Dave (node 2), who follows his
    // presence, sees him in the new space.
    const moves: number[] = [];
    for (let i = 0; i < 9; i++) {
      const to = i % 2 === 0 ? there : here;
      dave.frames.length = 0;
      const t0 = performance.now();
      const entered = frank.request('space.enter', { space_id: to.id });
      await dave.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'frank' && f.space_id === to.id);
      moves.push(performance.now() - t0);
      ok(await entered);
    }
    line('enter → a follower on the other node sees the move', moves);
    ok(await frank.request('space.leave'));
  });
});
