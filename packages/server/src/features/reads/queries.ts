/**
 * Unread state is derived from seq, never counted up and down: a member's unread count is
 * the number of regular messages from others, in the channel view, after their
 * `last_read_seq`. Deleted messages drop out by themselves, so counts cannot drift; so do the
 * messages of users the member muted (a mute or unmute changes the count at once, both ways).
 */
import { sql } from 'drizzle-orm';
import { type Queryable, rows, schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';

/** SQL: message `x` is not by a user member `m` muted (moderation/mutes.ts): it counts for no one who muted its author. */
const notMutedExpr = sql`not exists (select 1 from ${schema.userMutes} mu
    where mu.app_id = m.app_id and mu.user_id = m.user_id and mu.muted_user_id = x.user_id)`;

/** SQL text: message `x` counts toward unread counts at all: regular, in the channel view, not shadowed. */
export const COUNTABLE = `x.type = 'regular' and (x.parent_id is null or x.show_in_channel) and not x.shadowed`;
const countable = sql.raw(COUNTABLE);

/** SQL: message `x` counts as unread for member row alias `m` (needs m.app_id, m.cid, m.user_id, m.last_read_seq). */
const countsFor = sql`x.app_id = m.app_id and x.cid = m.cid and x.seq > m.last_read_seq
    and x.user_id <> m.user_id and ${countable} and ${notMutedExpr}`;

/** SQL: message `x` mentions member `m`: flagged for them, or @channel. */
const mentionsMember = sql`(x.mentioned_channel or exists (select 1 from ${schema.userMessageFlags} f
      where f.app_id = x.app_id and f.user_id = m.user_id and f.message_id = x.id and f.mentioned))`;

/**
 * SQL: both counts of member row alias `m` in one pass over its unread messages, as a LATERAL
 * subquery's columns `unread` and `mentions`.
 */
export const countsExpr = sql`(select count(*)::int as unread, (count(*) filter (where ${mentionsMember}))::int as mentions
    from ${schema.messages} x where ${countsFor})`;

/** A member's counts in one channel, with the channel's last seq they stand at (one snapshot). */
export async function unreadOf(
  q: Queryable,
  appId: string,
  cid: string,
  userId: string,
): Promise<{ unread: number; mentions: number; lastSeq: number }> {
  const r = await rows<{ unread: number; mentions: number; last_seq: number | string }>(
    q,
    sql`
    select u.unread, u.mentions, c.last_seq from ${schema.members} m
    join ${schema.channels} c on c.app_id = m.app_id and c.cid = m.cid, lateral ${countsExpr} u
    where m.app_id = ${appId} and m.cid = ${cid} and m.user_id = ${userId}`,
  );
  const row = r[0];
  return {
    unread: Number(row?.unread ?? 0),
    mentions: Number(row?.mentions ?? 0),
    lastSeq: Number(row?.last_seq ?? 0),
  };
}

/**
 * A new revision of unread counts (push.ts): take it in a statement of its own before reading
 * the counts it goes with, so a larger revision always comes with a later snapshot.
 */
export async function takeUnreadRev(svc: Services): Promise<number> {
  const [r] = await rows<{ rev: number | string }>(svc.db, sql`select nextval('member_read_rev') as rev`);
  return Number(r?.rev ?? 0);
}

/**
 * A user's totals across channels; muted channels do not count toward them. `rev` orders them
 * against `unread.updated` (push.ts): taken before the read, as a push's is.
 */
export async function unreadTotals(svc: Services, appId: string, userId: string) {
  const rev = await takeUnreadRev(svc);
  const r = await rows<{ total: number; mentions: number; channels: number }>(
    svc.db,
    sql`
    select coalesce(sum(u.unread), 0)::int as total, coalesce(sum(u.mentions), 0)::int as mentions,
           count(*) filter (where u.unread > 0)::int as channels
    from ${schema.members} m, lateral ${countsExpr} u
    where m.app_id = ${appId} and m.user_id = ${userId} and not m.muted`,
  );
  const row = r[0];
  return {
    total: Number(row?.total ?? 0),
    mentions: Number(row?.mentions ?? 0),
    channels: Number(row?.channels ?? 0),
    rev,
  };
}
