/**
 * Message writes — the send path of DESIGN.md and its siblings. Each action: check access,
 * then one transaction that first takes the channel's seq (the row lock orders all writers
 * of a channel), writes, appends the event to the log; publish after commit; answer with the
 * stored message.
 */
import { type ChannelEvent, isNameText, type Message, type MessageInput, uuidv7 } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { type Queryable, rows, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { logEvents, type Outbox, takeSeqs, Unchanged, withTransaction } from '../../platform/event-log.js';
import { inSpan, tracingOn } from '../../platform/tracing.js';
import type { Services } from '../../services.js';
import { checkPost, loadChannel } from '../channels/index.js';
import { attachFiles, dropMessageFiles } from '../files/index.js';
import { normalizeUrl, previewUrls, UNFURL } from '../links/index.js';
import { checkAutomod, checkSlowMode, fileAutomodFlag } from '../moderation/index.js';
import { checkCan } from '../permissions/index.js';
import { parseMentions, presentUser, type UserRow } from '../users/index.js';
import { checkBeforeSend, wants } from '../webhooks/index.js';
import { accessMessage, messageRow, seesShadowed } from './access.js';
import { type Mentions, mentionReasons } from './mentions.js';
import { checkPollInput, newPoll, ownVotes, schedulePollClose } from './polls.js';
import { type MessageRow, presentMessage } from './present.js';
import type { JobResult, SendJob } from './send-batch.js';
import type { Turn } from './send-order.js';

/** Most thread participants kept on a parent message. */
const MAX_PARTICIPANTS = 50;

/** A send's id is taken: thrown inside its transaction so that the rollback undoes the rest. */
export class DuplicateId extends Error {}

/**
 * Members of `cid` among the mentioned usernames and the members of mentioned user groups
 * (features/groups: only those who are members of the channel, so never anyone who cannot
 * read it), and (for @here) the members present now. Usernames and group handles are one
 * query, the one a send with an @name always cost.
 */
export async function resolveMentions(
  svc: Services,
  appId: string,
  cid: string,
  text: string,
  /** Where to read the members: a transaction that is creating the channel sees its own. */
  q: Queryable = svc.db,
): Promise<Mentions> {
  const parsed = parseMentions(text);
  let users: string[] = [];
  let here: string[] = [];
  if (parsed.usernames.length) {
    const names = JSON.stringify(parsed.usernames);
    const found = await rows<{ id: string }>(
      q,
      sql`select u.id from ${schema.users} u
        join ${schema.members} m on m.app_id = u.app_id and m.user_id = u.id and m.cid = ${cid}
        where u.app_id = ${appId} and lower(u.username) in (select jsonb_array_elements_text(${names}::jsonb))
      union
      select gm.user_id as id from ${schema.userGroups} g
        join ${schema.userGroupMembers} gm on gm.app_id = g.app_id and gm.group_id = g.id
        join ${schema.members} m on m.app_id = gm.app_id and m.user_id = gm.user_id and m.cid = ${cid}
        where g.app_id = ${appId} and lower(g.handle) in (select jsonb_array_elements_text(${names}::jsonb))`,
    );
    users = found.map((r) => r.id);
  }
  if (parsed.here) {
    const rows = await q
      .select({ id: schema.members.userId })
      .from(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid)));
    here = await svc.presence.present(
      appId,
      rows.map((r) => r.id),
    );
  }
  return { users, here, hereFlag: parsed.here, channel: parsed.channel };
}

