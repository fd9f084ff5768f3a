// @vitest-environment happy-dom
/**
 * Quote-reply in the kit: "Quote" in a message's actions puts it in the channel's input (with
 * a way to take it out), the sent message carries `quoted_message_id` and shows a quoted block
 * with the author and an excerpt, and clicking the block focuses (highlights) the original.
 */
import type { ChatClient } from '@parley/client';
import { fireEvent, screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, MessageInput, MessageList } from '../src/index.js';
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

const articles = () => [...document.querySelectorAll<HTMLElement>('article.parley-message')];
const byText = (text: string) => articles().find((a) => a.textContent?.includes(text)) as HTMLElement;

describe('quote-reply', () => {
  it('quotes from the menu, sends the quote, and the block shows the original', async () => {
    const id = freshId('q');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await a.watch();
    const cid = `public:${id}`;
    await until(() => bob.state.get().channels[cid], 10_000, 'bob has it');
    const b = bob.channel('public', id);
    await b.watch();
    const original = await b.sendMessage({ text: 'The release is on Friday, after the review' });
    await until(() => a.state?.messages.some((m) => m.id === original.id), 10_000, 'alice has it');

    renderFor(
      alice,
      <Channel channel={a}>
        <MessageList markRead={false} />
        <MessageInput />
      </Channel>,
    );
    await waitFor(() => expect(byText('The release is on Friday')).toBeTruthy());
    const box = () => screen.getByRole('combobox', { name: /^Message #/ }) as HTMLTextAreaElement;

    // Quote, then take it out: nothing is quoted.
    fireEvent.click(button(byText('The release is on Friday'), 'Quote'));
    await waitFor(() => expect(document.querySelector('.parley-input__quoting')?.textContent).toContain('Bob Stone'));
    fireEvent.click(button(document.querySelector('.parley-input__quoting') as HTMLElement, 'Remove quote'));
    expect(document.querySelector('.parley-input__quoting')).toBeNull();

    // Quote again and send.
    fireEvent.click(button(byText('The release is on Friday'), 'Quote'));
    await waitFor(() => expect(document.querySelector('.parley-input__quoting')).not.toBeNull());
    fireEvent.change(box(), { target: { value: 'Friday works for me' } });
    fireEvent.keyDown(box(), { key: 'Enter' });
    const sent = await until(
      () => a.state?.messages.find((m) => m.text === 'Friday works for me' && m.status === 'sent'),
      10_000,
      'sent',
    );
    expect(sent?.quoted_message_id).toBe(original.id);
    expect(document.querySelector('.parley-input__quoting')).toBeNull();
    // The server's stored message carries the quote, as Bob sees it.
    await until(
      () => b.state?.messages.find((m) => m.id === sent?.id)?.quoted_message?.id === original.id,
      10_000,
      'bob sees the quote',
    );

    await waitFor(() => expect(byText('Friday works for me').querySelector('.parley-quote')).not.toBeNull());
    const block = byText('Friday works for me').querySelector<HTMLButtonElement>(
      'button.parley-quote',
    ) as HTMLButtonElement;
    expect(block.textContent).toContain('Bob Stone');
    expect(block.textContent).toContain('The release is on Friday');
    fireEvent.click(block);
    await waitFor(() =>
      expect(byText('The release is on Friday, after').classList.contains('parley-message--highlighted')).toBe(true),
    );
  });
});
