/**
 * The one database schema, for PGlite and PostgreSQL alike. Migrations are generated from
 * it with `drizzle-kit generate` (see `npm run db:generate`) and are never edited after they
 * land. Every table but `apps` is keyed by `app_id` first: tenancy is part of every key.
 */
import type {
  Attachment,
  AutomodSettings,
  LinkPreview,
  PermissionOverrides,
  Poll,
  PreviewImage,
  UploadRules,
} from '@parley/protocol';
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgSequence,
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
  /**
   * The text-search configuration for this app's messages (a PostgreSQL `regconfig` name such
   * as `english` or `simple`); queries are parsed with the same one. See features/search.
   */
  searchLanguage: text('search_language').notNull().default('english'),
  /**
   * Per-app permission overrides (features/permissions): channel type → capability → lowest
   * role. Read with the app (AppRegistry caches it), so checks cost no query.
   */
  permissions: jsonb('permissions').$type<PermissionOverrides>().notNull().default({}),
  /** Automod block lists and behaviour (features/moderation/automod.ts); null: off. */
  automod: jsonb('automod').$type<AutomodSettings>(),
  /** Allowed upload types and per-kind size limits (features/files/rules.ts); null: none. */
  uploadRules: jsonb('upload_rules').$type<UploadRules>(),
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
    /** The blurhash of `image` when it is a picture uploaded here (images/avatar.ts); else null. */
    imageBlurhash: text('image_blurhash'),
    role: text('role').notNull().default('user'),
    /**
     * For `guest` users: when they stop being able to post (they can still read). Set by the
     * workspace that invited them (features/accounts/guests.ts); null for everyone else.
     */
    guestUntil: ts('guest_until'),
    /**
     * App-wide ban (features/moderation): set while a ban without a channel stands, so the send
     * path sees it on the user row it already loads. `ban_expires_at` null: until lifted.
     */
    bannedAt: ts('banned_at'),
    banExpiresAt: ts('ban_expires_at'),
    /** Mirror of a standing app-wide shadow ban (moderation/shadow.ts), read with the author on every send. */
    shadowBanned: boolean('shadow_banned').notNull().default(false),
    /** Profile (features/users/profile.ts): all optional, shown to everyone who may see the user. */
    fullName: text('full_name'),
    title: text('title'),
    pronouns: text('pronouns'),
    about: text('about'),
    phone: text('phone'),
    /** An IANA time zone name (`Europe/Paris`), checked against the runtime's list on write. */
    timeZone: text('time_zone'),
    statusText: text('status_text'),
    statusEmoji: text('status_emoji'),
    statusExpiresAt: ts('status_expires_at'),
    /**
     * Set while the user hides their read receipts (features/reads/privacy.ts): the read-mark
     * revision others see for every membership of theirs (with the mark shown as 0), taken when
     * they hid them, so later reads change nothing others can see; null: receipts shown.
     */
    readsHiddenRev: bigint('reads_hidden_rev', { mode: 'number' }),
    lastActiveAt: ts('last_active_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /**
     * Set when the user was deleted (features/admin/deletion.ts): the row stays so their
     * conversations keep an author, shown as "[deleted user]", with every personal field cleared.
     */
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    /**
     * The username indexes hold only users who have one. Whole, they were a page or two of
     * deduplicated NULLs where users came through the API without usernames, and a planner
     * without statistics (a fresh install's first minute) took that small index over the primary
     * key for the hot statements' user probes and read the whole tenant
     * (test/foundation/hot-plans.pg.test.ts); partial, no probe by id can use them.
     */
    uniqueIndex('users_username_uq').on(t.appId, sql`lower(${t.username})`).where(sql`${t.username} is not null`),
    index('users_name_idx').on(t.appId, sql`lower(${t.name}) text_pattern_ops`),
    index('users_username_prefix_idx')
      .on(t.appId, sql`lower(${t.username}) text_pattern_ops`)
      .where(sql`${t.username} is not null`),
    /**
     * The people directory's order (features/people): by name, then id, for keyset pages that
     * read only the page's rows; deleted users are never listed, so not indexed.
     */
    index('users_directory_idx').on(t.appId, sql`lower(${t.name})`, t.id).where(sql`${t.deletedAt} is null`),
  ],
);

/**
 * Custom profile fields an app's admins define (features/users/fields.ts), in `position` order.
 * `visibility` `admins`: values are never presented to a non-admin viewer.
 */
export const profileFields = pgTable(
  'profile_fields',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    /** `text` | `link` | `choice` */
    kind: text('kind').notNull(),
    /** For `choice`: the allowed values, in order; empty for other kinds. */
    options: jsonb('options').$type<string[]>().notNull().default([]),
    position: integer('position').notNull(),
    required: boolean('required').notNull().default(false),
    /** `members` | `admins` */
    visibility: text('visibility').notNull().default('members'),
    /** Whether admins may set this field on other people's profiles. */
    adminEditable: boolean('admin_editable').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('profile_fields_name_uq').on(t.appId, sql`lower(${t.name})`),
  ],
);

/** One user's value of one custom profile field; dropped with its field (the foreign key). */
export const profileFieldValues = pgTable(
  'profile_field_values',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    fieldId: uuid('field_id').notNull(),
    value: text('value').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.userId, t.fieldId] }),
    foreignKey({ columns: [t.appId, t.fieldId], foreignColumns: [profileFields.appId, profileFields.id] }).onDelete(
      'cascade',
    ),
    foreignKey({ columns: [t.appId, t.userId], foreignColumns: [users.appId, users.id] }).onDelete('cascade'),
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
    /** Moderation settings (features/moderation): only moderators post while frozen. */
    frozen: boolean('frozen').notNull().default(false),
    /** Seconds between two messages of one member; 0: off. */
    slowModeS: integer('slow_mode_s').notNull().default(0),
    /** Who may react: `members` or `open`. */
    reactions: text('reactions').notNull().default('members'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.cid] }),
    index('channels_type_idx').on(t.appId, t.type),
    index('channels_name_idx').on(t.appId, sql`lower(${t.name}) text_pattern_ops`),
  ],
);

/** Revisions of members' read marks (`members.read_rev`). */
export const memberReadRev = pgSequence('member_read_rev');

