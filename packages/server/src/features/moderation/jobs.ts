/** The moderation feature's job: timed bans lift by themselves. */

import { withTransaction } from '../../platform/event-log.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { liftBan, unbanned } from './actions.js';
import { LIFT_BAN, type LiftBanJob } from './job-names.js';

export async function defineModerationJobs(svc: Services): Promise<void> {
  const kind: JobKind<LiftBanJob> = {
    name: LIFT_BAN.name,
    retryLimit: 5,
    retryDelaySeconds: 5,
    run: async ({ appId, userId, cid, expiresAt }) => {
      // Only the ban this job was made for: one renewed since (later expiry, or none) stays.
      await withTransaction(svc, async (tx, out) => {
        const lifted = await liftBan(tx, appId, userId, cid, new Date(expiresAt));
        if (lifted) unbanned(out, appId, lifted);
      });
    },
  };
  await svc.jobs.define(kind);
}
