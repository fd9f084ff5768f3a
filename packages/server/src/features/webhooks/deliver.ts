/**
 * The delivery job: an endpoint's pending deliveries of one lane (a channel), sent one at a
 * time in the order their events committed, so a receiver sees each channel's events in order.
 *
 * - One sender per lane: a lease row (`webhook_lanes`), taken with an atomic upsert that only
 *   wins when the lease is free or expired. A job that finds the lane taken stops; the holder
 *   looks again for due deliveries after letting go, so nothing committed meanwhile waits.
 * - A failed attempt (non-2xx, timeout, refused address) holds its lane — later events wait
 *   behind it, as order requires — and is retried with exponential backoff (base doubling,
 *   capped at an hour, ±10 % jitter). Short waits are slept with the lease held; longer ones
 *   end the job with a new one scheduled for then.
 * - Past `webhookMaxAgeMs` (a day) a delivery fails for good and its endpoint is disabled with
 *   the reason; its pending deliveries wait for the endpoint to be re-enabled.
 * - Fetches go through the link previews' SSRF rules (safe-fetch.ts): public addresses only,
 *   unless PARLEY_OUTBOUND_ALLOW lets a private target through; on a kept-alive connection per
 *   checked address, so a lane's deliveries do not each open one.
 * - Deliveries that land are recorded together, one statement for a run of them; a failure is
 *   recorded at once (it holds the lane). A crash between an answer and its record sends that
 *   delivery again, under the same id (at least once, as always).
 * - A crash mid-run: the job expires into a retry and the lease expires, so another node
 *   takes over; the delivery that was in flight may be sent twice (at least once), and its
 *   `X-Parley-Delivery` id lets the receiver tell.
 */

import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { FetchRefused, safeFetch } from '../links/safe-fetch.js';
import { DELIVER, type DeliverJob, laneKey } from './job-names.js';
import { signatureHeader } from './signature.js';

const LEASE_SECONDS = 60;
/** Waits up to this long are slept with the lane held; longer ones reschedule the job. */
const SLEEP_MAX_MS = 2_000;
const BACKOFF_CAP_MS = 3600_000;