export const members = pgTable(
  'members',
  {
    appId: uuid('app_id').notNull(),
    cid: text('cid').notNull(),
    userId: text('user_id').notNull(),
    role: text('role').notNull().default('member'),
    lastReadSeq: seq('last_read_seq').notNull().default(0),
    /** When `last_read_seq` last moved forward (read-by's time, features/reads); null: never since 0029. */
    lastReadAt: ts('last_read_at'),
    muted: boolean('muted').notNull().default(false),
    joinedAt: ts('joined_at').notNull().defaultNow(),
    /**
     * The read mark's revision: a new value of `member_read_rev` (a sequence, so it only grows,
     * across rows too: a member who leaves and joins again gets a larger one) each time the mark
     * moves, forward or back (features/reads). Of two views of a read mark the larger rev is the
     * newer, whichever way the mark went: the SDK goes by it (0: before 0044).
     */
    readRev: bigint('read_rev', { mode: 'number' }).notNull().default(sql`nextval('member_read_rev')`),
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
    /** Sent under a shadow ban: seen only by its author and app moderators (moderation/shadow.ts). */
    shadowed: boolean('shadowed').notNull().default(false),
    /** The message's files as the wire shows them (features/files), kept current by the image job. */
    attachments: jsonb('attachments').$type<Attachment[]>().notNull().default([]),
    /** Link previews as the wire shows them (features/links), written by the unfurl job. */
    previews: jsonb('previews').$type<LinkPreview[]>().notNull().default([]),
    /** URLs whose preview the author removed: the unfurl job never adds them back. */
    hiddenPreviews: jsonb('hidden_previews').$type<string[]>().notNull().default([]),
    /**
     * The poll this message carries (features/polls), tallies included, as the wire shows it
     * less the caller's own votes; rewritten from poll_votes in the vote's transaction. Null on
     * every other message.
     */
    poll: jsonb('poll').$type<Omit<Poll, 'own_votes'>>(),
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
    // Partial: most messages are neither replies nor pinned, and a send into a full index of
    // NULLs paid two index insertions for nothing (migration 0022).
    index('messages_parent_idx').on(t.appId, t.parentId, t.seq).where(sql`${t.parentId} is not null`),
    index('messages_pinned_idx').on(t.appId, t.cid, t.pinnedAt).where(sql`${t.pinnedAt} is not null`),
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

/** One row per (voter, option) of a poll (features/polls); the tallies are counted from here. */
export const pollVotes = pgTable(
  'poll_votes',
  {
    appId: uuid('app_id').notNull(),
    messageId: uuid('message_id').notNull(),
    userId: text('user_id').notNull(),
    optionId: text('option_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.messageId, t.userId, t.optionId] })],
);

/** An app's custom emoji (features/emoji): the image and who added it. */
export const customEmoji = pgTable(
  'custom_emoji',
  {
    appId: uuid('app_id').notNull(),
    shortcode: text('shortcode').notNull(),
    aliases: jsonb('aliases').$type<string[]>().notNull().default([]),
    /** Random: the image's public URL names it, so it cannot be guessed from the shortcode. */
    imageId: uuid('image_id').notNull(),
    storageKey: text('storage_key').notNull(),
    contentType: text('content_type').notNull(),
    animated: boolean('animated').notNull().default(false),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.shortcode] }), uniqueIndex('custom_emoji_image_uq').on(t.imageId)],
);

/**
 * Every name (shortcode or alias) of an app's custom emoji, one row each: the primary key makes
 * a name unique per app across shortcodes and aliases alike.
 */
export const emojiNames = pgTable(
  'emoji_names',
  {
    appId: uuid('app_id').notNull(),
    name: text('name').notNull(),
    shortcode: text('shortcode').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.name] })],
);

/** Who may add and remove an app's custom emoji; no row: app admins only. */
export const emojiSettings = pgTable('emoji_settings', {
  appId: uuid('app_id').primaryKey(),
  whoCanManage: text('who_can_manage').notNull().default('admins'),
});

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
    /** About a shadowed message: only this user (its author) and moderators receive it. */
    shadowOf: text('shadow_of'),
  },
  (t) => [primaryKey({ columns: [t.appId, t.cid, t.seq] })],
);

/** Values of `channel_count_epochs.epoch`: a new one each time, never one seen before. */
export const channelCountEpoch = pgSequence('channel_count_epoch');

/**
 * A channel's epoch: a new value when the channel is made and after any change to its messages
 * that moves unread counts other than a new message (a delete, an edit of a column the counts
 * read). The unread pushes' kept passes hold while it does not change
 * (features/reads/kept-passes.ts); no row is epoch 0 (a channel made before migration 0054 that
 * none of this has happened to). Written only by triggers on `channels` and `messages`, never by
 * the send path, so a send takes no lock here; it goes with its channel.
 */
export const channelCountEpochs = pgTable(
  'channel_count_epochs',
  {
    appId: uuid('app_id').notNull(),
    cid: text('cid').notNull(),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(sql`nextval('channel_count_epoch')`),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.cid] }),
    foreignKey({ columns: [t.appId, t.cid], foreignColumns: [channels.appId, channels.cid] }).onDelete('cascade'),
  ],
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

// ---- moderation (features/moderation) ----------------------------------------------------

/** Bans: in one channel, or app-wide with `cid = ''` (mirrored on `users.banned_at`). */
export const bans = pgTable(
  'bans',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull().default(''),
    reason: text('reason'),
    bannedBy: text('banned_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    /** A shadow ban: the user goes on posting, but what they send is seen only by them and moderators. */
    shadow: boolean('shadow').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.cid] }), index('bans_cid_idx').on(t.appId, t.cid)],
);

/** Personal mutes: `userId` no longer sees `mutedUserId`'s messages (history, search, unread counts). */
export const userMutes = pgTable(
  'user_mutes',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    mutedUserId: text('muted_user_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.mutedUserId] })],
);

/** Reports of messages and users: the moderation queue. */
export const moderationFlags = pgTable(
  'moderation_flags',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    messageId: uuid('message_id'),
    cid: text('cid'),
    userId: text('user_id').notNull(),
    reportedBy: text('reported_by'),
    reason: text('reason').notNull(),
    text: text('text'),
    status: text('status').notNull().default('open'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: ts('reviewed_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('moderation_flags_status_idx').on(t.appId, t.status, t.createdAt),
    // One open report per reporter and message: reporting again changes nothing.
    uniqueIndex('moderation_flags_once_uq')
      .on(t.appId, t.reportedBy, t.messageId, t.userId)
      .where(sql`status = 'open'`),
  ],
);

// ---- accounts of the bundled team web app ------------------------------------------------
// Accounts live above tenancy: one account (email + password) belongs to many workspaces,
// and each workspace is an app. Inside an app an account is an ordinary user
// (`workspace_members.user_id`), so the chat tables never see accounts.

/**
 * One person of the team web app. Emails are unique case-insensitively (`lower(email)`);
 * the address is kept as typed. Used by the accounts feature: `failed_signins` /
 * `locked_until` (lockout, see features/accounts/signin-guard.ts), `email_verified_at` (set
 * by a mailed token), and two-factor sign-in (features/accounts/two-factor.ts):
 * `two_factor_secret_sealed` is the TOTP secret, sealed like app secrets (null = off);
 * `two_factor_pending_sealed` a secret being set up, not confirmed yet by a first code;
 * `two_factor_last_step` the TOTP time step of the last code accepted, so no code works twice.
 */
export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** argon2id, PHC string (parameters and salt included). */
    passwordHash: text('password_hash').notNull(),
    emailVerifiedAt: ts('email_verified_at'),
    twoFactorSecretSealed: text('two_factor_secret_sealed'),
    twoFactorPendingSealed: text('two_factor_pending_sealed'),
    twoFactorEnabledAt: ts('two_factor_enabled_at'),
    twoFactorLastStep: bigint('two_factor_last_step', { mode: 'number' }),
    failedSignins: integer('failed_signins').notNull().default(0),
    lockedUntil: ts('locked_until'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('accounts_email_uq').on(sql`lower(${t.email})`)],
);

/**
 * The lockout state of emails that have no account (features/accounts/signin-guard.ts): failed
 * sign-ins to an unknown email count and lock exactly as an account's do (`accounts`'
 * `failed_signins` and `locked_until`), so the answers never tell who has an account. Keyed by
 * the lower-cased email; rows whose lock ended long ago are removed by the sweep.
 */
export const signinLockouts = pgTable(
  'signin_lockouts',
  {
    email: text('email').primaryKey(),
    failedSignins: integer('failed_signins').notNull().default(0),
    lockedUntil: ts('locked_until'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('signin_lockouts_updated_idx').on(t.updatedAt)],
);

/**
 * Sign-in sessions (the `parley_session` cookie). Only the SHA-256 of the 32-byte random
 * token is stored, so a database dump cannot be replayed as cookies. Signing out sets
 * `revoked_at`; expired and revoked rows are kept for now (a cleanup job can drop them).
 */
export const accountSessions = pgTable(
  'account_sessions',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** Hex SHA-256 of the cookie's token. */
    tokenHash: text('token_hash').notNull(),
    userAgent: text('user_agent'),
    /** The client IP at sign-in, then as last seen (updated with `last_seen_at`). */
    ip: text('ip'),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** Last request with this cookie, to the minute: written at most once a minute per session. */
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('account_sessions_token_uq').on(t.tokenHash),
    index('account_sessions_account_idx').on(t.accountId),
  ],
);

/**
 * One-time tokens mailed to an account: `verify_email` (sign-up), `reset_password`,
 * `change_email` (sent to `new_email`, which it confirms). Only the SHA-256 of the token is
 * stored; `used_at` makes it one-time (set by the single UPDATE that redeems it, so two
 * redemptions at once cannot both win), `expires_at` short-lived. A new token of a kind
 * retires the account's older ones of that kind.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** `change_email` only: the address being confirmed. */
    newEmail: text('new_email'),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [
    uniqueIndex('account_tokens_hash_uq').on(t.tokenHash),
    index('account_tokens_account_idx').on(t.accountId, t.kind),
  ],
);

