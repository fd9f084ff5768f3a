/**
 * Typed errors: every failure answers `{error:{code,message,details?}}` with a catalogue code
 * and its status, and an unexpected failure never leaks its internals.
 */
import { ERROR_CODES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { expectError, leaksNothing, ownDatabase } from './helpers.js';

let h: Harness;
let app: TestApp;
let alice: Record<string, string>;

beforeAll(async () => {
  h = await startHarness({ bodyLimit: 2048 });
  app = await h.createApp('errors');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  alice = await app.user('alice');
  const ch = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: alice,
    payload: { type: 'group', id: 'g1', members: ['bob'] },
  });
  expect(ch.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const send = (payload: string | object, headers: Record<string, string> = {}) =>
  h.call({
    method: 'POST',
    url: '/v1/channels/group:g1/messages',
    headers: { ...alice, 'content-type': 'application/json', ...headers },
    payload,
  });

describe('request schemas', () => {
  it('every route’s schemas compile (servers compile each at its first request: a bad one would fail only there)', async () => {
    const eager = await startHarness({}, { eagerSchemas: true });
    try {
      await eager.app.ready();
      expect(eager.app.hasRoute({ method: 'POST', url: '/v1/channels/:cid/messages' })).toBe(true);
    } finally {
      await eager.close();
    }
  });

  it('a validator compiled at its first use answers as one compiled at start', async () => {
    // Body (strict: a string is not coerced), query (coerced, decimal digits only) and params.
    const bodyErr = await send({ text: 123 });
    expectError(bodyErr, 'VALIDATION_ERROR');
    for (const q of ['limit=0x10', 'limit=abc', 'limit=1e3'])
      expectError(
        await h.call({ method: 'GET', url: `/v1/channels/group:g1/messages?${q}`, headers: alice }),
        'VALIDATION_ERROR',
      );
    const ok = await h.call({ method: 'GET', url: '/v1/channels/group:g1/messages?limit=5', headers: alice });
    expect(ok.status).toBe(200);
  });
});

describe('typed errors', () => {
  it('answers malformed JSON with 400 BAD_JSON', async () => {
    expectError(await send('{"text": "unterminated'), 'BAD_JSON');
    expectError(await send('{text: 1}'), 'BAD_JSON');
    // An empty body is no body (issue 10): the route then says what it misses.
    expectError(await send(''), 'VALIDATION_ERROR');
  });

  it('answers wrong types with 400 VALIDATION_ERROR and details naming the field', async () => {
    const r = await send({ text: 12345 });
    expectError(r, 'VALIDATION_ERROR');
    expect(r.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body/text' })]));

    const members = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: alice,
      payload: { type: 'group', id: 'g2', members: 'bob' },
    });
    expectError(members, 'VALIDATION_ERROR');
    expect(members.body.error.details[0].path).toBe('body/members');

    expectError(await send({ text: null }), 'VALIDATION_ERROR');
    expectError(await send({ text: ['hi'] }), 'VALIDATION_ERROR');
    expectError(await send([{ text: 'hi' }]), 'VALIDATION_ERROR');
    expectError(
      await h.call({ method: 'GET', url: '/v1/channels/group:g1/messages?limit=lots', headers: alice }),
      'VALIDATION_ERROR',
    );
  });

  it('refuses an unknown field with 400 and names it', async () => {
    const r = await send({ text: 'hi', colour: 'red' });
    expectError(r, 'VALIDATION_ERROR');
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'colour' })]);
    expectError(
      await h.call({ method: 'GET', url: '/v1/channels/group:g1/messages?sort=desc', headers: alice }),
      'VALIDATION_ERROR',
    );
    // Nothing was written by the refused requests.
    const history = await h.call({ method: 'GET', url: '/v1/channels/group:g1/messages', headers: alice });
    expect(history.body.messages).toEqual([]);
  });

  it('answers an unknown route with 404 NOT_FOUND in the error shape', async () => {
    for (const [method, url] of [
      ['GET', '/v1/nope'],
      ['POST', '/v1/channels/group:g1/nope'],
      ['GET', '/nope'],
    ] as const) {
      const r = await h.call({ method, url, headers: alice });
      expectError(r, 'NOT_FOUND');
      expect(r.body.error.message).toContain(url);
    }
  });

  it('answers a known path with the wrong method with 405 METHOD_NOT_ALLOWED and Allow', async () => {
    const r = await h.call({ method: 'DELETE', url: '/v1/users', headers: alice });
    expectError(r, 'METHOD_NOT_ALLOWED');
    const allow = String((await h.app.inject({ method: 'DELETE', url: '/v1/users', headers: alice })).headers.allow);
    expect(allow.split(', ').sort()).toEqual(['GET', 'POST']);
    const msg = await h.call({
      method: 'PUT',
      url: `/v1/messages/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`,
      headers: alice,
    });
    expectError(msg, 'METHOD_NOT_ALLOWED');
  });

  it("answers an overlong path parameter with 400 in the error shape, not the router's own body", async () => {
    const r = await h.call({ method: 'GET', url: `/v1/messages/${'x'.repeat(300)}`, headers: alice });
    expectError(r, 'VALIDATION_ERROR');
  });

  it('answers requests during shutdown with 503 UNAVAILABLE in the error shape', async () => {
    const h2 = await startHarness();
    const closing = h2.app.close();
    const r = await h2.call({ method: 'GET', url: '/v1/nope' });
    await closing;
    await h2.close();
    expectError(r, 'UNAVAILABLE');
  });

  it('answers a body over bodyLimit with 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await send({ text: 'x'.repeat(4096) });
    expectError(r, 'PAYLOAD_TOO_LARGE');
    // Just under the limit is fine.
    expect((await send({ text: 'y'.repeat(1500) })).status).toBe(200);
  });

  it('answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectError(await send('text=hi', { 'content-type': 'text/plain' }), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(
      await send('text=hi', { 'content-type': 'application/x-www-form-urlencoded' }),
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('answers with codes from the catalogue only, and always the x-request-id', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/channels/group:g1/messages',
      headers: alice,
      payload: '{',
    });
    const body = JSON.parse(r.body);
    expect(ERROR_CODES).toContain(body.error.code);
    expect(Object.keys(body)).toEqual(['error']);
    expect(r.headers['x-request-id']).toEqual(expect.any(String));
    expect(r.headers['content-type']).toMatch(/application\/json/);
  });
});

