/**
 * Sign-in limits across nodes: with Redis (REDIS_URL, as in CI) two nodes count sign-in
 * attempts on one email against one budget, so spreading guesses over nodes gains nothing.
 * Without Redis each node counts alone (documented); there is nothing to show then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/platform/config.js';
import { RedisBroker } from '../../src/realtime/redis-broker.js';
import { type Harness, startHarness, testDatabase } from '../harness.js';
import { email, expectError, send } from './helpers.js';

const redisUrl = process.env.REDIS_URL;
const masterKey = 'b'.repeat(64);
let db: Awaited<ReturnType<typeof testDatabase>>;
let nodes: Harness[] = [];

describe.runIf(!!redisUrl)('sign-in limits over two nodes through Redis', () => {
  beforeAll(async () => {
    db = await testDatabase();
    const signin = { ...defaultConfig().signin, perIp: 100_000, perAccount: 3, lockAfter: 0 };
    for (const nodeId of ['s1', 's2']) {
      const broker = new RedisBroker(redisUrl as string, `parley-sr-${process.pid}-${Date.now()}:`);
      await broker.ready();
      nodes.push(await startHarness({ nodeId, masterKey, signin }, { database: db.database, broker }));
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    nodes = [];
    await db?.drop();
  });

  it('counts attempts on one email made on either node against one budget', async () => {
    const [n1, n2] = nodes as [Harness, Harness];
    const mail = email('spread'); // unique: the limiter's keys live in Redis for a minute
    const signin = (h: Harness) =>
      send(h, { method: 'POST', url: '/v1/auth/signin', payload: { email: mail, password: 'guess' } });
    expectError(await signin(n1), 'UNAUTHORIZED');
    expectError(await signin(n2), 'UNAUTHORIZED');
    expectError(await signin(n1), 'UNAUTHORIZED');
    const r = await signin(n2);
    expectError(r, 'RATE_LIMITED');
    expect(r.body.error.details.retry_after_ms).toBeGreaterThan(0);
  });
});
