/**
 * Feature flags end to end on both databases: the admin API (create, change, delete, list) for
 * the server token and app admins only, each change audited in its own transaction, bad input
 * refused with typed errors, another app's flags out of reach; evaluation per user (off, named
 * users, a percentage that is deterministic and close to its share of 1,000 users, raising it
 * only adds users); the app-wide `feature_flags.updated` after each change, each connection's
 * with its own user's `value`; and the user's evaluated flags in the connection's hello.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFlag, rolloutBucket } from '../../src/features/flags/index.js';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  other = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'boss', role: 'admin' }]);
  await h.users(other, [{ id: 'mallory', role: 'admin' }]);
});
afterAll(async () => {
  await h?.close();
});

const put = async (headers: Record<string, string>, key: string, payload: object) =>
  h.call({ method: 'PUT', url: `/v1/feature-flags/${key}`, headers, payload });
const mine = async (a: TestApp, user: string) =>
  (await h.call({ method: 'GET', url: '/v1/me/flags', headers: await a.user(user) })).body.flags as Record<
    string,
    boolean
  >;
const auditOf = (appId: string, key: string) =>
  rows<{ action: string; actor_kind: string; actor_id: string | null; details: any }>(
    h.database.db,
    sql`select action, actor_kind, actor_id, details from audit_log
        where app_id = ${appId} and target_kind = 'feature_flag' and target_id = ${key} order by id`,
  );

describe('the admin API', () => {
  it('creates (201), changes only the fields sent (200), lists and deletes, each change audited', async () => {
    const server = await app.server();
    const made = await put(server, 'new-composer', { description: ' The new composer ', percentage: 10 });
    expect(made.status).toBe(201);
    expect(made.body.flag).toMatchObject({
      key: 'new-composer',
      description: 'The new composer',
      enabled: false,
      percentage: 10,
      user_ids: [],
    });
    const changed = await put(await app.user('boss'), 'new-composer', { enabled: true, user_ids: ['bob', 'bob'] });
    expect(changed.status).toBe(200);
    expect(changed.body.flag).toMatchObject({ enabled: true, percentage: 10, user_ids: ['bob'] });
    const list = await h.call({ method: 'GET', url: '/v1/feature-flags', headers: server });
    expect(list.status).toBe(200);
    expect(list.body.flags.map((f: { key: string }) => f.key)).toEqual(['new-composer']);
    const del = await h.call({ method: 'DELETE', url: '/v1/feature-flags/new-composer', headers: server });
    expect(del.status).toBe(200);
    expect((await h.call({ method: 'GET', url: '/v1/feature-flags', headers: server })).body.flags).toEqual([]);
    expect(await auditOf(app.id, 'new-composer')).toEqual([
      expect.objectContaining({ action: 'feature_flag.created', actor_kind: 'server', actor_id: null }),
      expect.objectContaining({ action: 'feature_flag.updated', actor_kind: 'user', actor_id: 'boss' }),
      expect.objectContaining({ action: 'feature_flag.deleted', actor_kind: 'server' }),
    ]);
    // The audit API shows them too.
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=feature_flag.', headers: server });
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toContain('feature_flag.updated');
  });

  it('refuses bad input with VALIDATION_ERROR and writes nothing', async () => {
    const server = await app.server();
    for (const [key, body] of [
      ['Bad Key', {}],
      ['-dash-first', {}],
      ['ok', { percentage: 101 }],
      ['ok', { percentage: -1 }],
      ['ok', { percentage: 12.5 }],
      ['ok', { user_ids: ['no spaces allowed'] }],
      ['ok', { enabled: 'yes' }],
      ['ok', { colour: 'red' }],
    ] as const) {
      const r = await put(server, encodeURIComponent(key), body);
      expect(r.status, JSON.stringify([key, body])).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await h.call({ method: 'GET', url: '/v1/feature-flags', headers: server })).body.flags).toEqual([]);
    expect(await auditOf(app.id, 'ok')).toEqual([]);
    const gone = await h.call({ method: 'DELETE', url: '/v1/feature-flags/never-was', headers: server });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');
  });

  it('is for the server token and app admins only, and never reaches another app', async () => {
    expect((await put(await app.server(), 'secret-thing', { enabled: true, percentage: 100 })).status).toBe(201);
    // A member who is not an admin.
    const member = await put(await app.user('alice'), 'secret-thing', { enabled: false });
    expect(member.status).toBe(403);
    expect(member.body.error.code).toBe('FORBIDDEN');
    expect((await h.call({ method: 'GET', url: '/v1/feature-flags', headers: await app.user('alice') })).status).toBe(
      403,
    );
    // Another app's admin and server token see nothing of it, and cannot change or delete it.
    for (const headers of [await other.user('mallory'), await other.server()]) {
      const list = await h.call({ method: 'GET', url: '/v1/feature-flags', headers });
      expect(list.body.flags).toEqual([]);
      const del = await h.call({ method: 'DELETE', url: '/v1/feature-flags/secret-thing', headers });
      expect(del.status).toBe(404);
    }
    // A PUT of the same key in the other app makes the other app's own flag.
    expect((await put(await other.server(), 'secret-thing', { enabled: false })).status).toBe(201);
    expect(await mine(app, 'alice')).toMatchObject({ 'secret-thing': true });
    expect(await mine(other, 'mallory')).toEqual({ 'secret-thing': false });
    expect(await auditOf(other.id, 'secret-thing')).toHaveLength(1);
    await h.call({ method: 'DELETE', url: '/v1/feature-flags/secret-thing', headers: await app.server() });
    await h.call({ method: 'DELETE', url: '/v1/feature-flags/secret-thing', headers: await other.server() });
  });

  it('answers the server token FORBIDDEN on the user endpoint', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/me/flags', headers: await app.server() });
    expect(r.status).toBe(403);
  });
});

describe('evaluation', () => {
  it('is deterministic per flag and user, close to the percentage, and only adds users as it rises', () => {
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const at = (percentage: number) =>
      users.filter((u) => evaluateFlag({ key: 'rollout', enabled: true, percentage, userIds: [] }, u));
    const thirty = at(30);
    expect(thirty.length).toBeGreaterThan(250);
    expect(thirty.length).toBeLessThan(350);
    expect(at(30)).toEqual(thirty);
    const fifty = new Set(at(50));
    expect(thirty.every((u) => fifty.has(u))).toBe(true);
    expect(at(0)).toEqual([]);
    expect(at(100)).toHaveLength(1000);
    // Another flag picks other users.
    const other = users.filter((u) => rolloutBucket('another', u) < 30);
    expect(other).not.toEqual(thirty);
    // Off means off, named users or not.
    expect(evaluateFlag({ key: 'rollout', enabled: false, percentage: 100, userIds: ['user-1'] }, 'user-1')).toBe(
      false,
    );
  });

  it('GET /v1/me/flags: named users, the percentage and disabled flags, as the pure function says', async () => {
    const server = await app.server();
    await put(server, 'named', { enabled: true, percentage: 0, user_ids: ['bob'] });
    await put(server, 'everyone', { enabled: true, percentage: 100 });
    await put(server, 'off', { enabled: false, percentage: 100, user_ids: ['alice', 'bob'] });
    await put(server, 'thirty', { enabled: true, percentage: 30 });
    const thirty = (u: string) => rolloutBucket('thirty', u) < 30;
    expect(await mine(app, 'alice')).toEqual({ named: false, everyone: true, off: false, thirty: thirty('alice') });
    expect(await mine(app, 'bob')).toEqual({ named: true, everyone: true, off: false, thirty: thirty('bob') });
    // A user the server has not seen before is evaluated too (the token creates them).
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => mine(app, `visitor-${i}`)));
    expect(many.map((f) => f.thirty)).toEqual(many.map((_, i) => thirty(`visitor-${i}`)));
    for (const key of ['named', 'everyone', 'off', 'thirty'])
      await h.call({ method: 'DELETE', url: `/v1/feature-flags/${key}`, headers: server });
  });
});

describe('live', () => {
  it('every connection of the app gets feature_flags.updated after a change; another app gets nothing', async () => {
    const base = await h.listen();
    const alice = await TestSocket.connect(base, app, 'alice');
    const mallory = await TestSocket.connect(base, other, 'mallory');
    try {
      await put(await app.server(), 'live-one', { enabled: true, percentage: 100 });
      const e = await alice.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'live-one');
      expect(e).toMatchObject({ change: 'updated', created_at: expect.any(String) });
      expect(await mine(app, 'alice')).toMatchObject({ 'live-one': true });
      await h.call({ method: 'DELETE', url: '/v1/feature-flags/live-one', headers: await app.server() });
      await alice.waitFor((f) => f.type === 'feature_flags.updated' && f.change === 'deleted');
      // A frame to mallory's own app after alice's shows nothing of app's came first.
      await put(await other.server(), 'marker', {});
      await mallory.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'marker');
      expect(mallory.frames.filter((f) => f.type === 'feature_flags.updated').map((f) => f.key)).toEqual(['marker']);
      // A refused change sends nothing.
      await put(await app.server(), 'live-two', { percentage: 500 });
      await put(await app.server(), 'after', {});
      await alice.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'after');
      expect(alice.frames.some((f) => f.key === 'live-two')).toBe(false);
    } finally {
      alice.ws.close();
      mallory.ws.close();
    }
  });

  it('the hello carries the user’s evaluated flags; each change reaches each user with their own value', async () => {
    const base = await h.listen();
    const server = await app.server();
    await put(server, 'hello-named', { enabled: true, user_ids: ['alice'] });
    await put(server, 'hello-off', { enabled: false, percentage: 100 });
    const alice = await TestSocket.connect(base, app, 'alice');
    const bob = await TestSocket.connect(base, app, 'bob');
    const bob2 = await TestSocket.connect(base, app, 'bob');
    try {
      // Each hello: every flag of the app, as GET /v1/me/flags answers for that user.
      const helloOf = (s: TestSocket) => s.frames.find((f) => f.type === 'hello');
      expect(helloOf(alice).flags).toEqual(await mine(app, 'alice'));
      expect(helloOf(alice).flags).toMatchObject({ 'hello-named': true, 'hello-off': false });
      expect(helloOf(bob).flags).toMatchObject({ 'hello-named': false, 'hello-off': false });
      // Bob named: his connections hear true, alice's still true; the event names no other user.
      await put(server, 'hello-named', { user_ids: ['alice', 'bob'] });
      const named = (s: TestSocket) =>
        s.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'hello-named' && f.value === true);
      for (const s of [alice, bob, bob2]) expect((await named(s)).value).toBe(true);
      expect(JSON.stringify(bob.events('feature_flags.updated'))).not.toContain('user_ids');
      // Alice taken off: only her value changes.
      await put(server, 'hello-named', { user_ids: ['bob'] });
      const off = await alice.waitFor(
        (f) => f.type === 'feature_flags.updated' && f.key === 'hello-named' && f.value === false,
      );
      expect(off.change).toBe('updated');
      const bobs = await bob.waitFor(
        (f) => f.type === 'feature_flags.updated' && f.key === 'hello-named' && f.created_at === off.created_at,
      );
      expect(bobs.value).toBe(true);
      // Deleted: false for everyone; a new connection's hello has it no more.
      await h.call({ method: 'DELETE', url: '/v1/feature-flags/hello-named', headers: server });
      const gone = await bob.waitFor((f) => f.type === 'feature_flags.updated' && f.change === 'deleted');
      expect(gone).toMatchObject({ key: 'hello-named', value: false });
      const later = await TestSocket.connect(base, app, 'bob');
      expect('hello-named' in later.frames.find((f) => f.type === 'hello').flags).toBe(false);
      later.close();
      await h.call({ method: 'DELETE', url: '/v1/feature-flags/hello-off', headers: server });
    } finally {
      for (const s of [alice, bob, bob2]) s.close();
    }
  });

  it("a connect reads no flags once the node knows the app's rules (read once, until a change)", async () => {
    const base = await h.listen();
    const server = await app.server();
    await put(server, 'cached', { enabled: true, user_ids: ['alice'] });
    const first = await TestSocket.connect(base, app, 'alice');
    first.close();
    // Changed in the database behind the server's back: a connect that read the rules again
    // would see it; one that uses what the node knows does not.
    await h.database.db.execute(
      sql`update feature_flags set enabled = false where app_id = ${app.id} and key = 'cached'`,
    );
    for (let i = 0; i < 3; i++) {
      const s = await TestSocket.connect(base, app, 'alice');
      expect(s.frames.find((f) => f.type === 'hello').flags).toMatchObject({ cached: true });
      s.close();
    }
    // A change through the API is heard at once.
    await put(server, 'cached', { enabled: false });
    const after = await TestSocket.connect(base, app, 'alice');
    expect(after.frames.find((f) => f.type === 'hello').flags).toMatchObject({ cached: false });
    after.close();
    await h.call({ method: 'DELETE', url: '/v1/feature-flags/cached', headers: server });
  });
});
