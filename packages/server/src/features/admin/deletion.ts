/**
 * Deleting a user (soft or hard) and deleting a channel. Both run as jobs (jobs.ts): the
 * request records the decision in the audit log and enqueues the job in one transaction;
 * the job does the work, idempotently (a second run finds nothing left to do).
 *
 * Soft (`deleteUser(…, 'soft')`): the user row stays, so every message keeps an author, but is
 * renamed "[deleted user]" with every personal field cleared; they leave every channel but
 * their DMs (logged `member.removed`, so members' lists stay right), lose their workspace
 * membership, mention/saved flags, activity days and exports, and their chat sessions end.
 * Their messages, reactions and files stay: the conversation reads on. What other features keep
 * about them goes (`eraseUserRows`: notification settings, push subscriptions and devices, bans,
 * reports by and about them, rings, their reminders and scheduled messages).
 *
 * Hard: the soft steps, then per channel, in one transaction that holds the channel's row
 * lock like every writer of the channel:
 * - their messages are removed; a message of theirs that others replied to becomes a
 *   tombstone (`type: deleted`, no text) so the thread keeps its parent;
 * - each removed message is announced as `message.deleted` (clients drop it), and the
 *   copies of its text inside the event log (as the message, a thread parent, or a quote)
 *   are scrubbed, so a resync cannot bring the words back;
 * - what hung on them goes too: reactions (anyone's), edit history, flags, files (bytes by the
 *   files job), tasks (each told `task.deleted`); replies' parents lose a reply and the user as a participant; quotes of a
 *   removed message point nowhere (`quoted_message_id` null);
 * - their reactions on other people's messages are removed and those messages' counts
 *   recomputed (`message.updated`).
 * Unread counts are computed from the messages that exist, so they follow by themselves.
 *
 * A channel (`deleteChannel`): every row of it — messages, events, members, reactions, edit
 * history, flags, bans, reports, calls, reminders, scheduled messages — in one transaction, its files by the files job, and each member is told
 * `channel.removed`.
 */
import { type ChannelEvent, DELETED_USER_NAME } from '@parley/protocol';
import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { rows, schema, type Tx } from '../../platform/db/index.js';
import { inList, recountReactions } from '../../platform/db/recount.js';
import { logEvents, type Outbox, takeSeqs, withTransaction } from '../../platform/event-log.js';
import { dropImage, removeBytes } from '../../platform/storage/pictures.js';
import type { Services } from '../../services.js';
import { presentChannel } from '../channels/index.js';
import { EXPIRE_UPLOAD } from '../files/index.js';
import { type MessageRow, presentMessage } from '../messages/index.js';
import { dropOccupant } from '../spaces/index.js';
import { dropAssignedTasks } from '../tasks/index.js';

const TOMBSTONE_JSON = JSON.stringify({
  type: 'deleted',
  text: '',
  attachments: [],
  previews: [],
  mentioned_users: [],
  mentioned_here: false,
  mentioned_channel: false,
  reactions: {},
  own_reactions: [],
  latest_reactions: [],
  pinned: false,
  pinned_at: null,
  pinned_by: null,
});

/** Everything that identifies a person, cleared; the row stays as the author of what remains. */
async function anonymize(tx: Tx, appId: string, userId: string, at: Date): Promise<void> {
  await tx
    .update(schema.users)
    .set({
      name: DELETED_USER_NAME,
      username: null,
      image: null,
      role: 'user',
      guestUntil: null,
      fullName: null,
      title: null,
      pronouns: null,
      about: null,
      phone: null,
      timeZone: null,
      statusText: null,
      statusEmoji: null,
      statusExpiresAt: null,
      lastActiveAt: null,
      updatedAt: at,
      deletedAt: sql`coalesce(${schema.users.deletedAt}, ${at.toISOString()}::timestamptz)`,
    })
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  await tx
    .delete(schema.userMessageFlags)
    .where(and(eq(schema.userMessageFlags.appId, appId), eq(schema.userMessageFlags.userId, userId)));
  await tx
    .delete(schema.userActivity)
    .where(and(eq(schema.userActivity.appId, appId), eq(schema.userActivity.userId, userId)));
  await tx
    .delete(schema.workspaceMembers)
    .where(and(eq(schema.workspaceMembers.appId, appId), eq(schema.workspaceMembers.userId, userId)));
}

