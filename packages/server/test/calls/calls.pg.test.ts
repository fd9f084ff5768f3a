/**
 * Calls over the socket, on two nodes sharing one database and one broker (Redis when
 * REDIS_URL is set, else an in-process network): every transition of a call — ring, accept
 * on one of two devices (the other stops ringing), decline, cancel before an answer, timeout
 * as missed, busy, hang-up and end, the mesh limit, a dropped device — the relay of SDP and
 * ICE only between joined participants, call records, system messages and history, and the
 * ICE servers' TURN credentials.
 */
import { createHmac } from 'node:crypto';
import { callSeconds, formatCallClock, formatCallLength } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/platform/config.js';
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
const broker = clusterBrokers('calls');

// Long enough for a decline or a reconnect to land inside them on a machine under load (at
// 1.5 s and 1 s both timed out once in 14 runs beside a full CI run: load average 11).
const RING_MS = 5_000;
const backendName = () => backend;
const masterKey = 'b'.repeat(64);
const calls = {
  ...defaultConfig().calls,
  ringTimeoutMs: RING_MS,
  maxParticipants: 3,
  rejoinGraceMs: 4_000,
  stunUrls: ['stun:stun.example.com:3478'],
  turnUrls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'],
  turnSecret: 'shared-turn-secret',
  turnTtlSeconds: 3600,
  ringsPerMinute: 10,
  // Without Redis each node's pool is its own view, and the ghost sweep on one node would take
  // participants connected to the other for gone: the sweep is tested in dead-node.pg.test.ts.
  ...(redisUrl ? {} : { sweepMs: 0 }),
};

let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;
let url1: string;
let url2: string;
const sockets: TestSocket[] = [];

async function connect(node: 1 | 2, user: string): Promise<TestSocket> {
  const s = await TestSocket.connect(node === 1 ? url1 : url2, app, user);
  sockets.push(s);
  return s;
}

async function dm(a: string, b: string): Promise<string> {
  const r = await n1.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user(a),
    payload: { type: 'dm', members: [b] },
  });
  expect(r.status).toBe(200);
  return r.body.channel.cid;
}

