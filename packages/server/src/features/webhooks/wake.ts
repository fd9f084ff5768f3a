/**
 * Ask for the delivery jobs of lanes whose deliveries were just committed outside a
 * transaction of their own: the send batch's statement writes them with their messages
 * (messages/send-batch.ts), and the lanes' jobs are enqueued right after. A crash in between
 * leaves pending deliveries without a job; the sweep (deliver.ts) finds them.
 */
import type { Infra } from '../../infra.js';
import { DELIVER, type DeliverJob, laneKey } from './job-names.js';

export async function wakeLanes(svc: Infra, lanes: readonly DeliverJob[]): Promise<void> {
  try {
    await svc.jobs.enqueueMany(
      svc.db,
      DELIVER,
      lanes.map((l) => ({ data: l, singletonKey: laneKey(l) })),
    );
    svc.jobs.wake(DELIVER.name);
  } catch (err) {
    // Nothing is lost: the sweep enqueues every lane with due deliveries and no job.
    svc.log.warn({ err }, 'webhook lanes not woken after a send batch; the sweep will');
  }
}
