import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from './errors.js';
import { connectionRetry, isRetryable, keepLoading, onReconnect, retryDelay, retrying } from './retry.js';
import { Store } from './store.js';

const lost = () => new ParleyError('DISCONNECTED', 'Network error: Failed to fetch', { retryable: true });

/** A load that fails `failures` times (with `error()`), then answers; the times it was asked, by fake clock. */
function flaky(failures: number, error: () => unknown = lost) {
  const at: number[] = [];
  const load = () => {
    at.push(Date.now());
    return at.length <= failures ? Promise.reject(error()) : Promise.resolve(at.length);
  };
  return { load, at };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('retryDelay', () => {
  it('doubles from 1 s and stops at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(retryDelay)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe('isRetryable', () => {
  it('is what the error says, and true for a bare fetch that never reached the server', () => {
    expect(isRetryable(lost())).toBe(true);
    expect(isRetryable(new ParleyError('FORBIDDEN', 'no'))).toBe(false);
    expect(isRetryable(new TypeError('Failed to fetch'))).toBe(true);
    expect(isRetryable(new Error('bug'))).toBe(false);
  });
});

describe('retrying', () => {
  it('asks again after 1, 2, 4 … s while the load fails on the network, and answers its first success', async () => {
    const { load, at } = flaky(4);
    const errors: boolean[] = [];
    const p = retrying(load, { onError: (_e, again) => errors.push(again) });
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(p).resolves.toBe(5);
    expect(at).toEqual([0, 1000, 3000, 7000, 15_000]);
    expect(errors).toEqual([true, true, true, true]);
  });

  it('gives up at once on an error that trying again cannot fix', async () => {
    const { load, at } = flaky(5, () => new ParleyError('NOT_FOUND', 'gone'));
    const p = retrying(load);
    await expect(p).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at).toEqual([0]);
  });

  it('stops when its signal aborts: no further try, and the promise rejects', async () => {
    const { load, at } = flaky(10);
    const stop = new AbortController();
    const p = retrying(load, { signal: stop.signal });
    const settled = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1500);
    stop.abort(new Error('left'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at).toEqual([0, 1000]);
    expect(await settled).toMatchObject({ message: 'left' });
  });
});

describe('keepLoading', () => {
  it('retries until stopped (a React effect’s cleanup)', async () => {
    const { load, at } = flaky(10);
    const stop = keepLoading(load);
    await vi.advanceTimersByTimeAsync(3500);
    expect(at).toEqual([0, 1000, 3000]);
    stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(at).toEqual([0, 1000, 3000]);
  });

  it('takes a load that throws before it returns a promise like one that rejects', async () => {
    let n = 0;
    const errors: unknown[] = [];
    const stop = keepLoading(
      () => {
        n++;
        throw new TypeError('Failed to fetch');
      },
      { onError: (e) => errors.push(e) },
    );
    await vi.advanceTimersByTimeAsync(1500);
    stop();
    expect([n, errors.length]).toEqual([2, 2]);
  });
});

describe('sooner: the connection coming back up', () => {
  /** A client's state as far as onReconnect reads it. */
  const clientAt = (connection: string) => ({ state: new Store({ connection }) });

  it('cuts a wait short when the connection comes up, and only on that change', async () => {
    const client = clientAt('online');
    const { load, at } = flaky(3);
    const p = retrying(load, { sooner: onReconnect(client) });
    await vi.advanceTimersByTimeAsync(500);
    // Still online (another change of state): no try before the timer.
    client.state.update(() => ({ connection: 'online' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0]);
    // Down, then up again at 600 ms: a try at once; the next waits its 2 s from there.
    client.state.update(() => ({ connection: 'connecting' }));
    await vi.advanceTimersByTimeAsync(100);
    client.state.update(() => ({ connection: 'online' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0, 600]);
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(p).resolves.toBe(4);
    expect(at).toEqual([0, 600, 2600, 6600]);
  });

  it('lets go of the connection once the load succeeds or is stopped', async () => {
    const client = clientAt('offline');
    let listeners = 0;
    const subscribe = client.state.subscribe.bind(client.state);
    client.state.subscribe = (l) => {
      listeners++;
      const off = subscribe(l);
      return () => {
        listeners--;
        off();
      };
    };
    const stop = keepLoading(flaky(10).load, { sooner: onReconnect(client) });
    await vi.advanceTimersByTimeAsync(0);
    expect(listeners).toBe(1);
    stop();
    expect(listeners).toBe(0);
    const done = retrying(flaky(1).load, { sooner: onReconnect(client) });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(done).resolves.toBe(2);
    expect(listeners).toBe(0);
  });

  it('connectionRetry also tries again a request the dropped connection cut off', async () => {
    const client = clientAt('connecting');
    const cut = () => new ParleyError('DISCONNECTED', 'disconnected', { retryable: false });
    const { load, at } = flaky(1, cut);
    const p = retrying(load, connectionRetry(client));
    await vi.advanceTimersByTimeAsync(200);
    client.state.update(() => ({ connection: 'online' }));
    await expect(p).resolves.toBe(2);
    expect(at).toEqual([0, 200]);
    expect(connectionRetry(client).retryable?.(new ParleyError('FORBIDDEN', 'no'))).toBe(false);
  });
});
