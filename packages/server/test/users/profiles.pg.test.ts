/**
 * Profiles: profile fields (PATCH /v1/me, upsert), custom profile fields and who sees their
 * values, `user.updated` to everyone who shares a channel, username availability, and email
 * search for admins only. Through the public surface: inject() and real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../accounts/helpers.js';
import { expectError } from '../foundation/helpers.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('profiles');
  other = await h.createApp('profiles-other');
  await h.users(app, [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob' },
    { id: 'eve', name: 'Eve' },
    { id: 'root', name: 'Root', role: 'admin' },
  ]);
  await h.users(other, [{ id: 'ada', name: 'Other Ada' }]);
});
afterAll(async () => {
  await h?.close();
});

const as = async (who: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, headers: await app.user(who), ...(payload ? { payload } : {}) });
const asServer = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, headers: await app.server(), ...(payload ? { payload } : {}) });

describe('profile fields', () => {
  it('are set by the user, cleared with null or blank, and shown to others', async () => {
    const r = await as('ada', 'PATCH', '/v1/me', {
      full_name: 'Ada King, Countess of Lovelace',
      title: 'Analyst',
      pronouns: 'she/her',
      about: 'Notes on the engine.\nSecond line.',
      phone: '+44 20 7946 0958',
      time_zone: 'Europe/London',
    });
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({
      full_name: 'Ada King, Countess of Lovelace',
      title: 'Analyst',
      pronouns: 'she/her',
      about: 'Notes on the engine.\nSecond line.',
      phone: '+44 20 7946 0958',
      time_zone: 'Europe/London',
      name: 'Ada',
    });
    const seen = await as('bob', 'GET', '/v1/users/ada');
    expect(seen.body.user).toMatchObject({ title: 'Analyst', time_zone: 'Europe/London' });
    const cleared = await as('ada', 'PATCH', '/v1/me', { title: '   ', pronouns: null });
    expect(cleared.body.user).toMatchObject({
      title: null,
      pronouns: null,
      full_name: 'Ada King, Countess of Lovelace',
    });
  });

  it('takes a time zone only if it is an IANA zone, stored under its canonical name', async () => {
    ok(await as('bob', 'PATCH', '/v1/me', { time_zone: 'UTC' }));
    expect((await as('bob', 'PATCH', '/v1/me', { time_zone: 'america/new_york' })).body.user.time_zone).toBe(
      'America/New_York',
    );
    // Kept as given, not as ICU's old canonical name (Asia/Calcutta).
    expect((await as('bob', 'PATCH', '/v1/me', { time_zone: 'Asia/Kolkata' })).body.user.time_zone).toBe(
      'Asia/Kolkata',
    );
    expectError(await as('bob', 'PATCH', '/v1/me', { time_zone: 'Mars/Olympus_Mons' }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { time_zone: 'Europe/../../etc' }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { time_zone: '' }), 'VALIDATION_ERROR');
    expect((await as('bob', 'GET', '/v1/users/bob')).body.user.time_zone).toBe('Asia/Kolkata');
  });

  it('refuses values too long or malformed (400) and writes nothing of the request', async () => {
    expectError(await as('bob', 'PATCH', '/v1/me', { title: 'x'.repeat(101) }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { about: 'x'.repeat(2001) }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { phone: 'call me maybe' }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { pronouns: 'a\u0000b' }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { title: 'Boss', time_zone: 'Nowhere/Land' }), 'VALIDATION_ERROR');
    expectError(await as('bob', 'PATCH', '/v1/me', { nickname: 'b' }), 'VALIDATION_ERROR');
    expect((await as('bob', 'GET', '/v1/users/bob')).body.user.title).toBeNull();
  });

  it('are set by the server token on upsert, with the same checks', async () => {
    const r = await asServer('POST', '/v1/users', {
      users: [{ id: 'srv', name: 'Served', title: 'Ops', time_zone: 'Asia/Tokyo' }],
    });
    expect(r.body.users[0]).toMatchObject({ title: 'Ops', time_zone: 'Asia/Tokyo' });
    expectError(
      await asServer('POST', '/v1/users', { users: [{ id: 'srv', time_zone: 'Asia/Atlantis' }] }),
      'VALIDATION_ERROR',
    );
  });
});

describe('custom profile fields', () => {
  let team: string;
  let site: string;
  let salary: string;

  it('are defined by admins and the server token only', async () => {
    expectError(await as('bob', 'POST', '/v1/profile-fields', { name: 'Team', kind: 'text' }), 'FORBIDDEN');
    const a = await as('root', 'POST', '/v1/profile-fields', {
      name: 'Team',
      kind: 'choice',
      options: ['Core', 'Web'],
      required: true,
    });
    expect(a.status).toBe(200);
    team = a.body.field.id;
    const b = await asServer('POST', '/v1/profile-fields', { name: 'Site', kind: 'link' });
    site = b.body.field.id;
    const c = await as('root', 'POST', '/v1/profile-fields', {
      name: 'Salary band',
      kind: 'text',
      visibility: 'admins',
    });
    salary = c.body.field.id;
    expect([a.body.field.position, b.body.field.position, c.body.field.position]).toEqual([0, 1, 2]);
  });

  it('refuse bad definitions', async () => {
    expectError(await as('root', 'POST', '/v1/profile-fields', { name: 'Pick', kind: 'choice' }), 'VALIDATION_ERROR');
    expectError(
      await as('root', 'POST', '/v1/profile-fields', { name: 'Pick', kind: 'choice', options: ['a', 'A'] }),
      'VALIDATION_ERROR',
    );
    expectError(
      await as('root', 'POST', '/v1/profile-fields', { name: 'Free', kind: 'text', options: ['a'] }),
      'VALIDATION_ERROR',
    );
    expectError(await as('root', 'POST', '/v1/profile-fields', { name: 'X', kind: 'date' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'POST', '/v1/profile-fields', { name: '  ', kind: 'text' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'POST', '/v1/profile-fields', { name: 'team', kind: 'text' }), 'CONFLICT');
    expectError(await as('root', 'PATCH', '/v1/profile-fields/not-a-uuid', { name: 'Y' }), 'VALIDATION_ERROR');
    expectError(
      await as('root', 'PATCH', '/v1/profile-fields/0190a5f0-0000-7000-8000-000000000000', { name: 'Y' }),
      'NOT_FOUND',
    );
  });

  it('hide admins-only fields and their values from everyone but admins', async () => {
    const members = await as('bob', 'GET', '/v1/profile-fields');
    expect(members.body.fields.map((f: any) => f.name)).toEqual(['Team', 'Site']);
    const admins = await as('root', 'GET', '/v1/profile-fields');
    expect(admins.body.fields.map((f: any) => f.name)).toEqual(['Team', 'Site', 'Salary band']);

    // A member cannot set (nor learn of) an admins-only field, even on their own profile.
    expectError(await as('ada', 'PUT', '/v1/users/ada/fields', { fields: { [salary]: 'B' } }), 'VALIDATION_ERROR');
    const set = await as('ada', 'PUT', '/v1/users/ada/fields', {
      fields: { [team]: 'Core', [site]: 'https://ada.example/notes' },
    });
    expect(set.status).toBe(200);
    expect(set.body.user.fields).toEqual({ [team]: 'Core', [site]: 'https://ada.example/notes' });
    ok(await as('root', 'PUT', '/v1/users/ada/fields', { fields: { [salary]: 'Band 7' } }));

    // Every path a member reads Ada by leaves the admins-only value out.
    for (const viewer of ['ada', 'bob']) {
      const one = await as(viewer, 'GET', '/v1/users/ada');
      expect(one.body.user.fields).toEqual({ [team]: 'Core', [site]: 'https://ada.example/notes' });
      expect(JSON.stringify(one.body)).not.toContain('Band 7');
    }
    expect(JSON.stringify((await as('ada', 'GET', '/v1/me')).body)).not.toContain('Band 7');
    expect(JSON.stringify((await as('bob', 'GET', '/v1/users?q=ada')).body)).not.toContain('Band 7');
    const patched = await as('ada', 'PATCH', '/v1/me', { title: 'Analyst' });
    expect(JSON.stringify(patched.body)).not.toContain('Band 7');
    // Admins and the server token see it.
    expect((await as('root', 'GET', '/v1/users/ada')).body.user.fields[salary]).toBe('Band 7');
    expect((await asServer('GET', '/v1/users/ada')).body.user.fields[salary]).toBe('Band 7');
  });

  it('check values against their kind', async () => {
    const put = (fields: object) => as('ada', 'PUT', '/v1/users/ada/fields', { fields });
    expectError(await put({ [site]: 'javascript:alert(1)' }), 'VALIDATION_ERROR');
    expectError(await put({ [site]: 'ftp://files.example' }), 'VALIDATION_ERROR');
    expectError(await put({ [site]: 'not a url' }), 'VALIDATION_ERROR');
    expectError(await put({ [team]: 'Marketing' }), 'VALIDATION_ERROR');
    expectError(await put({ [team]: null }), 'VALIDATION_ERROR'); // required
    expectError(await put({ 'no-such-field': 'x' }), 'VALIDATION_ERROR');
    expectError(await put({ [team]: 'Web', '0190a5f0-0000-7000-8000-000000000000': 'x' }), 'VALIDATION_ERROR');
    // Nothing of a refused request was written.
    expect((await as('ada', 'GET', '/v1/users/ada')).body.user.fields[team]).toBe('Core');
    expect((await put({ [site]: null })).body.user.fields).toEqual({ [team]: 'Core' });
  });

  it("let admins set others' values only where the field allows it; members never", async () => {
    expectError(await as('bob', 'PUT', '/v1/users/ada/fields', { fields: { [team]: 'Web' } }), 'FORBIDDEN');
    expect((await as('root', 'PUT', '/v1/users/ada/fields', { fields: { [team]: 'Web' } })).status).toBe(200);
    ok(await as('root', 'PATCH', `/v1/profile-fields/${team}`, { admin_editable: false }));
    expectError(await as('root', 'PUT', '/v1/users/ada/fields', { fields: { [team]: 'Core' } }), 'FORBIDDEN');
    expectError(await as('root', 'PUT', '/v1/users/nobody/fields', { fields: {} }), 'NOT_FOUND');
  });

  it("are the app's own: another app cannot see or set them", async () => {
    const r = await h.call({
      method: 'PUT',
      url: '/v1/users/ada/fields',
      headers: await other.user('ada'),
      payload: { fields: { [team]: 'Core' } },
    });
    expectError(r, 'VALIDATION_ERROR');
    const list = await h.call({ method: 'GET', url: '/v1/profile-fields', headers: await other.server() });
    expect(list.body.fields).toEqual([]);
    const del = await h.call({ method: 'DELETE', url: `/v1/profile-fields/${team}`, headers: await other.server() });
    expectError(del, 'NOT_FOUND');
  });

  it('reorder (every id once) and drop their values when deleted or an option is removed', async () => {
    expectError(await as('root', 'POST', '/v1/profile-fields/order', { ids: [site, team] }), 'VALIDATION_ERROR');
    expectError(
      await as('root', 'POST', '/v1/profile-fields/order', { ids: [site, site, team, salary] }),
      'VALIDATION_ERROR',
    );
    expectError(await as('bob', 'POST', '/v1/profile-fields/order', { ids: [salary, site, team] }), 'FORBIDDEN');
    const r = await as('root', 'POST', '/v1/profile-fields/order', { ids: [salary, site, team] });
    expect(r.body.fields.map((f: any) => f.id)).toEqual([salary, site, team]);

    // Ada's team is Web: taking the option away drops that value.
    ok(await as('root', 'PATCH', `/v1/profile-fields/${team}`, { options: ['Core', 'Design'] }));
    expect((await as('root', 'GET', '/v1/users/ada')).body.user.fields[team]).toBeUndefined();

    expectError(await as('bob', 'DELETE', `/v1/profile-fields/${salary}`), 'FORBIDDEN');
    ok(await as('root', 'DELETE', `/v1/profile-fields/${salary}`));
    expect((await as('root', 'GET', '/v1/users/ada')).body.user.fields).toEqual({});
    expectError(await as('root', 'DELETE', `/v1/profile-fields/${salary}`), 'NOT_FOUND');
  });
});

describe('user.updated', () => {
  it('reaches everyone who shares a channel with the user, and no one else', async () => {
    ok(await as('ada', 'POST', '/v1/channels', { type: 'group', id: 'profiles-room', members: ['ada', 'bob'] }));
    const base = await h.listen();
    const bob = await TestSocket.connect(base, app, 'bob');
    const eve = await TestSocket.connect(base, app, 'eve');
    const ada = await TestSocket.connect(base, app, 'ada');
    try {
      ok(await as('ada', 'PATCH', '/v1/me', { title: 'Chief Analyst', time_zone: 'Europe/Paris' }));
      const seen = await bob.waitFor((f) => f.type === 'user.updated' && f.user.title === 'Chief Analyst');
      expect(seen.user).toMatchObject({ id: 'ada', time_zone: 'Europe/Paris' });
      expect(seen.user.fields).toBeUndefined();
      await ada.waitFor((f) => f.type === 'user.updated' && f.user.title === 'Chief Analyst');
      // Eve shares no channel with Ada. A later event to Eve proves the first did not come.
      ok(await as('eve', 'PATCH', '/v1/me', { title: 'Marker' }));
      await eve.waitFor((f) => f.type === 'user.updated' && f.user.id === 'eve');
      expect(eve.events('user.updated').filter((e) => e.user.id === 'ada')).toEqual([]);
    } finally {
      bob.close();
      eve.close();
      ada.close();
    }
  });
});

describe('GET /v1/usernames/{name}', () => {
  it('answers available, taken (any case), reserved or invalid', async () => {
    ok(await as('bob', 'PATCH', '/v1/me', { username: 'bobby' }));
    expect((await as('ada', 'GET', '/v1/usernames/fresh.name')).body).toEqual({ available: true });
    expect((await as('ada', 'GET', '/v1/usernames/BOBBY')).body).toEqual({ available: false, reason: 'taken' });
    expect((await as('bob', 'GET', '/v1/usernames/bobby')).body).toEqual({ available: true });
    expect((await as('ada', 'GET', '/v1/usernames/Admin')).body).toEqual({ available: false, reason: 'reserved' });
    expect((await as('ada', 'GET', '/v1/usernames/has%20space')).body).toEqual({ available: false, reason: 'invalid' });
    expect((await as('ada', 'GET', `/v1/usernames/${'a'.repeat(65)}`)).body).toEqual({
      available: false,
      reason: 'invalid',
    });
    // Another app's usernames are not this app's.
    const r = await h.call({ method: 'GET', url: '/v1/usernames/bobby', headers: await other.user('ada') });
    expect(r.body).toEqual({ available: true });
    expectError(await as('ada', 'PATCH', '/v1/me', { username: 'everyone' }), 'VALIDATION_ERROR');
    expectError(await h.call({ method: 'GET', url: '/v1/usernames/x' }), 'UNAUTHORIZED');
  });
});

describe('search by email', () => {
  it('finds people by their email for workspace admins only', async () => {
    const owner = await buildAccount(h, 'Olive');
    const member = await buildAccount(h, 'Milo', `milo.${Date.now()}@findme.example`);
    const ws = await buildWorkspace(owner, 'Emails');
    await join(owner, ws.id, member);
    const ownerChat = chatHeaders(ok(await owner.session(ws.id)));
    const memberChat = chatHeaders(ok(await member.session(ws.id)));
    const q = '/v1/users?q=milo.';
    const byAdmin = await h.call({ method: 'GET', url: q, headers: ownerChat });
    expect(byAdmin.body.users.map((u: any) => u.name)).toEqual(['Milo']);
    const byMember = await h.call({ method: 'GET', url: q, headers: memberChat });
    expect(byMember.body.users).toEqual([]);
    // Names still match for everyone; emails never appear on the wire.
    const byName = await h.call({ method: 'GET', url: '/v1/users?q=mil', headers: memberChat });
    expect(byName.body.users.map((u: any) => u.name)).toEqual(['Milo']);
    expect(JSON.stringify(byAdmin.body)).not.toContain('@findme.example');
  });
});

describe('deleting a user', () => {
  it('clears their profile and custom field values', async () => {
    const f = ok(await asServer('POST', '/v1/profile-fields', { name: 'Desk', kind: 'text' })).field;
    ok(await asServer('POST', '/v1/users', { users: [{ id: 'gone', title: 'Temp', phone: '+1 555 0100' }] }));
    ok(await asServer('PUT', '/v1/users/gone/fields', { fields: { [f.id]: 'B-12' } }));
    expect((await asServer('DELETE', '/v1/users/gone')).status).toBe(202);
    const user = await eventually(async () => {
      const r = await asServer('GET', '/v1/users/gone');
      return r.body.user?.title === null ? r.body.user : undefined;
    });
    expect(user).toMatchObject({ title: null, phone: null, full_name: null, time_zone: null, fields: {} });
  });
});