/**
 * Backup codes of two-factor sign-in: ten per account, shown once when made, kept only as a
 * SHA-256 (of the account id and the code: 60 random bits each, so a dump cannot be reversed
 * by guessing). `used_at` makes each one single-use, set by the one UPDATE that redeems it.
 * Making new codes deletes the old ones.
 */
export const accountBackupCodes = pgTable(
  'account_backup_codes',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    usedAt: ts('used_at'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.codeHash] })],
);

/**
 * Sign-in identities at OpenID Connect providers (features/accounts/oidc.ts): the provider's
 * `iss` and `sub` name one account for good. Later sign-ins find the account by them, never
 * by the email, which the person may change at the provider. `email` is the address the
 * provider gave when the link was made (for the record only).
 */
export const accountIdentities = pgTable(
  'account_identities',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    email: text('email'),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.issuer, t.subject] }),
    // One identity per provider per account: a second subject claiming a linked account's
    // email is refused rather than linked beside the first.
    uniqueIndex('account_identities_account_uq').on(t.accountId, t.issuer),
  ],
);

/**
 * Password hashes an account has had (argon2id), the current one included: no reuse of the
 * last few. `id` orders them (two changes can share a timestamp).
 */
export const passwordHistory = pgTable(
  'password_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    passwordHash: text('password_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('password_history_account_idx').on(t.accountId, t.id)],
);

/**
 * The team-messenger side of an app that is a workspace: one row per such app (apps made by
 * embedders have none). The workspace's name is the app's name, kept in one place.
 */
export const workspaces = pgTable('workspaces', {
  appId: uuid('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  /** `invite_only` | `link` | `request` | `domain`; see JOIN_POLICIES in the protocol. */
  joinPolicy: text('join_policy').notNull().default('invite_only'),
  /** Under the `domain` policy: verified emails at this domain (lower case) may join. */
  joinDomain: text('join_domain'),
  /** Whether members must have two-factor sign-in on to open the workspace (owners and admins set it). */
  requireTwoFactor: boolean('require_two_factor').notNull().default(false),
  /** Who sees members' emails: `admins` (owners and admins) or `members` too; see EMAIL_VISIBILITIES. */
  emailVisibility: text('email_visibility').notNull().default('admins'),
  createdBy: uuid('created_by').references(() => accounts.id, { onDelete: 'set null' }),
  createdAt: ts('created_at').notNull().defaultNow(),
  /**
   * The URL slug (`/w/acme`), lower case, unique in the deployment (the unique index below is
   * what decides a race); null: the web app uses the id. Owners set it (accounts/slugs.ts).
   */
  slug: text('slug').unique('workspaces_slug_uq'),
  /** The logo's URL (an `images` row of the app, owner `workspace`); null: none. */
  logo: text('logo'),
});

/**
 * Which accounts belong to which workspace, as which user of its app, with which role
 * (`owner` | `admin` | `member` | `guest`; a guest's expiry is its user's `guest_until`).
 */
export const workspaceMembers = pgTable(
  'workspace_members',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => workspaces.appId, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    role: text('role').notNull().default('member'),
    invitedBy: uuid('invited_by').references(() => accounts.id, { onDelete: 'set null' }),
    joinedAt: ts('joined_at').notNull().defaultNow(),
    /**
     * Set when an owner or admin deactivated the member: the account keeps its place (and its
     * messages) but cannot open the workspace, and its chat tokens are refused, until reactivated.
     */
    deactivatedAt: ts('deactivated_at'),
    /** When the guest's open clients were told their time ran out (reset when extended). */
    guestLockSentAt: ts('guest_lock_sent_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.accountId] }),
    uniqueIndex('workspace_members_user_uq').on(t.appId, t.userId),
    index('workspace_members_account_idx').on(t.accountId),
  ],
);

/**
 * People an import brought in (features/imports) with the email address they had there, whom an
 * account with that address, verified, takes over when it joins the workspace: it becomes that
 * user, with their messages, memberships and reactions, instead of a new one
 * (features/accounts/claims.ts). `email` is lower case; `claimed_by` and `claimed_at` are set
 * once, when an account claims it.
 */
export const importClaims = pgTable(
  'import_claims',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    userId: text('user_id').notNull(),
    /** Where the person came from: `slack` | `mattermost` | `parley` (a Parley workspace export). */
    source: text('source').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    claimedBy: uuid('claimed_by').references(() => accounts.id, { onDelete: 'set null' }),
    claimedAt: ts('claimed_at'),
  },
  (t) => [primaryKey({ columns: [t.appId, t.email] }), uniqueIndex('import_claims_user_uq').on(t.appId, t.userId)],
);

/**
 * Invite links to a workspace. Only the SHA-256 of the token is stored (the link is shown
 * once, when made); the token alone finds the invite, so its hash is unique across apps.
 */
export const invites = pgTable(
  'invites',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => workspaces.appId, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdBy: uuid('created_by').references(() => accounts.id, { onDelete: 'set null' }),
    /** Null: as the join policy says (one use for `invite_only`, unlimited for `link`). */
    maxUses: integer('max_uses'),
    uses: integer('uses').notNull().default(0),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** A guest invite: the channels (cids) the guest joins, and when the guest's posting ends. */
    guestChannels: text('guest_channels').array(),
    guestExpiresAt: ts('guest_expires_at'),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), uniqueIndex('invites_token_uq').on(t.tokenHash)],
);

