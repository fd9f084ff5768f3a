/**
 * Saved items ("save for later"): a sparse per-user flag on a message, one row per (user,
 * message) saved. A due time is an ordinary reminder (features/reminders) made in the same
 * transaction — its job, its DM and its exactly-once rule are the reminders' own; this file
 * only links to it. Saving a message again is not a second item: it updates the one there.
 *
 * An item may carry the user's own short note (what to do about it, why it was kept): set when
 * saving or later, cleared with `null` or a blank one.
 *
 * The list shows only messages the caller may still read: an item in a channel they left, or
 * were removed or banned from, is kept (they may come back) but not shown.
 */
import { type SavedItem, type SaveMessageBody, type UpdateSavedBody, uuidv7 } from '@parley/protocol';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { mayReadChannel } from '../channels/index.js';
import { accessMessage, enrichMessages } from '../messages/index.js';
import { checkReminderRoom, dueTime, insertReminder, REMIND } from '../reminders/index.js';

type Me = Caller & { kind: 'user' };
type SavedRow = typeof schema.savedItems.$inferSelect;
type ReminderRow = typeof schema.reminders.$inferSelect;

const t = schema.savedItems;
const r = schema.reminders;
const MAX_PAGE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A note as stored: trimmed, and none when blank. */
const noteOf = (note: string | null | undefined) => note?.trim() || null;

function presentSaved(row: SavedRow, reminder: ReminderRow | null | undefined): SavedItem {
  const pending = reminder?.status === 'pending';
  return {
    id: row.id,
    user_id: row.userId,
    message_id: row.messageId,
    cid: row.cid,
    status: row.status as SavedItem['status'],
    reminder_id: row.reminderId,
    due_at: pending ? (reminder as ReminderRow).remindAt.toISOString() : null,
    repeat: (reminder?.repeat ?? null) as SavedItem['repeat'],
    note: row.note,
    created_at: row.createdAt.toISOString(),
    completed_at: row.completedAt ? row.completedAt.toISOString() : null,
  };
}

async function reminderOf(q: Queryable, appId: string, id: string | null): Promise<ReminderRow | null> {
  if (!id) return null;
  const [row] = await q
    .select()
    .from(r)
    .where(and(eq(r.appId, appId), eq(r.id, id)));
  return row ?? null;
}

async function cancelPending(tx: Tx, appId: string, reminderId: string | null) {
  if (!reminderId) return;
  await tx
    .update(r)
    .set({ status: 'cancelled' })
    .where(and(eq(r.appId, appId), eq(r.id, reminderId), eq(r.status, 'pending')));
}

function tell(out: Outbox, me: Me, change: 'saved' | 'updated' | 'removed', item: SavedItem, at: number) {
  out.push({
    to: 'user',
    appId: me.app.id,
    userId: me.userId,
    event: { type: 'saved.updated', change, saved_item: item, created_at: new Date(at).toISOString() },
  });
}

/**
 * Save a message the caller can read (NOT_FOUND otherwise, as for reading it). With a due time
 * the item gets a reminder; saving it again with a new due time replaces the old reminder.
 */
export async function saveMessage(svc: Services, me: Me, body: SaveMessageBody): Promise<SavedItem> {
  const appId = me.app.id;
  const withDue = body.remind_at !== undefined || body.in !== undefined;
  if (body.repeat && !withDue) throw invalid('repeat needs a due time (remind_at or in)');
  const at = withDue ? dueTime(svc.clock(), body.remind_at, body.in, body.tz_offset) : null;
  const { message } = await accessMessage(svc.db, me, body.message_id);
  if (at) await checkReminderRoom(svc, me);
  const item = await withTransaction(svc, async (tx, out) => {
    const [before] = await tx
      .select()
      .from(t)
      .where(and(eq(t.appId, appId), eq(t.userId, me.userId), eq(t.messageId, message.id)))
      .for('update');
    let reminder: ReminderRow | null = before ? await reminderOf(tx, appId, before.reminderId) : null;
    if (at) {
      if (before) await cancelPending(tx, appId, before.reminderId);
      reminder = await insertReminder(svc, tx, me, {
        messageId: message.id,
        cid: message.cid,
        note: null,
        at,
        repeat: body.repeat,
        tzOffset: body.tz_offset,
      });
    }
    let row: SavedRow;
    if (before) {
      [row] = (await tx
        .update(t)
        .set({
          status: 'saved',
          completedAt: null,
          reminderId: reminder?.id ?? before.reminderId,
          ...(body.note !== undefined ? { note: noteOf(body.note) } : {}),
        })
        .where(and(eq(t.appId, appId), eq(t.id, before.id)))
        .returning()) as [SavedRow];
    } else {
      [row] = (await tx
        .insert(t)
        .values({
          appId,
          id: uuidv7(),
          userId: me.userId,
          messageId: message.id,
          cid: message.cid,
          reminderId: reminder?.id ?? null,
          note: noteOf(body.note),
          createdAt: new Date(svc.clock()),
        })
        .returning()) as [SavedRow];
    }
    const item = presentSaved(row, reminder);
    tell(out, me, before ? 'updated' : 'saved', item, svc.clock());
    return item;
  });
  if (at) svc.jobs.wake(REMIND.name);
  const [m] = await enrichMessages(svc.db, appId, me.userId, [message]);
  return { ...item, message: m ?? null };
}

