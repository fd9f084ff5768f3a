/**
 * Reminders ("remind me about this message") and scheduled messages: rows plus a job due at
 * their time, enqueued in the same transaction (jobs.ts runs them).
 *
 * Exactly once: each row carries the id of the message it will send (a scheduled message's
 * `message_id`; a reminder's DM reuses the reminder's own id), and sends are idempotent by id.
 * A job that runs twice — after a crash, a timeout, or on two nodes — finds the message stored
 * the second time and sends nothing new.
 */
import type {
  CreateReminderBody,
  Reminder,
  ScheduledMessage,
  ScheduleMessageBody,
  SnoozeReminderBody,
  UpdateScheduledBody,
} from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { checkPost, loadChannel } from '../channels/index.js';
import { accessMessage, enrichMessages } from '../messages/index.js';
import { REMIND, SEND_SCHEDULED } from './job-names.js';
import { dueTime } from './when.js';

type ReminderRow = typeof schema.reminders.$inferSelect;
type ScheduledRow = typeof schema.scheduledMessages.$inferSelect;
type Me = Caller & { kind: 'user' };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const MAX_PENDING = 500;
const MAX_AHEAD_MS = 366 * 24 * 3600_000;
const secondsUntil = (svc: Services, at: Date) => Math.max(0, Math.ceil((at.getTime() - svc.clock()) / 1000));

export function presentReminder(r: ReminderRow): Reminder {
  return {
    id: r.id,
    user_id: r.userId,
    message_id: r.messageId,
    cid: r.cid,
    note: r.note,
    remind_at: r.remindAt.toISOString(),
    status: r.status as Reminder['status'],
    sent_at: iso(r.sentAt),
    repeat: (r.repeat ?? null) as Reminder['repeat'],
    created_at: r.createdAt.toISOString(),
  };
}

