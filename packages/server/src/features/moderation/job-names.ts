/** The moderation feature's kind of job, by name (its handler is in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

export interface LiftBanJob {
  appId: string;
  userId: string;
  /** '' for an app-wide ban. */
  cid: string;
  /** The ban's expiry as enqueued: a ban renewed since (another expiry) is left alone. */
  expiresAt: string;
}

/** Lift a timed ban when it expires (enqueued with the ban, to start at its expiry). */
export const LIFT_BAN = jobRef<LiftBanJob>('moderation.lift-ban');
