/** Shared steps of the notification tests. */

import { notifySettled } from '../../src/features/notifications/trigger.js';
import type { Harness, TestApp } from '../harness.js';
import { eventually } from '../harness.js';

const QUEUES = ['notifications.message', 'notifications.deliver', 'notifications.digest'];

/**
 * Wait until every notification job enqueued so far has run (none created, retrying or
 * active): what a test asserts "no push" against, rather than a fixed sleep. Jobs due later
 * (`startAfter`) count as created, so only call this when none should be pending.
 */
export async function notificationsIdle(h: Harness, queues = QUEUES.slice(0, 1), timeoutMs = 30_000): Promise<void> {
  await notifySettled(h.server.svc);
  await eventually(
    async () => {
      const counts = await h.server.svc.jobs.counts();
      return !counts.some(
        (c) => queues.includes(c.name) && ['created', 'retry', 'active'].includes(c.state) && c.n > 0,
      );
    },
    timeoutMs,
    50,
  );
}

export async function send(h: Harness, app: TestApp, from: string, cid: string, text: string, extra = {}) {
  const r = await h.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await app.user(from),
    payload: { text, ...extra },
  });
  if (r.status !== 200) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.message as { id: string; seq: number; cid: string };
}

export async function channel(h: Harness, app: TestApp, by: string, id: string, members: string[], type = 'public') {
  const r = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user(by),
    payload: type === 'dm' ? { type, members } : { type, id, name: id, members },
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`channel: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.channel.cid as string;
}
