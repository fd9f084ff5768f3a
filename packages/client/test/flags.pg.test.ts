/**
 * Feature flags in the SDK: `client.getFlags()` reads the user's evaluated flags, `client.flag(key)`
 * answers from them, and `client.flags.state` follows every change live (the app-wide
 * `feature_flags.updated` makes each client read its own values again); the admin calls of
 * `client.flags` work for an app admin and are refused to a member.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, ParleyError } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];
const connect = async (id: string) => {
  const c = await makeClient(h, app, id);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
    { id: 'boss', name: 'Boss', role: 'admin' },
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('client flags', () => {
  it('reads the flags, answers flag(key), and follows changes live', async () => {
    const boss = await connect('boss');
    const alice = await connect('alice');
    const bob = await connect('bob');
    await boss.flags.put('beta', { description: 'Beta', enabled: true, user_ids: ['alice'] });
    expect(alice.flag('beta')).toBe(false); // not read yet
    expect(await alice.getFlags()).toEqual({ beta: true });
    expect(alice.flag('beta')).toBe(true);
    expect(alice.flag('unknown')).toBe(false);
    expect(await bob.getFlags()).toEqual({ beta: false });

    // Bob is named: his client reads again on the event; alice's stays on.
    await boss.flags.put('beta', { user_ids: ['alice', 'bob'] });
    await until(() => bob.flag('beta'), 5000, 'bob gets the flag live');
    expect(alice.flag('beta')).toBe(true);
    // Turned off, then deleted: both follow.
    await boss.flags.put('beta', { enabled: false });
    await until(() => !alice.flag('beta') && !bob.flag('beta'), 5000, 'the flag goes off live');
    await boss.flags.put('other', { enabled: true, percentage: 100 });
    await until(() => alice.flags.state.get().flags.other === true, 5000, 'a new flag arrives live');
    await boss.flags.remove('beta');
    await until(() => !('beta' in alice.flags.state.get().flags), 5000, 'the deleted flag goes');
    expect((await boss.flags.list()).map((f) => f.key)).toEqual(['other']);
  });

  it('refuses the admin calls to a member', async () => {
    const alice = await connect('alice');
    const err = await alice.flags.put('mine', { enabled: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err.code).toBe('FORBIDDEN');
    await expect(alice.flags.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
