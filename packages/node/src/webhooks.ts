/**
 * Checking what Parley POSTs to your backend: webhook deliveries and the before-send hook are
 * both signed `X-Parley-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 under the
 * endpoint's (or hook's) secret of `<t>.<raw body>` (docs/protocol/webhooks.md). During a
 * secret rotation's overlap a request carries one `v1` per secret (`t=…,v1=<new>,v1=<old>`):
 * a signature under any secret you hold is accepted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Message, WebhookUserEvent } from '@parley/protocol';

/** The header Parley signs with (lower-case, as Node's `req.headers` has it). */
export const SIGNATURE_HEADER = 'x-parley-signature';
/** The documented replay window: a signature older (or newer) than this is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type VerifyFailure = 'missing' | 'malformed' | 'expired' | 'mismatch';

/** A request that is not a genuine, fresh Parley request. `reason` says which check failed. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: VerifyFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** The body of a webhook delivery: the envelope, with the event as sockets get it. */
export interface WebhookBody {
  /** `cid:seq` for channel events, a UUID for user events (and `webhook.test`): the same on every redelivery. */
  event_id: string;
  type: string;
  app_id: string;
  created_at: string;
  event: { type: string; cid?: string; seq?: number; message?: Message; [k: string]: unknown } | WebhookUserEvent;
}

/** The body of a before-send hook call. Answer it with one of `BeforeSendAnswer`. */
export interface BeforeSendBody {
  type: 'message.before_send';
  app_id: string;
  cid: string;
  user_id: string;
  message: { id: string; text: string; parent_id: string | null; quoted_message_id: string | null };
  created_at: string;
}

export type BeforeSendAnswer =
  | { action: 'allow' }
  | { action: 'change'; text: string }
  | { action: 'reject'; reason?: string };

type RawBody = string | Buffer | Uint8Array;
const text = (b: RawBody) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));

/**
 * Check a request's signature over its raw body (the bytes as received, before any JSON parsing)
 * and its age, and answer the parsed body. Throws `WebhookVerificationError` otherwise.
 *
 * `secret` may be a list: while you move to a rotated secret, pass both (`[newSecret, oldSecret]`)
 * and a request signed under either is accepted. During the server's overlap each request is
 * signed under both secrets anyway, so holding either one is enough.
 *
 * ```ts
 * app.post('/parley', express.raw({ type: 'application/json' }), (req, res) => {
 *   const body = verifyWebhook(req.body, req.headers['x-parley-signature'], secret);
 *   …
 * });
 * ```
 */
export function verifyWebhook<T = WebhookBody>(
  rawBody: RawBody,
  header: string | string[] | undefined | null,
  secret: string | readonly string[],
  opts: { toleranceSeconds?: number; now?: number } = {},
): T {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new WebhookVerificationError('missing', `No ${SIGNATURE_HEADER} header`);
  let t = Number.NaN;
  const signatures: string[] = [];
  for (const p of value.split(',')) {
    const i = p.indexOf('=');
    const [k, v] = [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    if (k === 't') t = Number(v);
    // Other schemes (a later `v2`) are skipped, so a receiver keeps working when one is added.
    else if (k === 'v1') signatures.push(v);
  }
  if (!Number.isInteger(t) || signatures.length === 0 || !signatures.every((v) => /^[0-9a-f]{64}$/.test(v)))
    throw new WebhookVerificationError('malformed', `${SIGNATURE_HEADER} is not t=<seconds>,v1=<hex>[,v1=<hex>]`);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = (opts.now ?? Date.now()) / 1000;
  if (Math.abs(now - t) > tolerance)
    throw new WebhookVerificationError('expired', `Signed ${Math.round(now - t)} s ago; the window is ${tolerance} s`);
  const body = text(rawBody);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new TypeError('verifyWebhook: no secret to check with');
  const match = secrets.some((s) => {
    const want = createHmac('sha256', s).update(`${t}.${body}`).digest();
    return signatures.some((v) => {
      const got = Buffer.from(v, 'hex');
      return got.length === want.length && timingSafeEqual(got, want);
    });
  });
  if (!match) throw new WebhookVerificationError('mismatch', 'The signature does not match this body and secret');
  return JSON.parse(body) as T;
}

/** Whether the request is genuine and fresh, without throwing. */
export function isValidWebhook(
  rawBody: RawBody,
  header: string | string[] | undefined | null,
  secret: string | readonly string[],
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  try {
    verifyWebhook(rawBody, header, secret, opts);
    return true;
  } catch (e) {
    if (e instanceof WebhookVerificationError || e instanceof SyntaxError) return false;
    throw e;
  }
}

/**
 * The header Parley would send for `body` signed at `t` (unix seconds): for your own tests. A
 * list of secrets signs under each, as during a rotation's overlap (`t=…,v1=<first>,v1=<second>`).
 */
export function signWebhook(
  secret: string | readonly string[],
  body: string,
  t = Math.floor(Date.now() / 1000),
): string {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  return `t=${t}${secrets.map((s) => `,v1=${createHmac('sha256', s).update(`${t}.${body}`).digest('hex')}`).join('')}`;
}
