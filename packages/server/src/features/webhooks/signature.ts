/**
 * Webhook signatures (Stripe's scheme): `X-Parley-Signature: t=<unix seconds>,v1=<hex>` where
 * the hex is HMAC-SHA256 under the endpoint's secret of `<t>.<raw body>`. Signing the time
 * with the body lets a receiver refuse replays: a valid signature older than its window (five
 * minutes in the documented snippet) is an old request played again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The header value for `body` signed at `t` (unix seconds): one `v1` per secret, in the order
 * given — during a rotation the new secret's first, then the previous one's (Stripe's form), so a
 * receiver holding either secret finds a signature it can check.
 */
export function signatureHeader(secret: string | readonly string[], t: number, body: string): string {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  let h = `t=${t}`;
  for (const s of secrets) h += `,v1=${createHmac('sha256', s).update(`${t}.${body}`).digest('hex')}`;
  return h;
}

/**
 * Whether `header` signs `body` under `secret` (any of its `v1` values), no older (or newer)
 * than `toleranceSeconds` from `now` (ms). What a receiver runs; the server's tests use it as
 * their receiver does.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.some(([k, v]) => {
    if (k !== 'v1') return false;
    const got = Buffer.from(String(v ?? ''), 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

/** Whether an event type is wanted by an endpoint's patterns (`message.new`, `reaction.*`, `*`). */
export function wants(patterns: readonly string[], type: string): boolean {
  for (const p of patterns) {
    if (p === '*' || p === type) return true;
    if (p.endsWith('.*') && type.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}
