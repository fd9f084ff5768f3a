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

export function presentMember(row: MemberRow, user?: UserRow | null): Member {
  return {
    user_id: row.userId,
    ...(user ? { user: presentUser(user) } : {}),
    role: row.role as MemberRole,
    last_read_seq: row.lastReadSeq,
    last_read_at: row.lastReadAt?.toISOString() ?? null,
    read_rev: row.readRev,
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
