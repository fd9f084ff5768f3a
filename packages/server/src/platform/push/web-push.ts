/**
 * Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption, RFC 8292 VAPID) through
 * the `web-push` package. The VAPID key pair is made once per install and kept, sealed, in
 * `install_keys`, so every node signs with the same key and browsers' subscriptions (which
 * are bound to the public key) survive restarts.
 */
import https from 'node:https';
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
  /** A CA to trust besides the system's (tests). */
  ca?: string | undefined;
}

const agents = new Map<string, https.Agent>();
/** An agent trusting `ca` only (a test's own push service). */
function agentFor(ca: string): https.Agent {
  let a = agents.get(ca);
  if (!a) {
    a = new https.Agent({ ca, keepAlive: false });
    agents.set(ca, a);
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
      ...(o.ca ? { agent: agentFor(o.ca) } : {}),
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
