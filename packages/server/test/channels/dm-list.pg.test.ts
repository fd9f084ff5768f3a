/** Channel lists carry a DM's members (a DM is named after them); other types do not. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { as } from './helpers.js';

let h: Harness;
let app: TestApp;
beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
    { id: 'carol', name: 'Carol' },
  ]);
});
afterAll(async () => {
  await h.close();
});

it('lists DMs with their members and users, groups without', async () => {
  const alice = as(h, app, 'alice');
  expect((await alice.create({ type: 'dm', members: ['bob', 'carol'] })).status).toBe(200);
  expect((await alice.create({ type: 'group', id: 'team', members: ['bob'] })).status).toBe(200);
  const r = await alice.query({});
  expect(r.status).toBe(200);
  const dm = r.body.channels.find((c: any) => c.type === 'dm');
  const group = r.body.channels.find((c: any) => c.type === 'group');
  expect(dm.members.map((m: any) => m.user_id).sort()).toEqual(['alice', 'bob', 'carol']);
  expect(dm.members.find((m: any) => m.user_id === 'bob').user.name).toBe('Bob');
  // Each member's presence comes along (nobody is connected here).
  expect(dm.members.map((m: any) => m.user.presence)).toEqual(['offline', 'offline', 'offline']);
  expect(group.members).toBeUndefined();
});
