/**
 * The end of a do-not-disturb pause (`dnd_until`: `presence.set busy` with `until`, or the
 * settings' `dnd_minutes` / `dnd_until`) announced when it happens: a job made in the pause's
 * own write, due at its end to the millisecond, has presence say "busy" is over within the job
 * poll (a second). The presence busy sweep (`busyCheckMs`, 30 s) stays as the net for a job that
 * was lost or ran early, and still covers a daily DND window opening or closing.
 */
import { and, eq } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { DND_END, type DndEndJob } from './job-names.js';

/** DND "until turned off": a time far enough away to mean forever (no job is made for it). */
export const DND_FOREVER = new Date('9999-12-31T00:00:00Z');

/** A job that fires this much early (another node's clock) waits for the time, rather than finding DND still on. */
const EARLY_WAIT_MS = 2_000;

/**
 * Schedule the announcement of a pause's end — in the transaction (or after the statement) that
 * set it. Nothing for no pause, one "until turned off", or one already over. Repeats of the same
 * pause are one job (the key).
 */
export async function scheduleDndEnd(
  svc: Services,
  q: Queryable,
  appId: string,
  userId: string,
  until: Date | null | undefined,
): Promise<void> {
  if (!until || until.getTime() >= DND_FOREVER.getTime() || until.getTime() <= svc.clock()) return;
  const data: DndEndJob = { appId, userId, until: until.toISOString() };
  await svc.jobs.enqueue(q, DND_END, data, {
    startAt: until,
    singletonKey: `${appId}:${userId}:${data.until}`,
  });
}

export async function defineDndEndJob(svc: Services): Promise<void> {
  const kind: JobKind<DndEndJob> = { name: DND_END.name, retryLimit: 10, run: (d) => dndEnded(svc, d) };
  await svc.jobs.define(kind);
}

/** Idempotent: only the pause it was made for, and announcing a state twice is no change to clients. */
async function dndEnded(svc: Services, d: DndEndJob): Promise<void> {
  const until = new Date(d.until).getTime();
  const s = schema.notificationSettings;
  const [row] = await svc.db
    .select({ dndUntil: s.dndUntil })
    .from(s)
    .where(and(eq(s.appId, d.appId), eq(s.userId, d.userId)));
  if (row?.dndUntil?.getTime() !== until) return;
  const early = until - svc.clock();
  if (early > 0) await new Promise((r) => setTimeout(r, Math.min(early, EARLY_WAIT_MS)));
  await svc.presence.busyChanged(d.appId, d.userId);
}
