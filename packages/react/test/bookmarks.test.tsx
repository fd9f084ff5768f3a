// @vitest-environment happy-dom
/**
 * `<BookmarksBar>` and `<ChannelFiles>` against a real server: a member adds a link from the
 * bar and removes it, another member's bar follows live, a reader without `manage-bookmarks`
 * (an announcement channel's member) sees the bar but no controls; the Files list says when a
 * kind has nothing.
 */
import type { ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BookmarksBar, ChannelFiles } from '../src/index.js';
import { renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  await alice.channel('public', 'team').createChannel({ name: 'team', members: ['bob'] });
  await alice.channel('announcement', 'news').createChannel({ name: 'news', members: ['bob'] });
  bob = await w.connect('bob');
  await until(() => bob.state.get().channelList.length === 2, 10_000, 'bob sees both channels');
});

afterAll(async () => {
  await w?.close();
});

describe('BookmarksBar', () => {
  it('adds and removes links, live for the other members', async () => {
    renderFor(bob, <BookmarksBar cid="public:team" />);
    const bar = await screen.findByRole('navigation', { name: 'Bookmarks' });
    fireEvent.click(within(bar).getByRole('button', { name: '+ Add a bookmark' }));
    fireEvent.change(within(bar).getByLabelText('Link'), { target: { value: 'https://example.com/plan' } });
    fireEvent.change(within(bar).getByLabelText('Title (optional)'), { target: { value: 'The plan' } });
    fireEvent.submit(within(bar).getByRole('form', { name: 'Add a bookmark' }));
    const link = await within(bar).findByRole('link', { name: /The plan/ });
    expect(link.getAttribute('href')).toBe('https://example.com/plan');
    expect(link.getAttribute('rel')).toContain('noopener');
    // Alice adds one elsewhere: it shows here, live.
    await alice.bookmarks.add('public:team', { url: 'https://example.com/faq', title: 'FAQ' });
    await within(bar).findByRole('link', { name: /FAQ/ });
    fireEvent.click(within(bar).getByRole('button', { name: 'Remove bookmark The plan' }));
    await waitFor(() => expect(within(bar).queryByRole('link', { name: /The plan/ })).toBeNull());
  });

  it('shows no controls to a member without manage-bookmarks', async () => {
    await alice.bookmarks.add('announcement:news', { url: 'https://example.com/press', title: 'Press kit' });
    renderFor(bob, <BookmarksBar cid="announcement:news" />);
    const bar = await screen.findByRole('navigation', { name: 'Bookmarks' });
    await within(bar).findByRole('link', { name: /Press kit/ });
    expect(within(bar).queryByRole('button', { name: '+ Add a bookmark' })).toBeNull();
    expect(within(bar).queryByRole('button', { name: /Remove bookmark/ })).toBeNull();
  });
});

describe('ChannelFiles', () => {
  it('filters by kind and says when there is nothing', async () => {
    renderFor(bob, <ChannelFiles cid="public:team" />);
    await screen.findByText('No files shared here yet.');
    fireEvent.click(screen.getByRole('button', { name: 'Images' }));
    await screen.findByText('No files shared here of this kind yet.');
    expect(screen.getByRole('button', { name: 'Images' }).getAttribute('aria-pressed')).toBe('true');
  });
});
