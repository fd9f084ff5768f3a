/**
 * Read-by and where you were: who read a message and when (from the read marks), its member
 * limit, its refusals (non-members, another app, bad ids), live times on `read.updated`; the
 * last channel kept per user; system messages from an app's server, refused for users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

const KEY = 'd'.repeat(64);
let h: Harness;
let small: Harness;
let app: TestApp;
let other: TestApp;
let url: string;
const sockets: TestSocket[] = [];

async function rest(user: string | null, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, a = app) {
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
async function group(id: string, members: string[], by = members[0]!) {
  const r = await rest(by, 'POST', '/v1/channels', { type: 'group', id, members });
  expect(r.status).toBe(200);
  return r.body.channel.cid as string;
}
const readBy = (user: string | null, id: string, a = app) =>
  rest(user, 'GET', `/v1/messages/${id}/read-by`, undefined, a);

beforeAll(async () => {
  h = await startHarness({ masterKey: KEY });
  url = await h.listen();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(
    app,
    ['ada', 'bob', 'cy', 'dee', 'eve'].map((id) => ({ id, name: id[0]!.toUpperCase() + id.slice(1) })),
  );
  await h.users(other, [{ id: 'ada', name: 'Other Ada' }]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await small?.close();
  await h.close();
});

describe('read-by', () => {
  it('lists the members past the message, with when they read it, never the author', async () => {
    const cid = await group('trio', ['ada', 'bob', 'cy']);
    const m = await send('ada', cid, 'lunch?');
    expect((await readBy('ada', m.id)).body).toEqual({ enabled: true, max_members: 20, read_by: [] });

    const before = Date.now();
    const r = await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    expect(r.status).toBe(200);
    const one = (await readBy('ada', m.id)).body.read_by;
    expect(one.map((e: any) => e.user_id)).toEqual(['bob']);
    expect(Date.parse(one[0].read_at)).toBeGreaterThanOrEqual(before - 1000);

    // Reading again without moving the mark keeps the time: read-by says when they first read it.
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    expect((await readBy('ada', m.id)).body.read_by[0].read_at).toBe(one[0].read_at);

    await rest('cy', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    // The author reading their own message is not a reader of it; any member may ask.
    await rest('ada', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    const both = (await readBy('cy', m.id)).body.read_by.map((e: any) => e.user_id);
    expect(both).toEqual(['bob', 'cy']);
    // The server token may ask too; the members list carries the same times.
    expect((await readBy(null, m.id)).body.read_by).toHaveLength(2);
    const members = (await rest('ada', 'GET', `/v1/channels/${cid}`)).body.members;
    expect(members.find((x: any) => x.user_id === 'bob').last_read_at).toBe(one[0].read_at);

    // A later message is unread by both until they read it; marking unread takes a reader off.
    const m2 = await send('ada', cid, 'or coffee?');
    expect((await readBy('ada', m2.id)).body.read_by).toEqual([]);
    await rest('bob', 'POST', `/v1/channels/${cid}/unread`, { message_id: m.id });
    expect((await readBy('ada', m.id)).body.read_by.map((e: any) => e.user_id)).toEqual(['cy']);
  });

  it('read.updated carries the stored read time, live, to the sender', async () => {
    const cid = await group('live', ['ada', 'bob']);
    const m = await send('ada', cid, 'ping');
    const ada = await TestSocket.connect(url, app, 'ada');
    sockets.push(ada);
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    const ev = await ada.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob');
    expect(ev.seq).toBe(m.seq);
    expect((await readBy('ada', m.id)).body.read_by[0].read_at).toBe(ev.created_at);
  });

  it('each move of a read mark, forward or back, and each join has a larger read_rev, everywhere it is shown', async () => {
    const cid = await group('revs', ['ada', 'bob', 'cy']);
    const m1 = await send('ada', cid, 'one');
    const m2 = await send('ada', cid, 'two');
    const ada = await TestSocket.connect(url, app, 'ada');
    sockets.push(ada);
    const bobOf = async () =>
      (await rest('ada', 'GET', `/v1/channels/${cid}`)).body.members.find((x: any) => x.user_id === 'bob');
    const start = (await bobOf()).read_rev as number;
    expect(start).toBeGreaterThan(0);

    const read = await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m2.seq });
    expect(read.body.read_rev).toBeGreaterThan(start);
    const live = await ada.waitFor((f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob');
    expect(live.read_rev).toBe(read.body.read_rev);
    // Reading again without moving the mark keeps its revision.
    expect((await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m2.seq })).body.read_rev).toBe(
      read.body.read_rev,
    );

    // Back: marked unread from the first message. A view with a smaller rev is older, whatever its seq.
    const back = await rest('bob', 'POST', `/v1/channels/${cid}/unread`, { message_id: m1.id });
    expect(back.body).toMatchObject({ last_read_seq: m1.seq - 1, unread_count: 2 });
    expect(back.body.read_rev).toBeGreaterThan(read.body.read_rev);
    const backLive = await ada.waitFor(
      (f) => f.type === 'read.updated' && f.cid === cid && f.user.id === 'bob' && f.read_rev === back.body.read_rev,
    );
    expect(backLive.seq).toBe(m1.seq - 1);
    expect(await bobOf()).toMatchObject({ last_read_seq: m1.seq - 1, read_rev: back.body.read_rev });
    // Bob's own channel list carries it on his membership.
    const mine = await rest('bob', 'POST', '/v1/channels/query', { filter: { cid } });
    expect(mine.body.channels[0].membership).toMatchObject({ last_read_seq: m1.seq - 1, read_rev: back.body.read_rev });

    // Leave and join again: the new membership's rev is larger than any of the old one's.
    expect((await rest('cy', 'POST', `/v1/channels/${cid}/leave`, {})).status).toBe(200);
    expect((await rest('ada', 'POST', `/v1/channels/${cid}/members`, { add: ['cy'] })).status).toBe(200);
    const cy = (await rest('ada', 'GET', `/v1/channels/${cid}`)).body.members.find((x: any) => x.user_id === 'cy');
    expect(cy.read_rev).toBeGreaterThan(back.body.read_rev);
  });

  it('is off above the member limit', async () => {
    // A second node on the same database with a limit of 3.
    small = await startHarness({ masterKey: KEY, readByMaxMembers: 3 }, { database: h.database });
    const call = async (user: string, u: string) =>
      small.call({ method: 'GET', url: u, headers: await app.user(user) });
    const cid = await group('four', ['ada', 'bob', 'cy', 'dee']);
    const m = await send('ada', cid, 'hi all');
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: m.seq });
    expect((await call('ada', `/v1/messages/${m.id}/read-by`)).body).toEqual({
      enabled: false,
      max_members: 3,
      read_by: [],
    });
    // Three members is within the limit.
    const cid3 = await group('three', ['ada', 'bob', 'cy']);
    const m3 = await send('ada', cid3, 'hi three');
    await rest('bob', 'POST', `/v1/channels/${cid3}/read`, { seq: m3.seq });
    expect((await call('ada', `/v1/messages/${m3.id}/read-by`)).body.read_by).toHaveLength(1);
  });

  it('refuses non-members, another app, and bad ids', async () => {
    const pub = await rest('ada', 'POST', '/v1/channels', { type: 'public', id: 'town', members: ['ada', 'bob'] });
    const m = await send('ada', pub.body.channel.cid, 'public words');
    // eve may read a public channel's history, not who read it.
    expect((await rest('eve', 'GET', `/v1/channels/${pub.body.channel.cid}/messages`)).status).toBe(200);
    const r = await readBy('eve', m.id);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
    // A private group's message is not found for a non-member, nor for another app's user.
    const cid = await group('secret', ['ada', 'bob']);
    const s = await send('ada', cid, 'between us');
    expect((await readBy('eve', s.id)).body.error.code).toBe('NOT_FOUND');
    expect((await readBy('ada', s.id, other)).body.error.code).toBe('NOT_FOUND');
    expect((await readBy(null, s.id, other)).status).toBe(404);
    expect((await readBy('ada', 'not-a-uuid')).body.error.code).toBe('VALIDATION_ERROR');
    expect((await readBy('ada', '0190a8a0-0000-7000-8000-000000000000')).status).toBe(404);
  });
});

describe('the last channel', () => {
  it('is kept per user and answered on another device; null once unreadable', async () => {
    expect((await rest('bob', 'GET', '/v1/me/last-channel')).body).toEqual({ cid: null, updated_at: null });
    const cid = await group('where', ['bob', 'cy']);
    const put = await rest('bob', 'PUT', '/v1/me/last-channel', { cid });
    expect(put.status).toBe(200);
    expect(put.body.cid).toBe(cid);
    expect((await rest('bob', 'GET', '/v1/me/last-channel')).body.cid).toBe(cid);
    // Another app's bob has his own (none).
    await h.users(other, [{ id: 'bob' }]);
    expect((await rest('bob', 'GET', '/v1/me/last-channel', undefined, other)).body.cid).toBeNull();
    // Removed from it: no channel to open.
    const rm = await rest('bob', 'POST', `/v1/channels/${cid}/members`, { remove: ['bob'] });
    expect(rm.status).toBe(200);
    expect((await rest('bob', 'GET', '/v1/me/last-channel')).body.cid).toBeNull();
  });

  it('refuses a channel the user may not read, a bad cid and the server token', async () => {
    const cid = await group('closed', ['ada', 'cy']);
    expect((await rest('eve', 'PUT', '/v1/me/last-channel', { cid })).status).toBe(404);
    expect((await rest('eve', 'PUT', '/v1/me/last-channel', { cid: 'no spaces' })).body.error.code).toBe(
      'VALIDATION_ERROR',
    );
    expect((await rest('eve', 'PUT', '/v1/me/last-channel', { cid, extra: 1 })).status).toBe(400);
    expect((await rest(null, 'GET', '/v1/me/last-channel')).status).toBe(403);
    expect((await rest('eve', 'GET', '/v1/me/last-channel')).body.cid).toBeNull();
  });

  it('is set on the socket as over REST, with the same refusals', async () => {
    const cid = await group('socketed', ['cy', 'dee']);
    const dee = await TestSocket.connect(url, app, 'dee');
    sockets.push(dee);
    const r = await dee.request('last_channel.set', { cid });
    expect(r).toMatchObject({ ok: true, cid });
    expect(typeof r.updated_at).toBe('string');
    expect((await rest('dee', 'GET', '/v1/me/last-channel')).body).toEqual({ cid, updated_at: r.updated_at });

    const closed = await group('cy-only', ['cy', 'ada']);
    const refused = await dee.request('last_channel.set', { cid: closed });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const bad = await dee.request('last_channel.set', { cid: 'no spaces' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    // Neither refusal moved it.
    expect((await rest('dee', 'GET', '/v1/me/last-channel')).body.cid).toBe(cid);
  });
});

describe('system messages from the app', () => {
  it('a server token posts one to any channel, once per id', async () => {
    const cid = await group('notes', ['ada', 'bob']);
    const ada = await TestSocket.connect(url, app, 'ada');
    sockets.push(ada);
    const id = '0190a8a0-1111-7000-8000-000000000001';
    const r = await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { id, text: 'Deploy finished' });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ id, cid, type: 'system', text: 'Deploy finished', user_id: 'parley-bot' });
    const ev = await ada.waitFor((f) => f.type === 'message.new' && f.message.id === id);
    expect(ev.message.type).toBe('system');
    const again = await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { id, text: 'Deploy finished' });
    expect(again.body.message.seq).toBe(r.body.message.seq);
    const history = (await rest('bob', 'GET', `/v1/channels/${cid}/messages`)).body.messages;
    expect(history.filter((m: any) => m.id === id)).toHaveLength(1);
    // No unread for a note.
    const list = (await rest('bob', 'POST', '/v1/channels/query', { filter: { cid } })).body.channels;
    expect(list[0].unread_count).toBe(0);
    // On behalf of a user of the app.
    const by = await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, {
      text: 'Bob is on call',
      user_id: 'bob',
    });
    expect(by.body.message.user_id).toBe('bob');
  });

  it('refuses users, another app, unknown users, reused ids and bad bodies', async () => {
    const cid = await group('guarded', ['ada', 'bob']);
    const asUser = await rest('ada', 'POST', `/v1/channels/${cid}/system-messages`, { text: 'I am the system' });
    expect(asUser.status).toBe(403);
    // A user's send takes no type.
    const typed = await rest('ada', 'POST', `/v1/channels/${cid}/messages`, { text: 'sys', type: 'system' });
    expect(typed.body.error.code).toBe('VALIDATION_ERROR');
    expect((await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { text: 'x' }, other)).status).toBe(404);
    expect(
      (await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { text: 'x', user_id: 'nobody' })).body.error
        .code,
    ).toBe('VALIDATION_ERROR');
    expect((await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { text: '   ' })).status).toBe(400);
    expect((await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, {})).status).toBe(400);
    const m = await send('ada', cid, 'a regular one');
    const reuse = await rest(null, 'POST', `/v1/channels/${cid}/system-messages`, { id: m.id, text: 'x' });
    expect(reuse.body.error.code).toBe('CONFLICT');
    expect((await rest(null, 'POST', '/v1/channels/group:nope/system-messages', { text: 'x' })).status).toBe(404);
  });
});
