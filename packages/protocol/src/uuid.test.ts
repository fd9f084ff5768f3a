import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID whose first 48 bits are the given time', () => {
    const at = Date.UTC(2026, 10, 24, 5, 30, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('never repeats across many refills of its random pool, and sorts by time', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
    expect([...ids].sort()).toEqual(ids);
    // The random part of ids made in the same millisecond differs too.
    const same = Array.from({ length: 600 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(same).size).toBe(same.length);
  });
});