/**
 * The rows other features keep about a person, gone with them in either mode: their
 * notification settings, push subscriptions and devices, bans of them, reports by and about
 * them, mutes by and of them, their rings, their sidebar and saved items. A hard delete also takes them out of call histories (soft keeps them there
 * as "[deleted user]").
 */
async function eraseUserRows(tx: Tx, appId: string, userId: string, mode: 'soft' | 'hard'): Promise<void> {
  for (const table of [
    'notification_settings',
    'channel_notification_settings',
    'push_subscriptions',
    'push_devices',
    'push_bursts',
    'bans',
    'reminders',
    'scheduled_messages',
    'profile_field_values',
    'inbox_items',
    'user_group_members',
    'sidebar_sections',
    'sidebar_placements',
    'saved_items',
    'channel_note_subscriptions',
  ])
    await tx.execute(sql`delete from ${sql.identifier(table)} where app_id = ${appId} and user_id = ${userId}`);
  // Tasks assigned to them went before, told (`dropAssignedTasks`); their reminders go with the
  // person's reminders above.
  await tx.execute(
    sql`delete from moderation_flags where app_id = ${appId} and (user_id = ${userId} or reported_by = ${userId})`,
  );
  await tx.execute(
    sql`delete from invitations where app_id = ${appId} and (from_user_id = ${userId} or to_user_id = ${userId})`,
  );
  await tx.execute(
    sql`delete from user_mutes where app_id = ${appId} and (user_id = ${userId} or muted_user_id = ${userId})`,
  );
  if (mode === 'hard') {
    await tx.execute(sql`delete from call_participants where app_id = ${appId} and user_id = ${userId}`);
    // Others' reminders, inbox items and saved items about messages of theirs, which are about to go
    // (their tasks go with the messages, channel by channel, told: `removeMessagesIn`).
    for (const table of ['reminders', 'inbox_items', 'saved_items'])
      await tx.execute(
        sql`delete from ${sql.identifier(table)} where app_id = ${appId}
            and message_id in (select id from messages where app_id = ${appId} and user_id = ${userId})`,
      );
  }
}

/** The rows other features keep about a channel: its bans, reports, calls and their rings, overrides, bookmarks, saved items and sidebar places. */
async function eraseChannelRows(tx: Tx, appId: string, cid: string): Promise<void> {
  const calls = sql`(select id from calls where app_id = ${appId} and cid = ${cid})`;
  await tx.execute(
    sql`delete from invitations where app_id = ${appId} and kind = 'calls' and subject_id in (select id::text from ${calls} c)`,
  );
  // A space whose room goes keeps its place in the office: the next one to enter makes a new room.
  await tx.execute(sql`update spaces set cid = null where app_id = ${appId} and cid = ${cid}`);
  await tx.execute(sql`delete from call_participants where app_id = ${appId} and call_id in ${calls}`);
  for (const table of [
    'calls',
    'bans',
    'moderation_flags',
    'channel_notification_settings',
    'reminders',
    'scheduled_messages',
    'inbox_items',
    'sidebar_placements',
    'saved_items',
    'channel_bookmarks',
    'tasks',
    'channel_note_subscriptions',
  ])
    await tx.execute(sql`delete from ${sql.identifier(table)} where app_id = ${appId} and cid = ${cid}`);
}

/** Leave one channel as a deleted user: membership gone, `member.removed` logged. */
async function leave(tx: Tx, out: Outbox, appId: string, cid: string, userId: string, at: Date): Promise<void> {
  const gone = await tx
    .delete(schema.members)
    .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, userId)))
    .returning();
  if (gone.length === 0) return;
  const seq = await takeSeqs(tx, appId, cid, 1);
  const [row] = await tx
    .update(schema.channels)
    .set({ memberCount: sql`greatest(${schema.channels.memberCount} - 1, 0)` })
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
    .returning();
  if (!row) return;
  await logEvents(tx, out, appId, [
    { type: 'member.removed', cid, seq, created_at: at.toISOString(), user_id: userId, channel: presentChannel(row) },
  ]);
  out.push({ to: 'user', appId, userId, event: { type: 'channel.removed', cid, created_at: at.toISOString() } });
}

