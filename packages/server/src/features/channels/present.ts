import type { Channel, Member, MemberRole } from '@parley/protocol';
import type { schema } from '../../platform/db/index.js';
import { presentUser, type UserRow } from '../users/index.js';

export type ChannelRow = typeof schema.channels.$inferSelect;
export type MemberRow = typeof schema.members.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A channel row as the wire shows it; list extras are added by the caller. */
export function presentChannel(row: ChannelRow, extra: Partial<Channel> = {}): Channel {
  return {
    cid: row.cid,
    type: row.type as Channel['type'],
    id: row.id,
    name: row.name,
    description: row.description,
    topic: row.topic,
    image: row.image,
    created_by: row.createdBy,
    archived: row.archivedAt !== null,
    archived_at: iso(row.archivedAt),
    last_seq: row.lastSeq,
    last_message_at: iso(row.lastMessageAt),
    member_count: row.memberCount,
    frozen: row.frozen,
    slow_mode_s: row.slowModeS,
    reactions: row.reactions === 'open' ? 'open' : 'members',
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    ...extra,
  };
}

/**
 * Who a member is presented to: the user whose answer it is (their own membership shows its
 * real read mark to them alone), or `everyone` for an event on the channel's topic.
 */
export type MemberViewer = string | 'everyone';

/**
 * A membership as the wire shows it to `viewer`. A member who hides their read receipts
 * (`users.reads_hidden_rev`, features/reads/privacy.ts) shows anyone else `last_read_seq` 0
 * and no `last_read_at`: seen by nobody's count. In an answer the revision is the one taken
 * when they hid them (larger than any real mark others may still hold, so the SDK replaces it
 * with the 0); in an event, which reaches the member too, no revision — the SDK then keeps the
 * mark it holds (the real one on their own devices, the 0 on others').
 */
export function presentMember(row: MemberRow, user: UserRow | null | undefined, viewer: MemberViewer): Member {
  const hiddenRev = user?.readsHiddenRev ?? null;
  const hidden = hiddenRev !== null && viewer !== row.userId;
  return {
    user_id: row.userId,
    ...(user ? { user: presentUser(user) } : {}),
    role: row.role as MemberRole,
    last_read_seq: hidden ? 0 : row.lastReadSeq,
    last_read_at: hidden ? null : (row.lastReadAt?.toISOString() ?? null),
    ...(!hidden ? { read_rev: row.readRev } : viewer === 'everyone' ? {} : { read_rev: hiddenRev }),
    muted: row.muted,
    joined_at: row.joinedAt.toISOString(),
  };
}

export function presentMembership(row: MemberRow) {
  return {
    role: row.role as MemberRole,
    last_read_seq: row.lastReadSeq,
    read_rev: row.readRev,
    muted: row.muted,
    joined_at: row.joinedAt.toISOString(),
  };
}
