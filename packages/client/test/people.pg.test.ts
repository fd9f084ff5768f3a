/**
 * The SDK's side of people: `setPresence('busy')` and a follower's `state.users[id].presence`
 * changing live, a chosen end, `queryPeople` pages merged into the users map, and its title and
 * custom field filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness({ busyCheckMs: 100 });
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice Adams' },
    { id: 'bob', username: 'bob', name: 'Bob Brown' },
    ...Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, name: `Carol ${String(i).padStart(2, '0')}` })),
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('people in the SDK', () => {
  it("a follower's state shows busy and back, live; setPresence answers what others see", async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    // Presence applies to users the state knows: the directory brings alice in.
    expect((await bob.queryPeople({ q: 'alice' })).people.map((p) => p.id)).toEqual(['alice']);
    const stop = bob.watchPresence(['alice']);
    await until(() => bob.state.get().users.alice?.presence === 'online');
    expect(await alice.setPresence('busy')).toBe('busy');
    expect(alice.state.get().users.alice?.presence).toBe('busy');
    await until(() => bob.state.get().users.alice?.presence === 'busy');
    expect(await alice.setPresence('online')).toBe('online');
    await until(() => bob.state.get().users.alice?.presence === 'online');
    // With an end: back to online by itself.
    await alice.setPresence('busy', { until: new Date(Date.now() + 1_000) });
    await until(() => bob.state.get().users.alice?.presence === 'busy');
    await until(() => bob.state.get().users.alice?.presence === 'online');
    // A bad end is a typed error, and nothing changes.
    await expect(alice.setPresence('busy', { until: new Date(Date.now() - 1_000) })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    expect(alice.state.get().users.alice?.presence).toBe('online');
    stop();
  });

  it('queryPeople pages through the directory and merges people into state', async () => {
    const alice = await makeClient(h, app, 'alice');
    clients.push(alice);
    const first = await alice.queryPeople({ q: 'carol', limit: 20 });
    expect(first.people).toHaveLength(20);
    expect(first.people[0]?.name).toBe('Carol 00');
    const second = await alice.queryPeople({ q: 'carol', limit: 20, cursor: first.next });
    expect(second.people.map((p) => p.name)).toEqual(Array.from({ length: 10 }, (_, i) => `Carol ${20 + i}`));
    expect(second.next).toBeNull();
    expect(alice.state.get().users.c29?.name).toBe('Carol 29');
    await expect(alice.queryPeople({ deactivated: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('queryPeople filters by title and custom fields, paging with the filters kept', async () => {
    const server = async (method: 'POST' | 'PUT', url: string, payload: object) => {
      const r = await h.call({ method, url, headers: await app.server(), payload });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    await server('POST', '/v1/users', {
      users: [
        { id: 'alice', title: 'Staff Engineer' },
        { id: 'bob', title: 'Designer' },
      ],
    });
    const team = (
      await server('POST', '/v1/profile-fields', { name: 'Team', kind: 'choice', options: ['Red', 'Blue'] })
    ).field.id as string;
    const hidden = (await server('POST', '/v1/profile-fields', { name: 'Band', kind: 'text', visibility: 'admins' }))
      .field.id as string;
    await server('PUT', '/v1/users/alice/fields', { fields: { [team]: 'Red', [hidden]: 'x' } });
    for (let i = 0; i < 30; i += 3) await server('PUT', `/v1/users/c${i}/fields`, { fields: { [team]: 'Red' } });
    const bob = await makeClient(h, app, 'bob');
    clients.push(bob);
    expect((await bob.queryPeople({ title: 'eng' })).people.map((p) => p.id)).toEqual(['alice']);
    expect((await bob.queryPeople({ q: 'designer' })).people.map((p) => p.id)).toEqual(['bob']);
    // Eleven in Red (alice, c0, c3 … c27), four to a page.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await bob.queryPeople({ fields: { [team]: 'Red' }, limit: 4, cursor });
      seen.push(...r.people.map((p) => p.id));
      cursor = r.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['alice', ...Array.from({ length: 10 }, (_, i) => `c${i * 3}`)]);
    expect((await bob.queryPeople({ title: 'staff', fields: { [team]: 'Blue' } })).people).toEqual([]);
    // An empty value is no filter; an admins-only field is unknown to a member.
    expect((await bob.queryPeople({ title: 'staff', fields: { [team]: '' } })).people).toHaveLength(1);
    await expect(bob.queryPeople({ fields: { [hidden]: 'x' } })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: hidden },
    });
  });
});
