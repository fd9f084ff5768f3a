/**
 * Unread counts the server pushes. Each change of one of a user's channel counts (unread
 * messages, unread mentions) and of their totals goes to every connection of that user, on
 * every node, as `unread.updated`: the values read from the database after the change committed,
 * never a client's sum. `rev` orders them against each other and against answers that carry
 * counts (`GET /v1/me`'s `unread.rev`, a read mark's `read_rev`): of two, the larger `rev` is the
 * newer; a push older than what a client holds is dropped.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Seq, Timestamp } from './ids.js';

/** What a revision of unread counts is: it only grows (the same sequence as `read_rev`). */
const Rev = Type.Integer({ minimum: 0, description: 'revision of the counts: larger is newer' });

/**
 * A user's unread totals over their channels, muted channels left out: `total` unread messages,
 * `mentions` unread mentions, `channels` channels with something unread. `rev`: the revision
 * they were read at (absent from servers before unread pushes).
 */
export const UnreadTotals = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  mentions: Type.Integer({ minimum: 0 }),
  channels: Type.Integer({ minimum: 0 }),
  rev: Type.Optional(Rev),
});
export type UnreadTotals = Static<typeof UnreadTotals>;

export const UnreadEvents = [
  /**
   * To every connection of one user: their unread counts changed (a message that counts for
   * them arrived or was deleted, a read mark moved, they joined or left a channel, a mute
   * changed). With `cid`: that channel's `unread_count` and `mention_count` (0 when they are no
   * longer a member) at its `last_seq`; always the totals (`total`, `mentions`, `channels`, as
   * in `GET /v1/me`). Apply it only when `rev` is larger than the revision held.
   */
  Type.Object({
    type: Type.Literal('unread.updated'),
    cid: Type.Optional(Cid),
    unread_count: Type.Optional(Type.Integer({ minimum: 0 })),
    mention_count: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The channel's `last_seq` the counts are at (a message above it is not in them yet). */
    last_seq: Type.Optional(Seq),
    total: Type.Integer({ minimum: 0 }),
    mentions: Type.Integer({ minimum: 0 }),
    channels: Type.Integer({ minimum: 0 }),
    rev: Rev,
    created_at: Timestamp,
  }),
] as const;
