/**
 * The uploads budget on the upload route itself (`PARLEY_LIMITS` `uploads`): past it, an upload
 * is refused with `429 RATE_LIMITED` before its body is stored (nothing kept, nothing counted
 * against the quota), naming the limit, its scope and how long to wait; another person's
 * budget is their own, the direct-to-S3 route counts against the same budget, and the window's
 * end lets the person upload again.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../../src/platform/config.js';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { opaqueBytes, upload } from './helpers.js';

const WINDOW_MS = 60_000;
let now = Date.parse('2026-11-28T10:00:00Z');
let h: Harness;
let app: TestApp;
let base: string;

beforeAll(async () => {
  const limits = structuredClone(NO_LIMITS);
  limits.uploads = { user: 3, ip: 0, app: 0, windowMs: WINDOW_MS };
  h = await startHarness({ limits }, { clock: () => now });
  base = await h.listen();
  app = await h.createApp('upload-rate');
  await h.users(app, [{ id: 'ada' }, { id: 'bob' }]);
  const ch = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('ada'),
    payload: { type: 'group', id: 'files', members: ['bob'] },
  });
  expect(ch.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const stored = async (who: string) => {
  const [r] = await rows<{ n: number }>(
    h.database.db,
    sql`select count(*)::int as n from files where app_id = ${app.id} and user_id = ${who}`,
  );
  return r?.n ?? 0;
};

describe('POST /v1/channels/{cid}/uploads past the uploads budget', () => {
  it('refuses the upload past it, keeping nothing, until the window ends', async () => {
    for (let i = 0; i < 3; i++)
      expect((await upload(base, app, 'ada', 'group:files', opaqueBytes(2048), `a${i}.bin`)).status).toBe(200);
    expect(await stored('ada')).toBe(3);

    const refused = await upload(base, app, 'ada', 'group:files', opaqueBytes(64 * 1024), 'a3.bin');
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('RATE_LIMITED');
    expect(refused.json.error.details).toMatchObject({ limit: 'uploads', scope: 'user' });
    const wait = refused.json.error.details.retry_after_ms as number;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(WINDOW_MS);
    expect(await stored('ada')).toBe(3);
    // The quota saw nothing of it.
    const use = await h.call({ method: 'GET', url: '/v1/me/storage', headers: await app.user('ada') });
    expect(use.body.storage.user.files).toBe(3);

    // The direct-to-S3 route spends the same budget (refused before it looks at the storage).
    const direct = await h.call({
      method: 'POST',
      url: '/v1/channels/group:files/uploads/direct',
      headers: await app.user('ada'),
      payload: { name: 'd.bin', type: 'application/octet-stream', size: 10 },
    });
    expect(direct.status).toBe(429);
    expect(direct.body.error.details).toMatchObject({ limit: 'uploads', scope: 'user' });

    // Bob's budget is his own.
    expect((await upload(base, app, 'bob', 'group:files', opaqueBytes(2048), 'b.bin')).status).toBe(200);

    // Once the window is over, Ada uploads again.
    now += wait;
    const again = await upload(base, app, 'ada', 'group:files', opaqueBytes(2048), 'a4.bin');
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(await stored('ada')).toBe(4);
  });
});