/** Flag each mentioned user (sparse rows) and queue their notifications. */
async function flagMentions(
  tx: Tx,
  out: Outbox,
  appId: string,
  row: MessageRow,
  m: Mentions,
  authorId: string,
  message: Message,
  skip: ReadonlySet<string> = new Set(),
) {
  const reasons = mentionReasons(m, authorId, skip);
  if (reasons.size) {
    await tx
      .insert(schema.userMessageFlags)
      .values(
        [...reasons.keys()].map((userId) => ({
          appId,
          userId,
          messageId: row.id,
          cid: row.cid,
          seq: row.seq,
          mentioned: true,
        })),
      )
      .onConflictDoNothing();
  }
  const at = new Date().toISOString();
  for (const [userId, reason] of reasons)
    out.push({
      to: 'user',
      appId,
      userId,
      event: { type: 'notification.new', cid: row.cid, reason, message, created_at: at },
    });
  return reasons;
}

/** Per-user send budget (shared by every node with Redis); RATE_LIMITED says when to retry. */
export async function checkSendRate(svc: Services, appId: string, userId: string): Promise<void> {
  const { rateMessages, rateWindowMs, rateBlockSeconds } = svc.config;
  if (rateMessages <= 0) return;
  const r = await svc.limiter.hit(`msg:${appId}:${userId}`, rateMessages, rateWindowMs, rateBlockSeconds * 1000);
  if (!r.ok)
    throw new ApiError(
      'RATE_LIMITED',
      `Too many messages: at most ${rateMessages} per ${rateWindowMs / 1000} s${rateBlockSeconds > 0 ? `, then none for ${rateBlockSeconds} s` : ''}`,
      { limit: 'messages', scope: 'user', retry_after_ms: r.retryAfterMs },
    );
}

/**
 * Text a message may hold: not blank, no NUL, no lone UTF-16 surrogate (PostgreSQL stores
 * neither). The request schemas say the same (`MessageText`); this guards callers without one.
 */
export function checkText(text: string): void {
  if (!isNameText(text)) throw invalid('Message text must not be blank, nor contain NUL or a lone UTF-16 surrogate');
}

/**
 * Send a message. The same id again returns the stored message and writes nothing.
 * Plain sends (the common case, mentions included) go through the group-commit batcher
 * (send-batch.ts); thread replies, quotes and @channel take the one-send transaction below.
 */
export function sendMessage(
  svc: Services,
  caller: Caller,
  cid: string,
  input: MessageInput,
  /** The send's place among its connection's sends to the channel (send-order.ts). */
  turn?: Turn,
): Promise<Message> {
  return tracingOn()
    ? inSpan('message.send', () => send(svc, caller, cid, input, turn), { attributes: { 'parley.cid': cid } })
    : send(svc, caller, cid, input, turn);
}

