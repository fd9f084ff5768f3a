/**
 * The message path's hand-off: after a send commits, its id is queued here and, on the next
 * tick, every id queued meanwhile goes into one `notifications.message` job — one insert per
 * burst of sends rather than one per message, and nothing inside the send's transaction (the
 * group commit's single statement stays as it is). The cost is a window of one tick in which
 * a crash loses the push of a message that was just sent; its unread count and the email
 * digest do not depend on it.
 */
import type { Services } from '../../services.js';
import { NOTIFY, type NotifyJob } from './job-names.js';

const MAX_ITEMS = 500;

class Trigger {
  private pending: NotifyJob['items'] = [];
  private scheduled = false;
  private inflight = new Set<Promise<void>>();

  constructor(private readonly svc: Services) {}

  add(appId: string, messageId: string): void {
    this.pending.push({ appId, messageId });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const items = this.pending.splice(0, MAX_ITEMS);
      const p = this.svc.jobs
        .enqueue(this.svc.db, NOTIFY, { items })
        .then(() => this.svc.jobs.wake(NOTIFY.name))
        .catch((err: unknown) => this.svc.log.error({ err, messages: items.length }, 'notifications: enqueue failed'))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  async settled(): Promise<void> {
    while (this.inflight.size > 0 || this.scheduled) {
      if (this.scheduled) this.flush();
      await Promise.allSettled([...this.inflight]);
    }
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
  t.add(appId, messageId);
}

/** Wait until every queued hand-off has been enqueued (shutdown, tests). */
export async function notifySettled(svc: Services): Promise<void> {
  await triggers.get(svc)?.settled();
}
