/**
 * Reading messages: channel history and thread replies, paginated by seq. A user's pages leave
 * out the messages of users they muted (moderation/mutes.ts).
 */
import type { HistoryQuery, Message } from '@parley/protocol';
import { and, asc, desc, eq, gt, isNotNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/index.js';
import { notMutedBy, shadowVisible } from '../moderation/index.js';
import { accessMessage } from './access.js';
import { enrichMessages } from './actions.js';
import type { MessageRow } from './present.js';

const m = schema.messages;

/**
 * One page, ascending by seq: no cursor → the latest `limit`; `before` → the `limit` just
 * before; `after` → the `limit` just after; `around` (a message id) → that message in the
 * middle of its neighbours.
 */
async function page(svc: Services, caller: Caller, scope: SQL, q: HistoryQuery): Promise<Message[]> {
  const limit = q.limit ?? 50;
  const set = [q.before, q.after, q.around].filter((v) => v !== undefined).length;
  if (set > 1) throw invalid('Use at most one of before, after and around');
  // A muted author's messages are left out of the muter's pages (moderation/mutes.ts).
  // So are shadowed messages (moderation/shadow.ts), but for their author and moderators.
  const base = and(
    eq(m.appId, caller.app.id),
    scope,
    notMutedBy(caller.app.id, caller.userId, m.userId),
    shadowVisible(caller, sql`${m.shadowed}`, sql`${m.userId}`),
  );
  let rows: MessageRow[];
  if (q.around !== undefined) {
    // A seq names the message at it, or else the last one before it (a seq may be a reaction's).
    const bySeq = /^[0-9]+$/.test(q.around) ? Number(q.around) : null;
    const [mid] =
      bySeq === null
        ? await svc.db
            .select()
            .from(m)
            .where(and(base, eq(m.id, q.around)))
        : await svc.db
            .select()
            .from(m)
            .where(and(base, lte(m.seq, bySeq)))
            .orderBy(desc(m.seq))
            .limit(1);
    if (!mid) throw notFound('Message');
    const half = Math.floor((limit - 1) / 2);
    const older = await svc.db
      .select()
      .from(m)
      .where(and(base, lt(m.seq, mid.seq)))
      .orderBy(desc(m.seq))
      .limit(half);
    const newer = await svc.db
      .select()
      .from(m)
      .where(and(base, gt(m.seq, mid.seq)))
      .orderBy(asc(m.seq))
      .limit(limit - 1 - half);
    rows = [...older.reverse(), mid, ...newer];
  } else if (q.after !== undefined) {
    rows = await svc.db
      .select()
      .from(m)
      .where(and(base, gt(m.seq, q.after)))
      .orderBy(asc(m.seq))
      .limit(limit);
  } else {
    const cond = q.before !== undefined ? and(base, lt(m.seq, q.before)) : base;
    rows = (await svc.db.select().from(m).where(cond).orderBy(desc(m.seq)).limit(limit)).reverse();
  }
  return enrichMessages(svc.db, caller.app.id, caller.userId, rows);
}

/** Channel history: top-level messages and replies also shown in the channel. */
export async function listMessages(svc: Services, caller: Caller, cid: string, q: HistoryQuery) {
  await accessChannelRead(svc.db, caller, cid);
  return page(svc, caller, and(eq(m.cid, cid), or(sql`${m.parentId} is null`, eq(m.showInChannel, true))) as SQL, q);
}

/** Replies of a thread parent, paginated the same way. */
export async function listReplies(svc: Services, caller: Caller, parentId: string, q: HistoryQuery) {
  const a = await accessMessage(svc.db, caller, parentId);
  return page(svc, caller, and(eq(m.cid, a.channel.cid), eq(m.parentId, parentId)) as SQL, q);
}

/** One message. */
export async function getMessage(svc: Services, caller: Caller, id: string) {
  const a = await accessMessage(svc.db, caller, id);
  return (await enrichMessages(svc.db, caller.app.id, caller.userId, [a.message]))[0] as Message;
}

/** Pinned messages of a channel, most recently pinned first. */
export async function listPinned(svc: Services, caller: Caller, cid: string) {
  await accessChannelRead(svc.db, caller, cid);
  const rows = await svc.db
    .select()
    .from(m)
    .where(
      and(
        eq(m.appId, caller.app.id),
        eq(m.cid, cid),
        isNotNull(m.pinnedAt),
        // An author may pin their own shadowed message; only they and moderators see it pinned.
        shadowVisible(caller, sql`${m.shadowed}`, sql`${m.userId}`),
      ),
    )
    .orderBy(desc(m.pinnedAt))
    .limit(200);
  return enrichMessages(svc.db, caller.app.id, caller.userId, rows);
}

/** Earlier versions of an edited message, oldest first. */
export async function listVersions(svc: Services, caller: Caller, id: string) {
  await accessMessage(svc.db, caller, id);
  const rows = await svc.db
    .select()
    .from(schema.messageVersions)
    .where(and(eq(schema.messageVersions.appId, caller.app.id), eq(schema.messageVersions.messageId, id)))
    .orderBy(asc(schema.messageVersions.version));
  return rows.map((r) => ({ version: r.version, text: r.text, created_at: r.createdAt.toISOString() }));
}
