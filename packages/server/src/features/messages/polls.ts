/**
 * The poll step of the send path (actions.ts `sendOne` calls it): check what the sender asked
 * for, build the poll the message row stores, and schedule its closing in the send's own
 * transaction; and the caller's own votes, which `enrichMessages` shows. Here in messages, the
 * send path's owner, below features/polls (votes and closing), which imports messages.
 */
import { MAX_POLL_OPTIONS, type Poll, type PollInput } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import { CLOSE_POLL } from './job-names.js';

/** A poll as the message row keeps it: the wire's poll less the caller's own votes. */
export type StoredPoll = Omit<Poll, 'own_votes'>;

/** The furthest end time a poll may have. */
const MAX_OPEN_MS = 366 * 24 * 3600 * 1000;

/** Check a poll request against the rules the schema cannot say; throws VALIDATION_ERROR. */
export function checkPollInput(input: PollInput, text: string, now: number): void {
  if (text.trim() === '') throw invalid('A poll needs a question: the message text');
  const seen = new Set<string>();
  for (const o of input.options) {
    const key = o.trim().toLowerCase();
    if (key === '') throw invalid('Poll options must not be blank');
    if (seen.has(key)) throw invalid('Poll options must differ', { option: o });
    seen.add(key);
  }
  if (input.options.length > MAX_POLL_OPTIONS) throw invalid(`A poll has at most ${MAX_POLL_OPTIONS} options`);
  if (input.ends_at) {
    const at = Date.parse(input.ends_at);
    if (Number.isNaN(at)) throw invalid('ends_at is not a time');
    if (at <= now) throw invalid('ends_at must be in the future');
    if (at - now > MAX_OPEN_MS) throw invalid('ends_at must be within a year');
  }
}

/** The poll a new message stores: every tally zero. */
export function newPoll(input: PollInput): StoredPoll {
  return {
    options: input.options.map((text, i) => ({ id: String(i), text: text.trim(), vote_count: 0, voters: [] })),
    multiple: !!input.multiple,
    anonymous: !!input.anonymous,
    ends_at: input.ends_at ? new Date(input.ends_at).toISOString() : null,
    closed_at: null,
    closed_by: null,
    voter_count: 0,
  };
}

/** Schedule the closing of a poll with an end time, in the send's transaction (the outbox). */
export async function schedulePollClose(svc: Infra, tx: Tx, appId: string, messageId: string, poll: StoredPoll) {
  if (!poll.ends_at) return;
  const secs = Math.max(0, Math.ceil((Date.parse(poll.ends_at) - svc.clock()) / 1000));
  // In the send's transaction: a retried send (same id) rolls back and enqueues nothing more;
  // the close itself is idempotent, so even a job run twice closes (and tells) once.
  await svc.jobs.enqueue(tx, CLOSE_POLL, { appId, messageId }, { startAfterSeconds: secs });
}

/** The caller's chosen options of each of these polls (messages by id), one query. */
export async function ownVotes(
  q: Queryable,
  appId: string,
  userId: string,
  messageIds: string[],
): Promise<Map<string, string[]>> {
  const rows = await q
    .select({ messageId: schema.pollVotes.messageId, optionId: schema.pollVotes.optionId })
    .from(schema.pollVotes)
    .where(
      and(
        eq(schema.pollVotes.appId, appId),
        eq(schema.pollVotes.userId, userId),
        inArray(schema.pollVotes.messageId, messageIds),
      ),
    )
    .orderBy(schema.pollVotes.optionId);
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.messageId, [...(out.get(r.messageId) ?? []), r.optionId]);
  return out;
}
