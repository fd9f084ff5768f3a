import { describe, expect, it } from 'vitest';
import { channelsPerBatch, SPREAD_MIN, takeBatch } from './batch-plan.js';

/** `n` sends, the i-th into channel `c{i % channels}`, ids `m{i}`. */
const sends = (n: number, channels: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `a:c${i % channels}`, idKey: `a:m${i}`, i }));
const keys = (b: { key: string }[]) => [...new Set(b.map((x) => x.key))];
const none = new Set<string>();

describe('cutting the send queue into batches', () => {
  it('cuts a burst over many channels into `parts` batches by channel', () => {
    const q = sends(64, 64);
    const per = channelsPerBatch(q, none, 2);
    expect(per).toBe(32);
    const one = takeBatch(q, none, per, 256);
    expect(one.batch.map((s) => s.i)).toEqual([...Array(32).keys()]);
    const two = takeBatch(one.rest, new Set(keys(one.batch)), per, 256);
    expect(two.batch.map((s) => s.i)).toEqual([...Array(32).keys()].map((i) => i + 32));
    expect(two.rest).toEqual([]);
  });

  it("keeps each channel's sends in one batch, in order, when there are more sends than channels", () => {
    const q = sends(256, 64);
    const per = channelsPerBatch(q, none, 2);
    const one = takeBatch(q, none, per, 256);
    const two = takeBatch(one.rest, new Set(keys(one.batch)), per, 256);
    expect(one.batch).toHaveLength(128);
    expect(two.batch).toHaveLength(128);
    expect(keys(one.batch).filter((k) => keys(two.batch).includes(k))).toEqual([]);
    for (const b of [one.batch, two.batch])
      for (const k of keys(b)) {
        const order = b.filter((s) => s.key === k).map((s) => s.i);
        expect(order).toEqual([...order].sort((x, y) => x - y));
      }
  });

  it('leaves a small burst, one part, or a single channel as one batch', () => {
    expect(channelsPerBatch(sends(2 * SPREAD_MIN - 1, 64), none, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(channelsPerBatch(sends(200, 64), none, 1)).toBe(Number.POSITIVE_INFINITY);
    const hot = sends(100, 1);
    expect(takeBatch(hot, none, channelsPerBatch(hot, none, 2), 256).batch).toHaveLength(100);
  });

  it('shares out only the idle channels', () => {
    const q = sends(64, 8);
    const busy = new Set(['a:c0', 'a:c1', 'a:c2', 'a:c3']);
    expect(channelsPerBatch(q, busy, 2)).toBe(2);
    const { batch, rest } = takeBatch(q, busy, 2, 256);
    expect(keys(batch)).toEqual(['a:c4', 'a:c5']);
    expect(rest).toHaveLength(64 - 16);
  });

  it('never lets a send overtake an earlier one of its channel, nor take an id twice', () => {
    const q = [
      { key: 'a:x', idKey: 'a:1', i: 0 },
      { key: 'a:y', idKey: 'a:1', i: 1 }, // the same id again: waits, and so does the rest of a:y
      { key: 'a:y', idKey: 'a:2', i: 2 },
      { key: 'a:z', idKey: 'a:3', i: 3 },
    ];
    const { batch, rest } = takeBatch(q, none, Number.POSITIVE_INFINITY, 256);
    expect(batch.map((s) => s.i)).toEqual([0, 3]);
    expect(rest.map((s) => s.i)).toEqual([1, 2]);
    // At most `maxBatch`: what does not fit waits, with everything after it in its channel.
    const capped = takeBatch(sends(10, 2), none, Number.POSITIVE_INFINITY, 3);
    expect(capped.batch.map((s) => s.i)).toEqual([0, 1, 2]);
    expect(capped.rest.map((s) => s.i)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});
