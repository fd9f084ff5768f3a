/**
 * Tasks from messages, on both databases: make, list, reassign, complete, reopen and delete a
 * message's task over REST and the socket (one action); every member of the channel hears
 * `task.*`, the assignee gets an inbox item, a due time is the assignee's reminder (the bot's DM
 * when due, cancelled when done or moved), and webhook endpoints get `task.created`,
 * `task.updated` and `task.deleted`, signed, in the channel's lane. Bad input — an assignee who
 * is no member, a past or unreadable due time, a deleted message, a second task, another app's
 * ids, a reader who is no member — gets its typed error and writes nothing.
 *
 * With them: a saved item's own note, and following a channel's notes (an inbox item when someone
 * else changes one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxSettled } from '../../src/features/inbox/record.js';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { type Received, type Receiver, startReceiver } from '../hooks/helpers.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;
let rcv: Receiver;
let secret: string;

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const as = async (user: string, method: Method, url: string, payload?: object, a: TestApp = app) =>
  h.call({ method, url, headers: await a.user(user), ...(payload ? { payload } : {}) });
const post = async (user: string, cid: string, text: string) => {
  const r = await as(user, 'POST', `/v1/channels/${cid}/messages`, { text });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.message as { id: string };
};
const inbox = async (user: string, query = '') => {
  await inboxSettled(h.server.svc);
  const r = await as(user, 'GET', `/v1/inbox${query}`);
  expect(r.status).toBe(200);
  return r.body.items as any[];
};
const soon = (ms: number) => new Date(Date.now() + ms).toISOString();

async function botDm(user: string): Promise<{ id: string; text: string }[]> {
  const q = await as(user, 'POST', '/v1/channels/query', { filter: { type: 'dm' } });
  const dm = q.body.channels.find((c: { members?: { user_id: string }[] }) =>
    c.members?.some((m) => m.user_id === 'parley-bot'),
  );
  if (!dm) return [];
  return (await as(user, 'GET', `/v1/channels/${dm.cid}/messages?limit=100`)).body.messages;
}

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    webhookRetryBaseMs: 50,
  });
  base = await h.listen();
  app = await h.createApp('tasks');
  other = await h.createApp('tasks-other');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dave' }]);
  await h.users(other, [{ id: 'alice' }, { id: 'bob' }]);
  for (const [owner, type, id, members] of [
    ['alice', 'group', 'team', ['bob', 'carol']],
    ['dave', 'group', 'secret', []],
    ['alice', 'public', 'town', ['bob']],
  ] as const)
    expect((await as(owner, 'POST', '/v1/channels', { type, id, members: [...members] })).status, `${type}:${id}`).toBe(
      200,
    );
  const hook = await as('alice', 'POST', '/v1/webhooks', { url: `${rcv.url}/tasks`, events: ['task.*'] });
  if (hook.status !== 201) {
    // Webhooks are an admin's: register with the server token.
    const r = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: `${rcv.url}/tasks`, events: ['task.*'] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    secret = r.body.secret;
  } else secret = hook.body.secret;
}, 60_000);

afterAll(async () => {
  await h?.close();
  await rcv?.close();
});

describe('tasks from messages', { timeout: 120_000 }, () => {
  it('make, list, reassign, complete, reopen and delete; the channel hears each, the assignee’s inbox gets one', async () => {
    const bobWs = await TestSocket.connect(base, app, 'bob');
    const carolWs = await TestSocket.connect(base, app, 'carol');
    const m = await post('alice', 'group:team', 'Ship the release notes');
    const made = await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'bob' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const task = made.body.task;
    expect(task).toMatchObject({
      cid: 'group:team',
      message_id: m.id,
      assignee_id: 'bob',
      created_by: 'alice',
      status: 'open',
      due_at: null,
      reminder_id: null,
      completed_at: null,
    });
    expect(task.message.text).toBe('Ship the release notes');
    for (const s of [bobWs, carolWs]) {
      const e = await s.waitFor((f) => f.type === 'task.created' && f.task.id === task.id);
      expect(e.cid).toBe('group:team');
    }
    // The assignee's Activity: one `task` item, under the Tasks filter too.
    const item = (await inbox('bob', '?filter=tasks')).find((i) => i.message_id === m.id);
    expect(item).toMatchObject({ kind: 'task', actor_id: 'alice', cid: 'group:team' });
    expect(item.message.text).toBe('Ship the release notes');
    expect((await inbox('carol')).some((i) => i.kind === 'task')).toBe(false);

    // A second task on the same message: CONFLICT, naming the one there.
    const twice = await as('carol', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'carol' });
    expect([twice.status, twice.body.error.code, twice.body.error.details.task.id]).toEqual([409, 'CONFLICT', task.id]);

    // My tasks: bob's list has it; alice's has none.
    const mine = await as('bob', 'GET', '/v1/me/tasks');
    expect(mine.body.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    expect((await as('alice', 'GET', '/v1/me/tasks')).body.tasks).toEqual([]);
    const channel = await as('carol', 'GET', '/v1/channels/group:team/tasks');
    expect(channel.body.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);

    // Reassigned to carol: her inbox hears it, bob's list drops it.
    const moved = await as('bob', 'PATCH', `/v1/tasks/${task.id}`, { assignee_id: 'carol' });
    expect(moved.body.task.assignee_id).toBe('carol');
    expect((await inbox('carol', '?filter=tasks')).find((i) => i.message_id === m.id)?.actor_id).toBe('bob');
    expect((await as('bob', 'GET', '/v1/me/tasks')).body.tasks).toEqual([]);

    // Done by carol, then open again.
    const done = await as('carol', 'PATCH', `/v1/tasks/${task.id}`, { status: 'done' });
    expect(done.body.task).toMatchObject({ status: 'done', completed_by: 'carol' });
    expect(done.body.task.completed_at).not.toBeNull();
    expect((await as('carol', 'GET', '/v1/me/tasks')).body.tasks).toEqual([]);
    expect((await as('carol', 'GET', '/v1/me/tasks?status=done')).body.tasks.map((t: any) => t.id)).toEqual([task.id]);
    const reopened = await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { status: 'open' });
    expect(reopened.body.task).toMatchObject({ status: 'open', completed_at: null, completed_by: null });

    // Deleted: gone from every list, the message stays.
    const gone = await as('alice', 'DELETE', `/v1/tasks/${task.id}`);
    expect(gone.status).toBe(200);
    expect((await as('alice', 'GET', `/v1/tasks/${task.id}`)).status).toBe(404);
    expect((await as('carol', 'GET', '/v1/me/tasks')).body.tasks).toEqual([]);
    expect((await as('alice', 'GET', `/v1/channels/group:team/messages`)).body.messages.at(-1).id).toBe(m.id);

    await carolWs.waitFor((f) => f.type === 'task.deleted' && f.task.id === task.id);
    expect(
      carolWs
        .events()
        .filter((f) => f.task?.id === task.id)
        .map((f) => `${f.type}:${f.task.status}`),
    ).toEqual([
      'task.created:open',
      'task.updated:open',
      'task.updated:done',
      'task.updated:open',
      'task.deleted:open',
    ]);
    bobWs.close();
    carolWs.close();
  });

  it('the socket makes and changes tasks through the same action', async () => {
    const ws = await TestSocket.connect(base, app, 'carol');
    const m = await post('alice', 'group:team', 'Book the venue');
    const made = await ws.request('task.create', { message_id: m.id, assignee_id: 'carol' });
    expect(made, JSON.stringify(made)).toMatchObject({ ok: true, task: { assignee_id: 'carol', status: 'open' } });
    const done = await ws.request('task.update', { id: made.task.id, status: 'done' });
    expect(done.task.status).toBe('done');
    const listed = await ws.request('task.list', { status: 'done' });
    expect(listed.tasks.map((t: { id: string }) => t.id)).toContain(made.task.id);
    const bad = await ws.request('task.create', { message_id: m.id, assignee_id: 'dave' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    expect((await ws.request('task.delete', { id: made.task.id })).task.id).toBe(made.task.id);
    // Assigned to herself: no inbox item.
    expect((await inbox('carol')).some((i) => i.kind === 'task' && i.message_id === m.id)).toBe(false);
    ws.close();
  });

  it('refuses bad input with typed errors, and keeps apps and channels apart', async () => {
    const m = await post('alice', 'group:team', 'Who takes this?');
    const secretMsg = await post('dave', 'group:secret', 'dave only');
    const town = await post('alice', 'public:town', 'open to all readers');
    const cases: [string, string, object, number, string][] = [
      ['an assignee who is no member', 'alice', { message_id: m.id, assignee_id: 'dave' }, 400, 'VALIDATION_ERROR'],
      ['an unknown assignee', 'alice', { message_id: m.id, assignee_id: 'nobody' }, 400, 'VALIDATION_ERROR'],
      [
        'a due time long past',
        'alice',
        { message_id: m.id, assignee_id: 'bob', due_at: '2001-01-01T00:00:00Z' },
        400,
        'VALIDATION_ERROR',
      ],
      [
        'a due time that is no time',
        'alice',
        { message_id: m.id, assignee_id: 'bob', due_at: 'soon' },
        400,
        'VALIDATION_ERROR',
      ],
      [
        'a due time two years ahead',
        'alice',
        { message_id: m.id, assignee_id: 'bob', due_at: soon(2 * 366 * 86_400_000) },
        400,
        'VALIDATION_ERROR',
      ],
      ['a message one may not read', 'alice', { message_id: secretMsg.id, assignee_id: 'alice' }, 404, 'NOT_FOUND'],
      [
        'an unknown message',
        'alice',
        { message_id: '01900000-0000-7000-8000-000000000000', assignee_id: 'alice' },
        404,
        'NOT_FOUND',
      ],
      ['a reader who is no member', 'carol', { message_id: town.id, assignee_id: 'alice' }, 403, 'FORBIDDEN'],
      ['an unknown field', 'alice', { message_id: m.id, assignee_id: 'bob', title: 'x' }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [what, user, body, status, code] of cases) {
      const r = await as(user, 'POST', '/v1/tasks', body);
      expect([r.status, r.body.error?.code], what).toEqual([status, code]);
    }
    // Nothing was written by any of them.
    expect(
      (await as('alice', 'GET', '/v1/channels/group:team/tasks')).body.tasks.some((t: any) => t.message_id === m.id),
    ).toBe(false);

    // A deleted message takes no task.
    const del = await post('alice', 'group:team', 'to be deleted');
    expect((await as('alice', 'DELETE', `/v1/messages/${del.id}`)).status).toBe(200);
    const onDeleted = await as('alice', 'POST', '/v1/tasks', { message_id: del.id, assignee_id: 'bob' });
    expect([onDeleted.status, onDeleted.body.error.code]).toEqual([404, 'NOT_FOUND']);

    const task = (await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'bob' })).body.task;
    // Another app: the same user ids reach nothing.
    for (const [method, body] of [['GET'], ['PATCH', { status: 'done' }], ['DELETE']] as const) {
      const r = await as('alice', method, `/v1/tasks/${task.id}`, body, other);
      expect([r.status, r.body.error.code], method).toEqual([404, 'NOT_FOUND']);
    }
    expect((await as('bob', 'GET', '/v1/me/tasks', undefined, other)).body.tasks).toEqual([]);
    const cross = await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'bob' }, other);
    expect([cross.status, cross.body.error.code]).toEqual([404, 'NOT_FOUND']);
    // Outside the channel: dave neither sees nor changes it.
    expect((await as('dave', 'GET', `/v1/tasks/${task.id}`)).status).toBe(404);
    const daves = await as('dave', 'PATCH', `/v1/tasks/${task.id}`, { status: 'done' });
    expect([daves.status, daves.body.error.message]).toEqual([404, 'Task not found']);
    expect((await as('dave', 'GET', '/v1/channels/group:team/tasks')).status).toBe(404);
    // Bad changes.
    expect((await as('alice', 'PATCH', `/v1/tasks/${task.id}`, {})).status).toBe(400);
    expect((await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { status: 'maybe' })).status).toBe(400);
    const reassign = await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { assignee_id: 'dave' });
    expect([reassign.status, reassign.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    for (const q of ['limit=0', 'limit=101', 'cursor=nope', 'status=all'])
      expect((await as('bob', 'GET', `/v1/me/tasks?${q}`)).status, q).toBe(400);
    expect((await as('alice', 'GET', `/v1/tasks/${task.id}`)).body.task.assignee_id).toBe('bob');
  });

  it('a due time is the assignee’s reminder: the bot’s DM when due; completing or moving it cancels the old one', async () => {
    const m = await post('alice', 'group:team', 'Send the invoice');
    const task = (await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'bob', due_at: soon(1500) }))
      .body.task;
    expect(task.reminder_id).not.toBeNull();
    expect(task.due_at).not.toBeNull();
    const dm = (await eventually(async () => {
      const got = (await botDm('bob')).find((x) => x.id === task.reminder_id);
      return got ?? null;
    }, 30_000)) as { text: string };
    expect(dm.text).toContain('Task due');
    expect(dm.text).toContain('Send the invoice');
    const reminded = await eventually(async () => {
      const i = (await inbox('bob')).find((x) => x.kind === 'reminder' && x.message_id === m.id);
      return i ?? null;
    }, 10_000);
    expect(reminded.cid).toBe('group:team');

    // A later due time, then done: the pending reminder is cancelled and none is made.
    const later = await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { due_at: soon(3_600_000) });
    const pending = later.body.task.reminder_id;
    expect(pending).not.toBeNull();
    expect(pending).not.toBe(task.reminder_id);
    const bobReminders = async (status: string) =>
      (await as('bob', 'GET', `/v1/reminders?status=${status}`)).body.reminders.map((r: { id: string }) => r.id);
    expect(await bobReminders('pending')).toContain(pending);
    const done = await as('bob', 'PATCH', `/v1/tasks/${task.id}`, { status: 'done' });
    expect(done.body.task.reminder_id).toBeNull();
    expect(await bobReminders('cancelled')).toContain(pending);
    // Reassigned with its due time while open: the reminder follows to the new assignee.
    await as('bob', 'PATCH', `/v1/tasks/${task.id}`, { status: 'open' });
    const toCarol = (await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { assignee_id: 'carol' })).body.task;
    const carolPending = (await as('carol', 'GET', '/v1/reminders?status=pending')).body.reminders;
    expect(carolPending.map((r: { id: string }) => r.id)).toContain(toCarol.reminder_id);
    // Cleared: no reminder at all.
    const cleared = (await as('alice', 'PATCH', `/v1/tasks/${task.id}`, { due_at: null })).body.task;
    expect([cleared.due_at, cleared.reminder_id]).toEqual([null, null]);
  });

  it('webhook endpoints get task.created, task.updated and task.deleted, signed, in order', async () => {
    const m = await post('alice', 'group:team', 'Hooked task');
    const task = (await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'carol' })).body.task;
    await as('carol', 'PATCH', `/v1/tasks/${task.id}`, { status: 'done' });
    // Refused: sends nothing.
    expect((await as('dave', 'PATCH', `/v1/tasks/${task.id}`, { status: 'open' })).status).toBe(404);
    await as('alice', 'DELETE', `/v1/tasks/${task.id}`);
    const got = (await eventually(() => {
      const xs = rcv.on('/tasks').filter((r) => r.json?.event?.task?.id === task.id);
      return xs.length >= 3 ? xs : null;
    }, 20_000)) as Received[];
    expect(got.map((r) => `${r.json.type}:${r.json.event.task.status}`)).toEqual([
      'task.created:open',
      'task.updated:done',
      'task.deleted:done',
    ]);
    for (const r of got) {
      expect(r.json.app_id).toBe(app.id);
      expect(r.json.event.cid).toBe('group:team');
      expect(r.headers['x-parley-event']).toBe(r.json.type);
      expect(verifySignature(secret, String(r.headers['x-parley-signature']), r.body)).toBe(true);
    }
  });
});

describe('deleting a message deletes its task', { timeout: 120_000 }, () => {
  it('by its author or a moderator: in the same transaction, its reminder cancelled, task.deleted to the channel and the webhook', async () => {
    const bobWs = await TestSocket.connect(base, app, 'bob');
    const m = await post('alice', 'group:team', 'Book the venue');
    const task = (
      await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'bob', due_at: soon(3_600_000) })
    ).body.task;
    expect(task.reminder_id).not.toBeNull();
    const item = (await inbox('bob', '?filter=tasks')).find((i) => i.message_id === m.id);
    expect(item?.kind).toBe('task');
    expect((await as('alice', 'DELETE', `/v1/messages/${m.id}`)).status).toBe(200);
    const e = await bobWs.waitFor((f) => f.type === 'task.deleted' && f.task.id === task.id);
    expect(e).toMatchObject({ cid: 'group:team', task: { message_id: m.id, reminder_id: null } });
    // Its Activity item goes too, and bob's connections hear it taken back.
    await bobWs.waitFor((f) => f.type === 'inbox.updated' && f.removed?.includes(item.id));
    expect((await inbox('bob')).some((i) => i.message_id === m.id)).toBe(false);
    expect((await as('bob', 'GET', `/v1/tasks/${task.id}`)).status).toBe(404);
    expect((await as('bob', 'GET', '/v1/me/tasks')).body.tasks.map((x: { id: string }) => x.id)).not.toContain(task.id);
    const cancelled = (await as('bob', 'GET', '/v1/reminders?status=cancelled')).body.reminders;
    expect(cancelled.map((r: { id: string }) => r.id)).toContain(task.reminder_id);
    expect(
      (await as('bob', 'GET', '/v1/reminders?status=pending')).body.reminders.map((r: { id: string }) => r.id),
    ).not.toContain(task.reminder_id);
    // The message gone again (a second delete) tells nothing more.
    expect((await as('alice', 'DELETE', `/v1/messages/${m.id}`)).status).toBe(200);
    const hooked = (await eventually(() => {
      const xs = rcv.on('/tasks').filter((r) => r.json?.event?.task?.id === task.id);
      return xs.some((r) => r.json.type === 'task.deleted') ? xs : null;
    }, 20_000)) as Received[];
    expect(hooked.map((r) => r.json.type)).toEqual(['task.created', 'task.deleted']);

    // A moderator's delete (over the socket, the same action): the task goes too.
    await h.users(app, [{ id: 'mod', role: 'moderator' }]);
    const m2 = await post('bob', 'public:town', 'Order the chairs');
    const t2 = (await as('bob', 'POST', '/v1/tasks', { message_id: m2.id, assignee_id: 'alice' })).body.task;
    const modWs = await TestSocket.connect(base, app, 'mod');
    const r = await modWs.request('message.delete', { message_id: m2.id });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    await bobWs.waitFor((f) => f.type === 'task.deleted' && f.task.id === t2.id);
    expect((await as('alice', 'GET', '/v1/me/tasks')).body.tasks.map((x: { id: string }) => x.id)).not.toContain(t2.id);
    bobWs.close();
    modWs.close();
  });

  it('a user deleted hard takes the tasks of their messages, and those assigned to them, with them, told', async () => {
    await h.users(app, [{ id: 'erin' }]);
    expect((await as('alice', 'POST', '/v1/channels/group:team/members', { add: ['erin'] })).status).toBe(200);
    const carolWs = await TestSocket.connect(base, app, 'carol');
    const m = await post('erin', 'group:team', 'Erin’s errand');
    const task = (await as('alice', 'POST', '/v1/tasks', { message_id: m.id, assignee_id: 'carol' })).body.task;
    // And a task given to Erin on someone else's message: it goes with her, told too.
    const theirs = await post('alice', 'group:team', 'For Erin to do');
    const hers = (await as('alice', 'POST', '/v1/tasks', { message_id: theirs.id, assignee_id: 'erin' })).body.task;
    const del = await h.call({ method: 'DELETE', url: '/v1/users/erin?mode=hard', headers: await app.server() });
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const e = await carolWs.waitFor((f) => f.type === 'task.deleted' && f.task.id === task.id, 60_000);
    expect(e.task.message_id).toBe(m.id);
    expect((await as('carol', 'GET', `/v1/tasks/${task.id}`)).status).toBe(404);
    await carolWs.waitFor((f) => f.type === 'task.deleted' && f.task.id === hers.id, 60_000);
    expect((await as('alice', 'GET', `/v1/tasks/${hers.id}`)).status).toBe(404);
    // The message stays, without a task.
    expect((await as('alice', 'GET', `/v1/messages/${theirs.id}`)).status).toBe(200);
    carolWs.close();
  });
});

describe('a saved item’s note', () => {
  it('is set when saving or later, cleared with null, and is the saver’s alone', async () => {
    const m = await post('alice', 'group:team', 'Quarterly numbers');
    const saved = await as('bob', 'POST', '/v1/saved', { message_id: m.id, note: 'ask about Q3' });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.saved_item.note).toBe('ask about Q3');
    const id = saved.body.saved_item.id;
    const edited = await as('bob', 'PATCH', `/v1/saved/${id}`, { note: '  compare with Q2  ' });
    expect(edited.body.saved_item).toMatchObject({ note: 'compare with Q2', status: 'saved' });
    expect((await as('bob', 'GET', '/v1/saved')).body.saved_items.find((x: any) => x.id === id).note).toBe(
      'compare with Q2',
    );
    // Completing keeps the note; clearing takes it off.
    expect((await as('bob', 'PATCH', `/v1/saved/${id}`, { status: 'completed' })).body.saved_item.note).toBe(
      'compare with Q2',
    );
    expect((await as('bob', 'PATCH', `/v1/saved/${id}`, { note: null })).body.saved_item.note).toBeNull();
    expect((await as('bob', 'PATCH', `/v1/saved/${id}`, {})).status).toBe(400);
    expect((await as('bob', 'PATCH', `/v1/saved/${id}`, { note: 'x'.repeat(501) })).status).toBe(400);
    expect((await as('alice', 'PATCH', `/v1/saved/${id}`, { note: 'mine now' })).status).toBe(404);
  });
});

describe('following a channel’s notes', () => {
  it('a follower hears of others’ changes in their inbox; unfollowing stops it; only readers may follow', async () => {
    expect((await as('bob', 'GET', '/v1/channels/group:team/notes/subscription')).body).toEqual({
      cid: 'group:team',
      subscribed: false,
    });
    expect((await as('bob', 'PUT', '/v1/channels/group:team/notes/subscription')).body.subscribed).toBe(true);
    expect((await as('bob', 'PUT', '/v1/channels/group:team/notes/subscription')).body.subscribed).toBe(true);
    expect((await as('bob', 'GET', '/v1/channels/group:team/notes/subscription')).body.subscribed).toBe(true);
    expect((await as('bob', 'PUT', '/v1/channels/group:secret/notes/subscription')).status).toBe(404);
    expect((await as('bob', 'PUT', '/v1/channels/group:team/notes/subscription', undefined, other)).status).toBe(404);

    const bobWs = await TestSocket.connect(base, app, 'bob');
    const made = await as('alice', 'POST', '/v1/notes', { cid: 'group:team', title: 'Runbook', text: 'step 1' });
    expect(made.status).toBe(201);
    const note = made.body.note;
    const got = await bobWs.waitFor((f) => f.type === 'inbox.updated' && f.item?.note_id === note.id);
    expect(got.item).toMatchObject({ kind: 'note_updated', cid: 'group:team', actor_id: 'alice' });
    const listed = (await inbox('bob')).find((i) => i.note_id === note.id);
    expect(listed).toMatchObject({ kind: 'note_updated', note_title: 'Runbook' });
    // Edits in the same ten minutes are the same news; bob's own edits are none for him.
    await as('alice', 'PATCH', `/v1/notes/${note.id}`, { base_version: 1, text: 'step 1\nstep 2' });
    await as('bob', 'PATCH', `/v1/notes/${note.id}`, { base_version: 2, text: 'step 1\nstep 2\nstep 3' });
    expect((await inbox('bob')).filter((i) => i.note_id === note.id)).toHaveLength(1);
    // Carol follows nothing: nothing for her.
    expect((await inbox('carol')).some((i) => i.kind === 'note_updated')).toBe(false);

    expect((await as('bob', 'DELETE', '/v1/channels/group:team/notes/subscription')).body.subscribed).toBe(false);
    const second = (await as('alice', 'POST', '/v1/notes', { cid: 'group:team', title: 'Second', text: '' })).body.note;
    expect((await inbox('bob')).some((i) => i.note_id === second.id)).toBe(false);
    // Over the socket too.
    expect(await bobWs.request('note.subscribe', { cid: 'group:team' })).toMatchObject({ ok: true, subscribed: true });
    expect(await bobWs.request('note.subscribe', { cid: 'group:team', subscribed: false })).toMatchObject({
      subscribed: false,
    });
    bobWs.close();
  });
});