/**
 * Requests to join a workspace under the `request` policy: one row per account and workspace,
 * `pending` until an owner or admin approves or denies it (a denied account may ask again).
 */
export const joinRequests = pgTable(
  'join_requests',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => workspaces.appId, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** `pending` | `approved` | `denied` */
    status: text('status').notNull().default('pending'),
    createdAt: ts('created_at').notNull().defaultNow(),
    decidedAt: ts('decided_at'),
    decidedBy: uuid('decided_by').references(() => accounts.id, { onDelete: 'set null' }),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('join_requests_account_uq').on(t.appId, t.accountId),
    index('join_requests_pending_idx').on(t.appId, t.createdAt).where(sql`status = 'pending'`),
  ],
);

/**
 * One row: an HMAC of a fixed label under the master key. Nodes that share a database must
 * share the key that seals the app secrets in it; a node started with another key finds a
 * different value here and refuses to start, instead of failing every token later.
 */
export const masterKeyCheck = pgTable('master_key_check', {
  id: integer('id').primaryKey(),
  checkValue: text('check_value').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * Uploaded files (features/files). A row is made when an upload is stored and belongs to the
 * channel it was uploaded to; a message claims it by id (`message_id`), once. Rows never
 * attached are removed by a job after a while. `size` counts toward the per-user and per-app
 * quotas until `deleted_at`.
 */
export const files = pgTable(
  'files',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    cid: text('cid').notNull(),
    userId: text('user_id').notNull(),
    /** Sanitized file name. */
    name: text('name').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** The content type decided from the bytes. */
    mimeType: text('mime_type').notNull(),
    /** What the client said (multipart header), kept to show a mismatch. */
    declaredType: text('declared_type'),
    typeMismatch: boolean('type_mismatch').notNull().default(false),
    /** image | video | audio | file */
    kind: text('kind').notNull(),
    /** Where the bytes are in the store. */
    storageKey: text('storage_key').notNull(),
    sha256: text('sha256').notNull(),
    width: integer('width'),
    height: integer('height'),
    blurhash: text('blurhash'),
    durationMs: integer('duration_ms'),
    /** Thumbnails made by the media job: size (360, 1280, poster) → store key. */
    thumbs: jsonb('thumbs').$type<Record<string, string>>().notNull().default({}),
    /** pending (the media job has not run), ready, failed, none (nothing to make). */
    processing: text('processing').notNull().default('none'),
    messageId: uuid('message_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    attachedAt: ts('attached_at'),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('files_user_idx').on(t.appId, t.userId),
    index('files_message_idx').on(t.appId, t.messageId),
  ],
);

/**
 * Profile pictures and workspace logos (features/images): one current picture per owner —
 * a user (`owner_kind` `user`, `owner_id` the user id) or the workspace (`workspace`, `''`) —
 * stored as square WebP renditions (`sizes`: size → store key) made at upload, so nothing of
 * the upload's metadata is kept. `bytes` (all renditions) counts toward the uploader's and the
 * app's storage quota, like `files.size`. Replaced or removed: the row goes and its bytes after.
 */
export const images = pgTable(
  'images',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    ownerKind: text('owner_kind').notNull(),
    ownerId: text('owner_id').notNull(),
    /** Who uploaded it (whose quota it counts toward). */
    userId: text('user_id').notNull(),
    sizes: jsonb('sizes').$type<Record<string, string>>().notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    blurhash: text('blurhash'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('images_owner_uq').on(t.appId, t.ownerKind, t.ownerId),
    index('images_user_idx').on(t.appId, t.userId),
  ],
);

/**
 * The link preview cache (features/links): one row per app and URL (its SHA-256, the URL
 * without its fragment), good until `expires_at`. A failed or empty unfurl is kept too, for a
 * shorter time, so a dead link is not fetched again for every message that carries it. Keyed
 * by app like every other table: one tenant's links never show in another's cache.
 */
export const linkPreviews = pgTable(
  'link_previews',
  {
    appId: uuid('app_id').notNull(),
    urlHash: text('url_hash').notNull(),
    url: text('url').notNull(),
    /** ok (a card), empty (the page had nothing to show), failed (the fetch did not work). */
    status: text('status').notNull(),
    finalUrl: text('final_url'),
    title: text('title'),
    description: text('description'),
    siteName: text('site_name'),
    kind: text('kind'),
    /** The re-hosted image (paths of its thumbnails), if the page named one that decoded. */
    image: jsonb('image').$type<PreviewImage | null>(),
    /** The site's icon (`<link rel="icon">`, else `/favicon.ico`), re-hosted like the image. */
    icon: jsonb('icon').$type<PreviewImage | null>(),
    /** Why it failed (for operators), never shown to users. */
    error: text('error'),
    fetchedAt: ts('fetched_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.urlHash] })],
);

// ---- admin: audit, usage analytics, data exports (features/audit, analytics, admin) -------

/**
 * The audit log of security and admin events (features/audit). Written by `recordAudit` in
 * the same transaction as the change it records, so an action and its record commit or roll
 * back together. `app_id` is null for account-level events that belong to no one workspace
 * (sign-ins, two-factor changes): a workspace's log shows those of its members. `id` orders
 * the log (two events can share a timestamp) and is the paging cursor. Pruned after
 * `PARLEY_AUDIT_RETENTION_DAYS` by a recurring job.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    appId: uuid('app_id'),
    /** `account` | `user` | `server` | `admin` | `system` */
    actorKind: text('actor_kind').notNull(),
    /** The account id, user id, or null for the server token, the operator and the system. */
    actorId: text('actor_id'),
    /** `noun.verb`, e.g. `member.role_changed`; see AUDIT_ACTIONS in the protocol. */
    action: text('action').notNull(),
    targetKind: text('target_kind'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_app_idx').on(t.appId, t.id),
    index('audit_actor_idx').on(t.appId, t.actorId, t.id),
    index('audit_target_idx').on(t.appId, t.targetId, t.id),
    index('audit_at_idx').on(t.at),
  ],
);

/**
 * Who was active on which day (UTC), one row per app, user and day: what daily and monthly
 * active users count. Written at most once a day per user per node (features/analytics).
 */
export const userActivity = pgTable(
  'user_activity',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    day: text('day').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.day, t.userId] }), index('user_activity_user_idx').on(t.appId, t.userId)],
);

/**
 * Open WebSocket connections per app, sampled by every node at aligned instants
 * (features/analytics): the sum over nodes at one instant is the app's concurrency then.
 */
export const usageSamples = pgTable(
  'usage_samples',
  {
    appId: uuid('app_id').notNull(),
    nodeId: text('node_id').notNull(),
    at: ts('at').notNull(),
    connections: integer('connections').notNull(),
    /**
     * Connection stability over the period ending at `at` (realtime/stability.ts): the time
     * connections were open (connection-ms), reconnects, and the resync times clients reported.
     */
    connectedMs: bigint('connected_ms', { mode: 'number' }).notNull().default(0),
    reconnects: integer('reconnects').notNull().default(0),
    resyncs: integer('resyncs').notNull().default(0),
    resyncMs: bigint('resync_ms', { mode: 'number' }).notNull().default(0),
    resyncMaxMs: integer('resync_max_ms').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.appId, t.at, t.nodeId] })],
);