export function presentScheduled(r: ScheduledRow): ScheduledMessage {
  return {
    id: r.id,
    cid: r.cid,
    user_id: r.userId,
    message_id: r.messageId,
    text: r.text,
    parent_id: r.parentId,
    send_at: r.sendAt.toISOString(),
    status: r.status as ScheduledMessage['status'],
    error: r.error,
    sent_at: iso(r.sentAt),
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** What a reminder is about and when; `at` is already checked (dueTime). */
export type NewReminder = {
  messageId: string | null;
  cid: string | null;
  note: string | null;
  at: Date;
  repeat?: Reminder['repeat'] | undefined;
  tzOffset?: number | undefined;
};

/** Refuse a new reminder past the caller's limit of pending ones. */
export async function checkReminderRoom(svc: Services, me: Me): Promise<void> {
  const pending = await svc.db
    .select({ id: schema.reminders.id })
    .from(schema.reminders)
    .where(
      and(
        eq(schema.reminders.appId, me.app.id),
        eq(schema.reminders.userId, me.userId),
        eq(schema.reminders.status, 'pending'),
      ),
    )
    .limit(MAX_PENDING);
  if (pending.length >= MAX_PENDING) throw invalid(`At most ${MAX_PENDING} pending reminders`);
}

/**
 * Insert a reminder and its job in the caller's transaction (saved items use it too, so a
 * saved message's due time is an ordinary reminder). Call `svc.jobs.wake(REMIND.name)` after commit.
 */
export async function insertReminder(svc: Services, tx: Tx, me: Me, r: NewReminder): Promise<ReminderRow> {
  const [row] = await tx
    .insert(schema.reminders)
    .values({
      appId: me.app.id,
      id: uuidv7(),
      userId: me.userId,
      messageId: r.messageId,
      cid: r.cid,
      note: r.note,
      remindAt: r.at,
      repeat: r.repeat ?? null,
      tzOffset: r.tzOffset ?? 0,
    })
    .returning();
  const rr = row as ReminderRow;
  await svc.jobs.enqueue(tx, REMIND, { appId: me.app.id, id: rr.id }, { startAfterSeconds: secondsUntil(svc, r.at) });
  return rr;
}

/** Remind the caller about a message they can read (or just a note) at a time. */
export async function createReminder(svc: Services, me: Me, body: CreateReminderBody): Promise<Reminder> {
  if (!body.message_id && !body.note) throw invalid('A reminder needs a message_id or a note');
  const at = dueTime(svc.clock(), body.remind_at, body.in, body.tz_offset);
  let cid: string | null = null;
  if (body.message_id) cid = (await accessMessage(svc.db, me, body.message_id)).message.cid;
  await checkReminderRoom(svc, me);
  const row = await svc.db.transaction((tx) =>
    insertReminder(svc, tx, me, {
      messageId: body.message_id ?? null,
      cid,
      note: body.note ?? null,
      at,
      repeat: body.repeat,
      tzOffset: body.tz_offset,
    }),
  );
  svc.jobs.wake(REMIND.name);
  return withMessages(svc, me, [row]).then((r) => r[0] as Reminder);
}

/**
 * Snooze a reminder that has fired: remind again later. A one-off reminder is armed again (a
 * fresh DM id, so the new firing is a new DM); a recurring one keeps its rhythm and the snooze
 * is a new one-off reminder about the same thing.
 */
export async function snoozeReminder(svc: Services, me: Me, id: string, body: SnoozeReminderBody): Promise<Reminder> {
  const at = dueTime(svc.clock(), body.remind_at, body.in, body.tz_offset);
  const r = schema.reminders;
  const [row] = await svc.db
    .select()
    .from(r)
    .where(and(eq(r.appId, me.app.id), eq(r.id, id), eq(r.userId, me.userId)));
  if (!row) throw notFound('Reminder');
  if (row.status === 'cancelled') throw new ApiError('CONFLICT', 'This reminder is cancelled');
  if (!row.sentAt) throw new ApiError('CONFLICT', 'This reminder has not fired yet: nothing to snooze');
  const out = await svc.db.transaction(async (tx) => {
    if (row.repeat) {
      return insertReminder(svc, tx, me, {
        messageId: row.messageId,
        cid: row.cid,
        note: row.note,
        at,
        tzOffset: body.tz_offset ?? row.tzOffset,
      });
    }
    const [u] = await tx
      .update(r)
      .set({ status: 'pending', remindAt: at, dmId: uuidv7() })
      .where(and(eq(r.appId, me.app.id), eq(r.id, id), eq(r.status, 'sent')))
      .returning();
    if (!u) throw new ApiError('CONFLICT', 'This reminder is already pending');
    await svc.jobs.enqueue(tx, REMIND, { appId: me.app.id, id }, { startAfterSeconds: secondsUntil(svc, at) });
    return u;
  });
  svc.jobs.wake(REMIND.name);
  return withMessages(svc, me, [out]).then((x) => x[0] as Reminder);
}

/** The caller's reminders (pending first, soonest first), with the messages they are about. */
export async function listReminders(
  svc: Services,
  me: Me,
  status?: 'pending' | 'sent' | 'cancelled',
): Promise<Reminder[]> {
  const r = await svc.db
    .select()
    .from(schema.reminders)
    .where(
      and(
        eq(schema.reminders.appId, me.app.id),
        eq(schema.reminders.userId, me.userId),
        eq(schema.reminders.status, status ?? 'pending'),
      ),
    )
    .orderBy(asc(schema.reminders.remindAt), asc(schema.reminders.id))
    .limit(MAX_PENDING);
  return withMessages(svc, me, r);
}

export async function withMessages(svc: Services, me: Me, rows: ReminderRow[]): Promise<Reminder[]> {
  const ids = [...new Set(rows.map((r) => r.messageId).filter((x): x is string => !!x))];
  const found = ids.length
    ? await svc.db
        .select()
        .from(schema.messages)
        .where(and(eq(schema.messages.appId, me.app.id), inArray(schema.messages.id, ids)))
    : [];
  const messages = new Map((await enrichMessages(svc.db, me.app.id, me.userId, found)).map((m) => [m.id, m]));
  return rows.map((r) => ({
    ...presentReminder(r),
    message: r.messageId ? (messages.get(r.messageId) ?? null) : null,
  }));
}

export async function cancelReminder(svc: Services, me: Me, id: string): Promise<Reminder> {
  const [row] = await svc.db
    .update(schema.reminders)
    .set({ status: 'cancelled' })
    .where(
      and(
        eq(schema.reminders.appId, me.app.id),
        eq(schema.reminders.id, id),
        eq(schema.reminders.userId, me.userId),
        eq(schema.reminders.status, 'pending'),
      ),
    )
    .returning();
  if (row) return presentReminder(row);
  const [r] = await svc.db
    .select()
    .from(schema.reminders)
    .where(
      and(eq(schema.reminders.appId, me.app.id), eq(schema.reminders.id, id), eq(schema.reminders.userId, me.userId)),
    );
  if (!r) throw notFound('Reminder');
  throw new ApiError('CONFLICT', `This reminder is already ${r.status}`);
}

function checkSendAt(svc: Services, at: string): Date {
  const t = new Date(at);
  if (!Number.isFinite(t.getTime())) throw invalid('send_at is not a time');
  if (t.getTime() < svc.clock() - 60_000) throw invalid('send_at has passed');
  if (t.getTime() > svc.clock() + MAX_AHEAD_MS) throw invalid('send_at is at most a year ahead');
  return t;
}

/** Schedule a message in a channel the caller may post in (checked now, and again when sent). */
export async function scheduleMessage(svc: Services, me: Me, body: ScheduleMessageBody): Promise<ScheduledMessage> {
  const appId = me.app.id;
  const at = checkSendAt(svc, body.send_at);
  const a = await loadChannel(svc.db, me, body.cid);
  if (!a) throw notFound('Channel');
  checkPost(a, svc.clock());
  if (body.parent_id) {
    const p = await accessMessage(svc.db, me, body.parent_id);
    if (p.message.cid !== body.cid || p.message.parentId)
      throw invalid('parent_id names no thread parent in this channel');
  }
  const pending = await svc.db
    .select({ id: schema.scheduledMessages.id })
    .from(schema.scheduledMessages)
    .where(
      and(
        eq(schema.scheduledMessages.appId, appId),
        eq(schema.scheduledMessages.userId, me.userId),
        eq(schema.scheduledMessages.status, 'pending'),
      ),
    )
    .limit(MAX_PENDING);
  if (pending.length >= MAX_PENDING) throw invalid(`At most ${MAX_PENDING} scheduled messages`);
  const row = await svc.db.transaction(async (tx) => {
    const [r] = await tx
      .insert(schema.scheduledMessages)
      .values({
        appId,
        id: uuidv7(),
        userId: me.userId,
        cid: body.cid,
        messageId: uuidv7(),
        text: body.text,
        parentId: body.parent_id ?? null,
        sendAt: at,
      })
      .returning();
    const rr = r as ScheduledRow;
    await svc.jobs.enqueue(tx, SEND_SCHEDULED, { appId, id: rr.id }, { startAfterSeconds: secondsUntil(svc, at) });
    return rr;
  });
  svc.jobs.wake(SEND_SCHEDULED.name);
  return presentScheduled(row);
}

export async function listScheduled(svc: Services, me: Me, cid?: string): Promise<ScheduledMessage[]> {
  const s = schema.scheduledMessages;
  const conds = [eq(s.appId, me.app.id), eq(s.userId, me.userId), inArray(s.status, ['pending', 'failed'])];
  if (cid) conds.push(eq(s.cid, cid));
  const r = await svc.db
    .select()
    .from(s)
    .where(and(...conds))
    .orderBy(asc(s.sendAt), asc(s.id))
    .limit(MAX_PENDING);
  return r.map(presentScheduled);
}

async function ownScheduled(svc: Services, me: Me, id: string): Promise<ScheduledRow> {
  const s = schema.scheduledMessages;
  const [r] = await svc.db
    .select()
    .from(s)
    .where(and(eq(s.appId, me.app.id), eq(s.id, id), eq(s.userId, me.userId)));
  if (!r) throw notFound('Scheduled message');
  return r;
}

/** Change the text or the time of a message that has not gone yet. */
export async function editScheduled(
  svc: Services,
  me: Me,
  id: string,
  body: UpdateScheduledBody,
): Promise<ScheduledMessage> {
  const before = await ownScheduled(svc, me, id);
  const at = body.send_at !== undefined ? checkSendAt(svc, body.send_at) : undefined;
  const s = schema.scheduledMessages;
  const row = await svc.db.transaction(async (tx) => {
    const [r] = await tx
      .update(s)
      .set({
        ...(body.text !== undefined ? { text: body.text } : {}),
        ...(at ? { sendAt: at } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(s.appId, me.app.id), eq(s.id, id), eq(s.status, 'pending')))
      .returning();
    if (!r) throw new ApiError('CONFLICT', `This message is already ${before.status}`);
    // A new time gets its own job; the old one finds the row not due and does nothing.
    if (at && at.getTime() !== before.sendAt.getTime())
      await svc.jobs.enqueue(
        tx,
        SEND_SCHEDULED,
        { appId: me.app.id, id },
        { startAfterSeconds: secondsUntil(svc, at) },
      );
    return r;
  });
  svc.jobs.wake(SEND_SCHEDULED.name);
  return presentScheduled(row);
}

export async function cancelScheduled(svc: Services, me: Me, id: string): Promise<ScheduledMessage> {
  const before = await ownScheduled(svc, me, id);
  const s = schema.scheduledMessages;
  const [r] = await svc.db
    .update(s)
    .set({ status: 'cancelled', updatedAt: new Date() })
    .where(and(eq(s.appId, me.app.id), eq(s.id, id), inArray(s.status, ['pending', 'failed'])))
    .returning();
  if (!r) throw new ApiError('CONFLICT', `This message is already ${before.status}`);
  return presentScheduled(r);
}
