/**
 * Workspace guests, through the public API: a guest invite names channels and an expiry; the
 * guest sees only those channels (not the browser's others, not the member directory, user
 * search only people who share a channel), creates no channels and DMs only those people;
 * past the expiry (an injected clock, moved by the test) sends answer GUEST_LOCKED while reads
 * work, and an open socket is told (`guest.updated`); admins extend (posting works again) or
 * remove the guest. The refusals: bad channels, a past expiry, members making guests, members
 * extending, extending a non-guest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceGuestLocks } from '../../src/features/accounts/guests.js';
import { eventually, type Harness, startHarness, TestSocket } from '../harness.js';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from './helpers.js';

const DAY = 24 * 3600_000;
let now = Date.parse('2026-11-20T10:00:00Z');
const clock = () => now;

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness({}, { clock });
  url = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

type Session = { api_key: string; token: string; user_id: string };

const chat = (s: Session, method: 'GET' | 'POST' | 'PATCH', path: string, payload?: object) =>
  h.call({ method, url: path, headers: chatHeaders(s), ...(payload ? { payload } : {}) });

/** A workspace with an owner, a member, channels #general (the guest's), #secret (public) and a group. */
async function world() {
  const owner = await buildAccount(h, 'Olive');
  const member = await buildAccount(h, 'Mia');
  const ws = await buildWorkspace(owner, 'Guesthouse');
  await join(owner, ws.id, member);
  const os: Session = ok(await owner.session(ws.id));
  const ms: Session = ok(await member.session(ws.id));
  const mk = async (type: string, id: string, members: string[]) =>
    ok(await chat(os, 'POST', '/v1/channels', { type, id, name: id, members })).channel.cid as string;
  const general = await mk('public', `general`, [ms.user_id]);
  const secret = await mk('public', `secret`, [ms.user_id]);
  const group = await mk('group', `inner`, [ms.user_id]);
  return { owner, member, ws, os, ms, general, secret, group };
}

async function inviteGuest(
  by: Browser,
  wsId: string,
  channels: string[],
  expiresAt: number,
): Promise<{ guest: Browser; gs: Session }> {
  const inv = ok(await by.invite(wsId, { guest: { channels, expires_at: new Date(expiresAt).toISOString() } }));
  const guest = await buildAccount(h, 'Gus');
  const joined = ok(await guest.accept(inv.token)).workspace;
  expect(joined).toMatchObject({ role: 'guest', guest_expires_at: new Date(expiresAt).toISOString() });
  const gs: Session = ok(await guest.session(wsId));
  return { guest, gs };
}

