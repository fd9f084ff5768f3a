/**
 * Hidden read receipts (`/v1/me/privacy`): a user who hides them is in no read-by list, others
 * get no `read.updated` about them and see their mark as 0 in every member list — while their
 * own marks, counts and devices work exactly; showing them again announces the real marks; only
 * the user changes their own setting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let url: string;
const sockets: TestSocket[] = [];

type Method = 'GET' | 'POST' | 'PATCH';
async function rest(user: string | null, method: Method, url: string, payload?: unknown, a = app) {
  return h.call({
    method,
    url,
    headers: user ? await a.user(user) : await a.server(),
    ...(payload ? { payload } : {}),
  });
}
async function send(user: string, cid: string, text: string) {
  const r = await rest(user, 'POST', `/v1/channels/${cid}/messages`, { text });
  expect(r.status).toBe(200);
  return r.body.message;
}
async function channel(type: 'group' | 'dm', id: string | undefined, members: string[]) {
  const r = await rest(members[0]!, 'POST', '/v1/channels', { type, ...(id ? { id } : {}), members });
  expect(r.status).toBe(200);
  return r.body.channel.cid as string;
}
async function socket(user: string) {
  const s = await TestSocket.connect(url, app, user);
  sockets.push(s);
  return s;
}
const privacy = (user: string, body?: unknown) =>
  body === undefined ? rest(user, 'GET', '/v1/me/privacy') : rest(user, 'PATCH', '/v1/me/privacy', body);
const readers = async (viewer: string | null, id: string) =>
  (await rest(viewer, 'GET', `/v1/messages/${id}/read-by`)).body.read_by.map((e: any) => e.user_id);
const memberOf = async (viewer: string, cid: string, user: string) =>
  (await rest(viewer, 'GET', `/v1/channels/${cid}`)).body.members.find((m: any) => m.user_id === user);
/** Bob's read.updated frames a socket got in `cid`. */
const bobsReads = (s: TestSocket, cid: string) =>
  s.events('read.updated').filter((f) => f.cid === cid && f.user.id === 'bob');