async function send(svc: Services, caller: Caller, cid: string, input: MessageInput, turn?: Turn): Promise<Message> {
  const me = requireUser(caller, 'Messages are written as a user: use a user token');
  const appId = me.app.id;
  // Text may be empty only on a message that carries files.
  if (input.text !== '' || !input.attachments?.length) checkText(input.text);
  if (input.show_in_channel && !input.parent_id) throw invalid('show_in_channel only applies to thread replies');
  if (input.poll) {
    checkPollInput(input.poll, input.text, svc.clock());
    if (input.parent_id) throw invalid('A poll is posted in the channel, not in a thread');
  }
  await checkSendRate(svc, appId, me.userId);
  const id = input.id ?? uuidv7();
  // From memory: an app with no hooks costs no query here.
  const hooks = await svc.hooks.get(appId);
  if (hooks.beforeSend && input.text !== '') {
    // Before any transaction: nothing is locked while the app's backend thinks. A retry of a
    // stored id is asked again (the backend must answer the same), then finds the message stored.
    const text = await checkBeforeSend(svc, hooks.beforeSend, appId, me.userId, cid, { ...input, id });
    if (text !== input.text) input = { ...input, text };
  }
  // Automod, on the text as it will be stored (after the app's hook): `block` throws
  // MESSAGE_BLOCKED here; `flag` lets the message through and files it in the moderation
  // queue once it is stored.
  const verdict = await checkAutomod(svc, me, cid, input.text);
  let sent: JobResult;
  // A message with links needs its unfurl job enqueued in its own transaction, which the
  // group commit's single statement does not take: it goes the one-send way. A send in an app
  // with webhook endpoints keeps the group commit: the batch statement writes its deliveries.
  const links = svc.config.linkPreviews && previewUrls(input.text).length > 0;
  if (input.parent_id || input.quoted_message_id || input.attachments?.length || input.poll || links) {
    await turn?.ready('settled');
    sent = await sendOne(svc, me, cid, id, input);
  } else {
    const mentions = await resolveMentions(svc, appId, cid, input.text);
    if (mentions.channel) {
      await turn?.ready('settled');
      sent = await sendOne(svc, me, cid, id, input, mentions);
    } else {
      // The batcher queues a channel's sends in the order `submit` is called: the next send of
      // this connection to this channel may go once this one is queued.
      await turn?.ready('queued');
      const queued = svc.sends.submit({
        me,
        cid,
        id,
        text: input.text,
        mentions,
        at: new Date(),
        webhooks: hooks.endpoints.filter((ep) => wants(ep.events, 'message.new')).map((ep) => ep.id),
      });
      turn?.entered();
      sent = await queued;
    }
  }
  // A retry of a stored id: the stored message (or CONFLICT), and nothing counted again.
  if (sent.kind === 'taken') return storedSend(svc, me, cid, id);
  if (verdict) await fileAutomodFlag(svc, appId, sent.message, verdict);
  if (links) svc.jobs.wake(UNFURL.name);
  svc.metrics.messagesSent.inc();
  // A shadowed message (moderation/shadow.ts) notifies no one and ends no one's typing view of
  // its author. Whether the author is shadow-banned comes with the access read of the send.
  if (sent.author?.shadowBanned) return sent.message;
  // After commit, never in the way of the answer: pushes and the digest (features/notifications).
  for (const after of svc.afterSend) after(svc, appId, sent.message.id, { inbox: sent.inbox });
  if (sent.author) svc.typing.sent(appId, cid, sent.message.parent_id, presentUser(sent.author));
  return sent.message;
}

/** Answer a repeated send with the message already stored under its id, or CONFLICT. */
async function storedSend(svc: Services, me: Caller & { kind: 'user' }, cid: string, id: string): Promise<Message> {
  const existing = await messageRow(svc.db, me.app.id, id);
  if (!existing || existing.cid !== cid || existing.userId !== me.userId)
    throw new ApiError('CONFLICT', 'This message id is already used by another message');
  return (await enrichMessages(svc.db, me.app.id, me.userId, [existing]))[0] as Message;
}

/** Run one send of a batch on its own, in its own transaction (send-batch.ts's fallback). */
export function runSendJob(svc: Services, job: SendJob): Promise<JobResult> {
  return sendOne(svc, job.me, job.cid, job.id, { text: job.text }, job.mentions);
}

