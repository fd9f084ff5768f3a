/**
 * Where pushes go: a user's Web Push subscriptions and native devices, and an app's native
 * push credentials (admin). An endpoint or token is one row per app: registering it again
 * (another user signing in on the same browser or phone) moves it to the new user.
 */
import { ECDH } from 'node:crypto';
import {
  type ApnsConfigBody,
  type FcmConfigBody,
  type PushProvider,
  type RegisterDeviceBody,
  uuidv7,
  type WebPushSubscribeBody,
} from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { type ApnsConfig, apns } from '../../platform/push/apns.js';
import { type FcmConfig, fcm } from '../../platform/push/fcm.js';
import type { NativePush } from '../../platform/push/native.js';
import type { Services } from '../../services.js';
import { checkPushEndpoint } from './endpoints.js';

const subs = schema.pushSubscriptions;
const devices = schema.pushDevices;
const providers = schema.pushProviders;

const presentSub = (r: typeof subs.$inferSelect) => ({
  id: r.id,
  endpoint: r.endpoint,
  created_at: r.createdAt.toISOString(),
});
const presentDevice = (r: typeof devices.$inferSelect) => ({
  id: r.id,
  provider: r.provider as PushProvider,
  created_at: r.createdAt.toISOString(),
});

/**
 * The p256dh key must be an uncompressed P-256 point (65 bytes, 0x04 first) that lies on the
 * curve, and auth 16 bytes: otherwise every push to it fails later, in the encryption, where the
 * subscriber never hears of it. OpenSSL's point decoding is the on-curve check.
 */
function checkKeys(p256dh: string, auth: string): void {
  const point = Buffer.from(p256dh, 'base64url');
  const refusal = 'keys.p256dh must be an uncompressed P-256 public key (a point on the curve)';
  if (point.length !== 65 || point[0] !== 4) throw invalid(refusal);
  try {
    ECDH.convertKey(point, 'prime256v1');
  } catch {
    throw invalid(refusal);
  }
  if (Buffer.from(auth, 'base64url').length !== 16) throw invalid('keys.auth must be 16 bytes');
}

export async function subscribeWebPush(svc: Services, me: Caller & { kind: 'user' }, body: WebPushSubscribeBody) {
  checkKeys(body.keys.p256dh, body.keys.auth);
  checkPushEndpoint(svc, body.endpoint);
  const appId = me.app.id;
  const [row] = await svc.db
    .insert(subs)
    .values({ appId, id: uuidv7(), userId: me.userId, endpoint: body.endpoint, ...body.keys })
    .onConflictDoUpdate({
      target: [subs.appId, subs.endpoint],
      set: { userId: me.userId, p256dh: body.keys.p256dh, auth: body.keys.auth },
    })
    .returning();
  return { subscription: presentSub(row as typeof subs.$inferSelect) };
}

export async function unsubscribeWebPush(svc: Services, me: Caller & { kind: 'user' }, id: string): Promise<void> {
  const gone = await svc.db
    .delete(subs)
    .where(and(eq(subs.appId, me.app.id), eq(subs.id, id), eq(subs.userId, me.userId)))
    .returning({ id: subs.id });
  if (gone.length === 0) throw notFound('Subscription');
}

export async function registerDevice(svc: Services, me: Caller & { kind: 'user' }, body: RegisterDeviceBody) {
  const appId = me.app.id;
  const [row] = await svc.db
    .insert(devices)
    .values({ appId, id: uuidv7(), userId: me.userId, provider: body.provider, token: body.token })
    .onConflictDoUpdate({ target: [devices.appId, devices.provider, devices.token], set: { userId: me.userId } })
    .returning();
  return { device: presentDevice(row as typeof devices.$inferSelect) };
}

export async function removeDevice(svc: Services, me: Caller & { kind: 'user' }, id: string): Promise<void> {
  const gone = await svc.db
    .delete(devices)
    .where(and(eq(devices.appId, me.app.id), eq(devices.id, id), eq(devices.userId, me.userId)))
    .returning({ id: devices.id });
  if (gone.length === 0) throw notFound('Device');
}

export async function listTargets(svc: Services, me: Caller & { kind: 'user' }) {
  const appId = me.app.id;
  const d = await svc.db
    .select()
    .from(devices)
    .where(and(eq(devices.appId, appId), eq(devices.userId, me.userId)))
    .orderBy(devices.createdAt);
  const s = await svc.db
    .select()
    .from(subs)
    .where(and(eq(subs.appId, appId), eq(subs.userId, me.userId)))
    .orderBy(subs.createdAt);
  return { devices: d.map(presentDevice), subscriptions: s.map(presentSub) };
}

// ---- app configuration (admin) ------------------------------------------------------------

async function checkPem(pem: string, alg: 'ES256' | 'RS256'): Promise<void> {
  const { importPKCS8 } = await import('jose');
  try {
    await importPKCS8(pem, alg);
  } catch {
    throw invalid(`private_key must be a PKCS#8 PEM ${alg === 'ES256' ? 'P-256 (.p8)' : 'RSA'} key`);
  }
}

async function checkApp(svc: Services, appId: string): Promise<void> {
  const [row] = await svc.db.select({ id: schema.apps.id }).from(schema.apps).where(eq(schema.apps.id, appId));
  if (!row) throw notFound('App');
}

export async function configureProvider(
  svc: Services,
  appId: string,
  provider: PushProvider,
  body: ApnsConfigBody | FcmConfigBody,
) {
  await checkApp(svc, appId);
  await checkPem(body.private_key, provider === 'apns' ? 'ES256' : 'RS256');
  const configSealed = svc.sealer.seal(JSON.stringify(body));
  const now = new Date();
  await svc.db
    .insert(providers)
    .values({ appId, provider, configSealed, updatedAt: now })
    .onConflictDoUpdate({ target: [providers.appId, providers.provider], set: { configSealed, updatedAt: now } });
  return listProviders(svc, appId);
}

export async function removeProvider(svc: Services, appId: string, provider: PushProvider) {
  await checkApp(svc, appId);
  const gone = await svc.db
    .delete(providers)
    .where(and(eq(providers.appId, appId), eq(providers.provider, provider)))
    .returning({ p: providers.provider });
  if (gone.length === 0) throw notFound('Push provider');
}

/** The providers an app has, without their secrets. */
export async function listProviders(svc: Services, appId: string) {
  await checkApp(svc, appId);
  const rows = await svc.db.select().from(providers).where(eq(providers.appId, appId)).orderBy(providers.provider);
  return {
    providers: rows.map((r) => {
      const c = JSON.parse(svc.sealer.open(r.configSealed)) as Record<string, unknown>;
      const summary: Record<string, string | boolean> = {};
      for (const k of ['team_id', 'key_id', 'topic', 'production', 'project_id', 'client_email', 'endpoint'])
        if (typeof c[k] === 'string' || typeof c[k] === 'boolean') summary[k] = c[k] as string | boolean;
      return { provider: r.provider as PushProvider, summary, updated_at: r.updatedAt.toISOString() };
    }),
  };
}

/** An app's native senders by provider (only those configured). */
export async function nativeSenders(svc: Services, appId: string): Promise<Map<string, NativePush>> {
  const rows = await svc.db.select().from(providers).where(eq(providers.appId, appId));
  const out = new Map<string, NativePush>();
  for (const r of rows) {
    const c = JSON.parse(svc.sealer.open(r.configSealed));
    out.set(r.provider, r.provider === 'apns' ? apns(c as ApnsConfig) : fcm(c as FcmConfig));
  }
  return out;
}
