/**
 * Personal mutes through the SDK against a real server: a muted author's messages leave the
 * muter's history, replies, search and unread counts; their live messages do not reach the
 * muter's state or listeners, and the channel's seq still advances (no gap, no stall);
 * unmuting brings everything back. Errors: self, unknown user, another app's user, server token.
 */
import type { ServerEvent } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, serverChannel, serverHistory, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
const clients: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice' },
    { id: 'bob', username: 'bob', name: 'Bob' },
    { id: 'carol', username: 'carol', name: 'Carol' },
  ]);
  await h.users(other, [{ id: 'mallory', username: 'mallory' }]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

async function rest(method: string, url: string, userId: string | null, payload?: unknown) {
  const headers = userId ? await app.user(userId) : await app.server();
  return h.call({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) });
}

describe('mutes', () => {
  it('hides a muted user from history, replies, search, unread counts and live events; unmute restores', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    const carol = await makeClient(h, app, 'carol');
    clients.push(alice, bob, carol);
    const cid = 'group:mutes';
    await alice.channel('group', 'mutes').createChannel({ members: ['bob', 'carol'] });
    const aCh = alice.channel('group', 'mutes');
    await aCh.watch();
    const bCh = bob.channel('group', 'mutes');
    await bCh.watch();
    const cCh = carol.channel('group', 'mutes');
    await cCh.watch();
    const root = await aCh.sendMessage({ text: 'root before the mute' });
    await until(() => (bCh.state?.lastSeq ?? 0) >= root.seq, 15_000, 'bob has the root');
    await cCh.sendMessage({ text: 'carol zebra before' });
    await until(() => bCh.state?.messages.some((m) => m.text === 'carol zebra before'), 15_000, 'bob sees carol');

    const muted = await bob.moderation.mute('carol');
    expect(muted.user_id).toBe('carol');
    // Muting again answers the standing mute.
    expect((await bob.moderation.mute('carol')).created_at).toBe(muted.created_at);
    expect((await bob.moderation.mutes()).map((m) => m.user_id)).toEqual(['carol']);
    expect(bob.moderation.isMuted('carol')).toBe(true);
    // What was in state already leaves it at once.
    expect(bCh.state?.messages.map((m) => m.text)).not.toContain('carol zebra before');

    const heard: ServerEvent[] = [];
    bob.on('message.new', (e) => heard.push(e));
    const readTo = bCh.state?.lastSeq ?? 0;
    await rest('POST', `/v1/channels/${cid}/read`, 'bob', { seq: readTo });
    await rest('POST', `/v1/channels/${cid}/read`, 'alice', { seq: readTo });

    const hidden = await cCh.sendMessage({ text: 'carol zebra while muted' });
    const reply = await cCh.sendMessage({ text: 'carol zebra reply', parent_id: root.id });
    const after = await aCh.sendMessage({ text: 'alice zebra after' });
    // Bob's seq moves past carol's messages with no gap fill stalling on them.
    await until(() => (bCh.state?.lastSeq ?? 0) >= after.seq, 15_000, 'bob reaches alice’s message');
    const bobTexts = () => (bCh.state?.messages ?? []).map((m) => m.text);
    expect(bobTexts()).toContain('alice zebra after');
    expect(bobTexts()).not.toContain('carol zebra while muted');
    expect(heard.map((e) => (e.type === 'message.new' ? e.message.id : ''))).toEqual([after.id]);
    expect(bCh.state?.unreadCount).toBe(1);
    // Alice, who muted nobody, sees all of it.
    await until(() => (aCh.state?.lastSeq ?? 0) >= after.seq, 15_000, 'alice is current');
    expect(aCh.state?.messages.map((m) => m.text)).toContain('carol zebra while muted');

    // History, replies, search, unread counts on the server.
    const bobHistory = (await serverHistory(h, app, cid, 'bob')).map((m) => m.user_id);
    expect(bobHistory).not.toContain('carol');
    expect(bobHistory).toContain('alice');
    expect((await serverHistory(h, app, cid, 'alice')).map((m) => m.id)).toContain(hidden.id);
    const bobReplies = await rest('GET', `/v1/messages/${root.id}/replies`, 'bob');
    expect(bobReplies.status).toBe(200);
    expect(bobReplies.body.messages).toEqual([]);
    const aliceReplies = await rest('GET', `/v1/messages/${root.id}/replies`, 'alice');
    expect(aliceReplies.body.messages.map((m: { id: string }) => m.id)).toEqual([reply.id]);
    const bobSearch = await bob.search('zebra');
    expect(bobSearch.results.map((r) => r.message.text)).toEqual(['alice zebra after']);
    expect((await alice.search('zebra')).results).toHaveLength(4);
    expect((await serverChannel(h, app, cid, 'bob')).unread_count).toBe(1);
    expect((await serverChannel(h, app, cid, 'alice')).unread_count).toBe(1);
    expect((await rest('GET', '/v1/me', 'bob')).body.unread.total).toBe(1);

    // Unmute: history, search and counts come back, and the loaded channel reloads.
    expect((await bob.moderation.unmute('carol')).user_id).toBe('carol');
    expect(bob.moderation.isMuted('carol')).toBe(false);
    expect(await bob.moderation.mutes()).toEqual([]);
    expect((await serverHistory(h, app, cid, 'bob')).map((m) => m.id)).toContain(hidden.id);
    expect((await bob.search('zebra')).results).toHaveLength(4);
    expect((await serverChannel(h, app, cid, 'bob')).unread_count).toBe(2);
    await until(() => bobTexts().includes('carol zebra while muted'), 15_000, 'bob’s channel reloads');
    const live = await cCh.sendMessage({ text: 'carol after unmute' });
    await until(() => bobTexts().includes('carol after unmute'), 15_000, 'bob sees carol live again');
    expect(heard.map((e) => (e.type === 'message.new' ? e.message.id : ''))).toContain(live.id);
  });

  it('a new connection loads the mute list and drops live messages from the start', async () => {
    await rest('POST', '/v1/moderation/mutes', 'bob', { user_id: 'alice' });
    const bob = await makeClient(h, app, 'bob');
    const alice = await makeClient(h, app, 'alice');
    clients.push(bob, alice);
    await until(() => bob.moderation.isMuted('alice'), 15_000, 'mutes loaded');
    const aCh = alice.channel('group', 'mutes');
    await aCh.watch();
    const bCh = bob.channel('group', 'mutes');
    await bCh.watch();
    expect(bCh.state?.messages.some((m) => m.user_id === 'alice')).toBe(false);
    const m1 = await aCh.sendMessage({ text: 'alice, muted on connect' });
    await until(() => (bCh.state?.lastSeq ?? 0) >= m1.seq, 15_000, 'bob passes the seq');
    expect(bCh.state?.messages.some((m) => m.id === m1.id)).toBe(false);
    await bob.moderation.unmute('alice');
  });

  it('answers bad mutes with clear 4xx and keeps mutes per user and app', async () => {
    expect((await rest('POST', '/v1/moderation/mutes', 'bob', { user_id: 'bob' })).status).toBe(400);
    expect((await rest('POST', '/v1/moderation/mutes', 'bob', { user_id: 'nobody' })).status).toBe(404);
    // Another app's user is not found here.
    expect((await rest('POST', '/v1/moderation/mutes', 'bob', { user_id: 'mallory' })).status).toBe(404);
    expect((await rest('POST', '/v1/moderation/mutes', 'bob', {})).status).toBe(400);
    expect((await rest('DELETE', '/v1/moderation/mutes/carol', 'bob')).status).toBe(404);
    expect((await rest('POST', '/v1/moderation/mutes', null, { user_id: 'carol' })).status).toBe(403);
    expect((await rest('GET', '/v1/moderation/mutes', null)).status).toBe(403);
    expect((await rest('POST', '/v1/moderation/mutes', 'alice', { user_id: 'carol' })).status).toBe(200);
    // Alice's mute is hers: bob's list is empty, and other-app callers see nothing of it.
    expect((await rest('GET', '/v1/moderation/mutes', 'bob')).body.mutes).toEqual([]);
    const otherList = await h.call({
      method: 'GET',
      url: '/v1/moderation/mutes',
      headers: await other.user('mallory'),
    });
    expect(otherList.body.mutes).toEqual([]);
    expect((await rest('DELETE', '/v1/moderation/mutes/carol', 'alice')).status).toBe(200);
  });
});
