/**
 * Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption, RFC 8292 VAPID) through
 * the `web-push` package. The VAPID key pair is made once per install and kept, sealed, in
 * `install_keys`, so every node signs with the same key and browsers' subscriptions (which
 * are bound to the public key) survive restarts.
 */
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { eq } from 'drizzle-orm';
import webpush from 'web-push';
import { type Db, schema } from '../db/index.js';
import type { Sealer } from '../secrets.js';

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
  const made = webpush.generateVAPIDKeys();
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
  const h = webpush.getVapidHeaders(
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
  try {
    await webpush.sendNotification({ endpoint: to.endpoint, keys: { p256dh: to.p256dh, auth: to.auth } }, payload, {
      // Signed here, once per push service and key (above), not by web-push for every push: no
      // `vapidDetails` (nor web-push's global ones, never set), so it adds no header of its own.
      headers: { Authorization: vapidAuthorization(o, to.endpoint) },
      TTL: opts.ttlSeconds,
      topic: opts.topic,
      urgency: opts.urgency,
      contentEncoding: 'aes128gcm',
      timeout: 15_000,
      agent: agentFor(o.ca, o.lookup),
    });
    return { ok: true };
  } catch (err) {
    const e = err as { statusCode?: number; body?: string; message?: string };
    const status = e.statusCode ?? 0;
    if (!status) throw err; // a network failure: the job retries
    return {
      ok: false,
      gone: status === 404 || status === 410,
      status,
      detail: `${status} ${(e.body ?? e.message ?? '').slice(0, 200)}`,
    };
  }
}
