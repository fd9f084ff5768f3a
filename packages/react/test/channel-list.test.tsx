// @vitest-environment happy-dom
import type { ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChannelList, TypingIndicator, UserProfileCard } from '../src/index.js';
import { renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;
let carol: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  const general = alice.channel('public', 'general');
  await general.createChannel({ name: 'general', members: ['bob', 'carol'] });
  await alice.channel('public', 'random').createChannel({ name: 'random', members: ['bob'] });
  await alice.channel('dm', { members: ['bob'] }).createChannel();
  bob = await w.connect('bob');
  carol = await w.connect('carol');
  await until(() => bob.state.get().channelList.length === 3, 10_000, 'bob sees three channels');
});

afterAll(async () => {
  await w?.close();
});

const rowOf = (cid: string) => document.querySelector(`[data-cid="${cid}"]`) as HTMLElement;
const order = (list: HTMLElement) => [...list.querySelectorAll('[data-cid]')].map((e) => e.getAttribute('data-cid'));

describe('ChannelList', () => {
  it('shows sections, DM names, presence, unread and mention badges, and re-sorts on a new message', async () => {
    const onSelect = vi.fn();
    renderFor(bob, <ChannelList activeCid="public:random" onSelect={onSelect} />);
    const channels = screen.getByRole('listbox', { name: 'Channels' });
    const dms = screen.getByRole('listbox', { name: 'Direct messages' });
    expect(order(channels).sort()).toEqual(['public:general', 'public:random']);
    const dmCid = order(dms)[0] as string;
    expect(dmCid).toMatch(/^dm:/);
    // A DM is named after the other member, with their presence (Alice is connected).
    await waitFor(() => expect(rowOf(dmCid).textContent).toContain('Alice Liddell'));
    await waitFor(() => expect(rowOf(dmCid).getAttribute('aria-label')).toContain('online'));
    expect(rowOf('public:random').getAttribute('aria-selected')).toBe('true');
    expect(rowOf('public:random').classList.contains('parley-channel-row--active')).toBe(true);

    await alice.channel('public', 'general').sendMessage({ text: 'hello @bob' });
    await alice.channel('public', 'general').sendMessage({ text: 'second' });
    await waitFor(() => {
      const row = rowOf('public:general');
      expect(within(row).getByTestId('unread-badge').textContent).toBe('2');
      expect(within(row).getByTestId('mention-badge').textContent).toBe('@1');
    });
    expect(rowOf('public:general').getAttribute('aria-label')).toBe('general, 2 unread, 1 mention');
    expect(rowOf('public:general').textContent).toContain('Alice Liddell: second');
    expect(order(channels)).toEqual(['public:general', 'public:random']);

    // A message in #random moves it to the top.
    await alice.channel('public', 'random').sendMessage({ text: 'over here' });
    await waitFor(() => expect(order(channels)).toEqual(['public:random', 'public:general']));
    await waitFor(() => expect(within(rowOf('public:random')).getByTestId('unread-badge').textContent).toBe('1'));

    // Reading clears the badges.
    await bob.channel('public', 'general').markRead();
    await waitFor(() => expect(within(rowOf('public:general')).queryByTestId('unread-badge')).toBeNull());
    expect(within(rowOf('public:general')).queryByTestId('mention-badge')).toBeNull();
  });

  it('is keyboard navigable across both sections', async () => {
    const onSelect = vi.fn();
    renderFor(bob, <ChannelList onSelect={onSelect} />);
    const rows = [...document.querySelectorAll<HTMLElement>('[role="option"]')];
    expect(rows).toHaveLength(3);
    // one tab stop
    expect(rows.filter((r) => r.tabIndex === 0)).toHaveLength(1);
    rows[0]?.focus();
    fireEvent.keyDown(rows[0] as HTMLElement, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rows[1]);
    fireEvent.keyDown(rows[1] as HTMLElement, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rows[2]);
    expect(rows[2]?.getAttribute('data-cid')).toMatch(/^dm:/);
    fireEvent.keyDown(rows[2] as HTMLElement, { key: 'Enter' });
    expect(onSelect).toHaveBeenLastCalledWith(rows[2]?.getAttribute('data-cid'));
    fireEvent.keyDown(rows[2] as HTMLElement, { key: 'Home' });
    expect(document.activeElement).toBe(rows[0]);
    fireEvent.keyDown(rows[0] as HTMLElement, { key: ' ' });
    expect(onSelect).toHaveBeenLastCalledWith(rows[0]?.getAttribute('data-cid'));
    fireEvent.click(rows[1] as HTMLElement);
    expect(onSelect).toHaveBeenLastCalledWith(rows[1]?.getAttribute('data-cid'));
  });
});

describe('TypingIndicator', () => {
  it('names who is typing, in the channel and per thread', async () => {
    const general = bob.channel('public', 'general');
    await general.watch();
    const parent = await alice.channel('public', 'general').sendMessage({ text: 'a thread' });
    const { container } = renderFor(
      bob,
      <>
        <TypingIndicator channel={general} />
        <TypingIndicator channel={general} parentId={parent.id} />
      </>,
    );
    const [main, thread] = [...container.querySelectorAll('.parley-typing')] as HTMLElement[];
    expect(main?.getAttribute('role')).toBe('status');
    expect(main?.textContent).toBe('');
    alice.channel('public', 'general').keystroke();
    await waitFor(() => expect(main?.textContent).toBe('Alice Liddell is typing…'));
    expect(thread?.textContent).toBe('');
    await carol.channel('public', 'general').watch();
    carol.channel('public', 'general').keystroke();
    await waitFor(() => expect(main?.textContent).toBe('Alice Liddell and Carol Danvers are typing…'));
    carol.channel('public', 'general').keystroke(parent.id);
    await waitFor(() => expect(thread?.textContent).toBe('Carol Danvers is typing…'));
    alice.channel('public', 'general').stopTyping();
    carol.channel('public', 'general').stopTyping();
    await waitFor(() => expect(main?.textContent).toBe(''));
    expect(thread?.textContent).toBe('Carol Danvers is typing…');
  });
});

describe('UserProfileCard', () => {
  it('shows name, username, presence and custom status', async () => {
    await alice.setStatus({ text: 'In a meeting', emoji: '📅', expires_at: null });
    await bob.queryUsers('alice');
    const onClose = vi.fn();
    renderFor(bob, <UserProfileCard userId="alice" onClose={onClose} />);
    const card = screen.getByRole('region', { name: 'Alice Liddell' });
    expect(card.textContent).toContain('@alice');
    await waitFor(() => expect(card.textContent).toContain('In a meeting'));
    expect(within(card).getByRole('img', { name: 'Online' })).toBeTruthy();
    fireEvent.keyDown(card, { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
  });
});
