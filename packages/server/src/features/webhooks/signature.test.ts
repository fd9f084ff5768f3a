import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature, wants } from './signature.js';

describe('webhook signatures', () => {
  it('verifies its own signature and refuses a changed body, a wrong secret or an old time', () => {
    const now = 1_800_000_000_000;
    const t = now / 1000;
    const h = signatureHeader('s3cret', t, '{"a":1}');
    expect(h).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('s3cret', h, '{"a":1}', 300, now)).toBe(true);
    expect(verifySignature('s3cret', h, '{"a":2}', 300, now)).toBe(false);
    expect(verifySignature('other', h, '{"a":1}', 300, now)).toBe(false);
    expect(verifySignature('s3cret', h, '{"a":1}', 300, now + 301_000)).toBe(false);
    expect(verifySignature('s3cret', undefined, '{"a":1}', 300, now)).toBe(false);
    expect(verifySignature('s3cret', 't=x,v1=zz', '{"a":1}', 300, now)).toBe(false);
  });

  it('signs with each secret of a rotation, and either secret verifies', () => {
    const now = 1_800_000_000_000;
    const t = now / 1000;
    const h = signatureHeader(['new', 'old'], t, '{"a":1}');
    expect(h).toMatch(/^t=1800000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(h.split(',')[1]).toBe(signatureHeader('new', t, '{"a":1}').split(',')[1]);
    expect(verifySignature('new', h, '{"a":1}', 300, now)).toBe(true);
    expect(verifySignature('old', h, '{"a":1}', 300, now)).toBe(true);
    expect(verifySignature('older', h, '{"a":1}', 300, now)).toBe(false);
    expect(verifySignature('old', h, '{"a":2}', 300, now)).toBe(false);
  });

  it('matches exact types, noun wildcards and the catch-all', () => {
    expect(wants(['message.new'], 'message.new')).toBe(true);
    expect(wants(['message.new'], 'message.updated')).toBe(false);
    expect(wants(['reaction.*'], 'reaction.deleted')).toBe(true);
    expect(wants(['reaction.*'], 'reactions.x')).toBe(false);
    expect(wants(['*'], 'member.added')).toBe(true);
  });
});
