// @vitest-environment happy-dom
/**
 * The inbox kit: the badge follows the live count (a mention raises it, reading lowers it),
 * the list shows the item with who and what, opening it marks it read and hands it over, and
 * "Mark all read" empties the badge.
 */
import type { ChatClient } from '@parley/client';
import type { InboxItem } from '@parley/protocol';
import { fireEvent, screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, InboxBadge, InboxList, inboxItemWhere, MessageInput } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  [alice, bob] = await Promise.all([w.connect('alice'), w.connect('bob')]);
});
afterAll(async () => {
  await w?.close();
});

describe('InboxBadge and InboxList', () => {
  it('show the live count and the items; opening one marks it read', async () => {
    const id = freshId('inbox');
    const a = alice.channel('group', id);
    await a.createChannel({ name: 'Inbox', members: ['bob'] });
    await bob.channel('group', id).watch();
    const opened: InboxItem[] = [];
    renderFor(
      bob,
      <>
        <InboxBadge />
        <InboxList onOpen={(i) => opened.push(i)} />
      </>,
    );
    await until(() => bob.inbox.state.get().loaded, 10_000, 'the list loaded');
    expect(document.querySelector('.parley-inbox-badge')).toBeNull();

    await a.sendMessage({ text: 'look here @bob' });
    await a.sendMessage({ text: 'and here @bob' });
    await waitFor(() => expect(document.querySelector('.parley-inbox-badge')?.getAttribute('data-count')).toBe('2'), {
      timeout: 10_000,
    });
    await waitFor(() => expect(document.querySelectorAll('.parley-inbox__item--unread')).toHaveLength(2), {
      timeout: 10_000,
    });
    await waitFor(() => expect(screen.getByText('and here @bob')).toBeTruthy(), { timeout: 10_000 });
    expect(document.querySelector('.parley-inbox__item')?.textContent).toContain('mentioned you');
    // Where: the channel's name, as the sidebar shows it; nothing for a DM, which the summary names.
    expect(document.querySelector('.parley-inbox__where')?.textContent).toBe(' · Inbox');
    const item = bob.inbox.state.get().items[0] as InboxItem;
    expect(inboxItemWhere({ ...item, cid: 'dm:x1' }, bob.state.get())).toBeNull();
    expect(inboxItemWhere({ ...item, cid: 'group:unknown-here' }, bob.state.get())).toBe('unknown-here');

    const first = document.querySelector<HTMLButtonElement>('.parley-inbox__open') as HTMLButtonElement;
    fireEvent.click(first);
    expect(opened).toHaveLength(1);
    expect(opened[0]?.message?.text).toBe('and here @bob');
    await waitFor(() => expect(document.querySelector('.parley-inbox-badge')?.getAttribute('data-count')).toBe('1'), {
      timeout: 10_000,
    });

    fireEvent.click(screen.getByRole('button', { name: 'Mark all read' }));
    await waitFor(() => expect(document.querySelector('.parley-inbox-badge')).toBeNull(), { timeout: 10_000 });
    expect(document.querySelectorAll('.parley-inbox__item--unread')).toHaveLength(0);

    // The filters: nothing among reactions.
    fireEvent.click(screen.getByRole('tab', { name: 'Reactions' }));
    await waitFor(() => expect(screen.getByText('Nothing here yet.')).toBeTruthy(), { timeout: 10_000 });
  });

  it('the composer offers a group beside people', async () => {
    const made = await w.h.call({
      method: 'POST',
      url: '/v1/user-groups',
      headers: await w.app.server(),
      payload: { handle: 'crew', name: 'Crew', members: ['bob'] },
    });
    expect(made.status).toBe(201);
    const id = freshId('grp');
    const a = alice.channel('group', id);
    await a.createChannel({ name: 'Groups', members: ['bob'] });
    await a.watch();
    renderFor(
      alice,
      <Channel channel={a}>
        <MessageInput />
      </Channel>,
    );
    const box = screen.getByRole('combobox', { name: /^Message #/ }) as HTMLTextAreaElement;
    await until(() => alice.groups.state.get().groups.some((g) => g.handle === 'crew'), 10_000, 'groups loaded');
    fireEvent.change(box, { target: { value: '@cr', selectionStart: 3, selectionEnd: 3 } });
    const list = await screen.findByRole('listbox', { name: 'People to mention' });
    expect(list.textContent).toContain('@crew');
  });
});