describe('a guest', () => {
  it('sees only the channels it was invited to, never the directory, and DMs only channel mates', async () => {
    const { owner, ws, os, ms, general, secret, group } = await world();
    const { guest, gs } = await inviteGuest(owner, ws.id, [general], now + 7 * DAY);

    // Its channels: only #general, whether listed as its own or browsed as public ones.
    const mine = ok(await chat(gs, 'POST', '/v1/channels/query', { filter: {} })).channels;
    expect(mine.map((c: any) => c.cid)).toEqual([general]);
    const browse = ok(await chat(gs, 'POST', '/v1/channels/query', { filter: { type: 'public' } })).channels;
    expect(browse.map((c: any) => c.cid)).toEqual([general]);
    // A member browsing sees both public channels, as before.
    const memberBrowse = ok(await chat(ms, 'POST', '/v1/channels/query', { filter: { type: 'public' } })).channels;
    expect(memberBrowse.map((c: any) => c.cid).sort()).toEqual([general, secret].sort());
    // Other channels are NOT_FOUND to it: read, history, join.
    expectError(await chat(gs, 'GET', `/v1/channels/${secret}`), 'NOT_FOUND');
    expectError(await chat(gs, 'GET', `/v1/channels/${secret}/messages`), 'NOT_FOUND');
    expectError(await chat(gs, 'GET', `/v1/channels/${group}`), 'NOT_FOUND');
    expectError(await chat(gs, 'POST', `/v1/channels/${secret}/members`, { add: [gs.user_id] }), 'NOT_FOUND');
    // It reads and posts in its channel.
    ok(await chat(gs, 'POST', `/v1/channels/${general}/messages`, { text: 'hello from a guest' }));
    expect(ok(await chat(gs, 'GET', `/v1/channels/${general}`)).members.length).toBe(3);

    // No member directory; user search shows only people who share a channel.
    expectError(await guest.members(ws.id), 'FORBIDDEN');
    const found = ok(await chat(gs, 'GET', '/v1/users')).users.map((u: any) => u.id);
    expect(found.sort()).toEqual([gs.user_id, ms.user_id, os.user_id].sort());

    // A loner who shares no channel with the guest is invisible and cannot be DMed.
    const loner = await buildAccount(h, 'Lone');
    await join(owner, ws.id, loner);
    const ls: Session = ok(await loner.session(ws.id));
    expect(ok(await chat(gs, 'GET', '/v1/users?q=lone')).users).toEqual([]);
    expect(ok(await chat(ms, 'GET', '/v1/users?q=lone')).users.map((u: any) => u.id)).toEqual([ls.user_id]);
    expectError(await chat(gs, 'POST', '/v1/channels', { type: 'dm', members: [ls.user_id] }), 'FORBIDDEN');
    expectError(await chat(gs, 'GET', `/v1/users/${ls.user_id}`), 'NOT_FOUND');
    ok(await chat(gs, 'GET', `/v1/users/${ms.user_id}`));
    // Nor follow the loner's presence: it reads as offline (online in fact) and is not followed.
    const online = async (sess: Session) => {
      const sock = await TestSocket.open(url, sess.api_key);
      sock.sendRaw(JSON.stringify({ type: 'auth', token: sess.token }));
      await sock.waitFor((f) => f.type === 'hello');
      return sock;
    };
    const [gSock, lSock, mSock] = [await online(gs), await online(ls), await online(ms)];
    try {
      const ids = [ls.user_id, ms.user_id];
      const seenByGuest = await gSock.request('presence.subscribe', { user_ids: ids });
      expect(seenByGuest).toMatchObject({ ok: true, presence: { [ls.user_id]: 'offline', [ms.user_id]: 'online' } });
      const seenByMember = await mSock.request('presence.subscribe', { user_ids: [ls.user_id] });
      expect(seenByMember).toMatchObject({ ok: true, presence: { [ls.user_id]: 'online' } });
    } finally {
      for (const sock of [gSock, lSock, mSock]) sock.close();
    }
    // Nor can it bring people into its channel.
    expectError(await chat(gs, 'POST', `/v1/channels/${general}/members`, { add: [ls.user_id] }), 'FORBIDDEN');
    // Message search covers only its channels.
    ok(await chat(ms, 'POST', `/v1/channels/${secret}/messages`, { text: 'classified plans' }));
    ok(await chat(ms, 'POST', `/v1/channels/${general}/messages`, { text: 'classified lunch menu' }));
    const search = async (s: Session) =>
      ok(await chat(s, 'GET', '/v1/search/messages?q=classified')).results.map((r: any) => r.message.text);
    await eventually(async () => (await search(ms)).length === 2);
    expect(await search(gs)).toEqual(['classified lunch menu']);
    // A DM with a channel mate works; creating channels does not.
    ok(await chat(gs, 'POST', '/v1/channels', { type: 'dm', members: [ms.user_id] }));
    expectError(await chat(gs, 'POST', '/v1/channels', { type: 'public', id: 'mine', members: [] }), 'FORBIDDEN');
    expectError(
      await chat(gs, 'POST', '/v1/channels', { type: 'group', id: 'g2', members: [ms.user_id] }),
      'FORBIDDEN',
    );
    // The guest listed to admins, with its expiry.
    const row = ok(await owner.members(ws.id)).members.find((m: any) => m.account_id === guest.account.id);
    expect(row).toMatchObject({ role: 'guest', guest_expires_at: new Date(now + 7 * DAY).toISOString() });
  });

  it('is locked out of posting when its time passes, is told on its socket, and admins extend or remove it', async () => {
    const { owner, member, ws, general } = await world();
    const until = now + 2 * DAY;
    const { guest, gs } = await inviteGuest(owner, ws.id, [general], until);
    ok(await chat(gs, 'POST', `/v1/channels/${general}/messages`, { text: 'before' }));

    const sock = await TestSocket.open(url, gs.api_key);
    try {
      sock.sendRaw(JSON.stringify({ type: 'auth', token: gs.token }));
      await sock.waitFor((f) => f.type === 'hello');

      now = until + 1;
      expect(await announceGuestLocks(h.server.svc)).toBeGreaterThanOrEqual(1);
      const told = await sock.waitFor((f) => f.type === 'guest.updated');
      expect(told).toMatchObject({
        user_id: gs.user_id,
        locked: true,
        guest_expires_at: new Date(until).toISOString(),
      });
      // Told once: a second sweep finds nothing more to tell.
      expect(await announceGuestLocks(h.server.svc)).toBe(0);

      // Sends are refused (REST, the batched path, and a thread reply's one-send path), over the socket too.
      const refused = await chat(gs, 'POST', `/v1/channels/${general}/messages`, { text: 'after' });
      expectError(refused, 'GUEST_LOCKED');
      expect(refused.body.error.details).toEqual({ guest_expires_at: new Date(until).toISOString() });
      const first = ok(await chat(gs, 'GET', `/v1/channels/${general}/messages`)).messages[0];
      expectError(
        await chat(gs, 'POST', `/v1/channels/${general}/messages`, { text: 'reply', parent_id: first.id }),
        'GUEST_LOCKED',
      );
      expectError(await chat(gs, 'PATCH', `/v1/messages/${first.id}`, { text: 'edited' }), 'GUEST_LOCKED');
      // Nor react (reading is all that is left).
      expectError(await chat(gs, 'POST', `/v1/messages/${first.id}/reactions`, { type: 'like' }), 'GUEST_LOCKED');
      const reply = await sock.request('message.send', { cid: general, message: { text: 'socket' } });
      expect(reply).toMatchObject({ ok: false, error: { code: 'GUEST_LOCKED' } });
      // Reading still works.
      expect(ok(await chat(gs, 'GET', `/v1/channels/${general}/messages`)).messages.map((m: any) => m.text)).toContain(
        'before',
      );

      // A member cannot extend; an admin can, and the guest is told and posts again.
      expectError(
        await member.patch(`/v1/workspaces/${ws.id}/guests/${guest.account.id}`, {
          expires_at: new Date(now + DAY).toISOString(),
        }),
        'FORBIDDEN',
      );
      const extended = ok(
        await owner.patch(`/v1/workspaces/${ws.id}/guests/${guest.account.id}`, {
          expires_at: new Date(now + DAY).toISOString(),
        }),
      ).member;
      expect(extended).toMatchObject({ role: 'guest', guest_expires_at: new Date(now + DAY).toISOString() });
      expect(await sock.waitFor((f) => f.type === 'guest.updated' && f.locked === false)).toMatchObject({
        user_id: gs.user_id,
      });
      ok(await chat(gs, 'POST', `/v1/channels/${general}/messages`, { text: 'back again' }));
      // Not a guest: NOT_FOUND.
      expectError(
        await owner.patch(`/v1/workspaces/${ws.id}/guests/${member.account.id}`, {
          expires_at: new Date(now + DAY).toISOString(),
        }),
        'NOT_FOUND',
      );

      // Removing the guest ends its socket.
      ok(await owner.del(`/v1/workspaces/${ws.id}/members/${guest.account.id}`));
      expect((await sock.waitClose()).code).toBe(4001);
      expectError(await guest.session(ws.id), 'NOT_FOUND');
    } finally {
      sock.close();
    }
  });

  it('refuses bad guest invites and making members guests', async () => {
    const { owner, member, ws, general } = await world();
    const later = new Date(now + DAY).toISOString();
    expectError(await owner.invite(ws.id, { guest: { channels: ['public:nope'], expires_at: later } }), 'NOT_FOUND');
    expectError(
      await owner.invite(ws.id, { guest: { channels: [general], expires_at: new Date(now - 1).toISOString() } }),
      'VALIDATION_ERROR',
    );
    expectError(await owner.invite(ws.id, { guest: { channels: [], expires_at: later } }), 'VALIDATION_ERROR');
    expectError(await owner.invite(ws.id, { guest: { channels: [general], expires_at: 'soon' } }), 'VALIDATION_ERROR');
    expectError(await member.invite(ws.id, { guest: { channels: [general], expires_at: later } }), 'FORBIDDEN');
    expectError(await owner.setRole(ws.id, member.account.id, 'guest'), 'VALIDATION_ERROR');
    // Another workspace's channel is not found in this one.
    const other = await buildWorkspace(owner, 'Other');
    expectError(await owner.invite(other.id, { guest: { channels: [general], expires_at: later } }), 'NOT_FOUND');
    // Nothing was written: the member list is as it was.
    expect(
      ok(await owner.members(ws.id))
        .members.map((m: any) => m.role)
        .sort(),
    ).toEqual(['member', 'owner']);
  });
});