const ok = (reply: any) => {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply.error)}`);
  return reply;
};
const updatedWith = (callId: string, change: string, userId?: string) => (f: any) =>
  f.type === 'call.updated' && f.call.id === callId && f.change === change && (!userId || f.user_id === userId);

async function history(user: string, query = ''): Promise<any> {
  const r = await n2.call({ method: 'GET', url: `/v1/calls${query}`, headers: await app.user(user) });
  expect(r.status).toBe(200);
  return r.body;
}

async function systemTexts(cid: string, user: string): Promise<string[]> {
  const r = await n1.call({ method: 'GET', url: `/v1/channels/${cid}/messages`, headers: await app.user(user) });
  expect(r.status).toBe(200);
  return r.body.messages.filter((m: any) => m.type === 'system').map((m: any) => m.text);
}

beforeAll(async () => {
  db = await testDatabase();
  const cfg = { masterKey, calls, jobPollMs: 200 };
  n1 = await startHarness({ ...cfg, nodeId: 'c1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...cfg, nodeId: 'c2' }, { database: db.database, broker: await broker() });
  url1 = await n1.listen();
  url2 = await n2.listen();
  app = await n1.createApp();
  await n1.users(
    app,
    ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'].map((id) => ({ id })),
  );
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await n1.close();
  await n2.close();
  await db.drop();
});

describe(`calls across two nodes (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('rings every device of the callee; accepting on one stops the other; SDP/ICE relay only between joined devices; hang-up ends it for both', async () => {
    const cid = await dm('alice', 'bob');
    const alice = await connect(1, 'alice');
    const bob1 = await connect(2, 'bob');
    const bob2 = await connect(1, 'bob');
    const carol = await connect(2, 'carol');

    const started = ok(await alice.request('call.start', { cid, kind: 'video' }));
    const call = started.call;
    expect(call).toMatchObject({ cid, kind: 'video', state: 'ringing', created_by: 'alice' });
    expect(call.participants.map((p: any) => [p.user_id, p.state])).toEqual([
      ['alice', 'joined'],
      ['bob', 'ringing'],
    ]);

    // Both of Bob's devices ring, one on each node.
    const ring1 = await bob1.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    const ring2 = await bob2.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    expect(ring1.from_user_id).toBe('alice');
    expect(Date.parse(ring2.expires_at) - Date.parse(call.created_at)).toBe(RING_MS);
    expect(carol.events('call.ring')).toHaveLength(0);

    // Bob answers on device 1; device 2 learns it was answered elsewhere.
    const hello1 = bob1.frames.find((f) => f.type === 'hello');
    const accepted = ok(await bob1.request('call.accept', { call_id: call.id }));
    expect(accepted.call.state).toBe('active');
    expect(accepted.call.participants.find((p: any) => p.user_id === 'bob')).toMatchObject({
      state: 'joined',
      connection_id: hello1.connection_id,
    });
    const seenBy2 = await bob2.waitFor(updatedWith(call.id, 'accepted', 'bob'));
    expect(seenBy2.connection_id).toBe(hello1.connection_id);
    await alice.waitFor(updatedWith(call.id, 'accepted', 'bob'));
    // Device 2 answering too is refused: one answer wins.
    const late = await bob2.request('call.accept', { call_id: call.id });
    expect(late.ok).toBe(false);
    expect(late.error.code).toBe('CALL_ENDED');

    // The joiner offers; the relay reaches Bob's device 1 only, on the other node.
    const aliceConn = alice.frames.find((f) => f.type === 'hello').connection_id;
    ok(
      await bob1.request('call.signal', {
        call_id: call.id,
        to_user_id: 'alice',
        signal: { type: 'offer', sdp: 'v=0 offer' },
      }),
    );
    const offer = await alice.waitFor((f) => f.type === 'call.signal' && f.signal.type === 'offer');
    expect(offer).toMatchObject({
      cid,
      call_id: call.id,
      from_user_id: 'bob',
      from_connection_id: hello1.connection_id,
    });
    ok(
      await alice.request('call.signal', {
        call_id: call.id,
        to_user_id: 'bob',
        signal: {
          type: 'candidate',
          candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdp_mid: '0', sdp_m_line_index: 0 },
        },
      }),
    );
    const cand = await bob1.waitFor((f) => f.type === 'call.signal' && f.signal.type === 'candidate');
    expect(cand.from_connection_id).toBe(aliceConn);

    // A non-participant, Bob's other device, a signal to someone not in the call, a malformed or oversized one: refused.
    const byCarol = await carol.request('call.signal', {
      call_id: call.id,
      to_user_id: 'alice',
      signal: { type: 'offer', sdp: 'x' },
    });
    // Carol is no member of the DM: the call is not hers to know of (NOT_FOUND, as for every call request).
    expect(byCarol.error.code).toBe('NOT_FOUND');
    const byBob2 = await bob2.request('call.signal', {
      call_id: call.id,
      to_user_id: 'alice',
      signal: { type: 'offer', sdp: 'x' },
    });
    expect(byBob2.error.code).toBe('NOT_IN_CALL');
    const toCarol = await alice.request('call.signal', {
      call_id: call.id,
      to_user_id: 'carol',
      signal: { type: 'offer', sdp: 'x' },
    });
    expect(toCarol.error.code).toBe('NOT_IN_CALL');
    const huge = await alice.request('call.signal', {
      call_id: call.id,
      to_user_id: 'bob',
      signal: { type: 'offer', sdp: 'a'.repeat(40_000) },
    });
    expect(huge.error.code).toBe('VALIDATION_ERROR');
    const odd = await alice.request('call.signal', {
      call_id: call.id,
      to_user_id: 'bob',
      signal: { type: 'offer', sdp: 'x', extra: 1 },
    });
    expect(odd.error.code).toBe('VALIDATION_ERROR');
    await new Promise((r) => setTimeout(r, 100)); // a window for a signal that must not be relayed
    expect(bob2.events('call.signal')).toHaveLength(0);
    expect(carol.events('call.signal')).toHaveLength(0);

    // Alice hangs up: with one left the call ends, for both.
    const left = ok(await alice.request('call.leave', { call_id: call.id }));
    expect(left.call.state).toBe('ended');
    const ended = await bob1.waitFor(updatedWith(call.id, 'ended'));
    expect(ended.call.participants.every((p: any) => p.state === 'left' && p.left_at)).toBe(true);
    expect(ended.call.duration_ms).toBeGreaterThanOrEqual(0);
    await bob1.waitFor(
      (f) => f.type === 'message.new' && f.message.type === 'system' && /^Call ended · /.test(f.message.text),
    );
    const after = await bob1.request('call.signal', {
      call_id: call.id,
      to_user_id: 'alice',
      signal: { type: 'offer', sdp: 'x' },
    });
    expect(after.error.code).toBe('CALL_ENDED');

    // The record, in both histories and by id.
    const h = await history('bob');
    expect(h.calls[0]).toMatchObject({ id: call.id, state: 'ended', kind: 'video', created_by: 'alice' });
    const one = await n1.call({ method: 'GET', url: `/v1/calls/${call.id}`, headers: await app.user('alice') });
    expect(one.body.call.participants.map((p: any) => p.user_id)).toEqual(['alice', 'bob']);
    const notMine = await n1.call({ method: 'GET', url: `/v1/calls/${call.id}`, headers: await app.user('carol') });
    expect(notMine.status).toBe(404);
  });

  it('decline: the callee says no on one device, every device stops ringing, the call is declined', async () => {
    const cid = await dm('carol', 'dave');
    const carol = await connect(1, 'carol');
    const dave1 = await connect(2, 'dave');
    const dave2 = await connect(1, 'dave');
    const { call } = ok(await carol.request('call.start', { cid, kind: 'audio' }));
    await dave1.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    await dave2.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    const declined = ok(await dave2.request('call.decline', { call_id: call.id }));
    expect(declined.call.state).toBe('declined');
    await dave1.waitFor(updatedWith(call.id, 'declined', 'dave'));
    const end = await carol.waitFor(
      (f) => f.type === 'call.updated' && f.call.id === call.id && f.call.state === 'declined',
    );
    expect(end.call.participants.find((p: any) => p.user_id === 'dave').state).toBe('declined');
    expect(await systemTexts(cid, 'carol')).toContain('Call declined');
    // Declining again, or accepting now: over.
    expect((await dave1.request('call.accept', { call_id: call.id })).error.code).toBe('CALL_ENDED');
  });

  it('cancel before an answer: the ring stops and the callee has a missed call', async () => {
    const cid = await dm('erin', 'frank');
    const erin = await connect(2, 'erin');
    const frank = await connect(1, 'frank');
    const { call } = ok(await erin.request('call.start', { cid, kind: 'audio' }));
    await frank.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    // Only the caller may cancel.
    expect((await frank.request('call.cancel', { call_id: call.id })).error.code).toBe('FORBIDDEN');
    const cancelled = ok(await erin.request('call.cancel', { call_id: call.id }));
    expect(cancelled.call.state).toBe('cancelled');
    const seen = await frank.waitFor(updatedWith(call.id, 'cancelled', 'erin'));
    expect(seen.call.participants.find((p: any) => p.user_id === 'frank').state).toBe('missed');
    expect((await frank.request('call.accept', { call_id: call.id })).error.code).toBe('CALL_ENDED');
    expect(await systemTexts(cid, 'erin')).toContain('Missed call');
    const missed = await history('frank', '?state=cancelled,missed');
    expect(missed.calls.map((c: any) => c.id)).toContain(call.id);
  });

  it('timeout: nobody answers within the ring time, the call is missed on every device', async () => {
    const cid = await dm('gina', 'alice');
    const gina = await connect(1, 'gina');
    const alice = await connect(2, 'alice');
    const { call } = ok(await gina.request('call.start', { cid, kind: 'video' }));
    await alice.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    const missed = await alice.waitFor(
      (f) => f.type === 'call.updated' && f.call.id === call.id && f.call.state === 'missed',
      RING_MS + 10_000,
    );
    expect(missed.call.participants.find((p: any) => p.user_id === 'alice').state).toBe('missed');
    expect(missed.call.ended_at).not.toBeNull();
    expect(Date.parse(missed.call.ended_at) - Date.parse(call.created_at)).toBeGreaterThanOrEqual(RING_MS);
    await gina.waitFor((f) => f.type === 'call.updated' && f.call.id === call.id && f.call.state === 'missed');
    expect(await systemTexts(cid, 'gina')).toContain('Missed call');
    expect((await alice.request('call.accept', { call_id: call.id })).error.code).toBe('CALL_ENDED');
    const h = await history('alice', '?state=missed');
    expect(h.calls[0].id).toBe(call.id);
  });

  it('busy: a callee already in a call is not rung, and the call ends busy; joining a second call is refused', async () => {
    const ab = await dm('bob', 'carol');
    const bob = await connect(1, 'bob');
    const carol = await connect(2, 'carol');
    const { call: first } = ok(await bob.request('call.start', { cid: ab, kind: 'audio' }));
    await carol.waitFor((f) => f.type === 'call.ring' && f.call.id === first.id);
    ok(await carol.request('call.accept', { call_id: first.id }));

    const cid = await dm('dave', 'bob');
    const dave = await connect(2, 'dave');
    const { call } = ok(await dave.request('call.start', { cid, kind: 'audio' }));
    expect(call.state).toBe('busy');
    expect(call.participants.find((p: any) => p.user_id === 'bob').state).toBe('busy');
    await new Promise((r) => setTimeout(r, 100)); // a window for a ring that must not come
    expect(bob.events('call.ring').filter((f) => f.call.id === call.id)).toHaveLength(0);
    // Bob cannot start another while in one.
    const again = await bob.request('call.start', { cid, kind: 'audio' });
    expect(again.error.code).toBe('CALL_BUSY');
    expect(again.error.details.call_id).toBe(first.id);
    ok(await carol.request('call.end', { call_id: first.id }));
    await bob.waitFor(updatedWith(first.id, 'ended'));
  });

  it('group call: open to members up to the mesh limit, CALL_FULL past it; the newcomer is told who is in', async () => {
    const r = await n1.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'standup', members: ['bob', 'carol', 'dave'] },
    });
    expect(r.status).toBe(200);
    const cid = 'group:standup';
    const [alice, bob, carol, dave, erin] = [
      await connect(1, 'alice'),
      await connect(2, 'bob'),
      await connect(1, 'carol'),
      await connect(2, 'dave'),
      await connect(1, 'erin'),
    ];
    // Four members, a limit of three: nobody is rung, the call is open.
    const { call } = ok(await alice.request('call.start', { cid, kind: 'audio' }));
    expect(call.state).toBe('active');
    await dave.waitFor(updatedWith(call.id, 'started', 'alice'));
    expect(bob.events('call.ring')).toHaveLength(0);
    const b = ok(await bob.request('call.join', { call_id: call.id }));
    expect(b.call.participants.filter((p: any) => p.state === 'joined').map((p: any) => p.user_id)).toEqual([
      'alice',
      'bob',
    ]);
    ok(await carol.request('call.join', { call_id: call.id }));
    const full = await dave.request('call.join', { call_id: call.id });
    expect(full.error).toMatchObject({ code: 'CALL_FULL', details: { limit: 3 } });
    // Not a member: not found.
    expect((await erin.request('call.join', { call_id: call.id })).error.code).toBe('NOT_FOUND');
    // Ringing more than the limit allows is refused too.
    const tooMany = await alice.request('call.invite', { call_id: call.id, user_ids: ['dave'] });
    expect(tooMany.error.code).toBe('CALL_FULL');
    // A second call in the same channel: join the first instead.
    ok(await bob.request('call.leave', { call_id: call.id }));
    const second = await dave.request('call.start', { cid, kind: 'audio' });
    expect(second.error).toMatchObject({ code: 'CONFLICT', details: { call_id: call.id } });
    // Bob left, two remain: still on. Dave is rung in by Carol and accepts.
    ok(await carol.request('call.invite', { call_id: call.id, user_ids: ['dave'] }));
    await dave.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id && f.from_user_id === 'carol');
    const d = ok(await dave.request('call.accept', { call_id: call.id }));
    expect(
      d.call.participants
        .filter((p: any) => p.state === 'joined')
        .map((p: any) => p.user_id)
        .sort(),
    ).toEqual(['alice', 'carol', 'dave']);
    const ended = ok(await dave.request('call.end', { call_id: call.id }));
    expect(ended.call.state).toBe('ended');
    await bob.waitFor(updatedWith(call.id, 'ended', 'dave'));
  });

  it('someone rung keeps a seat: a join that would take it is CALL_FULL, and the rung one can answer', async () => {
    // The mesh limit is 3 here: two in, one rung, a third member's join must not take the seat.
    const r = await n1.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'seats', members: ['bob', 'carol', 'dave'] },
    });
    expect(r.status).toBe(200);
    const cid = 'group:seats';
    const [alice, bob, carol, dave] = [
      await connect(1, 'alice'),
      await connect(2, 'bob'),
      await connect(1, 'carol'),
      await connect(2, 'dave'),
    ];
    const { call } = ok(await alice.request('call.start', { cid, kind: 'audio', invite: ['bob'] }));
    ok(await bob.request('call.accept', { call_id: call.id }));
    ok(await alice.request('call.invite', { call_id: call.id, user_ids: ['carol'] }));
    await carol.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    const taken = await dave.request('call.join', { call_id: call.id });
    expect(taken.error).toMatchObject({ code: 'CALL_FULL', details: { limit: 3, ringing: 1 } });
    const answered = ok(await carol.request('call.accept', { call_id: call.id }));
    expect(answered.call.participants.filter((p: any) => p.state === 'joined')).toHaveLength(3);
    // Once a ring ends (declined), its seat is free again.
    ok(await carol.request('call.leave', { call_id: call.id }));
    ok(await alice.request('call.invite', { call_id: call.id, user_ids: ['carol'] }));
    await carol.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id && f !== answered);
    expect((await dave.request('call.join', { call_id: call.id })).error.code).toBe('CALL_FULL');
    ok(await carol.request('call.decline', { call_id: call.id }));
    ok(await dave.request('call.join', { call_id: call.id }));
    ok(await alice.request('call.end', { call_id: call.id }));
  });

  it("another app's call id is NOT_FOUND for every call request, signal included", async () => {
    const cid = await dm('alice', 'gina');
    const alice = await connect(1, 'alice');
    const gina = await connect(2, 'gina');
    const { call } = ok(await alice.request('call.start', { cid, kind: 'audio' }));
    ok(await gina.request('call.accept', { call_id: call.id }));
    const other = await n1.createApp('calls-other');
    await n1.users(other, [{ id: 'alice' }]);
    const stranger = await TestSocket.connect(url2, other, 'alice');
    sockets.push(stranger);
    const id = { call_id: call.id };
    for (const [type, fields] of [
      ['call.accept', id],
      ['call.decline', id],
      ['call.cancel', id],
      ['call.join', id],
      ['call.leave', id],
      ['call.end', id],
      ['call.invite', { ...id, user_ids: ['gina'] }],
      ['call.signal', { ...id, to_user_id: 'gina', signal: { type: 'offer', sdp: 'v=0' } }],
    ] as const) {
      const reply = await stranger.request(type, fields);
      expect(reply.error?.code, `${type}: ${JSON.stringify(reply)}`).toBe('NOT_FOUND');
    }
    // A member of the channel who is not in the call is told so (not NOT_FOUND).
    const carol = await connect(1, 'carol');
    const notIn = await carol.request('call.signal', {
      ...id,
      to_user_id: 'gina',
      signal: { type: 'offer', sdp: 'v=0' },
    });
    expect(notIn.error.code).toBe('NOT_FOUND'); // carol is no member of the DM either
    ok(await alice.request('call.end', id));
  });

  it("the channel's Call ended message and the call history give one length, by one rounding rule", async () => {
    const cid = await dm('alice', 'frank');
    const alice = await connect(1, 'alice');
    const frank = await connect(2, 'frank');
    const { call } = ok(await alice.request('call.start', { cid, kind: 'audio' }));
    ok(await frank.request('call.accept', { call_id: call.id }));
    // Long enough to have whole seconds and a fraction: 4.6 s once read "5 s" here, "0:04" there.
    await new Promise((r) => setTimeout(r, 1_600));
    ok(await frank.request('call.leave', { call_id: call.id }));
    const rec = (await history('alice', `?cid=${encodeURIComponent(cid)}`)).calls.find((c: any) => c.id === call.id);
    expect(rec.duration_ms).toBeGreaterThan(1_000);
    const text = (await systemTexts(cid, 'alice')).find((t) => t.startsWith('Call ended'));
    expect(text).toBe(`Call ended · ${formatCallLength(rec.duration_ms)}`);
    expect(formatCallClock(rec.duration_ms)).toBe(`0:0${callSeconds(rec.duration_ms)}`);
    expect(text).toBe(`Call ended · ${callSeconds(rec.duration_ms)} s`);
  });

  it('a device whose socket drops leaves the call after the rejoin grace; one that comes back stays', async () => {
    const cid = await dm('erin', 'gina');
    const erin = await connect(1, 'erin');
    const gina = await connect(2, 'gina');
    const { call } = ok(await erin.request('call.start', { cid, kind: 'audio' }));
    await gina.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    ok(await gina.request('call.accept', { call_id: call.id }));
    // Erin's socket drops and she comes back on a new one within the grace: still in.
    erin.close();
    await erin.waitClose();
    const erinAgain = await connect(1, 'erin');
    const back = ok(await erinAgain.request('call.join', { call_id: call.id }));
    expect(back.call.state).toBe('active');
    await gina.waitFor(updatedWith(call.id, 'joined', 'erin'));
    // Now Gina drops for good: the call ends once the grace is over.
    gina.close();
    const ended = await erinAgain.waitFor(updatedWith(call.id, 'ended'), 15_000);
    expect(ended.call.participants.find((p: any) => p.user_id === 'gina').state).toBe('left');
  });

  it('measures invite-to-ring latency across the two nodes (logged, not asserted)', async () => {
    const cid = await dm('frank', 'gina');
    const frank = await connect(1, 'frank');
    const gina = await connect(2, 'gina');
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      const started = frank.request('call.start', { cid, kind: 'audio' });
      const rang = gina.waitFor((f) => f.type === 'call.ring');
      const ringFrame = await rang;
      times.push(performance.now() - t0);
      const { call } = ok(await started);
      expect(ringFrame.call.id).toBe(call.id);
      ok(await frank.request('call.cancel', { call_id: call.id }));
      await gina.waitFor(updatedWith(call.id, 'cancelled'));
      gina.frames.length = 0;
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `[calls] invite → ring on the other node (${redisUrl ? 'redis' : 'memory'} broker, ${backendName()}): ` +
        `median ${sorted[4]?.toFixed(1)} ms, min ${sorted[0]?.toFixed(1)}, max ${sorted[8]?.toFixed(1)} (9 runs)`,
    );
  });

  it('ring spam: past the per-user budget, call.start answers RATE_LIMITED with when to retry', async () => {
    const cid = await dm('dave', 'erin');
    const dave = await connect(2, 'dave');
    let limited: any = null;
    for (let i = 0; i < 12 && !limited; i++) {
      const r = await dave.request('call.start', { cid, kind: 'audio' });
      if (!r.ok) limited = r.error;
      else ok(await dave.request('call.cancel', { call_id: r.call.id }));
    }
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: expect.any(Number) } });
  });

  it('GET /v1/calls/ice-servers: STUN, and TURN with a TURN REST API credential', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await n1.call({ method: 'GET', url: '/v1/calls/ice-servers', headers: await app.user('alice') });
    expect(r.status).toBe(200);
    const [stun, turn] = r.body.ice_servers;
    expect(stun).toEqual({ urls: calls.stunUrls });
    expect(turn.urls).toEqual(calls.turnUrls);
    const [expiry, user] = turn.username.split(':');
    expect(user).toBe('alice');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(turn.credential).toBe(createHmac('sha1', 'shared-turn-secret').update(turn.username).digest('base64'));
    expect(Date.parse(r.body.expires_at)).toBe(Number(expiry) * 1000);
    const anon = await n1.call({ method: 'GET', url: '/v1/calls/ice-servers' });
    expect(anon.status).toBe(401);
  });

  it('history pages newest first; bad queries are 400, another app sees nothing', async () => {
    const first = await history('alice', '?limit=1');
    expect(first.calls).toHaveLength(1);
    expect(first.next).toBe(first.calls[0].id);
    const second = await history('alice', `?limit=1&before=${first.next}`);
    expect(second.calls[0].id < first.calls[0].id).toBe(true);
    const bad = await n1.call({ method: 'GET', url: '/v1/calls?state=nope', headers: await app.user('alice') });
    expect(bad.status).toBe(400);
    const badLimit = await n1.call({ method: 'GET', url: '/v1/calls?limit=0', headers: await app.user('alice') });
    expect(badLimit.status).toBe(400);
    const other = await n1.createApp('other');
    await n1.users(other, [{ id: 'alice' }]);
    const r = await n1.call({ method: 'GET', url: '/v1/calls', headers: await other.user('alice') });
    expect(r.body.calls).toEqual([]);
    const byId = await n1.call({
      method: 'GET',
      url: `/v1/calls/${first.calls[0].id}`,
      headers: await other.user('alice'),
    });
    expect(byId.status).toBe(404);
  });
});
