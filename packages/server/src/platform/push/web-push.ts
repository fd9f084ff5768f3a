/**
 * Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption, RFC 8292 VAPID) with the
 * `web-push` package's keys, signatures and encryption (the encryption on a worker thread,
 * encrypt.ts). The VAPID key pair is made once per install and kept, sealed, in
 * `install_keys`, so every node signs with the same key and browsers' subscriptions (which
 * are bound to the public key) survive restarts.
 */
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { eq } from 'drizzle-orm';
import { type Db, schema } from '../db/index.js';
import { webPush } from '../lazy-deps.js';
import type { Sealer } from '../secrets.js';
import { encryptPush } from './encrypt.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** The install's VAPID keys: read, or made and stored by the first node to get there. */
export async function loadVapidKeys(db: Db, sealer: Sealer): Promise<VapidKeys> {
  const read = async () => {
    const [row] = await db.select().from(schema.installKeys).where(eq(schema.installKeys.name, 'vapid'));
    return row ? (JSON.parse(sealer.open(row.valueSealed)) as VapidKeys) : null;
  };
  const have = await read();
  if (have) return have;
  const made = webPush().generateVAPIDKeys();
  await db
    .insert(schema.installKeys)
    .values({ name: 'vapid', valueSealed: sealer.seal(JSON.stringify(made)) })
    .onConflictDoNothing();
  // Another node may have won the insert: everyone uses what is stored.
  return (await read()) ?? made;
}

export interface WebPushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export type WebPushResult = { ok: true } | { ok: false; gone: boolean; status: number; detail: string };

export interface WebPushOptions {
  keys: VapidKeys;
  subject: string;
  /** A CA to trust instead of the system's (a test's own push service). */
  ca?: string | undefined;
  /**
   * Resolves the endpoint's host name for the connection (net's `lookup` signature): the
   * caller's check of where the server may connect, applied to the address actually used.
   */
  lookup?: LookupFunction | undefined;
}

/** Of a push service's answer, this much is read (for the log). */
const MAX_ANSWER_BYTES = 4096;

const agents = new WeakMap<object, Map<string, https.Agent>>();
const NO_LOOKUP = {};
/** An agent with the given CA (else the system's) and host name lookup, made once per pair. */
function agentFor(ca: string | undefined, lookup: LookupFunction | undefined): https.Agent {
  const owner = lookup ?? NO_LOOKUP;
  let byCa = agents.get(owner);
  if (!byCa) {
    byCa = new Map();
    agents.set(owner, byCa);
  }
  let a = byCa.get(ca ?? '');
  if (!a) {
    // Kept alive: a browser's subscriptions are at a few push services (FCM, Mozilla, Apple), so
    // most pushes reuse a connection instead of a TLS handshake each. A pooled socket serves only
    // the host it was made for, whose address went through `lookup` when it connected.
    a = new https.Agent({
      ...(ca ? { ca } : {}),
      ...(lookup ? { lookup } : {}),
      keepAlive: true,
      maxSockets: 32,
      maxFreeSockets: 32,
      timeout: 60_000,
    });
    byCa.set(ca ?? '', a);
  }
  return a;
}

/** How long a VAPID token is valid (the push services refuse more than a day), and how soon it is renewed. */
const VAPID_VALID_S = 12 * 3600;
const VAPID_RENEW_S = 6 * 3600;
const MAX_VAPID_CACHED = 1_000;
const vapidCache = new Map<string, { authorization: string; renewAt: number }>();

/**
 * The VAPID `Authorization` header for a push service, signed once and reused until it is half
 * way to its expiry: an ES256 signature per push cost a few per cent of the server's CPU in the
 * production mix (bench/scenarios/prodmix.ts), and a push service accepts the same token for
 * every push of the same key until it expires.
 */
export function vapidAuthorization(o: Pick<WebPushOptions, 'keys' | 'subject'>, endpoint: string): string {
  const u = new URL(endpoint);
  const audience = `${u.protocol}//${u.host}`;
  const key = `${audience} ${o.subject} ${o.keys.publicKey}`;
  const now = Math.floor(Date.now() / 1000);
  const hit = vapidCache.get(key);
  if (hit && now < hit.renewAt) return hit.authorization;
  const h = webPush().getVapidHeaders(
    audience,
    o.subject,
    o.keys.publicKey,
    o.keys.privateKey,
    'aes128gcm',
    now + VAPID_VALID_S,
  ) as { Authorization: string };
  if (vapidCache.size >= MAX_VAPID_CACHED) vapidCache.clear();
  vapidCache.set(key, { authorization: h.Authorization, renewAt: now + VAPID_RENEW_S });
  return h.Authorization;
}

/** Send one encrypted payload; `gone` when the push service says the subscription is no more (404, 410). */
export async function sendWebPush(
  o: WebPushOptions,
  to: WebPushTarget,
  payload: string,
  opts: { topic: string; ttlSeconds: number; urgency: 'normal' | 'high' },
): Promise<WebPushResult> {
  // Encrypted on the push worker thread (encrypt.ts), not on the event loop; then the request
  // web-push's `sendNotification` made (RFC 8030), on the kept-alive agent.
  const body = await encryptPush(to.p256dh, to.auth, payload);
  const u = new URL(to.endpoint);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      {
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || 443,
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        agent: agentFor(o.ca, o.lookup),
        timeout: 15_000,
        headers: {
          TTL: opts.ttlSeconds,
          'Content-Length': body.length,
          'Content-Type': 'application/octet-stream',
          'Content-Encoding': 'aes128gcm',
          // Signed here, once per push service and key (above), not for every push.
          Authorization: vapidAuthorization(o, to.endpoint),
          Urgency: opts.urgency,
          Topic: opts.topic,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // A push service answers a line or two; more is not read.
          if (size < MAX_ANSWER_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('Socket timeout')));
    req.on('error', reject);
    req.end(body);
  });
  // A network failure threw above: the job retries.
  if (status >= 200 && status <= 299) return { ok: true };
  return {
    ok: false,
    gone: status === 404 || status === 410,
    status,
    detail: `${status} ${text.slice(0, 200)}`,
  };
}