/**
 * A user's data export (features/admin): requested by the user or an admin, made by a job
 * into the object store as a .tar.gz, downloadable through a signed, expiring link until
 * `expires_at` (then the job's sweep removes the bytes and the row).
 */
export const dataExports = pgTable(
  'data_exports',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    requestedBy: text('requested_by'),
    /** pending | ready | failed */
    status: text('status').notNull().default('pending'),
    storageKey: text('storage_key'),
    size: bigint('size', { mode: 'number' }),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    readyAt: ts('ready_at'),
    expiresAt: ts('expires_at'),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('data_exports_user_idx').on(t.appId, t.userId)],
);

/**
 * Ringing invitations (features/invitations): one row per invitee of something that rings —
 * a call today, a teleport to a space later. `kind` names the feature that owns `subject_id`.
 * A pending row expires at `expires_at` (a timer on the node that rang, and a durable job as
 * its backstop); answering is a conditional update, so exactly one device's answer wins.
 */
export const invitations = pgTable(
  'invitations',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    kind: text('kind').notNull(),
    subjectId: text('subject_id').notNull(),
    fromUserId: text('from_user_id').notNull(),
    toUserId: text('to_user_id').notNull(),
    /** pending, accepted, declined, cancelled, expired. */
    state: text('state').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    answeredAt: ts('answered_at'),
    /** The socket connection (device) that answered. */
    answeredBy: text('answered_by'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('invitations_subject').on(t.appId, t.kind, t.subjectId, t.toUserId),
    index('invitations_pending_due').on(t.expiresAt).where(sql`state = 'pending'`),
  ],
);

/** Calls (features/calls): one row per call of a channel, from its first ring to its end. */
export const calls = pgTable(
  'calls',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    cid: text('cid').notNull(),
    createdBy: text('created_by').notNull(),
    /** audio or video (what the caller started with; anyone may turn a camera on later). */
    kind: text('kind').notNull(),
    /** ringing, active, ended, missed, declined, cancelled, busy. */
    state: text('state').notNull(),
    createdAt: ts('created_at').notNull(),
    /** When the second participant joined: the call's talk time starts here. */
    startedAt: ts('started_at'),
    endedAt: ts('ended_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('calls_channel').on(t.appId, t.cid, t.id),
    uniqueIndex('calls_one_live_per_channel').on(t.appId, t.cid).where(sql`state in ('ringing', 'active')`),
  ],
);

/** Who was in (or rang for) a call, with their device and join/leave times. */
export const callParticipants = pgTable(
  'call_participants',
  {
    appId: uuid('app_id').notNull(),
    callId: uuid('call_id').notNull(),
    userId: text('user_id').notNull(),
    /** ringing, joined, left, declined, missed, busy. */
    state: text('state').notNull(),
    /** Whether this user was rung (false for the caller and for who joined on their own). */
    invited: boolean('invited').notNull(),
    /** The socket connection (device) the user is in the call with, while joined. */
    connectionId: text('connection_id'),
    invitedAt: ts('invited_at').notNull(),
    joinedAt: ts('joined_at'),
    leftAt: ts('left_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.callId, t.userId] }),
    index('call_participants_user').on(t.appId, t.userId, t.callId),
    index('call_participants_joined').on(t.appId, t.userId).where(sql`state = 'joined'`),
  ],
);

// ---- spaces (features/spaces) ----------------------------------------------------------------

/**
 * The virtual office's spaces: laid out by the app's admins. `status` is derived (free, in use,
 * in a meeting) but stored, so a change is noticed and announced once; `cid` is the room
 * channel, made when someone first enters.
 */
export const spaces = pgTable(
  'spaces',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    /** Most people in it at once; null: no limit. */
    capacity: integer('capacity'),
    position: integer('position').notNull(),
    /** free, in_use, in_meeting. */
    status: text('status').notNull().default('free'),
    cid: text('cid'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('spaces_order').on(t.appId, t.position)],
);

/** Who is where: one row per user in a space; the key makes "at most one space at a time" a fact. */
export const spaceOccupants = pgTable(
  'space_occupants',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    spaceId: uuid('space_id').notNull(),
    enteredAt: ts('entered_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId] }), index('space_occupants_space').on(t.appId, t.spaceId)],
);

// ---- notifications (features/notifications) ------------------------------------------------

/** A daily do-not-disturb window, in the user's time zone ("22:00" to "08:00" may cross midnight). */
export interface DndSchedule {
  start: string;
  end: string;
  /** Days (0 = Sunday) the window starts on; all days when absent. */
  days?: number[];
}

/**
 * A user's notification preferences (one row, made on first change; defaults otherwise):
 * the level for channels without an override, do-not-disturb, the time zone the schedule is
 * read in, and the email digest (with when it last went out).
 */
export const notificationSettings = pgTable(
  'notification_settings',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    /** `all` | `mentions` (mentions, DMs, threads you are in) | `none`. */
    level: text('level').notNull().default('mentions'),
    timeZone: text('time_zone').notNull().default('UTC'),
    /** Do not disturb until this time (a far future time is "until turned off"); null: off. */
    dndUntil: ts('dnd_until'),
    dndSchedule: jsonb('dnd_schedule').$type<DndSchedule | null>(),
    emailDigest: boolean('email_digest').notNull().default(true),
    lastDigestAt: ts('last_digest_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId] })],
);

/** A user's per-channel override of their level (`all` | `mentions` | `none`); no row: their default. */
export const channelNotificationSettings = pgTable(
  'channel_notification_settings',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull(),
    level: text('level').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.cid] })],
);

/** Web Push subscriptions (a browser's push service endpoint and its keys). */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('push_subscriptions_endpoint_uq').on(t.appId, t.endpoint),
    index('push_subscriptions_user_idx').on(t.appId, t.userId),
  ],
);

/** Native devices: an APNs or FCM registration token of a user's app install. */
export const pushDevices = pgTable(
  'push_devices',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    /** `apns` | `fcm`. */
    provider: text('provider').notNull(),
    token: text('token').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('push_devices_token_uq').on(t.appId, t.provider, t.token),
    index('push_devices_user_idx').on(t.appId, t.userId),
  ],
);

/** An app's native push credentials per provider, sealed under the master key. */
export const pushProviders = pgTable(
  'push_providers',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    configSealed: text('config_sealed').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.provider] })],
);

