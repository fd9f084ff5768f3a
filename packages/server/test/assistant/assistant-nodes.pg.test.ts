/**
 * AI moderation on two nodes sharing one database and one broker (Redis when REDIS_URL is set,
 * else an in-process network): each node holds the apps whose moderation is on in memory, so a
 * change made through one node must reach the other by the broker's word — turned on there,
 * its sends are classified; turned off, they reach no model again. The provider's key, sealed
 * by one node, is opened by the other (one master key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type FakeProvider, startFakeProvider } from '../fake-openai.js';
import { clusterBrokers, eventually, type Harness, startHarness, type TestApp, testDatabase } from '../harness.js';

const broker = clusterBrokers('assistant');
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let fake: FakeProvider;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeProvider();
  db = await testDatabase();
  const config = {
    masterKey: 'a'.repeat(64),
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }),
  };
  n1 = await startHarness({ ...config, nodeId: 'a1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...config, nodeId: 'a2' }, { database: db.database, broker: await broker() });
  app = await n1.createApp();
  await n1.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  const made = await n1.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'mod', members: ['bob'] },
  });
  expect(made.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await n2?.close();
  await n1?.close();
  await db?.drop();
  await fake?.close();
});

const sendOn = async (node: Harness, text: string) =>
  node.call({
    method: 'POST',
    url: '/v1/channels/group:mod/messages',
    headers: await app.user('alice'),
    payload: { text },
  });

describe('AI moderation on two nodes', () => {
  it('a change made on one node applies on the other', async () => {
    fake.answer = () => ({ text: '{"action":"block","reason":"test"}' });
    expect((await sendOn(n2, 'before')).status).toBe(200);
    expect(fake.got).toEqual([]);
    const on = await n1.call({
      method: 'PUT',
      url: '/v1/assistant',
      headers: await app.server(),
      payload: { url: fake.url, model: 'm', key: 'sk-shared', enabled: true, moderation: true },
    });
    expect(on.status).toBe(200);
    // Node 2 hears of it on the broker, reads the settings and opens the key node 1 sealed.
    await eventually(async () => (await sendOn(n2, 'block me')).body.error?.code === 'MESSAGE_BLOCKED');
    expect(fake.got[fake.got.length - 1]?.headers.authorization).toBe('Bearer sk-shared');
    const off = await n1.call({
      method: 'PUT',
      url: '/v1/assistant',
      headers: await app.server(),
      payload: { moderation: false },
    });
    expect(off.status).toBe(200);
    await eventually(async () => (await sendOn(n2, 'block me again')).status === 200);
    const calls = fake.got.length;
    expect((await sendOn(n2, 'and again')).status).toBe(200);
    expect(fake.got.length).toBe(calls);
  });
});
