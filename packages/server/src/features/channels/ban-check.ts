/**
 * The channel-ban check of joins and adds. Bans are features/moderation's, which sits above
 * channels (a ban removes the member through channels' actions); the check of them that a join
 * makes is here, where it is made.
 */
import { and, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';

/** BANNED if any of `userIds` has a standing ban in `cid` (or app-wide); shadow bans block nothing. One query. */
export async function checkNotBanned(
  q: Queryable,
  appId: string,
  cid: string,
  userIds: string[],
  now: number,
): Promise<void> {
  if (userIds.length === 0) return;
  const [ban] = await q
    .select()
    .from(schema.bans)
    .where(
      and(
        eq(schema.bans.appId, appId),
        inArray(schema.bans.userId, userIds),
        inArray(schema.bans.cid, [cid, '']),
        eq(schema.bans.shadow, false),
        or(isNull(schema.bans.expiresAt), gt(schema.bans.expiresAt, new Date(now))),
      ),
    )
    .limit(1);
  if (ban)
    throw new ApiError('BANNED', `${ban.userId} is banned from ${ban.cid ? 'this channel' : 'this app'}`, {
      user_id: ban.userId,
      cid: ban.cid || null,
      reason: ban.reason,
      expires_at: ban.expiresAt?.toISOString() ?? null,
    });
}
