// @vitest-environment happy-dom
/**
 * Polls and custom emoji in the kit, against a real server: `/poll` opens the poll dialog with
 * the question filled in and sends the poll; the Poll component shows counts and bars, marks
 * your vote, moves live when another user votes, and closes for its author. Custom emoji show
 * as images in text and reactions, the picker has a Custom tab with search, and a removed one
 * falls back to its `:shortcode:` text.
 */
import type { ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, EmojiPicker, MessageInput, MessageList, renderMarkdown } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  await w.h.users(w.app, [{ id: 'alice', name: 'Alice Liddell', username: 'alice', role: 'admin' }]);
  alice = await w.connect('alice');
  bob = await w.connect('bob');
});
afterAll(async () => {
  await w?.close();
});

const articles = () => [...document.querySelectorAll<HTMLElement>('article.parley-message')];
const byText = (text: string) => articles().find((a) => a.textContent?.includes(text)) as HTMLElement;
const PNG = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64'),
);

describe('polls in the kit', () => {
  it('/poll opens the dialog, sends the poll; votes show live with bars and your mark', async () => {
    const id = freshId('poll');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await a.watch();
    const cid = `public:${id}`;
    renderFor(
      alice,
      <Channel channel={a}>
        <MessageList markRead={false} />
        <MessageInput />
      </Channel>,
    );
    const box = () => screen.getByRole('combobox', { name: /^Message #/ }) as HTMLTextAreaElement;
    await waitFor(() => expect(box()).toBeTruthy());
    fireEvent.change(box(), { target: { value: '/poll Which day?' } });
    fireEvent.keyDown(box(), { key: 'Enter' });
    const dialog = await screen.findByRole('dialog', { name: 'Create a poll' });
    expect((within(dialog).getByLabelText('Question') as HTMLInputElement).value).toBe('Which day?');
    // Too few options: said in the dialog, nothing sent.
    fireEvent.change(within(dialog).getByLabelText('Option 1'), { target: { value: 'Monday' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create poll' }));
    expect(within(dialog).getByRole('alert').textContent).toMatch(/at least 2 options/);
    fireEvent.change(within(dialog).getByLabelText('Option 2'), { target: { value: 'Friday' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create poll' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Create a poll' })).toBeNull());

    const option = (name: string) =>
      within(byText('Which day?')).getByRole('button', { name: new RegExp(`^${name}: `) }) as HTMLButtonElement;
    await waitFor(() => expect(option('Friday')).toBeTruthy(), { timeout: 10_000 });
    const m = a.state?.messages.find((x) => x.poll) as { id: string };

    // Bob votes elsewhere: alice's poll moves live.
    const b = bob.channel('public', id);
    await b.watch();
    await until(() => b.state?.messages.some((x) => x.id === m.id), 10_000, 'bob has it');
    await b.votePoll(m.id, ['1']);
    await waitFor(() => expect(option('Friday').getAttribute('aria-label')).toBe('Friday: 1 vote'), {
      timeout: 10_000,
    });
    expect(within(byText('Which day?')).getByText(/^(Bob Stone|bob)$/)).toBeTruthy();

    // Alice votes by clicking: her vote is marked, the bar follows the share.
    fireEvent.click(option('Friday'));
    await waitFor(() => expect(option('Friday').getAttribute('aria-label')).toBe('Friday: 2 votes, your vote'));
    expect(option('Friday').getAttribute('aria-pressed')).toBe('true');
    const bar = option('Friday').querySelector<HTMLElement>('.parley-poll__bar');
    expect(bar?.style.width).toBe('100%');
    expect(option('Monday').querySelector<HTMLElement>('.parley-poll__bar')?.style.width).toBe('0%');

    // Her poll: she closes it; the options turn read-only, the results stay. The poll's buttons are
    // disabled while her vote is in flight, and the vote's event can show it before its reply has
    // come back: a click then would be on a disabled button (and lost), so it waits for that.
    const close = () => within(byText('Which day?')).getByRole('button', { name: 'Close poll' }) as HTMLButtonElement;
    await waitFor(() => expect(close().disabled).toBe(false));
    fireEvent.click(close());
    await waitFor(() => expect(within(byText('Which day?')).getByText(/Closed/)).toBeTruthy());
    expect(option('Monday').disabled).toBe(true);
    expect(option('Friday').getAttribute('aria-label')).toBe('Friday: 2 votes, your vote');
    expect(within(byText('Which day?')).queryByRole('button', { name: 'Close poll' })).toBeNull();
    expect(cid).toContain(id);
  });
});

describe('custom emoji in the kit', () => {
  it('text and reactions show the image; the picker has a Custom tab; removed ones fall back to text', async () => {
    const added = await alice.emoji.add(new Blob([PNG], { type: 'image/png' }), 'blob_wave', ['wave_blob'], 'w.png');
    const map = { blob_wave: added.url, wave_blob: added.url };
    const html = renderMarkdown('hi :blob_wave: and :wave_blob: but not :nope: or `:blob_wave:`', { emoji: map });
    expect(html.match(/<img class="parley-emoji"/g)?.length).toBe(2);
    expect(html).toContain(':nope:');
    expect(html).toContain('<code>:blob_wave:</code>');
    // An image that is not an emoji image never passes the sanitizer.
    expect(renderMarkdown('x :evil:', { emoji: { evil: 'https://example.com/tracker.png' } })).not.toContain('<img');

    const id = freshId('emo');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await a.watch();
    const sent = await a.sendMessage({ text: 'Party :blob_wave:' });
    await a.sendReaction(sent.id, ':blob_wave:');
    const view = renderFor(
      bob,
      <Channel channel={bob.channel('public', id)}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(byText('Party')?.querySelector('.parley-markdown img.parley-emoji')).toBeTruthy(), {
      timeout: 10_000,
    });
    const reaction = () => within(byText('Party')).getByRole('button', { name: ':blob_wave:: 1' });
    await waitFor(() => expect(reaction().querySelector('img.parley-emoji')).toBeTruthy());

    // Removed: the text and the reaction fall back to `:shortcode:`, still readable.
    await alice.emoji.remove('blob_wave');
    await waitFor(() => expect(byText('Party')?.querySelector('img.parley-emoji')).toBeNull(), { timeout: 10_000 });
    expect(byText('Party').textContent).toContain('Party :blob_wave:');
    expect(reaction().textContent).toContain(':blob_wave:');
    view.unmount();

    // The picker: a Custom tab, searched by alias.
    const again = await alice.emoji.add(new Blob([PNG], { type: 'image/png' }), 'party_cat', ['kitty'], 'c.png');
    const picked: string[] = [];
    renderFor(bob, <EmojiPicker custom={[again]} onPick={(e) => picked.push(e.native)} />);
    fireEvent.click(screen.getByRole('tab', { name: 'Custom' }));
    fireEvent.change(screen.getByRole('combobox', { name: 'Search emoji' }), { target: { value: 'kit' } });
    const opt = await screen.findByRole('option', { name: 'party cat' });
    expect(opt.querySelector('img')?.getAttribute('src')).toBe(again.url);
    fireEvent.mouseDown(opt);
    expect(picked).toEqual([':party_cat:']);
  });

  it('the composer suggests custom emoji after `:` and puts the pick in', async () => {
    await until(() => alice.emoji.find('party_cat'), 10_000, 'the emoji list');
    const id = freshId('ac');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id });
    await a.watch();
    renderFor(
      alice,
      <Channel channel={a}>
        <MessageInput />
      </Channel>,
    );
    const box = (await screen.findByRole('combobox', { name: /^Message #/ })) as HTMLTextAreaElement;
    const text = 'so :kit';
    fireEvent.change(box, { target: { value: text, selectionStart: text.length, selectionEnd: text.length } });
    const list = await screen.findByRole('listbox', { name: 'Custom emoji' });
    expect(within(list).getByRole('option').textContent).toContain(':party_cat:');
    fireEvent.keyDown(box, { key: 'Enter' });
    await waitFor(() => expect(box.value).toBe('so :party_cat: '));
  });
});
