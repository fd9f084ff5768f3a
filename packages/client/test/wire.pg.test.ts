/**
 * The wire at both ends: every frame a real server sends the SDK — hello, replies and each
 * event type — parses with the protocol's `parseServerFrame` and passes the full schema check
 * (`checkServerFrame`). The server builds its events with the protocol's types; this proves the
 * bytes agree with them too.
 */
import { checkServerFrame, EVENT_TYPES, ProtocolError, parseServerFrame } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { workspaceEvent } from '../../server/src/features/accounts/branding.js';
import { guestEvent } from '../../server/src/features/accounts/guests.js';
import type { SocketFactory } from '../src/connection.js';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];
/** Every text frame any client of this file received, in order. */
const frames: string[] = [];

class RecordingSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    this.on('message', (data, isBinary) => {
      if (!isBinary) frames.push(String(data));
    });
  }
}
const connect = (userId: string) =>
  makeClient(h, app, userId, { WebSocket: RecordingSocket as unknown as SocketFactory }).then((c) => {
    clients.push(c);
    return c;
  });

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice' },
    { id: 'bob', username: 'bob', name: 'Bob' },
    { id: 'carol', username: 'carol', name: 'Carol' },
    { id: 'mod', username: 'mod', name: 'Mod', role: 'moderator' },
    { id: 'boss', username: 'boss', name: 'Boss', role: 'admin' },
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('the frames a server sends', () => {
  it('all parse, and all fit their full schema, across every event type', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    const ch = alice.channel('group', 'wire');
    await ch.createChannel({ members: ['bob'], name: 'Wire' });
    await ch.watch();
    const bobCh = bob.channel('group', 'wire');
    await bobCh.watch();
    // Protocol 2: alice hears bob's presence because she follows it.
    alice.watchPresence(['bob']);

    const m = await ch.sendMessage({ text: 'hello @bob' });
    await ch.sendMessage({ text: 'in a thread', parent_id: m.id });
    await ch.updateMessage(m.id, 'hello again @bob');
    await bobCh.sendReaction(m.id, 'like');
    await bobCh.deleteReaction(m.id, 'like');
    bobCh.keystroke();
    // Requests are handled concurrently: a stop sent before the start is handled stops nothing.
    await until(() => Object.keys(ch.state?.typing ?? {}).length > 0, 5000, 'alice sees bob typing');
    bobCh.stopTyping();
    await until(() => Object.keys(ch.state?.typing ?? {}).length === 0, 5000, 'and stop');
    await bobCh.markRead();
    await ch.update({ topic: 'the wire' });
    await alice.http.call('PATCH', '/v1/channels/group:wire/members/bob', { role: 'moderator' });
    await ch.addMembers(['carol']);
    await ch.removeMembers(['carol']);
    await bob.setPresence('away');
    // A profile change reaches whoever shares a channel (user.updated).
    await alice.http.call('PATCH', '/v1/me', { title: 'Wire tester' });
    await until(() => frames.some((f) => f.includes('"user.updated"')), 5000, 'the profile change');
    await ch.deleteMessage(m.id);
    await until(
      () => alice.state.get().channels['group:wire']?.messages.find((x) => x.id === m.id)?.type === 'deleted',
      5000,
      'the delete reaches alice',
    );
    await until(() => frames.some((f) => f.includes('"presence.changed"') && f.includes('"away"')), 5000, 'presence');
    await until(() => frames.some((f) => f.includes('"channel.removed"')), 5000, 'carol is told she left');
    // A workspace guest's lock, as the guest sweep and the admins' extension publish it (the
    // workspace around it is the accounts tests' business): the event, built by the server.
    h.server.svc.bus.publish([
      { to: 'user', appId: app.id, userId: 'bob', event: guestEvent('bob', new Date(Date.now() - 1000), Date.now()) },
    ]);
    await until(() => frames.some((f) => f.includes('"guest.updated"')), 5000, 'the guest event');
    // A workspace's new look (workspace.updated, app-wide; the same builder as the logo routes').
    h.server.svc.bus.publish([
      {
        to: 'app',
        appId: app.id,
        event: workspaceEvent(app.id, { name: 'Wire', slug: 'wire', logo: null }, Date.now()),
      },
    ]);
    await until(() => frames.some((f) => f.includes('"workspace.updated"')), 5000, 'the workspace event');
    // A feature flag's change (feature_flags.updated, app-wide), through the admin API.
    await h.call({ method: 'PUT', url: '/v1/feature-flags/wire', headers: await app.server(), payload: {} });
    await until(() => frames.some((f) => f.includes('"feature_flags.updated"')), 5000, 'the flag event');
    // The app's assistant set (assistant.updated, app-wide), through the admin API: a host that
    // does not resolve passes the outbound check, and nothing calls it.
    const assistant = { url: 'https://model.invalid/v1', model: 'm' };
    await h.call({ method: 'PUT', url: '/v1/assistant', headers: await app.server(), payload: assistant });
    await until(() => frames.some((f) => f.includes('"assistant.updated"')), 5000, 'the assistant event');
    // Moderation: a report reaches the moderators (flag.new), its review the reporter
    // (flag.reviewed); a channel ban reaches the banned user and the moderators (user.banned).
    const mod = await connect('mod');
    const reported = await ch.sendMessage({ text: 'report me' });
    const flag = await bob.moderation.flagMessage(reported.id, 'rude');
    await until(() => frames.some((f) => f.includes('"flag.new"')), 5000, 'the moderators hear of the flag');
    await mod.moderation.reviewFlag(flag.id, { action: 'dismiss' });
    await until(() => frames.some((f) => f.includes('"flag.reviewed"')), 5000, 'the reporter hears the outcome');
    // The moderators' transparency report has counted both.
    const report = await mod.moderation.report({ period: 'week' });
    expect(report.periods).toHaveLength(12);
    expect(report.totals).toMatchObject({ reports: 1, reviewed_dismissed: 1 });
    await mod.moderation.ban({ user_id: 'carol', cid: 'group:wire', reason: 'test' });
    await until(() => frames.some((f) => f.includes('"user.banned"')), 5000, 'the ban is announced');
    // Bob's own data export: made by a job, announced to his connections.
    const asked = await bob.requestDataExport();
    expect(asked.status).toBe('pending');
    await until(() => frames.some((f) => f.includes('"export.ready"')), 30_000, 'the export is made');
    expect(carol.state.get().channels['group:wire']?.channel.membership ?? null).toBeNull();
    // A call: the ring, its updates, and one relayed signal (no media in Node: the requests themselves).
    const { call } = await alice.request('call.start', { cid: 'group:wire', kind: 'audio' });
    await until(() => frames.some((f) => f.includes('"call.ring"')), 5000, 'the ring');
    await bob.request('call.accept', { call_id: call.id });
    await alice.request('call.signal', { call_id: call.id, to_user_id: 'bob', signal: { type: 'offer', sdp: 'v=0' } });
    await until(() => frames.some((f) => f.includes('"call.signal"')), 5000, 'the signal');
    await alice.request('call.leave', { call_id: call.id });
    await until(() => frames.some((f) => f.includes('"call.updated"') && f.includes('"ended"')), 5000, 'the end');
    // The office: an admin lays out a space, alice watches the office, enters it and invites
    // bob over (space.updated to the watchers, space.invitation to bob).
    const boss = await connect('boss');
    const lounge = await boss.spaces.create({ name: 'Lounge', kind: 'lounge' });
    await alice.spaces.watch();
    await alice.spaces.enter(lounge.id);
    await until(() => frames.some((f) => f.includes('"space.updated"')), 5000, 'the move is announced');
    await alice.spaces.teleport(lounge.id, 'bob');
    await until(() => frames.some((f) => f.includes('"space.invitation"')), 5000, 'bob is invited over');
    // Notes: a channel note (note.*, to the channel) and a personal one (personal_note.*, to my devices).
    const shared = await alice.notes.create({ cid: 'group:wire', title: 'Wire note', text: 'a' });
    await alice.notes.remove(shared.id);
    const own = await alice.notes.create({ title: 'Mine', text: 'b' });
    await alice.notes.remove(own.id);
    for (const t of ['note.updated', 'note.deleted', 'personal_note.updated', 'personal_note.deleted'])
      await until(() => frames.some((f) => f.includes(`"${t}"`)), 5000, `${t} arrives`);
    // A poll and a vote (poll.updated to the channel); a custom emoji (emoji.updated, app-wide).
    const poll = await ch.sendMessage({ text: 'Tea or coffee?', poll: { options: ['Tea', 'Coffee'] } });
    await until(() => !!alice.findLocal('group:wire', poll.id)?.poll, 5000, 'the poll is stored');
    await bobCh.votePoll(poll.id, ['1']);
    await until(() => frames.some((f) => f.includes('"poll.updated"')), 5000, 'the vote is announced');
    const png = Uint8Array.from(
      Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
        'base64',
      ),
    );
    await boss.emoji.add(new Blob([png], { type: 'image/png' }), 'wire_dot', [], 'dot.png');
    await until(() => frames.some((f) => f.includes('"emoji.updated"')), 5000, 'the emoji is announced');
    // User groups (user_group.updated to the app's users) and the inbox (inbox.updated: bob was
    // mentioned above, and is again by his group).
    await boss.groups.create({ handle: 'wire-team', name: 'Wire team', members: ['alice', 'bob'] });
    await until(() => frames.some((f) => f.includes('"user_group.updated"')), 5000, 'the group is announced');
    await ch.sendMessage({ text: 'hello @wire-team' });
    await until(() => frames.some((f) => f.includes('"inbox.updated"')), 5000, 'bob hears of his inbox');
    // Bob's own sidebar and saved items (sidebar.updated, saved.updated to his connections).
    await bob.sidebar.star('group:wire');
    const keep = await ch.sendMessage({ text: 'save me' });
    await bob.saved.save(keep.id, { in: '1h' });
    await until(() => frames.some((f) => f.includes('"sidebar.updated"')), 5000, 'the sidebar change');
    await until(() => frames.some((f) => f.includes('"saved.updated"')), 5000, 'the saved item');
    // A bookmark in the channel's bar (bookmarks.updated to its subscribers).
    await alice.bookmarks.add('group:wire', { url: 'https://example.com/wire', title: 'Wire docs' });
    await until(() => frames.some((f) => f.includes('"bookmarks.updated"')), 5000, 'the bookmark');
    // A slash command's answer only alice sees, then dismissed (ephemeral.new, ephemeral.deleted).
    const note = await alice.commands.run('group:wire', '/remind 1h check the wire');
    await until(() => frames.some((f) => f.includes('"ephemeral.new"')), 5000, 'the ephemeral note');
    await alice.commands.dismiss(note.ephemeral!);
    await until(() => frames.some((f) => f.includes('"ephemeral.deleted"')), 5000, 'the note dismissed');
    // Alice views the channel (viewers.changed to its subscribers).
    ch.setViewing(true);
    await until(() => frames.some((f) => f.includes('"viewers.changed"')), 5000, 'the viewers');
    // A task from a message: made, done, deleted (task.created, task.updated, task.deleted).
    const task = await alice.tasks.create(keep.id, 'bob');
    await bob.tasks.complete(task.id);
    await alice.tasks.remove(task.id);
    await until(() => frames.some((f) => f.includes('"task.deleted"')), 5000, 'the task events');

    const seen = new Set<string>();
    const bad: string[] = [];
    for (const text of frames) {
      const parsed = parseServerFrame(text);
      const checked = parsed instanceof ProtocolError ? parsed : checkServerFrame(parsed);
      if (checked instanceof ProtocolError) bad.push(`${checked.message}: ${text.slice(0, 200)}`);
      else seen.add(checked.type);
    }
    expect(bad).toEqual([]);
    expect(EVENT_TYPES.filter((t) => !seen.has(t))).toEqual([]);
    expect(seen.has('hello') && seen.has('reply')).toBe(true);
  });
});
