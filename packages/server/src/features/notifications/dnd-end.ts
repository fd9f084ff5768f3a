/**
 * Do-not-disturb changes announced when they happen, by jobs due at that instant rather than
 * found by the presence busy sweep (`busyCheckMs`, 30 s), which stays as the net for a job that
 * was lost (and for schedules saved before these jobs existed, until they are next changed):
 *
 * - the end of a pause (`dnd_until`: `presence.set busy` with `until`, or the settings'
 *   `dnd_minutes` / `dnd_until`): a job made in the pause's own write;
 * - a daily window (`dnd_schedule`) opening or closing: a job for the next change, made when the
 *   schedule or time zone is saved, and each run makes the one after it (two a day per user with
 *   a window).
 *
 * Each runs within the job poll (a second) and has presence announce the user again
 * (`svc.presence.busyChanged`). Idempotent: it acts only while what it was made for still stands
 * (a pause moved or ended, or a schedule changed, has its own job), a run slightly early waits
 * for its time, and an announcement twice is no change to clients.
 */
import type { DndSchedule } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { inSchedule, localClock } from './decide.js';
import { DND_END, DND_WINDOW, type DndEndJob, type DndWindowJob } from './job-names.js';

/** DND "until turned off": a time far enough away to mean forever (no job is made for it). */
export const DND_FOREVER = new Date('9999-12-31T00:00:00Z');

/** A job that fires this much early (another node's clock) waits for the time, rather than finding DND unchanged. */
const EARLY_WAIT_MS = 2_000;

/**
 * The job queue's due time for the server's instant `at`: pg-boss compares with the database's
 * clock, the server reads `svc.clock()` (the same but in tests that set one), so the job is due
 * when `svc.clock()` reaches `at`.
 */
const dueAt = (svc: Services, at: number) => new Date(Date.now() + (at - svc.clock()));

/**
 * Schedule the announcement of a pause's end — in the transaction that set it. Nothing for no
 * pause, one "until turned off", or one already over. Repeats of the same pause are one job.
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
    startAt: dueAt(svc, until.getTime()),
    singletonKey: `${appId}:${userId}:${data.until}`,
  });
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The first instant after `now` at which the window opens or closes, or null if it does not
 * within eight days (a window on no day). Candidates are the window's start and end minute of
 * each of the next eight days, counted in the zone's minutes from `now` (a change of UTC
 * offset in between moves a candidate off by the change: it is then passed over, and the sweep
 * announces that one).
 */
export function nextWindowChange(s: DndSchedule, timeZone: string, now: Date): Date | null {
  const inside = inSchedule(s, timeZone, now);
  const { minute } = localClock(timeZone, now);
  const minuteStart = Math.floor(now.getTime() / 60_000) * 60_000;
  const candidates: number[] = [];
  for (const edge of [minutesOf(s.start), minutesOf(s.end)]) {
    const ahead = (edge - minute + 1440) % 1440 || 1440;
    for (let d = 0; d < 8; d++) candidates.push(minuteStart + (ahead + d * 1440) * 60_000);
  }
  candidates.sort((a, b) => a - b);
  for (const t of candidates) if (inSchedule(s, timeZone, new Date(t)) !== inside) return new Date(t);
  return null;
}

/** What a window job was made for: the schedule and the zone it is read in. */
const windowKey = (s: DndSchedule, timeZone: string) => JSON.stringify([s.start, s.end, s.days ?? null, timeZone]);

/**
 * Schedule the announcement of the window's next opening or closing after `from` — in the
 * transaction that saved the schedule (or by the job of the change before). Nothing without a
 * window.
 */
export async function scheduleDndWindow(
  svc: Services,
  q: Queryable,
  appId: string,
  userId: string,
  prefs: { dndSchedule: DndSchedule | null; timeZone: string },
  from = new Date(svc.clock()),
): Promise<void> {
  if (!prefs.dndSchedule) return;
  const next = nextWindowChange(prefs.dndSchedule, prefs.timeZone, from);
  if (!next) return;
  const data: DndWindowJob = {
    appId,
    userId,
    at: next.toISOString(),
    key: windowKey(prefs.dndSchedule, prefs.timeZone),
  };
  await svc.jobs.enqueue(q, DND_WINDOW, data, {
    startAt: dueAt(svc, next.getTime()),
    singletonKey: `${appId}:${userId}:${data.at}:${data.key}`,
  });
}

export async function defineDndEndJobs(svc: Services): Promise<void> {
  const end: JobKind<DndEndJob> = { name: DND_END.name, retryLimit: 10, run: (d) => pauseEnded(svc, d) };
  const window: JobKind<DndWindowJob> = { name: DND_WINDOW.name, retryLimit: 10, run: (d) => windowChanged(svc, d) };
  await svc.jobs.define(end);
  await svc.jobs.define(window);
}

async function prefsOf(svc: Services, appId: string, userId: string) {
  const s = schema.notificationSettings;
  const [row] = await svc.db
    .select({ dndUntil: s.dndUntil, dndSchedule: s.dndSchedule, timeZone: s.timeZone })
    .from(s)
    .where(and(eq(s.appId, appId), eq(s.userId, userId)));
  return row;
}

async function waitFor(svc: Services, at: number): Promise<void> {
  const early = at - svc.clock();
  if (early > 0) await new Promise((r) => setTimeout(r, Math.min(early, EARLY_WAIT_MS)));
}

async function pauseEnded(svc: Services, d: DndEndJob): Promise<void> {
  const until = new Date(d.until).getTime();
  const row = await prefsOf(svc, d.appId, d.userId);
  if (row?.dndUntil?.getTime() !== until) return;
  await waitFor(svc, until);
  await svc.presence.busyChanged(d.appId, d.userId);
}

async function windowChanged(svc: Services, d: DndWindowJob): Promise<void> {
  const at = new Date(d.at).getTime();
  const row = await prefsOf(svc, d.appId, d.userId);
  if (!row?.dndSchedule || windowKey(row.dndSchedule, row.timeZone) !== d.key) return;
  await waitFor(svc, at);
  await svc.presence.busyChanged(d.appId, d.userId);
  // The next change, counted from this one (a retry of this job makes the same, one job by its key).
  await scheduleDndWindow(svc, svc.db, d.appId, d.userId, row, new Date(Math.max(at, svc.clock())));
}
