/**
 * The jobs of reminders, scheduled messages and status expiry. Each is idempotent: it reads
 * its row, does nothing if the row moved on (cancelled, sent, edited to a later time), and
 * sends under the message id fixed when the row was made, so a second run sends nothing new.
 */
import { uuidv7 } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import type { AppContext, Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { createChannel } from '../channels/index.js';
import { recordItems } from '../inbox/index.js';
import { BOT_USER_ID, messageRow, sendMessage } from '../messages/index.js';
import { CLEAR_STATUS, userUpdated } from '../users/index.js';
import { REMIND, SEND_SCHEDULED } from './job-names.js';
import { nextOccurrence, type Repeat } from './when.js';

const BOT_NAME = 'Parley';
/** A job that fires this early (clock skew between nodes) still counts its row due. */
const EARLY_MS = 1_500;

/** Jobs act for a user of an app: the send path needs only the app's id from its context. */
const actAs = (appId: string, userId: string): Caller & { kind: 'user' } => ({
  kind: 'user',
  app: { id: appId, name: '', apiKey: '', secretKey: new Uint8Array() } satisfies AppContext,
  userId,
});

export async function defineReminderJobs(svc: Services): Promise<void> {
  const kinds: JobKind<{ appId: string; id: string }>[] = [
    { name: REMIND.name, retryLimit: 10, concurrency: 2, run: (d) => remind(svc, d.appId, d.id) },
    {
      name: SEND_SCHEDULED.name,
      retryLimit: 10,
      concurrency: 4,
      // A send takes at most the before-send hook's limit (10 s) and a write: a run this old died
      // with its node, and another node takes the job over (the send is idempotent by message id).
      expireInSeconds: 20,
      run: (d) => sendScheduled(svc, d.appId, d.id),
    },
  ];
  for (const k of kinds) await svc.jobs.define(k);
  await svc.jobs.define<{ appId: string; userId: string; expiresAt: string }>({
    name: CLEAR_STATUS.name,
    retryLimit: 10,
    run: (d) => clearStatus(svc, d.appId, d.userId, d.expiresAt),
  });
}

async function remind(svc: Services, appId: string, id: string): Promise<void> {
  const r = schema.reminders;
  const [row] = await svc.db
    .select()
    .from(r)
    .where(and(eq(r.appId, appId), eq(r.id, id)));
  if (!row) return;
  const due = row.remindAt.getTime() <= svc.clock() + EARLY_MS;
  const dmId = row.dmId ?? row.id;
  if (!row.repeat) {
    // A one-time reminder is marked sent before its DM goes out, so whoever sees the DM finds it
    // sent (not still pending beside it). A run that stopped between the two finds it sent with
    // no DM, and sends it; a run that finds it cancelled, or marked by another run, sends nothing.
    if (row.status === 'pending') {
      if (!due) return;
      const [marked] = await svc.db
        .update(r)
        .set({ status: 'sent', sentAt: new Date(svc.clock()) })
        .where(and(eq(r.appId, appId), eq(r.id, id), eq(r.status, 'pending')))
        .returning({ id: r.id });
      if (!marked) return;
    } else if (row.status !== 'sent' || (await messageRow(svc.db, appId, dmId))) return;
  } else if (row.status !== 'pending' || !due) return;
  await svc.db
    .insert(schema.users)
    .values({ appId, id: BOT_USER_ID, name: BOT_NAME, role: 'user' })
    .onConflictDoNothing();
  const bot = actAs(appId, BOT_USER_ID);
  const dm = await createChannel(svc, bot, { type: 'dm', members: [row.userId] });
  let text = row.note ? `⏰ Reminder: ${row.note}` : '⏰ Reminder';
  if (row.messageId) {
    const [m] = await svc.db
      .select({ text: schema.messages.text, deletedAt: schema.messages.deletedAt, userId: schema.messages.userId })
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, row.messageId)));
    const excerpt = m && !m.deletedAt ? m.text.slice(0, 300) : '(a message that has been deleted)';
    text += ` — about a message in ${row.cid} (id ${row.messageId}): “${excerpt}”`;
  }
  // The occurrence's DM id (the reminder's own id the first time): a second run finds it stored
  // and sends nothing new.
  await sendMessage(svc, bot, dm.channel.cid, { id: dmId, text: text.slice(0, 10_000) });
  // The inbox (features/inbox) links to the message the reminder is about (else to its DM).
  await recordItems(svc, [
    {
      appId,
      userId: row.userId,
      kind: 'reminder',
      cid: row.messageId ? row.cid : dm.channel.cid,
      messageId: row.messageId ?? dmId,
      actorId: BOT_USER_ID,
      dedupe: `rem:${dmId}`,
    },
  ]);
  if (!row.repeat) return;
  const now = new Date(svc.clock());
  // Recurring: move to the next occurrence with a fresh DM id and its own job, in one
  // transaction, and only if no other run moved it first (the row still says this due time).
  const next = nextOccurrence(row.remindAt, row.repeat as Repeat, row.tzOffset, svc.clock());
  await svc.db.transaction(async (tx) => {
    const [moved] = await tx
      .update(r)
      .set({ remindAt: next, sentAt: now, dmId: uuidv7() })
      .where(and(eq(r.appId, appId), eq(r.id, id), eq(r.status, 'pending'), eq(r.remindAt, row.remindAt)))
      .returning({ id: r.id });
    if (moved)
      await svc.jobs.enqueue(
        tx,
        REMIND,
        { appId, id },
        { startAfterSeconds: Math.max(0, Math.ceil((next.getTime() - svc.clock()) / 1000)) },
      );
  });
}

