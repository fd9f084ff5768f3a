/** User upsert (server token) and user search (prefix, case-insensitive, LIKE-safe). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { expectError } from './helpers.js';

let h: Harness;
let app: TestApp;

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('users');
});
afterAll(async () => {
  await h?.close();
});

const upsert = async (users: unknown) =>
  h.call({ method: 'POST', url: '/v1/users', headers: await app.server(), payload: { users } });
const find = async (query: string) =>
  h.call({ method: 'GET', url: `/v1/users${query}`, headers: await app.user('searcher') });
const ids = (r: { body: any }) => r.body.users.map((u: any) => u.id);

describe('POST /v1/users', () => {
  it('creates users with defaults and returns them', async () => {
    const r = await upsert([
      { id: 'u-create' },
      { id: 'u-full', name: 'Full Name', username: 'full', role: 'moderator' },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(2);
    expect(r.body.users[0]).toMatchObject({
      id: 'u-create',
      name: 'u-create',
      username: null,
      image: null,
      role: 'user',
    });
    expect(r.body.users[1]).toMatchObject({ id: 'u-full', name: 'Full Name', username: 'full', role: 'moderator' });
  });

  it('updates name, username, image and role, leaving omitted fields alone', async () => {
    await upsert([{ id: 'u-upd', name: 'Before', username: 'before', image: 'https://x/a.png' }]);
    const r = await upsert([{ id: 'u-upd', name: 'After', username: 'after', role: 'admin' }]);
    expect(r.status).toBe(200);
    expect(r.body.users[0]).toMatchObject({
      id: 'u-upd',
      name: 'After',
      username: 'after',
      image: 'https://x/a.png',
      role: 'admin',
    });
    const cleared = await upsert([{ id: 'u-upd', image: null, username: null }]);
    expect(cleared.body.users[0]).toMatchObject({ name: 'After', username: null, image: null, role: 'admin' });
    const one = await h.call({ method: 'GET', url: '/v1/users/u-upd', headers: await app.server() });
    expect(one.body.user).toMatchObject({ name: 'After', username: null, image: null, role: 'admin' });
  });

  it('rejects the same id twice in one request (400) and writes nothing', async () => {
    const r = await upsert([
      { id: 'u-dup', name: 'one' },
      { id: 'u-dup', name: 'two' },
    ]);
    expectError(r, 'VALIDATION_ERROR');
    const one = await h.call({ method: 'GET', url: '/v1/users/u-dup', headers: await app.server() });
    expectError(one, 'NOT_FOUND');
  });

  it('rejects the same username twice in one request, case-insensitively (400)', async () => {
    const r = await upsert([
      { id: 'u-n1', username: 'twin' },
      { id: 'u-n2', username: 'TWIN' },
    ]);
    expectError(r, 'VALIDATION_ERROR');
  });

  it("rejects a username already taken by another user (409 CONFLICT), and keeps the owner's", async () => {
    expect((await upsert([{ id: 'u-owner', username: 'taken' }])).status).toBe(200);
    expectError(await upsert([{ id: 'u-thief', username: 'taken' }]), 'CONFLICT');
    expectError(await upsert([{ id: 'u-thief', username: 'TAKEN' }]), 'CONFLICT');
    // The whole batch is one transaction: the innocent first user was not written either.
    expectError(await upsert([{ id: 'u-innocent' }, { id: 'u-thief', username: 'taken' }]), 'CONFLICT');
    expectError(await h.call({ method: 'GET', url: '/v1/users/u-innocent', headers: await app.server() }), 'NOT_FOUND');
    // The owner may re-send its own username.
    expect((await upsert([{ id: 'u-owner', username: 'taken', name: 'Owner' }])).status).toBe(200);
  });

  it('accepts 100 users and rejects 101', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `bulk-${n}-${i}` }));
    const ok = await upsert(many(100));
    expect(ok.status).toBe(200);
    expect(ok.body.users).toHaveLength(100);
    expectError(await upsert(many(101)), 'VALIDATION_ERROR');
  });

  it('rejects bad ids, an empty list, unknown roles and unknown fields', async () => {
    for (const bad of ['', 'has space', 'slash/y', 'x'.repeat(65), 'ümlaut', 'semi;colon']) {
      expectError(await upsert([{ id: bad }]), 'VALIDATION_ERROR');
    }
    expectError(await upsert([{ id: 42 }]), 'VALIDATION_ERROR');
    expectError(await upsert([]), 'VALIDATION_ERROR');
    expectError(await upsert([{ id: 'u-role', role: 'superuser' }]), 'VALIDATION_ERROR');
    expectError(await upsert([{ id: 'u-extra', password: 'x' }]), 'VALIDATION_ERROR');
    expectError(await upsert([{ id: 'u-bad-username', username: 'no spaces' }]), 'VALIDATION_ERROR');
  });
});

describe('GET /v1/users?q=', () => {
  beforeAll(async () => {
    await h.users(app, [
      { id: 's-1', name: 'Zed Zebra', username: 'zorro' },
      { id: 's-2', name: 'Zoe Quinn', username: 'quinny' },
      { id: 's-3', name: 'Yann', username: 'Zanzibar' },
      { id: 's-4', name: 'percent', username: 'pct_1' },
      { id: 's-5', name: 'pctx1', username: 'pctx1' },
    ]);
  });

  it('finds by username prefix and by name prefix, case-insensitively', async () => {
    expect(ids(await find('?q=zor'))).toEqual(['s-1']);
    expect(ids(await find('?q=ZOR'))).toEqual(['s-1']);
    expect(ids(await find('?q=quin'))).toEqual(['s-2']);
    expect(ids(await find('?q=zoe'))).toEqual(['s-2']);
    expect(ids(await find('?q=zanz'))).toEqual(['s-3']);
    expect(ids(await find('?q=z')).sort()).toEqual(['s-1', 's-2', 's-3']);
    // A prefix, not a substring.
    expect(ids(await find('?q=ebra'))).toEqual([]);
  });

  it('escapes LIKE wildcards', async () => {
    const all = await find('?limit=200');
    expect(all.body.users.length).toBeGreaterThan(5);
    expect(ids(await find(`?q=${encodeURIComponent('%')}`))).toEqual([]);
    expect(ids(await find(`?q=${encodeURIComponent('_')}`))).toEqual([]);
    // `pct_` matches the literal underscore only, not `pctx`.
    expect(ids(await find(`?q=${encodeURIComponent('pct_')}`))).toEqual(['s-4']);
    expect(ids(await find(`?q=${encodeURIComponent('\\')}`))).toEqual([]);
  });

  it('honours limit, and validates it', async () => {
    const r = await find('?q=z&limit=2');
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(2);
    expectError(await find('?q=z&limit=0'), 'VALIDATION_ERROR');
    expectError(await find('?q=z&limit=100000'), 'VALIDATION_ERROR');
    expectError(await find('?q=z&limit=abc'), 'VALIDATION_ERROR');
  });
});

describe('PATCH /v1/me', () => {
  const patch = async (user: string, payload: Record<string, unknown>) =>
    h.call({ method: 'PATCH', url: '/v1/me', headers: await app.user(user), payload });

  it('changes only the fields sent, and answers the user', async () => {
    await upsert([{ id: 'me-1', name: 'Old Name' }]);
    const r = await patch('me-1', { username: 'me.one' });
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ id: 'me-1', name: 'Old Name', username: 'me.one' });
    const renamed = await patch('me-1', { name: '  New Name  ' });
    expect(renamed.body.user).toMatchObject({ name: 'New Name', username: 'me.one' });
    expect(ids(await find('?q=me.one'))).toEqual(['me-1']);
  });

  it('refuses a username taken in any case, a blank name, unknown fields and an empty body', async () => {
    await upsert([{ id: 'me-2', username: 'Taken' }, { id: 'me-3' }]);
    expectError(await patch('me-3', { username: 'taken' }), 'CONFLICT');
    expectError(await patch('me-3', { name: '   ' }), 'VALIDATION_ERROR');
    expectError(await patch('me-3', { username: 'no spaces' }), 'VALIDATION_ERROR');
    expectError(await patch('me-3', { role: 'admin' }), 'VALIDATION_ERROR');
    expectError(await patch('me-3', {}), 'VALIDATION_ERROR');
  });

  it('needs a user token', async () => {
    const r = await h.call({ method: 'PATCH', url: '/v1/me', headers: await app.server(), payload: { name: 'x' } });
    expectError(r, 'FORBIDDEN');
  });
});
