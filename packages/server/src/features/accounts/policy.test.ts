/** The pure parts of sign-in protection and the password policy. */
import { describe, expect, it } from 'vitest';
import { parsePublicUrl } from '../../platform/config.js';
import { breachedPasswords, isBreached } from './password-policy.js';
import { lockLength } from './signin-guard.js';

describe('lockLength', () => {
  it('doubles from the base with each lock, up to the cap', () => {
    const lengths = [1, 2, 3, 4, 7, 8, 100].map((n) => lockLength(n, 60_000, 3600_000));
    expect(lengths).toEqual([60_000, 120_000, 240_000, 480_000, 3600_000, 3600_000, 3600_000]);
  });
});

describe('the breach list', () => {
  it('is the shipped top list, compared ignoring case', async () => {
    expect((await breachedPasswords()).size).toBeGreaterThan(40_000);
    for (const p of ['password', 'PASSWORD', 'qwertyuiop', 'Iloveyou123', '1q2w3e4r5t'])
      expect(await isBreached(p)).toBe(true);
    for (const p of ['correct horse battery', 'a fresh spring morning', 'ünïcödé✓✓✓'])
      expect(await isBreached(p)).toBe(false);
  });
});

describe('PARLEY_PUBLIC_URL', () => {
  it('keeps an origin and a path without the trailing slash, and refuses other schemes', () => {
    expect(parsePublicUrl(undefined)).toBeUndefined();
    expect(parsePublicUrl(' https://chat.example.com/ ')).toBe('https://chat.example.com');
    expect(parsePublicUrl('https://example.com/chat/')).toBe('https://example.com/chat');
    expect(() => parsePublicUrl('ftp://example.com')).toThrow(/http or https/);
    expect(() => parsePublicUrl('not a url')).toThrow(/PARLEY_PUBLIC_URL/);
  });
});
