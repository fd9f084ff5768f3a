/**
 * What an inactive endpoint holds is bounded. A paused or disabled endpoint keeps getting its
 * deliveries written (they wait for it, and go out in order when it is made active again), so
 * a recurring job (`webhooks.retention`, hourly, once across nodes) drops those it has held
 * past `webhookRetentionDays` (`PARLEY_WEBHOOK_RETENTION_DAYS`, 7) — in batches, and in the
 * same statement adds how many to the endpoint's `dropped` and sets `dropped_at`, so nothing
 * goes silently. Re-enabling an endpoint runs the same drop for it first (actions.ts), so what
 * it then receives is exactly what is within the retention.
 *
 * The job also prunes inactive endpoints' finished deliveries after the log's week (active
 * ones' are pruned by the pump as their lanes go idle), and forgets previous secrets whose
 * rotation overlap is over.
 */
import { sql } from 'drizzle-orm';
import { type Queryable, rows } from '../../platform/db/index.js';
import type { Services } from '../../services.js';

const BATCH = 5_000;
/** Finished deliveries stay in the log this long (the pump's KEEP_DAYS, for active endpoints). */
const LOG_DAYS = 7;

/**
 * Drop the pending deliveries that inactive endpoints (or only `endpoint`, active or not) hold
 * past the retention, at most `BATCH`, counting them on their endpoints. Answers how many went.
 */
export async function dropPastRetention(
  db: Queryable,
  retentionDays: number,
  endpoint?: { appId: string; id: string },
): Promise<number> {
  const which = endpoint ? sql`e.app_id = ${endpoint.appId} and e.id = ${endpoint.id}` : sql`e.disabled_at is not null`;
  const [r] = await rows<{ n: number }>(
    db,
    sql`with old as (
        select d.app_id, d.id from webhook_deliveries d
        join webhook_endpoints e on e.app_id = d.app_id and e.id = d.endpoint_id
        where ${which} and d.status = 'pending'
          and d.created_at < now() - ${`${retentionDays} days`}::interval
        limit ${BATCH}
      ), gone as (
        delete from webhook_deliveries w using old where w.app_id = old.app_id and w.id = old.id
        returning w.app_id, w.endpoint_id
      ), counted as (
        select app_id, endpoint_id, count(*)::int as n from gone group by app_id, endpoint_id
      ), noted as (
        update webhook_endpoints e set dropped = e.dropped + c.n, dropped_at = now()
        from counted c where e.app_id = c.app_id and e.id = c.endpoint_id
        returning 1
      )
      select coalesce(sum(n), 0)::int as n from counted`,
  );
  return r?.n ?? 0;
}

/** One run of the retention job; answers what it did. */
export async function pruneWebhooks(svc: Services): Promise<{ dropped: number; pruned: number; secrets: number }> {
  let dropped = 0;
  for (;;) {
    const n = await dropPastRetention(svc.db, svc.config.webhookRetentionDays);
    dropped += n;
    if (n < BATCH) break;
  }
  let pruned = 0;
  for (;;) {
    const [r] = await rows<{ n: number }>(
      svc.db,
      sql`with gone as (
          delete from webhook_deliveries w using (
            select d.app_id, d.id from webhook_deliveries d
            join webhook_endpoints e on e.app_id = d.app_id and e.id = d.endpoint_id and e.disabled_at is not null
            where d.status <> 'pending' and d.created_at < now() - ${`${LOG_DAYS} days`}::interval
            limit ${BATCH}
          ) old where w.app_id = old.app_id and w.id = old.id
          returning 1
        ) select count(*)::int as n from gone`,
    );
    const n = r?.n ?? 0;
    pruned += n;
    if (n < BATCH) break;
  }
  const ended = await rows<{ app_id: string }>(
    svc.db,
    sql`update webhook_endpoints set previous_secret_sealed = null, previous_secret_expires_at = null
      where previous_secret_expires_at <= now() returning app_id`,
  );
  for (const appId of new Set(ended.map((e) => e.app_id))) svc.hooks.changed(appId);
  return { dropped, pruned, secrets: ended.length };
}
