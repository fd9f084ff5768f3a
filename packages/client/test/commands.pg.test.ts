/**
 * Slash commands in the SDK: `client.commands` lists what you may run, runs `/name args` over the
 * socket (and REST when offline), keeps your ephemeral messages by channel — on every client of
 * yours, on no one else's — and clicks their buttons (`/giphy` through a fake GIPHY on loopback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type FakeGifProvider, startGifProvider } from '../../server/test/commands/fakes.js';
import { type ChatClient, ParleyError } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let giphy: FakeGifProvider;
const clients: ChatClient[] = [];
const connect = async (id: string) => {
  const c = await makeClient(h, app, id);
  clients.push(c);
  return c;
};
const CID = 'group:cmds';

beforeAll(async () => {
  giphy = await startGifProvider('giphy', 'k1');
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_COMMANDS: giphy.host }) });
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ]);
  const set = await h.call({
    method: 'PUT',
    url: '/v1/commands/gif-provider',
    headers: await app.server(),
    payload: { provider: 'giphy', api_key: 'k1', base_url: giphy.url },
  });
  expect(set.status).toBe(200);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
  await giphy.close();
});

describe('client.commands', () => {
  it('lists, runs, and keeps ephemeral messages on each of your clients only', async () => {
    const alice = await connect('alice');
    const phone = await connect('alice');
    const bob = await connect('bob');
    await alice.channel('group', 'cmds').createChannel({ members: ['bob'], name: 'Cmds' });
    await bob.channel('group', 'cmds').watch();
    const names = (await alice.commands.list(CID)).map((c) => c.name);
    expect(names).toEqual(['giphy', 'me', 'poll', 'remind', 'schedule', 'shrug']);

    const r = await alice.commands.run(CID, '/giphy cats');
    expect(r.result).toBe('ephemeral');
    const e = r.ephemeral!;
    // Image paths come back absolute, against the client's server URL.
    expect(alice.commands.ephemeralIn(CID)[0]?.images[0]?.url).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/v1\/gif-previews\//,
    );
    await until(() => phone.commands.ephemeralIn(CID).some((x) => x.id === e.id), 5000, 'the phone has it');

    await alice.commands.act(e, 'shuffle');
    await until(
      () => phone.commands.ephemeralIn(CID)[0]?.images[0]?.url.includes(`${e.id}/1?`),
      5000,
      'the phone sees the shuffle',
    );
    const sent = await alice.commands.act(alice.commands.ephemeralIn(CID)[0]!, 'send');
    expect(sent.message?.attachments?.[0]?.kind).toBe('image');
    expect(alice.commands.ephemeralIn(CID)).toEqual([]);
    await until(() => phone.commands.ephemeralIn(CID).length === 0, 5000, 'gone from the phone');
    await until(
      () => bob.channel('group', 'cmds').state?.messages.some((m) => m.id === sent.message?.id),
      5000,
      'bob has the GIF',
    );
    expect(bob.commands.state.get().ephemeral).toEqual({});

    // A dismissed note leaves both of alice's clients.
    const n = await alice.commands.run(CID, '/remind 1h stretch');
    await until(() => phone.commands.ephemeralIn(CID).length === 1, 5000, 'the phone has the note');
    await alice.commands.dismiss(n.ephemeral!);
    await until(() => phone.commands.ephemeralIn(CID).length === 0, 5000, 'dismissed everywhere');

    const unknown = await alice.commands.run(CID, '/nope').catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(ParleyError);
    expect((unknown as ParleyError).code).toBe('UNKNOWN_COMMAND');
  });
});
