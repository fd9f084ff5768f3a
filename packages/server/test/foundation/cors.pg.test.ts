/**
 * CORS: the header-authenticated chat API answers any origin (no credentials); the
 * cookie-authenticated account routes and the admin API stay same-origin.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }]);
});
afterAll(async () => {
  await h.close();
});

const origin = 'https://embedder.example';

it('answers a preflight for the chat API and marks its answers for any origin', async () => {
  const pre = await h.app.inject({
    method: 'OPTIONS',
    url: '/v1/channels/query',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, x-api-key, content-type',
    },
  });
  expect(pre.statusCode).toBe(204);
  expect(pre.headers['access-control-allow-origin']).toBe('*');
  expect(String(pre.headers['access-control-allow-headers'])).toContain('x-api-key');
  expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
  const r = await h.app.inject({
    method: 'POST',
    url: '/v1/channels/query',
    headers: { origin, ...(await app.user('alice')) },
    payload: {},
  });
  expect(r.statusCode).toBe(200);
  expect(r.headers['access-control-allow-origin']).toBe('*');
});

it('gives cookie and admin routes no CORS headers', async () => {
  for (const url of ['/v1/auth/signin', '/v1/workspaces', '/v1/admin/apps']) {
    const pre = await h.app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(pre.headers['access-control-allow-origin'], url).toBeUndefined();
    const r = await h.app.inject({
      method: 'POST',
      url,
      headers: { origin, 'content-type': 'application/json' },
      payload: {},
    });
    expect(r.headers['access-control-allow-origin'], url).toBeUndefined();
  }
});
