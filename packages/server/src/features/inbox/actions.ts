/**
 * The activity inbox as its owner sees it: pages (newest first, by a cursor), the unread
 * count, marking one item or all read. Marking publishes `inbox.updated` with the new count to
 * every connection of the user, so every device's badge follows. Items are written by
 * record.ts only.
 */
import type { InboxFilter, InboxItem, InboxResponse } from '@parley/protocol';
import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { mayReadChannel } from '../channels/index.js';
import { enrichMessages } from '../messages/index.js';
import { publishCounts, unreadCounts } from './record.js';

type Me = Caller & { kind: 'user' };
type ItemRow = typeof schema.inboxItems.$inferSelect;
const t = schema.inboxItems;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const KINDS: Record<Exclude<InboxFilter, 'all' | 'unread'>, string[]> = {
  mentions: ['mention', 'note_mention'],
  threads: ['thread'],
  reactions: ['reaction'],
  tasks: ['task'],
};

function present(r: ItemRow): InboxItem {
  return {
    id: r.id,
    kind: r.kind as InboxItem['kind'],
    via: r.via as InboxItem['via'],
    group_handle: r.groupHandle,
    cid: r.cid,
    message_id: r.messageId,
    parent_id: r.parentId,
    actor_id: r.actorId,
    reaction_type: r.reactionType,
    note_id: r.noteId,
    read: r.readAt !== null,
    created_at: r.createdAt.toISOString(),
  };
}

/** Items with the messages they are about, as the reader may see them now (null when not). */
async function withMessages(svc: Services, me: Me, items: ItemRow[]): Promise<InboxItem[]> {
  const ids = [...new Set(items.map((r) => r.messageId).filter((x): x is string => !!x))];
  const found = ids.length
    ? await svc.db
        .select()
        .from(schema.messages)
        .where(
          and(
            eq(schema.messages.appId, me.app.id),
            inArray(schema.messages.id, ids),
            isNull(schema.messages.deletedAt),
          ),
        )
    : [];
  // Someone who left a private channel keeps the item but no longer sees its message.
  const readable = new Map<string, boolean>();
  for (const cid of new Set(found.map((m) => m.cid))) readable.set(cid, await mayReadChannel(svc.db, me, cid));
  const messages = new Map(
    (
      await enrichMessages(
        svc.db,
        me.app.id,
        me.userId,
        found.filter((m) => readable.get(m.cid)),
      )
    ).map((m) => [m.id, m]),
  );
  // Notes the items name, with their titles for who may still read their channel.
  const noteIds = [...new Set(items.map((r) => r.noteId).filter((x): x is string => !!x))];
  const notes = noteIds.length
    ? await svc.db
        .select({ id: schema.notes.id, cid: schema.notes.cid, title: schema.notes.title })
        .from(schema.notes)
        .where(
          and(eq(schema.notes.appId, me.app.id), inArray(schema.notes.id, noteIds), isNull(schema.notes.deletedAt)),
        )
    : [];
  for (const cid of new Set(notes.map((n) => n.cid).filter((c): c is string => !!c)))
    if (!readable.has(cid)) readable.set(cid, await mayReadChannel(svc.db, me, cid));
  const titles = new Map(notes.filter((n) => n.cid && readable.get(n.cid)).map((n) => [n.id, n.title]));
  return items.map((r) => ({
    ...present(r),
    message: r.messageId ? (messages.get(r.messageId) ?? null) : null,
    ...(r.noteId ? { note_title: titles.get(r.noteId) ?? null } : {}),
  }));
}

export async function listInbox(
  svc: Services,
  me: Me,
  q: { filter?: InboxFilter; limit?: number; cursor?: string },
): Promise<InboxResponse> {
  const limit = q.limit ?? 30;
  if (q.cursor !== undefined && !UUID.test(q.cursor)) throw invalid('cursor is not a cursor of this list');
  const conds = [eq(t.appId, me.app.id), eq(t.userId, me.userId)];
  const filter = q.filter ?? 'all';
  if (filter === 'unread') conds.push(isNull(t.readAt));
  else if (filter !== 'all') conds.push(inArray(t.kind, KINDS[filter]));
  if (q.cursor) conds.push(lt(t.id, q.cursor));
  const found = await svc.db
    .select()
    .from(t)
    .where(and(...conds))
    .orderBy(desc(t.id))
    .limit(limit + 1);
  const page = found.slice(0, limit);
  const counts = await unreadCounts(svc, me.app.id, [me.userId]);
  return {
    items: await withMessages(svc, me, page),
    next: found.length > limit ? ((page[page.length - 1] as ItemRow).id ?? null) : null,
    unread_count: counts.get(me.userId) ?? 0,
  };
}

export async function inboxCount(svc: Services, me: Me): Promise<number> {
  return (await unreadCounts(svc, me.app.id, [me.userId])).get(me.userId) ?? 0;
}

/** Mark one item read (idempotent); every device hears the new count. */
export async function markItemRead(svc: Services, me: Me, id: string, read = true) {
  const [row] = await svc.db
    .update(t)
    .set({ readAt: read ? sql`coalesce(${t.readAt}, now())` : null })
    .where(and(eq(t.appId, me.app.id), eq(t.userId, me.userId), eq(t.id, id)))
    .returning();
  if (!row) throw notFound('Inbox item');
  const counts = await publishCounts(
    svc,
    me.app.id,
    [me.userId],
    new Map(),
    new Map(),
    read ? new Map([[me.userId, [row.id]]]) : new Map(),
  );
  const [item] = await withMessages(svc, me, [row]);
  return { item: item as InboxItem, unread_count: counts.get(me.userId) ?? 0 };
}

/** Mark every item read; every device hears the count (0). */
export async function markAllRead(svc: Services, me: Me): Promise<void> {
  await svc.db
    .update(t)
    .set({ readAt: sql`now()` })
    .where(and(eq(t.appId, me.app.id), eq(t.userId, me.userId), isNull(t.readAt)));
  await publishCounts(svc, me.app.id, [me.userId]);
}
