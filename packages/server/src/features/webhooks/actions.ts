/**
 * Managing an app's webhook endpoints and its before-send hook (server token, or an admin of
 * the workspace): create, change, delete, the delivery log and redelivery. Every change is
 * announced to the hook registry of every node after it commits.
 */
import { randomUUID } from 'node:crypto';
import type {
  BeforeSendHook,
  CreateWebhookBody,
  DeliveriesQuery,
  SetBeforeSendBody,
  UpdateWebhookBody,
  WebhookDelivery,
  WebhookEndpoint,
} from '@parley/protocol';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { newCredential } from '../../platform/secrets.js';
import type { Services } from '../../services.js';

type EndpointRow = typeof schema.webhookEndpoints.$inferSelect;
type DeliveryRow = typeof schema.webhookDeliveries.$inferSelect;

const MAX_ENDPOINTS = 20;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    events: r.events,
    active: r.disabledAt === null,
    disabled_at: iso(r.disabledAt),
    disabled_reason: r.disabledReason,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export function presentDelivery(r: DeliveryRow, withBody = false): WebhookDelivery {
  return {
    id: r.id,
    webhook_id: r.endpointId,
    event_type: r.eventType,
    cid: r.lane === '' || r.lane.startsWith('user:') || r.lane.startsWith('app:') ? null : r.lane,
    user_id: r.lane.startsWith('user:') ? r.lane.slice('user:'.length) : null,
    status: r.status as WebhookDelivery['status'],
    attempts: r.attempts,
    response_status: r.responseStatus,
    error: r.error,
    latency_ms: r.latencyMs,
    next_attempt_at: r.status === 'pending' ? r.nextAttemptAt.toISOString() : null,
    redelivery_of: r.redeliveryOf,
    created_at: r.createdAt.toISOString(),
    delivered_at: iso(r.deliveredAt),
    ...(withBody ? { body: r.body } : {}),
  };
}

/** A URL a hook may be sent to: http(s), parsable, no credentials in it. */
function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('url is not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('url must be http or https');
  if (u.username || u.password) throw invalid('url must not carry credentials; the signature authenticates us');
}

export async function listWebhooks(svc: Services, appId: string): Promise<WebhookEndpoint[]> {
  const r = await svc.db
    .select()
    .from(schema.webhookEndpoints)
    .where(eq(schema.webhookEndpoints.appId, appId))
    .orderBy(schema.webhookEndpoints.createdAt, schema.webhookEndpoints.id);
  return r.map(presentEndpoint);
}

export async function accessWebhook(svc: Services, appId: string, id: string): Promise<EndpointRow> {
  const [r] = await svc.db
    .select()
    .from(schema.webhookEndpoints)
    .where(and(eq(schema.webhookEndpoints.appId, appId), eq(schema.webhookEndpoints.id, id)));
  if (!r) throw notFound('Webhook');
  return r;
}

export async function createWebhook(
  svc: Services,
  appId: string,
  body: CreateWebhookBody,
): Promise<{ webhook: WebhookEndpoint; secret: string }> {
  checkUrl(body.url);
  const [{ n } = { n: 0 }] = await rows<{ n: number }>(
    svc.db,
    sql`select count(*)::int as n from ${schema.webhookEndpoints} where app_id = ${appId}`,
  );
  if (n >= MAX_ENDPOINTS) throw invalid(`An app has at most ${MAX_ENDPOINTS} webhook endpoints`);
  const secret = newCredential('whsec_');
  const [row] = await svc.db
    .insert(schema.webhookEndpoints)
    .values({
      appId,
      id: randomUUID(),
      url: body.url,
      description: body.description ?? null,
      events: [...new Set(body.events)],
      secretSealed: svc.sealer.seal(secret),
    })
    .returning();
  svc.hooks.changed(appId);
  return { webhook: presentEndpoint(row as EndpointRow), secret };
}

export async function updateWebhook(
  svc: Services,
  appId: string,
  id: string,
  body: UpdateWebhookBody,
): Promise<WebhookEndpoint> {
  const before = await accessWebhook(svc, appId, id);
  if (body.url !== undefined) checkUrl(body.url);
  const set: Partial<typeof schema.webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
  if (body.url !== undefined) set.url = body.url;
  if (body.events !== undefined) set.events = [...new Set(body.events)];
  if (body.description !== undefined) set.description = body.description;
  if (body.active === true) {
    set.disabledAt = null;
    set.disabledReason = null;
  }
  if (body.active === false && !before.disabledAt) {
    set.disabledAt = new Date();
    set.disabledReason = 'Disabled by an admin';
  }
  const [row] = await svc.db
    .update(schema.webhookEndpoints)
    .set(set)
    .where(and(eq(schema.webhookEndpoints.appId, appId), eq(schema.webhookEndpoints.id, id)))
    .returning();
  if (!row) throw notFound('Webhook');
  svc.hooks.changed(appId);
  // Re-enabled: the deliveries that waited go out now, lane by lane.
  if (body.active === true && before.disabledAt) await wakeLanes(svc, appId, id);
  return presentEndpoint(row);
}

