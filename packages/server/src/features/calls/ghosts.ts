/**
 * Ghosts: participants whom no node saw go. A socket that closes enqueues `calls.dropped`
 * (jobs.ts), but a node that dies closes nothing and enqueues nothing, so its devices stayed
 * `joined` — the call never ended, the channel showed a live call, and its users read as busy.
 *
 * A recurring sweep (`calls.sweep`, the shape shared with spaces in
 * features/presence/offline-sweep.ts) reads the joined participants of live calls, and for
 * each whose user the pool calls offline arms `calls.ghost`, due after `calls.ghostMs`
 * (`PARLEY_CALL_GHOST_SECONDS`). The job leaves for that device through the dropped device's
 * path (`leaveDropped`: `call.updated` `left`, the call ended with its "Call ended" message when
 * fewer than two are left) — unless the user is back online anywhere, went again since (their
 * `last_active_at` moved: that going armed its own `calls.dropped`), or is in the call on
 * another device by then.
 *
 * Only users offline everywhere are swept: a user still connected on a live node, whose call
 * device was on the dead one, stays in the call until they join it on a live device or leave.
 */
import { and, asc, eq, gt, inArray, or } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { jobRef } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { defineOfflineSweep, graceSeconds, type SweptRow, stillGone } from '../presence/index.js';
import { leaveDropped } from './actions.js';

interface GhostJob {
  appId: string;
  callId: string;
  userId: string;
  /** The device they were in the call with when the sweep found them gone. */
  connectionId: string;
  /** Their `last_active_at` (ms) then: a later one means they came back and went again. */
  lastActive: number;
}
const GHOST = jobRef<GhostJob>('calls.ghost');
export const CALLS_SWEEP = 'calls.sweep';

interface JoinedRow extends SweptRow {
  callId: string;
  connectionId: string | null;
}

/** Leave for a ghost's device if they are still gone from the absence the sweep found. */
export async function leaveGhost(svc: Services, job: GhostJob): Promise<void> {
  if (!(await stillGone(svc, job.appId, job.userId, job.lastActive))) return;
  await leaveDropped(svc, job.appId, job.callId, job.userId, job.connectionId);
}

/** Joined participants of live calls after `after`, in (app, user, call) order, with `last_active_at`. */
function joinedPage(svc: Services, after: JoinedRow | null, limit: number): Promise<JoinedRow[]> {
  const p = schema.callParticipants;
  const c = schema.calls;
  return svc.db
    .select({
      appId: p.appId,
      userId: p.userId,
      callId: p.callId,
      connectionId: p.connectionId,
      lastActiveAt: schema.users.lastActiveAt,
    })
    .from(p)
    .innerJoin(c, and(eq(c.appId, p.appId), eq(c.id, p.callId)))
    .leftJoin(schema.users, and(eq(schema.users.appId, p.appId), eq(schema.users.id, p.userId)))
    .where(
      and(
        eq(p.state, 'joined'),
        inArray(c.state, ['ringing', 'active']),
        after
          ? or(
              gt(p.appId, after.appId),
              and(eq(p.appId, after.appId), gt(p.userId, after.userId)),
              and(eq(p.appId, after.appId), eq(p.userId, after.userId), gt(p.callId, after.callId)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(p.appId), asc(p.userId), asc(p.callId))
    .limit(limit);
}

/** The ghost job's kind and the sweep that arms it. */
export async function defineGhostJobs(svc: Services): Promise<void> {
  const { ghostMs, sweepMs } = svc.config.calls;
  await svc.jobs.define<GhostJob>({
    name: GHOST.name,
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
    run: (job) => leaveGhost(svc, job),
  });
  const grace = graceSeconds(ghostMs);
  await defineOfflineSweep<JoinedRow>(svc, {
    name: CALLS_SWEEP,
    graceMs: ghostMs,
    everyMs: sweepMs,
    what: 'armed the leave of call participants no node saw go',
    page: (after, limit) => joinedPage(svc, after, limit),
    arm: async (r, lastActive) => {
      if (!r.connectionId) return false;
      const job = { appId: r.appId, callId: r.callId, userId: r.userId, connectionId: r.connectionId, lastActive };
      // Once per device per grace, however often sweeps find it.
      const once = { singletonKey: `${r.appId}:${r.callId}:${r.userId}:${r.connectionId}`, singletonSeconds: grace };
      return (await svc.jobs.enqueue(svc.db, GHOST, job, { startAfterSeconds: grace, ...once })) !== null;
    },
  });
}