async function sendScheduled(svc: Services, appId: string, id: string): Promise<void> {
  const s = schema.scheduledMessages;
  const [row] = await svc.db
    .select()
    .from(s)
    .where(and(eq(s.appId, appId), eq(s.id, id)));
  if (row?.status !== 'pending' || row.sendAt.getTime() > svc.clock() + EARLY_MS) return;
  try {
    await sendMessage(svc, actAs(appId, row.userId), row.cid, {
      id: row.messageId,
      text: row.text,
      ...(row.parentId ? { parent_id: row.parentId } : {}),
    });
  } catch (err) {
    // A refusal (no longer a member, frozen, rejected by the app's hook) will not change by
    // retrying: the row says why. Anything else is thrown for the queue to retry.
    if (
      !(err instanceof ApiError) ||
      err.code === 'UNAVAILABLE' ||
      err.code === 'RATE_LIMITED' ||
      err.code === 'HOOK_UNAVAILABLE'
    )
      throw err;
    await svc.db
      .update(s)
      .set({ status: 'failed', error: `${err.code}: ${err.message}`, updatedAt: new Date() })
      .where(and(eq(s.appId, appId), eq(s.id, id), eq(s.status, 'pending')));
    return;
  }
  await svc.db
    .update(s)
    .set({ status: 'sent', sentAt: new Date(), error: null, updatedAt: new Date() })
    .where(and(eq(s.appId, appId), eq(s.id, id), eq(s.status, 'pending')));
}

async function clearStatus(svc: Services, appId: string, userId: string, expiresAt: string): Promise<void> {
  const u = schema.users;
  // Only the status this job was made for: one set again meanwhile has its own job.
  const row = await withTransaction(svc, async (tx, out) => {
    const [r] = await tx
      .update(u)
      .set({ statusText: null, statusEmoji: null, statusExpiresAt: null, updatedAt: new Date() })
      .where(and(eq(u.appId, appId), eq(u.id, userId), eq(u.statusExpiresAt, new Date(expiresAt))))
      .returning();
    if (r) userUpdated(out, appId, r);
    return r;
  });
  if (row) await svc.presence.announce(appId, row);
}
