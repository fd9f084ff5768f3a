import { describe, expect, it } from 'vitest';
import { checkAutomodSettings, DEFAULT_AUTOMOD, runPatterns } from './automod.js';

describe('the regex guard', () => {
  it('stops a catastrophic pattern within its budget instead of hanging the event loop', () => {
    const s = { ...DEFAULT_AUTOMOD, blocked_patterns: ['(a+)+$'] };
    // 30 a's then "!": V8's backtracking needs ~2^30 steps; the budget interrupts it.
    expect(runPatterns(s, `${'a'.repeat(30)}!`, 50)).toBe('timeout');
    // The same pattern still answers at once where it matches or fails fast.
    expect(runPatterns(s, 'aaaa', 50)).toBe(0);
    expect(runPatterns(s, 'bbbb', 50)).toBe(-1);
  });

  it('a timer set before a runaway pattern still fires: the loop was not held', async () => {
    const s = { ...DEFAULT_AUTOMOD, blocked_patterns: ['(x+x+)+y'] };
    let fired = false;
    const t = new Promise<void>((r) =>
      setTimeout(() => {
        fired = true;
        r();
      }, 0),
    );
    expect(runPatterns(s, 'x'.repeat(40), 20)).toBe('timeout');
    await t;
    expect(fired).toBe(true);
  });

  it('finds the first matching pattern, case-insensitively, and refuses patterns that do not compile', () => {
    const s = { ...DEFAULT_AUTOMOD, blocked_patterns: ['foo\\d+', 'BAR'] };
    expect(runPatterns(s, 'a bar here')).toBe(1);
    expect(runPatterns(s, 'FOO12 and bar')).toBe(0);
    expect(() => checkAutomodSettings({ ...s, blocked_patterns: ['(unclosed'] })).toThrow(/blocked_patterns/);
  });
});
