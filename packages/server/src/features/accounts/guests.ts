/**
 * Workspace guests. A guest joins through a guest invite (actions.ts, `createInvite` with
 * `guest`): a workspace member with role `guest` whose chat user has the app role `guest` and a
 * `guest_until`. The chat engine keeps them in their channels (channels/access.ts `isGuest`):
 * they read only channels they are members of, see no other channel in the browser, find only
 * people who share a channel with them in user search, create no channels, and open DMs only
 * with those people. Past `guest_until` (by the server's clock) their sends answer
 * GUEST_LOCKED; they still read. Owners and admins move the expiry (`updateGuest`) or remove
 * the guest like any member.
 *
 * The expiry is kept on the chat user (one place, read by the send path in the same query that
 * loads the channel, so the lock costs no extra round trip). `announceGuestLocks` tells the
 * open clients of guests whose time ran out (`guest.updated`, `locked: true`), once each.
 */
import type { CreateInviteBody, EphemeralEvent } from '@parley/protocol';
import { and, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { addMembers } from '../channels/index.js';
import { accessWorkspace, checkManager } from './access.js';
import type { MemberRow } from './present.js';
import { membersOf } from './queries.js';

const { apps, channels, users, workspaceMembers } = schema;

/** Channel types a guest may be invited to: never DMs (their membership is fixed). */
const GUEST_CHANNEL_TYPES = ['public', 'announcement', 'group'];

/**
 * A guest invite's channels must all be channels of the workspace a guest can join, and its
 * expiry in the future: NOT_FOUND names the first missing channel, VALIDATION_ERROR a past expiry.
 */
export async function checkGuestInvite(
  svc: Services,
  appId: string,
  guest: NonNullable<CreateInviteBody['guest']>,
): Promise<void> {
  if (new Date(guest.expires_at).getTime() <= svc.clock())
    throw new ApiError('VALIDATION_ERROR', 'A guest invite expires in the future', { reason: 'expires_at' });
  const found = await svc.db
    .select({ cid: channels.cid, type: channels.type })
    .from(channels)
    .where(and(eq(channels.appId, appId), inArray(channels.cid, guest.channels)));
  const ok = new Set(found.filter((c) => GUEST_CHANNEL_TYPES.includes(c.type)).map((c) => c.cid));
  const missing = guest.channels.find((cid) => !ok.has(cid));
  if (missing) throw new ApiError('NOT_FOUND', 'Channel not found', { cid: missing });
}

/**
 * Make a guest who just joined a member of its invite's channels, through the channels
 * feature's own action (as the server), so members see `member.added` as for anyone added.
 * It runs after the join committed: a channel archived or deleted meanwhile is skipped (and
 * logged) rather than undoing the join.
 */
export async function addGuestToChannels(svc: Services, appId: string, userId: string, cids: string[]) {
  const [app] = await svc.db.select({ apiKey: apps.apiKey }).from(apps).where(eq(apps.id, appId)).limit(1);
  const ctx = app && (await svc.apps.byKey(app.apiKey));
  if (!ctx) return;
  const server: Caller = { kind: 'server', app: ctx, userId: null };
  for (const cid of cids) {
    try {
      await addMembers(svc, server, cid, [userId]);
    } catch (err) {
      svc.log.warn({ err, appId, cid }, 'could not add a guest to an invite channel');
    }
  }
}

/** The `guest.updated` event of a guest whose expiry is `until`, as of `now`. */
export const guestEvent = (userId: string, until: Date, now: number): EphemeralEvent => ({
  type: 'guest.updated',
  user_id: userId,
  guest_expires_at: until.toISOString(),
  locked: until.getTime() <= now,
  created_at: new Date(now).toISOString(),
});

/**
 * Move a guest's expiry (owners and admins): later lets a locked guest post again, earlier
 * (even to the past) locks them at once. NOT_FOUND for someone who is not a guest of the
 * workspace. The guest's open clients get `guest.updated` after the commit.
 */
export async function updateGuest(
  svc: Services,
  accountId: string,
  appId: string,
  targetAccountId: string,
  expiresAt: string,
): Promise<MemberRow> {
  const until = new Date(expiresAt);
  const row = await svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    checkManager(me);
    const [target] = await membersOf(tx, appId, targetAccountId);
    if (target?.role !== 'guest') throw notFound('Guest');
    await tx
      .update(users)
      .set({ guestUntil: until, updatedAt: sql`now()` })
      .where(and(eq(users.appId, appId), eq(users.id, target.userId)));
    // Locked again later: tell them again then. Already past: told here, not by the sweep.
    const now = svc.clock();
    await tx
      .update(workspaceMembers)
      .set({ guestLockSentAt: until.getTime() <= now ? new Date(now) : null })
      .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, targetAccountId)));
    return { ...target, guestUntil: until };
  });
  svc.bus.publish([{ to: 'user', appId, userId: row.userId, event: guestEvent(row.userId, until, svc.clock()) }]);
  return row;
}

/**
 * Tell every guest whose time ran out (by the server's clock) and who was not told yet:
 * `guest.updated` with `locked: true` to their own connections. Marks them first, in one
 * statement, so two nodes sweeping at once tell each guest once. Returns how many were told.
 */
export async function announceGuestLocks(svc: Services): Promise<number> {
  const now = new Date(svc.clock());
  const due = await svc.db
    .select({ appId: workspaceMembers.appId, accountId: workspaceMembers.accountId })
    .from(workspaceMembers)
    .innerJoin(users, and(eq(users.appId, workspaceMembers.appId), eq(users.id, workspaceMembers.userId)))
    .where(
      and(
        eq(workspaceMembers.role, 'guest'),
        isNull(workspaceMembers.guestLockSentAt),
        isNull(workspaceMembers.deactivatedAt),
        lte(users.guestUntil, now),
      ),
    )
    .limit(500);
  let told = 0;
  for (const d of due) {
    const [marked] = await svc.db
      .update(workspaceMembers)
      .set({ guestLockSentAt: now })
      .where(
        and(
          eq(workspaceMembers.appId, d.appId),
          eq(workspaceMembers.accountId, d.accountId),
          isNull(workspaceMembers.guestLockSentAt),
        ),
      )
      .returning({ userId: workspaceMembers.userId });
    if (!marked) continue;
    const [u] = await svc.db
      .select({ until: users.guestUntil })
      .from(users)
      .where(and(eq(users.appId, d.appId), eq(users.id, marked.userId)));
    if (!u?.until) continue;
    svc.bus.publish([
      { to: 'user', appId: d.appId, userId: marked.userId, event: guestEvent(marked.userId, u.until, now.getTime()) },
    ]);
    told++;
  }
  return told;
}
