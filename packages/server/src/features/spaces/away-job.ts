/** The away sweep's job (away.ts), apart so that moves can arm it without an import cycle. */
import type { Queryable } from '../../platform/db/index.js';
import { jobRef } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';

export interface AwayJob {
  appId: string;
  userId: string;
  /** Their `last_active_at` (ms) when they went: a later one means a newer absence. */
  lastActive: number;
}
export const AWAY = jobRef<AwayJob>('spaces.away');

/** Arm the sweep of `userId`, gone with `lastActive`, due after the grace; in `q`'s transaction. */
export async function armAway(svc: Services, q: Queryable, job: AwayJob): Promise<void> {
  await svc.jobs.enqueue(q, AWAY, job, { startAfterSeconds: Math.max(1, Math.ceil(svc.config.spaces.awayMs / 1000)) });
}
