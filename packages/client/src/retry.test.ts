import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from './errors.js';
import { isRetryable, keepLoading, retryDelay, retrying } from './retry.js';

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