/** One send in its own transaction: every kind, including replies, quotes and @channel. */
async function sendOne(
  svc: Services,
  me: Caller & { kind: 'user' },
  cid: string,
  id: string,
  input: MessageInput,
  knownMentions?: Mentions,
): Promise<JobResult> {
  const appId = me.app.id;
  const a = await loadChannel(svc.db, me, cid);
  if (!a) throw notFound('Channel');
  // Under a shadow ban the message is stored shadowed (moderation/shadow.ts).
  const shadowed = !!a.user?.shadowBanned;
  checkPost(a, svc.clock());
  if (input.attachments?.length) checkCan(a, 'upload-file', svc.clock());
  if (input.poll) checkCan(a, 'create-poll', svc.clock());
  await checkSlowMode(svc, a, me.userId);

  let parent: MessageRow | null = null;
  if (input.parent_id) {
    parent = await messageRow(svc.db, appId, input.parent_id);
    // A shadowed parent the sender may not see is answered as one that does not exist.
    if (!parent || parent.cid !== cid || !seesShadowed(me, parent, a.user?.role ?? null))
      throw invalid('parent_id names no message in this channel');
    if (parent.parentId) throw invalid('A reply cannot itself have replies; reply to the thread parent');
    if (parent.deletedAt) throw invalid('Cannot reply to a deleted message');
  }
  let quoted: MessageRow | null = null;
  if (input.quoted_message_id) {
    quoted = await messageRow(svc.db, appId, input.quoted_message_id);
    if (!quoted || quoted.cid !== cid || !seesShadowed(me, quoted, a.user?.role ?? null))
      throw invalid('quoted_message_id names no message in this channel');
  }
  const mentions = knownMentions ?? (await resolveMentions(svc, appId, cid, input.text));
  if (mentions.channel) checkCan(a, 'mention-channel', svc.clock());
  const inChannel = !parent || !!input.show_in_channel;
  const at = new Date();
  // The inbox's outbox row (features/inbox/record.ts) commits with the message, so no crash
  // can lose its items; only a send that may put one in an inbox writes it, and only such a
  // send is handed to the inbox after commit.
  const mayReachInbox =
    !shadowed &&
    (!!parent || mentions.users.length > 0 || mentions.hereFlag || mentions.channel || a.channel.type === 'dm');

  let result: Message;
  try {
    result = await withTransaction(svc, (tx, out) =>
      storeMessage(svc, tx, out, {
        me,
        cid,
        id,
        input,
        author: a.user,
        parent,
        quoted,
        mentions,
        shadowed,
        mayReachInbox,
        inChannel,
        at,
      }),
    );
  } catch (err) {
    if (!(err instanceof DuplicateId)) throw err;
    return { kind: 'taken' };
  }
  return { kind: 'sent', message: result, author: a.user, inbox: mayReachInbox };
}

/** What `storeMessage` writes: a send checked and its mentions resolved. */
interface Store {
  me: Caller & { kind: 'user' };
  cid: string;
  id: string;
  input: MessageInput;
  author: UserRow | null;
  parent: MessageRow | null;
  quoted: MessageRow | null;
  mentions: Mentions;
  shadowed: boolean;
  mayReachInbox: boolean;
  inChannel: boolean;
  at: Date;
}

/**
 * Store one checked send inside `tx`: take its seq, write the message, its log entry, its
 * inbox row, files, poll, unfurl job and mention flags, and queue its events in `out`. Throws
 * `DuplicateId` when the id is taken (the caller's rollback returns the seq). The one-send path
 * and a channel's first message (`first-message.ts`) share it, so the two cannot drift.
 */
