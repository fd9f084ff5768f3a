/**
 * Feature flags of an app, with a gradual rollout: a flag is on for a user when it is enabled
 * and the user is named in its allow-list, or falls in its rollout percentage. Which users a
 * percentage takes is deterministic: a stable hash of (flag key, user id) puts each user in one
 * of 100 buckets, and a flag at 30 % is on for buckets 0–29 (raising it only adds users).
 * Flags are managed by the app's backend (server token) or its admins
 * (`/v1/feature-flags`); a user's connection is told what they have in its hello (`flags`) and
 * each change's value for them in the app-wide event `feature_flags.updated` (`value`); `GET
 * /v1/me/flags` reads them over REST.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Timestamp, UserId } from './ids.js';
import { SafeText } from './text.js';

/** A flag key: lower case letters, digits, `_`, `.` and `-`, 1–64, starting with a letter or digit. */
export const FEATURE_FLAG_KEY_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,63}$';
/** Most users one flag may name. */
export const MAX_FLAG_USERS = 1000;
/** Most flags of one app. */
export const MAX_APP_FLAGS = 500;

export const FeatureFlagKey = Type.String({
  pattern: FEATURE_FLAG_KEY_PATTERN,
  description: 'the flag key: 1–64 of a-z 0-9 _ . -, starting with a letter or digit',
});

export const FeatureFlag = Type.Object({
  key: FeatureFlagKey,
  description: Type.String(),
  /** Off: nobody has it, whatever the percentage and the named users. */
  enabled: Type.Boolean(),
  /** The share of users (0–100) that have it, chosen by a stable hash of key and user id. */
  percentage: Type.Integer({ minimum: 0, maximum: 100 }),
  /** Users that have it whatever the percentage (while it is enabled). */
  user_ids: Type.Array(UserId),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type FeatureFlag = Static<typeof FeatureFlag>;

export const FeatureFlagParams = Type.Object({ key: FeatureFlagKey });
export type FeatureFlagParams = Static<typeof FeatureFlagParams>;

/** `PUT /v1/feature-flags/{key}`: creates the flag, or changes only the fields sent. */
export const PutFeatureFlagBody = Type.Object(
  {
    description: Type.Optional(SafeText({ maxLength: 500 })),
    enabled: Type.Optional(Type.Boolean()),
    percentage: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    user_ids: Type.Optional(Type.Array(UserId, { maxItems: MAX_FLAG_USERS })),
  },
  { additionalProperties: false },
);
export type PutFeatureFlagBody = Static<typeof PutFeatureFlagBody>;

export const FeatureFlagResponse = Type.Object({ flag: FeatureFlag });
export type FeatureFlagResponse = Static<typeof FeatureFlagResponse>;

export const FeatureFlagsResponse = Type.Object({ flags: Type.Array(FeatureFlag) });
export type FeatureFlagsResponse = Static<typeof FeatureFlagsResponse>;

/** `GET /v1/me/flags`: every flag of the app, evaluated for the caller. */
export const MyFlagsResponse = Type.Object({ flags: Type.Record(Type.String(), Type.Boolean()) });
export type MyFlagsResponse = Static<typeof MyFlagsResponse>;

/**
 * To every connection of the app: a flag was created, changed or deleted, with `value`, the flag
 * for the connection's user now (each connection gets its own; false once deleted). A client
 * sets it, without a request; without `value` (an older server, or a webhook endpoint, which gets
 * the event as the app sees it) it reads its flags again with `GET /v1/me/flags`.
 */
export const FeatureFlagsUpdatedEvent = Type.Object({
  type: Type.Literal('feature_flags.updated'),
  key: FeatureFlagKey,
  change: Type.Union([Type.Literal('updated'), Type.Literal('deleted')]),
  /** Whether the receiving user has the flag now. */
  value: Type.Optional(Type.Boolean()),
  created_at: Timestamp,
});
export type FeatureFlagsUpdatedEvent = Static<typeof FeatureFlagsUpdatedEvent>;
