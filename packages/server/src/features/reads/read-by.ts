/**
 * Read-by: who has read a message, and when — derived from the read marks the server keeps
 * anyway (a member has read every message at or below their `last_read_seq`; `last_read_at`
 * is when that mark last moved forward). No row per reader per message: the answer is one
 * indexed read of the channel's members. Answered only in channels of at most
 * `readByMaxMembers` members: in a crowd, a list of readers is noise and costs a row per member.
 * A member who hides their read receipts (privacy.ts) is never listed: they count as not having
 * read it, to everyone but themselves — and they are never asked about their own message's read-by
 * entry, since the author is not listed either.
 */
import type { ReadByResponse } from '@parley/protocol';
import { and, asc, eq, gte, isNull, ne, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { forbidden } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accessMessage } from '../messages/index.js';

/**
 * `GET /v1/messages/{id}/read-by`: the members other than its author whose read mark is at or
 * past the message, earliest reader first. Members only (and the app's server token): a
 * public channel's reader who is not a member may read the history but not who read it.
 */
export async function readBy(svc: Services, caller: Caller, messageId: string): Promise<ReadByResponse> {
  const a = await accessMessage(svc.db, caller, messageId);
  if (caller.kind === 'user' && !a.member) throw forbidden('Only members see who read a message');
  const max = svc.config.readByMaxMembers;
  if (a.channel.memberCount > max || max === 0) return { enabled: false, max_members: max, read_by: [] };
  const m = schema.members;
  const u = schema.users;
  const rows = await svc.db
    .select({ userId: m.userId, readAt: m.lastReadAt })
    .from(m)
    .innerJoin(u, and(eq(u.appId, m.appId), eq(u.id, m.userId)))
    .where(
      and(
        eq(m.appId, caller.app.id),
        eq(m.cid, a.channel.cid),
        gte(m.lastReadSeq, a.message.seq),
        ne(m.userId, a.message.userId),
        isNull(u.readsHiddenRev),
      ),
    )
    .orderBy(sql`${m.lastReadAt} asc nulls first`, asc(m.userId))
    .limit(max);
  return {
    enabled: true,
    max_members: max,
    read_by: rows.map((r) => ({ user_id: r.userId, read_at: r.readAt?.toISOString() ?? null })),
  };
}