export async function storeMessage(svc: Services, tx: Tx, out: Outbox, s: Store): Promise<Message> {
  const { me, cid, id, input, parent, quoted, mentions, shadowed, mayReachInbox, inChannel, at } = s;
  const appId = me.app.id;
  const seq = await takeSeqs(tx, appId, cid, 1, inChannel ? at : undefined);
  const attachments = await attachFiles(tx, appId, cid, me.userId, id, input.attachments ?? []);
  const poll = input.poll ? newPoll(input.poll) : null;
  // The stored row is known in full before it is written (every default is set here), so
  // the event is presented and serialized once, and the message and its log entry go in
  // one statement: an id already taken inserts neither, and the rollback returns the seq.
  const row: MessageRow = {
    appId,
    id,
    cid,
    seq,
    userId: me.userId,
    type: 'regular',
    text: input.text,
    parentId: parent?.id ?? null,
    showInChannel: !!parent && !!input.show_in_channel,
    replyCount: 0,
    lastReplyAt: null,
    threadParticipants: [],
    quotedMessageId: quoted?.id ?? null,
    reactionCounts: {},
    latestReactions: [],
    mentionedUsers: mentions.users,
    mentionedHere: mentions.hereFlag,
    mentionedChannel: mentions.channel,
    shadowed,
    attachments,
    previews: [],
    hiddenPreviews: [],
    poll,
    pinnedAt: null,
    pinnedBy: null,
    editedAt: null,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
  };
  const event: ChannelEvent = {
    type: 'message.new',
    cid,
    seq,
    created_at: at.toISOString(),
    message: presentMessage(row, { user: s.author, quoted }),
  };
  if (parent) {
    const [p] = await tx
      .update(schema.messages)
      .set({
        replyCount: sql`${schema.messages.replyCount} + 1`,
        lastReplyAt: at,
        threadParticipants: sql`case
          when ${schema.messages.threadParticipants} @> ${JSON.stringify([me.userId])}::jsonb then ${schema.messages.threadParticipants}
          when jsonb_array_length(${schema.messages.threadParticipants}) >= ${MAX_PARTICIPANTS} then ${schema.messages.threadParticipants}
          when jsonb_array_length(${schema.messages.threadParticipants}) = 0 and ${schema.messages.userId} <> ${me.userId}
            then jsonb_build_array(${schema.messages.userId}) || ${JSON.stringify([me.userId])}::jsonb
          else ${schema.messages.threadParticipants} || ${JSON.stringify([me.userId])}::jsonb end`,
      })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, parent.id)))
      .returning();
    if (p) event.parent = presentMessage(p);
  }
  const frame = JSON.stringify(event);
  const written = await rows<{ seq: number }>(
    tx,
    sql`with m as (
      insert into ${schema.messages} (app_id, id, cid, seq, user_id, type, text, parent_id, show_in_channel,
        quoted_message_id, mentioned_users, mentioned_here, mentioned_channel, shadowed, attachments, poll, created_at, updated_at)
      values (${appId}, ${id}, ${cid}, ${seq}, ${me.userId}, 'regular', ${input.text}, ${row.parentId},
        ${row.showInChannel}, ${row.quotedMessageId}, ${JSON.stringify(row.mentionedUsers)}::jsonb, ${row.mentionedHere},
        ${row.mentionedChannel}, ${shadowed}, ${JSON.stringify(attachments)}::jsonb,
        ${poll ? JSON.stringify(poll) : null}::jsonb, ${at}, ${at})
      on conflict do nothing
      returning id),
    p as (insert into inbox_pending (app_id, message_id) select ${appId}::uuid, id from m where ${mayReachInbox}::boolean)
    insert into ${schema.channelEvents} (app_id, cid, seq, type, payload, created_at, shadow_of)
    select ${appId}, ${cid}, ${seq}, 'message.new', ${frame}::jsonb, ${at}, ${shadowed ? me.userId : null} from m
    returning seq`,
  );
  if (written.length === 0) throw new DuplicateId();
  if (poll) await schedulePollClose(svc, tx, appId, id, poll);
  // The outbox of DESIGN.md: the unfurl job exists exactly when the message commits.
  if (svc.config.linkPreviews && previewUrls(input.text).length > 0)
    await svc.jobs.enqueue(tx, UNFURL, { appId, messageId: id });
  out.push({ to: 'channel', appId, cid, event, frame, ...(shadowed ? { shadowOf: me.userId } : {}) });
  if (shadowed) return event.message; // no mention flags, no notifications
  await flagMentions(tx, out, appId, row, mentions, me.userId, event.message);
  if (mentions.channel) {
    const everyone = await tx
      .select({ id: schema.members.userId })
      .from(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid)));
    const already = new Set([...mentions.users, ...mentions.here, me.userId]);
    for (const r of everyone)
      if (!already.has(r.id))
        out.push({
          to: 'user',
          appId,
          userId: r.id,
          event: {
            type: 'notification.new',
            cid,
            reason: 'channel',
            message: event.message,
            created_at: at.toISOString(),
          },
        });
  }
  return event.message;
}