/** Keys made once per install and kept (the VAPID key pair of Web Push), sealed. */
export const installKeys = pgTable('install_keys', {
  name: text('name').primaryKey(),
  valueSealed: text('value_sealed').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** The last push per (user, collapse key): one notification per thread burst. */
export const pushBursts = pgTable(
  'push_bursts',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    collapseKey: text('collapse_key').notNull(),
    sentAt: ts('sent_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.collapseKey] })],
);

// ---- webhooks, hooks, reminders, scheduled messages (features/webhooks, features/reminders) ----

/**
 * An app's webhook endpoints: where its committed events are POSTed, signed with `secret`
 * (sealed like app secrets). `events` holds exact types and `noun.*` / `*` wildcards. An
 * endpoint that kept failing for the whole retry window is disabled (`disabled_at`, with why);
 * paused or disabled, it keeps getting deliveries written, which wait for it for the retention
 * and are then dropped and counted (`dropped`). During a secret rotation the previous secret
 * signs too until `previous_secret_expires_at`.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    secretSealed: text('secret_sealed').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    disabledAt: ts('disabled_at'),
    disabledReason: text('disabled_reason'),
    /** When it was last made active again: a delivery's day of retries counts from then, not from its event. */
    resumedAt: ts('resumed_at'),
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: ts('previous_secret_expires_at'),
    /** Deliveries dropped past the retention while it was inactive, in all, and when last. */
    dropped: bigint('dropped', { mode: 'number' }).notNull().default(0),
    droppedAt: ts('dropped_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] })],
);

/**
 * The webhook outbox and delivery log: one row per (endpoint, event), written in the
 * transaction of the event. `lane` is the event's channel (or `''` for app-wide events): an
 * endpoint gets a lane's rows one at a time in `n` order, so per-channel order holds.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    n: bigserial('n', { mode: 'number' }).notNull(),
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    endpointId: uuid('endpoint_id').notNull(),
    lane: text('lane').notNull(),
    eventType: text('event_type').notNull(),
    /** The request body, exactly as signed and sent. */
    body: text('body').notNull(),
    /** pending, delivered, failed (gave up) */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    responseStatus: integer('response_status'),
    error: text('error'),
    latencyMs: integer('latency_ms'),
    /** The delivery this one repeats (a redelivery), if any. */
    redeliveryOf: uuid('redelivery_of'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('webhook_deliveries_lane_idx').on(t.endpointId, t.lane, t.n).where(sql`status = 'pending'`),
    index('webhook_deliveries_log_idx').on(t.appId, t.endpointId, t.n),
  ],
);

/** Who is delivering an endpoint's lane right now (a lease, so a lane has one sender at a time). */
export const webhookLanes = pgTable(
  'webhook_lanes',
  {
    endpointId: uuid('endpoint_id').notNull(),
    lane: text('lane').notNull(),
    owner: uuid('owner'),
    leasedUntil: ts('leased_until').notNull(),
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.lane] })],
);

/** Per-app synchronous hooks: the before-send hook (url, secret, time limit, fail-open). */
export const appHooks = pgTable('app_hooks', {
  appId: uuid('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  beforeSendUrl: text('before_send_url').notNull(),
  secretSealed: text('secret_sealed').notNull(),
  timeoutMs: integer('timeout_ms').notNull(),
  failOpen: boolean('fail_open').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** "Remind me about this message": delivered as a DM from the app's bot when due. */
export const reminders = pgTable(
  'reminders',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    messageId: uuid('message_id'),
    cid: text('cid'),
    note: text('note'),
    remindAt: ts('remind_at').notNull(),
    /** pending, sent, cancelled */
    status: text('status').notNull().default('pending'),
    /** When it last fired (a recurring reminder stays pending after each firing). */
    sentAt: ts('sent_at'),
    /** null (once), daily, weekdays or weekly: after firing, the row moves to the next occurrence. */
    repeat: text('repeat'),
    /** The maker's `Date.getTimezoneOffset()`, so `weekdays` counts their Monday to Friday. */
    tzOffset: integer('tz_offset').notNull().default(0),
    /**
     * The id of the DM its next firing sends (null: the reminder's own id). Each occurrence of a
     * recurring reminder gets a fresh one, so a job that runs twice still sends one DM each time.
     */
    dmId: uuid('dm_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('reminders_user_idx').on(t.appId, t.userId, t.remindAt)],
);

/**
 * A user's own sidebar sections (features/sidebar): custom ones, and the built-in Starred one
 * (`kind` starred, at most one per user, made on the first star). Nobody else sees them.
 */
export const sidebarSections = pgTable(
  'sidebar_sections',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    id: uuid('id').notNull(),
    /** custom or starred */
    kind: text('kind').notNull().default('custom'),
    name: text('name').notNull(),
    position: integer('position').notNull(),
    collapsed: boolean('collapsed').notNull().default(false),
    /** manual, name or recent */
    sort: text('sort').notNull().default('manual'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('sidebar_sections_user_idx').on(t.appId, t.userId, t.position),
    uniqueIndex('sidebar_sections_starred').on(t.appId, t.userId).where(sql`kind = 'starred'`),
  ],
);

/** Where a user put a channel: one row per (user, channel), only for channels placed in a section. */
export const sidebarPlacements = pgTable(
  'sidebar_placements',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull(),
    sectionId: uuid('section_id').notNull(),
    position: integer('position').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.userId, t.cid] }),
    index('sidebar_placements_section_idx').on(t.appId, t.sectionId, t.position),
  ],
);

/**
 * Links and files pinned to a channel's header bar (features/bookmarks), in their order. A
 * link's title, site and icon come from the link preview pipeline's cache (`link_previews`),
 * filled in by a job after it is added (`title_set`: the member gave the title; keep it).
 */
export const channelBookmarks = pgTable(
  'channel_bookmarks',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    cid: text('cid').notNull(),
    /** link or file */
    kind: text('kind').notNull(),
    url: text('url'),
    fileId: uuid('file_id'),
    title: text('title').notNull(),
    titleSet: boolean('title_set').notNull().default(false),
    siteName: text('site_name'),
    /** Path of the re-hosted preview image's small thumbnail (the link's icon), when it has one. */
    iconUrl: text('icon_url'),
    position: integer('position').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('channel_bookmarks_cid_idx').on(t.appId, t.cid, t.position)],
);

/**
 * Saved messages ("save for later", seed 002's starred messages): a sparse per-user flag, one
 * row per (user, message) saved. A due time is a row of `reminders` (`reminder_id`).
 */
export const savedItems = pgTable(
  'saved_items',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    messageId: uuid('message_id').notNull(),
    cid: text('cid').notNull(),
    /** saved or completed */
    status: text('status').notNull().default('saved'),
    reminderId: uuid('reminder_id'),
    /** The user's own short note on the item. */
    note: text('note'),
    createdAt: ts('created_at').notNull().defaultNow(),
    completedAt: ts('completed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('saved_items_message').on(t.appId, t.userId, t.messageId),
    index('saved_items_list_idx').on(t.appId, t.userId, t.status, t.id),
  ],
);

/**
 * Messages to send later. The send job claims a row (pending → sending) and sends with the
 * row's `message_id`, so a second run — after a crash, or on another node — finds the message
 * already stored under that id: exactly one message, however often the job runs.
 */
