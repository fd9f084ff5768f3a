/**
 * Shadow bans (app-wide; `users.shadow_banned` mirrors the standing ban and comes with the
 * author's row in every send's access read, so a send costs no extra query): a shadow-banned
 * user goes on posting and sees no difference, but each new message of theirs is stored with
 * `messages.shadowed` and its logged events carry
 * `channel_events.shadow_of` (the author). Only the author and app moderators/admins (and the
 * server token) see such messages: history, replies, search, the event log's replays (REST
 * `GET …/events`, `channel.watch {since}`, the connect catch-up) and live delivery leave them
 * out for everyone else, and they count in no one's unread counts. Mentions, pushes, the email
 * digest and webhooks skip them.
 *
 * Seq contiguity: a shadowed event keeps its seq. A connection that may not see it advances
 * its subscription past the seq without sending (realtime/subscription.ts); a client then sees
 * the next event one seq further on, fills that "gap" from `GET …/events`, which leaves the
 * shadowed event out and answers `last_seq`, and the SDK moves its seq to it (ingest.ts), so
 * nothing stalls.
 */
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';

/** The app roles that see shadowed messages. */
export const SHADOW_VIEWER_ROLES = ['moderator', 'admin'] as const;

/**
 * SQL over a messages alias: the row is visible to `caller` (not shadowed, theirs, or the
 * caller is an app moderator/admin or the server token). `shadowed` and `userId` are the
 * alias's columns.
 */
export function shadowVisible(caller: Caller, shadowed: SQL, author: SQL): SQL | undefined {
  if (caller.kind !== 'user' || !caller.userId) return undefined;
  return sql`(not ${shadowed} or ${author} = ${caller.userId} or exists (select 1 from ${schema.users} su
    where su.app_id = ${caller.app.id} and su.id = ${caller.userId} and su.role in ('moderator', 'admin')))`;
}

/** Whether `caller` sees every shadowed message (app moderators and admins, the server token). */
export async function seesAllShadowed(q: Queryable, caller: Caller): Promise<boolean> {
  if (caller.kind !== 'user' || !caller.userId) return true;
  const [u] = await q
    .select({ role: schema.users.role })
    .from(schema.users)
    .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId)))
    .limit(1);
  return (SHADOW_VIEWER_ROLES as readonly string[]).includes(u?.role ?? '');
}