/** Edit your own message; the earlier text is kept as a version. */
export async function updateMessage(svc: Services, caller: Caller, id: string, text: string): Promise<Message> {
  const me = requireUser(caller, 'Messages are written as a user: use a user token');
  const appId = me.app.id;
  checkText(text);
  const a = await accessMessage(svc.db, me, id);
  checkCan(a, a.message.userId === me.userId ? 'edit-own-message' : 'edit-any-message', svc.clock());
  if (a.message.type !== 'regular') throw forbidden(`A ${a.message.type} message cannot be edited`);
  const mentions = await resolveMentions(svc, appId, a.channel.cid, text);
  let unfurl = false;
  const mentionChange: { added: string[]; removed: string[] } = { added: [], removed: [] };
  // The inbox's task for the mentions the edit adds or takes out: written in the transaction.
  let afterCommit = () => {};
  const edited = await withTransaction(svc, async (tx, out) => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const [cur] = await tx
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, id)));
    if (!cur || cur.deletedAt) throw notFound('Message');
    if (cur.text === text) throw new Unchanged((await enrichMessages(tx, appId, me.userId, [cur]))[0]);
    await tx.execute(sql`
      insert into ${schema.messageVersions} (app_id, message_id, version, text, created_at)
      select ${appId}, ${id}, coalesce(max(version), 0) + 1, ${cur.text}, ${cur.editedAt ?? cur.createdAt}
      from ${schema.messageVersions} where app_id = ${appId} and message_id = ${id}`);
    const at = new Date();
    // Cards of URLs the edit took out go at once; URLs it brought in get a job.
    const links = editedLinks(cur, text, svc.config.linkPreviews);
    const [row] = await tx
      .update(schema.messages)
      .set({
        text,
        editedAt: at,
        updatedAt: at,
        mentionedUsers: mentions.users,
        mentionedHere: mentions.hereFlag,
        mentionedChannel: mentions.channel,
        previews: links.previews,
      })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, id)))
      .returning();
    if (links.unfurl) {
      await svc.jobs.enqueue(tx, UNFURL, { appId, messageId: id });
      unfurl = true;
    }
    const message = (await enrichMessages(tx, appId, null, [row!]))[0] as Message;
    await logEvents(
      tx,
      out,
      appId,
      [{ type: 'message.updated', cid: row!.cid, seq, created_at: at.toISOString(), message }],
      row!.shadowed ? row!.userId : null,
    );
    // @channel added or taken out moves every member's mention count but the author's: the
    // event just logged says so to the unread pushes of every node (realtime/bus.ts).
    const logged = out.at(-1);
    if (cur.mentionedChannel !== row!.mentionedChannel && logged?.to === 'channel') logged.movesCounts = true;
    // Only people newly mentioned by the edit are notified (none, for a shadowed message).
    if (!row!.shadowed) {
      const reasons = await flagMentions(
        tx,
        out,
        appId,
        row!,
        mentions,
        me.userId,
        message,
        new Set(cur.mentionedUsers),
      );
      mentionChange.added = [...reasons.keys()];
    }
    // Names the edit took out are no longer mentions (as in Slack: the mention leaves the
    // unread-mention count and, while unread, the inbox).
    const still = new Set([...mentions.users, ...mentions.here]);
    mentionChange.removed = cur.mentionedUsers.filter((u) => !still.has(u));
    if (mentionChange.removed.length)
      await tx
        .delete(schema.userMessageFlags)
        .where(
          and(
            eq(schema.userMessageFlags.appId, appId),
            eq(schema.userMessageFlags.messageId, id),
            inArray(schema.userMessageFlags.userId, mentionChange.removed),
          ),
        );
    afterCommit = await svc.mentionsEdited(svc, tx, appId, id, mentionChange.added, mentionChange.removed);
    return { ...message, own_reactions: await ownReactions(tx, appId, me.userId, id) };
  });
  if (unfurl) svc.jobs.wake(UNFURL.name);
  afterCommit();
  // A mention added or taken out moves that person's mention count (the text alone moves none).
  for (const u of [...mentionChange.added, ...mentionChange.removed]) svc.unread.user(appId, u, edited.cid);
  return edited;
}

