import { afterEach, describe, expect, it, vi } from 'vitest';
import webpush from 'web-push';
import { vapidAuthorization } from './web-push.js';

const keys = webpush.generateVAPIDKeys();
const o = { keys, subject: 'mailto:ops@example.com' };

function claims(header: string): { aud: string; exp: number; sub: string } {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  if (!m) throw new Error(`not a VAPID header: ${header}`);
  expect(m[2]).toBe(keys.publicKey);
  return JSON.parse(Buffer.from((m[1] as string).split('.')[1] as string, 'base64url').toString('utf8'));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('VAPID authorization', () => {
  it('is signed once per push service and key, then reused', () => {
    const a = vapidAuthorization(o, 'https://push.example.com/send/aaa');
    const b = vapidAuthorization(o, 'https://push.example.com/send/bbb');
    expect(b).toBe(a);
    const c = claims(a);
    expect(c.aud).toBe('https://push.example.com');
    expect(c.sub).toBe('mailto:ops@example.com');
    // Valid for 12 hours: push services refuse a token that lives longer than a day.
    expect(c.exp - Date.now() / 1000).toBeGreaterThan(11 * 3600);
    expect(c.exp - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600 + 1);
    // Another service (or port) has a token of its own, and so has another key.
    const other = vapidAuthorization(o, 'https://updates.push.example.net:8443/x');
    expect(claims(other).aud).toBe('https://updates.push.example.net:8443');
    const k2 = { keys: webpush.generateVAPIDKeys(), subject: o.subject };
    expect(vapidAuthorization(k2, 'https://push.example.com/send/aaa')).not.toBe(a);
  });

  it('is signed anew once half its life has gone', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const first = vapidAuthorization(o, 'https://renew.example.com/1');
    vi.setSystemTime(new Date('2030-01-01T05:59:00Z'));
    expect(vapidAuthorization(o, 'https://renew.example.com/2')).toBe(first);
    vi.setSystemTime(new Date('2030-01-01T06:00:01Z'));
    const renewed = vapidAuthorization(o, 'https://renew.example.com/3');
    expect(renewed).not.toBe(first);
    expect(claims(renewed).exp).toBeGreaterThan(claims(first).exp);
  });
});
