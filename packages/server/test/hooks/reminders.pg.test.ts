/**
 * Reminders, scheduled messages and status expiry on the job queue, on both databases:
 * reminders arrive as a DM from the app's bot, scheduled messages are sent once (even when
 * their job runs twice), edits and cancels are honoured, and an expired status is cleared with
 * `presence.changed` to the people who share a channel.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMIND, SEND_SCHEDULED } from '../../src/features/reminders/job-names.js';
import { rows, schema } from '../../src/platform/db/index.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/install.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { until as untilSoon } from '../jobs/helpers.js';

/** Waits on a condition, generously: the machine these run on may be heavily shared. */
const until = <T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, ms = 60_000) =>
  untilSoon(what, fn, pred, ms);

let h: Harness;
let app: TestApp;
let base: string;

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100 });
  base = await h.listen();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  for (const [id, members] of [
    ['team', ['bob']],
    ['secret', ['carol']],
  ] as const) {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await (id === 'team' ? app.user('alice') : app.user('carol')),
      payload: { type: 'group', id, members: [...members] },
    });
    expect(r.status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
const as = async (user: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  h.call({ method, url, headers: await app.user(user), ...(payload ? { payload } : {}) });

async function messages(user: string, cid: string): Promise<{ id: string; text: string; user_id: string }[]> {
  const r = await as(user, 'GET', `/v1/channels/${cid}/messages?limit=100`);
  return r.status === 200 ? r.body.messages : [];
}

describe('reminders', { timeout: 120_000 }, () => {
  it('arrive as a DM from the app bot when due, and leave the pending list', async () => {
    const m = await as('alice', 'POST', '/v1/channels/group:team/messages', { text: 'ship the release notes' });
    const r = await as('alice', 'POST', '/v1/reminders', { message_id: m.body.message.id, remind_at: soon(1200) });
    expect(r.status).toBe(201);
    expect(r.body.reminder).toMatchObject({ status: 'pending', cid: 'group:team', message_id: m.body.message.id });
    expect(r.body.reminder.message.text).toBe('ship the release notes');
    const note = await as('alice', 'POST', '/v1/reminders', { note: 'stretch', in: '20m' });
    expect(note.status).toBe(201);
    const list = await as('alice', 'GET', '/v1/reminders');
    expect(list.body.reminders.map((x: { id: string }) => x.id)).toEqual([r.body.reminder.id, note.body.reminder.id]);

    const dm = await until(
      'the bot DM',
      async () => {
        const q = await as('alice', 'POST', '/v1/channels/query', { filter: { type: 'dm' } });
        return q.body.channels.find(
          (c: any) => c.members?.some((x: any) => x.user_id === 'parley-bot') || c.cid.startsWith('dm:'),
        );
      },
      (c) => !!c,
    );
    const texts = await until(
      'the reminder text',
      () => messages('alice', dm.cid),
      (ms) => ms.length > 0,
    );
    expect(texts).toHaveLength(1);
    expect(texts[0]?.user_id).toBe('parley-bot');
    expect(texts[0]?.id).toBe(r.body.reminder.id);
    expect(texts[0]?.text).toContain('ship the release notes');
    const after = await as('alice', 'GET', '/v1/reminders');
    expect(after.body.reminders.map((x: { id: string }) => x.id)).toEqual([note.body.reminder.id]);
    const sent = await as('alice', 'GET', '/v1/reminders?status=sent');
    expect(sent.body.reminders[0].sent_at).not.toBeNull();
    // The activity inbox has it, linked to the message it is about (and not the bot's DM as a DM).
    const inbox = await until(
      'the inbox item',
      async () => (await as('alice', 'GET', '/v1/inbox')).body.items as any[],
      (items) => items.some((i) => i.kind === 'reminder'),
    );
    expect(inbox.filter((i) => i.kind === 'reminder')).toMatchObject([
      { message_id: m.body.message.id, cid: 'group:team', actor_id: 'parley-bot' },
    ]);
    expect(inbox.some((i) => i.kind === 'dm')).toBe(false);
  });

  it('a reminder marked sent whose DM never went out (its run stopped) is sent by the next run, once', async () => {
    const made = await as('alice', 'POST', '/v1/reminders', { note: 'water the plants', in: '20m' });
    expect(made.status).toBe(201);
    const id = made.body.reminder.id as string;
    // As a run leaves it when it stops after marking the reminder sent and before its DM.
    const r = schema.reminders;
    await h.server.svc.db
      .update(r)
      .set({ status: 'sent', sentAt: new Date(), remindAt: new Date() })
      .where(and(eq(r.appId, app.id), eq(r.id, id)));
    const svc = h.server.svc;
    await svc.jobs.enqueue(svc.db, REMIND, { appId: app.id, id });
    const dmOf = async () =>
      ((await as('alice', 'POST', '/v1/channels/query', { filter: { type: 'dm' } })).body.channels as any[]).find((c) =>
        c.members?.some((x: any) => x.user_id === 'parley-bot'),
      );
    const dm = await until('the bot DM', dmOf, (c) => !!c);
    const ours = async () => (await messages('alice', dm.cid)).filter((m) => m.id === id);
    await until('the reminder DM', ours, (ms) => ms.length === 1);
    // Another run of the same job finds the DM stored, and sends nothing.
    const again = await svc.jobs.enqueue(svc.db, REMIND, { appId: app.id, id });
    await until(
      'the second run done',
      async () =>
        (
          await rows<{ state: string }>(
            svc.db,
            sql`select state::text as state from ${sql.identifier(JOBS_SCHEMA)}.job where id = ${again}`,
          )
        )[0]?.state,
      (state) => state === 'completed',
    );
    expect(await ours()).toHaveLength(1);
    expect((await as('alice', 'GET', '/v1/reminders')).body.reminders.some((x: { id: string }) => x.id === id)).toBe(
      false,
    );
  });

  it('can be cancelled (and then never arrive); refuse what the caller cannot read or bad times', async () => {
    const m = await as('alice', 'POST', '/v1/channels/group:team/messages', { text: 'cancel me' });
    const r = await as('alice', 'POST', '/v1/reminders', { message_id: m.body.message.id, remind_at: soon(800) });
    const c = await as('alice', 'DELETE', `/v1/reminders/${r.body.reminder.id}`);
    expect(c.body.reminder.status).toBe('cancelled');
    expect((await as('alice', 'DELETE', `/v1/reminders/${r.body.reminder.id}`)).status).toBe(409);
    expect((await as('bob', 'DELETE', `/v1/reminders/${r.body.reminder.id}`)).status).toBe(404);
    const marker = await as('alice', 'POST', '/v1/reminders', {
      note: 'after the cancelled one',
      remind_at: soon(1600),
    });
    const s = await as('carol', 'POST', '/v1/channels/group:secret/messages', { text: 'carol only' });
    expect((await as('alice', 'POST', '/v1/reminders', { message_id: s.body.message.id, in: '1h' })).status).toBe(404);
    for (const bad of [
      { note: 'x' },
      { note: 'x', in: '1h', remind_at: soon(5000) },
      { note: 'x', remind_at: '2001-01-01T00:00:00Z' },
      { in: '1h' },
    ])
      expect((await as('alice', 'POST', '/v1/reminders', bad)).status, JSON.stringify(bad)).toBe(400);
    await until(
      'the marker reminder',
      async () => (await as('alice', 'GET', '/v1/reminders?status=sent')).body.reminders,
      (rs) => rs.some((x: { id: string }) => x.id === marker.body.reminder.id),
    );
    const cancelled = await as('alice', 'GET', '/v1/reminders?status=cancelled');
    expect(cancelled.body.reminders.map((x: { id: string }) => x.id)).toContain(r.body.reminder.id);
  });

  it('are created, listed and cancelled over the socket too', async () => {
    const s = await TestSocket.connect(base, app, 'bob');
    const made = await s.request('reminder.create', { note: 'from the socket', in: '2h' });
    expect(made.ok).toBe(true);
    const list = await s.request('reminder.list');
    expect(list.reminders.map((x: { id: string }) => x.id)).toContain(made.reminder.id);
    const gone = await s.request('reminder.cancel', { id: made.reminder.id });
    expect(gone.reminder.status).toBe('cancelled');
    const bad = await s.request('reminder.create', { note: 'x', in: 'soonish' });
    expect(bad.ok).toBe(false);
    expect(bad.error.code).toBe('VALIDATION_ERROR');
    s.ws.close();
  });
});

describe('scheduled messages', { timeout: 120_000 }, () => {
  it('are sent once when due, with their edits; cancelled ones never', async () => {
    const a = await as('alice', 'POST', '/v1/scheduled-messages', {
      cid: 'group:team',
      text: 'draft',
      send_at: soon(1500),
    });
    expect(a.status).toBe(201);
    const b = await as('alice', 'POST', '/v1/scheduled-messages', {
      cid: 'group:team',
      text: 'never',
      send_at: soon(1000),
    });
    const edited = await as('alice', 'PATCH', `/v1/scheduled-messages/${a.body.scheduled_message.id}`, {
      text: 'final words',
    });
    expect(edited.body.scheduled_message.text).toBe('final words');
    expect((await as('alice', 'DELETE', `/v1/scheduled-messages/${b.body.scheduled_message.id}`)).status).toBe(200);
    expect(
      (await as('bob', 'PATCH', `/v1/scheduled-messages/${a.body.scheduled_message.id}`, { text: 'x' })).status,
    ).toBe(404);
    const list = await as('alice', 'GET', '/v1/scheduled-messages?cid=group:team');
    expect(list.body.scheduled_messages.map((x: { id: string }) => x.id)).toEqual([a.body.scheduled_message.id]);
    // A second job for the same row (as after a crash, or on a second node) sends nothing new.
    await h.server.svc.jobs.enqueue(
      h.server.svc.db,
      SEND_SCHEDULED,
      { appId: app.id, id: a.body.scheduled_message.id },
      { startAfterSeconds: 2 },
    );

    const msgs = await until(
      'sent',
      () => messages('bob', 'group:team'),
      (ms) => ms.some((m) => m.text === 'final words'),
    );
    const ours = msgs.filter((m) => m.id === a.body.scheduled_message.message_id);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.user_id).toBe('alice');
    expect(msgs.some((m) => m.text === 'never' || m.text === 'draft')).toBe(false);
    const row = await until(
      'marked sent',
      async () =>
        (
          await h.server.svc.db
            .select()
            .from(schema.scheduledMessages)
            .where(
              and(
                eq(schema.scheduledMessages.appId, app.id),
                eq(schema.scheduledMessages.id, a.body.scheduled_message.id),
              ),
            )
        )[0],
      (r) => r?.status === 'sent',
    );
    expect(row?.sentAt).not.toBeNull();
    // Let the duplicate job run; still one message.
    await until(
      'duplicate job done',
      async () => (await h.server.svc.jobs.counts()).filter((c) => c.name === SEND_SCHEDULED.name).length,
      (n) => n === 0,
    );
    expect(
      (await messages('bob', 'group:team')).filter((m) => m.id === a.body.scheduled_message.message_id),
    ).toHaveLength(1);
    expect(
      (await as('alice', 'PATCH', `/v1/scheduled-messages/${a.body.scheduled_message.id}`, { text: 'late' })).status,
    ).toBe(409);
  });

  it('refuse channels the caller cannot post in, past times, and mark a send that became impossible failed', async () => {
    expect(
      (await as('alice', 'POST', '/v1/scheduled-messages', { cid: 'group:secret', text: 'x', send_at: soon(5000) }))
        .status,
    ).toBe(404);
    expect(
      (
        await as('alice', 'POST', '/v1/scheduled-messages', {
          cid: 'group:team',
          text: 'x',
          send_at: '2001-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(400);
    const s = await as('bob', 'POST', '/v1/scheduled-messages', {
      cid: 'group:team',
      text: 'bob leaves first',
      send_at: soon(1200),
    });
    const rm = await as('alice', 'POST', '/v1/channels/group:team/members', { remove: ['bob'] });
    expect(rm.status).toBe(200);
    const failed = await until(
      'failed',
      async () => (await as('bob', 'GET', '/v1/scheduled-messages')).body.scheduled_messages,
      (l) => l.some((x: any) => x.id === s.body.scheduled_message.id && x.status === 'failed'),
    );
    expect(failed.find((x: any) => x.id === s.body.scheduled_message.id).error).toMatch(/^(FORBIDDEN|NOT_FOUND)/);
    await as('alice', 'POST', '/v1/channels/group:team/members', { add: ['bob'] });
  });
});

describe('statuses with an expiry', { timeout: 120_000 }, () => {
  it('are cleared by a job when due, with presence.changed to who shares a channel', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    expect((await bob.request('presence.subscribe', { user_ids: ['alice'] })).ok).toBe(true);
    const set = await as('alice', 'POST', '/v1/me/status', {
      text: 'in a meeting',
      emoji: '📅',
      expires_at: soon(1500),
    });
    expect(set.status).toBe(200);
    expect(set.body.user.status.text).toBe('in a meeting');
    await bob.waitFor(
      (f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.user.status?.text === 'in a meeting',
    );
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && !f.user.status, 60_000);
    const [row] = await h.server.svc.db
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, app.id), eq(schema.users.id, 'alice')));
    expect(row?.statusText).toBeNull();
    expect((await as('alice', 'POST', '/v1/me/status', { text: 'x', expires_at: '2001-01-01T00:00:00Z' })).status).toBe(
      400,
    );
    bob.ws.close();
  });
});
