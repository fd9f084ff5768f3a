/**
 * Send rate limits: a user past the budget gets RATE_LIMITED (retryable, with retry_after_ms)
 * on both transports, other users are unaffected, and with Redis every node counts against
 * the same budget. A burst past it blocks the sender for the block period, past the window's
 * end, and sending meanwhile does not make the block longer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/platform/rate-limit.js';
import { RedisBroker } from '../../src/realtime/redis-broker.js';
import { type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const masterKey = 'b'.repeat(64);
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;

beforeAll(async () => {
  db = await testDatabase();
  const prefix = `parley-rl-${process.pid}-${Date.now()}:`;
  const broker = async () => {
    if (!redisUrl) return undefined;
    const b = new RedisBroker(redisUrl, prefix);
    await b.ready();
    return b;
  };
  const b1 = await broker();
  const b2 = await broker();
  n1 = await startHarness(
    { rateMessages: 5, rateWindowMs: 60_000, masterKey },
    { database: db.database, ...(b1 ? { broker: b1 } : {}) },
  );
  n2 = await startHarness(
    { rateMessages: 5, rateWindowMs: 60_000, masterKey },
    { database: db.database, ...(b2 ? { broker: b2 } : {}) },
  );
  app = await n1.createApp();
  await n1.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  await n1.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'rl', members: ['bob'] },
  });
});
afterAll(async () => {
  await n1.close();
  await n2.close();
  await db.drop();
});

const send = async (h: Harness, user: string, text: string) =>
  h.call({ method: 'POST', url: '/v1/channels/group:rl/messages', headers: await app.user(user), payload: { text } });

describe('send rate limit', () => {
  it('refuses the send past the budget with a retryable RATE_LIMITED, on REST and WebSocket', async () => {
    for (let i = 0; i < 5; i++) expect((await send(n1, 'alice', `ok ${i}`)).status).toBe(200);
    const refused = await send(n1, 'alice', 'one too many');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(refused.body.error.details.retry_after_ms).toBeGreaterThan(0);
    const ws = await TestSocket.connect(await n1.listen(), app, 'alice');
    const reply = await ws.request('message.send', { cid: 'group:rl', message: { text: 'socket too' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    ws.close();
    // Another user has a budget of their own.
    expect((await send(n1, 'bob', 'bob is fine')).status).toBe(200);
  });

  it.runIf(!!redisUrl)('shares the budget across nodes through Redis', async () => {
    for (let i = 0; i < 4; i++) expect((await send(n1, 'bob', `n1 ${i}`)).status).toBe(200);
    // bob has now used 5 of 5 (one in the test above): the next send fails on the other node too.
    const r = await send(n2, 'bob', 'from node 2');
    expect(r.status).toBe(429);
  });
});

describe('the block after a burst', () => {
  it('refuses every send for the block period from the first refused one, then lets them through', async () => {
    let now = Date.parse('2026-11-28T12:00:00Z');
    const h = await startHarness({ rateMessages: 3, rateWindowMs: 1_000, rateBlockSeconds: 30 }, { clock: () => now });
    try {
      const a = await h.createApp();
      await h.users(a, [{ id: 'carol' }, { id: 'dan' }]);
      const post = async (user: string, text: string) =>
        h.call({
          method: 'POST',
          url: '/v1/channels/group:blk/messages',
          headers: await a.user(user),
          payload: { text },
        });
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: await a.user('carol'),
        payload: { type: 'group', id: 'blk', members: ['dan'] },
      });
      for (let i = 0; i < 3; i++) expect((await post('carol', `burst ${i}`)).status).toBe(200);
      const first = await post('carol', 'one too many');
      expect(first.status).toBe(429);
      expect(first.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'messages', scope: 'user' } });
      expect(first.body.error.details.retry_after_ms).toBe(30_000);
      expect(first.body.error.message).toContain('none for 30 s');
      // The window (1 s) is long over; the block is not, and trying again does not lengthen it.
      now += 5_000;
      const still = await post('carol', 'still blocked');
      expect(still.status).toBe(429);
      expect(still.body.error.details.retry_after_ms).toBe(25_000);
      // Dan is not blocked.
      expect((await post('dan', 'dan is fine')).status).toBe(200);
      now += 25_000;
      expect((await post('carol', 'back')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('rate limiters', () => {
  const cases: [string, () => Promise<{ limiter: MemoryRateLimiter | RedisRateLimiter; done(): Promise<void> }>][] = [
    ['memory', async () => ({ limiter: new MemoryRateLimiter(), done: async () => {} })],
  ];
  if (redisUrl)
    cases.push([
      'redis',
      async () => {
        const b = new RedisBroker(redisUrl, `parley-rl2-${process.pid}:`);
        await b.ready();
        return {
          limiter: new RedisRateLimiter(b.client, `parley-rl2-${process.pid}-${Date.now()}:`),
          done: () => b.close(),
        };
      },
    ]);
  for (const [name, make] of cases) {
    it(`${name}: counts a window and resets after it`, async () => {
      const { limiter, done } = await make();
      const results: { ok: boolean; retryAfterMs: number }[] = [];
      for (let i = 0; i < 4; i++) results.push(await limiter.hit('k', 3, 300));
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
      expect(results[3]?.retryAfterMs).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, (results[3]?.retryAfterMs ?? 300) + 50));
      expect((await limiter.hit('k', 3, 300)).ok).toBe(true);
      await limiter.close();
      await done();
    });

    it(`${name}: a hit past the limit blocks for blockMs, past the window, without lengthening it`, async () => {
      const { limiter, done } = await make();
      const results: { ok: boolean; retryAfterMs: number }[] = [];
      for (let i = 0; i < 4; i++) results.push(await limiter.hit('b', 3, 200, 1_000));
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
      expect(results[3]?.retryAfterMs).toBeGreaterThan(800);
      // The 200 ms window is over; the block is not, and this hit does not make it longer.
      await new Promise((r) => setTimeout(r, 400));
      const during = await limiter.hit('b', 3, 200, 1_000);
      expect(during.ok).toBe(false);
      expect(during.retryAfterMs).toBeLessThanOrEqual(650);
      await new Promise((r) => setTimeout(r, during.retryAfterMs + 50));
      expect((await limiter.hit('b', 3, 200, 1_000)).ok).toBe(true);
      await limiter.close();
      await done();
    });
  }
});
