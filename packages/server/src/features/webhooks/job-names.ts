/** The webhooks feature's kind of job, by name (its handler is in deliver.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

export interface DeliverJob {
  appId: string;
  endpointId: string;
  /** The channel (cid) whose deliveries this job sends in order, or `''` for app-wide events. */
  lane: string;
}

/**
 * Send an endpoint's pending deliveries of one lane, oldest first, one at a time. Enqueued in
 * the transaction that wrote the deliveries, or right after the send batch that wrote them
 * (wake.ts; the sweep covers a crash in between), and again, later, for a retry.
 */
export const DELIVER = jobRef<DeliverJob>('webhooks.deliver');

/** The job queue's key of a lane: at most one job per lane waits to start. */
export const laneKey = (d: { endpointId: string; lane: string }) => `${d.endpointId}:${d.lane}`;
