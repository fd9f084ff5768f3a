// @vitest-environment happy-dom
/**
 * People you can see: a profile picture uploaded by Alice shows on her messages in Bob's list
 * live, asked at the size each avatar draws; search results show the author's picture and
 * presence and open their profile; the @mention suggestions show each person's presence dot.
 */
import type { ChatClient } from '@parley/client';
import { fireEvent, screen, within } from '@testing-library/react';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Avatar, Channel, MessageInput, MessageList, MessageSearch } from '../src/index.js';
import { freshId, renderFor, waitFor, world } from './helpers.js';

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

const picture = async (color: string) =>
  new Blob(
    [
      new Uint8Array(
        await sharp({ create: { width: 256, height: 256, channels: 3, background: color } })
          .png()
          .toBuffer(),
      ),
    ],
    { type: 'image/png' },
  );

describe('Avatar', () => {
  it('asks a Parley picture at twice its size, leaves other URLs alone, and shows initials without one', () => {
    const url =
      'https://chat.example.com/v1/images/0190a0b0-0000-7000-8000-000000000001/0190a0b0-0000-7000-8000-000000000002';
    renderFor(
      alice,
      <div>
        <Avatar user={{ name: 'Ada Lovelace', username: null, image: url }} id="ada" size={32} />
        <Avatar user={{ name: 'Ada Lovelace', username: null, image: `${url}?size=512` }} id="ada" size={20} />
        <Avatar user={{ name: 'Ada Lovelace', username: null, image: 'https://cdn.example.com/ada.png' }} id="ada" />
        <Avatar user={{ name: 'Ada Lovelace', username: null, image: null }} id="ada" />
      </div>,
    );
    const imgs = [...document.querySelectorAll('img.parley-avatar')].map((i) => i.getAttribute('src'));
    expect(imgs).toEqual([`${url}?size=64`, `${url}?size=40`, 'https://cdn.example.com/ada.png']);
    expect(document.querySelector('.parley-avatar--initials')?.textContent).toBe('AL');
  });
});

describe('a new profile picture', () => {
  it("shows on Alice's messages in Bob's list as soon as she uploads it, and goes back to initials", async () => {
    const id = freshId('pic');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await a.sendMessage({ text: 'look at my new picture' });
    const b = bob.channel('public', id);
    await b.watch();
    renderFor(
      bob,
      <Channel channel={b}>
        <MessageList />
      </Channel>,
    );
    const message = () =>
      [...document.querySelectorAll<HTMLElement>('article.parley-message')].find((m) =>
        m.textContent?.includes('look at my new picture'),
      );
    await waitFor(() => expect(message()?.querySelector('.parley-avatar--initials')?.textContent).toBe('AL'));

    const { image } = await alice.profiles.setAvatar(await picture('#cc3366'));
    await waitFor(() =>
      expect(message()?.querySelector('img.parley-avatar')?.getAttribute('src')).toBe(`${image.url}?size=64`),
    );

    await alice.profiles.removeAvatar();
    await waitFor(() => expect(message()?.querySelector('.parley-avatar--initials')?.textContent).toBe('AL'));
    expect(message()?.querySelector('img.parley-avatar')).toBeNull();
  });
});

describe('search results', () => {
  it("show the author's picture and presence, and open their profile from the name", async () => {
    const id = freshId('srch');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await a.sendMessage({ text: 'the zanzibar quarterly numbers' });
    const picked: string[] = [];
    const opened: string[] = [];
    renderFor(
      bob,
      <MessageSearch
        initialQuery="zanzibar"
        onOpen={(hit) => opened.push(hit.message.id)}
        onSelectUser={(userId) => picked.push(userId)}
      />,
    );
    const results = await screen.findByRole('list', { name: 'Search results' });
    await waitFor(() => expect(within(results).getAllByRole('listitem')).toHaveLength(1));
    const author = within(results).getByRole('button', { name: "Alice Liddell's profile" });
    // Alice is connected: her dot says so.
    expect(within(author).getByRole('img', { name: 'Online' })).toBeTruthy();
    fireEvent.click(author);
    expect(picked).toEqual(['alice']);
    expect(opened).toEqual([]);
    fireEvent.click(
      within(results)
        .getByText(/zanzibar/)
        .closest('button') as HTMLButtonElement,
    );
    expect(opened).toHaveLength(1);
  });
});

describe('@mention suggestions', () => {
  it("show each person's presence dot", async () => {
    const id = freshId('men');
    const ch = alice.channel('public', id);
    await ch.createChannel({ name: id, members: ['bob', 'carol'] });
    await ch.watch();
    renderFor(
      alice,
      <Channel channel={ch}>
        <MessageInput />
      </Channel>,
    );
    const box = screen.getByRole('combobox', { name: /^Message #/ }) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: 'hi @', selectionStart: 4, selectionEnd: 4 } });
    const list = screen.getByRole('listbox', { name: 'People to mention' });
    const dots = () =>
      Object.fromEntries(
        within(list)
          .getAllByRole('option')
          .filter((o) => o.querySelector('.parley-presence'))
          .map((o) => [o.textContent, o.querySelector('.parley-presence')?.getAttribute('aria-label')]),
      );
    // Followed while the list is open: Bob is connected, Carol is not; @here and @channel have none.
    await waitFor(() => expect(dots()).toEqual({ 'Bob Stone@bob': 'Online', 'Carol Danvers@carol': 'Offline' }));
  });
});
