/**
 * An app admin (or the server token) corrects someone else's name and title: PATCH
 * /v1/users/{id}. The change and its audit entry commit together; `user.updated` reaches who
 * shares a channel; non-admins, other apps' users, deleted users and bad values are refused with
 * nothing written; the same values again change nothing. Through inject() and real sockets.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../accounts/helpers.js';
import { expectError } from '../foundation/helpers.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 50 });
  app = await h.createApp('admin-edit');
  other = await h.createApp('admin-edit-other');
  await h.users(app, [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob' },
    { id: 'eve', name: 'Eve' },
    { id: 'root', name: 'Root', role: 'admin' },
  ]);
  await h.users(other, [
    { id: 'zed', name: 'Zed' },
    { id: 'boss', name: 'Boss', role: 'admin' },
  ]);
});
afterAll(async () => {
  await h?.close();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const as = async (who: string, method: Method, url: string, payload?: object, a: TestApp = app) =>
  h.call({ method, url, headers: await a.user(who), ...(payload ? { payload } : {}) });
const asServer = async (method: Method, url: string, payload?: object, a: TestApp = app) =>
  h.call({ method, url, headers: await a.server(), ...(payload ? { payload } : {}) });

/** The app's `user.profile_updated` entries about `target`, newest first. */
const edits = async (target: string, a: TestApp = app) =>
  ok(await asServer('GET', `/v1/audit?action=user.profile_updated&target=${target}`, undefined, a)).entries as any[];

