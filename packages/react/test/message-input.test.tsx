// @vitest-environment happy-dom
import type { Channel as ChannelHandle, ChatClient } from '@parley/client';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, clearDraftMemory, MessageInput, MessageList, TypingIndicator } from '../src/index.js';
import { freshId, renderFor, ui, until, waitFor, world } from './helpers.js';

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

/** A new public channel of Alice's with Bob and Carol, watched by Alice. */
async function channel(): Promise<ChannelHandle> {
  const id = freshId('in');
  const ch = alice.channel('public', id);
  await ch.createChannel({ name: id, members: ['bob', 'carol'] });
  await ch.watch();
  return ch;
}

function renderInput(ch: ChannelHandle, extra?: ReactNode) {
  const r = renderFor(
    alice,
    <Channel channel={ch}>
      <MessageInput />
      {extra}
    </Channel>,
  );
  const box = () => screen.getByRole('combobox', { name: /^(Message #|Edit message)/ }) as HTMLTextAreaElement;
  return { ...r, box };
}

/** Type `text` as if by keyboard: the value changes and the caret ends after it. */
function type(box: HTMLTextAreaElement, text: string) {
  fireEvent.change(box, { target: { value: text, selectionStart: text.length, selectionEnd: text.length } });
}

const texts = (ch: ChannelHandle) => (ch.state?.messages ?? []).map((m) => m.text);

describe('MessageInput', () => {
  it('sends on Enter, not on Shift+Enter, and clears', async () => {
    const ch = await channel();
    const box = renderInput(ch).box();
    type(box, 'line one');
    const notPrevented = fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    expect(notPrevented).toBe(true); // the browser inserts the new line
    expect(texts(ch)).toEqual([]);
    type(box, 'line one\nline two');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(box.value).toBe('');
    expect(texts(ch)).toEqual(['line one\nline two']); // shown at once, as sending
    await until(() => ch.state?.messages[0]?.status === 'sent', 10_000, 'stored');
    // Empty or blank input sends nothing.
    type(box, '   ');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(texts(ch)).toHaveLength(1);
  });

  it('autocompletes @mentions from the channel members', async () => {
    const ch = await channel();
    const box = renderInput(ch).box();
    type(box, 'hi @bo');
    const list = screen.getByRole('listbox', { name: 'People to mention' });
    expect(
      within(list)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Bob Stone@bob']);
    expect(box.getAttribute('aria-expanded')).toBe('true');
    expect(box.getAttribute('aria-activedescendant')).toBe(within(list).getAllByRole('option')[0]?.id);
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(box.value).toBe('hi @bob ');
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(texts(ch)).toEqual([]); // Enter picked, it did not send

    // By name too, arrows move, Tab picks; the caret may be mid-text.
    type(box, 'hi @bob and @c');
    const options = within(screen.getByRole('listbox')).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      'Carol Danvers@carol',
      '@channelNotify everyone in the channel',
    ]);
    fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(options[1]?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(box, { key: 'ArrowUp' });
    fireEvent.keyDown(box, { key: 'Tab' });
    expect(box.value).toBe('hi @bob and @carol ');
    // Escape closes the list without changing the text.
    type(box, 'hi @a');
    expect(screen.queryByRole('listbox')).toBeNull(); // Alice does not mention herself
    type(box, 'hi @b');
    expect(screen.getByRole('listbox')).toBeTruthy();
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(box.value).toBe('hi @b');

    type(box, 'ping @bob');
    fireEvent.keyDown(box, { key: 'Escape' });
    fireEvent.keyDown(box, { key: 'Enter' });
    const sent = await until(() => ch.state?.messages.find((m) => m.status === 'sent'), 10_000, 'stored');
    expect(sent?.mentioned_users).toEqual(['bob']);
  });

  it("offers /commands (the kit's and the server's) and runs /shrug and /me", async () => {
    const ch = await channel();
    const box = renderInput(ch).box();
    type(box, '/');
    const list = screen.getByRole('listbox', { name: 'Commands' });
    const names = () =>
      within(screen.getByRole('listbox', { name: 'Commands' }))
        .getAllByRole('option')
        .map((o) => o.textContent?.split(' ')[0]);
    expect(names()).toEqual(expect.arrayContaining(['/me', '/shrug', '/poll']));
    // The server's built-ins join the list once asked for (GET /v1/channels/{cid}/commands).
    await waitFor(() => expect(names()).toEqual(['/giphy', '/me', '/poll', '/remind', '/schedule', '/shrug']));
    expect(within(list).getAllByRole('option')[3]?.textContent).toContain('when what');
    type(box, '/sh');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(box.value).toBe('/shrug ');
    type(box, '/shrug fine');
    fireEvent.keyDown(box, { key: 'Enter' });
    type(box, '/me waves');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(texts(ch)).toEqual(['fine ¯\\\\\\_(ツ)\\_/¯', '_waves_']);
    // Unknown commands go to the server, which refuses them: nothing is sent, the text comes back.
    type(box, '/nope');
    fireEvent.keyDown(box, { key: 'Escape' });
    fireEvent.keyDown(box, { key: 'Enter' });
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/No command \/nope here/));
    expect(box.value).toBe('/nope');
    type(box, '//nope');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(texts(ch).at(-1)).toBe('/nope');
  });

  it("runs the server's commands: /remind answers only you, /poll with options posts a poll", async () => {
    const ch = await channel();
    const box = renderInput(ch).box();
    type(box, '/remind 20m stretch');
    fireEvent.keyDown(box, { key: 'Enter' });
    const note = await waitFor(() => screen.getByRole('status', { name: 'Only visible to you: /remind' }));
    expect(note.textContent).toMatch(/Reminder set for/);
    expect(box.value).toBe('');
    // Dismissed, it is gone (here and on the server).
    fireEvent.click(within(note).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(screen.queryByRole('status', { name: 'Only visible to you: /remind' })).toBeNull());
    type(box, '/remind someday');
    fireEvent.keyDown(box, { key: 'Enter' });
    const usage = await waitFor(() => screen.getByRole('alert', { name: 'Only visible to you: /remind' }));
    expect(usage.textContent).toMatch(/Usage: \/remind when what/);
    type(box, '/poll Lunch? | Pizza | Sushi');
    fireEvent.keyDown(box, { key: 'Enter' });
    await until(() => ch.state?.messages.some((m) => m.poll && m.text === 'Lunch?'), 10_000, 'the poll');
    expect(texts(ch)).toEqual(['Lunch?']);
  });

  it('inserts an emoji from the picker at the caret: search, arrow keys, Enter, Escape', async () => {
    const ch = await channel();
    const box = renderInput(ch).box();
    type(box, 'hello world');
    box.setSelectionRange(5, 5); // after "hello"
    fireEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
    const search = await screen.findByRole('combobox', { name: 'Search emoji' });
    await waitFor(() => expect(screen.getAllByRole('option').length).toBeGreaterThan(1000), { timeout: 10_000 });
    // Search: "thumbs" finds Thumbs Up first, then Thumbs Down; → moves, Enter picks.
    fireEvent.change(search, { target: { value: 'thumbs' } });
    const names = () => screen.getAllByRole('option').map((o) => o.getAttribute('aria-label'));
    expect(names().slice(0, 2)).toEqual(['Thumbs Up', 'Thumbs Down']);
    fireEvent.keyDown(search, { key: 'ArrowRight' });
    expect(screen.getByRole('option', { selected: true }).getAttribute('aria-label')).toBe('Thumbs Down');
    expect(search.getAttribute('aria-activedescendant')).toBe(screen.getByRole('option', { selected: true }).id);
    fireEvent.keyDown(search, { key: 'Enter' });
    expect(screen.queryByRole('dialog', { name: 'Emoji' })).toBeNull();
    expect(box.value).toBe('hello👎 world');
    expect(box.selectionStart).toBe('hello👎'.length);
    expect(document.activeElement).toBe(box);

    // Recently used comes first next time; a search with no match says so; Escape closes.
    fireEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
    const again = await screen.findByRole('combobox', { name: 'Search emoji' });
    await waitFor(() => expect(screen.getByRole('group', { name: 'Recently used' })).toBeTruthy());
    expect(within(screen.getByRole('group', { name: 'Recently used' })).getAllByRole('option')[0]?.textContent).toBe(
      '👎',
    );
    fireEvent.change(again, { target: { value: 'zzzzqqq' } });
    expect(screen.getByText(/No emoji match/)).toBeTruthy();
    fireEvent.keyDown(again, { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Emoji' })).toBeNull();
    // A click outside closes it too; the button toggles it.
    fireEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
    await screen.findByRole('dialog', { name: 'Emoji' });
    fireEvent.pointerDown(screen.getByRole('button', { name: 'Insert emoji' }));
    fireEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
    expect(screen.queryByRole('dialog', { name: 'Emoji' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Insert emoji' }));
    await screen.findByRole('dialog', { name: 'Emoji' });
    fireEvent.pointerDown(document.body);
    expect(screen.queryByRole('dialog', { name: 'Emoji' })).toBeNull();
    expect(box.value).toBe('hello👎 world');
    fireEvent.keyDown(box, { key: 'Enter' });
    await until(() => ch.state?.messages[0]?.status === 'sent', 10_000, 'stored');
    expect(texts(ch)).toEqual(['hello👎 world']);
  });

  it('edits the last message with ArrowUp: Enter saves, Escape cancels', async () => {
    const ch = await channel();
    const { box, container } = renderInput(ch, <MessageList />);
    type(box(), 'first');
    fireEvent.keyDown(box(), { key: 'Enter' });
    type(box(), 'second');
    fireEvent.keyDown(box(), { key: 'Enter' });
    await until(() => ch.state?.messages.every((m) => m.status === 'sent'), 10_000, 'stored');

    fireEvent.keyDown(box(), { key: 'ArrowUp' });
    const edit = screen.getByRole('combobox', { name: 'Edit message' }) as HTMLTextAreaElement;
    expect(edit.value).toBe('second');
    expect(document.activeElement).toBe(edit);
    expect(container.querySelector('.parley-message--highlighted')?.textContent).toContain('second');
    fireEvent.keyDown(edit, { key: 'Escape' });
    expect(box().value).toBe('');
    expect(texts(ch)).toEqual(['first', 'second']);

    fireEvent.keyDown(box(), { key: 'ArrowUp' });
    type(box(), 'second, edited');
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(box().value).toBe('');
    expect(screen.getByRole('combobox', { name: /^Message #/ })).toBeTruthy();
    await until(() => ch.state?.messages[1]?.edited_at, 10_000, 'edited on the server');
    expect(texts(ch)).toEqual(['first', 'second, edited']);
    await waitFor(() => expect(container.textContent).toContain('(edited)'));

    // ArrowUp with text in the box moves the caret, it does not edit.
    type(box(), 'draft');
    expect(fireEvent.keyDown(box(), { key: 'ArrowUp' })).toBe(true);
    expect(box().value).toBe('draft');
  });

  it('keeps a draft per channel and restores it', async () => {
    const a = await channel();
    const b = await channel();
    const view = (ch: ChannelHandle) =>
      ui(
        alice,
        <Channel channel={ch}>
          <MessageInput />
        </Channel>,
      );
    const r = renderFor(alice, null);
    r.rerender(view(a));
    const box = () => screen.getByRole('combobox') as HTMLTextAreaElement;
    type(box(), 'draft for A');
    r.rerender(view(b));
    expect(box().value).toBe('');
    type(box(), 'draft for B');
    r.rerender(view(a));
    expect(box().value).toBe('draft for A');
    r.rerender(view(b));
    expect(box().value).toBe('draft for B');
    // It survives a reload: memory gone, localStorage remains.
    r.unmount();
    clearDraftMemory();
    expect(Object.keys(localStorage).some((k) => k.includes(a.cid) && localStorage.getItem(k) === 'draft for A')).toBe(
      true,
    );
    const r2 = renderFor(alice, null);
    r2.rerender(view(a));
    expect(box().value).toBe('draft for A');
    // Sending clears it.
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(Object.values(localStorage)).not.toContain('draft for A');
  });

  it('sends typing notifications as you type', async () => {
    const ch = await channel();
    const bobs = bob.channel('public', ch.id as string);
    await until(() => bob.state.get().channels[ch.cid], 10_000, 'bob has it');
    await bobs.watch();
    const box = renderInput(ch).box();
    const other = document.createElement('div');
    document.body.append(other);
    render(ui(bob, <TypingIndicator channel={bobs} />), { container: other });
    type(box, 'h');
    await waitFor(() => expect(other.textContent).toBe('Alice Liddell is typing…'));
    fireEvent.keyDown(box, { key: 'Enter' }); // sending stops typing
    await waitFor(() => expect(other.textContent).toBe(''));
    await act(async () => {});
  });
});
