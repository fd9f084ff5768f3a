// @vitest-environment happy-dom
/**
 * Tasks in the React kit against a real server: `<TaskForm>` makes a task for a member of the
 * message's channel; the message in `<MessageList>` shows its `<TaskBadge>` live on another
 * member's screen, whose checkbox marks it done; `<TaskList>` lists the tasks given to me and
 * Mark done takes one off; the inbox's Tasks tab shows them. A saved item takes a note of its
 * own, and a channel's `<NotesPanel>` follows its notes.
 */
import type { Channel as ChannelHandle, ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, InboxList, MessageList, NotesPanel, SavedList, TaskForm, TaskList } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  bob = await w.connect('bob');
});

afterAll(async () => {
  await w?.close();
});

/** A new group of Alice's with Bob in it, known to Bob's client. */
async function groupWithBob(): Promise<{ a: ChannelHandle; b: ChannelHandle; cid: string }> {
  const id = freshId('tk');
  const a = alice.channel('group', id);
  await a.createChannel({ name: id, members: ['bob'] });
  await a.watch();
  const cid = `group:${id}`;
  await until(() => bob.state.get().channels[cid], 10_000, 'bob has the channel');
  const b = bob.channel('group', id);
  await b.watch();
  return { a, b, cid };
}

describe('tasks', () => {
  it('a task made with <TaskForm> shows as a badge on the message, live, and its checkbox marks it done', async () => {
    const { a, b, cid } = await groupWithBob();
    const m = await a.sendMessage({ text: 'Order the banners' });
    await until(() => alice.state.get().channels[cid]?.members.bob, 10_000, 'alice knows bob is a member');

    const form = renderFor(alice, <TaskForm message={{ id: m.id, cid, text: m.text }} />);
    const f = await screen.findByRole('form', { name: 'Make a task' });
    fireEvent.change(within(f).getByLabelText('Assignee'), { target: { value: 'bob' } });
    fireEvent.click(within(f).getByRole('button', { name: 'Make task' }));
    await until(() => alice.tasks.forMessage(m.id), 10_000, 'the task is made');
    form.unmount();

    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList markRead={false} />
      </Channel>,
    );
    const badge = await screen.findByTestId('task-badge');
    expect(badge.textContent).toContain('for you');
    expect(badge.getAttribute('data-status')).toBe('open');
    fireEvent.click(within(badge).getByLabelText('Mark task done'));
    await until(() => alice.tasks.forMessage(m.id)?.status === 'done', 10_000, 'alice sees it done');
    await waitFor(() => expect(screen.getByTestId('task-badge').getAttribute('data-status')).toBe('done'));
  });

  it('<TaskList> lists the tasks given to me; Mark done takes one off; the inbox has a Tasks tab', async () => {
    const { a } = await groupWithBob();
    const m = await a.sendMessage({ text: 'Call the printer' });
    await alice.tasks.create(m.id, 'bob');
    const list = renderFor(bob, <TaskList />);
    const item = await screen.findByText('Call the printer');
    const row = item.closest('[data-testid="task-item"]') as HTMLElement;
    expect(row.getAttribute('data-message-id')).toBe(m.id);
    fireEvent.click(within(row).getByRole('button', { name: 'Mark done' }));
    await waitFor(() => expect(screen.queryByText('Call the printer')).toBeNull());
    list.unmount();

    const m2 = await a.sendMessage({ text: 'Sign the lease' });
    await alice.tasks.create(m2.id, 'bob');
    renderFor(bob, <InboxList />);
    fireEvent.click(await screen.findByRole('tab', { name: 'Tasks' }));
    await screen.findByText('Sign the lease');
    // The assignment itself is an item of the Tasks filter too.
    await waitFor(() => expect(screen.getAllByText('assigned you a task').length).toBeGreaterThan(0));
  });
});

describe('a saved item’s note and following a channel’s notes', () => {
  it('adds and edits a note on a saved item', async () => {
    const { a } = await groupWithBob();
    const m = await a.sendMessage({ text: 'Budget sheet' });
    await bob.saved.save(m.id);
    renderFor(bob, <SavedList />);
    const row = (await screen.findByText('Budget sheet')).closest('[data-testid="saved-item"]') as HTMLElement;
    fireEvent.click(within(row).getByRole('button', { name: 'Add note' }));
    fireEvent.change(within(row).getByLabelText('Your note'), { target: { value: 'check Q3 totals' } });
    fireEvent.click(within(row).getByRole('button', { name: 'Save note' }));
    await waitFor(() => expect(within(row).getByTestId('saved-note').textContent).toContain('check Q3 totals'));
    expect(within(row).getByRole('button', { name: 'Edit note' })).toBeTruthy();
  });

  it('follows a channel’s notes from its notes panel', async () => {
    const { cid } = await groupWithBob();
    renderFor(bob, <NotesPanel cid={cid} />);
    const box = await screen.findByRole('checkbox', { name: /Follow changes to these notes/ });
    expect((box as HTMLInputElement).checked).toBe(false);
    fireEvent.click(box);
    await until(async () => await bob.notes.subscribed(cid), 10_000, 'bob follows the notes');
    await waitFor(() => expect((box as HTMLInputElement).checked).toBe(true));
  });
});
