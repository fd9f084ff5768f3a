/**
 * Saved items and the reminders they make: save (again = the same item), list in pages,
 * complete, remove, live on both of the user's sockets; a due time is a reminder fired by the
 * reminders' own job; a recurring reminder fires again at its next occurrence exactly once;
 * snooze re-arms a fired reminder. Messages the user cannot read stay out of reach.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMIND } from '../../src/features/reminders/job-names.js';
import { rows, schema } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { until as untilSoon } from '../jobs/helpers.js';

const until = <T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean) => untilSoon(what, fn, pred, 60_000);

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;
/** The server's clock: real time plus `skew` (a day, to reach a recurring reminder's next day). */
let skew = 0;

const as = async (user: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, headers: await app.user(user), ...(payload ? { payload } : {}) });
const post = async (user: string, cid: string, text: string) =>
  (await as(user, 'POST', `/v1/channels/${cid}/messages`, { text })).body.message as { id: string };

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100 }, { clock: () => Date.now() + skew });
  base = await h.listen();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  await h.users(other, [{ id: 'alice' }]);
  for (const [owner, id, members] of [
    ['alice', 'team', ['bob']],
    ['carol', 'secret', []],
    ['alice', 'leaving', ['bob']],
  ] as const)
    expect((await as(owner, 'POST', '/v1/channels', { type: 'group', id, members: [...members] })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function botDm(user: string): Promise<{ id: string; text: string }[]> {
  const q = await as(user, 'POST', '/v1/channels/query', { filter: { type: 'dm' } });
  const dm = q.body.channels.find((c: { cid: string; members?: { user_id: string }[] }) =>
    c.members?.some((m) => m.user_id === 'parley-bot'),
  );
  if (!dm) return [];
  return (await as(user, 'GET', `/v1/channels/${dm.cid}/messages?limit=100`)).body.messages;
}

describe('saved items', { timeout: 120_000 }, () => {
  it('save, list in pages, complete and remove, live on both of the user’s sockets', async () => {
    const phone = await TestSocket.connect(base, app, 'bob');
    const laptop = await TestSocket.connect(base, app, 'bob');
    const alice = await TestSocket.connect(base, app, 'alice');
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(await post('alice', 'group:team', `note ${i}`));
    for (const m of ms) expect((await as('bob', 'POST', '/v1/saved', { message_id: m.id })).status).toBe(201);
    const again = await as('bob', 'POST', '/v1/saved', { message_id: ms[0]?.id });
    const p1 = (await as('bob', 'GET', '/v1/saved?limit=2')).body;
    expect(p1.saved_items.map((x: { message: { text: string } }) => x.message.text)).toEqual(['note 4', 'note 3']);
    const p2 = (await as('bob', 'GET', `/v1/saved?limit=2&cursor=${p1.next}`)).body;
    const p3 = (await as('bob', 'GET', `/v1/saved?limit=2&cursor=${p2.next}`)).body;
    expect(p3.next).toBeUndefined();
    const all = [...p1.saved_items, ...p2.saved_items, ...p3.saved_items];
    expect(all).toHaveLength(5);
    expect(all.at(-1).id).toBe(again.body.saved_item.id);

    const done = await as('bob', 'PATCH', `/v1/saved/${all[1].id}`, { status: 'completed' });
    expect(done.body.saved_item).toMatchObject({ status: 'completed' });
    expect(done.body.saved_item.completed_at).not.toBeNull();
    expect((await as('bob', 'GET', '/v1/saved')).body.saved_items).toHaveLength(4);
    expect(
      (await as('bob', 'GET', '/v1/saved?status=completed')).body.saved_items.map((x: { id: string }) => x.id),
    ).toEqual([all[1].id]);
    expect((await as('bob', 'DELETE', `/v1/saved/${all[0].id}`)).status).toBe(200);
    expect((await as('bob', 'DELETE', `/v1/saved/${all[0].id}`)).status).toBe(404);

    for (const s of [phone, laptop]) {
      await s.waitFor((f) => f.type === 'saved.updated' && f.change === 'removed' && f.saved_item.id === all[0].id);
      const changes = s.events('saved.updated').map((e) => e.change);
      expect(changes).toEqual(['saved', 'saved', 'saved', 'saved', 'saved', 'updated', 'updated', 'removed']);
    }
    expect(alice.events('saved.updated')).toEqual([]);
    // Alice's list is her own.
    expect((await as('alice', 'GET', '/v1/saved')).body.saved_items).toEqual([]);
    expect((await as('alice', 'PATCH', `/v1/saved/${all[2].id}`, { status: 'completed' })).status).toBe(404);
    for (const s of [phone, laptop, alice]) s.close();
  });

  it('refuses what the user cannot read, hides what they no longer may, and keeps apps apart', async () => {
    const secret = await post('carol', 'group:secret', 'carol only');
    const r = await as('alice', 'POST', '/v1/saved', { message_id: secret.id });
    expect([r.status, r.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const m = await post('alice', 'group:leaving', 'soon out of reach');
    const saved = (await as('bob', 'POST', '/v1/saved', { message_id: m.id })).body.saved_item;
    expect((await as('bob', 'GET', '/v1/saved')).body.saved_items.map((x: { id: string }) => x.id)).toContain(saved.id);
    expect((await as('alice', 'POST', '/v1/channels/group:leaving/members', { remove: ['bob'] })).status).toBe(200);
    expect(JSON.stringify((await as('bob', 'GET', '/v1/saved')).body)).not.toContain('soon out of reach');
    // The same user id in another app sees nothing and reaches nothing.
    const aliceOther = await h.call({ method: 'GET', url: '/v1/saved', headers: await other.user('alice') });
    expect(aliceOther.body.saved_items).toEqual([]);
    const del = await h.call({ method: 'DELETE', url: `/v1/saved/${saved.id}`, headers: await other.user('alice') });
    expect(del.status).toBe(404);
    for (const [what, body] of [
      ['no message', {}],
      ['not a uuid', { message_id: 'x' }],
      ['unknown message', { message_id: '01900000-0000-7000-8000-000000000000' }],
      ['both times', { message_id: m.id, in: '1h', remind_at: new Date(Date.now() + 9e6).toISOString() }],
      ['past', { message_id: m.id, remind_at: '2001-01-01T00:00:00Z' }],
      ['repeat without time', { message_id: m.id, repeat: 'daily' }],
      ['bad repeat', { message_id: m.id, in: '1h', repeat: 'hourly' }],
    ] as const) {
      const x = await as('alice', 'POST', '/v1/saved', body);
      expect(x.status, what).toBe(what === 'unknown message' ? 404 : 400);
    }
    for (const q of ['limit=0', 'limit=101', 'cursor=nope', 'status=all'])
      expect((await as('bob', 'GET', `/v1/saved?${q}`)).status, q).toBe(400);
    expect((await as('bob', 'PATCH', `/v1/saved/${saved.id}`, { status: 'gone' })).status).toBe(400);
  });

  it('a due time is a reminder; snooze re-arms it once it fired; completing cancels a pending one', async () => {
    const m = await post('alice', 'group:team', 'review the budget');
    const s = (
      await as('bob', 'POST', '/v1/saved', { message_id: m.id, remind_at: new Date(Date.now() + 1000).toISOString() })
    ).body.saved_item;
    expect(s.reminder_id).not.toBeNull();
    expect(s.due_at).not.toBeNull();
    const early = await as('bob', 'POST', `/v1/reminders/${s.reminder_id}/snooze`, { in: '20m' });
    expect([early.status, early.body.error.code]).toEqual([409, 'CONFLICT']);
    await until(
      'the reminder DM',
      () => botDm('bob'),
      (xs) => xs.some((x) => x.id === s.reminder_id),
    );
    const fired = await until(
      'due_at cleared',
      async () => (await as('bob', 'GET', '/v1/saved')).body.saved_items.find((x: { id: string }) => x.id === s.id),
      (x) => x?.due_at === null,
    );
    expect(fired.status).toBe('saved');
    const snoozed = await as('bob', 'POST', `/v1/reminders/${s.reminder_id}/snooze`, { in: '20m' });
    expect(snoozed.status).toBe(200);
    expect(snoozed.body.reminder.status).toBe('pending');
    expect(Date.parse(snoozed.body.reminder.remind_at) - Date.now()).toBeGreaterThan(19 * 60_000);
    expect((await as('bob', 'POST', `/v1/reminders/${s.reminder_id}/snooze`, { in: '20m' })).status).toBe(409);
    expect((await as('alice', 'POST', `/v1/reminders/${s.reminder_id}/snooze`, { in: '20m' })).status).toBe(404);
    expect((await as('bob', 'POST', `/v1/reminders/${s.reminder_id}/snooze`, { in: 'later' })).status).toBe(400);
    const listed = (await as('bob', 'GET', '/v1/saved')).body.saved_items.find((x: { id: string }) => x.id === s.id);
    expect(listed.due_at).toBe(snoozed.body.reminder.remind_at);
    await as('bob', 'PATCH', `/v1/saved/${s.id}`, { status: 'completed' });
    const cancelled = (await as('bob', 'GET', '/v1/reminders?status=cancelled')).body.reminders;
    expect(cancelled.map((x: { id: string }) => x.id)).toContain(s.reminder_id);
  });

  it('a recurring reminder fires again at its next occurrence, exactly once', async () => {
    const m = await post('alice', 'group:team', 'daily standup notes');
    const s = (
      await as('alice', 'POST', '/v1/saved', {
        message_id: m.id,
        remind_at: new Date(Date.now() + skew + 1000).toISOString(),
        repeat: 'daily',
      })
    ).body.saved_item;
    expect(s.repeat).toBe('daily');
    const first = await until(
      'the first firing',
      () => botDm('alice'),
      (xs) => xs.some((x) => x.text.includes('daily standup notes')),
    );
    const r = schema.reminders;
    const row = async () =>
      (
        await h.server.svc.db
          .select()
          .from(r)
          .where(and(eq(r.appId, app.id), eq(r.id, s.reminder_id)))
      )[0];
    const moved = await until('moved to the next day', row, (x) => !!x?.dmId);
    expect(moved?.status).toBe('pending');
    expect((moved?.remindAt.getTime() ?? 0) - Date.parse(s.due_at)).toBe(86_400_000);
    const before = first.filter((x) => x.text.includes('daily standup notes')).length;
    expect(before).toBe(1);

    // A day passes: the server's clock and the queue's (the job's start time) move on.
    skew += 86_400_000;
    await h.server.svc.db.execute(
      sql`update pgboss.job set start_after = now() where name = ${REMIND.name} and data->>'id' = ${s.reminder_id} and state = 'created'`,
    );
    // A second job for the same occurrence (a crash, a second node) sends nothing new.
    await h.server.svc.jobs.enqueue(h.server.svc.db, REMIND, { appId: app.id, id: s.reminder_id });
    const second = await until(
      'the second firing',
      () => botDm('alice'),
      (xs) => xs.filter((x) => x.text.includes('daily standup notes')).length >= 2,
    );
    expect(second.some((x) => x.id === moved?.dmId)).toBe(true);
    await until(
      'both jobs done',
      async () =>
        (
          await rows(
            h.server.svc.db,
            sql`select id from pgboss.job where name = ${REMIND.name} and data->>'id' = ${s.reminder_id} and state in ('created', 'retry', 'active') and start_after <= now()`,
          )
        ).length,
      (n) => n === 0,
    );
    const after = await row();
    expect(after?.remindAt.getTime()).toBe((moved?.remindAt.getTime() ?? 0) + 86_400_000);
    expect((await botDm('alice')).filter((x) => x.text.includes('daily standup notes'))).toHaveLength(2);
    skew = 0;
  });
});