/** Mark files deleted and hand their bytes and rows to the files job. */
async function dropFiles(svc: Services, tx: Tx, appId: string, where: ReturnType<typeof sql>): Promise<void> {
  const gone = await rows<{ id: string }>(
    tx,
    sql`update files set deleted_at = coalesce(deleted_at, now()) where app_id = ${appId} and (${where}) returning id`,
  );
  for (const f of gone) await svc.jobs.enqueue(tx, EXPIRE_UPLOAD, { appId, fileId: f.id });
}

export interface DeletionCounts {
  messagesRemoved: number;
  messagesTombstoned: number;
  reactionsRemoved: number;
  channelsLeft: number;
}

export async function deleteUser(
  svc: Services,
  appId: string,
  userId: string,
  mode: 'soft' | 'hard',
): Promise<DeletionCounts> {
  const counts: DeletionCounts = { messagesRemoved: 0, messagesTombstoned: 0, reactionsRemoved: 0, channelsLeft: 0 };
  const at = new Date(svc.clock());
  // Exports hold a copy of their data: the bytes first, then the rows (in the soft step).
  const exports = await svc.db
    .select({ key: schema.dataExports.storageKey })
    .from(schema.dataExports)
    .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.userId, userId)));
  for (const e of exports) if (e.key) await svc.storage.store.remove(e.key);

  const channels = await svc.db
    .select({ cid: schema.members.cid, type: schema.channels.type })
    .from(schema.members)
    .innerJoin(
      schema.channels,
      and(eq(schema.channels.appId, schema.members.appId), eq(schema.channels.cid, schema.members.cid)),
    )
    .where(and(eq(schema.members.appId, appId), eq(schema.members.userId, userId)));
  const picture = await withTransaction(svc, async (tx, out) => {
    await anonymize(tx, appId, userId, at);
    // Their profile picture is personal data: its row goes now, its bytes after the commit.
    const picture = await dropImage(tx, appId, { kind: 'user', id: userId });
    // The tasks assigned to them, told (eraseUserRows would drop them silently).
    await dropAssignedTasks(tx, out, appId, userId, at.getTime());
    await eraseUserRows(tx, appId, userId, mode);
    // Their place in the office, announced (its room membership goes with their other channels).
    await dropOccupant(tx, out, appId, userId, at);
    await tx
      .delete(schema.dataExports)
      .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.userId, userId)));
    // A DM stays (soft): the other person keeps the conversation with "[deleted user]".
    for (const c of channels) {
      if (c.type === 'dm' && mode === 'soft') continue;
      await leave(tx, out, appId, c.cid, userId, at);
      counts.channelsLeft++;
    }
    out.push({
      to: 'webhooks',
      appId,
      userId,
      event: { type: 'user.deleted', user_id: userId, mode, created_at: at.toISOString() },
    });
    return picture;
  });
  if (picture) await removeBytes(svc, picture);
  // Every socket of theirs closes, on every node, whatever token opened it.
  svc.chatSessions.end({ appId, userId, user: true, reason: 'This user was deleted' });
  if (mode === 'soft') return counts;

  // Their reactions on anyone's messages, channel by channel (the counts live on the messages).
  const reacted = await rows<{ cid: string }>(
    svc.db,
    sql`select distinct m.cid from reactions r join messages m on m.app_id = r.app_id and m.id = r.message_id
        where r.app_id = ${appId} and r.user_id = ${userId}`,
  );
  for (const { cid } of reacted) counts.reactionsRemoved += await dropReactions(svc, appId, cid, userId);

  const authored = await rows<{ cid: string }>(
    svc.db,
    sql`select distinct cid from messages where app_id = ${appId} and user_id = ${userId}
          and (type <> 'deleted' or reply_count = 0)`,
  );
  for (const { cid } of authored) {
    const r = await removeMessagesIn(svc, appId, cid, userId);
    counts.messagesRemoved += r.removed;
    counts.messagesTombstoned += r.tombstoned;
  }
  // Uploads never attached to a message.
  await svc.db.transaction((tx) => dropFiles(svc, tx, appId, sql`user_id = ${userId}`));
  return counts;
}