/** The caller's saved items, newest first, `limit` a page; `cursor` is the `next` of the page before. */
export async function listSaved(
  svc: Services,
  me: Me,
  opts: { status?: 'saved' | 'completed'; limit?: number; cursor?: string },
): Promise<{ saved_items: SavedItem[]; next?: string }> {
  const appId = me.app.id;
  const limit = Math.min(opts.limit ?? 30, MAX_PAGE);
  if (opts.cursor !== undefined && !UUID.test(opts.cursor)) throw invalid('cursor is not one this list gave');
  const items: SavedItem[] = [];
  let cursor = opts.cursor;
  const readable = new Map<string, boolean>();
  // Pages skip items the caller may no longer read; a few rounds fill a page past them.
  for (let round = 0; round < 5 && items.length < limit; round++) {
    const conds = [eq(t.appId, appId), eq(t.userId, me.userId), eq(t.status, opts.status ?? 'saved')];
    if (cursor) conds.push(lt(t.id, cursor));
    const rows = await svc.db
      .select({ item: t, reminder: r })
      .from(t)
      .leftJoin(r, and(eq(r.appId, t.appId), eq(r.id, t.reminderId)))
      .where(and(...conds))
      .orderBy(desc(t.id))
      .limit(limit - items.length + 1);
    const more = rows.length > limit - items.length;
    const page = rows.slice(0, limit - items.length);
    for (const cid of new Set(page.map((x) => x.item.cid)))
      if (!readable.has(cid)) readable.set(cid, await mayReadChannel(svc.db, me, cid));
    const shown = page.filter((x) => readable.get(x.item.cid));
    const ids = shown.map((x) => x.item.messageId);
    const found = ids.length
      ? await svc.db
          .select()
          .from(schema.messages)
          .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, ids)))
      : [];
    const messages = new Map((await enrichMessages(svc.db, appId, me.userId, found)).map((m) => [m.id, m]));
    for (const x of shown)
      items.push({ ...presentSaved(x.item, x.reminder), message: messages.get(x.item.messageId) ?? null });
    cursor = page.at(-1)?.item.id;
    if (!more) return { saved_items: items };
  }
  return cursor ? { saved_items: items, next: cursor } : { saved_items: items };
}

async function ownSaved(q: Queryable, me: Me, id: string): Promise<SavedRow> {
  const [row] = await q
    .select()
    .from(t)
    .where(and(eq(t.appId, me.app.id), eq(t.id, id), eq(t.userId, me.userId)));
  if (!row) throw notFound('Saved item');
  return row;
}

/**
 * Mark a saved item done (its pending reminder is cancelled) or not done again, and/or set or
 * clear its note.
 */
export async function updateSaved(svc: Services, me: Me, id: string, body: UpdateSavedBody): Promise<SavedItem> {
  if (body.status === undefined && body.note === undefined) throw invalid('Nothing to change: send a status or a note');
  return withTransaction(svc, async (tx, out) => {
    const before = await ownSaved(tx, me, id);
    if (body.status === 'completed') await cancelPending(tx, me.app.id, before.reminderId);
    const [row] = (await tx
      .update(t)
      .set({
        ...(body.status !== undefined
          ? { status: body.status, completedAt: body.status === 'completed' ? new Date(svc.clock()) : null }
          : {}),
        ...(body.note !== undefined ? { note: noteOf(body.note) } : {}),
      })
      .where(and(eq(t.appId, me.app.id), eq(t.id, id)))
      .returning()) as [SavedRow];
    const item = presentSaved(row, await reminderOf(tx, me.app.id, row.reminderId));
    tell(out, me, 'updated', item, svc.clock());
    return item;
  });
}

/** Remove a saved item and cancel its pending reminder. */
export async function removeSaved(svc: Services, me: Me, id: string): Promise<SavedItem> {
  return withTransaction(svc, async (tx, out) => {
    const before = await ownSaved(tx, me, id);
    await cancelPending(tx, me.app.id, before.reminderId);
    await tx.delete(t).where(and(eq(t.appId, me.app.id), eq(t.id, id)));
    const item = presentSaved(before, null);
    tell(out, me, 'removed', item, svc.clock());
    return item;
  });
}
