import { Type } from '@sinclair/typebox';
import { MAX_SEQ } from './text.js';

/** A UUID (any version); message ids are UUIDv7 made by the client or the server. */
export const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'UUID; message ids are UUIDv7',
});

/** A user id, chosen by the embedder. */
export const UserId = Type.String({
  pattern: '^[A-Za-z0-9_@.\\-]{1,64}$',
  description: 'user id: 1–64 of A-Z a-z 0-9 _ @ . -',
});

/** The channel types. */
export const CHANNEL_TYPES = ['dm', 'group', 'public', 'announcement'] as const;
/** A channel type. */
export const ChannelType = Type.Union(CHANNEL_TYPES.map((t) => Type.Literal(t)));

/** A channel id within its type. */
export const ChannelId = Type.String({
  pattern: '^[A-Za-z0-9_.\\-]{1,64}$',
  description: 'channel id: 1–64 of A-Z a-z 0-9 _ . -',
});

/** A channel's full id, `type:id`. */
export const Cid = Type.String({
  pattern: '^(dm|group|public|announcement):[A-Za-z0-9_.\\-]{1,64}$',
  description: 'channel cid: `type:id`',
});

/** A channel sequence number: every channel event takes the next one. */
export const Seq = Type.Integer({ minimum: 0, maximum: MAX_SEQ, description: 'per-channel sequence number' });

/** An ISO-8601 UTC timestamp. */
export const Timestamp = Type.String({ format: 'date-time' });

/** Parse `type:id` into its parts, or return null when it is not a valid cid. */
export function parseCid(cid: string): { type: (typeof CHANNEL_TYPES)[number]; id: string } | null {
  const m = /^(dm|group|public|announcement):([A-Za-z0-9_.-]{1,64})$/.exec(cid);
  if (!m) return null;
  return { type: m[1] as (typeof CHANNEL_TYPES)[number], id: m[2] as string };
}
