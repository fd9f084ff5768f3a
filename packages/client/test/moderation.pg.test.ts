/**
 * Mutes and shadow bans through the SDK against a real server.
 *
 * Mutes: a muted author's messages leave the muter's history, replies, search and unread
 * counts; their live messages do not reach the muter's state or listeners, and the channel's
 * seq still advances (no gap, no stall); unmuting brings everything back. Errors: self,
 * unknown user, another app's user, server token.
 *
 * Shadow bans: the author sees their messages as always; another member sees them neither
 * live nor in history, replies, resync (`GET …/events`, `channel.watch {since}` after a
 * dropped socket) nor search, nor by its id (fetch, react, edit, pin, reply: NOT_FOUND), gets no mention notice and no unread count, and their SDK's seq
 * moves past them without stalling; a moderator sees them; the ban is audited.
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
    { id: 'sam', username: 'sam', name: 'Sam' },
    { id: 'olga', username: 'olga', name: 'Olga' },
    { id: 'mod', username: 'mod', name: 'Mod', role: 'moderator' },
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

describe('shadow bans', () => {
  it('shows a shadow-banned user’s new messages only to them and moderators, with no stall on the seq', async () => {
    const alice = await makeClient(h, app, 'alice');
    const sam = await makeClient(h, app, 'sam');
    const olga = await makeClient(h, app, 'olga');
    const mod = await makeClient(h, app, 'mod');
    clients.push(alice, sam, olga, mod);
    const cid = 'group:shadow';
    await alice.channel('group', 'shadow').createChannel({ members: ['sam', 'olga', 'mod'] });
    const [aCh, sCh, oCh, mCh] = [alice, sam, olga, mod].map((c) => c.channel('group', 'shadow'));
    for (const ch of [aCh, sCh, oCh, mCh]) await ch?.watch();
    const before = await sCh!.sendMessage({ text: 'sam before the ban' });
    await until(() => oCh?.state?.messages.some((m) => m.id === before.id), 15_000, 'olga sees sam before');

    // Channel moderators may not shadow-ban; app moderators may. Sam is not told.
    expect((await rest('POST', '/v1/moderation/bans', 'alice', { user_id: 'sam', shadow: true })).status).toBe(403);
    const samHeard: string[] = [];
    sam.on('*', (e) => samHeard.push(e.type));
    const ban = await mod.moderation.ban({ user_id: 'sam', shadow: true, reason: 'spam' });
    expect(ban).toMatchObject({ user_id: 'sam', cid: null, shadow: true });
    expect((await mod.moderation.queryBans()).map((b) => [b.user_id, b.shadow])).toEqual([['sam', true]]);
    const audit = await rest('GET', '/v1/audit?action=moderation.shadow_ban', null);
    expect(audit.status).toBe(200);
    expect(audit.body.entries.map((e: { target: { id: string } }) => e.target.id)).toEqual(['sam']);

    const olgaNotices: unknown[] = [];
    olga.on('notification.new', (e) => olgaNotices.push(e));
    const readTo = oCh?.state?.lastSeq ?? 0;
    await rest('POST', `/v1/channels/${cid}/read`, 'olga', { seq: readTo });

    const shadowed = await sCh!.sendMessage({ text: 'shadowzebra hey @olga' });
    const reply = await sCh!.sendMessage({ text: 'shadowzebra in a thread', parent_id: before.id });
    const after = await aCh!.sendMessage({ text: 'alice after the shadow' });
    // Sam sees no difference; the moderator sees it; olga moves past its seq without it.
    await until(() => sCh?.state?.messages.some((m) => m.id === shadowed.id), 15_000, 'sam sees his message');
    await until(() => mCh?.state?.messages.some((m) => m.id === shadowed.id), 15_000, 'the moderator sees it');
    await until(() => (oCh?.state?.lastSeq ?? 0) >= after.seq, 15_000, 'olga is not stuck on the seq');
    const olgaIds = () => (oCh?.state?.messages ?? []).map((m) => m.id);
    expect(olgaIds()).toContain(after.id);
    expect(olgaIds()).not.toContain(shadowed.id);
    expect(oCh?.state?.unreadCount).toBe(1);
    expect(samHeard).not.toContain('user.banned');
    expect((await sam.search('shadowzebra')).results).toHaveLength(2);

    // History, replies, search, unread counts, the event log.
    expect((await serverHistory(h, app, cid, 'olga')).map((m) => m.id)).not.toContain(shadowed.id);
    expect((await serverHistory(h, app, cid, 'sam')).map((m) => m.id)).toContain(shadowed.id);
    expect((await serverHistory(h, app, cid, 'mod')).map((m) => m.id)).toContain(shadowed.id);
    expect((await rest('GET', `/v1/messages/${before.id}/replies`, 'olga')).body.messages).toEqual([]);
    expect(
      (await rest('GET', `/v1/messages/${before.id}/replies`, 'sam')).body.messages.map((m: { id: string }) => m.id),
    ).toEqual([reply.id]);
    expect((await olga.search('shadowzebra')).results).toEqual([]);
    expect((await mod.search('shadowzebra')).results).toHaveLength(2);
    expect((await serverChannel(h, app, cid, 'olga')).unread_count).toBe(1);
    expect((await serverChannel(h, app, cid, 'olga')).last_message?.id).toBe(after.id);
    expect((await rest('GET', '/v1/me', 'olga')).body.unread.total).toBe(1);
    const olgaLog = await rest('GET', `/v1/channels/${cid}/events?after=${readTo}`, 'olga');
    expect(olgaLog.body.events.map((e: { seq: number }) => e.seq)).toEqual([after.seq]);
    expect(olgaLog.body.read_to).toBeGreaterThanOrEqual(after.seq);
    const modLog = await rest('GET', `/v1/channels/${cid}/events?after=${readTo}`, 'mod');
    expect(modLog.body.events.map((e: { seq: number }) => e.seq)).toEqual([shadowed.seq, reply.seq, after.seq]);
    // A page of only hidden events still moves on (read_to), so a client never loops on it.
    const hiddenPage = await rest('GET', `/v1/channels/${cid}/events?after=${readTo}&limit=1`, 'olga');
    expect(hiddenPage.body).toMatchObject({ events: [], has_more: true, read_to: shadowed.seq });
    expect(olgaNotices).toEqual([]);

    // By its id too, olga finds nothing: fetch, thread, react, edit, pin (NOT_FOUND), and a
    // reply to it is refused as a reply to no message; sam and the moderator act on it as usual.
    expect((await rest('GET', `/v1/messages/${shadowed.id}`, 'olga')).status).toBe(404);
    await expect(oCh!.getReplies(shadowed.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(oCh!.sendReaction(shadowed.id, 'like')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(oCh!.updateMessage(shadowed.id, 'olga edits')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(oCh!.pin(shadowed.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(oCh!.sendMessage({ text: 'olga replies', parent_id: shadowed.id })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    expect((await rest('GET', `/v1/messages/${shadowed.id}`, 'sam')).body.message.id).toBe(shadowed.id);
    expect((await sCh!.pin(shadowed.id)).pinned).toBe(true);
    expect((await mCh!.sendReaction(shadowed.id, 'like')).reactions).toMatchObject({ like: 1 });
    expect((await sCh!.getPinned()).map((m) => m.id)).toEqual([shadowed.id]);
    expect(await oCh!.getPinned()).toEqual([]);

    // Resync: olga's socket drops while sam posts again; she catches up without his message.
    olga.dropConnection();
    const hidden2 = await sCh!.sendMessage({ text: 'shadowzebra while olga is away' });
    const after2 = await aCh!.sendMessage({ text: 'alice while olga is away' });
    await until(() => olga.state.get().connection === 'online', 15_000, 'olga reconnects');
    await until(() => (oCh?.state?.lastSeq ?? 0) >= after2.seq, 15_000, 'olga resyncs past the hidden seq');
    expect(olgaIds()).toContain(after2.id);
    expect(olgaIds()).not.toContain(hidden2.id);

    // Lifting the ban: new messages are seen by all again (the shadowed ones stay hidden).
    await mod.moderation.unban('sam');
    const visible = await sCh!.sendMessage({ text: 'sam after the unban' });
    await until(() => olgaIds().includes(visible.id), 15_000, 'olga sees sam again');
    expect(olgaIds()).not.toContain(shadowed.id);
  });
});
