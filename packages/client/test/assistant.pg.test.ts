/**
 * The assistant in the SDK, against a real server and a fake OpenAI-compatible provider on
 * loopback: `channel.catchUp()` yields the summary as it streams and ends with its citations;
 * failures (off, a provider that errs midway) throw ParleyErrors from the loop; the thread
 * variant, `summarize`, smart replies, and the admin calls (settings, usage) for an app admin;
 * `assistant.state` follows an admin's change live (`assistant.updated`), and after a reconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type FakeProvider, startFakeProvider } from '../../server/test/fake-openai.js';
import { type ChatClient, ParleyError } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let fake: FakeProvider;
const clients: ChatClient[] = [];
const connect = async (id: string) => {
  const c = await makeClient(h, app, id);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  fake = await startFakeProvider();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }) });
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
    { id: 'boss', name: 'Boss', role: 'admin' },
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h?.close();
  await fake?.close();
});

describe('client assistant', () => {
  it('is off until an admin sets it; then streams a catch-up with citations', async () => {
    const boss = await connect('boss');
    const alice = await connect('alice');
    const bob = await connect('bob');
    expect(await bob.assistant.features()).toEqual({
      catch_up: false,
      smart_replies: false,
      smart_replies_mode: 'off',
    });
    const ch = alice.channel('group', 'plans');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const first = await ch.sendMessage({ text: 'We ship on Friday' });
    await ch.sendMessage({ text: 'Docs are late' });
    const theirs = bob.channel('group', 'plans');
    await theirs.watch();
    const off = theirs.catchUp();
    await expect(off.next()).rejects.toMatchObject({ code: 'ASSISTANT_OFF' });

    const set = await boss.assistant.put({ url: fake.url, model: 'qwen2.5', key: 'k-1', enabled: true });
    expect(set).toMatchObject({ enabled: true, has_key: true, model: 'qwen2.5' });
    expect(await boss.assistant.get()).toMatchObject({ url: fake.url });
    expect(await bob.assistant.features()).toEqual({
      catch_up: true,
      smart_replies: true,
      smart_replies_mode: 'on_request',
    });
    // The app's setting, as every user's client reads it.
    expect((await boss.assistant.put({ smart_replies_mode: 'automatic' })).smart_replies_mode).toBe('automatic');
    expect((await bob.assistant.features()).smart_replies_mode).toBe('automatic');
    await boss.assistant.put({ smart_replies_mode: 'on_request' });

    fake.answer = () => ({ text: '- Shipping Friday [1].\n- Docs are late [2].' });
    const seen: string[] = [];
    let done: { summary: string; citations: { message_id: string }[] } | null = null;
    for await (const e of theirs.catchUp()) {
      seen.push(e.type);
      if (e.type === 'done') done = e;
    }
    expect(seen[0]).toBe('start');
    expect(seen.filter((t) => t === 'delta').length).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toBe('done');
    expect(done?.summary).toBe('- Shipping Friday [1].\n- Docs are late [2].');
    expect(done?.citations.map((c) => c.message_id)[0]).toBe(first.id);

    const whole = await bob.assistant.summarize('group:plans');
    expect(whole).toMatchObject({ messages: 2, summary: expect.stringContaining('[2]') });

    // A provider that fails midway: the loop throws the stream's error.
    fake.answer = () => ({ cut: 'Shipping' });
    const failing = async () => {
      for await (const _ of theirs.catchUp()) {
        // read to the end
      }
    };
    await expect(failing()).rejects.toBeInstanceOf(ParleyError);
    await expect(failing()).rejects.toMatchObject({ code: 'ASSISTANT_UNAVAILABLE' });
  });

  it('catches up on a thread and suggests replies', async () => {
    const alice = clients[1] as ChatClient;
    const bob = clients[2] as ChatClient;
    const ch = alice.channel('group', 'plans');
    const parent = await ch.sendMessage({ text: 'Who reviews the release notes?' });
    await ch.sendMessage({ text: 'I can, after lunch', parent_id: parent.id });
    fake.answer = () => ({ text: 'Alice offers to review after lunch [2].' });
    const events = [];
    for await (const e of bob.assistant.catchUpThread(parent.id, { after_seq: 0 })) events.push(e);
    expect(events[events.length - 1]).toMatchObject({ type: 'done', citations: [{ n: 2 }] });
    fake.answer = () => ({ text: '["Thanks!", "Sounds good"]' });
    expect(await bob.assistant.suggestReplies(parent.id)).toEqual(['Thanks!', 'Sounds good']);
    const usage = await (clients[0] as ChatClient).assistant.usage(7);
    expect(usage.total.requests).toBeGreaterThanOrEqual(4);
    await expect(bob.assistant.usage()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
  it('state follows what the app offers: read once, then every admin change live and after a reconnect', async () => {
    const boss = await connect('boss');
    const bob = await connect('bob');
    expect(bob.assistant.state.get().loaded).toBe(false);
    await boss.assistant.put({ url: fake.url, model: 'qwen2.5', enabled: true, smart_replies_mode: 'on_request' });
    expect(await bob.assistant.load()).toMatchObject({ smart_replies_mode: 'on_request' });
    let reads = 0;
    const read = bob.assistant.load.bind(bob.assistant);
    bob.assistant.load = (force?: boolean) => {
      if (force) reads++;
      return read(force);
    };

    // An admin's change reaches Bob's state without a request.
    await boss.assistant.put({ smart_replies_mode: 'automatic' });
    await until(() => bob.assistant.state.get().features.smart_replies_mode === 'automatic', 5000, 'automatic');
    expect(bob.assistant.state.get().features).toEqual({
      catch_up: true,
      smart_replies: true,
      smart_replies_mode: 'automatic',
    });
    await boss.assistant.put({ smart_replies_mode: 'off' });
    await until(() => bob.assistant.state.get().features.smart_replies_mode === 'off', 5000, 'off');
    expect(bob.assistant.state.get().features.smart_replies).toBe(false);
    expect(reads).toBe(0);

    // Removed altogether: all off.
    await boss.assistant.put({ smart_replies_mode: 'on_request' });
    await until(() => bob.assistant.state.get().features.smart_replies_mode === 'on_request', 5000, 'back on');
    await boss.assistant.remove();
    await until(() => !bob.assistant.state.get().features.catch_up, 5000, 'removed');
    expect(bob.assistant.state.get().features).toEqual({
      catch_up: false,
      smart_replies: false,
      smart_replies_mode: 'off',
    });

    // A change missed while away is read again on the reconnect.
    const away = await connect('bob');
    await away.assistant.load();
    away.pauseConnection();
    await boss.assistant.put({ url: fake.url, model: 'qwen2.5', enabled: true, smart_replies_mode: 'automatic' });
    away.resumeConnection();
    await until(() => away.assistant.state.get().features.smart_replies_mode === 'automatic', 10_000, 'read again');
  });
});
