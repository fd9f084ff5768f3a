// @vitest-environment happy-dom
/**
 * `useUnreadTotals()` and the channel list's badges against a real server: they show the counts
 * the server pushes (`unread.updated`) — a message from someone else raises them, a read on the
 * user's other device (another client of the same user) clears them — and the totals cover
 * channels this client never loaded.
 */
import type { ChatClient } from '@parley/client';
import { screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelList, useUnreadTotals } from '../src/index.js';
import { freshId, renderFor, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;
let bobPhone: ChatClient;

/** The channel list's unread badges, in order of their counts. */
const badges = () =>
  screen
    .queryAllByTestId('unread-badge')
    .map((b) => b.textContent ?? '')
    .sort();

function Totals() {
  const t = useUnreadTotals();
  return <p data-testid="totals">{`${t.total}/${t.mentions}/${t.channels}`}</p>;
}

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  bob = await w.connect('bob');
  bobPhone = await w.connect('bob');
});
afterAll(async () => {
  await w?.close();
});

describe('useUnreadTotals', () => {
  it("shows the server's totals and badges, raised by a message and cleared by a read on another device", async () => {
    const id = freshId('u');
    const ch = alice.channel('group', id);
    await ch.createChannel({ members: ['bob'], name: 'Totals' });
    // A second channel Bob's client does not ask for: it counts in his totals all the same (and
    // joins his list when its channel.added arrives).
    const other = alice.channel('group', freshId('u'));
    await other.createChannel({ members: ['bob'], name: 'Elsewhere' });
    await bob.queryChannels({ cid: `group:${id}` });
    renderFor(
      bob,
      <>
        <Totals />
        <ChannelList onSelect={() => {}} />
      </>,
    );
    await waitFor(() => expect(screen.getByTestId('totals').textContent).toBe('0/0/0'));

    await ch.sendMessage({ text: 'hello @bob' });
    await ch.sendMessage({ text: 'two' });
    await other.sendMessage({ text: 'elsewhere' });
    await waitFor(() => expect(screen.getByTestId('totals').textContent).toBe('3/1/2'), { timeout: 10_000 });
    await waitFor(() => expect(badges()).toEqual(['1', '2']), { timeout: 10_000 });

    // Bob reads the channel on his phone: this client's badge and totals follow.
    const phone = bobPhone.channel('group', id);
    await phone.watch();
    await phone.markRead();
    await waitFor(() => expect(screen.getByTestId('totals').textContent).toBe('1/0/1'), { timeout: 10_000 });
    await waitFor(() => expect(badges()).toEqual(['1']), { timeout: 10_000 });
  });
});
