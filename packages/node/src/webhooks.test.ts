import { describe, expect, it } from 'vitest';
import { isValidWebhook, signWebhook, verifyWebhook, WebhookVerificationError } from './webhooks.js';

const secret = 'whsec_test';
const body = JSON.stringify({
  event_id: 'group:ops:1',
  type: 'message.new',
  app_id: 'a',
  created_at: 'now',
  event: {},
});
const now = 1_790_000_000_000;
const t = now / 1000;

const reason = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof WebhookVerificationError ? e.reason : `other: ${(e as Error).message}`;
  }
  return 'passed';
};

describe('verifyWebhook', () => {
  it('accepts a fresh signature over the raw body, as a string or bytes, and answers it parsed', () => {
    const header = signWebhook(secret, body, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(body, header, secret, { now })).toMatchObject({ type: 'message.new' });
    expect(verifyWebhook(Buffer.from(body), [header], secret, { now })).toMatchObject({ event_id: 'group:ops:1' });
    expect(verifyWebhook(new TextEncoder().encode(body), header, secret, { now: now + 299_000 })).toBeTruthy();
  });

  it('refuses each way a request can be wrong, saying which', () => {
    const header = signWebhook(secret, body, t);
    expect(reason(() => verifyWebhook(body, undefined, secret, { now }))).toBe('missing');
    expect(reason(() => verifyWebhook(body, '', secret, { now }))).toBe('missing');
    expect(reason(() => verifyWebhook(body, 'v1=abc', secret, { now }))).toBe('malformed');
    expect(reason(() => verifyWebhook(body, `t=${t},v1=zz`, secret, { now }))).toBe('malformed');
    expect(reason(() => verifyWebhook(body, header, secret, { now: now + 301_000 }))).toBe('expired');
    expect(reason(() => verifyWebhook(body, header, secret, { now: now - 301_000 }))).toBe('expired');
    expect(reason(() => verifyWebhook(body, header, secret, { now: now + 3_600_000, toleranceSeconds: 7200 }))).toBe(
      'passed',
    );
    expect(reason(() => verifyWebhook(`${body} `, header, secret, { now }))).toBe('mismatch');
    expect(reason(() => verifyWebhook(body, header, 'other', { now }))).toBe('mismatch');
    // Signed at another time than it says: the time is part of what is signed.
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(reason(() => verifyWebhook(body, moved, secret, { now }))).toBe('mismatch');
  });

  it('accepts either signature of a rotation, and either secret a receiver holds', () => {
    const both = signWebhook(['whsec_new', 'whsec_old'], body, t);
    expect(both).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    // The server signs under both: a receiver still on the old secret, or already on the new one.
    expect(verifyWebhook(body, both, 'whsec_old', { now })).toBeTruthy();
    expect(verifyWebhook(body, both, 'whsec_new', { now })).toBeTruthy();
    expect(reason(() => verifyWebhook(body, both, 'whsec_other', { now }))).toBe('mismatch');
    // After the overlap only the new one signs: a receiver holding both secrets takes it, one holding the old does not.
    const single = signWebhook('whsec_new', body, t);
    expect(verifyWebhook(body, single, ['whsec_old', 'whsec_new'], { now })).toBeTruthy();
    expect(reason(() => verifyWebhook(body, single, 'whsec_old', { now }))).toBe('mismatch');
    // A changed body fails under every secret; an unknown scheme beside v1 is skipped.
    expect(reason(() => verifyWebhook(`${body} `, both, ['whsec_new', 'whsec_old'], { now }))).toBe('mismatch');
    expect(verifyWebhook(body, `${both},v2=abc`, 'whsec_old', { now })).toBeTruthy();
    expect(reason(() => verifyWebhook(body, `t=${t},v1=${'0'.repeat(64)},v1=zz`, secret, { now }))).toBe('malformed');
    expect(() => verifyWebhook(body, both, [], { now })).toThrow(TypeError);
  });

  it('isValidWebhook answers a boolean', () => {
    const header = signWebhook(secret, body, t);
    expect(isValidWebhook(body, header, secret, { now })).toBe(true);
    expect(isValidWebhook(body, header, 'x', { now })).toBe(false);
    expect(isValidWebhook('not json', signWebhook(secret, 'not json', t), secret, { now })).toBe(false);
  });
});
