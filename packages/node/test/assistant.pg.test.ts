/**
 * @parley/node's assistant admin against a real server on a loopback port and a fake
 * OpenAI-compatible provider: a backend sets the provider (the key never answered), turns it on,
 * reads the usage meter after a user's catch-up, removes it; bad input is a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type FakeProvider, startFakeProvider } from '../../server/test/fake-openai.js';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { Parley, ParleyError } from '../src/index.js';

let h: Harness;
let app: TestApp;
let parley: Parley;
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }) });
  const base = await h.listen();
  app = await h.createApp();
  parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, retries: 0 });
  await parley.users.upsert([{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe('parley.assistant', () => {
  it('sets the provider, meters its use, and removes it', async () => {
    expect(await parley.assistant.get()).toBeNull();
    const set = await parley.assistant.put({ url: fake.url, model: 'm', key: 'sk-1', enabled: true });
    expect(set).toMatchObject({ enabled: true, has_key: true, url: fake.url });
    expect(JSON.stringify(set)).not.toContain('sk-1');
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'g', members: ['bob'], first_message: { text: 'hello' } },
    });
    expect(ch.status).toBe(200);
    fake.answer = () => ({ text: 'Alice says hello [1].', usage: { prompt_tokens: 50, completion_tokens: 6 } });
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/channels/group:g/catch-up',
      headers: await app.user('bob'),
      payload: {},
    });
    expect(r.body).toContain('"type":"done"');
    const usage = await parley.assistant.usage(1);
    expect(usage.total).toEqual({ requests: 1, prompt_tokens: 50, completion_tokens: 6 });
    await parley.assistant.delete();
    expect(await parley.assistant.get()).toBeNull();
  });

  it('answers bad input with typed errors', async () => {
    const bad = await parley.assistant.put({ url: 'ftp://x', model: 'm' }).catch((e) => e);
    expect(bad).toBeInstanceOf(ParleyError);
    expect(bad.code).toBe('VALIDATION_ERROR');
    await expect(parley.assistant.delete()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(parley.assistant.get({ as: 'alice' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
