/**
 * The webhooks feature's background jobs. Deliveries themselves are sent by each node's pump
 * (pump.ts), woken in memory after the commit that wrote them; the jobs here are its safety
 * nets: a sweep every 15 s (`webhookSweepSeconds`) for lanes with due deliveries and no sender (a node that crashed
 * between a commit and its wake, or while it held lanes), and the kind of job earlier versions
 * queued per lane, which now only wakes that lane. And hourly, the retention (retention.ts):
 * what inactive endpoints held too long is dropped and counted.
 */
import type { Services } from '../../services.js';
import { DELIVER } from './job-names.js';
import { pruneWebhooks } from './retention.js';

/**
 * How long a due delivery may wait for its wake before the sweep acts: a wake takes
 * milliseconds, so a lane due this long with no live lease has lost its sender.
 */
const GRACE_SECONDS = 10;

export async function defineWebhookJobs(svc: Services): Promise<void> {
  await svc.jobs.define({
    name: DELIVER.name,
    policy: 'short',
    run: async (d: { appId: string; endpointId: string; lane: string }) => svc.webhooks.wake([d]),
  });
  await svc.jobs.defineRecurring('webhooks.sweep', svc.config.webhookSweepSeconds, async () => {
    await svc.webhooks.sweep(Math.min(GRACE_SECONDS, svc.config.webhookSweepSeconds));
  });
  await svc.jobs.defineRecurring('webhooks.retention', 3600, async () => {
    const r = await pruneWebhooks(svc);
    if (r.dropped > 0)
      svc.log.warn(
        { dropped: r.dropped },
        'webhooks: deliveries held past the retention by inactive endpoints dropped',
      );
  });
}
