/**
 * @parley/node's feature flags against a real server on a loopback port: a backend creates,
 * changes, lists and deletes flags, reads them as a user, and gets typed errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { Parley, ParleyError } from '../src/index.js';

let h: Harness;
let app: TestApp;
let parley: Parley;

beforeAll(async () => {
  h = await startHarness();
  const base = await h.listen();
  app = await h.createApp();
  parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, retries: 0 });
  await parley.users.upsert([{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  await h?.close();
});

describe('parley.flags', () => {
  it('creates, changes, lists, evaluates per user and deletes', async () => {
    const made = await parley.flags.put('beta', { description: 'Beta', enabled: true, user_ids: ['alice'] });
    expect(made).toMatchObject({ key: 'beta', enabled: true, percentage: 0, user_ids: ['alice'] });
    expect(await parley.flags.of({ as: 'alice' })).toEqual({ beta: true });
    expect(await parley.flags.of({ as: 'bob' })).toEqual({ beta: false });
    await parley.flags.put('beta', { percentage: 100 });
    expect(await parley.flags.of({ as: 'bob' })).toEqual({ beta: true });
    expect((await parley.flags.list()).map((f) => [f.key, f.percentage])).toEqual([['beta', 100]]);
    await parley.flags.delete('beta');
    expect(await parley.flags.list()).toEqual([]);
  });

  it('answers bad input and a missing flag with typed errors', async () => {
    const bad = await parley.flags.put('beta', { percentage: 101 }).catch((e) => e);
    expect(bad).toBeInstanceOf(ParleyError);
    expect(bad.code).toBe('VALIDATION_ERROR');
    await expect(parley.flags.delete('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A member is no admin.
    await expect(parley.flags.list({ as: 'alice' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