/**
 * An edit's effect on the message's previews: the cards of URLs still in the text (as the
 * new text writes them), and whether some URL now lacks one (and is not removed by the author).
 */
function editedLinks(
  cur: MessageRow,
  text: string,
  enabled: boolean,
): { previews: MessageRow['previews']; unfurl: boolean } {
  const hidden = new Set(cur.hiddenPreviews);
  const had = new Map(cur.previews.map((p) => [normalizeUrl(p.url), p]));
  const previews: MessageRow['previews'] = [];
  let unfurl = false;
  for (const url of previewUrls(text)) {
    const key = normalizeUrl(url);
    if (!key || hidden.has(key)) continue;
    const card = had.get(key);
    if (card) previews.push({ ...card, url });
    else unfurl = enabled;
  }
  return { previews, unfurl };
}

/** Soft delete: the message keeps its seq and place but loses its text. Authors and moderators. */
export async function deleteMessage(svc: Services, caller: Caller, id: string): Promise<Message> {
  const appId = caller.app.id;
  const a = await accessMessage(svc.db, caller, id);
  const isAuthor = caller.kind === 'user' && a.message.userId === caller.userId;
  checkCan(a, isAuthor ? 'delete-own-message' : 'delete-any-message', svc.clock());
  let afterCommit = () => {};
  const deleted = await withTransaction(svc, async (tx, out) => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const at = new Date();
    const [row] = await tx
      .update(schema.messages)
      .set({
        type: 'deleted',
        text: '',
        deletedAt: at,
        updatedAt: at,
        mentionedUsers: [],
        mentionedHere: false,
        mentionedChannel: false,
        reactionCounts: {},
        latestReactions: [],
        pinnedAt: null,
        pinnedBy: null,
      })
      .where(
        and(eq(schema.messages.appId, appId), eq(schema.messages.id, id), sql`${schema.messages.deletedAt} is null`),
      )
      .returning();
    if (!row) throw new Unchanged((await enrichMessages(tx, appId, caller.userId, [a.message]))[0]);
    await tx
      .delete(schema.userMessageFlags)
      .where(and(eq(schema.userMessageFlags.appId, appId), eq(schema.userMessageFlags.messageId, id)));
    await tx.delete(schema.reactions).where(and(eq(schema.reactions.appId, appId), eq(schema.reactions.messageId, id)));
    await tx
      .delete(schema.messageVersions)
      .where(and(eq(schema.messageVersions.appId, appId), eq(schema.messageVersions.messageId, id)));
    const [message] = await enrichMessages(tx, appId, null, [row]);
    const event: ChannelEvent = {
      type: 'message.deleted',
      cid: row.cid,
      seq,
      created_at: at.toISOString(),
      message: message!,
    };
    if (row.parentId) {
      // A deleted reply leaves the thread's count, as in Slack; the parent travels with the event.
      const [p] = await tx
        .update(schema.messages)
        .set({ replyCount: sql`greatest(${schema.messages.replyCount} - 1, 0)` })
        .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, row.parentId)))
        .returning();
      if (p) event.parent = presentMessage(p);
    }
    await logEvents(tx, out, appId, [event], row.shadowed ? row.userId : null);
    // Its files go with it (their bytes by a job), in the same transaction.
    await dropMessageFiles(svc, tx, appId, id);
    // So does its task (features/tasks: its reminder cancelled, `task.deleted` told).
    afterCommit = await svc.messagesDeleted(svc, tx, out, appId, [id], at.getTime());
    return message!;
  });
  afterCommit();
  return deleted;
}

