/**
 * A user's notification preferences: read with defaults, changed in one statement each.
 * These writes change nothing other people see, so they publish no event.
 */
import type {
  ChannelNotifyLevel,
  NotificationSettings,
  NotifyLevel,
  UpdateNotificationSettingsBody,
} from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { memberRow } from '../channels/index.js';
import { inDnd, isTimeZone } from './decide.js';
import { scheduleDndEnd, scheduleDndWindow } from './dnd-end.js';

type SettingsRow = typeof schema.notificationSettings.$inferSelect;

export async function settingsRow(q: Queryable, appId: string, userId: string): Promise<SettingsRow> {
  const [row] = await q
    .select()
    .from(schema.notificationSettings)
    .where(and(eq(schema.notificationSettings.appId, appId), eq(schema.notificationSettings.userId, userId)));
  return (
    row ?? {
      appId,
      userId,
      level: 'mentions',
      timeZone: 'UTC',
      dndUntil: null,
      dndSchedule: null,
      emailDigest: true,
      lastDigestAt: null,
      updatedAt: new Date(0),
    }
  );
}

export async function presentSettings(svc: Services, appId: string, userId: string): Promise<NotificationSettings> {
  const row = await settingsRow(svc.db, appId, userId);
  const channels = await svc.db
    .select({ cid: schema.channelNotificationSettings.cid, level: schema.channelNotificationSettings.level })
    .from(schema.channelNotificationSettings)
    .where(
      and(eq(schema.channelNotificationSettings.appId, appId), eq(schema.channelNotificationSettings.userId, userId)),
    )
    .orderBy(schema.channelNotificationSettings.cid);
  const now = new Date(svc.clock());
  return {
    level: row.level as NotifyLevel,
    time_zone: row.timeZone,
    dnd_until: row.dndUntil && row.dndUntil.getTime() > now.getTime() ? row.dndUntil.toISOString() : null,
    dnd_schedule: row.dndSchedule ?? null,
    dnd_active: inDnd(row, now),
    email_digest: row.emailDigest,
    channels: channels.map((c) => ({ cid: c.cid, level: c.level as NotifyLevel })),
  };
}

export async function updateSettings(
  svc: Services,
  me: Caller & { kind: 'user' },
  body: UpdateNotificationSettingsBody,
): Promise<NotificationSettings> {
  const appId = me.app.id;
  if (body.time_zone !== undefined && !isTimeZone(body.time_zone))
    throw invalid(
      `time_zone: "${body.time_zone}" is not a time zone this server knows (an IANA name like Europe/Paris)`,
    );
  if (body.dnd_until !== undefined && body.dnd_minutes !== undefined)
    throw invalid('Give dnd_until or dnd_minutes, not both');
  const set: Partial<SettingsRow> = { updatedAt: new Date() };
  if (body.level !== undefined) set.level = body.level;
  if (body.time_zone !== undefined) set.timeZone = body.time_zone;
  if (body.dnd_until !== undefined) {
    const until = body.dnd_until === null ? null : new Date(body.dnd_until);
    if (until && Number.isNaN(until.getTime())) throw invalid('dnd_until is not a time');
    set.dndUntil = until;
  }
  if (body.dnd_minutes !== undefined)
    set.dndUntil = body.dnd_minutes === 0 ? null : new Date(svc.clock() + body.dnd_minutes * 60_000);
  if (body.dnd_schedule !== undefined) {
    const s = body.dnd_schedule;
    if (s && s.start === s.end) throw invalid('dnd_schedule: start and end must differ');
    set.dndSchedule = s
      ? { start: s.start, end: s.end, ...(s.days ? { days: [...new Set(s.days)].sort() } : {}) }
      : null;
  }
  if (body.email_digest !== undefined) set.emailDigest = body.email_digest;
  await svc.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schema.notificationSettings)
      .values({ appId, userId: me.userId, ...set })
      .onConflictDoUpdate({
        target: [schema.notificationSettings.appId, schema.notificationSettings.userId],
        set,
      })
      .returning();
    // A pause's end, a window's opening or closing: announced at their time (dnd-end.ts), not at
    // the next busy sweep.
    await scheduleDndEnd(svc, tx, appId, me.userId, set.dndUntil);
    if (row && (body.dnd_schedule !== undefined || body.time_zone !== undefined))
      await scheduleDndWindow(svc, tx, appId, me.userId, row);
  });
  // Pausing or a DND window shows as busy: followers hear it now, not at the next sweep.
  if (body.dnd_until !== undefined || body.dnd_minutes !== undefined || body.dnd_schedule !== undefined)
    await svc.presence.busyChanged(appId, me.userId);
  return presentSettings(svc, appId, me.userId);
}

/** Set (or, with `default`, clear) the caller's level for a channel they are a member of. */
export async function setChannelLevel(
  svc: Services,
  me: Caller & { kind: 'user' },
  cid: string,
  level: ChannelNotifyLevel,
): Promise<{ cid: string; level: ChannelNotifyLevel }> {
  const appId = me.app.id;
  if (!(await memberRow(svc.db, appId, cid, me.userId))) throw notFound('Channel');
  const key = and(
    eq(schema.channelNotificationSettings.appId, appId),
    eq(schema.channelNotificationSettings.userId, me.userId),
    eq(schema.channelNotificationSettings.cid, cid),
  );
  if (level === 'default') await svc.db.delete(schema.channelNotificationSettings).where(key);
  else
    await svc.db
      .insert(schema.channelNotificationSettings)
      .values({ appId, userId: me.userId, cid, level })
      .onConflictDoUpdate({
        target: [
          schema.channelNotificationSettings.appId,
          schema.channelNotificationSettings.userId,
          schema.channelNotificationSettings.cid,
        ],
        set: { level },
      });
  return { cid, level };
}
