/**
 * "Seen, and where you were": read-by of a message in a small channel, the channel each user
 * last had open, and the system notes an app's server posts. Read-by is derived from the read
 * marks the server keeps anyway (`last_read_seq`, and since protocol 2's additions
 * `last_read_at`): no row per reader per message.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { MessageText } from './rest.js';

/** One member who has read a message: their read mark is at or past its seq. */
export const ReadByEntry = Type.Object({
  user_id: UserId,
  /**
   * When their read mark last moved forward (null: it has not moved since the server began
   * keeping the time). For a channel's latest message, that is when they read it.
   */
  read_at: Type.Union([Timestamp, Type.Null()]),
});
export type ReadByEntry = Static<typeof ReadByEntry>;

/** `GET /v1/messages/{id}/read-by`. */
export const ReadByResponse = Type.Object({
  /** Whether read-by is on in this channel (at most `max_members` members); when false, `read_by` is empty. */
  enabled: Type.Boolean(),
  /** The server's limit (`PARLEY_READ_BY_MAX_MEMBERS`); 0: read-by is off everywhere. */
  max_members: Type.Integer({ minimum: 0 }),
  /** The members other than the author who have read it, earliest reader first. */
  read_by: Type.Array(ReadByEntry),
});
export type ReadByResponse = Static<typeof ReadByResponse>;

/**
 * A user's privacy of their reads (`GET`/`PATCH /v1/me/privacy`). With `hide_read_receipts`
 * on, nobody else learns how far they have read: they are in no read-by list, others get no
 * `read.updated` about them, and every member list shows others their `last_read_seq` as 0
 * (`last_read_at` null) — they count as not having seen anything ("seen by 2 of 3"). Their own
 * read marks, unread counts and their other devices work as before.
 */
export const ReadPrivacy = Type.Object({
  /** Hide your read receipts from everyone else (Zulip's "Let others see when I've read messages", inverted). */
  hide_read_receipts: Type.Boolean(),
});
export type ReadPrivacy = Static<typeof ReadPrivacy>;

/** `PATCH /v1/me/privacy`: the settings to change (only those sent). */
export const UpdateReadPrivacyBody = Type.Object(
  { hide_read_receipts: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type UpdateReadPrivacyBody = Static<typeof UpdateReadPrivacyBody>;

/** `GET`/`PATCH /v1/me/privacy`. */
export const ReadPrivacyResponse = Type.Object({ privacy: ReadPrivacy });
export type ReadPrivacyResponse = Static<typeof ReadPrivacyResponse>;

/** `PUT /v1/me/last-channel`: the channel the user has open now. */
export const LastChannelBody = Type.Object({ cid: Cid }, { additionalProperties: false });
export type LastChannelBody = Static<typeof LastChannelBody>;

/** `GET`/`PUT /v1/me/last-channel`: null when none is kept, or the user can no longer read it. */
export const LastChannelResponse = Type.Object({
  cid: Type.Union([Cid, Type.Null()]),
  updated_at: Type.Union([Timestamp, Type.Null()]),
});
export type LastChannelResponse = Static<typeof LastChannelResponse>;

/**
 * `POST /v1/channels/{cid}/system-messages` (server token only): a system note in a channel,
 * shown as the channel's own voice (no author line, no unread, no push).
 */
export const SystemMessageBody = Type.Object(
  {
    /** A client-chosen id: the same id again answers the same message, no duplicate. */
    id: Type.Optional(Uuid),
    text: MessageText,
    /** Who the note is about or on behalf of (an existing user of the app); default the app's bot, `parley-bot`. */
    user_id: Type.Optional(UserId),
  },
  { additionalProperties: false },
);
export type SystemMessageBody = Static<typeof SystemMessageBody>;