/** Pin or unpin a message (any member of a live channel). */
export async function setPinned(svc: Services, caller: Caller, id: string, pinned: boolean): Promise<Message> {
  const me = requireUser(caller, 'Messages are written as a user: use a user token');
  const appId = me.app.id;
  const a = await accessMessage(svc.db, me, id);
  checkCan(a, 'pin-message', svc.clock());
  if (a.message.type !== 'regular') throw forbidden(`A ${a.message.type} message cannot be pinned`);
  return withTransaction(svc, async (tx, out) => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const at = new Date();
    const [row] = await tx
      .update(schema.messages)
      .set({ pinnedAt: pinned ? at : null, pinnedBy: pinned ? me.userId : null, updatedAt: at })
      .where(
        and(
          eq(schema.messages.appId, appId),
          eq(schema.messages.id, id),
          pinned ? sql`${schema.messages.pinnedAt} is null` : sql`${schema.messages.pinnedAt} is not null`,
        ),
      )
      .returning();
    if (!row) throw new Unchanged((await enrichMessages(tx, appId, me.userId, [a.message]))[0]);
    const message = (await enrichMessages(tx, appId, null, [row]))[0] as Message;
    await logEvents(
      tx,
      out,
      appId,
      [{ type: 'message.updated', cid: row.cid, seq, created_at: at.toISOString(), message }],
      row.shadowed ? row.userId : null,
    );
    return { ...message, own_reactions: await ownReactions(tx, appId, me.userId, id) };
  });
}

export async function ownReactions(
  q: Queryable,
  appId: string,
  userId: string | null,
  messageId: string,
): Promise<string[]> {
  if (!userId) return [];
  const rows = await q
    .select({ type: schema.reactions.type })
    .from(schema.reactions)
    .where(
      and(
        eq(schema.reactions.appId, appId),
        eq(schema.reactions.messageId, messageId),
        eq(schema.reactions.userId, userId),
      ),
    )
    .orderBy(schema.reactions.createdAt);
  return rows.map((r) => r.type);
}

/**
 * Present a page of messages with their authors, the caller's own reactions and quoted
 * messages: three batched queries, whatever the page size.
 */
export async function enrichMessages(
  q: Queryable,
  appId: string,
  callerId: string | null,
  rows: MessageRow[],
): Promise<Message[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const userIds = [...new Set(rows.map((r) => r.userId))];
  const quotedIds = [...new Set(rows.map((r) => r.quotedMessageId).filter((x): x is string => !!x))];
  // Only pages with a poll pay for the caller's votes (features/polls).
  const pollIds = callerId ? rows.filter((r) => r.poll).map((r) => r.id) : [];
  const [users, own, quoted, votes] = await Promise.all([
    q
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), inArray(schema.users.id, userIds))),
    callerId
      ? q
          .select({ messageId: schema.reactions.messageId, type: schema.reactions.type })
          .from(schema.reactions)
          .where(
            and(
              eq(schema.reactions.appId, appId),
              inArray(schema.reactions.messageId, ids),
              eq(schema.reactions.userId, callerId),
            ),
          )
          .orderBy(schema.reactions.createdAt)
      : Promise.resolve([] as { messageId: string; type: string }[]),
    quotedIds.length
      ? q
          .select()
          .from(schema.messages)
          .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, quotedIds)))
      : Promise.resolve([] as MessageRow[]),
    pollIds.length && callerId ? ownVotes(q, appId, callerId, pollIds) : Promise.resolve(new Map<string, string[]>()),
  ]);
  const userMap = new Map<string, UserRow>(users.map((u) => [u.id, u]));
  const ownMap = new Map<string, string[]>();
  for (const r of own) ownMap.set(r.messageId, [...(ownMap.get(r.messageId) ?? []), r.type]);
  const quotedMap = new Map(quoted.map((m) => [m.id, m]));
  return rows.map((r) =>
    presentMessage(r, {
      user: userMap.get(r.userId) ?? null,
      own: ownMap.get(r.id) ?? [],
      ownVotes: votes.get(r.id) ?? [],
      ...(r.quotedMessageId ? { quoted: quotedMap.get(r.quotedMessageId) ?? null } : {}),
    }),
  );
}
