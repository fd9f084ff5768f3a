import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptPush } from '../../../test/notifications/push-service.js';
import { encryptPush, stopPushEncryption } from './encrypt.js';

function subscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, p256dh: ecdh.getPublicKey().toString('base64url'), authB64: auth.toString('base64url') };
}

afterAll(() => stopPushEncryption());

describe('push encryption on the worker thread', () => {
  it('makes bodies each subscription (and only it) can decrypt, many at once', async () => {
    const subs = Array.from({ length: 4 }, subscription);
    const payloads = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, text: `é ${'x'.repeat(i * 50)}` }));
    const bodies = await Promise.all(
      payloads.map((p, i) => {
        const s = subs[i % subs.length] as ReturnType<typeof subscription>;
        return encryptPush(s.p256dh, s.authB64, p);
      }),
    );
    bodies.forEach((b, i) => {
      const s = subs[i % subs.length] as ReturnType<typeof subscription>;
      expect(decryptPush(b, s).toString('utf8')).toBe(payloads[i]);
      // A fresh key and salt every time: the same payload never encrypts the same.
      const other = subs[(i + 1) % subs.length] as ReturnType<typeof subscription>;
      expect(() => decryptPush(b, other)).toThrow();
    });
    expect(new Set(bodies.map((b) => b.subarray(0, 16).toString('hex'))).size).toBe(bodies.length);
  });

  it('rejects keys that are not a subscription’s, and goes on after', async () => {
    await expect(encryptPush('not-a-key', randomBytes(16).toString('base64url'), 'x')).rejects.toThrow();
    const s = subscription();
    expect(decryptPush(await encryptPush(s.p256dh, s.authB64, 'after'), s).toString()).toBe('after');
  });

  it('starts a new worker after the last one stopped', async () => {
    const s = subscription();
    const first = expect(encryptPush(s.p256dh, s.authB64, 'in flight')).rejects.toThrow(/stopped/);
    await stopPushEncryption();
    await first;
    expect(decryptPush(await encryptPush(s.p256dh, s.authB64, 'again'), s).toString()).toBe('again');
  });
});
