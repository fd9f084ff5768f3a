/**
 * The calls feature's jobs: a device whose socket dropped while it was in a call leaves it once
 * the rejoin grace is over, unless the user came back (a new connection joins the call again,
 * `call.join`, and the participant's device moves to it). A job rather than a timer, so the
 * leave happens even if the node that held the socket is gone by then. Devices whose node died
 * without closing their sockets are found by a sweep instead (ghosts.ts).
 */
import { type JobKind, jobRef } from '../../platform/jobs/queue.js';
import type { Connection } from '../../realtime/connection.js';
import type { Services } from '../../services.js';
import { leaveDropped, takeDropped } from './actions.js';
import { defineGhostJobs } from './ghosts.js';

interface DroppedJob {
  appId: string;
  callId: string;
  userId: string;
  connectionId: string;
}
const DROPPED = jobRef<DroppedJob>('calls.dropped');

export async function defineCallJobs(svc: Services): Promise<void> {
  const kind: JobKind<DroppedJob> = {
    name: DROPPED.name,
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
    run: ({ appId, callId, userId, connectionId }) => leaveDropped(svc, appId, callId, userId, connectionId),
  };
  await svc.jobs.define(kind);
  await defineGhostJobs(svc);
}

/** The gateway's hook: a socket closed. */
export function connectionClosed(svc: Services, conn: Connection): void {
  const t = takeDropped(conn.id);
  if (!t) return;
  svc.jobs
    .enqueue(
      svc.db,
      DROPPED,
      { ...t, connectionId: conn.id },
      { startAfterSeconds: Math.max(1, Math.ceil(svc.config.calls.rejoinGraceMs / 1000)) },
    )
    .catch((err: unknown) =>
      svc.log.warn({ err, callId: t.callId }, 'could not schedule the leave of a dropped device'),
    );
}
