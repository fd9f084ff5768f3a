/**
 * Polls and custom emoji (issue #36).
 *
 * A poll is a message with a poll attached: the message's text is the question; `message.poll`
 * carries the options and their tallies. Votes are replaced whole (`poll.vote`), and every change
 * of the tallies is the logged channel event `poll.updated`. An anonymous poll never names its
 * voters anywhere (REST, socket, webhooks) — not even to its author.
 *
 * Custom emoji belong to an app: a `:shortcode:` (and its aliases) names a small image that
 * message text and reactions may use. The app's list is read once (`GET /v1/emoji`) and kept
 * current by the app-wide event `emoji.updated`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Seq, Timestamp, UserId, Uuid } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Fewest and most options of a poll. */
export const MIN_POLL_OPTIONS = 2;
export const MAX_POLL_OPTIONS = 10;
/** Longest option text. */
export const MAX_POLL_OPTION_LENGTH = 200;
/** Voters named per option in a poll that is not anonymous (the count is always exact). */
export const MAX_POLL_VOTERS_SHOWN = 50;

const OptionText = Type.String({
  minLength: 1,
  maxLength: MAX_POLL_OPTION_LENGTH,
  pattern: '\\S',
  description: 'the option as shown; not blank',
});

/** What a sender attaches to a message to make it a poll (the message text is the question). */
export const PollInput = Type.Object(
  {
    options: Type.Array(OptionText, { minItems: MIN_POLL_OPTIONS, maxItems: MAX_POLL_OPTIONS }),
    /** Several options per voter (default: one). */
    multiple: Type.Optional(Type.Boolean()),
    /** Nobody, not even the author, learns who voted for what (default: false). */
    anonymous: Type.Optional(Type.Boolean()),
    /** The poll closes by itself then (in the future, at most a year ahead). */
    ends_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  },
  { additionalProperties: false },
);
export type PollInput = Static<typeof PollInput>;

/** One option of a poll with its tally. */
export const PollOption = Type.Object({
  /** `"0"`, `"1"`, … in the order given. */
  id: Type.String(),
  text: Type.String(),
  vote_count: Type.Integer({ minimum: 0 }),
  /** Who chose it (at most MAX_POLL_VOTERS_SHOWN); always empty in an anonymous poll. */
  voters: Type.Array(UserId),
});
export type PollOption = Static<typeof PollOption>;

/** A poll as the wire shows it (on `message.poll` and in `poll.updated`). */
export const Poll = Type.Object({
  options: Type.Array(PollOption),
  multiple: Type.Boolean(),
  anonymous: Type.Boolean(),
  ends_at: Nullable(Timestamp),
  closed_at: Nullable(Timestamp),
  closed_by: Nullable(UserId),
  /** People who voted (each counted once, however many options they chose). */
  voter_count: Type.Integer({ minimum: 0 }),
  /** The caller's chosen option ids; always empty in events (each client keeps its own). */
  own_votes: Type.Array(Type.String()),
});
export type Poll = Static<typeof Poll>;

/** `POST /v1/messages/{id}/poll/votes`: the caller's whole choice (replaces an earlier one). */
export const PollVoteBody = Type.Object(
  { option_ids: Type.Array(Type.String({ maxLength: 4 }), { minItems: 1, maxItems: MAX_POLL_OPTIONS }) },
  { additionalProperties: false },
);
export type PollVoteBody = Static<typeof PollVoteBody>;

/** The answer to a vote or a close: the poll as it now stands, the caller's votes filled in. */
export const PollResponse = Type.Object({ message_id: Uuid, poll: Poll });
export type PollResponse = Static<typeof PollResponse>;

/** The logged channel event of a poll's change: votes or its closing. */
export const PollUpdatedEvent = Type.Object({
  type: Type.Literal('poll.updated'),
  cid: Cid,
  seq: Seq,
  created_at: Timestamp,
  message_id: Uuid,
  poll: Poll,
});
export type PollUpdatedEvent = Static<typeof PollUpdatedEvent>;

// ---- custom emoji -------------------------------------------------------------------------

/** A shortcode without its colons: lower-case letters, digits, `_`, `-`, `+`; 2–32 long. */
export const SHORTCODE_PATTERN = '^[a-z0-9_+\\-]{2,32}$';
export const Shortcode = Type.String({ pattern: SHORTCODE_PATTERN, description: 'without colons' });
/** Most aliases of one emoji. */
export const MAX_EMOJI_ALIASES = 5;
/** Largest upload of an emoji image, and the longest side it is stored at. */
export const MAX_EMOJI_BYTES = 512 * 1024;
export const EMOJI_SIZE = 128;

/** A custom emoji of the app. */
export const CustomEmoji = Type.Object({
  shortcode: Type.String(),
  aliases: Type.Array(Type.String()),
  /** Where the image is served (`GET /v1/emoji/{shortcode}/image`, no credentials needed). */
  url: Type.String(),
  content_type: Type.String(),
  animated: Type.Boolean(),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  created_by: UserId,
  created_at: Timestamp,
});
export type CustomEmoji = Static<typeof CustomEmoji>;

export const EmojiListResponse = Type.Object({ emoji: Type.Array(CustomEmoji) });
export type EmojiListResponse = Static<typeof EmojiListResponse>;
export const EmojiResponse = Type.Object({ emoji: CustomEmoji });
export type EmojiResponse = Static<typeof EmojiResponse>;
export const ShortcodeParams = Type.Object({ shortcode: Type.String({ maxLength: 64 }) });

/** Who may add and remove the app's custom emoji (`PATCH /v1/emoji/settings`, app admins). */
export const EmojiSettings = Type.Object(
  { who_can_manage: Type.Union([Type.Literal('admins'), Type.Literal('everyone')]) },
  { additionalProperties: false },
);
export type EmojiSettings = Static<typeof EmojiSettings>;
export const EmojiSettingsResponse = Type.Object({ settings: EmojiSettings });

/** The app-wide live event of a change to the emoji list: the one added, or the shortcode removed. */
export const EmojiUpdatedEvent = Type.Object({
  type: Type.Literal('emoji.updated'),
  change: Type.Union([Type.Literal('added'), Type.Literal('removed')]),
  shortcode: Type.String(),
  emoji: Nullable(CustomEmoji),
  created_at: Timestamp,
});
export type EmojiUpdatedEvent = Static<typeof EmojiUpdatedEvent>;

/** A reaction type that names a custom emoji: `:shortcode:`. */
export function customShortcode(type: string): string | null {
  const m = /^:([a-z0-9_+-]{2,32}):$/.exec(type);
  return m ? (m[1] as string) : null;
}
