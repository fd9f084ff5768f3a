/**
 * Feature flags in the SDK: the connection's hello says the user's evaluated flags, so
 * `client.flag(key)` and `client.getFlags()` answer without a request, and `client.flags.state`
 * follows every change live (the app-wide `feature_flags.updated` carries each user's value) —
 * still without one; the admin calls of `client.flags` work for an app admin and are refused to
 * a member.
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
  it('knows the flags from the hello and follows each change live, without a request', async () => {
    const boss = await connect('boss');
    await boss.flags.put('beta', { description: 'Beta', enabled: true, user_ids: ['alice'] });
    const alice = await connect('alice');
    const bob = await connect('bob');
    // Every flag read over REST from here on is counted: there must be none.
    const reads: string[] = [];
    for (const c of [alice, bob]) {
      const http = (c as unknown as { http: { call: (...a: unknown[]) => Promise<unknown> } }).http;
      const call = http.call.bind(http);
      http.call = (...a: unknown[]) => {
        if (String(a[1]).startsWith('/v1/me/flags')) reads.push(String(a[1]));
        return call(...a);
      };
    }
    // From the hello: known at once.
    expect(alice.flags.state.get()).toEqual({ flags: { beta: true }, loaded: true });
    expect(alice.flag('beta')).toBe(true);
    expect(alice.flag('unknown')).toBe(false);
    expect(await bob.getFlags()).toEqual({ beta: false });

    // Bob is named: the event brings his value; alice's stays on.
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
    expect(alice.flags.state.get().flags).toEqual({ other: true });
    expect((await boss.flags.list()).map((f) => f.key)).toEqual(['other']);
    expect(reads).toEqual([]);
    // `force` still reads over REST, and agrees.
    expect(await alice.getFlags(true)).toEqual({ other: true });
  });

  it('refuses the admin calls to a member', async () => {
    const alice = await connect('alice');
    const err = await alice.flags.put('mine', { enabled: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err.code).toBe('FORBIDDEN');
    await expect(alice.flags.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
