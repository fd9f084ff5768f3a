import type { Message } from '@parley/protocol';
import type { schema } from '../../platform/db/index.js';
import { presentUser, type UserRow } from '../users/index.js';

export type MessageRow = typeof schema.messages.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface PresentOptions {
  user?: UserRow | null;
  own?: string[];
  /** The caller's chosen options of the message's poll (features/polls). */
  ownVotes?: string[];
  quoted?: MessageRow | null;
}

/** A message row as the wire shows it. `own_reactions` is per caller, so events leave it empty. */
export function presentMessage(row: MessageRow, opts: PresentOptions = {}): Message {
  const m: Message = {
    id: row.id,
    cid: row.cid,
    seq: row.seq,
    user_id: row.userId,
    type: row.type as Message['type'],
    text: row.text,
    parent_id: row.parentId,
    show_in_channel: row.showInChannel,
    reply_count: row.replyCount,
    last_reply_at: iso(row.lastReplyAt),
    thread_participants: row.threadParticipants,
    quoted_message_id: row.quotedMessageId,
    reactions: row.reactionCounts,
    own_reactions: opts.own ?? [],
    latest_reactions: row.latestReactions,
    mentioned_users: row.mentionedUsers,
    mentioned_here: row.mentionedHere,
    mentioned_channel: row.mentionedChannel,
    pinned: row.pinnedAt !== null,
    pinned_at: iso(row.pinnedAt),
    pinned_by: row.pinnedBy,
    edited_at: iso(row.editedAt),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    deleted_at: iso(row.deletedAt),
    // A deleted message shows none of its files.
    attachments: row.type === 'deleted' ? [] : row.attachments,
    previews: row.type === 'deleted' ? [] : row.previews,
  };
  // A deleted poll keeps no tallies; a poll shows the caller's votes only where they are known.
  if (row.poll && row.type !== 'deleted') m.poll = { ...row.poll, own_votes: opts.ownVotes ?? [] };
  if (opts.user !== undefined) m.user = opts.user ? presentUser(opts.user) : null;
  if (opts.quoted !== undefined) {
    const { quoted_message: _, ...q } = opts.quoted ? presentMessage(opts.quoted) : { quoted_message: null };
    m.quoted_message = opts.quoted ? (q as Message) : null;
  }
  return m;
}
