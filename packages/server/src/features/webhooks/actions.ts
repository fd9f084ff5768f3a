/**
 * Managing an app's webhook endpoints and its before-send hook (server token, or an admin of
 * the workspace): create, change, pause and re-enable, delete, the delivery log, redelivery,
 * a test event, secret rotation and replay of a time range. Every change is announced to the
 * hook registry of every node after it commits.
 */
import { randomUUID } from 'node:crypto';
import {
  type BeforeSendHook,
  type CreateWebhookBody,
  type DeliveriesQuery,
  LOGGED_EVENT_TYPES,
  type ReplayWebhookBody,
  type ReplayWebhookResponse,
  type RotateWebhookSecretBody,
  type SetBeforeSendBody,
  type UpdateWebhookBody,
  WEBHOOK_TEST_EVENT_TYPE,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '@parley/protocol';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { allowFor, type OutboundKind } from '../../platform/outbound.js';
import { newCredential } from '../../platform/secrets.js';
import type { Services } from '../../services.js';
import { checkOutboundUrl } from '../links/index.js';
import { webhookBody } from './outbox.js';
import { dropPastRetention } from './retention.js';
import { wants } from './signature.js';

type EndpointRow = typeof schema.webhookEndpoints.$inferSelect;
type DeliveryRow = typeof schema.webhookDeliveries.$inferSelect;

const MAX_ENDPOINTS = 20;
/** The lane of test events (never pending, so the pump sends one only when it is redelivered). */
const TEST_LANE = 'test:';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `pending`: its deliveries waiting to be sent (`pendingCounts`). */
export function presentEndpoint(r: EndpointRow, pending = 0): WebhookEndpoint {
  const overlap = r.previousSecretExpiresAt && r.previousSecretExpiresAt.getTime() > Date.now();
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    events: r.events,
    active: r.disabledAt === null,
    disabled_at: iso(r.disabledAt),
    disabled_reason: r.disabledReason,
    pending,
    dropped: r.dropped,
    dropped_at: iso(r.droppedAt),
    previous_secret_expires_at: overlap ? iso(r.previousSecretExpiresAt) : null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** How many deliveries each of the app's endpoints has waiting (one query, on the pending index). */
async function pendingCounts(svc: Services, appId: string, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const r = await rows<{ endpoint_id: string; n: number }>(
    svc.db,
    sql`select endpoint_id, count(*)::int as n from ${schema.webhookDeliveries}
      where app_id = ${appId} and endpoint_id = any(${`{${ids.join(',')}}`}::uuid[]) and status = 'pending'
      group by endpoint_id`,
  );
  return new Map(r.map((x) => [x.endpoint_id, x.n]));
}

async function presentWithCounts(svc: Services, appId: string, list: EndpointRow[]): Promise<WebhookEndpoint[]> {
  const counts = await pendingCounts(
    svc,
    appId,
    list.map((r) => r.id),
  );
  return list.map((r) => presentEndpoint(r, counts.get(r.id) ?? 0));
}

/** One endpoint as the API shows it, with its pending count. */
export async function presentWebhook(svc: Services, appId: string, r: EndpointRow): Promise<WebhookEndpoint> {
  return (await presentWithCounts(svc, appId, [r]))[0] as WebhookEndpoint;
}

export function presentDelivery(r: DeliveryRow, withBody = false): WebhookDelivery {
  return {
    id: r.id,
    webhook_id: r.endpointId,
    event_type: r.eventType,
    cid:
      r.lane === '' || r.lane.startsWith('user:') || r.lane.startsWith('app:') || r.lane === TEST_LANE ? null : r.lane,
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

/**
 * A URL a hook may be sent to: http(s), parsable, no credentials in it, and one the outbound
 * policy of its kind lets through (else OUTBOUND_NOT_ALLOWED naming the setting).
 */
async function checkUrl(svc: Services, url: string, kind: OutboundKind): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('url is not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('url must be http or https');
  if (u.username || u.password) throw invalid('url must not carry credentials; the signature authenticates us');
  await checkOutboundUrl(url, allowFor(svc.config, kind), kind);
}

export async function listWebhooks(svc: Services, appId: string): Promise<WebhookEndpoint[]> {
  const r = await svc.db
    .select()
    .from(schema.webhookEndpoints)
    .where(eq(schema.webhookEndpoints.appId, appId))
    .orderBy(schema.webhookEndpoints.createdAt, schema.webhookEndpoints.id);
  return presentWithCounts(svc, appId, r);
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
  await checkUrl(svc, body.url, 'webhooks');
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

/**
 * A new signing secret, answered once. The previous one keeps signing beside it for
 * `overlap_seconds` (default a day; 0: not at all): each request then carries `v1=<new>,v1=<old>`,
 * so a receiver can switch to the new secret whenever it likes within the overlap. A rotation
 * during an overlap ends the older secret at once (two sign at most).
 */
export async function rotateWebhookSecret(
  svc: Services,
  appId: string,
  id: string,
  body: RotateWebhookSecretBody,
): Promise<{ webhook: WebhookEndpoint; secret: string }> {
  const overlap = body.overlap_seconds ?? 86_400;
  const secret = newCredential('whsec_');
  const e = schema.webhookEndpoints;
  const [row] = await svc.db
    .update(e)
    .set({
      secretSealed: svc.sealer.seal(secret),
      previousSecretSealed: overlap > 0 ? sql`${e.secretSealed}` : null,
      previousSecretExpiresAt: overlap > 0 ? sql`now() + ${`${overlap} seconds`}::interval` : null,
      updatedAt: new Date(),
    })
    .where(and(eq(e.appId, appId), eq(e.id, id)))
    .returning();
  if (!row) throw notFound('Webhook');
  svc.hooks.changed(appId);
  return { webhook: await presentWebhook(svc, appId, row), secret };
}

/**
 * Send a `webhook.test` event to the endpoint now, whether or not it is active (so a receiver
 * can be checked before re-enabling it), signed as deliveries are, and answer how it went. It
 * is in the delivery log (delivered or failed), outside any lane: it waits for nothing and
 * nothing waits for it.
 */
export async function sendTestEvent(svc: Services, appId: string, id: string): Promise<WebhookDelivery> {
  await accessWebhook(svc, appId, id);
  const ep = (await svc.hooks.get(appId)).endpoints.find((e) => e.id === id);
  if (!ep) throw notFound('Webhook');
  const at = new Date().toISOString();
  const body = webhookBody(
    appId,
    WEBHOOK_TEST_EVENT_TYPE,
    null,
    null,
    JSON.stringify({ type: WEBHOOK_TEST_EVENT_TYPE, webhook_id: id, created_at: at }),
    at,
  );
  const delivery = { id: randomUUID(), eventType: WEBHOOK_TEST_EVENT_TYPE, body };
  const sent = await svc.webhooks.post(ep, delivery);
  const ok = sent.error === null;
  const [row] = await svc.db
    .insert(schema.webhookDeliveries)
    .values({
      appId,
      id: delivery.id,
      endpointId: id,
      lane: TEST_LANE,
      eventType: WEBHOOK_TEST_EVENT_TYPE,
      body,
      status: ok ? 'delivered' : 'failed',
      attempts: 1,
      responseStatus: sent.status,
      error: sent.error,
      latencyMs: sent.latencyMs,
      deliveredAt: ok ? new Date() : null,
    })
    .returning();
  return presentDelivery(row as DeliveryRow, true);
}

const REPLAY_PAGE = 1_000;

/**
 * Replay the channel events of the event log committed in `[since, until)` that the endpoint
 * wants: new deliveries at the end of each channel's lane, with the same `event_id` (`cid:seq`)
 * and body as the originals, so a receiver that had them drops the repeats. For an endpoint that
 * missed events for any reason, one deleted and made again included. One call queues at most
 * `limit` events, in (channel, seq) order, walking the log's primary key; `next` goes on from
 * there. The log keeps a channel's events while the channel exists; user-level and app-wide
 * events, bookmarks and notes are not in it and are not replayed.
 */
export async function replayWebhook(
  svc: Services,
  appId: string,
  id: string,
  body: ReplayWebhookBody,
): Promise<ReplayWebhookResponse> {
  const ep = await accessWebhook(svc, appId, id);
  const since = new Date(body.since);
  const until = body.until ? new Date(body.until) : new Date();
  if (!(since < until)) throw invalid('since must be before until');
  let after: { cid: string; seq: number } = { cid: '', seq: 0 };
  if (body.after !== undefined) {
    const m = /^(.+)\n(\d+)$/.exec(Buffer.from(body.after, 'base64url').toString('utf8'));
    if (!m) throw invalid('after is not the next of a replay');
    after = { cid: m[1] as string, seq: Number(m[2]) };
  }
  const types = LOGGED_EVENT_TYPES.filter((t) => wants(ep.events, t));
  if (types.length === 0) return { queued: 0, next: null };
  const limit = body.limit ?? REPLAY_PAGE;
  const picked = await svc.db.transaction(async (tx) =>
    rows<{ cid: string; seq: number }>(
      tx,
      sql`with picked as (
          select e.app_id, e.cid, e.seq, e.type, e.payload from channel_events e
          where e.app_id = ${appId} and (e.cid, e.seq) > (${after.cid}, ${after.seq})
            and e.created_at >= ${since.toISOString()}::timestamptz and e.created_at < ${until.toISOString()}::timestamptz
            and e.shadow_of is null and e.type = any(${`{${types.join(',')}}`}::text[])
          order by e.cid, e.seq
          limit ${limit}
        ), ins as (
          insert into webhook_deliveries (app_id, id, endpoint_id, lane, event_type, body)
          select p.app_id, gen_random_uuid(), ${id}::uuid, p.cid, p.type,
            '{"event_id":' || to_json(p.cid || ':' || p.seq)::text || ',"type":' || to_json(p.type)::text
              || ',"app_id":' || to_json(p.app_id)::text || ',"created_at":' || to_json(p.payload->>'created_at')::text
              || ',"event":' || p.payload::text || '}'
          from picked p order by p.cid, p.seq
          returning 1
        )
        select cid, seq from picked order by cid, seq`,
    ),
  );
  const lanes = [...new Set(picked.map((p) => p.cid))].map((lane) => ({ appId, endpointId: id, lane }));
  svc.webhooks.wake(lanes);
  const last = picked.at(-1);
  return {
    queued: picked.length,
    next:
      picked.length === limit && last ? Buffer.from(`${last.cid}\n${Number(last.seq)}`).toString('base64url') : null,
  };
}

export async function updateWebhook(
  svc: Services,
  appId: string,
  id: string,
  body: UpdateWebhookBody,
): Promise<WebhookEndpoint> {
  const before = await accessWebhook(svc, appId, id);
  if (body.url !== undefined) await checkUrl(svc, body.url, 'webhooks');
  const set: Partial<typeof schema.webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
  if (body.url !== undefined) set.url = body.url;
  if (body.events !== undefined) set.events = [...new Set(body.events)];
  if (body.description !== undefined) set.description = body.description;
  const resuming = body.active === true && before.disabledAt !== null;
  if (resuming) {
    set.disabledAt = null;
    set.disabledReason = null;
    set.resumedAt = new Date();
  }
  if (body.active === false && !before.disabledAt) {
    set.disabledAt = new Date();
    set.disabledReason = 'Paused by an admin';
  }
  const row = await svc.db.transaction(async (tx) => {
    // What waited past the retention is dropped and counted first (the hourly job may not have
    // run yet), so what goes out now is exactly what the retention kept.
    if (resuming) while ((await dropPastRetention(tx, svc.config.webhookRetentionDays, { appId, id })) > 0);
    const [r] = await tx
      .update(schema.webhookEndpoints)
      .set(set)
      .where(and(eq(schema.webhookEndpoints.appId, appId), eq(schema.webhookEndpoints.id, id)))
      .returning();
    return r;
  });
  if (!row) throw notFound('Webhook');
  svc.hooks.changed(appId);
  // Re-enabled: the deliveries that waited go out now, lane by lane, each lane in order.
  if (resuming) await wakeLanes(svc, appId, id);
  return presentWebhook(svc, appId, row);
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
  await checkUrl(svc, body.url, 'before_send');
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
