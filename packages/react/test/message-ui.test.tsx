// @vitest-environment happy-dom
/**
 * The MessageUI slot against a real server: a custom row renders every message of the list and
 * of a thread, follows edits, reactions and deletes live, its actions reach the server, and it
 * can hand a message back to the kit's default row.
 */
import type { Channel as ChannelHandle, ChatClient } from '@parley/client';
import { fireEvent } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, MessageList, type MessageUIProps, Thread } from '../src/index.js';
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

async function channelWithBob(): Promise<{ a: ChannelHandle; b: ChannelHandle }> {
  const id = freshId('mui');
  const a = alice.channel('public', id);
  await a.createChannel({ name: id, members: ['bob'] });
  await a.watch();
  const b = bob.channel('public', id);
  await until(() => bob.state.get().channels[`public:${id}`], 10_000, 'bob has the channel');
  await b.watch();
  return { a, b };
}

/** A custom row: plain text, who wrote it, reactions as text, and buttons for its actions. */
function Custom({ message, mine, actions, Default, defaultProps }: MessageUIProps) {
  if (message.text.startsWith('default:')) return <Default {...defaultProps} />;
  const reactions = Object.entries(message.reactions)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t}×${n}`)
    .sort()
    .join(',');
  return (
    <div className="custom-row" data-id={message.id} data-mine={String(mine)}>
      <span className="custom-text">{message.type === 'deleted' ? '[gone]' : message.text}</span>
      <span className="custom-edited">{message.edited_at ? 'edited' : ''}</span>
      <span className="custom-reactions">{reactions}</span>
      <span className="custom-replies">{message.reply_count}</span>
      <button type="button" className="custom-like" onClick={() => void actions.toggleReaction('like')}>
        like
      </button>
      {actions.openThread ? (
        <button type="button" className="custom-thread" onClick={actions.openThread}>
          thread
        </button>
      ) : null}
    </div>
  );
}

const rows = () => [...document.querySelectorAll<HTMLElement>('.custom-row')];
const rowOf = (text: string) =>
  rows().find((r) => r.querySelector('.custom-text')?.textContent === text) as HTMLElement;

describe('MessageUI', () => {
  it('renders every message of the list through the custom row, with whose it is', async () => {
    const { a, b } = await channelWithBob();
    await a.sendMessage({ text: 'one from alice' });
    await b.sendMessage({ text: 'two from bob' });
    await a.sendMessage({ text: 'three from alice' });
    await until(() => b.state?.messages.length === 3, 10_000, 'bob has 3');
    renderFor(
      bob,
      <Channel channel={b} MessageUI={Custom}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(rows().map((r) => r.querySelector('.custom-text')?.textContent)).toEqual([
      'one from alice',
      'two from bob',
      'three from alice',
    ]);
    expect(rows().map((r) => r.dataset.mine)).toEqual(['false', 'true', 'false']);
    // No default row is drawn beside them.
    expect(document.querySelectorAll('article.parley-message')).toHaveLength(0);
  });

  it('receives edits, reactions, new messages and deletes live; its actions reach the server', async () => {
    const { a, b } = await channelWithBob();
    const sent = await a.sendMessage({ text: 'live one' });
    await until(() => b.state?.messages.length === 1, 10_000, 'bob has it');
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList markRead={false} MessageUI={Custom} />
      </Channel>,
    );
    await waitFor(() => expect(rowOf('live one')).toBeTruthy());
    await a.updateMessage(sent.id, 'live one, edited');
    await waitFor(() => expect(rowOf('live one, edited')?.querySelector('.custom-edited')?.textContent).toBe('edited'));
    await a.sendReaction(sent.id, 'heart');
    await waitFor(() =>
      expect(rowOf('live one, edited').querySelector('.custom-reactions')?.textContent).toBe('heart×1'),
    );
    // Bob's like goes through the action the row was given: Alice's client sees it.
    fireEvent.click(rowOf('live one, edited').querySelector('.custom-like') as HTMLElement);
    await until(
      () => a.state?.messages.find((m) => m.id === sent.id)?.reactions.like === 1,
      10_000,
      'alice sees the like',
    );
    await waitFor(() =>
      expect(rowOf('live one, edited').querySelector('.custom-reactions')?.textContent).toBe('heart×1,like×1'),
    );
    await a.sendMessage({ text: 'live two' });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await a.deleteMessage(sent.id);
    await waitFor(() => expect(rows()[0]?.querySelector('.custom-text')?.textContent).toBe('[gone]'));
  });

  it('falls back to the default row for the messages it hands back', async () => {
    const { a, b } = await channelWithBob();
    await a.sendMessage({ text: 'custom please' });
    await a.sendMessage({ text: 'default: the kit row' });
    await until(() => b.state?.messages.length === 2, 10_000, 'bob has 2');
    renderFor(
      bob,
      <Channel channel={b} MessageUI={Custom}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(rows()).toHaveLength(1));
    await waitFor(() => expect(document.querySelectorAll('article.parley-message')).toHaveLength(1));
    const article = document.querySelector('article.parley-message') as HTMLElement;
    expect(article.textContent).toContain('default: the kit row');
    // The default row keeps its toolbar.
    expect(article.querySelector('[aria-label="Add reaction"]')).toBeTruthy();
  });

  it('renders the thread parent and replies too, and opens threads through its action', async () => {
    const { a, b } = await channelWithBob();
    const parent = await a.sendMessage({ text: 'a thread parent' });
    await a.sendMessage({ text: 'reply one', parent_id: parent.id });
    await until(() => b.state?.messages.find((m) => m.id === parent.id)?.reply_count === 1, 10_000, 'reply counted');
    renderFor(
      bob,
      <Channel channel={b} MessageUI={Custom}>
        <MessageList markRead={false} />
        <Thread />
      </Channel>,
    );
    await waitFor(() => expect(rowOf('a thread parent')?.querySelector('.custom-replies')?.textContent).toBe('1'));
    fireEvent.click(rowOf('a thread parent').querySelector('.custom-thread') as HTMLElement);
    const thread = await waitFor(() => {
      const el = document.querySelector('.parley-thread') as HTMLElement;
      expect(el.querySelectorAll('.custom-row')).toHaveLength(2);
      return el;
    });
    // A reply cannot open a thread of its own.
    const reply = [...thread.querySelectorAll<HTMLElement>('.custom-row')][1] as HTMLElement;
    expect(reply.querySelector('.custom-text')?.textContent).toBe('reply one');
    expect(reply.querySelector('.custom-thread')).toBeNull();
    await a.sendMessage({ text: 'reply two', parent_id: parent.id });
    await waitFor(() => expect(thread.querySelectorAll('.custom-row')).toHaveLength(3));
  });
});
