/**
 * The SDK's calls, signalling only (Node has no WebRTC; the browser e2e test in apps/web has
 * the media): `client.call` rings, `client.calls` hears the ring on every device of the callee,
 * accepting on one ends the ring on the other (`answered_elsewhere`), hang-up ends the call on
 * every side, a declined or missed call ends with its reason, and history pages.
 */
import type { Call, CallEndReason } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../server/src/platform/config.js';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];
const connect = async (userId: string) => {
  const c = await makeClient(h, app, userId);
  clients.push(c);
  return c;
};
const ended = (call: Call) =>
  new Promise<CallEndReason>((resolve) => {
    if (call.phase === 'ended') resolve('left');
    call.on('ended', resolve);
  });

beforeAll(async () => {
  h = await startHarness({ calls: { ...defaultConfig().calls, ringTimeoutMs: 1_500 } });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('calls in the SDK (signalling)', () => {
  it('rings every device; accepting on one ends the ring on the other; hang-up ends it everywhere', async () => {
    const alice = await connect('alice');
    const bob1 = await connect('bob');
    const bob2 = await connect('bob');
    const dm = alice.channel('dm', { members: ['bob'] });
    await dm.createChannel();
    const rang1 = new Promise<Call>((r) => bob1.calls.on('incoming', r));
    const rang2 = new Promise<Call>((r) => bob2.calls.on('incoming', r));

    const call = await alice.call(dm.cid, { video: false });
    expect(call.phase).toBe('outgoing');
    expect(call.info.state).toBe('ringing');
    expect(alice.calls.state.get().active).toBe(call);
    const [in1, in2] = await Promise.all([rang1, rang2]);
    expect(in1.id).toBe(call.id);
    expect(in1.phase).toBe('incoming');
    expect(bob2.calls.state.get().incoming).toEqual([in2]);
    expect(bob1.calls.state.get().live[dm.cid]?.id).toBe(call.id);

    const gone2 = ended(in2);
    // No WebRTC in Node: the accept goes through, the media part reports an error.
    await bob1.calls.accept(in1);
    expect(await gone2).toBe('answered_elsewhere');
    expect(bob2.calls.state.get().incoming).toEqual([]);
    expect(in1.phase).toBe('connecting');
    await until(() => call.phase === 'connecting', 5000, 'alice sees the answer');

    const aliceDone = ended(call);
    const bobDone = ended(in1);
    await in1.hangUp();
    expect(await aliceDone).toBe('ended');
    // Bob's own hang-up: its reply or the call.updated that ended the call, whichever came first.
    expect(['left', 'ended']).toContain(await bobDone);
    expect(alice.calls.state.get().active).toBeNull();
    await until(() => !alice.calls.state.get().live[dm.cid], 5000, 'the live call is gone');

    const { calls } = await bob1.calls.history();
    expect(calls[0]).toMatchObject({ id: call.id, state: 'ended' });
  });

  it('after the socket drops and reconnects, the call moves to the new connection and goes on', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const dm = alice.channel('dm', { members: ['bob'] });
    await dm.createChannel();
    const rang = new Promise<Call>((r) => bob.calls.on('incoming', r));
    const call = await alice.call(dm.cid);
    const incoming = await rang;
    await bob.calls.accept(incoming);
    const before = bob.connectionId;
    bob.dropConnection();
    await until(() => bob.connectionId !== null && bob.connectionId !== before, 10_000, 'bob reconnects');
    const now = bob.connectionId;
    // Alice hears that Bob is in again, on his new connection; neither side's call ended.
    await until(
      () => call.info.participants.find((p) => p.user_id === 'bob')?.connection_id === now,
      10_000,
      'the call moved',
    );
    expect(incoming.phase).not.toBe('ended');
    expect(call.phase).not.toBe('ended');
    expect(call.info.state).toBe('active');
    const done = ended(call);
    await incoming.hangUp();
    expect(await done).toBe('ended');
  });

  it('a declined call and a missed call end with their reasons', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const dm = alice.channel('dm', { members: ['bob'] });
    await dm.createChannel();

    let rang = new Promise<Call>((r) => {
      const off = bob.calls.on('incoming', (c) => {
        off();
        r(c);
      });
    });
    const declinedCall = await alice.call(dm.cid);
    const done = ended(declinedCall);
    await (await rang).decline();
    expect(await done).toBe('declined');

    rang = new Promise<Call>((r) => {
      const off = bob.calls.on('incoming', (c) => {
        off();
        r(c);
      });
    });
    const missedCall = await alice.call(dm.cid);
    const ringing = await rang;
    const [a, b] = await Promise.all([ended(missedCall), ended(ringing)]);
    expect([a, b]).toEqual(['missed', 'missed']);
    const { calls } = await bob.calls.history({ state: 'missed' });
    expect(calls.map((c) => c.id)).toContain(missedCall.id);
  });

  it('a call that cannot start (busy elsewhere) rejects with the typed error', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const dm = alice.channel('dm', { members: ['bob'] });
    await dm.createChannel();
    const first = await alice.call(dm.cid);
    await expect(alice.call(dm.cid)).rejects.toMatchObject({ code: 'CALL_BUSY' });
    await until(() => bob.calls.state.get().incoming.length === 1, 5000, 'bob is rung');
    const cancelled = ended(bob.calls.state.get().incoming[0] as Call);
    await first.hangUp();
    expect(await cancelled).toBe('cancelled');
    expect(bob.calls.state.get().incoming).toEqual([]);
  });
});

describe('a ring this device was not connected for', () => {
  it('a member whose socket opened just after a group call started rings at its next update, and only once', {
    timeout: 90_000,
  }, async () => {
    // Its own server: the shared one's ring time (1.5 s) is shorter than a connect on a busy machine.
    const slow = await startHarness();
    const slowApp = await slow.createApp();
    await slow.users(slowApp, [{ id: 'ada' }, { id: 'ben' }, { id: 'cat' }]);
    const mine: ChatClient[] = [];
    try {
      const join = async (id: string) => {
        const c = await makeClient(slow, slowApp, id);
        mine.push(c);
        return c;
      };
      const ada = await join('ada');
      const ben = await join('ben');
      const team = ada.channel('group', 'team');
      await team.createChannel({ members: ['ben', 'cat'], name: 'Team' });
      const benRang = new Promise<Call>((r) => ben.calls.on('incoming', r));
      const call = await ada.call(team.cid);
      const benCall = await benRang;

      // Cat's socket opens after the ring went out: no ring reaches it.
      const cat = await join('cat');
      await cat.queryChannels();
      let rings = 0;
      cat.calls.on('incoming', () => rings++);
      expect(cat.calls.state.get().incoming).toEqual([]);

      // Ben answers: the call's update says Cat is still rung, so her device rings now.
      await ben.calls.accept(benCall).catch(() => {});
      await until(() => cat.calls.state.get().incoming.length === 1, 15_000, 'cat is rung');
      const catCall = cat.calls.state.get().incoming[0] as Call;
      expect(catCall.id).toBe(call.id);

      // Declined, later updates of the same call do not ring her again.
      await catCall.decline();
      await until(() => cat.calls.state.get().incoming.length === 0, 15_000, 'the ring ends');
      const over = ended(call);
      await call.hangUp();
      await over;
      await until(() => !cat.calls.state.get().live[team.cid], 15_000, 'the call ends for cat');
      expect(rings).toBe(1);
    } finally {
      for (const c of mine) await c.disconnectUser();
      await slow.close();
    }
  });
});
