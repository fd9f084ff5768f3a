/**
 * The moderation queue's rows and who hears of them: filing a flag (a user's report or
 * automod's) and telling the app's moderators. Kept apart from actions.ts (which reviews flags
 * with the message and channel actions) so the send path can file automod flags without an
 * import cycle.
 */
import type { Flag, ServerEvent } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { Outbox } from '../../platform/event-log.js';

export type FlagRow = typeof schema.moderationFlags.$inferSelect;

export function presentFlag(r: FlagRow): Flag {
  return {
    id: r.id,
    message_id: r.messageId,
    cid: r.cid,
    user_id: r.userId,
    reported_by: r.reportedBy,
    reason: r.reason,
    text: r.text,
    status: r.status as Flag['status'],
    reviewed_by: r.reviewedBy,
    reviewed_at: r.reviewedAt?.toISOString() ?? null,
    created_at: r.createdAt.toISOString(),
  };
}

/** The app's moderators and admins (app roles): who hears of bans and new flags. */
export async function appModerators(q: Queryable, appId: string): Promise<string[]> {
  const rows = await q
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), inArray(schema.users.role, ['admin', 'moderator'])))
    .limit(1000);
  return rows.map((r) => r.id);
}

/** Queue one event to each of the app's moderators. */
export async function toModerators(q: Queryable, out: Outbox, appId: string, event: ServerEvent): Promise<void> {
  for (const userId of await appModerators(q, appId)) out.push({ to: 'user', appId, userId, event });
}

/**
 * Insert a flag (one open report per reporter and subject: a repeat answers the open one) and
 * queue `flag.new` to the moderators. Returns the stored flag.
 */
export async function insertFlag(
  q: Queryable,
  out: Outbox,
  appId: string,
  f: {
    messageId: string | null;
    cid: string | null;
    userId: string;
    reportedBy: string | null;
    reason: string;
    text: string | null;
  },
): Promise<FlagRow> {
  const [row] = await q
    .insert(schema.moderationFlags)
    .values({ appId, id: uuidv7(), ...f })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    const [open] = await q
      .select()
      .from(schema.moderationFlags)
      .where(
        and(
          eq(schema.moderationFlags.appId, appId),
          eq(schema.moderationFlags.status, 'open'),
          eq(schema.moderationFlags.userId, f.userId),
          f.reportedBy === null ? undefined : eq(schema.moderationFlags.reportedBy, f.reportedBy),
          f.messageId === null ? undefined : eq(schema.moderationFlags.messageId, f.messageId),
        ),
      )
      .limit(1);
    return open as FlagRow;
  }
  await toModerators(q, out, appId, {
    type: 'flag.new',
    flag: presentFlag(row),
    created_at: row.createdAt.toISOString(),
  });
  return row;
}

/** File a flag outside any transaction and publish its events. */
export async function fileFlag(svc: Infra, appId: string, f: Parameters<typeof insertFlag>[3]): Promise<FlagRow> {
  const out: Outbox = [];
  const row = await insertFlag(svc.db, out, appId, f);
  svc.bus.publish(out);
  return row;
}
