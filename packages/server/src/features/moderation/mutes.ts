/**
 * Personal mutes: a user mutes another and stops seeing their messages. The server leaves a
 * muted author's messages out of the muter's history reads (channel history, replies, search)
 * and unread counts (reads/queries.ts); live `message.new` frames are one frame per channel
 * for every subscriber (realtime/hub.ts), so the SDK drops a muted author's live messages
 * while still advancing the channel's seq (packages/client ingest.ts), and no gap opens.
 *
 * A mute is not moderation: it is not audited and nobody is told, the muted user included.
 */
import type { Mute } from '@parley/protocol';
import { and, desc, eq, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';

const t = schema.userMutes;

/** The most users one user may mute (the history filter stays one indexed anti-join). */
export const MAX_MUTES = 1000;

type MuteRow = typeof t.$inferSelect;

function present(r: MuteRow): Mute {
  return { user_id: r.mutedUserId, created_at: r.createdAt.toISOString() };
}

function userIdOf(caller: Caller): string {
  if (!caller.userId) throw invalid('Mutes belong to a user: call with a user token');
  return caller.userId;
}

/** Mute `mutedId` for the caller; muting again answers the standing mute. */
export async function muteUser(svc: Services, caller: Caller, mutedId: string): Promise<{ mute: Mute }> {
  const appId = caller.app.id;
  const me = userIdOf(caller);
  if (mutedId === me) throw invalid('You cannot mute yourself');
  const [target] = await svc.db
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, mutedId)))
    .limit(1);
  if (!target) throw notFound('User');
  const [existing] = await svc.db
    .select()
    .from(t)
    .where(and(eq(t.appId, appId), eq(t.userId, me), eq(t.mutedUserId, mutedId)))
    .limit(1);
  if (existing) return { mute: present(existing) };
  const [{ n } = { n: 0 }] = await svc.db
    .select({ n: sql<number>`count(*)::int` })
    .from(t)
    .where(and(eq(t.appId, appId), eq(t.userId, me)));
  if (Number(n) >= MAX_MUTES) throw invalid(`You can mute at most ${MAX_MUTES} users`);
  const [row] = await svc.db
    .insert(t)
    .values({ appId, userId: me, mutedUserId: mutedId, createdAt: new Date(svc.clock()) })
    .onConflictDoUpdate({ target: [t.appId, t.userId, t.mutedUserId], set: { mutedUserId: mutedId } })
    .returning();
  // Their messages leave the caller's unread counts in every channel (features/reads pushes them).
  svc.unread.user(appId, me, '*');
  return { mute: present(row as MuteRow) };
}

/** Lift a mute; NOT_FOUND when the caller had not muted that user. */
export async function unmuteUser(svc: Services, caller: Caller, mutedId: string): Promise<{ mute: Mute }> {
  const appId = caller.app.id;
  const me = userIdOf(caller);
  const [gone] = await svc.db
    .delete(t)
    .where(and(eq(t.appId, appId), eq(t.userId, me), eq(t.mutedUserId, mutedId)))
    .returning();
  if (!gone) throw notFound('Mute');
  svc.unread.user(appId, me, '*');
  return { mute: present(gone) };
}

/** The caller's mutes, newest first. */
export async function listMutes(svc: Services, caller: Caller): Promise<{ mutes: Mute[] }> {
  const me = userIdOf(caller);
  const rows = await svc.db
    .select()
    .from(t)
    .where(and(eq(t.appId, caller.app.id), eq(t.userId, me)))
    .orderBy(desc(t.createdAt))
    .limit(MAX_MUTES);
  return { mutes: rows.map(present) };
}

/**
 * SQL: the message at alias `alias` is not by someone `userId` muted (undefined for callers
 * without a user, who mute nobody). For history reads and search.
 */
export function notMutedBy(appId: string, userId: string | null, column: SQLWrapper): SQL | undefined {
  if (!userId) return undefined;
  return sql`not exists (select 1 from ${t} mu where mu.app_id = ${appId} and mu.user_id = ${userId} and mu.muted_user_id = ${column})`;
}
