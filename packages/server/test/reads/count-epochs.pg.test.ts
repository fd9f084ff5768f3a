/**
 * A channel's count epoch (`channel_count_epochs`, migration 0054): the unread pushes add new
 * messages to the passes a node kept while it holds (features/reads/kept-passes.ts), so it must
 * be new after every change that moves counts other than a new message, and must stay while the
 * channel only grows, or the kept passes would never be used.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(
    app,
    ['ada', 'bob'].map((id) => ({ id, name: id, username: id })),
  );
});
afterAll(async () => {
  await h?.close();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function rest(user: string, method: Method, url: string, payload?: unknown) {
  const r = await h.call({ method, url, headers: await app.user(user), ...(payload ? { payload } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}
const send = async (cid: string, text: string, extra: Record<string, unknown> = {}) =>
  (await rest('ada', 'POST', `/v1/channels/${cid}/messages`, { text, ...extra })).message;

/** The channel's epoch now (null: no row). */
async function epoch(cid: string): Promise<number | null> {
  const [r] = await rows<{ epoch: number | string }>(
    h.server.svc.db,
    sql`select epoch from channel_count_epochs where app_id = ${app.id} and cid = ${cid}`,
  );
  return r ? Number(r.epoch) : null;
}

describe('channel count epochs', () => {
  it('stay while a channel only grows, and are new after each change that moves counts', async () => {
    const cid = (await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'epochs', members: ['bob'] })).channel
      .cid as string;
    const seen = new Set<number>();
    let e = await epoch(cid);
    expect(e).not.toBeNull();
    seen.add(e as number);

    // Growing: messages, a reply kept in its thread, a reaction, a pin, an edit of the words.
    const first = await send(cid, 'one');
    await send(cid, 'in the thread', { parent_id: first.id });
    await rest('bob', 'POST', `/v1/messages/${first.id}/reactions`, { type: 'like' });
    await rest('ada', 'POST', `/v1/messages/${first.id}/pin`);
    await rest('ada', 'PATCH', `/v1/messages/${first.id}`, { text: 'one, edited' });
    await rest('bob', 'POST', `/v1/channels/${cid}/read`, { seq: 1 });
    expect(await epoch(cid)).toBe(e);

    // Each change that moves counts: a new epoch, never one seen before.
    const changes: [string, () => Promise<unknown>][] = [
      ['@channel added by an edit', () => rest('ada', 'PATCH', `/v1/messages/${first.id}`, { text: 'hey @channel' })],
      ['@channel taken out', () => rest('ada', 'PATCH', `/v1/messages/${first.id}`, { text: 'hey all' })],
      ['a message deleted', () => rest('ada', 'DELETE', `/v1/messages/${first.id}`)],
      [
        'a message removed from the table',
        async () => {
          const m = await send(cid, 'going');
          await h.server.svc.db.execute(sql`delete from messages where app_id = ${app.id} and id = ${m.id}`);
        },
      ],
    ];
    for (const [what, change] of changes) {
      await change();
      const now = await epoch(cid);
      expect(seen.has(now as number), what).toBe(false);
      seen.add(now as number);
      e = now;
    }

    // The channel deleted takes its row; made again under its cid, it starts with a new epoch.
    await h.server.svc.db.execute(sql`delete from members where app_id = ${app.id} and cid = ${cid}`);
    await h.server.svc.db.execute(sql`delete from channels where app_id = ${app.id} and cid = ${cid}`);
    expect(await epoch(cid)).toBeNull();
    await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'epochs', members: ['bob'] });
    const again = await epoch(cid);
    expect(again).not.toBeNull();
    expect(seen.has(again as number)).toBe(false);
  });
});
