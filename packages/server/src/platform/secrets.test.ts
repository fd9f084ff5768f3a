import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from './secrets.js';

describe('sealer.mac', () => {
  const key = randomBytes(32);
  const a = createSealer(key);

  it('is the same for the same key, purpose and parts, and differs when any of them does', () => {
    const one = a.mac('link-image', 'app-1', Buffer.from('picture'));
    expect(one).toHaveLength(32);
    expect(createSealer(Buffer.from(key)).mac('link-image', 'app-1', Buffer.from('picture'))).toEqual(one);
    expect(a.mac('other-purpose', 'app-1', Buffer.from('picture'))).not.toEqual(one);
    expect(a.mac('link-image', 'app-2', Buffer.from('picture'))).not.toEqual(one);
    expect(createSealer(randomBytes(32)).mac('link-image', 'app-1', Buffer.from('picture'))).not.toEqual(one);
  });

  it('keeps the parts apart: ("ab", "c") is not ("a", "bc")', () => {
    expect(a.mac('p', 'ab', 'c')).not.toEqual(a.mac('p', 'a', 'bc'));
  });

  it('still seals and opens', () => {
    expect(a.open(a.seal('secret'))).toBe('secret');
  });
});
