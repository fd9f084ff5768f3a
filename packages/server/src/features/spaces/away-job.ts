/** The away sweep's job (away.ts), apart so that moves can arm it without an import cycle. */
import type { Queryable } from '../../platform/db/index.js';
import { jobRef } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { graceSeconds } from '../presence/index.js';

export interface AwayJob {
  appId: string;
  userId: string;
  /** Their `last_active_at` (ms) when they went: a later one means a newer absence. */
  lastActive: number;
}
export const AWAY = jobRef<AwayJob>('spaces.away');

/**
 * Arm the sweep of `userId`, gone with `lastActive`, due after the grace; in `q`'s transaction.
 * `once`: at most one such job per user per grace (pg-boss's throttle) — for the recurring
 * sweep (away.ts), which finds the same absent occupant on every run. Answers whether it was armed.
 */
export async function armAway(
  svc: Services,
  q: Queryable,
  job: AwayJob,
  opts: { once?: boolean } = {},
): Promise<boolean> {
  const grace = graceSeconds(svc.config.spaces.awayMs);
  const throttle = opts.once ? { singletonKey: `${job.appId}:${job.userId}`, singletonSeconds: grace } : {};
  return (await svc.jobs.enqueue(q, AWAY, job, { startAfterSeconds: grace, ...throttle })) !== null;
}