/** The delay before attempt `attempts + 1`, after `attempts` failures. */
export function backoffMs(base: number, attempts: number, random = Math.random()): number {
  const d = Math.min(BACKOFF_CAP_MS, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(d * (0.9 + 0.2 * random));
}

export async function defineWebhookJobs(svc: Services): Promise<void> {
  await svc.jobs.define<DeliverJob>({
    name: DELIVER.name,
    retryLimit: 20,
    retryDelaySeconds: 5,
    // Longer than a lease, so a run that died lets go of its lane before its retry comes.
    expireInSeconds: LEASE_SECONDS * 2,
    // Lanes are independent: many run at once (each holds no connection while it waits on
    // its endpoint), so one slow endpoint's lanes do not hold back the others.
    concurrency: 32,
    // One waiting job per lane is enough (it sends everything pending when it runs): a burst
    // of events in a channel enqueues one job, not one per event.
    policy: 'short',
    run: (d) => runLane(svc, d),
  });
  // Lanes with due deliveries and no job: a send batch's lanes whose enqueue a crash cut off
  // (wake.ts), or anything else that left a lane idle. The lane jobs are singletons, so a lane
  // that has one already is not sent twice.
  await svc.jobs.defineRecurring('webhooks.sweep', SWEEP_SECONDS, async () => {
    await sweepLanes(svc);
  });
}

/** How often the sweep runs, and how long a due delivery may wait for its job before it acts. */
const SWEEP_SECONDS = 30;

export async function sweepLanes(svc: Services, graceSeconds = SWEEP_SECONDS): Promise<number> {
  const idle = await rows<{ app_id: string; endpoint_id: string; lane: string }>(
    svc.db,
    sql`select distinct d.app_id, d.endpoint_id, d.lane from ${schema.webhookDeliveries} d
      join ${schema.webhookEndpoints} e on e.app_id = d.app_id and e.id = d.endpoint_id and e.disabled_at is null
      where d.status = 'pending' and d.next_attempt_at < now() - ${`${graceSeconds} seconds`}::interval
      limit 10000`,
  );
  await svc.jobs.enqueueMany(
    svc.db,
    DELIVER,
    idle.map((l) => {
      const job = { appId: l.app_id, endpointId: l.endpoint_id, lane: l.lane };
      return { data: job, singletonKey: laneKey(job) };
    }),
  );
  if (idle.length > 0) svc.jobs.wake(DELIVER.name);
  return idle.length;
}

/**
 * Lanes of one endpoint a node runs at once, of the 32: an endpoint that answers slowly or keeps
 * failing (its lanes sleep through short retries) holds at most half of them, and the rest stay
 * free for other endpoints and other apps.
 */
const PER_ENDPOINT = 16;
const runningLanes = new Map<string, number>();
/** A lane run gives way after this long: its next run waits behind the lanes already queued. */
const RUN_MS = 5_000;

async function runLane(svc: Services, d: DeliverJob): Promise<void> {
  const n = runningLanes.get(d.endpointId) ?? 0;
  if (n >= PER_ENDPOINT) {
    // Not now: a second from now (a no-op when the lane has a job waiting already).
    await svc.jobs.enqueue(svc.db, DELIVER, d, { startAfterSeconds: 1, singletonKey: laneKey(d) });
    return;
  }
  runningLanes.set(d.endpointId, n + 1);
  try {
    await runOwnLane(svc, d);
  } finally {
    const m = (runningLanes.get(d.endpointId) ?? 1) - 1;
    if (m > 0) runningLanes.set(d.endpointId, m);
    else runningLanes.delete(d.endpointId);
  }
}

async function runOwnLane(svc: Services, d: DeliverJob): Promise<void> {
  const started = Date.now();
  for (let round = 0; round < 5; round++) {
    const owner = randomUUID();
    if (!(await claim(svc, d, owner))) return;
    let next: Date | null | 'yield';
    try {
      next = await drain(svc, d, owner, started);
    } finally {
      await release(svc, d, owner);
    }
    if (next === 'yield') break;
    if (next) {
      const seconds = Math.max(1, Math.ceil((next.getTime() - Date.now()) / 1000));
      await svc.jobs.enqueue(svc.db, DELIVER, d, { startAfterSeconds: seconds, singletonKey: laneKey(d) });
      return;
    }
    // Deliveries that committed while this run held the lane (their job found it taken).
    if (!(await hasDue(svc, d))) {
      await prune(svc, d);
      return;
    }
  }
  await svc.jobs.enqueue(svc.db, DELIVER, d, { singletonKey: laneKey(d) });
}

/** The delivery log keeps finished deliveries for a week. */
const KEEP_DAYS = 7;

/** When this node last pruned an endpoint's log: at most once a minute each. */
const pruned = new Map<string, number>();
const PRUNE_EVERY_MS = 60_000;

async function prune(svc: Services, d: DeliverJob): Promise<void> {
  const last = pruned.get(d.endpointId) ?? 0;
  if (Date.now() - last < PRUNE_EVERY_MS) return;
  if (pruned.size > 10_000) pruned.clear();
  pruned.set(d.endpointId, Date.now());
  await svc.db.execute(
    sql`delete from ${schema.webhookDeliveries} where app_id = ${d.appId} and endpoint_id = ${d.endpointId}
      and status <> 'pending' and created_at < now() - ${`${KEEP_DAYS} days`}::interval`,
  );
}

async function claim(svc: Services, d: DeliverJob, owner: string): Promise<boolean> {
  const r = await rows<{ owner: string }>(
    svc.db,
    sql`insert into ${schema.webhookLanes} (endpoint_id, lane, owner, leased_until)
      values (${d.endpointId}, ${d.lane}, ${owner}, now() + ${`${LEASE_SECONDS} seconds`}::interval)
      on conflict (endpoint_id, lane) do update set owner = excluded.owner, leased_until = excluded.leased_until
      where ${schema.webhookLanes.leasedUntil} < now()
      returning owner`,
  );
  return r.length === 1;
}

async function extend(svc: Services, d: DeliverJob, owner: string): Promise<void> {
  await svc.db
    .update(schema.webhookLanes)
    .set({ leasedUntil: sql`now() + ${`${LEASE_SECONDS} seconds`}::interval` })
    .where(
      and(
        eq(schema.webhookLanes.endpointId, d.endpointId),
        eq(schema.webhookLanes.lane, d.lane),
        eq(schema.webhookLanes.owner, owner),
      ),
    );
}

async function release(svc: Services, d: DeliverJob, owner: string): Promise<void> {
  await svc.db
    .update(schema.webhookLanes)
    .set({ leasedUntil: new Date(0), owner: null })
    .where(
      and(
        eq(schema.webhookLanes.endpointId, d.endpointId),
        eq(schema.webhookLanes.lane, d.lane),
        eq(schema.webhookLanes.owner, owner),
      ),
    );
}

async function hasDue(svc: Services, d: DeliverJob): Promise<boolean> {
  const head = await headOf(svc, d);
  return !!head && head.nextAttemptAt.getTime() <= Date.now() + SLEEP_MAX_MS;
}

async function headOf(svc: Services, d: DeliverJob) {
  const w = schema.webhookDeliveries;
  const [head] = await svc.db
    .select()
    .from(w)
    .where(and(eq(w.endpointId, d.endpointId), eq(w.lane, d.lane), eq(w.status, 'pending')))
    .orderBy(asc(w.n))
    .limit(1);
  return head ?? null;
}

/** Deliveries read per round of a lane (each still sent one at a time, in order). */
const BATCH = 100;
/** How often a lane's lease is renewed while it sends, in ms (well inside LEASE_SECONDS). */
const RENEW_MS = 10_000;

/**
 * Send due deliveries in order; answers when to come back, null when the lane is done, or
 * `yield` when the run has had its time (RUN_MS) and more is due.
 */
async function drain(svc: Services, d: DeliverJob, owner: string, started: number): Promise<Date | null | 'yield'> {
  let renewed = Date.now();
  for (;;) {
    const [ep] = await svc.db
      .select()
      .from(schema.webhookEndpoints)
      .where(and(eq(schema.webhookEndpoints.appId, d.appId), eq(schema.webhookEndpoints.id, d.endpointId)));
    if (!ep || ep.disabledAt) return null;
    const w0 = schema.webhookDeliveries;
    const batch = await svc.db
      .select()
      .from(w0)
      .where(and(eq(w0.endpointId, d.endpointId), eq(w0.lane, d.lane), eq(w0.status, 'pending')))
      .orderBy(asc(w0.n))
      .limit(BATCH);
    if (batch.length === 0) return null;
    // A head waiting out its backoff is not sent early, whatever woke this run (a new event
    // in the lane, say): only the head of a lane can be waiting for a retry.
    const wait0 = (batch[0] as (typeof batch)[number]).nextAttemptAt.getTime() - Date.now();
    if (wait0 > SLEEP_MAX_MS) return (batch[0] as (typeof batch)[number]).nextAttemptAt;
    if (wait0 > 0) await new Promise((r) => setTimeout(r, wait0));
    const secret = svc.sealer.open(ep.secretSealed);
    // Deliveries that landed, recorded together: one statement for a run of them.
    let landed: Landed[] = [];
    let timeUp = false;
    for (const head of batch) {
      if (head.appId !== d.appId) break;
      if (Date.now() - renewed > RENEW_MS) {
        await extend(svc, d, owner);
        renewed = Date.now();
      }
      const sent = await post(svc, ep.url, secret, head);
      if (sent.error === null) {
        landed.push({ id: head.id, attempts: head.attempts + 1, status: sent.status, latencyMs: sent.latencyMs });
        if (Date.now() - started > RUN_MS) {
          timeUp = true;
          break;
        }
        continue;
      }
      await recordLanded(svc, d.appId, landed);
      landed = [];
      if ((await recordFailure(svc, d, head, sent)) === 'disabled') return null;
      break; // the head waits for its retry: read the lane again
    }
    await recordLanded(svc, d.appId, landed);
    if (batch.some((h) => h.appId !== d.appId)) return null;
    if (timeUp) return 'yield';
    const head = await headOf(svc, d);
    if (!head) return null;
    const wait = head.nextAttemptAt.getTime() - Date.now();
    if (wait > SLEEP_MAX_MS) return head.nextAttemptAt;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

interface Sent {
  status: number | null;
  error: string | null;
  latencyMs: number;
}
interface Landed {
  id: string;
  attempts: number;
  status: number | null;
  latencyMs: number;
}

/** One attempt at one delivery, over a kept-alive connection to the endpoint. */
async function post(
  svc: Services,
  url: string,
  secret: string,
  head: typeof schema.webhookDeliveries.$inferSelect,
): Promise<Sent> {
  const { config } = svc;
  const t = Math.floor(Date.now() / 1000);
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await safeFetch(url, {
      method: 'POST',
      body: head.body,
      headers: {
        'content-type': 'application/json',
        'x-parley-signature': signatureHeader(secret, t, head.body),
        'x-parley-event': head.eventType,
        'x-parley-delivery': head.id,
        'x-parley-attempt': String(head.attempts + 1),
      },
      userAgent: 'Parley-Webhooks/1.0',
      allow: allowFor(config, 'webhooks'),
      timeoutMs: config.webhookTimeoutMs,
      maxRedirects: 0,
      maxBytes: 64 * 1024,
      truncate: true,
      keepAlive: true,
    });
    status = res.status;
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (err) {
    error = err instanceof FetchRefused ? `${err.reason}: ${err.message}` : String((err as Error).message ?? err);
  }
  return { status, error, latencyMs: Math.round(performance.now() - started) };
}

/** Mark a run of landed deliveries delivered, in one statement. */
async function recordLanded(svc: Services, appId: string, landed: readonly Landed[]): Promise<void> {
  if (landed.length === 0) return;
  await svc.db.execute(
    sql`update ${schema.webhookDeliveries} w set status = 'delivered', attempts = v.attempts,
      response_status = v.status, error = null, latency_ms = v.latency, delivered_at = now()
      from jsonb_to_recordset(${JSON.stringify(landed.map((l) => ({ id: l.id, attempts: l.attempts, status: l.status, latency: l.latencyMs })))}::jsonb)
        as v(id uuid, attempts int, status int, latency int)
      where w.app_id = ${appId} and w.id = v.id`,
  );
}

/** A failed attempt: scheduled for a retry, or (out of time) failed for good with its endpoint disabled. */
async function recordFailure(
  svc: Services,
  d: DeliverJob,
  head: typeof schema.webhookDeliveries.$inferSelect,
  sent: Sent,
): Promise<'failed' | 'disabled'> {
  const { config } = svc;
  const { status, error, latencyMs } = sent;
  const attempts = head.attempts + 1;
  const w = schema.webhookDeliveries;
  const where = and(eq(w.appId, head.appId), eq(w.id, head.id));
  if (Date.now() - head.createdAt.getTime() >= config.webhookMaxAgeMs) {
    // Out of time: this delivery fails for good, and the endpoint is switched off until re-enabled.
    const reason = `Delivery ${head.id} (${head.eventType}) still failing after ${attempts} attempts: ${error}`;
    await svc.db.transaction(async (tx) => {
      await tx.update(w).set({ status: 'failed', attempts, responseStatus: status, error, latencyMs }).where(where);
      await tx
        .update(schema.webhookEndpoints)
        .set({ disabledAt: new Date(), disabledReason: reason, updatedAt: new Date() })
        .where(and(eq(schema.webhookEndpoints.appId, d.appId), eq(schema.webhookEndpoints.id, d.endpointId)));
    });
    svc.hooks.changed(d.appId);
    svc.log.warn({ app: d.appId, webhook: d.endpointId, reason }, 'webhook endpoint disabled');
    return 'disabled';
  }
  const next = new Date(Date.now() + backoffMs(config.webhookRetryBaseMs, attempts));
  await svc.db.update(w).set({ attempts, responseStatus: status, error, latencyMs, nextAttemptAt: next }).where(where);
  return 'failed';
}