async function dropReactions(svc: Services, appId: string, cid: string, userId: string): Promise<number> {
  return withTransaction(svc, async (tx, out) => {
    const gone = await rows<{ message_id: string }>(
      tx,
      sql`delete from reactions r using messages m
          where r.app_id = ${appId} and r.user_id = ${userId}
            and m.app_id = r.app_id and m.id = r.message_id and m.cid = ${cid}
          returning r.message_id`,
    );
    const ids = [...new Set(gone.map((g) => g.message_id))];
    if (ids.length === 0) return 0;
    await recountReactions(tx, appId, ids);
    const changed = await tx
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, ids)));
    let seq = await takeSeqs(tx, appId, cid, changed.length);
    const at = new Date(svc.clock()).toISOString();
    await logEvents(
      tx,
      out,
      appId,
      changed.map((m) => ({ type: 'message.updated', cid, seq: seq++, created_at: at, message: presentMessage(m) })),
    );
    return gone.length;
  });
}

async function removeMessagesIn(
  svc: Services,
  appId: string,
  cid: string,
  userId: string,
): Promise<{ removed: number; tombstoned: number }> {
  let afterCommit = () => {};
  const done = await withTransaction(svc, async (tx, out) => {
    // The channel's row lock first, as every writer of the channel takes it.
    await tx.execute(sql`select 1 from channels where app_id = ${appId} and cid = ${cid} for update`);
    const mine = await tx
      .select()
      .from(schema.messages)
      .where(
        and(
          eq(schema.messages.appId, appId),
          eq(schema.messages.cid, cid),
          eq(schema.messages.userId, userId),
          // Tombstones left by an earlier run are done, unless their last reply went since.
          sql`(${schema.messages.type} <> 'deleted' or ${schema.messages.replyCount} = 0)`,
        ),
      );
    if (mine.length === 0) return { removed: 0, tombstoned: 0 };
    const ids = mine.map((m) => m.id);
    // A parent with replies by others keeps its place as a tombstone; the rest go.
    const othersReplied = new Set(
      (
        await rows<{ parent_id: string }>(
          tx,
          sql`select distinct parent_id from messages where app_id = ${appId} and user_id <> ${userId}
              and parent_id::text in ${inList(ids)}`,
        )
      ).map((r) => r.parent_id),
    );
    const tomb = mine.filter((m) => othersReplied.has(m.id));
    const gone = mine.filter((m) => !othersReplied.has(m.id));
    const idList = inList(ids);
    const goneSet = new Set(gone.map((m) => m.id));
    const at = new Date(svc.clock());

    await tx.execute(sql`delete from reactions where app_id = ${appId} and message_id::text in ${idList}`);
    await tx.execute(sql`delete from message_versions where app_id = ${appId} and message_id::text in ${idList}`);
    await tx.execute(sql`delete from user_message_flags where app_id = ${appId} and message_id::text in ${idList}`);
    await dropFiles(svc, tx, appId, sql`message_id::text in ${idList}`);
    // Quotes of a removed message point nowhere (a tombstone can still be quoted).
    if (gone.length)
      await tx.execute(
        sql`update messages set quoted_message_id = null
            where app_id = ${appId} and quoted_message_id::text in ${inList([...goneSet])}`,
      );
    // Threads lose the removed replies and the user as a participant.
    const parents = [...new Set(gone.map((m) => m.parentId).filter((p): p is string => !!p && !goneSet.has(p)))];
    for (const p of parents) {
      const n = gone.filter((m) => m.parentId === p).length;
      await tx
        .update(schema.messages)
        .set({
          replyCount: sql`greatest(${schema.messages.replyCount} - ${n}, 0)`,
          threadParticipants: sql`coalesce((select jsonb_agg(x) from jsonb_array_elements(${schema.messages.threadParticipants}) x
            where x <> to_jsonb(${userId}::text)), '[]'::jsonb)`,
        })
        .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, p)));
    }
    const tombRows: MessageRow[] = [];
    if (tomb.length)
      tombRows.push(
        ...(await tx
          .update(schema.messages)
          .set({
            type: 'deleted',
            text: '',
            deletedAt: at,
            updatedAt: at,
            attachments: [],
            previews: [],
            hiddenPreviews: [],
            mentionedUsers: [],
            mentionedHere: false,
            mentionedChannel: false,
            reactionCounts: {},
            latestReactions: [],
            pinnedAt: null,
            pinnedBy: null,
          })
          .where(
            and(
              eq(schema.messages.appId, appId),
              inArray(
                schema.messages.id,
                tomb.map((m) => m.id),
              ),
            ),
          )
          .returning()),
      );
    if (gone.length)
      await tx.delete(schema.messages).where(
        and(
          eq(schema.messages.appId, appId),
          inArray(
            schema.messages.id,
            gone.map((m) => m.id),
          ),
        ),
      );
    // Scrub the words out of the event log: as the event's message, a thread parent, a quote.
    for (const path of ["'{message}'", "'{parent}'", "'{message,quoted_message}'"]) {
      await tx.execute(
        sql`update channel_events set payload = jsonb_set(payload, ${sql.raw(path)},
              (payload #> ${sql.raw(path)}) || ${TOMBSTONE_JSON}::jsonb)
            where app_id = ${appId} and cid = ${cid}
              and (payload #>> ${sql.raw(path.replace('}', ',id}'))}) in ${idList}`,
      );
    }
    const parentRows =
      parents.length > 0
        ? await tx
            .select()
            .from(schema.messages)
            .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, parents)))
        : [];
    const parentById = new Map(parentRows.map((p) => [p.id, p]));
    let seq = await takeSeqs(tx, appId, cid, mine.length);
    const events: ChannelEvent[] = [];
    const tombById = new Map(tombRows.map((t) => [t.id, t]));
    for (const m of mine) {
      const row: MessageRow = tombById.get(m.id) ?? {
        ...m,
        type: 'deleted',
        text: '',
        deletedAt: at,
        updatedAt: at,
        attachments: [],
        previews: [],
        mentionedUsers: [],
        reactionCounts: {},
        latestReactions: [],
        pinnedAt: null,
        pinnedBy: null,
      };
      const e: ChannelEvent = {
        type: 'message.deleted',
        cid,
        seq: seq++,
        created_at: at.toISOString(),
        message: presentMessage(row),
      };
      const parent = m.parentId ? parentById.get(m.parentId) : undefined;
      if (parent) e.parent = presentMessage(parent);
      events.push(e);
    }
    await logEvents(tx, out, appId, events);
    // Their tasks go with them, each told `task.deleted` (features/tasks).
    afterCommit = await svc.messagesDeleted(svc, tx, out, appId, ids, at.getTime());
    return { removed: gone.length, tombstoned: tomb.length };
  });
  afterCommit();
  return done;
}

