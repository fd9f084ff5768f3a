/**
 * Channel permissions, in one place to audit. Each `access*` is an authorized fetch: it
 * returns the rows or throws a typed error. A caller who may not know a private channel
 * exists gets NOT_FOUND, never FORBIDDEN.
 *
 * Powers, from most to least: the server token and app admins (everything), channel owner,
 * channel admin, moderator (and app moderators), member. Public and announcement channels are
 * readable and joinable by everyone in the app; groups and DMs only by their members.
 */
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { checkCan, isGuest, type PermissionSubject } from '../permissions/index.js';
import type { UserRow } from '../users/index.js';
import type { ChannelRow, MemberRow } from './present.js';

export const RANK = { member: 0, moderator: 1, admin: 2, owner: 3 } as const;
export type Rank = (typeof RANK)[keyof typeof RANK];
const APP_RANK: Record<string, number> = { admin: RANK.owner, moderator: RANK.moderator };

/** A channel seen by one caller. */
export interface ChannelAccess {
  channel: ChannelRow;
  member: MemberRow | null;
  /** The caller's user row (null for server callers). */
  user: UserRow | null;
  /** The caller's power here: -1 for a non-member without app-wide powers. */
  rank: number;
  caller: Caller;
}

export { isGuest };

export function rankOf(caller: Caller, member: { role: string } | null, appRole: string | null): number {
  if (caller.kind === 'server') return RANK.owner;
  const own = member ? (RANK[member.role as keyof typeof RANK] ?? 0) : -1;
  return Math.max(own, APP_RANK[appRole ?? ''] ?? -1);
}

/** Load a channel with the caller's membership and app role, in one query. */
export async function loadChannel(
  q: Queryable,
  caller: Caller,
  cid: string,
  lock = false,
): Promise<ChannelAccess | null> {
  const uid = caller.userId ?? '';
  const query = q
    .select({ channel: schema.channels, member: schema.members, user: schema.users })
    .from(schema.channels)
    .leftJoin(
      schema.members,
      and(
        eq(schema.members.appId, schema.channels.appId),
        eq(schema.members.cid, schema.channels.cid),
        eq(schema.members.userId, uid),
      ),
    )
    .leftJoin(schema.users, and(eq(schema.users.appId, schema.channels.appId), eq(schema.users.id, uid)))
    .where(and(eq(schema.channels.appId, caller.app.id), eq(schema.channels.cid, cid)))
    .limit(1);
  const [row] = lock ? await query.for('update', { of: schema.channels }) : await query;
  if (!row) return null;
  return {
    channel: row.channel,
    member: row.member,
    user: row.user,
    rank: rankOf(caller, row.member, row.user?.role ?? null),
    caller,
  };
}

/** Read: members, anyone for public and announcement channels, staff everywhere. */
export async function accessChannelRead(
  q: Queryable,
  caller: Caller,
  cid: string,
  lock = false,
): Promise<ChannelAccess> {
  const a = await loadChannel(q, caller, cid, lock);
  if (!a) throw notFound('Channel');
  checkRead(a);
  return a;
}

/**
 * Whether `caller` may read `cid` now — `accessChannelRead` as a yes or no, for the gateway's
 * question after a removal (may a watch outlive the membership?). A refusal is false; a
 * database failure still throws.
 */
export async function mayReadChannel(q: Queryable, caller: Caller, cid: string): Promise<boolean> {
  try {
    await accessChannelRead(q, caller, cid);
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) return false;
    throw err;
  }
}

/** Read: members, anyone for public and announcement channels, staff everywhere (permissions/policy.ts). */
export function checkRead(a: ChannelAccess): void {
  checkCan(a, 'read-channel');
}

/**
 * Post messages: `send-message` of the permission model (membership, archive, frozen,
 * announcement, guest lock and app ban included). A guest whose `guest_until` has passed (by
 * `now`, the server's clock) reads but does not post.
 */
export function checkPost(a: PermissionSubject, now: number = Date.now()): void {
  checkCan(a, 'send-message', now);
}

/** GUEST_LOCKED for a guest whose time to post has run out. */
export function checkGuestActive(user: UserRow | null, now: number): void {
  if (isGuest(user) && user?.guestUntil && user.guestUntil.getTime() <= now)
    throw new ApiError('GUEST_LOCKED', 'Your guest access has expired: you can read, but not post', {
      guest_expires_at: user.guestUntil.toISOString(),
    });
}

/** React: `send-reaction` (announcement readers may react; `reactions: open` lets non-members). */
export function checkReact(a: ChannelAccess, now: number = Date.now()): void {
  checkCan(a, 'send-reaction', now);
}

/** Invite people: `add-members`. */
export function checkInvite(a: ChannelAccess): void {
  checkCan(a, 'add-members');
}

export async function memberRow(q: Queryable, appId: string, cid: string, userId: string): Promise<MemberRow | null> {
  const [m] = await q
    .select()
    .from(schema.members)
    .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, userId)))
    .limit(1);
  return m ?? null;
}
