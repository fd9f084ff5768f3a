/**
 * `Idempotency-Key` on REST writes: a retry with the same key gets the first answer and does
 * nothing again; keys are the caller's own; a key cannot be reused for another request; a
 * request refused before it ran (schema, rate limit) or failed with a retryable answer frees
 * its key; a key being handled answers REQUEST_IN_PROGRESS, and an abandoned claim is taken
 * over; old answers are pruned.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/platform/db/index.js';
import { ABANDONED_MS, KEEP_MS, pruneIdempotencyKeys } from '../../src/platform/idempotency.js';
import { type Harness, QUIET, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let now = Date.parse('2026-11-25T12:00:00Z');

beforeAll(async () => {
  h = await startHarness(QUIET, { clock: () => now });
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(app, [{ id: 'ada' }, { id: 'bob' }]);
  await h.users(other, [{ id: 'ada' }]);
});
afterAll(() => h.close());

async function post(a: TestApp, as: string | null, url: string, payload: unknown, key?: string) {
  const headers = { ...(as ? await a.user(as) : await a.server()), ...(key ? { 'idempotency-key': key } : {}) };
  const r = await h.app.inject({ method: 'POST', url, headers, payload: payload as object });
  return {
    status: r.statusCode,
    body: r.body ? JSON.parse(r.body) : undefined,
    replayed: r.headers['idempotent-replayed'],
  };
}

const channelCount = async (appId: string, id: string) =>
  (
    await h.database.db
      .select()
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.id, id)))
  ).length;

describe('Idempotency-Key', () => {
  it('a retry gets the first answer, marked as replayed, and does nothing again', async () => {
    const body = { type: 'public', id: 'retried', members: ['bob'] };
    const first = await post(app, 'ada', '/v1/channels', body, 'k-create-1');
    expect(first.status).toBe(200);
    expect(first.replayed).toBeUndefined();
    const again = await post(app, 'ada', '/v1/channels', body, 'k-create-1');
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect(await channelCount(app.id, 'retried')).toBe(1);
    // Without the key the same request is a new one, and the channel exists.
    expect((await post(app, 'ada', '/v1/channels', body)).body.error.code).toBe('CONFLICT');
  });

  it('a message sent twice with one key is one message (and one seq)', async () => {
    await post(app, 'ada', '/v1/channels', { type: 'public', id: 'sends', members: ['bob'] });
    const a = await post(app, 'ada', '/v1/channels/public:sends/messages', { text: 'once' }, 'k-send');
    const b = await post(app, 'ada', '/v1/channels/public:sends/messages', { text: 'once' }, 'k-send');
    expect(b.body.message).toEqual(a.body.message);
    const history = await h.call({
      method: 'GET',
      url: '/v1/channels/public:sends/messages',
      headers: await app.user('ada'),
    });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['once']);
  });

  it('the same key for another request is refused, and changes nothing', async () => {
    await post(app, 'ada', '/v1/channels', { type: 'public', id: 'k-reuse-a' }, 'k-reuse');
    const r = await post(app, 'ada', '/v1/channels', { type: 'public', id: 'k-reuse-b' }, 'k-reuse');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await channelCount(app.id, 'k-reuse-b')).toBe(0);
  });

  it('keys are the caller’s own: another user, the server token and another app are apart', async () => {
    const key = 'k-shared';
    const byAda = await post(app, 'ada', '/v1/channels', { type: 'public', id: 'ada-own' }, key);
    const byBob = await post(app, 'bob', '/v1/channels', { type: 'public', id: 'bob-own' }, key);
    const byServer = await post(app, null, '/v1/channels', { type: 'public', id: 'srv-own', created_by: 'ada' }, key);
    const elsewhere = await post(other, 'ada', '/v1/channels', { type: 'public', id: 'ada-own' }, key);
    for (const r of [byAda, byBob, byServer, elsewhere]) {
      expect(r.status).toBe(200);
      expect(r.replayed).toBeUndefined();
    }
    expect(elsewhere.body.channel.cid).toBe('public:ada-own');
    expect(await channelCount(other.id, 'ada-own')).toBe(1);
  });

  it('a deterministic refusal is kept; one refused before it ran claims nothing', async () => {
    // NOT_FOUND (bob may not know the group exists) is what a retry would get again: kept.
    await post(app, 'ada', '/v1/channels', { type: 'group', id: 'closed' });
    const refused = await post(app, 'bob', '/v1/channels/group:closed/messages', { text: 'hi' }, 'k-refused');
    expect(refused.status).toBe(404);
    const again = await post(app, 'bob', '/v1/channels/group:closed/messages', { text: 'hi' }, 'k-refused');
    expect(again).toEqual({ ...refused, replayed: 'true' });

    // A body that fails the schema never reached the key: the fixed request with it runs.
    const bad = await post(app, 'ada', '/v1/channels', { type: 'public', id: 'fixed', bogus: 1 }, 'k-fixed');
    expect(bad.status).toBe(400);
    const fixed = await post(app, 'ada', '/v1/channels', { type: 'public', id: 'fixed' }, 'k-fixed');
    expect(fixed.status).toBe(200);
    expect(fixed.replayed).toBeUndefined();
  });

  it('a key still being handled answers REQUEST_IN_PROGRESS; an abandoned one is taken over', async () => {
    const body = { type: 'public', id: 'slowpoke' };
    const url = '/v1/channels';
    // A first request that claimed the key and is still running (or whose process died).
    const first = await post(app, 'ada', url, body, 'k-progress');
    expect(first.status).toBe(200);
    const t = schema.idempotencyKeys;
    const match = and(eq(t.appId, app.id), eq(t.principal, 'user:ada'), eq(t.key, 'k-progress'));
    await h.database.db.update(t).set({ status: null, body: null }).where(match);

    const busy = await post(app, 'ada', url, body, 'k-progress');
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('REQUEST_IN_PROGRESS');

    // A minute on, the claim is abandoned: the request runs again (and finds its channel made).
    now += ABANDONED_MS + 1_000;
    const taken = await post(app, 'ada', url, body, 'k-progress');
    expect(taken.replayed).toBeUndefined();
    expect(taken.body.error.code).toBe('CONFLICT');
    expect(await channelCount(app.id, 'slowpoke')).toBe(1);
  });

  it('two retries racing: one runs, the other waits or gets its answer, never a second channel', async () => {
    const body = { type: 'public', id: 'racing' };
    const rs = await Promise.all([1, 2, 3].map(() => post(app, 'ada', '/v1/channels', body, 'k-race')));
    const ran = rs.filter((r) => r.status === 200 && r.replayed === undefined);
    expect(ran).toHaveLength(1);
    for (const r of rs) expect([200, 409]).toContain(r.status);
    for (const r of rs.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('REQUEST_IN_PROGRESS');
    expect(await channelCount(app.id, 'racing')).toBe(1);
  });

  it('a bad key is refused as such; reads ignore the header', async () => {
    for (const key of ['', 'x'.repeat(256), 'has space']) {
      const r = await post(app, 'ada', '/v1/channels', { type: 'public', id: 'never' }, key || undefined);
      if (!key) continue; // no header at all: an ordinary request
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
      expect(r.body.error.message).toMatch(/Idempotency-Key/);
    }
    const read = await h.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { ...(await app.user('ada')), 'idempotency-key': 'has space' },
    });
    expect(read.statusCode).toBe(200);
  });

  it('answers older than a day are forgotten and pruned', async () => {
    const body = { type: 'public', id: 'daily' };
    await post(app, 'ada', '/v1/channels', body, 'k-daily');
    now += KEEP_MS + 1_000;
    // The kept answer is gone: the request runs again (and the channel now exists).
    const later = await post(app, 'ada', '/v1/channels', body, 'k-daily');
    expect(later.body.error.code).toBe('CONFLICT');
    expect(later.replayed).toBeUndefined();
    now += KEEP_MS + 1_000;
    const before = await h.database.db.select({ n: sql<number>`count(*)::int` }).from(schema.idempotencyKeys);
    expect(before[0]?.n).toBeGreaterThan(0);
    expect(await pruneIdempotencyKeys(h.database.db, now)).toBe(before[0]?.n);
  });
});
