/**
 * Authentication over REST: which tokens and keys are accepted and which are refused, with
 * the catalogue code in the `{error:{code,message}}` shape; and the admin API.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/platform/auth.js';
import { ADMIN, type Harness, startHarness, type TestApp } from '../harness.js';
import { expectError } from './helpers.js';

let h: Harness;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  h = await startHarness();
  a = await h.createApp('auth-a');
  b = await h.createApp('auth-b');
  await h.users(a, [{ id: 'alice' }, { id: 'bob' }]);
  const ch = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await a.user('alice'),
    payload: { type: 'group', id: 'g1', members: ['bob'] },
  });
  expect(ch.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const search = (headers: Record<string, string>, url = '/v1/users?q=a') => h.call({ method: 'GET', url, headers });
const bearer = (apiKey: string, token: string) => ({ 'x-api-key': apiKey, authorization: `Bearer ${token}` });

describe('REST tokens', () => {
  it('accepts a valid user token and a valid server token', async () => {
    const asUser = await search(await a.user('alice'));
    expect(asUser.status).toBe(200);
    expect(asUser.body.users.map((u: any) => u.id)).toContain('alice');
    const asServer = await search(await a.server());
    expect(asServer.status).toBe(200);
  });

  it('accepts the API key as the api_key query parameter', async () => {
    const r = await h.call({
      method: 'GET',
      url: `/v1/users?q=a&api_key=${encodeURIComponent(a.apiKey)}`,
      headers: { authorization: `Bearer ${await a.token('alice')}` },
    });
    expect(r.status).toBe(200);
  });

  it('refuses a token signed with another secret (401 UNAUTHORIZED)', async () => {
    const forged = await signToken('sk_not-the-apps-secret', 'alice');
    expectError(await search(bearer(a.apiKey, forged)), 'UNAUTHORIZED');
  });

  it('refuses a token whose signature was tampered with', async () => {
    const good = await a.token('alice');
    const [head, , sig] = good.split('.');
    const claims = Buffer.from(JSON.stringify({ sub: 'bob', iat: Math.floor(Date.now() / 1000) })).toString(
      'base64url',
    );
    expectError(await search(bearer(a.apiKey, `${head}.${claims}.${sig}`)), 'UNAUTHORIZED');
  });

  it('refuses an expired token', async () => {
    const expired = await a.token('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const r = await search(bearer(a.apiKey, expired));
    expectError(r, 'UNAUTHORIZED');
    expect(r.body.error.message).toMatch(/expired/i);
  });

  it('refuses an unsigned (alg none) token and a token of another algorithm', async () => {
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'alice' }),
    ).toString('base64url')}.`;
    expectError(await search(bearer(a.apiKey, none)), 'UNAUTHORIZED');
    const hs512 = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(a.secret.padEnd(64, 'x')));
    expectError(await search(bearer(a.apiKey, hs512)), 'UNAUTHORIZED');
  });

  it('refuses a token naming neither a user nor the server, and a malformed sub', async () => {
    const key = new TextEncoder().encode(a.secret);
    const nobody = await new SignJWT({ role: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expectError(await search(bearer(a.apiKey, nobody)), 'UNAUTHORIZED');
    const badSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('a b/c').sign(key);
    expectError(await search(bearer(a.apiKey, badSub)), 'UNAUTHORIZED');
    const serverString = await new SignJWT({ server: 'true' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expectError(await search(bearer(a.apiKey, serverString)), 'UNAUTHORIZED');
  });

  it("refuses app B's token sent with app A's API key", async () => {
    expectError(await search(bearer(a.apiKey, await b.token('alice'))), 'UNAUTHORIZED');
    expectError(await search(bearer(a.apiKey, await b.token(null))), 'UNAUTHORIZED');
  });

  it('refuses a missing API key', async () => {
    const r = await search({ authorization: `Bearer ${await a.token('alice')}` });
    expectError(r, 'UNAUTHORIZED');
    expect(r.body.error.message).toMatch(/api key/i);
  });

  it('refuses an unknown API key', async () => {
    const r = await search(bearer('pk_unknown', await a.token('alice')));
    expectError(r, 'UNAUTHORIZED');
    expect(r.body.error.message).toMatch(/unknown api key/i);
  });

  it('refuses a missing or malformed bearer', async () => {
    expectError(await search({ 'x-api-key': a.apiKey }), 'UNAUTHORIZED');
    expectError(
      await search({ 'x-api-key': a.apiKey, authorization: `Basic ${await a.token('alice')}` }),
      'UNAUTHORIZED',
    );
    expectError(await search({ 'x-api-key': a.apiKey, authorization: 'Bearer' }), 'UNAUTHORIZED');
    expectError(await search({ 'x-api-key': a.apiKey, authorization: 'Bearer not.a.jwt' }), 'UNAUTHORIZED');
  });

  it('refuses a user token on a server-only endpoint (403 FORBIDDEN)', async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/users',
      headers: await a.user('alice'),
      payload: { users: [{ id: 'mallory', role: 'admin' }] },
    });
    expectError(r, 'FORBIDDEN');
    const found = await search(await a.server(), '/v1/users?q=mallory');
    expect(found.body.users).toEqual([]);
  });

  it('refuses a server token on a user-only endpoint (403 FORBIDDEN)', async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels/group:g1/messages',
      headers: await a.server(),
      payload: { text: 'from the backend' },
    });
    expectError(r, 'FORBIDDEN');
    const history = await h.call({ method: 'GET', url: '/v1/channels/group:g1/messages', headers: await a.server() });
    expect(history.status).toBe(200);
    expect(history.body.messages).toEqual([]);
  });

  it('checks credentials before the body: an anonymous malformed request gets 401, not 400', async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/users',
      headers: { 'x-api-key': a.apiKey },
      payload: { users: 'not an array', extra: true },
    });
    expectError(r, 'UNAUTHORIZED');
  });
});

describe('admin API', () => {
  const createApp = (headers: Record<string, string>, payload: object = { name: 'made-by-admin' }) =>
    h.call({ method: 'POST', url: '/v1/admin/apps', headers, payload });

  it('refuses a missing or wrong admin token (401)', async () => {
    expectError(await createApp({}), 'UNAUTHORIZED');
    expectError(await createApp({ authorization: 'Bearer wrong-admin-token' }), 'UNAUTHORIZED');
    expectError(await createApp({ authorization: `Bearer ${ADMIN}x` }), 'UNAUTHORIZED');
    // An app's credentials are not admin credentials.
    expectError(await createApp({ authorization: `Bearer ${a.secret}` }), 'UNAUTHORIZED');
    expectError(await createApp(await a.server()), 'UNAUTHORIZED');
    expectError(await h.call({ method: 'GET', url: '/v1/admin/apps' }), 'UNAUTHORIZED');
    expectError(
      await h.call({
        method: 'POST',
        url: `/v1/admin/apps/${a.id}/tokens`,
        headers: { authorization: 'Bearer nope' },
        payload: { user_id: 'alice' },
      }),
      'UNAUTHORIZED',
    );
  });

  it('creates an app with the right token and returns id, api_key, api_secret', async () => {
    const r = await createApp({ authorization: `Bearer ${ADMIN}` }, { name: 'made-by-admin' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      api_key: expect.any(String),
      api_secret: expect.any(String),
    });
    expect(r.body.api_key).not.toBe(r.body.api_secret);
    // The new credentials work at once.
    const token = await signToken(r.body.api_secret, 'newbie');
    expect((await search(bearer(r.body.api_key, token))).status).toBe(200);
  });

  it('validates the create body', async () => {
    expectError(await createApp({ authorization: `Bearer ${ADMIN}` }, {}), 'VALIDATION_ERROR');
    expectError(await createApp({ authorization: `Bearer ${ADMIN}` }, { name: '' }), 'VALIDATION_ERROR');
  });

  it('lists apps without their secrets', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/admin/apps', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(r.status).toBe(200);
    const ids = r.body.apps.map((x: any) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    for (const app of r.body.apps) {
      expect(Object.keys(app).sort()).toEqual(['api_key', 'created_at', 'id', 'name']);
    }
    const raw = JSON.stringify(r.body);
    expect(raw).not.toContain(a.secret);
    expect(raw).not.toContain(b.secret);
    expect(raw).not.toMatch(/secret|sealed/i);
  });

  it('mints user and server tokens that work, and 404s for an unknown app', async () => {
    const mint = (id: string, payload: object) =>
      h.call({
        method: 'POST',
        url: `/v1/admin/apps/${id}/tokens`,
        headers: { authorization: `Bearer ${ADMIN}` },
        payload,
      });
    const user = await mint(a.id, { user_id: 'minted-user' });
    expect(user.status).toBe(200);
    const me = await h.call({ method: 'GET', url: '/v1/me', headers: bearer(a.apiKey, user.body.token) });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe('minted-user');

    const server = await mint(a.id, { user_id: null, expires_in: '1h' });
    expect(server.status).toBe(200);
    const upsert = await h.call({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(a.apiKey, server.body.token),
      payload: { users: [{ id: 'via-minted-server' }] },
    });
    expect(upsert.status).toBe(200);

    // A token minted for A is A's only.
    expectError(await search(bearer(b.apiKey, user.body.token)), 'UNAUTHORIZED');
    expectError(await mint('00000000-0000-4000-8000-000000000000', { user_id: 'x' }), 'NOT_FOUND');
    expectError(await mint(a.id, { user_id: 'bad id!' }), 'VALIDATION_ERROR');
    // A lifetime must be positive and bounded: `0s` is dead on arrival, 40 digits an absurd `exp`.
    for (const expires_in of ['0s', '0 h', `${'9'.repeat(40)}s`, '1y', '-1h'])
      expectError(await mint(a.id, { user_id: 'x', expires_in }), 'VALIDATION_ERROR');
    expect((await mint(a.id, { user_id: 'x', expires_in: '999999w' })).status).toBe(200);
  });
});
