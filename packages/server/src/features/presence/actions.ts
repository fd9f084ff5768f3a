/**
 * Choosing a presence. `busy` is do-not-disturb: it pauses the caller's notifications (their
 * `dnd_until`, the same pause the notification settings set) until `until` or until they come
 * back `online`, so being shown busy and not being pinged are one switch, never two that drift.
 */
import { and, eq, gt } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { DND_FOREVER, scheduleDndEnd } from '../notifications/index.js';
import type { ShownState } from './presence.js';

/** Set the caller's presence; answers what others now see of them. */
export async function setPresence(
  svc: Services,
  me: Caller & { kind: 'user' },
  presence: 'online' | 'away' | 'busy',
  until?: string,
): Promise<ShownState> {
  const appId = me.app.id;
  const now = svc.clock();
  if (until !== undefined && presence !== 'busy') throw invalid('until: only with presence busy');
  const end = until === undefined ? DND_FOREVER : new Date(until);
  if (Number.isNaN(end.getTime()) || end.getTime() <= now) throw invalid('until: must be a time in the future');
  const s = schema.notificationSettings;
  if (presence === 'busy') {
    const set = { dndUntil: end, updatedAt: new Date(now) };
    await svc.db.transaction(async (tx) => {
      await tx
        .insert(s)
        .values({ appId, userId: me.userId, ...set })
        .onConflictDoUpdate({ target: [s.appId, s.userId], set });
      // Busy until a time goes back at that time, announced by a job (not at the next sweep).
      await scheduleDndEnd(svc, tx, appId, me.userId, end);
    });
  } else {
    // Back online ends a chosen pause; a daily DND window keeps them busy while it is open.
    if (presence === 'online')
      await svc.db
        .update(s)
        .set({ dndUntil: null, updatedAt: new Date(now) })
        .where(and(eq(s.appId, appId), eq(s.userId, me.userId), gt(s.dndUntil, new Date(now))));
    svc.presence.set(appId, me.userId, presence);
  }
  await svc.presence.busyChanged(appId, me.userId);
  return (await svc.presence.statesOf(appId, [me.userId])).get(me.userId) ?? 'offline';
}