export const scheduledMessages = pgTable(
  'scheduled_messages',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull(),
    messageId: uuid('message_id').notNull(),
    text: text('text').notNull(),
    parentId: uuid('parent_id'),
    sendAt: ts('send_at').notNull(),
    /** pending, sent, cancelled, failed */
    status: text('status').notNull().default('pending'),
    error: text('error'),
    sentAt: ts('sent_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('scheduled_user_idx').on(t.appId, t.userId, t.sendAt)],
);

/**
 * The channel each user last had open (features/reads/last-channel.ts), so it follows them to
 * another device: one row per user, overwritten (the web app sets it, debounced, on opening).
 */
export const lastChannels = pgTable(
  'last_channels',
  {
    appId: uuid('app_id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId] })],
);

/**
 * Answers kept for `Idempotency-Key` requests (platform/idempotency.ts): one row per app, caller
 * and key. `status` is null while the first request with the key is being handled; then the
 * answer is kept for a day, and the same key with the same request gets it again unchanged.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    appId: uuid('app_id').notNull(),
    /** `server`, or `user:<id>`: keys are the caller's own. */
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of the method, path and body: the same key with another request is refused. */
    fingerprint: text('fingerprint').notNull(),
    status: integer('status'),
    body: text('body'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.principal, t.key] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

/**
 * Notes (features/notes): a personal note (`owner_id` set, `cid` null), private to its owner,
 * or a channel note (`cid` set, `owner_id` null), read by whoever may read the channel.
 * `version` counts edits from 1; every version's text is kept in `note_versions`, which is
 * what a three-way merge takes its base from. `deleted_at`: soft delete (history stays).
 */
export const notes = pgTable(
  'notes',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    ownerId: text('owner_id'),
    cid: text('cid'),
    title: text('title').notNull(),
    text: text('text').notNull(),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    updatedBy: text('updated_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    index('notes_owner_idx').on(t.appId, t.ownerId, t.updatedAt),
    index('notes_cid_idx').on(t.appId, t.cid, t.updatedAt),
  ],
);

/** Every version of a note: who wrote it, its title and text (version 1 is the first). */
export const noteVersions = pgTable(
  'note_versions',
  {
    appId: uuid('app_id').notNull(),
    noteId: uuid('note_id').notNull(),
    version: integer('version').notNull(),
    title: text('title').notNull(),
    text: text('text').notNull(),
    userId: text('user_id').notNull(),
    /** `merged`: the server merged this edit with another made since its base version. */
    merged: boolean('merged').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.noteId, t.version] })],
);

/**
 * User groups (features/groups): `@handle` mentions every member who can read the channel.
 * The handle is unique per app in any case (`user_groups_handle_uq` on lower(handle)).
 */
export const userGroups = pgTable(
  'user_groups',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    handle: text('handle').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('user_groups_handle_uq').on(t.appId, sql`lower(${t.handle})`),
  ],
);

export const userGroupMembers = pgTable(
  'user_group_members',
  {
    appId: uuid('app_id').notNull(),
    groupId: uuid('group_id').notNull(),
    userId: text('user_id').notNull(),
    addedAt: ts('added_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.groupId, t.userId] }),
    index('user_group_members_user_idx').on(t.appId, t.userId),
  ],
);

/**
 * Every @name of an app, whoever holds it: a user's username or a user group's handle, lower-
 * cased. Its key makes a name one thing in the whole app, so `@eng` never names a person and a
 * group at once, whichever write gets there (features/users/names.ts). Kept by triggers on
 * `users.username` and `user_groups.handle` (migration 0038), so every write path — the actions,
 * the Slack import's bulk insert, anything later — is held to it, and of two transactions taking
 * one name at once the second fails on the key instead of both committing.
 */
export const mentionNames = pgTable(
  'mention_names',
  {
    appId: uuid('app_id').notNull(),
    name: text('name').notNull(),
    userId: text('user_id'),
    groupId: uuid('group_id'),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.name] }),
    check('mention_names_one_holder', sql`(${t.userId} is null) <> (${t.groupId} is null)`),
    // For the cascades: deleting an app's users or a group finds their names without a scan.
    index('mention_names_user_idx').on(t.appId, t.userId),
    index('mention_names_group_idx').on(t.appId, t.groupId),
    foreignKey({ columns: [t.appId, t.userId], foreignColumns: [users.appId, users.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.appId, t.groupId], foreignColumns: [userGroups.appId, userGroups.id] }).onDelete(
      'cascade',
    ),
  ],
);

/** Who may manage an app's user groups (`admins` unless a row says `everyone`). */
export const userGroupSettings = pgTable('user_group_settings', {
  appId: uuid('app_id').primaryKey(),
  managers: text('managers').notNull().default('admins'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * The activity inbox (features/inbox): one row per thing that concerns a user. Bounded: rows
 * older than the retention and beyond the per-user cap are pruned (features/inbox/record.ts).
 * `dedupe` makes a recording idempotent (a retried job, the same reaction twice).
 */
export const inboxItems = pgTable(
  'inbox_items',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    kind: text('kind').notNull(),
    via: text('via'),
    groupHandle: text('group_handle'),
    cid: text('cid'),
    messageId: uuid('message_id'),
    parentId: uuid('parent_id'),
    actorId: text('actor_id'),
    reactionType: text('reaction_type'),
    /** For a `note_mention`: the channel note that names the user. */
    noteId: uuid('note_id'),
    dedupe: text('dedupe').notNull(),
    readAt: ts('read_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('inbox_items_dedupe_uq').on(t.appId, t.userId, t.dedupe),
    index('inbox_items_user_idx').on(t.appId, t.userId, t.id),
    index('inbox_items_unread_idx').on(t.appId, t.userId).where(sql`read_at is null`),
    index('inbox_items_created_idx').on(t.createdAt),
  ],
);

/**
 * The inbox's durable outbox for messages (features/inbox/record.ts): a send that may put items
 * in someone's inbox (a mention, a thread reply, a DM, @channel) writes its row here in the
 * statement or transaction that writes the message, so the row exists exactly when the message
 * commits. The items are derived after the commit, and the row goes once they are stored; a
 * row left by a crash is derived again on the next start (and by a sweep every few seconds).
 */
export const inboxPending = pgTable(
  'inbox_pending',
  {
    appId: uuid('app_id').notNull(),
    messageId: uuid('message_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.messageId] })],
);

/**
 * The inbox's durable outbox for everything but a send (features/inbox/tasks.ts): a reaction, an
 * invitation to a channel, an edit that names someone new or no longer, a channel note that names
 * someone. The action writes its task here in its own transaction; after the commit the task runs
 * and its row goes. A row a crash left is run on the next start and by the `inbox.recover` job.
 */
export const inboxTasks = pgTable(
  'inbox_tasks',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    task: jsonb('task').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('inbox_tasks_created_idx').on(t.createdAt)],
);

/**
 * Tasks made from messages (features/tasks): at most one per message. A due time is a row of
 * `reminders` for the assignee (`reminder_id`), made and cancelled with the task's changes.
 */
export const tasks = pgTable(
  'tasks',
  {
    appId: uuid('app_id').notNull(),
    id: uuid('id').notNull(),
    messageId: uuid('message_id').notNull(),
    cid: text('cid').notNull(),
    assigneeId: text('assignee_id').notNull(),
    createdBy: text('created_by').notNull(),
    /** open or done */
    status: text('status').notNull().default('open'),
    dueAt: ts('due_at'),
    reminderId: uuid('reminder_id'),
    completedAt: ts('completed_at'),
    completedBy: text('completed_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.id] }),
    uniqueIndex('tasks_message_uq').on(t.appId, t.messageId),
    index('tasks_assignee_idx').on(t.appId, t.assigneeId, t.status, t.id),
    index('tasks_cid_idx').on(t.appId, t.cid, t.status, t.id),
  ],
);

/** Who follows a channel's notes (features/notes): a change of one is an inbox item for them. */
export const channelNoteSubscriptions = pgTable(
  'channel_note_subscriptions',
  {
    appId: uuid('app_id').notNull(),
    cid: text('cid').notNull(),
    userId: text('user_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.cid, t.userId] }),
    index('channel_note_subscriptions_user_idx').on(t.appId, t.userId),
  ],
);

/**
 * Slash commands an app registered (features/commands): `/name` in a channel POSTs a signed
 * request to `url`. The built-ins are not rows: they live in code.
 */
export const slashCommands = pgTable(
  'slash_commands',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    usage: text('usage').notNull().default(''),
    url: text('url').notNull(),
    /** Roles that may run it (app or channel role); null: everyone who may post. */
    roles: jsonb('roles').$type<string[] | null>(),
    secretSealed: text('secret_sealed').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), uniqueIndex('slash_commands_name_uq').on(t.appId, t.name)],
);

/**
 * Feature flags of an app (features/flags), managed by its backend or admins. A user has a flag
 * when it is enabled and the user is named in `user_ids` or falls in the first `percentage`
 * of the 100 buckets a stable hash of (key, user id) spreads users over (features/flags/evaluate.ts).
 */
export const featureFlags = pgTable(
  'feature_flags',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    description: text('description').notNull().default(''),
    enabled: boolean('enabled').notNull().default(false),
    percentage: integer('percentage').notNull().default(0),
    userIds: text('user_ids').array().notNull().default(sql`'{}'::text[]`),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.key] }),
    check('feature_flags_percentage_range', sql`${t.percentage} between 0 and 100`),
  ],
);