/** Delete a channel and everything in it. Answers the member ids that were told. */
export async function deleteChannel(svc: Services, appId: string, cid: string): Promise<string[]> {
  return withTransaction(svc, async (tx, out) => {
    const [ch] = await tx
      .select({ cid: schema.channels.cid })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
      .for('update');
    if (!ch) return [];
    const members = await tx
      .delete(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid)))
      .returning({ userId: schema.members.userId });
    const inChannel = sql`(select id from messages where app_id = ${appId} and cid = ${cid})`;
    await tx.execute(sql`delete from reactions where app_id = ${appId} and message_id in ${inChannel}`);
    await tx.execute(sql`delete from message_versions where app_id = ${appId} and message_id in ${inChannel}`);
    // Quotes from other channels of a message that is going point nowhere.
    await tx.execute(
      sql`update messages set quoted_message_id = null
          where app_id = ${appId} and cid <> ${cid} and quoted_message_id in ${inChannel}`,
    );
    await tx
      .delete(schema.userMessageFlags)
      .where(and(eq(schema.userMessageFlags.appId, appId), eq(schema.userMessageFlags.cid, cid)));
    await dropFiles(svc, tx, appId, sql`cid = ${cid}`);
    await eraseChannelRows(tx, appId, cid);
    await tx.delete(schema.messages).where(and(eq(schema.messages.appId, appId), eq(schema.messages.cid, cid)));
    await tx
      .delete(schema.channelEvents)
      .where(and(eq(schema.channelEvents.appId, appId), eq(schema.channelEvents.cid, cid)));
    await tx.delete(schema.channels).where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    const at = new Date(svc.clock()).toISOString();
    for (const m of members)
      out.push({ to: 'user', appId, userId: m.userId, event: { type: 'channel.removed', cid, created_at: at } });
    return members.map((m) => m.userId);
  });
}

/** Whether a user exists (and is not deleted already, when `live`). */
export async function userExists(svc: Services, appId: string, userId: string, live: boolean): Promise<boolean> {
  const [row] = await svc.db
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(
      and(
        eq(schema.users.appId, appId),
        eq(schema.users.id, userId),
        live ? isNull(schema.users.deletedAt) : ne(schema.users.id, ''),
      ),
    );
  return !!row;
}
