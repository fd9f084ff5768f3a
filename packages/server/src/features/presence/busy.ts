/**
 * Busy (do not disturb) as presence: a connected user is shown `busy` while their
 * notifications are paused (`dnd_until` in the future, which `presence.set busy` writes) or
 * their daily DND window is open. It lives in the database, not in a node's memory, so every
 * node reads the same answer; the presence sweep re-reads it for connected users, which is
 * how DND changes reach followers without anyone acting if nothing else does: a pause running
 * out and a window opening or closing are announced at their time by jobs
 * (notifications/dnd-end.ts), and the sweep is their net.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { DndPrefs } from '../../realtime/opening.js';
import { inDnd } from '../notifications/index.js';

/** What decides a user's do-not-disturb (realtime/opening.ts: a connection reads it as it opens). */
export type { DndPrefs };

/** Whether these settings (null: none saved) are in do-not-disturb at `now`. */
export const isBusy = (p: DndPrefs | null | undefined, now: Date): boolean => (p ? inDnd(p, now) : false);

/** Which of `userIds` are in do-not-disturb at `now` (one query; none for an empty list). */
export async function busyUsers(
  q: Queryable,
  appId: string,
  userIds: readonly string[],
  now: Date,
): Promise<Set<string>> {
  const prefs = await dndPrefs(q, appId, userIds);
  return new Set(userIds.filter((id) => isBusy(prefs.get(id), now)));
}

/** The DND settings of those of `userIds` who saved any (one query; none for an empty list). */
export async function dndPrefs(
  q: Queryable,
  appId: string,
  userIds: readonly string[],
): Promise<Map<string, DndPrefs>> {
  if (userIds.length === 0) return new Map();
  const s = schema.notificationSettings;
  const rows = await q
    .select({ userId: s.userId, dndUntil: s.dndUntil, dndSchedule: s.dndSchedule, timeZone: s.timeZone })
    .from(s)
    .where(and(eq(s.appId, appId), inArray(s.userId, [...userIds])));
  return new Map(rows.map((r) => [r.userId, r]));
}
