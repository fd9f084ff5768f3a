import { describe, expect, it } from 'vitest';
import { partsOf, windowEnd } from './push.js';

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

describe("the push statement's answer", () => {
  const apps = ['app-0', 'app-1'];
  const none = { mem: null, marks: null, passes: null, mutes: null, flagged: null, pairs: null };

  it('comes back as rows, each with its app, whatever the ids hold', () => {
    const parts = partsOf(
      {
        ...none,
        mem: '0,"a,\\"b\\"","group:x",1,7,1,"a","group:y",0,0',
        marks: '1,"group:y",0,0,9,3',
        passes: '1,"group:y",0,"z",4,1',
        mutes: '0,"a,\\"b\\"","z"',
        flagged: '0,"a,\\"b\\"","group:x","z",2',
        pairs: '0,"a,\\"b\\"","group:x",12,1,"a","group:gone",null',
      },
      apps,
    );
    expect(parts).toEqual({
      mem: [
        ['app-0', 'a,"b"', 'group:x', true, 7],
        ['app-1', 'a', 'group:y', false, 0],
      ],
      marks: [['app-1', 'group:y', 0, 0, 9, 3]],
      passes: [['app-1', 'group:y', 0, 'z', 4, 1]],
      mutes: [['app-0', 'a,"b"', 'z']],
      flagged: [['app-0', 'a,"b"', 'group:x', 'z', 2]],
      pairs: [
        ['app-0', 'a,"b"', 'group:x', 12],
        ['app-1', 'a', 'group:gone', null],
      ],
    });
    expect(partsOf(none, apps)).toEqual({ mem: [], marks: [], passes: [], mutes: [], flagged: [], pairs: [] });
  });

  it('refuses a list that is not whole rows, or names an app not asked for', () => {
    expect(() => partsOf({ ...none, mutes: '0,"a"' }, apps)).toThrow(/mutes is not rows of 3/);
    expect(() => partsOf({ ...none, mutes: '2,"a","b"' }, apps)).toThrow(/names no app/);
  });
});