describe('PATCH /v1/users/{id}', () => {
  it("an admin sets another's name and title: one audit entry with each change, user.updated to who shares a channel", async () => {
    ok(await as('bob', 'POST', '/v1/channels', { type: 'group', id: 'edit-room', members: ['bob', 'ada'] }));
    ok(await as('bob', 'PATCH', '/v1/me', { title: 'Builder' }));
    const base = await h.listen();
    const ada = await TestSocket.connect(base, app, 'ada');
    const bob = await TestSocket.connect(base, app, 'bob');
    const eve = await TestSocket.connect(base, app, 'eve');
    try {
      const r = await as('root', 'PATCH', '/v1/users/bob', { name: '  Robert Builder ', title: 'Site Foreman' });
      expect(r.status).toBe(200);
      expect(r.body.user).toMatchObject({ id: 'bob', name: 'Robert Builder', title: 'Site Foreman' });
      // Ada shares a channel with Bob; Bob hears of his own change.
      const seen = await ada.waitFor((f) => f.type === 'user.updated' && f.user.id === 'bob');
      expect(seen.user).toMatchObject({ name: 'Robert Builder', title: 'Site Foreman' });
      await bob.waitFor((f) => f.type === 'user.updated' && f.user.name === 'Robert Builder');
      expect((await as('eve', 'GET', '/v1/users/bob')).body.user).toMatchObject({
        name: 'Robert Builder',
        title: 'Site Foreman',
      });

      const [entry, ...more] = await edits('bob');
      expect(more).toEqual([]);
      expect(entry).toMatchObject({
        action: 'user.profile_updated',
        actor: { kind: 'user', id: 'root', name: 'Root' },
        target: { kind: 'user', id: 'bob' },
        details: {
          name: { from: 'Bob', to: 'Robert Builder' },
          title: { from: 'Builder', to: 'Site Foreman' },
        },
      });

      // Eve shares no channel with Bob. A later event to Eve proves the first did not come.
      ok(await as('eve', 'PATCH', '/v1/me', { title: 'Marker' }));
      await eve.waitFor((f) => f.type === 'user.updated' && f.user.id === 'eve');
      expect(eve.events('user.updated').filter((e) => e.user.id === 'bob')).toEqual([]);
    } finally {
      ada.close();
      bob.close();
      eve.close();
    }
  });

  it('records only the fields that changed; null or blank title clears it', async () => {
    ok(await as('root', 'PATCH', '/v1/users/bob', { name: 'Robert Builder', title: '   ' }));
    expect((await as('bob', 'GET', '/v1/users/bob')).body.user).toMatchObject({ name: 'Robert Builder', title: null });
    const [entry] = await edits('bob');
    expect(entry.details).toEqual({ title: { from: 'Site Foreman', to: null } });
    ok(await as('root', 'PATCH', '/v1/users/bob', { title: 'Foreman' }));
    ok(await as('root', 'PATCH', '/v1/users/bob', { title: null }));
    expect((await as('bob', 'GET', '/v1/users/bob')).body.user.title).toBeNull();
    expect(await edits('bob')).toHaveLength(4);
  });

  it('the same values again change nothing: no audit entry, no event', async () => {
    const base = await h.listen();
    const bob = await TestSocket.connect(base, app, 'bob');
    try {
      const before = (await as('bob', 'GET', '/v1/users/bob')).body.user;
      const n = (await edits('bob')).length;
      const r = ok(await as('root', 'PATCH', '/v1/users/bob', { name: 'Robert Builder', title: null }));
      expect(r.user).toMatchObject({ name: 'Robert Builder', title: null, updated_at: before.updated_at });
      expect(await edits('bob')).toHaveLength(n);
      // A change of Bob's own afterwards is the first user.updated he gets: the no-op sent none.
      ok(await as('bob', 'PATCH', '/v1/me', { title: 'After' }));
      await bob.waitFor((f) => f.type === 'user.updated' && f.user.title === 'After');
      expect(bob.events('user.updated').map((e) => e.user.title)).toEqual(['After']);
    } finally {
      bob.close();
    }
  });

  it('the server token may; the entry names the server; an admin may edit themself', async () => {
    const r = ok(await asServer('PATCH', '/v1/users/ada', { title: 'Analyst' }));
    expect(r.user).toMatchObject({ id: 'ada', name: 'Ada', title: 'Analyst' });
    expect((await edits('ada'))[0]).toMatchObject({
      actor: { kind: 'server', id: null },
      details: { title: { from: null, to: 'Analyst' } },
    });
    expect(ok(await as('root', 'PATCH', '/v1/users/root', { title: 'Operator' })).user.title).toBe('Operator');
  });

  it('a non-admin is 403, even about themself, and nothing is written', async () => {
    const n = (await edits('ada')).length;
    expectError(await as('bob', 'PATCH', '/v1/users/ada', { name: 'Mallory' }), 'FORBIDDEN');
    expectError(await as('bob', 'PATCH', '/v1/users/bob', { name: 'Bobby' }), 'FORBIDDEN');
    // A non-admin learns nothing of who exists: 403 before any look-up.
    expectError(await as('bob', 'PATCH', '/v1/users/nobody', { name: 'X' }), 'FORBIDDEN');
    expect((await as('bob', 'GET', '/v1/users/ada')).body.user.name).toBe('Ada');
    expect(await edits('ada')).toHaveLength(n);
  });

  it("an unknown id or another app's user is 404; another app's admin cannot reach this app's users", async () => {
    expectError(await as('root', 'PATCH', '/v1/users/nobody', { name: 'X' }), 'NOT_FOUND');
    expectError(await as('root', 'PATCH', '/v1/users/zed', { name: 'Renamed' }), 'NOT_FOUND');
    expectError(await asServer('PATCH', '/v1/users/zed', { name: 'Renamed' }), 'NOT_FOUND');
    expectError(await as('boss', 'PATCH', '/v1/users/eve', { name: 'Renamed' }, other), 'NOT_FOUND');
    expect((await as('zed', 'GET', '/v1/users/zed', undefined, other)).body.user.name).toBe('Zed');
    expect((await as('eve', 'GET', '/v1/users/eve')).body.user.name).toBe('Eve');
    // The user no longer exists in the app (not a hint it would exist in another): nothing ran.
    expect(await edits('zed', other)).toEqual([]);
    expect(await edits('nobody')).toEqual([]);
  });

  it('bad values are 400 and nothing of the request is written', async () => {
    const n = (await edits('ada')).length;
    expectError(await as('root', 'PATCH', '/v1/users/ada', { name: '   ', title: 'Boss' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { name: '' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { name: 'x'.repeat(201) }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { title: 'x'.repeat(101) }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { title: 'a\u0000b' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { name: null }), 'VALIDATION_ERROR');
    // Only name and title: the rest of a profile is its owner's.
    expectError(await as('root', 'PATCH', '/v1/users/ada', { name: 'Ada L', username: 'adal' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', { title: 'T', role: 'admin' }), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', '/v1/users/ada', {}), 'VALIDATION_ERROR');
    expectError(await as('root', 'PATCH', `/v1/users/${'u'.repeat(300)}`, { name: 'X' }), 'VALIDATION_ERROR');
    expect((await as('ada', 'GET', '/v1/users/ada')).body.user).toMatchObject({ name: 'Ada', title: 'Analyst' });
    expect(await edits('ada')).toHaveLength(n);
  });

  it('a deleted user is 404', async () => {
    await h.users(app, [{ id: 'gone', name: 'Gone' }]);
    expect((await asServer('DELETE', '/v1/users/gone?mode=soft')).status).toBe(202);
    await eventually(
      async () =>
        (
          await rows<{ deleted_at: Date | null }>(
            h.database.db,
            sql`select deleted_at from users where app_id = ${app.id} and id = 'gone'`,
          )
        )[0]?.deleted_at,
      // The deletion job's turn on a loaded machine.
      60_000,
      100,
    );
    expectError(await as('root', 'PATCH', '/v1/users/gone', { name: 'Back' }), 'NOT_FOUND');
    expectError(await asServer('PATCH', '/v1/users/gone', { title: 'Back' }), 'NOT_FOUND');
    expect(await edits('gone')).toEqual([]);
  });
});

describe('in a workspace of the web app', () => {
  it('owners and admins edit members; a member may not', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner);
    const member = await buildAccount(h, 'Mia');
    await join(owner, ws.id, member);
    const own = ok(await owner.session(ws.id));
    const mine = ok(await member.session(ws.id));
    const r = await h.call({
      method: 'PATCH',
      url: `/v1/users/${mine.user_id}`,
      headers: chatHeaders(own),
      payload: { name: 'Mia Wallace', title: 'Designer' },
    });
    expect(ok(r).user).toMatchObject({ id: mine.user_id, name: 'Mia Wallace', title: 'Designer' });
    expectError(
      await h.call({
        method: 'PATCH',
        url: `/v1/users/${own.user_id}`,
        headers: chatHeaders(mine),
        payload: { name: 'Not Olive' },
      }),
      'FORBIDDEN',
    );
    const audit = ok(
      await h.call({
        method: 'GET',
        url: `/v1/audit?action=user.profile_updated&target=${mine.user_id}`,
        headers: chatHeaders(own),
      }),
    );
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ actor: { id: own.user_id }, details: { name: { to: 'Mia Wallace' } } });
  });

  it('admins edit members but not owners or other admins; owners edit admins', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner);
    const admin = await buildAccount(h, 'Adam');
    const other = await buildAccount(h, 'Ada');
    const member = await buildAccount(h, 'Mia');
    for (const who of [admin, other, member]) await join(owner, ws.id, who);
    ok(await owner.setRole(ws.id, admin.account.id, 'admin'));
    ok(await owner.setRole(ws.id, other.account.id, 'admin'));
    const [os, as, xs, ms] = await Promise.all(
      [owner, admin, other, member].map(async (b) => ok(await b.session(ws.id))),
    );
    const patch = (by: any, id: string, payload: object) =>
      h.call({ method: 'PATCH', url: `/v1/users/${id}`, headers: chatHeaders(by), payload });
    // The admin renames a member…
    expect(ok(await patch(as, ms.user_id, { title: 'Barista' })).user.title).toBe('Barista');
    // …and itself, but neither the owner nor another admin: nothing is written.
    expect(ok(await patch(as, as.user_id, { title: 'Admin' })).user.title).toBe('Admin');
    for (const target of [os.user_id, xs.user_id]) {
      const r = await patch(as, target, { name: 'Renamed' });
      expectError(r, 'FORBIDDEN');
      expect(r.body.error.details).toMatchObject({ reason: 'outranked' });
    }
    expect(
      ok(await h.call({ method: 'GET', url: `/v1/users/${os.user_id}`, headers: chatHeaders(as) })).user.name,
    ).toBe('Olive');
    // The owner renames an admin.
    expect(ok(await patch(os, xs.user_id, { name: 'Ada King' })).user.name).toBe('Ada King');
  });
});
