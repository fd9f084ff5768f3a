/**
 * `parley.users.directory()` against a real server: the directory as the app and as a user,
 * filtered by title and custom profile fields (repeated `field=` in the query string), paged
 * through with the filters kept, and a member's filter on an admins-only field refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { Parley } from '../src/index.js';

let h: Harness;
let app: TestApp;
let parley: Parley;
let team: string;
let salary: string;

beforeAll(async () => {
  h = await startHarness();
  const base = await h.listen();
  app = await h.createApp('sdk-people');
  parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, backoffMs: 10 });
  await parley.users.upsert([
    { id: 'ada', name: 'Ada Lovelace', title: 'Senior Engineer' },
    { id: 'alan', name: 'Alan Turing', title: 'Engineering Manager' },
    { id: 'grace', name: 'Grace Hopper', title: 'Rear Admiral' },
    ...Array.from({ length: 12 }, (_, i) => ({ id: `p${i}`, name: `Person ${String(i).padStart(2, '0')}` })),
  ]);
  const field = async (body: object) =>
    (await parley.request<{ field: { id: string } }>('POST', '/v1/profile-fields', { body })).field.id;
  team = await field({ name: 'Team', kind: 'choice', options: ['Platform', 'Sales'] });
  salary = await field({ name: 'Salary band', kind: 'choice', options: ['A', 'B'], visibility: 'admins' });
  const set = (user: string, fields: Record<string, string>) =>
    parley.request('PUT', `/v1/users/${user}/fields`, { body: { fields } });
  await set('ada', { [team]: 'Platform', [salary]: 'B' });
  await set('alan', { [team]: 'Sales' });
  for (let i = 0; i < 12; i += 2) await set(`p${i}`, { [team]: 'Sales' });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('parley.users.directory', () => {
  it('filters by title and custom fields, ANDed, and pages with the filters kept', async () => {
    const ids = async (q: Parameters<Parley['users']['directory']>[0], as?: string) =>
      (await parley.users.directory(q, as ? { as } : {}).toArray()).map((p) => p.id);
    expect(await ids({ title: 'eng' })).toEqual(['ada', 'alan']);
    expect(await ids({ q: 'admiral' })).toEqual(['grace']);
    expect(await ids({ title: 'eng', fields: { [team]: 'Sales' } })).toEqual(['alan']);
    // Seven in Sales, three to a page: three pages, each person once.
    expect(await ids({ fields: { [team]: 'Sales' }, limit: 3 })).toEqual(['alan', 'p0', 'p2', 'p4', 'p6', 'p8', 'p10']);
    // The app sees admins-only fields; a member may not filter by one.
    expect(await ids({ fields: { [salary]: 'B' } })).toEqual(['ada']);
    await expect(ids({ fields: { [salary]: 'B' } }, 'grace')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      status: 400,
    });
    expect(await ids({ fields: { [team]: 'Platform' } }, 'grace')).toEqual(['ada']);
  });
});