describe('unexpected failures', () => {
  it('answer 500 INTERNAL or 503 UNAVAILABLE without stack or SQL when the database is gone', async () => {
    const own = await ownDatabase();
    const h2 = await startHarness({}, { database: own.database });
    try {
      const a2 = await h2.createApp('doomed');
      await h2.users(a2, [{ id: 'carol', name: 'Carol' }]);
      const headers = await a2.user('carol');
      // Warm the app and user caches so the failure comes from the endpoint's own query.
      expect((await h2.call({ method: 'GET', url: '/v1/users?q=car', headers })).status).toBe(200);

      await own.database.close();

      for (const req of [
        { method: 'GET' as const, url: '/v1/users?q=car', headers },
        { method: 'POST' as const, url: '/v1/channels', headers, payload: { type: 'group', id: 'x', members: [] } },
        { method: 'GET' as const, url: '/v1/users?q=x', headers: { ...headers, 'x-api-key': 'pk_never_seen' } },
      ]) {
        const r = await h2.app.inject(req);
        const body = JSON.parse(r.body);
        expect([500, 503]).toContain(r.statusCode);
        expect(['INTERNAL', 'UNAVAILABLE']).toContain(body.error.code);
        expectError({ status: r.statusCode, body }, body.error.code);
        expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
        expect(leaksNothing(r.body), r.body).toBe(true);
      }
    } finally {
      await h2.close();
      await own.drop();
    }
  });
});

describe('an unreachable database', () => {
  it('answers 503 UNAVAILABLE (retryable), and /readyz 503', async () => {
    // Nothing listens on port 1: every connection is refused.
    const database = await openDatabase({ url: 'postgres://parley@127.0.0.1:1/nothing', poolSize: 1 });
    const h3 = await startHarness({}, { database });
    try {
      const r = await h3.call({
        method: 'GET',
        url: '/v1/users?q=a',
        headers: { 'x-api-key': 'pk_whatever', authorization: 'Bearer x.y.z' },
      });
      expectError(r, 'UNAVAILABLE');
      expect(leaksNothing(JSON.stringify(r.body))).toBe(true);
      expect((await h3.call({ method: 'GET', url: '/readyz' })).status).toBe(503);
    } finally {
      await h3.close();
      await database.close();
    }
  });
});
