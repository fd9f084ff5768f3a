// @vitest-environment happy-dom
/**
 * Busy in the kit: a DM row's presence dot turns busy (red, with a text alternative) and back
 * when the peer sets do-not-disturb, and the row shows the peer's custom status; `PresenceDot`
 * names every state.
 */
import type { ChatClient } from '@parley/client';
import { render, screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChannelList, PresenceDot } from '../src/index.js';
import { renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  await alice.channel('dm', { members: ['bob'] }).createChannel();
  bob = await w.connect('bob');
  await until(() => bob.state.get().channelList.length === 1, 10_000, 'bob sees the DM');
});

afterAll(async () => {
  await w?.close();
});

describe('presence in the kit', () => {
  it('PresenceDot names each state, busy included', () => {
    const { container } = render(
      <>
        <PresenceDot presence="online" />
        <PresenceDot presence="away" />
        <PresenceDot presence="busy" />
        <PresenceDot presence="offline" />
      </>,
    );
    expect([...container.querySelectorAll('[role="img"]')].map((e) => e.getAttribute('aria-label'))).toEqual([
      'Online',
      'Away',
      'Busy (do not disturb)',
      'Offline',
    ]);
    expect(container.querySelector('.parley-presence--busy')).not.toBeNull();
  });

  it('a DM row shows the peer going busy and back, live, with their custom status', async () => {
    renderFor(bob, <ChannelList onSelect={vi.fn()} />);
    const row = () => document.querySelector('[data-cid^="dm:"]') as HTMLElement;
    await waitFor(() => expect(row().getAttribute('aria-label')).toContain('online'));
    await alice.setPresence('busy');
    await waitFor(() => expect(row().querySelector('.parley-presence--busy')).not.toBeNull());
    expect(row().getAttribute('aria-label')).toContain('busy');
    const r = await w.h.call({
      method: 'POST',
      url: '/v1/me/status',
      headers: await w.app.user('alice'),
      payload: { text: 'In a meeting', emoji: '📅' },
    });
    expect(r.status).toBe(200);
    await waitFor(() => expect(screen.getByTestId('dm-status').textContent).toBe('📅 In a meeting'));
    expect(row().getAttribute('aria-label')).toContain('📅 In a meeting');
    await alice.setPresence('online');
    await waitFor(() => expect(row().querySelector('.parley-presence--online')).not.toBeNull());
  });
});