beforeAll(async () => {
  h = await startHarness();
  url = await h.listen();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(
    app,
    ['ada', 'bob', 'cy'].map((id) => ({ id, name: id[0]!.toUpperCase() + id.slice(1) })),
  );
  await h.users(other, [{ id: 'bob', name: 'Other Bob' }]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await h.close();
});

describe('hidden read receipts', () => {
  it('keep a hidden reader out of read-by, read.updated and member lists, and their own state exact', async () => {
    const cid = await channel('group', 'hid', ['ada', 'bob', 'cy']);
    const m = await send('ada', cid, 'lunch?');
    const ada = await socket('ada');
    const bob = await socket('bob');
    expect((await privacy('bob')).body).toEqual({ privacy: { hide_read_receipts: false } });

    const on = await privacy('bob', { hide_read_receipts: true });
    expect(on.status).toBe(200);
    expect(on.body).toEqual({ privacy: { hide_read_receipts: true } });
    expect((await privacy('bob')).body.privacy.hide_read_receipts).toBe(true);
    // Ada's client is told Bob's mark is now 0, with a revision larger than any she held.
    const hiddenEv = await ada.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob');
    expect(hiddenEv.seq).toBe(0);
    const before = await memberOf('bob', cid, 'bob');
    expect(hiddenEv.read_rev).toBeGreaterThan(before.read_rev);

    // Bob reads: his answer, counts and his own socket have the real mark.
    const read = await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    expect(read.body).toMatchObject({ last_read_seq: m.seq, unread_count: 0 });
    const own = await bob.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob');
    expect(own).toMatchObject({ seq: m.seq, read_rev: read.body.read_rev });
    expect((await rest('bob', 'GET', '/v1/me')).body.unread.total).toBe(0);
    const mine = (await rest('bob', 'POST', '/v1/channels/query', { filter: { cid } })).body.channels[0];
    expect(mine).toMatchObject({ unread_count: 0, membership: { last_read_seq: m.seq } });
    expect(await memberOf('bob', cid, 'bob')).toMatchObject({ last_read_seq: m.seq, read_rev: read.body.read_rev });

    // Cy reads after him: Ada hears Cy's read, never Bob's (same channel topic, published after).
    await rest('cy', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    await ada.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'cy');
    expect(bobsReads(ada, cid).map((f) => f.seq)).toEqual([0]);

    // Read-by: Cy only, for every asker (the server token and Bob himself too): seen by 1 of 2.
    expect(await readers('ada', m.id)).toEqual(['cy']);
    expect(await readers('cy', m.id)).toEqual(['cy']);
    expect(await readers(null, m.id)).toEqual(['cy']);
    expect(await readers('bob', m.id)).toEqual(['cy']);

    // Member lists show others his mark as 0, with the hidden revision, REST and socket alike.
    expect(await memberOf('ada', cid, 'bob')).toMatchObject({
      last_read_seq: 0,
      last_read_at: null,
      read_rev: hiddenEv.read_rev,
    });
    const page = await ada.request('channel.members', { cid });
    expect(page.members.find((x: any) => x.user_id === 'bob')).toMatchObject({ last_read_seq: 0, last_read_at: null });
    const server = (await rest(null, 'GET', `/v1/channels/${cid}`)).body.members.find((x: any) => x.user_id === 'bob');
    expect(server.last_read_seq).toBe(0);

    // A second read moves nothing others can see, not even the revision.
    const m2 = await send('ada', cid, 'now?');
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m2.seq });
    expect((await memberOf('ada', cid, 'bob')).read_rev).toBe(hiddenEv.read_rev);
    expect(await readers('ada', m2.id)).toEqual([]);
  });

  it('hides the reader of a DM too: the other side sees them as not having seen it', async () => {
    const cid = await channel('dm', undefined, ['ada', 'bob']);
    const m = await send('ada', cid, 'psst');
    const ada = await socket('ada');
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    // The read was published before its answer; a reply to Ada after it comes after anything it sent her.
    await ada.request('ping');
    expect(bobsReads(ada, cid)).toEqual([]);
    expect(await readers('ada', m.id)).toEqual([]);
    const list = (await rest('ada', 'POST', '/v1/channels/query', { filter: { cid } })).body.channels[0];
    expect(list.members.find((x: any) => x.user_id === 'bob').last_read_seq).toBe(0);
    expect((await rest('bob', 'POST', '/v1/channels/query', { filter: { cid } })).body.channels[0]).toMatchObject({
      unread_count: 0,
      membership: { last_read_seq: m.seq },
    });
  });

  it('a role change does not show the hidden mark in member.updated', async () => {
    const cid = 'group:hid';
    const ada = await socket('ada');
    const r = await rest('ada', 'PATCH', `/v1/channels/${cid}/members/bob`, { role: 'moderator' });
    expect(r.status).toBe(200);
    expect(r.body.member).toMatchObject({ last_read_seq: 0, last_read_at: null });
    const ev = await ada.waitFor((f) => f.type === 'member.updated' && f.cid === cid && f.member.user_id === 'bob');
    expect(ev.member.last_read_seq).toBe(0);
    expect(ev.member.read_rev).toBeUndefined();
  });

  it('showing them again announces the real marks with a larger revision', async () => {
    const cid = 'group:hid';
    const ada = await socket('ada');
    const hiddenRev = (await memberOf('ada', cid, 'bob')).read_rev as number;
    const off = await privacy('bob', { hide_read_receipts: false });
    expect(off.body).toEqual({ privacy: { hide_read_receipts: false } });
    const real = await memberOf('bob', cid, 'bob');
    const ev = await ada.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob');
    expect(ev.seq).toBe(real.last_read_seq);
    expect(ev.read_rev).toBeGreaterThan(hiddenRev);
    expect(await memberOf('ada', cid, 'bob')).toMatchObject({
      last_read_seq: real.last_read_seq,
      read_rev: ev.read_rev,
    });
    const last = (await rest('ada', 'GET', `/v1/channels/${cid}/messages`)).body.messages.at(-1);
    expect(await readers('ada', last.id)).toContain('bob');
    // The same setting again changes nothing and announces nothing.
    expect((await privacy('bob', { hide_read_receipts: false })).body.privacy.hide_read_receipts).toBe(false);
  });

  it('only the user changes their own setting; the server token, bad bodies and another app are refused', async () => {
    expect((await privacy('ada', { hide_read_receipts: true })).status).toBe(200);
    // Bob's requests name no user: they change Bob's setting, never Ada's.
    expect((await privacy('bob', { hide_read_receipts: false })).status).toBe(200);
    expect((await privacy('ada')).body.privacy.hide_read_receipts).toBe(true);
    const named = await privacy('bob', { user_id: 'ada', hide_read_receipts: false });
    expect(named.status).toBe(400);
    expect(named.body.error.code).toBe('VALIDATION_ERROR');
    expect((await privacy('ada')).body.privacy.hide_read_receipts).toBe(true);
    expect((await privacy('bob', { hide_read_receipts: 'yes' })).status).toBe(400);
    // The server token has no setting of its own and cannot change a user's.
    const server = await rest(null, 'PATCH', '/v1/me/privacy', { hide_read_receipts: false });
    expect([401, 403]).toContain(server.status);
    expect((await rest(null, 'GET', '/v1/me/privacy')).status).toBeGreaterThanOrEqual(401);
    expect((await privacy('ada')).body.privacy.hide_read_receipts).toBe(true);
    // Another app's Bob is another user.
    expect((await rest('bob', 'GET', '/v1/me/privacy', undefined, other)).body.privacy.hide_read_receipts).toBe(false);
    expect(
      (await h.call({ method: 'PATCH', url: '/v1/me/privacy', payload: { hide_read_receipts: true } })).status,
    ).toBe(401);
    await privacy('ada', { hide_read_receipts: false });
  });
});
