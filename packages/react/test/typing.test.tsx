// @vitest-environment happy-dom
/**
 * useTyping against a real server: Alice's keystrokes through the hook reach Bob's hook and
 * TypingIndicator (channel and thread apart), throttled by the SDK, and stop clears them.
 */
import type { Channel as ChannelHandle, ChatClient } from '@parley/client';
import { act, fireEvent } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, TypingIndicator, useTyping } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;
let carol: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  bob = await w.connect('bob');
  carol = await w.connect('carol');
});

afterAll(async () => {
  await w?.close();
});

async function shared(): Promise<{ a: ChannelHandle; b: ChannelHandle; c: ChannelHandle; id: string }> {
  const id = freshId('typ');
  const a = alice.channel('public', id);
  await a.createChannel({ name: id, members: ['bob', 'carol'] });
  await a.watch();
  const b = bob.channel('public', id);
  const c = carol.channel('public', id);
  await until(() => bob.state.get().channels[`public:${id}`], 10_000, 'bob has the channel');
  await until(() => carol.state.get().channels[`public:${id}`], 10_000, 'carol has the channel');
  await b.watch();
  await c.watch();
  return { a, b, c, id };
}

/** A box that types through useTyping, and what the hook says about others. */
function Typer({ parentId = null, label }: { parentId?: string | null; label: string }) {
  const { names, keystroke, stop } = useTyping({ parentId });
  return (
    <div>
      <input aria-label={label} onChange={(e) => (e.target.value ? keystroke() : stop())} />
      <output data-testid={`${label}-names`}>{names.join(',')}</output>
    </div>
  );
}

const indicator = () => document.querySelector('.parley-typing')?.textContent;

describe('useTyping', () => {
  it('shows who types in the channel and in a thread apart, and clears on stop', async () => {
    const { a, b } = await shared();
    const parent = await a.sendMessage({ text: 'thread here' });
    // Alice's view types; Bob's view watches the channel and the thread.
    const view = renderFor(
      alice,
      <Channel channel={a}>
        <Typer label="alice-channel" />
        <Typer label="alice-thread" parentId={parent.id} />
      </Channel>,
    );
    const input = view.getByLabelText('alice-channel');
    fireEvent.change(input, { target: { value: 'h' } });
    await until(() => b.state?.typing['alice|'], 10_000, 'bob sees alice typing');
    // The viewer's own typing is never listed.
    expect(view.getByTestId('alice-channel-names').textContent).toBe('');
    view.unmount();

    const bobView = renderFor(
      bob,
      <Channel channel={b}>
        <Typer label="bob-channel" />
        <Typer label="bob-thread" parentId={parent.id} />
        <TypingIndicator />
      </Channel>,
    );
    await waitFor(() => expect(bobView.getByTestId('bob-channel-names').textContent).toBe('Alice Liddell'));
    expect(bobView.getByTestId('bob-thread-names').textContent).toBe('');
    expect(indicator()).toBe('Alice Liddell is typing…');
    // Alice stops in the channel and types in the thread.
    act(() => {
      a.stopTyping(null);
      a.keystroke(parent.id);
    });
    await waitFor(() => expect(bobView.getByTestId('bob-thread-names').textContent).toBe('Alice Liddell'));
    await waitFor(() => expect(bobView.getByTestId('bob-channel-names').textContent).toBe(''));
    expect(indicator()).toBe('');
  });

  it('sends one typing.start for a burst of keystrokes (the SDK throttles), and names two typers', async () => {
    const { a, b, c } = await shared();
    let starts = 0;
    const off = bob.on('*', (e) => {
      if (e.type === 'typing.start' && e.cid === b.cid && e.user.id === 'alice') starts += 1;
    });
    const view = renderFor(
      alice,
      <Channel channel={a}>
        <Typer label="burst" />
      </Channel>,
    );
    const input = view.getByLabelText('burst');
    for (const v of ['h', 'he', 'hel', 'hell', 'hello']) fireEvent.change(input, { target: { value: v } });
    await until(() => b.state?.typing['alice|'], 10_000, 'bob sees alice typing');
    // A marker after the burst: once Bob has Carol's start, Alice's earlier frames have all arrived.
    c.keystroke();
    await until(() => b.state?.typing['carol|'], 10_000, 'bob sees carol typing');
    expect(starts).toBe(1);
    off();
    view.unmount();
    renderFor(
      bob,
      <Channel channel={b}>
        <TypingIndicator />
      </Channel>,
    );
    await waitFor(() => expect(indicator()).toBe('Alice Liddell and Carol Danvers are typing…'));
    // Stops clear the names.
    a.stopTyping();
    c.stopTyping();
    await waitFor(() => expect(indicator()).toBe(''));
  });
});
