/**
 * Tasks in the SDK against a real server: `client.tasks` makes a task from a message, the
 * assignee's `state.mine` gets it live (with its message), every member's `forMessage` follows
 * it done and deleted (its message deleted too), and a refused call rejects with its typed error. Beside them, a saved
 * item's note (`client.saved.setNote`) and following a channel's notes (`client.notes.subscribe`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, ParleyError } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];
const connect = async (id: string) => {
  const c = await makeClient(h, app, id);
  clients.push(c);
  return c;
};

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
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('client.tasks', () => {
  it('makes a task; the assignee’s list and every member’s badge follow it live', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const ch = alice.channel('group', 'plans');
    await ch.createChannel({ members: ['bob'], name: 'Plans' });
    await ch.watch();
    await bob.channel('group', 'plans').watch();
    expect(await bob.tasks.load()).toEqual([]);
    await bob.tasks.loadChannel('group:plans');

    const m = await ch.sendMessage({ text: 'Draft the agenda' });
    const due = new Date(Date.now() + 3_600_000);
    const task = await alice.tasks.create(m.id, 'bob', due);
    expect(task).toMatchObject({ assignee_id: 'bob', status: 'open', due_at: due.toISOString() });
    expect(alice.tasks.forMessage(m.id)?.id).toBe(task.id);
    // Bob's list gets it (read again for its message), and his badge.
    await until(() => bob.tasks.state.get().mine.some((t) => t.id === task.id && t.message), 5000, 'bob’s list');
    expect(bob.tasks.state.get().mine[0]?.message?.text).toBe('Draft the agenda');
    expect(bob.tasks.forMessage(m.id)?.assignee_id).toBe('bob');

    await bob.tasks.complete(task.id);
    expect(bob.tasks.state.get().mine).toEqual([]);
    await until(() => alice.tasks.forMessage(m.id)?.status === 'done', 5000, 'alice sees it done');
    expect((await bob.tasks.done()).map((t) => t.id)).toEqual([task.id]);

    await alice.tasks.update(task.id, { status: 'open', assignee_id: 'alice', due_at: null });
    expect(alice.tasks.state.get().mine.map((t) => t.id)).toEqual([task.id]);
    await until(() => bob.tasks.forMessage(m.id)?.assignee_id === 'alice', 5000, 'bob sees it moved');

    await alice.tasks.remove(task.id);
    expect(alice.tasks.forMessage(m.id)).toBeNull();
    await until(() => bob.tasks.forMessage(m.id) === null, 5000, 'bob’s badge goes');

    // Refused: a second task is fine now, but not for someone outside the channel.
    const err = await alice.tasks.create(m.id, 'carol').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe('VALIDATION_ERROR');
  });

  it('a deleted message takes its task out of the assignee’s list and every badge', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const ch = alice.channel('group', 'gone-tasks');
    await ch.createChannel({ members: ['bob'], name: 'Gone tasks' });
    await ch.watch();
    await bob.channel('group', 'gone-tasks').watch();
    await bob.tasks.load();
    await bob.tasks.loadChannel('group:gone-tasks');
    const m = await ch.sendMessage({ text: 'Water the plants' });
    const task = await alice.tasks.create(m.id, 'bob');
    await until(() => bob.tasks.state.get().mine.some((t) => t.id === task.id), 5000, 'bob’s list has it');
    expect(bob.tasks.forMessage(m.id)?.id).toBe(task.id);
    await ch.deleteMessage(m.id);
    await until(() => !bob.tasks.state.get().mine.some((t) => t.id === task.id), 5000, 'bob’s list drops it');
    await until(() => bob.tasks.forMessage(m.id) === null, 5000, 'bob’s badge goes');
    expect(alice.tasks.forMessage(m.id)).toBeNull();
    // The server deleted it too: a fresh read has nothing.
    expect((await bob.tasks.load()).map((t) => t.id)).not.toContain(task.id);
    await bob.tasks.loadChannel('group:gone-tasks');
    expect(bob.tasks.forMessage(m.id)).toBeNull();
  });

  it('a read of my list answered before a deletion does not bring the task back when it lands after', async () => {
    // Bob's reads of his list are held once asked for, so one answered before the deletion lands
    // after it: the read a task newly his makes (to get its message) while the message is deleted.
    let hold: Promise<void> | null = null;
    let release = () => {};
    let held = 0;
    let landed = 0;
    const gated = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (hold && String(input).includes('/v1/me/tasks')) {
        held++;
        await hold;
        landed++;
      }
      return res;
    }) as typeof fetch;
    const alice = await connect('alice');
    const bob = await makeClient(h, app, 'bob', { fetch: gated });
    clients.push(bob);
    const ch = alice.channel('group', 'late-read');
    await ch.createChannel({ members: ['bob'], name: 'Late read' });
    await ch.watch();
    await bob.channel('group', 'late-read').watch();
    await bob.tasks.load();
    const m = await ch.sendMessage({ text: 'Feed the cat' });
    hold = new Promise((r) => {
      release = r;
    });
    const task = await alice.tasks.create(m.id, 'bob');
    // The event puts it in his list and asks for the list again: that answer is held.
    await until(() => held > 0, 5000, 'bob’s read of his list asked and answered');
    expect(bob.tasks.state.get().mine.some((t) => t.id === task.id)).toBe(true);
    await ch.deleteMessage(m.id);
    await until(() => !bob.tasks.state.get().mine.some((t) => t.id === task.id), 5000, 'bob’s list drops it');
    // The older answer lands now: the task stays gone.
    release();
    hold = null;
    await until(() => landed > 0, 5000, 'the held read answered');
    // Its body is read and applied a few ticks after the answer: give it that, then look.
    await new Promise((r) => setTimeout(r, 200));
    expect(bob.tasks.state.get().mine.map((t) => t.id)).not.toContain(task.id);
    expect(bob.tasks.forMessage(m.id)).toBeNull();
  });

  it('loadOnce reads my first page once, however many screens ask at once or later', async () => {
    const bob = await connect('bob');
    const ch = bob.channel('group', 'once');
    await ch.createChannel({ members: ['alice'], name: 'Once' });
    const m = await ch.sendMessage({ text: 'Book the room' });
    await bob.tasks.create(m.id, 'bob');
    const fresh = await connect('bob');
    let reads = 0;
    const load = fresh.tasks.load.bind(fresh.tasks);
    fresh.tasks.load = (limit?: number) => {
      reads++;
      return load(limit);
    };
    await Promise.all([fresh.tasks.loadOnce(), fresh.tasks.loadOnce()]);
    expect(fresh.tasks.state.get()).toMatchObject({
      loaded: true,
      mine: [expect.objectContaining({ message_id: m.id })],
    });
    await fresh.tasks.loadOnce();
    expect(reads).toBe(1);
  });

  it('keeps a note on a saved item and follows a channel’s notes', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const ch = alice.channel('group', 'notes-here');
    await ch.createChannel({ members: ['bob'], name: 'Notes here' });
    await ch.watch();
    const m = await ch.sendMessage({ text: 'Read this later' });
    const saved = await bob.saved.save(m.id);
    await bob.saved.load();
    expect((await bob.saved.setNote(saved.id, 'before Friday')).note).toBe('before Friday');
    expect(bob.saved.state.get().items.find((i) => i.id === saved.id)?.note).toBe('before Friday');
    expect((await bob.saved.setNote(saved.id, null)).note).toBeNull();

    expect(await bob.notes.subscribed('group:notes-here')).toBe(false);
    expect(await bob.notes.subscribe('group:notes-here')).toBe(true);
    await bob.inbox.load();
    const note = await alice.notes.create({ cid: 'group:notes-here', title: 'Agenda', text: '1. intro' });
    await until(
      () => bob.inbox.state.get().items.some((i) => i.kind === 'note_updated' && i.note_id === note.id),
      5000,
      'bob’s inbox hears of the note',
    );
    expect(await bob.notes.subscribe('group:notes-here', false)).toBe(false);
    expect(await bob.notes.subscribed('group:notes-here')).toBe(false);
  });
});
