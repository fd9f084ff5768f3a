/** Typing indicators: fan-out to members, server-side expiry, throttling, stop on send, threads. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestSocket } from '../harness.js';
import { expectWsError, makeWorld, type World } from './world.js';

const TTL = 300;
let h: Harness;
let w: World;
let n = 0;
const group = () => w.channel('alice', 'group', `t${n++}`, ['bob']);

beforeAll(async () => {
  h = await startHarness({ typingTtlMs: TTL });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'zed' }]);
});
afterEach(async () => {
  h.config.typingTtlMs = TTL;
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
});

/** typing.* frames from `user` on a socket. */
const typingOf = (s: TestSocket, user: string) =>
  s.events().filter((f) => (f.type === 'typing.start' || f.type === 'typing.stop') && f.user?.id === user);

/**
 * The server's expiry would also end typing; for tests about other causes it is set beyond
 * any wait here (the harness config object is the server's own).
 */
const noExpiry = () => {
  h.config.typingTtlMs = 600_000;
};

describe('typing', () => {
  it('typing.start reaches other members with user and parent_id; the server sends typing.stop after the TTL', async () => {
    const cid = await group();
    const [alice, bob, zed] = [await w.socket('alice'), await w.socket('bob'), await w.socket('zed')];
    const r = await alice.request('typing.start', { cid });
    expect(r.ok).toBe(true);
    const start = await bob.waitFor((f) => f.type === 'typing.start');
    expect(start).toMatchObject({ cid, parent_id: null, user: { id: 'alice', name: 'alice' } });
    // No typing.stop from the client: the server ends it by itself.
    const stop = await bob.waitFor((f) => f.type === 'typing.stop');
    expect(stop).toMatchObject({ cid, parent_id: null, user: { id: 'alice' } });
    expect(typingOf(bob, 'alice').map((f) => f.type)).toEqual(['typing.start', 'typing.stop']);
    // Someone outside the channel hears nothing.
    await zed.request('ping');
    expect(zed.events().filter((f) => f.type.startsWith('typing.'))).toEqual([]);
  });

  it('repeated starts within the throttle are not resent; typing.stop ends it once', async () => {
    noExpiry();
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    for (let i = 0; i < 5; i++) await alice.request('typing.start', { cid });
    await bob.waitFor((f) => f.type === 'typing.start');
    await alice.request('typing.stop', { cid });
    await bob.waitFor((f) => f.type === 'typing.stop');
    // A stop with nothing to stop is not sent.
    await alice.request('typing.stop', { cid });
    await alice.request('ping');
    await bob.request('ping');
    expect(typingOf(bob, 'alice').map((f) => f.type)).toEqual(['typing.start', 'typing.stop']);
  });

  it('sending a message stops its author typing (REST and WS)', async () => {
    noExpiry();
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    await alice.request('typing.start', { cid });
    await bob.waitFor((f) => f.type === 'typing.start');
    const m = await w.send('alice', cid, 'done typing');
    await bob.waitFor((f) => f.type === 'typing.stop' && f.user.id === 'alice');
    expect(
      bob
        .events()
        .filter((f) => f.type !== 'presence.changed' && f.type !== 'unread.updated')
        .map((f) => f.type),
    ).toEqual(['typing.start', 'message.new', 'typing.stop']);
    expect(bob.events('message.new')[0].message.id).toBe(m.id);

    await alice.request('typing.start', { cid });
    await bob.waitFor((f) => f.type === 'typing.start' && typingOf(bob, 'alice').length === 3);
    await alice.request('message.send', { cid, message: { text: 'over ws' } });
    await bob.waitFor(() => typingOf(bob, 'alice').length === 4);
    expect(typingOf(bob, 'alice').at(-1).type).toBe('typing.stop');
  });

  it('thread typing carries parent_id and is separate from channel typing', async () => {
    noExpiry();
    const cid = await group();
    const parent = await w.send('bob', cid, 'a thread');
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    await alice.request('typing.start', { cid, parent_id: parent.id });
    await alice.request('typing.start', { cid });
    await bob.waitFor(() => typingOf(bob, 'alice').length === 2);
    expect(typingOf(bob, 'alice').map((f) => [f.type, f.parent_id])).toEqual([
      ['typing.start', parent.id],
      ['typing.start', null],
    ]);
    // A reply stops thread typing only.
    await w.send('alice', cid, { text: 'reply', parent_id: parent.id });
    await bob.waitFor(() => typingOf(bob, 'alice').length === 3);
    expect(typingOf(bob, 'alice')[2]).toMatchObject({ type: 'typing.stop', parent_id: parent.id });
    // And a channel message stops channel typing only.
    await w.send('alice', cid, 'in channel');
    await bob.waitFor(() => typingOf(bob, 'alice').length === 4);
    expect(typingOf(bob, 'alice')[3]).toMatchObject({ type: 'typing.stop', parent_id: null });
  });

  it('only members type: a non-member of a public channel gets FORBIDDEN, of a group NOT_FOUND', async () => {
    const cid = await group();
    const pub = await w.channel('alice', 'public', `tp${n++}`, ['bob']);
    const zed = await w.socket('zed');
    expectWsError(await zed.request('typing.start', { cid: pub }), 'FORBIDDEN');
    expectWsError(await zed.request('typing.start', { cid }), 'NOT_FOUND');
    expectWsError(await zed.request('typing.start', { cid: 'not a cid' }), 'VALIDATION_ERROR');
  });
});
