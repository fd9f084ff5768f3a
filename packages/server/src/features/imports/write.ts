/**
 * What every import does with the messages it adds to a channel, once the channel and its
 * members exist (slack.ts, mattermost.ts): seqs in time order after what the channel holds, the
 * thread fields of parents an earlier run stored, the rows with their log events, files,
 * reactions and mention flags, and the members' read marks past it all (imported history is
 * read).
 */
import { createHash } from 'node:crypto';
import type { ChannelEvent } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import { type Queryable, schema } from '../../platform/db/index.js';
import { logEvents, type Outbox, takeSeqs } from '../../platform/event-log.js';
import type { FileRow } from '../files/index.js';
import { type MessageRow, presentMessage } from '../messages/index.js';

export interface FreshMessages {
  /** The new messages, in time order; their seqs are taken here. */
  fresh: MessageRow[];
  /** The newest in-channel message's time, for the channel's `last_message_at`. */
  lastAt: Date | null;
  /** Ids of the messages of this channel an earlier run stored. */
  stored: ReadonlySet<string>;
  files: FileRow[];
  reactions: (typeof schema.reactions.$inferInsert)[];
  /** People mentioned by a message (each gets a mention flag on it). */
  mentions: readonly { userId: string; messageId: string }[];
  /** A stored parent's thread participants once `replies` are added, as the import counts them. */
  participants(parent: MessageRow, replies: readonly MessageRow[]): string[];
}

export async function writeFreshMessages(q: Queryable, appId: string, cid: string, w: FreshMessages): Promise<void> {
  const { fresh } = w;
  const first = await takeSeqs(q, appId, cid, fresh.length, w.lastAt ?? undefined);
  fresh.forEach((r, i) => {
    r.seq = first + i;
  });
  // Replies to a parent an earlier run stored (a later export): the parent's thread fields move,
  // and the last such reply's event carries it, as a live reply's does.
  const lastReplyTo = new Map<string, MessageRow>(); // stored parent id → its last fresh reply
  for (const r of fresh) if (r.parentId && w.stored.has(r.parentId)) lastReplyTo.set(r.parentId, r);
  const parents = new Map<string, MessageRow>();
  for (const [parentId, last] of lastReplyTo) {
    const [p] = await q
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, parentId)));
    if (!p) continue;
    const replies = fresh.filter((r) => r.parentId === parentId);
    const [updated] = await q
      .update(schema.messages)
      .set({
        replyCount: p.replyCount + replies.length,
        lastReplyAt: p.lastReplyAt && p.lastReplyAt > last.createdAt ? p.lastReplyAt : last.createdAt,
        threadParticipants: w.participants(p, replies),
      })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, parentId)))
      .returning();
    if (updated) parents.set(last.id, updated);
  }
  const out: Outbox = []; // no server runs here: nothing to publish
  for (let i = 0; i < fresh.length; i += 500) {
    const part = fresh.slice(i, i + 500);
    await q.insert(schema.messages).values(part);
    const events: ChannelEvent[] = part.map((r) => {
      const parent = parents.get(r.id);
      return {
        type: 'message.new',
        cid,
        seq: r.seq,
        created_at: r.createdAt.toISOString(),
        message: presentMessage(r),
        ...(parent ? { parent: presentMessage(parent) } : {}),
      };
    });
    await logEvents(q, out, appId, events);
  }
  if (w.files.length > 0) await q.insert(schema.files).values(w.files).onConflictDoNothing();
  await insertNew(q, schema.reactions, w.reactions, 1000);
  const byId = new Map(fresh.map((r) => [r.id, r]));
  const flags = w.mentions
    .filter((f) => byId.has(f.messageId))
    .map((f) => {
      const r = byId.get(f.messageId) as MessageRow;
      return {
        appId,
        userId: f.userId,
        messageId: f.messageId,
        cid,
        seq: r.seq,
        mentioned: true,
        createdAt: r.createdAt,
      };
    });
  await insertNew(q, schema.userMessageFlags, flags, 1000);
  // Imported history is read: members start with nothing unread.
  await q
    .update(schema.members)
    .set({ lastReadSeq: sql`greatest(${schema.members.lastReadSeq}, ${fresh.at(-1)?.seq ?? 0})` })
    .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid)));
}

/**
 * The file row of an attachment whose bytes the export holds: stored under a key derived from
 * the export (the bytes are written before the transaction, written over by a re-run), attached
 * to its message at the message's time, with no thumbnails yet.
 */
export function importedFileRow(f: {
  appId: string;
  id: string;
  cid: string;
  userId: string;
  messageId: string;
  name: string;
  bytes: Uint8Array;
  sniffed: { mime: string; kind: FileRow['kind'] };
  /** The type the export declared, and whether the bytes say otherwise. */
  declaredType: string | null;
  typeMismatch: boolean;
  at: Date;
}): FileRow {
  return {
    appId: f.appId,
    id: f.id,
    cid: f.cid,
    userId: f.userId,
    name: f.name,
    size: f.bytes.length,
    mimeType: f.sniffed.mime,
    declaredType: f.declaredType,
    typeMismatch: f.typeMismatch,
    kind: f.sniffed.kind,
    storageKey: `${f.appId}/${f.id}`,
    sha256: createHash('sha256').update(f.bytes).digest('hex'),
    width: null,
    height: null,
    blurhash: null,
    durationMs: null,
    thumbs: {},
    processing: 'none',
    messageId: f.messageId,
    createdAt: f.at,
    attachedAt: f.at,
    deletedAt: null,
  };
}

/** Insert `rows` into `table`, `size` to a statement, leaving out those whose key is there (an earlier run wrote them). */
export async function insertNew<T extends PgTable>(
  q: Queryable,
  table: T,
  rows: readonly PgInsertValue<T>[],
  size = 500,
): Promise<void> {
  for (let i = 0; i < rows.length; i += size)
    await q
      .insert(table)
      .values(rows.slice(i, i + size))
      .onConflictDoNothing();
}

/** Which of `ids` the app's messages hold already (an earlier run stored them). */
export async function storedMessageIds(q: Queryable, appId: string, ids: readonly string[]): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const got = await q
      .select({ id: schema.messages.id })
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, ids.slice(i, i + 1000))));
    for (const g of got) stored.add(g.id);
  }
  return stored;
}
