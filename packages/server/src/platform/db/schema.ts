/**
 * The one database schema, for PGlite and PostgreSQL alike. Migrations are generated from
 * it with `drizzle-kit generate` (see `npm run db:generate`) and are never edited after they
 * land. Every table but `apps` is keyed by `app_id` first: tenancy is part of every key.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const seq = (name: string) => bigint(name, { mode: 'number' });

export const apps = pgTable('apps', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  apiKey: text('api_key').notNull().unique(),
  /** AES-256-GCM sealed with the master key; see docs/security.md for why not a hash. */
  apiSecretSealed: text('api_secret_sealed').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  disabledAt: ts('disabled_at'),
});

export const users = pgTable(
  'users',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    name: text('name').notNull(),
    username: text('username'),
    image: text('image'),
    role: text('role').notNull().default('user'),
    statusText: text('status_text'),
    statusEmoji: text('status_emoji'),
    statusExpiresAt: ts('status_expires_at'),
    lastActiveAt: ts('last_active_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('users_username_uq').on(t.appId, sql`lower(${t.username})`),
    index('users_name_idx').on(t.appId, sql`lower(${t.name}) text_pattern_ops`),
    index('users_username_prefix_idx').on(t.appId, sql`lower(${t.username}) text_pattern_ops`),
  ],
);

export const channels = pgTable(
  'channels',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    cid: text('cid').notNull(),
    type: text('type').notNull(),
    id: text('id').notNull(),
    name: text('name'),
    description: text('description'),
    topic: text('topic'),
    image: text('image'),
    createdBy: text('created_by'),
    archivedAt: ts('archived_at'),
    /** The channel's sequence counter: every logged event takes `last_seq + 1` under the row lock. */
    lastSeq: seq('last_seq').notNull().default(0),
    lastMessageAt: ts('last_message_at'),
    memberCount: integer('member_count').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.cid] }),
    index('channels_type_idx').on(t.appId, t.type),
    index('channels_name_idx').on(t.appId, sql`lower(${t.name}) text_pattern_ops`),
  ],
);

export const members = pgTable(
  'members',
  {
    appId: uuid('app_id').notNull(),
    cid: text('cid').notNull(),
    userId: text('user_id').notNull(),
    role: text('role').notNull().default('member'),
    lastReadSeq: seq('last_read_seq').notNull().default(0),
    muted: boolean('muted').notNull().default(false),
    joinedAt: ts('joined_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.cid, t.userId] }), index('members_user_idx').on(t.appId, t.userId)],
);

export const messages = pgTable(
  'messages',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    cid: text('cid').notNull(),
    seq: seq('seq').notNull(),
    userId: text('user_id').notNull(),
    type: text('type').notNull().default('regular'),
    text: text('text').notNull(),
    parentId: uuid('parent_id'),
    showInChannel: boolean('show_in_channel').notNull().default(false),
    replyCount: integer('reply_count').notNull().default(0),
    lastReplyAt: ts('last_reply_at'),
    threadParticipants: jsonb('thread_participants').$type<string[]>().notNull().default([]),
    quotedMessageId: uuid('quoted_message_id'),
    reactionCounts: jsonb('reaction_counts').$type<Record<string, number>>().notNull().default({}),
    latestReactions: jsonb('latest_reactions')
      .$type<{ type: string; user_id: string; created_at: string }[]>()
      .notNull()
      .default([]),
    mentionedUsers: jsonb('mentioned_users').$type<string[]>().notNull().default([]),
    mentionedHere: boolean('mentioned_here').notNull().default(false),
    mentionedChannel: boolean('mentioned_channel').notNull().default(false),
    pinnedAt: ts('pinned_at'),
    pinnedBy: text('pinned_by'),
    editedAt: ts('edited_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('messages_seq_uq').on(t.appId, t.cid, t.seq),
    index('messages_parent_idx').on(t.appId, t.parentId, t.seq),
    index('messages_pinned_idx').on(t.appId, t.cid, t.pinnedAt),
  ],
);

export const messageVersions = pgTable(
  'message_versions',
  {
    appId: uuid('app_id').notNull(),
    messageId: uuid('message_id').notNull(),
    version: integer('version').notNull(),
    text: text('text').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.messageId, t.version] })],
);

export const reactions = pgTable(
  'reactions',
  {
    appId: uuid('app_id').notNull(),
    messageId: uuid('message_id').notNull(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.messageId, t.userId, t.type] }),
    index('reactions_latest_idx').on(t.appId, t.messageId, t.createdAt),
  ],
);

/** The per-channel event log that resync replays from: one row per seq. */
export const channelEvents = pgTable(
  'channel_events',
  {
    appId: uuid('app_id').notNull(),
    cid: text('cid').notNull(),
    seq: seq('seq').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.cid, t.seq] })],
);

/**
 * Sparse per-user flags on messages: one row only where a flag exists (a mention, a save),
 * never one row per recipient per message.
 */
export const userMessageFlags = pgTable(
  'user_message_flags',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    messageId: uuid('message_id').notNull(),
    cid: text('cid').notNull(),
    seq: seq('seq').notNull(),
    mentioned: boolean('mentioned').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.userId, t.messageId] }),
    index('flags_user_cid_idx').on(t.appId, t.userId, t.cid, t.seq),
  ],
);
