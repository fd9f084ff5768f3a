// @vitest-environment happy-dom
/**
 * "Seen by" in a group: under Alice's latest message, live as Bob and then Carol read it, with
 * their read times in the popover; nothing before anyone read it, nothing on others' messages.
 */
import type { ChatClient, ReadBy } from '@parley/client';
import { fireEvent } from '@testing-library/react';
import { Profiler } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, MessageList, SeenBy } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;
let carol: ChatClient;

beforeAll(async () => {
  w = await world();
  [alice, bob, carol] = await Promise.all([w.connect('alice'), w.connect('bob'), w.connect('carol')]);
});
afterAll(async () => {
  await w?.close();
});

const articles = () => [...document.querySelectorAll<HTMLElement>('article.parley-message')];
const byText = (text: string) => articles().find((a) => a.textContent?.includes(text)) as HTMLElement;

describe('SeenBy', () => {
  it('names who read my latest message in a group, live, with times on click', async () => {
    const id = freshId('rb');
    const a = alice.channel('group', id);
    await a.createChannel({ name: 'Trio', members: ['bob', 'carol'] });
    await a.watch();
    await a.sendMessage({ text: 'older one' });
    await a.sendMessage({ text: 'where are we?' });
    const cid = `group:${id}`;
    renderFor(
      alice,
      <Channel channel={a}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(byText('where are we?')).toBeTruthy());
    // The list asked the server whether read-by is on here.
    await until(() => a.state?.readByEnabled === true, 10_000, 'read-by asked');
    expect(document.querySelector('.parley-seen-by')).toBeNull();

    await until(() => bob.state.get().channels[cid], 10_000, 'bob has it');
    const b = bob.channel('group', id);
    await b.watch();
    await b.markRead();
    await waitFor(() => expect(byText('where are we?').textContent).toContain('Seen by Bob Stone'));
    // Only on the latest message of mine.
    expect(byText('older one').querySelector('.parley-seen-by')).toBeNull();

    const c = carol.channel('group', id);
    await until(() => carol.state.get().channels[cid], 10_000, 'carol has it');
    await c.watch();
    await c.markRead();
    await waitFor(() => expect(byText('where are we?').textContent).toContain('Seen by everyone'));

    const seen = byText('where are we?').querySelector<HTMLButtonElement>('.parley-seen-by__button');
    expect(seen?.getAttribute('title')).toContain('Carol Danvers');
    fireEvent.click(seen as HTMLButtonElement);
    const pop = byText('where are we?').querySelector('.parley-seen-by__popover');
    expect(pop?.textContent).toContain('Bob Stone');
    expect(pop?.textContent).toContain('Carol Danvers');
    expect(pop?.querySelectorAll('time')).toHaveLength(2);

    // A new message of mine: read by no one yet, so the line goes away.
    await a.sendMessage({ text: 'hello?' });
    await waitFor(() => expect(byText('hello?')).toBeTruthy());
    await waitFor(() => expect(document.querySelector('.parley-seen-by')).toBeNull());
  });

  it('re-renders when one of its readers changes, not on every change of the client', async () => {
    const id = freshId('rb');
    const a = alice.channel('group', id);
    await a.createChannel({ name: 'Pair', members: ['bob'] });
    await a.watch();
    const sent = await a.sendMessage({ text: 'read me' });
    const readBy = { message: sent, readers: [{ user_id: 'bob', read_at: null }], others: 1 } as unknown as ReadBy;
    let commits = 0;
    renderFor(
      alice,
      <Channel channel={a}>
        <Profiler id="seen" onRender={() => (commits += 1)}>
          <SeenBy readBy={readBy} />
        </Profiler>
      </Channel>,
    );
    await waitFor(() => expect(document.querySelector('.parley-seen-by')?.textContent).toContain('Bob Stone'));
    const before = commits;
    // Messages move the channel's and the client's state; Bob is as he was.
    for (const text of ['one', 'two', 'three']) await a.sendMessage({ text });
    await until(() => a.state?.messages.length === 4, 10_000, 'the messages are in');
    expect(commits).toBe(before);
  });
});
