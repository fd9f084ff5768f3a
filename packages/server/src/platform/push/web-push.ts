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

/** Send one encrypted payload; `gone` when the push service says the subscription is no more (404, 410). */
export async function sendWebPush(
  o: WebPushOptions,
  to: WebPushTarget,
  payload: string,
  opts: { topic: string; ttlSeconds: number; urgency: 'normal' | 'high' },
): Promise<WebPushResult> {
  try {
    await webpush.sendNotification({ endpoint: to.endpoint, keys: { p256dh: to.p256dh, auth: to.auth } }, payload, {
      vapidDetails: { subject: o.subject, publicKey: o.keys.publicKey, privateKey: o.keys.privateKey },
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
