/**
 * The message path's hand-off: after a send commits, its id is queued here, and the ids
 * queued together go into one `notifications.message` job — one insert per burst of sends
 * rather than one per message, and nothing inside the send's transaction (the group commit's
 * single statement stays as it is). A lone send is handed off in the next turn; during a
 * stream of sends the ids linger up to 200 ms for more, so 100 sends a second make about 5
 * jobs, not one per event-loop turn: each job costs about a dozen statements whatever its size
 * (an insert, two fetches and a completion, then its reads, each for the whole job). At 50 ms,
 * a job carried 5 messages at 100 sends a second and its statements were 2 of the 3.2 a send
 * cost with everything on (bench/scenarios/prodmix.ts). A push waits that much longer, and the
 * window is one in which a crash loses the push of a message that was just sent; its unread
 * count and the email digest do not depend on it.
 */
import { TickBatcher } from '../../platform/tick-batch.js';
import type { Services } from '../../services.js';
import { NOTIFY, type NotifyJob } from './job-names.js';

type Item = NotifyJob['items'][number];

class Trigger {
  private readonly batcher: TickBatcher<Item, null>;

  constructor(private readonly svc: Services) {
    this.batcher = new TickBatcher(
      async (items) => {
        try {
          await this.svc.jobs.enqueue(this.svc.db, NOTIFY, { items });
          this.svc.jobs.wake(NOTIFY.name);
        } catch (err) {
          this.svc.log.error({ err, messages: items.length }, 'notifications: enqueue failed');
        }
        return items.map(() => null);
      },
      { maxInFlight: 1, maxBatch: 500, lingerMs: 200 },
    );
  }

  add(item: Item): void {
    // Never rejects: a failed enqueue is logged once for its whole batch.
    void this.batcher.add(item);
  }

  settled(): Promise<void> {
    return this.batcher.settled();
  }
}

const triggers = new WeakMap<Services, Trigger>();

/** Queue the notifications of a message that has just committed. Never throws, never waits. */
export function notifyMessage(svc: Services, appId: string, messageId: string): void {
  if (!svc.config.notifications || !svc.jobs.has(NOTIFY.name)) return;
  let t = triggers.get(svc);
  if (!t) {
    t = new Trigger(svc);
    triggers.set(svc, t);
  }
  t.add({ appId, messageId });
}

/** Wait until every queued hand-off has been enqueued (shutdown, tests). */
export async function notifySettled(svc: Services): Promise<void> {
  await triggers.get(svc)?.settled();
}
