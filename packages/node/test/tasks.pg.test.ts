/**
 * @parley/node's tasks against a real server on a loopback port: a backend, acting for its users
 * (`{ as }`), turns a message into a task, lists the assignee's and the channel's tasks (paged),
 * completes, reopens, reassigns and deletes it; a call without a user, an assignee outside the
 * channel and a second task of one message get typed errors; deleting the message deletes its task.
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
  await parley.users.upsert([{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  await parley.channels.create({ type: 'group', id: 'ops', members: ['alice', 'bob'], created_by: 'alice' });
});
afterAll(async () => {
  await h?.close();
});

describe('parley.tasks', () => {
  it('makes, lists, completes, reopens, reassigns and deletes a task as a user', async () => {
    const m = await parley.messages.send('group:ops', { text: 'Rotate the keys' }, { as: 'alice' });
    const due = new Date(Date.now() + 3_600_000).toISOString();
    const task = await parley.tasks.create({ message_id: m.id, assignee_id: 'bob', due_at: due }, { as: 'alice' });
    expect(task).toMatchObject({
      message_id: m.id,
      assignee_id: 'bob',
      created_by: 'alice',
      status: 'open',
      due_at: due,
    });
    expect(task.reminder_id).not.toBeNull();
    expect((await parley.tasks.get(task.id, { as: 'bob' })).message?.text).toBe('Rotate the keys');

    // Bob's list and the channel's, a page of one at a time.
    const m2 = await parley.messages.send('group:ops', { text: 'Renew the certificate' }, { as: 'alice' });
    const second = await parley.tasks.create({ message_id: m2.id, assignee_id: 'bob' }, { as: 'alice' });
    expect((await parley.tasks.list({ as: 'bob', pageSize: 1 }).toArray()).map((t) => t.id)).toEqual([
      second.id,
      task.id,
    ]);
    expect((await parley.tasks.list({ as: 'alice' }).toArray()).length).toBe(0);
    expect((await parley.tasks.ofChannel('group:ops', { as: 'alice' }).toArray()).map((t) => t.id)).toEqual([
      second.id,
      task.id,
    ]);

    const done = await parley.tasks.update(task.id, { status: 'done' }, { as: 'bob' });
    expect(done).toMatchObject({ status: 'done', completed_by: 'bob', reminder_id: null });
    expect((await parley.tasks.list({ as: 'bob', status: 'done' }).toArray()).map((t) => t.id)).toEqual([task.id]);
    const moved = await parley.tasks.update(task.id, { status: 'open', assignee_id: 'alice' }, { as: 'bob' });
    expect(moved).toMatchObject({ status: 'open', assignee_id: 'alice' });

    const gone = await parley.tasks.delete(task.id, { as: 'alice' });
    expect(gone.id).toBe(task.id);
    await expect(parley.tasks.get(task.id, { as: 'alice' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // Deleting the message deletes its task.
    await parley.messages.delete(m2.id);
    await expect(parley.tasks.get(second.id, { as: 'bob' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await parley.tasks.list({ as: 'bob' }).toArray()).toEqual([]);
  });

  it('answers bad calls with typed errors', async () => {
    const m = await parley.messages.send('group:ops', { text: 'Order coffee' }, { as: 'bob' });
    // Not a member: carol may be no assignee.
    const outside = await parley.tasks
      .create({ message_id: m.id, assignee_id: 'carol' }, { as: 'bob' })
      .catch((e) => e);
    expect(outside).toBeInstanceOf(ParleyError);
    expect(outside.code).toBe('VALIDATION_ERROR');
    const t = await parley.tasks.create({ message_id: m.id, assignee_id: 'bob' }, { as: 'bob' });
    await expect(
      parley.tasks.create({ message_id: m.id, assignee_id: 'alice' }, { as: 'alice' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { task: { id: t.id } } });
    // A task is a user's act: the server token alone is refused.
    await expect(
      parley.request('POST', '/v1/tasks', { body: { message_id: m.id, assignee_id: 'bob' } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Carol cannot see the channel's task.
    await expect(parley.tasks.get(t.id, { as: 'carol' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
