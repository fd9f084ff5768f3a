/**
 * The audit log's retention: a recurring job (hourly, once across nodes) deletes entries older
 * than `PARLEY_AUDIT_RETENTION_DAYS` (0 keeps them for good), in batches so one run never holds
 * a long lock on the table. Usage samples are pruned here too (features/analytics keeps them
 * for as long as the audit log, at least 400 days for year-long charts).
 */
import { sql } from 'drizzle-orm';
import { rows } from '../../platform/db/index.js';
import type { Services } from '../../services.js';

export const AUDIT_PRUNE = 'audit.prune';
const BATCH = 5_000;

/** Delete audit entries older than the retention; answers how many went. */
export async function pruneAudit(svc: Services, now = svc.clock()): Promise<number> {
  const days = svc.config.auditRetentionDays;
  if (days <= 0) return 0;
  const cutoff = new Date(now - days * 86_400_000).toISOString();
  let total = 0;
  for (;;) {
    const [r] = await rows<{ n: number }>(
      svc.db,
      sql`with gone as (delete from audit_log where id in
            (select id from audit_log where at < ${cutoff}::timestamptz order by id limit ${BATCH}) returning 1)
          select count(*)::int as n from gone`,
    );
    const n = r?.n ?? 0;
    total += n;
    if (n < BATCH) return total;
  }
}

export async function defineAuditJobs(svc: Services): Promise<void> {
  await svc.jobs.defineRecurring(AUDIT_PRUNE, 3600, async () => {
    const n = await pruneAudit(svc);
    if (n > 0) svc.log.info({ deleted: n }, 'pruned the audit log');
  });
}
