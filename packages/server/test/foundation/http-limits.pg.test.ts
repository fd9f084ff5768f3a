/**
 * Every REST route under /v1 has a limit: per client IP before anything else, and per caller
 * (user, server token) once the credentials are known. Routes with no limit of their own were
 * once unlimited (docs/security.md listed them as not done).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;

beforeAll(async () => {
  h = await startHarness({ httpLimits: { ip: 8, user: 3, server: 4, windowMs: 60_000 } });
  app = await h.createApp('http-limits');
  await h.users(app, [{ id: 'ann' }, { id: 'ben' }]);
});
afterAll(async () => {
  await h.close();
});

const get = async (headers: Record<string, string>, remoteAddress: string, url = '/v1/users?q=a') =>
  h.app.inject({ method: 'GET', url, headers, remoteAddress });

describe('the default limit of every route', () => {
  it('per user: the fourth call in the window is 429 with when to retry; another user is not held back', async () => {
    const ann = await app.user('ann');
    for (let i = 0; i < 3; i++) expect((await get(ann, `10.1.0.${i}`)).statusCode).toBe(200);
    const r = await get(ann, '10.1.0.9');
    expect(r.statusCode).toBe(429);
    const body = r.json();
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', details: { scope: 'user', limit: 'http' } });
    expect(body.error.details.retry_after_ms).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(await app.user('ben'), '10.1.1.1')).statusCode).toBe(200);
  });

  it("per app's server token", async () => {
    const server = await app.server();
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await get(server, `10.2.0.${i}`, '/v1/users?q=b')).statusCode;
    expect(last).toBe(429);
  });

  it('per IP, whoever asks (anonymous calls too), and not /healthz', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await get({}, '10.3.0.1', '/v1/openapi.json')).statusCode);
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    expect(statuses[8]).toBe(429);
    expect((await get({}, '10.3.0.1', '/healthz')).statusCode).toBe(200);
    expect((await get({}, '10.3.0.2', '/v1/openapi.json')).statusCode).toBe(200);
  });
});
