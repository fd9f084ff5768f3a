// @vitest-environment happy-dom
/**
 * `useFlag(key)` against a real server: the user's own value — from the connection's hello, so
 * at the first render — re-rendered live when an admin changes the flag (`feature_flags.updated`
 * carries the user's value).
 */
import type { ChatClient } from '@parley/client';
import { screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFlag } from '../src/index.js';
import { renderFor, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;

function Composer() {
  return <p data-testid="composer">{useFlag('new-composer') ? 'new' : 'old'}</p>;
}

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
});
afterAll(async () => {
  await w?.close();
});

const putFlag = async (body: object) =>
  w.h.call({ method: 'PUT', url: '/v1/feature-flags/new-composer', headers: await w.app.server(), payload: body });

describe('useFlag', () => {
  it("shows the user's value and follows a change live", async () => {
    await putFlag({ enabled: true, user_ids: ['alice'] });
    renderFor(alice, <Composer />);
    await waitFor(() => expect(screen.getByTestId('composer').textContent).toBe('new'));
    await putFlag({ enabled: false });
    await waitFor(() => expect(screen.getByTestId('composer').textContent).toBe('old'), { timeout: 10_000 });
  });

  it('knows the value from the connection’s hello: right at the first render, with no request', async () => {
    await putFlag({ enabled: true, user_ids: ['bob'] });
    const bob = await w.connect('bob');
    expect(bob.flags.state.get().loaded).toBe(true);
    const r = renderFor(bob, <Composer />);
    expect(r.getByTestId('composer').textContent).toBe('new');
    r.unmount();
  });
});
