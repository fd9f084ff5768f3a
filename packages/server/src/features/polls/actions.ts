/**
 * Polls: votes and closing (a poll itself is made by the send path, messages/polls.ts).
 *
 * Every change takes the channel's next seq first, which locks the channel's counter row until
 * commit: all changes to one channel's polls run one after another, so recounting the tallies
 * from poll_votes inside the transaction is exact however many votes race (the same user twice
 * at once included). The tallies are then written to the message row (`messages.poll`), so
 * reading a message never counts.
 *
 * An anonymous poll stores who voted (one vote per person needs it) but presents no voter, in
 * answers, events and so webhooks alike: `voters` is always empty there.
 */
import { MAX_POLL_VOTERS_SHOWN, type Poll } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { rows, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { logEvents, type Outbox, takeSeqs, Unchanged, withTransaction } from '../../platform/event-log.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import type { MessageRow, StoredPoll } from '../messages/index.js';
import { accessMessage } from '../messages/index.js';
import { checkCan, LEVEL_RANK } from '../permissions/index.js';

/** What a vote or a close answers: the poll as it now stands with the caller's votes. */
export interface PollResult {
  message_id: string;
  poll: Poll;
}

/** A poll is closed once closed by someone, or once its end time has passed. */
export const isClosed = (p: StoredPoll, now: number) =>
  p.closed_at !== null || (p.ends_at !== null && Date.parse(p.ends_at) <= now);

function pollOf(row: MessageRow): StoredPoll {
  if (!row.poll || row.type !== 'regular' || row.deletedAt) throw invalid('This message carries no poll');
  return row.poll;
}

/** The message row, locked for this transaction (the channel lock is already held). */
async function lockedRow(tx: Tx, appId: string, messageId: string): Promise<MessageRow> {
  const [row] = await tx
    .select()
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)))
    .for('update');
  if (!row) throw notFound('Message');
  return row;
}

/** Count the tallies of a poll from its votes (exact: called under the channel lock). */
async function recount(tx: Tx, appId: string, messageId: string, poll: StoredPoll): Promise<StoredPoll> {
  const counted = await rows<{ option_id: string; n: number; voters: string[] }>(
    tx,
    sql`select option_id, count(*)::int as n,
          (array_agg(user_id order by created_at, user_id))[1:${MAX_POLL_VOTERS_SHOWN}] as voters
        from ${schema.pollVotes} where app_id = ${appId} and message_id = ${messageId}
        group by option_id`,
  );
  const [people] = await rows<{ n: number }>(
    tx,
    sql`select count(distinct user_id)::int as n from ${schema.pollVotes}
        where app_id = ${appId} and message_id = ${messageId}`,
  );
  const byOption = new Map(counted.map((c) => [c.option_id, c]));
  return {
    ...poll,
    options: poll.options.map((o) => {
      const c = byOption.get(o.id);
      return { ...o, vote_count: c?.n ?? 0, voters: poll.anonymous ? [] : (c?.voters ?? []) };
    }),
    voter_count: people?.n ?? 0,
  };
}

/** Store a poll's new state and log `poll.updated` (the caller's own votes left out). */
async function publishPoll(
  tx: Tx,
  out: Outbox,
  appId: string,
  row: MessageRow,
  seq: number,
  poll: StoredPoll,
  at: Date,
): Promise<void> {
  await tx
    .update(schema.messages)
    .set({ poll })
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, row.id)));
  await logEvents(
    tx,
    out,
    appId,
    [
      {
        type: 'poll.updated',
        cid: row.cid,
        seq,
        created_at: at.toISOString(),
        message_id: row.id,
        poll: { ...poll, own_votes: [] },
      },
    ],
    row.shadowed ? row.userId : null,
  );
}

async function myVotes(tx: Tx, appId: string, messageId: string, userId: string): Promise<string[]> {
  const r = await tx
    .select({ optionId: schema.pollVotes.optionId })
    .from(schema.pollVotes)
    .where(
      and(
        eq(schema.pollVotes.appId, appId),
        eq(schema.pollVotes.messageId, messageId),
        eq(schema.pollVotes.userId, userId),
      ),
    );
  return r.map((x) => x.optionId).sort();
}

/**
 * Vote: `optionIds` is the caller's whole choice (it replaces any earlier one); null takes the
 * vote back. The same choice again changes nothing and logs nothing.
 */