async function wakeLanes(svc: Services, appId: string, endpointId: string): Promise<void> {
  const lanes = await rows<{ lane: string }>(
    svc.db,
    sql`select distinct lane from ${schema.webhookDeliveries}
      where endpoint_id = ${endpointId} and app_id = ${appId} and status = 'pending'`,
  );
  svc.webhooks.wake(lanes.map(({ lane }) => ({ appId, endpointId, lane })));
}

export async function deleteWebhook(svc: Services, appId: string, id: string): Promise<void> {
  await svc.db.transaction(async (tx) => {
    const gone = await tx
      .delete(schema.webhookEndpoints)
      .where(and(eq(schema.webhookEndpoints.appId, appId), eq(schema.webhookEndpoints.id, id)))
      .returning({ id: schema.webhookEndpoints.id });
    if (gone.length === 0) throw notFound('Webhook');
    await tx
      .delete(schema.webhookDeliveries)
      .where(and(eq(schema.webhookDeliveries.appId, appId), eq(schema.webhookDeliveries.endpointId, id)));
    await tx.delete(schema.webhookLanes).where(eq(schema.webhookLanes.endpointId, id));
  });
  svc.hooks.changed(appId);
}

/** An endpoint's delivery log, newest first. */
export async function listDeliveries(
  svc: Services,
  appId: string,
  id: string,
  q: DeliveriesQuery,
): Promise<WebhookDelivery[]> {
  await accessWebhook(svc, appId, id);
  const w = schema.webhookDeliveries;
  const conds = [eq(w.appId, appId), eq(w.endpointId, id)];
  if (q.status) conds.push(eq(w.status, q.status));
  if (q.before) {
    const [b] = await svc.db
      .select({ n: w.n })
      .from(w)
      .where(and(eq(w.appId, appId), eq(w.endpointId, id), eq(w.id, q.before)));
    if (!b) throw invalid('before names no delivery of this webhook');
    conds.push(lt(w.n, b.n));
  }
  const r = await svc.db
    .select()
    .from(w)
    .where(and(...conds))
    .orderBy(desc(w.n))
    .limit(q.limit ?? 50);
  return r.map((d) => presentDelivery(d));
}

export async function getDelivery(svc: Services, appId: string, id: string, deliveryId: string) {
  const w = schema.webhookDeliveries;
  const [r] = await svc.db
    .select()
    .from(w)
    .where(and(eq(w.appId, appId), eq(w.endpointId, id), eq(w.id, deliveryId)));
  if (!r) throw notFound('Delivery');
  return presentDelivery(r, true);
}

/**
 * Send a delivery's event again, as a new delivery at the end of its lane (the log keeps both;
 * the new one says which it repeats). Works for delivered and failed ones alike.
 */
export async function redeliver(svc: Services, appId: string, id: string, deliveryId: string) {
  await accessWebhook(svc, appId, id);
  const w = schema.webhookDeliveries;
  const [src] = await svc.db
    .select()
    .from(w)
    .where(and(eq(w.appId, appId), eq(w.endpointId, id), eq(w.id, deliveryId)));
  if (!src) throw notFound('Delivery');
  const [row] = await svc.db
    .insert(w)
    .values({
      appId,
      id: randomUUID(),
      endpointId: id,
      lane: src.lane,
      eventType: src.eventType,
      body: src.body,
      redeliveryOf: src.id,
    })
    .returning();
  svc.webhooks.wake([{ appId, endpointId: id, lane: src.lane }]);
  return presentDelivery(row as DeliveryRow);
}

function presentHook(r: typeof schema.appHooks.$inferSelect): BeforeSendHook {
  return {
    url: r.beforeSendUrl,
    timeout_ms: r.timeoutMs,
    fail_open: r.failOpen,
    updated_at: r.updatedAt.toISOString(),
  };
}

export async function getBeforeSend(svc: Services, appId: string): Promise<BeforeSendHook | null> {
  const [r] = await svc.db.select().from(schema.appHooks).where(eq(schema.appHooks.appId, appId));
  return r ? presentHook(r) : null;
}

/** Set the before-send hook; a new secret is made the first time (and answered once). */
export async function setBeforeSend(
  svc: Services,
  appId: string,
  body: SetBeforeSendBody,
): Promise<{ hook: BeforeSendHook; secret?: string }> {
  checkUrl(body.url);
  const [old] = await svc.db.select().from(schema.appHooks).where(eq(schema.appHooks.appId, appId));
  const secret = old ? undefined : newCredential('hksec_');
  const values = {
    appId,
    beforeSendUrl: body.url,
    secretSealed: old ? old.secretSealed : svc.sealer.seal(secret as string),
    timeoutMs: body.timeout_ms ?? old?.timeoutMs ?? 2000,
    failOpen: body.fail_open ?? old?.failOpen ?? true,
    updatedAt: new Date(),
  };
  const [row] = await svc.db
    .insert(schema.appHooks)
    .values(values)
    .onConflictDoUpdate({ target: schema.appHooks.appId, set: values })
    .returning();
  svc.hooks.changed(appId);
  return { hook: presentHook(row as typeof schema.appHooks.$inferSelect), ...(secret ? { secret } : {}) };
}

export async function deleteBeforeSend(svc: Services, appId: string): Promise<void> {
  await svc.db.delete(schema.appHooks).where(eq(schema.appHooks.appId, appId));
  svc.hooks.changed(appId);
}
