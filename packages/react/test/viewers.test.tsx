// @vitest-environment happy-dom
/**
 * useViewing and ChannelViewers against a real server: two people's views of one channel each
 * show the other (never themselves), and a view that unmounts leaves the other's header.
 */
import type { ChatClient } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, ChannelViewers, useViewing } from '../src/index.js';
import { freshId, renderFor, until, world } from './helpers.js';

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

function Viewing() {
  useViewing();
  return <ChannelViewers />;
}

const faces = (root: ParentNode) =>
  [...root.querySelectorAll('.parley-viewers__face')].map((e) => e.getAttribute('data-user-id'));

describe('useViewing and ChannelViewers', () => {
  it('show who else views the channel, live', async () => {
    const id = freshId('view');
    const a = alice.channel('public', id);
    await a.createChannel({ name: id, members: ['bob'] });
    await until(() => bob.state.get().channels[`public:${id}`], 10_000, 'bob has the channel');
    const b = bob.channel('public', id);
    const aliceView = renderFor(
      alice,
      <Channel channel={a}>
        <Viewing />
      </Channel>,
    );
    const bobView = renderFor(
      bob,
      <Channel channel={b}>
        <Viewing />
      </Channel>,
    );
    await until(() => faces(bobView.container).join() === 'alice', 10_000, 'bob sees alice');
    await until(() => faces(aliceView.container).join() === 'bob', 10_000, 'alice sees bob');
    expect(bobView.container.querySelector('[data-testid="viewers-count"]')?.textContent).toBe('1 viewing');
    expect(bobView.container.querySelector('.parley-viewers')?.getAttribute('aria-label')).toMatch(/alice.* on web/i);
    aliceView.unmount();
    await until(() => bobView.container.querySelector('.parley-viewers') === null, 10_000, 'alice left');
    expect(bob.viewers.othersViewing(`public:${id}`)).toEqual([]);
    bobView.unmount();
  });
});
