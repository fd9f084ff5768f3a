/**
 * Text reads back byte for byte on both backends. PGlite's wire reader decoded each field with
 * a TextDecoder that strips a leading U+FEFF, so `"\ufeffhello"` was answered as sent but read
 * back as `"hello"`, and a name `"\ufeff"` became `""` (platform/db/pglite-bom.ts).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
let alice: Record<string, string>;

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('bom');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  alice = await app.user('alice');
  const r = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: alice,
    payload: { type: 'group', id: 'g', members: ['bob'] },
  });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

describe('a leading byte order mark', () => {
  it('survives a message round trip: "\\ufeffhello" reads back as sent, in history and alone', async () => {
    for (const text of ['\ufeffhello', '\ufeff\ufeffx', 'a\ufeff', '\ufeff \ufeffy']) {
      const sent = await h.call({
        method: 'POST',
        url: '/v1/channels/group:g/messages',
        headers: alice,
        payload: { text },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      expect(sent.body.message.text).toBe(text);
      const one = await h.call({ method: 'GET', url: `/v1/messages/${sent.body.message.id}`, headers: alice });
      expect(one.body.message.text).toBe(text);
      const history = await h.call({ method: 'GET', url: '/v1/channels/group:g/messages?limit=1', headers: alice });
      expect(history.body.messages[0].text).toBe(text);
    }
  });

  it('survives in names and descriptions (a channel named "\\ufeffx" stays that)', async () => {
    const made = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: alice,
      payload: { type: 'group', id: 'bom2', name: '\ufeffx', description: '\ufeff', topic: '\ufeff\ufeff' },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const got = await h.call({ method: 'GET', url: '/v1/channels/group:bom2', headers: alice });
    expect(got.body.channel).toMatchObject({ name: '\ufeffx', description: '\ufeff', topic: '\ufeff\ufeff' });
    await h.users(app, [{ id: 'carol', name: '\ufeffcarol' }]);
    const carol = await h.call({ method: 'GET', url: '/v1/users/carol', headers: alice });
    expect(carol.body.user.name).toBe('\ufeffcarol');
  });

  it('survives a plain query of many rows, in text and jsonb alike', async () => {
    const got = await rows<{ t: string; j: { t: string } }>(
      h.database.db,
      sql`select chr(65279) || g::text as t, jsonb_build_object('t', chr(65279) || g::text) as j
          from generate_series(1, 2000) g`,
    );
    expect(got).toHaveLength(2000);
    for (const [i, r] of got.entries()) {
      expect(r.t).toBe(`\ufeff${i + 1}`);
      expect(r.j.t).toBe(`\ufeff${i + 1}`);
    }
  });
});
