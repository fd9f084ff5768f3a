// @vitest-environment happy-dom
import type { Channel as ChannelHandle, ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import { memo } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, MessageList, Thread, useUser } from '../src/index.js';
import { button, freshId, renderFor, until, waitFor, world } from './helpers.js';

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

/** A new public channel of Alice's with Bob as a member, known to Bob's client. */
async function channelWithBob(): Promise<{ a: ChannelHandle; b: ChannelHandle; cid: string }> {
  const id = freshId('ml');
  const a = alice.channel('public', id);
  await a.createChannel({ name: id, members: ['bob'] });
  await a.watch();
  const cid = `public:${id}`;
  await until(() => bob.state.get().channels[cid], 10_000, 'bob has the channel');
  return { a, b: bob.channel('public', id), cid };
}

const articles = () => [...document.querySelectorAll<HTMLElement>('article.parley-message')];
const byText = (text: string) => articles().find((a) => a.textContent?.includes(text)) as HTMLElement;

describe('MessageList', () => {
  it('renders messages with grouping, a date separator and the new-messages line', async () => {
    const { a, b } = await channelWithBob();
    await a.sendMessage({ text: 'first from alice' });
    await a.sendMessage({ text: 'second from alice' });
    await b.watch();
    await b.markRead();
    await a.sendMessage({ text: 'unread one' });
    await a.sendMessage({ text: 'unread two' });
    await until(() => b.state?.unreadCount === 2, 10_000, 'two unread');

    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(articles()).toHaveLength(4));
    // One author within five minutes: one header, the rest continue the group.
    expect(articles().map((x) => x.classList.contains('parley-message--continued'))).toEqual([
      false,
      true,
      false, // the new-messages line breaks the group
      true,
    ]);
    expect(byText('first from alice').querySelector('.parley-message__author')?.textContent).toBe('Alice Liddell');
    expect([...document.querySelectorAll('h3.parley-date-separator')].map((e) => e.textContent)).toEqual(['Today']);
    // The new-messages line sits between what Bob had read and what he had not.
    const flow = [...document.querySelectorAll('.parley-new-messages, article.parley-message')].map((e) =>
      e.classList.contains('parley-new-messages')
        ? 'NEW'
        : (e.textContent?.match(/(first|second|unread one|unread two)/)?.[1] ?? '?'),
    );
    expect(flow).toEqual(['first', 'second', 'NEW', 'unread one', 'unread two']);
    expect(screen.getByRole('region', { name: /^Messages in #ml/ })).toBeTruthy();

    // New messages arrive live; the line stays where it was.
    await a.sendMessage({ text: 'live one' });
    await waitFor(() => expect(byText('live one')).toBeTruthy());
    expect(document.querySelectorAll('.parley-new-messages')).toHaveLength(1);
  });

  it('shows (edited), "This message was deleted", and toggles reactions', async () => {
    const { a, b } = await channelWithBob();
    const m1 = await a.sendMessage({ text: 'will be edited' });
    const m2 = await a.sendMessage({ text: 'will be deleted' });
    const m3 = await a.sendMessage({ text: 'react to me' });
    await a.sendReaction(m3.id, 'like');
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    await waitFor(() => expect(articles()).toHaveLength(3));

    await a.updateMessage(m1.id, 'was edited');
    await a.deleteMessage(m2.id);
    await waitFor(() => expect(byText('was edited').textContent).toContain('(edited)'));
    await waitFor(() => expect(document.body.textContent).toContain('This message was deleted'));
    expect(document.body.textContent).not.toContain('will be deleted');
    const deleted = articles().find((x) => x.classList.contains('parley-message--deleted')) as HTMLElement;
    expect(deleted.querySelector('[aria-label="Message actions"]')).toBeNull();

    // Alice's like shows as 1, not Bob's own.
    const msg = byText('react to me');
    const like = button(msg, /^like: 1/);
    expect(like.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(like);
    await waitFor(() => {
      const b2 = button(byText('react to me'), /^like: 2/);
      expect(b2.getAttribute('aria-pressed')).toBe('true');
      expect(b2.classList.contains('parley-reaction--own')).toBe(true);
    });
    await until(() => a.state?.messages.find((m) => m.id === m3.id)?.reactions.like === 2, 10_000, 'alice sees 2');
    fireEvent.click(button(byText('react to me'), /^like: 2/));
    await waitFor(() => expect(button(byText('react to me'), /^like: 1/).getAttribute('aria-pressed')).toBe('false'));
    await until(() => a.state?.messages.find((m) => m.id === m3.id)?.reactions.like === 1, 10_000, 'alice sees 1');

    // A new reaction through the picker, by keyboard.
    fireEvent.click(button(byText('react to me'), 'Add reaction'));
    const picker = byText('react to me').querySelector('[role="toolbar"][aria-label="Add a reaction"]') as HTMLElement;
    const first = button(picker, 'like');
    expect(document.activeElement).toBe(first);
    fireEvent.keyDown(first, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(button(picker, 'love'));
    fireEvent.click(button(picker, 'love'));
    await waitFor(() => expect(button(byText('react to me'), /^love: 1/).getAttribute('aria-pressed')).toBe('true'));
    expect(byText('react to me').querySelector('[aria-label="Add a reaction"]')).toBeNull();
    expect(document.activeElement).toBe(button(byText('react to me'), 'Add reaction'));
  });

  it('pins and unpins a message from its actions', async () => {
    const { a, b } = await channelWithBob();
    const m = await a.sendMessage({ text: 'pin me' });
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    await waitFor(() => expect(byText('pin me')).toBeTruthy());
    fireEvent.click(button(byText('pin me'), 'Pin message'));
    await until(async () => (await a.getPinned()).some((x) => x.id === m.id), 10_000, 'pinned on the server');
    await waitFor(() => expect(button(byText('pin me'), 'Unpin message').getAttribute('aria-pressed')).toBe('true'));
    fireEvent.click(button(byText('pin me'), 'Unpin message'));
    await until(async () => (await a.getPinned()).length === 0, 10_000, 'unpinned on the server');
  });

  it('shows a failed message with Retry, which sends it once the problem is gone', async () => {
    // Bob watches a public channel he has not joined: the server refuses his message.
    const id = freshId('fail');
    await alice.channel('public', id).createChannel({ name: id });
    const b = bob.channel('public', id);
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    await b.sendMessage({ text: 'let me in' }).catch(() => {});
    await waitFor(() => expect(byText('let me in').getAttribute('data-status')).toBe('failed'));
    const failed = byText('let me in');
    expect(failed.querySelector('[role="alert"]')?.textContent).toMatch(/Not sent: .*join/i);
    await b.join();
    fireEvent.click(button(failed, 'Retry'));
    await waitFor(() => expect(byText('let me in').getAttribute('data-status')).toBe('sent'));
    expect(() => button(byText('let me in'), 'Retry')).toThrow();
    const stored = b.state?.messages.filter((m) => m.text === 'let me in') ?? [];
    expect(stored).toHaveLength(1);
    expect(stored[0]?.seq).toBeGreaterThan(0);
  });

  it('dims a message while it is sending', async () => {
    const { b } = await channelWithBob();
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    await waitFor(() => expect(screen.getByText(/No messages yet/)).toBeTruthy());
    bob.dropConnection(); // offline: the message waits in the outbox as `sending`
    const sent = b.sendMessage({ text: 'patience' });
    await waitFor(() => expect(byText('patience').getAttribute('data-status')).toBe('sending'));
    expect(byText('patience').classList.contains('parley-message--sending')).toBe(true);
    expect(byText('patience').getAttribute('aria-busy')).toBe('true');
    await sent; // reconnects by itself and flushes
    await waitFor(() => expect(byText('patience').getAttribute('data-status')).toBe('sent'));
  });

  it('shows the thread summary and opens the thread', async () => {
    const { a, b } = await channelWithBob();
    const parent = await a.sendMessage({ text: 'thread parent' });
    for (const t of ['reply one', 'reply two', 'reply three']) await a.sendMessage({ text: t, parent_id: parent.id });
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
        <Thread />
      </Channel>,
    );
    const summary = await waitFor(() => button(document, /^3 replies/));
    expect(screen.queryByRole('complementary')).toBeNull();
    summary.focus();
    fireEvent.click(summary);
    const thread = await screen.findByRole('complementary', { name: 'Thread' });
    await waitFor(() => expect(thread.querySelectorAll('article')).toHaveLength(4));
    expect(thread.textContent).toContain('reply three');
    expect(within(thread).getByRole('combobox', { name: 'Reply in thread' })).toBe(document.activeElement);
    // Replies arrive live; Escape closes and gives the focus back.
    await a.sendMessage({ text: 'reply four', parent_id: parent.id });
    await waitFor(() => expect(thread.textContent).toContain('reply four'));
    await waitFor(() => expect(button(document, /^4 replies/)).toBeTruthy());
    fireEvent.keyDown(within(thread).getByRole('combobox', { name: 'Reply in thread' }), { key: 'Escape' });
    expect(screen.queryByRole('complementary')).toBeNull();
    expect(document.activeElement).toBe(summary);
  });

  it('shows "Seen" under my last message in a DM once the other member read it', async () => {
    const dm = alice.channel('dm', { members: ['bob'] });
    await dm.createChannel();
    await dm.watch();
    const sent = await dm.sendMessage({ text: 'did you see this?' });
    renderFor(
      alice,
      <Channel channel={dm}>
        <MessageList />
      </Channel>,
    );
    await waitFor(() => expect(byText('did you see this?')).toBeTruthy());
    expect(document.body.textContent).not.toContain('Seen');
    const cid = sent.cid;
    await until(() => bob.state.get().channels[cid], 10_000, 'bob has the DM');
    const [type, id] = cid.split(':') as [string, string];
    await bob.channel(type, id).markRead();
    await waitFor(() => expect(byText('did you see this?').textContent).toContain('Seen'));
  });

  it("a row's author follows that user, not the channel: new messages re-render no row of an earlier one", async () => {
    // Every row asks for its author (useUser): when that followed the whole channel, each new
    // message re-rendered every row above it, and a burst of 60 cost a tab seconds of CPU.
    const { a, b } = await channelWithBob();
    await b.watch();
    let renders = 0;
    const Author = memo(function Author({ id }: { id: string }) {
      renders += 1;
      return <span data-testid="author">{useUser(id)?.name ?? id}</span>;
    });
    renderFor(
      bob,
      <Channel channel={b}>
        <Author id="alice" />
        <MessageList markRead={false} />
      </Channel>,
    );
    await a.sendMessage({ text: 'alice is known now' });
    await waitFor(() => expect(screen.getByTestId('author').textContent).toBe('Alice Liddell'));
    await waitFor(() => expect(articles()).toHaveLength(1));
    const before = renders;
    for (const text of ['one', 'two', 'three']) await a.sendMessage({ text });
    await waitFor(() => expect(articles()).toHaveLength(4));
    expect(renders).toBe(before);
  });

  it('loads older messages from the top and keeps them in order', async () => {
    const { a, b } = await channelWithBob();
    for (let i = 1; i <= 60; i++) await a.sendMessage({ text: `n${String(i).padStart(2, '0')}` });
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    // The first page is the newest 50. Scrolling to the top loads older messages by itself
    // (happy-dom starts at the top), so on a busy machine the older ten may be in before this
    // first look: at least 50, not exactly 50, or the wait would never end.
    await waitFor(() => expect(articles().length).toBeGreaterThanOrEqual(50));
    // The header button does the same for keyboard users.
    const more = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Load older messages');
    if (more) fireEvent.click(more);
    await waitFor(() => expect(articles()).toHaveLength(60));
    const texts = articles().map((x) => x.querySelector('.parley-markdown')?.textContent?.trim());
    expect(texts[0]).toBe('n01');
    expect(texts.at(-1)).toBe('n60');
    await waitFor(() => expect(document.body.textContent).toContain('This is the beginning of'));
  });
});
