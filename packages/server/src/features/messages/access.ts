import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { type ChannelAccess, checkRead, rankOf } from '../channels/index.js';
import { SHADOW_VIEWER_ROLES } from '../moderation/index.js';
import type { MessageRow } from './present.js';

/**
 * A message with its channel as the caller sees it, in one query; NOT_FOUND if unreadable.
 * A shadowed message (moderation/shadow.ts) is NOT_FOUND for anyone but its author and
 * moderators, exactly as history leaves it out: fetching, replying, reacting, editing or
 * pinning by id must not tell that it exists.
 */
export async function accessMessage(
  q: Queryable,
  caller: Caller,
  messageId: string,
): Promise<ChannelAccess & { message: MessageRow }> {
  const uid = caller.userId ?? '';
  const [row] = await q
    .select({ message: schema.messages, channel: schema.channels, member: schema.members, user: schema.users })
    .from(schema.messages)
    .innerJoin(
      schema.channels,
      and(eq(schema.channels.appId, schema.messages.appId), eq(schema.channels.cid, schema.messages.cid)),
    )
    .leftJoin(
      schema.members,
      and(
        eq(schema.members.appId, schema.messages.appId),
        eq(schema.members.cid, schema.messages.cid),
        eq(schema.members.userId, uid),
      ),
    )
    .leftJoin(schema.users, and(eq(schema.users.appId, schema.messages.appId), eq(schema.users.id, uid)))
    .where(and(eq(schema.messages.appId, caller.app.id), eq(schema.messages.id, messageId)))
    .limit(1);
  if (!row) throw notFound('Message');
  const a = {
    channel: row.channel,
    member: row.member,
    user: row.user,
    rank: rankOf(caller, row.member, row.user?.role ?? null),
    caller,
    message: row.message,
  };
  try {
    checkRead(a);
  } catch (err) {
    // A ban is said as it is; anything else must not tell the message exists.
    if (err instanceof ApiError && err.code === 'BANNED') throw err;
    throw notFound('Message');
  }
  if (!seesShadowed(caller, row.message, row.user?.role ?? null)) throw notFound('Message');
  return a;
}

/**
 * Whether `caller` may see `message` as far as shadow bans go: it is not shadowed, or theirs,
 * or the caller is an app moderator/admin (`role`, their app role) or the server token. The
 * row-level twin of `shadowVisible` (moderation/shadow.ts), for rows already read.
 */
export function seesShadowed(caller: Caller, message: MessageRow, role: string | null): boolean {
  if (!message.shadowed || caller.kind !== 'user' || !caller.userId) return true;
  if (message.userId === caller.userId) return true;
  return (SHADOW_VIEWER_ROLES as readonly string[]).includes(role ?? '');
}

export async function messageRow(q: Queryable, appId: string, id: string): Promise<MessageRow | null> {
  const [m] = await q
    .select()
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, id)))
    .limit(1);
  return m ?? null;
}