/**
 * An app's assistant (features/assistant): the OpenAI-compatible provider it calls and what it
 * does. One row per app; no row: off. The key is sealed with the master key like app secrets.
 */
export const assistantSettings = pgTable('assistant_settings', {
  appId: uuid('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull().default(false),
  url: text('url').notNull(),
  model: text('model').notNull(),
  keySealed: text('key_sealed'),
  timeoutMs: integer('timeout_ms').notNull().default(30_000),
  catchUp: boolean('catch_up').notNull().default(true),
  smartReplies: boolean('smart_replies').notNull().default(true),
  /** While smart replies are on: clients ask for them by themselves (`automatic`), not on a click. */
  smartRepliesAuto: boolean('smart_replies_auto').notNull().default(false),
  moderation: boolean('moderation').notNull().default(false),
  moderationTimeoutMs: integer('moderation_timeout_ms').notNull().default(2000),
  moderationFailOpen: boolean('moderation_fail_open').notNull().default(true),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * The assistant's use of its provider per app, UTC day and feature: requests, and tokens in
 * (`prompt_tokens`) and out (`completion_tokens`) as the provider's answers counted them.
 */
export const assistantUsage = pgTable(
  'assistant_usage',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    day: text('day').notNull(),
    feature: text('feature').notNull(),
    requests: integer('requests').notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.appId, t.day, t.feature] })],
);

/**
 * Ephemeral messages (features/commands): seen only by `user_id`, never in the channel's
 * history. Kept until acted on or expired, so a button click on any node finds its state
 * (a GIF preview's results and position; the command whose app takes the click).
 */
export const ephemeralMessages = pgTable(
  'ephemeral_messages',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    userId: text('user_id').notNull(),
    cid: text('cid').notNull(),
    parentId: uuid('parent_id'),
    command: text('command').notNull(),
    /** The registered command whose app takes clicks; null for a built-in. */
    commandId: uuid('command_id'),
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index('ephemeral_messages_expires_idx').on(t.expiresAt)],
);

/** An app's GIF search for `/giphy` (GIPHY or Tenor), its API key sealed under the master key. */
export const gifProviders = pgTable('gif_providers', {
  appId: uuid('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  provider: text('provider').notNull(),
  keySealed: text('key_sealed').notNull(),
  baseUrl: text('base_url').notNull(),
  rating: text('rating'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Backups of the whole deployment (platform/backup): one row per run, written by whoever takes
 * it (a server's admin API, or `parley backup` on a stopped PGlite or on PostgreSQL). A row
 * `running` whose heartbeat is recent holds object deletions (`storage_deletions`), so the
 * objects its database snapshot names are still there when they are copied. The newest row is
 * what the admin API reports as the last backup.
 */
export const backupRuns = pgTable(
  'backup_runs',
  {
    id: uuid('id').primaryKey(),
    /** running | ok | failed */
    status: text('status').notNull(),
    databaseKind: text('database_kind').notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    heartbeatAt: ts('heartbeat_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    /** The archive's size and what it holds, once finished. */
    bytes: bigint('bytes', { mode: 'number' }),
    objects: integer('objects'),
    keyIncluded: boolean('key_included').notNull().default(false),
    error: text('error'),
    /** On a deployment restored from this backup: when it was restored. */
    restoredAt: ts('restored_at'),
  },
  (t) => [index('backup_runs_started_idx').on(t.startedAt), index('backup_runs_status_idx').on(t.status)],
);

/**
 * Object deletions held back while a backup runs (see `backupRuns`), done when no backup runs
 * any more. Keys are store keys (`<app id>/<file id>[.<variant>]`), never reused.
 */
export const storageDeletions = pgTable('storage_deletions', {
  key: text('key').primaryKey(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * Facts about the deployment itself, by name. `data_epoch`: a random id that a restore
 * replaces; the WebSocket hello carries it, so a client that saw events the restored data
 * does not hold drops what it kept instead of taking the new seqs for ones it already has.
 * `pictures_origin`: the public URL the stored picture URLs were last moved to
 * (features/images/origin.ts).
 */
export const serverState = pgTable('server_state', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Who applied each migration (platform/db/migrate.ts), beside drizzle's own journal
 * (`drizzle.__drizzle_migrations`, which holds only a hash and the migration's time): the Parley
 * version that applied it, and the oldest migration a server must know to run on a database that
 * has it (`compatible_from`, from the releases in platform/db/releases.ts). A server that finds a
 * migration it does not know reads this to decide whether it may still start (see
 * docs/upgrading.md). Keyed by drizzle's `created_at`, the journal's `when`.
 */
export const schemaHistory = pgTable('schema_history', {
  migrationAt: bigint('migration_at', { mode: 'number' }).primaryKey(),
  tag: text('tag').notNull(),
  /** Null for migrations applied before this table existed. */
  version: text('version'),
  compatibleFrom: text('compatible_from'),
  appliedAt: ts('applied_at').notNull().defaultNow(),
});

/**
 * The server nodes that started on this database, each with the version it runs and the last
 * migration it knows; `seen_at` moves while it runs (for the admin API's list of nodes).
 */
export const serverNodes = pgTable('server_nodes', {
  id: text('id').primaryKey(),
  version: text('version').notNull(),
  schema: text('schema').notNull(),
  startedAt: ts('started_at').notNull(),
  seenAt: ts('seen_at').notNull(),
});