export async function votePoll(
  svc: Services,
  caller: Caller,
  messageId: string,
  optionIds: string[] | null,
): Promise<PollResult> {
  const me = requireUser(caller, 'Votes are cast as a user: use a user token');
  const appId = me.app.id;
  const a = await accessMessage(svc.db, me, messageId);
  checkCan(a, 'vote-poll', svc.clock());
  const poll = pollOf(a.message);
  const chosen = optionIds ? [...new Set(optionIds)].sort() : [];
  if (optionIds) {
    if (chosen.length !== optionIds.length) throw invalid('option_ids names an option twice');
    const known = new Set(poll.options.map((o) => o.id));
    const unknown = chosen.filter((id) => !known.has(id));
    if (unknown.length) throw invalid('option_ids names options this poll does not have', { unknown });
    if (!poll.multiple && chosen.length !== 1) throw invalid('This poll takes exactly one option');
  }
  // Votes count against the same per-user limit as reactions.
  await checkRate(svc, 'reactions', appId, me.userId);
  return withTransaction(svc, async (tx, out): Promise<PollResult> => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const row = await lockedRow(tx, appId, messageId);
    const current = pollOf(row);
    const at = new Date();
    if (isClosed(current, svc.clock()))
      throw new ApiError('POLL_CLOSED', 'This poll is closed', {
        closed_at: current.closed_at ?? current.ends_at,
      });
    const before = await myVotes(tx, appId, messageId, me.userId);
    if (before.join('\n') === chosen.join('\n'))
      throw new Unchanged<PollResult>({ message_id: messageId, poll: { ...current, own_votes: before } });
    await tx
      .delete(schema.pollVotes)
      .where(
        and(
          eq(schema.pollVotes.appId, appId),
          eq(schema.pollVotes.messageId, messageId),
          eq(schema.pollVotes.userId, me.userId),
        ),
      );
    if (chosen.length)
      await tx
        .insert(schema.pollVotes)
        .values(chosen.map((optionId) => ({ appId, messageId, userId: me.userId, optionId, createdAt: at })));
    const next = await recount(tx, appId, messageId, current);
    await publishPoll(tx, out, appId, row, seq, next, at);
    return { message_id: messageId, poll: { ...next, own_votes: chosen } };
  });
}

/**
 * Close a poll: its author, or a moderator of the channel (or above). Closing a closed poll
 * changes nothing. The results stay on the message.
 */
export async function closePoll(svc: Services, caller: Caller, messageId: string): Promise<PollResult> {
  const me = requireUser(caller, 'Polls are closed as a user: use a user token');
  const appId = me.app.id;
  const a = await accessMessage(svc.db, me, messageId);
  pollOf(a.message);
  if (a.message.userId !== me.userId && a.rank < LEVEL_RANK.moderator)
    throw forbidden('Only the author or a moderator may close this poll');
  return closeIn(svc, appId, a.channel.cid, messageId, me.userId, me.userId);
}

/**
 * The end-time job (jobs.ts): close the poll if its time has come. Run twice, or after someone
 * closed it by hand, it does nothing: the poll closes, and `poll.updated` is logged, once.
 */
export async function closePollAtEnd(svc: Services, appId: string, messageId: string): Promise<void> {
  const [row] = await svc.db
    .select({ cid: schema.messages.cid, poll: schema.messages.poll })
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)));
  if (!row?.poll?.ends_at || row.poll.closed_at) return;
  await closeIn(svc, appId, row.cid, messageId, null, null);
}

async function closeIn(
  svc: Services,
  appId: string,
  cid: string,
  messageId: string,
  by: string | null,
  viewer: string | null,
): Promise<PollResult> {
  return withTransaction(svc, async (tx, out): Promise<PollResult> => {
    const seq = await takeSeqs(tx, appId, cid, 1);
    const row = await lockedRow(tx, appId, messageId);
    const current = pollOf(row);
    const own = viewer ? await myVotes(tx, appId, messageId, viewer) : [];
    if (current.closed_at !== null)
      throw new Unchanged<PollResult>({ message_id: messageId, poll: { ...current, own_votes: own } });
    const at = new Date();
    // By its end time (the job), the poll closes at that time, not when the job ran.
    const closedAt =
      by === null && current.ends_at ? new Date(Math.min(Date.parse(current.ends_at), at.getTime())) : at;
    const next: StoredPoll = { ...current, closed_at: closedAt.toISOString(), closed_by: by };
    await publishPoll(tx, out, appId, row, seq, next, at);
    return { message_id: messageId, poll: { ...next, own_votes: own } };
  });
}
