/**
 * The SDK's side of the connection-path redesign (protocol 2): it honours OVERLOADED's retry
 * hint, follows presence only of what it shows (and again after a reconnect), pages members
 * on demand, and keeps them across a resync that no longer carries them.
 */
import { CLOSE_CODES, drainReason, retryAfterMs } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TestSocket } from '../../server/test/harness.js';
import type { SocketFactory } from '../src/connection.js';
import { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];

beforeAll(async () => {
  // One socket may be opening at a time: a test holds that slot to see a refusal.
  h = await startHarness({ maxOpeningSockets: 1 });
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice' },
    { id: 'bob', username: 'bob', name: 'Bob' },
    ...['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => ({ id, name: id })),
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

async function client(userId: string): Promise<ChatClient> {
  const c = await makeClient(h, app, userId);
  clients.push(c);
  return c;
}

describe('OVERLOADED', () => {
  it('reconnects after the retry hint, not before', async () => {
    const url = await h.listen();
    const blocker = await TestSocket.open(url, app.apiKey); // holds the one opening slot
    const opened: number[] = [];
    const closes: { at: number; code: number; reason: string }[] = [];
    class Recording extends WebSocket {
      constructor(u: string) {
        super(u);
        opened.push(performance.now());
        this.on('close', (code, reason) => {
          const r = reason.toString();
          closes.push({ at: performance.now(), code, reason: r });
          // The refusal seen: free the slot, so the retry (whenever it comes) is admitted.
          if (code === CLOSE_CODES.OVERLOADED) blocker.close();
        });
      }
    }
    const c = new ChatClient({
      url,
      apiKey: app.apiKey,
      WebSocket: Recording as unknown as SocketFactory,
      // Without the hint the client would be back within 10–20 ms.
      backoffMinMs: 20,
      backoffMaxMs: 40,
    });
    clients.push(c);
    await c.connectUser({ id: 'alice' }, () => app.token('alice'));
    expect(closes[0]?.code).toBe(CLOSE_CODES.OVERLOADED);
    const hint = retryAfterMs(closes[0]?.reason ?? '') as number;
    expect(hint).toBeGreaterThanOrEqual(100);
    expect(opened).toHaveLength(2);
    // The second socket was made no earlier than the hint after the refusal (timers never fire
    // early; 2 ms for the clocks' rounding), and no later than the hint plus its jitter allows.
    const waited = (opened[1] as number) - (closes[0]?.at as number);
    expect(waited).toBeGreaterThanOrEqual(hint - 2);
    expect(c.state.get().connection).toBe('online');
  });
});

describe('SHUTTING_DOWN (a draining node)', () => {
  it("reconnects within the close reason's hint, not after the backoff", async () => {
    const alice = await makeClient(h, app, 'alice', { backoffMinMs: 60_000, backoffMaxMs: 60_000 });
    clients.push(alice);
    const bob = await client('bob');
    const ch = alice.channel('group', 'drained');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    let dropped = false;
    const stop = alice.state.subscribe((s) => {
      if (s.connection !== 'online') dropped = true;
    });
    for (const conn of h.server.svc.hub.connectionsOf(app.id, 'alice'))
      conn.close(CLOSE_CODES.SHUTTING_DOWN, drainReason(50));
    await until(() => dropped, 10_000, 'alice to see the close');
    stop();
    // A backoff would hold her back 30–60 s: the hint brings her back at once.
    await until(() => alice.state.get().connection === 'online', 10_000, 'alice back online');
    await bob.channel('group', 'drained').sendMessage({ text: 'after the drain' });
    await until(
      () => ch.state?.messages.some((m) => m.text === 'after the drain' && m.seq > 0),
      10_000,
      'a message after the reconnect',
    );
  });
});

describe('presence follows', () => {
  it('follows the users asked for, and again after a reconnect', async () => {
    const alice = await client('alice');
    alice.state.update((s) => ({
      ...s,
      users: { ...s.users, bob: { ...(s.users.bob ?? { id: 'bob', name: 'Bob' }), presence: 'offline' } as never },
    }));
    const release = alice.watchPresence(['bob', 'bob']);
    const bob = await client('bob');
    await until(() => alice.state.get().users.bob?.presence === 'online', 10_000, 'bob online at alice');
    await bob.setPresence('away');
    await until(() => alice.state.get().users.bob?.presence === 'away', 10_000, 'bob away at alice');
    // A new connection follows no one: the client asks again after its hello.
    alice.dropConnection();
    await until(() => alice.state.get().connection === 'online', 10_000, 'alice back');
    await until(
      async () => {
        await bob.setPresence('online');
        return alice.state.get().users.bob?.presence === 'online';
      },
      10_000,
      'bob online again at alice',
    );
    // Released: bob's changes no longer reach alice.
    release();
    await new Promise((r) => setTimeout(r, 0)); // the unsubscribe goes out at the end of the tick
    await alice.request('ping', {}); // and, handled in order, is in place once this is answered
    await bob.setPresence('away');
    await alice.request('ping', {});
    await bob.request('ping', {});
    await alice.request('ping', {});
    expect(alice.state.get().users.bob?.presence).toBe('online');
  });
});

describe('members on demand', () => {
  it('pages members, and keeps them through a resync that carries none', async () => {
    const alice = await client('alice');
    const ch = alice.channel('group', 'paged');
    await ch.createChannel({ members: ['alice', 'm1', 'm2', 'm3'] });
    await ch.watch();
    const p1 = await ch.loadMembers({ limit: 2 });
    expect(p1.members.map((m) => m.user_id)).toEqual(['alice', 'm1']);
    expect(p1.next).toBe('m1');
    const p2 = await ch.loadMembers({ limit: 2, cursor: p1.next as string });
    expect(p2.members.map((m) => m.user_id)).toEqual(['m2', 'm3']);
    const p3 = await ch.loadMembers({ limit: 2, cursor: 'm3' });
    expect(p3).toMatchObject({ members: [], next: null });
    // Away, a member joins and one leaves: the resync replays those events, no member list.
    alice.dropConnection();
    const server = await h.call({
      method: 'POST',
      url: '/v1/channels/group:paged/members',
      headers: await app.server(),
      payload: { add: ['m5'], remove: ['m2'] },
    });
    expect(server.status, JSON.stringify(server.body)).toBe(200);
    await until(() => alice.state.get().connection === 'online', 10_000, 'alice back');
    await until(() => !!ch.state?.members.m5, 10_000, 'm5 added by the resync');
    expect(Object.keys(ch.state?.members ?? {}).sort()).toEqual(expect.arrayContaining(['alice', 'm1', 'm3', 'm5']));
    expect(ch.state?.members.m2).toBeUndefined();
    // The resync's answer itself carried no members.
    const r = await alice.request('channel.watch', { cid: 'group:paged', since: ch.state?.lastSeq ?? 0 });
    expect('members' in r).toBe(false);
    expect(r).toMatchObject({ reload: false, channel: { cid: 'group:paged' } });
    // Bad input: another channel the caller cannot see, a limit out of range.
    await expect(alice.request('channel.members', { cid: 'group:nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.request('channel.members', { cid: 'group:paged', limit: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await expect(alice.request('channel.members', { cid: 'group:paged', limit: 501 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
  });
});
