import { describe, expect, it } from 'vitest';
import { windowEnd } from './push.js';

describe("a message's unread pushes", () => {
  it('are due at the end of their window, the same instant for every message of it', () => {
    const w = 250;
    const dues = [1_000.1, 1_100, 1_249.9, 1_250].map((t) => windowEnd(t, w));
    expect(dues).toEqual([1_250, 1_250, 1_250, 1_250]);
    expect(windowEnd(1_250.01, w)).toBe(1_500);
    // Never before the time asked, never a window later.
    for (const t of [0.5, 17, 249, 999.99, 123_456.7]) {
      expect(windowEnd(t, w)).toBeGreaterThanOrEqual(t);
      expect(windowEnd(t, w) - t).toBeLessThan(w);
    }
    expect(windowEnd(1_234.5, 0)).toBe(1_234.5);
  });
});
