/**
 * Permissions and moderation on the wire: the capability names a channel's
 * `own_capabilities` lists, per-app permission overrides, channel moderation settings, bans,
 * flags (the moderation queue) and automod block lists. The server's one permission model
 * lives in packages/server/src/features/permissions; docs/permissions.md is its table.
 */
import { type Static, Type } from '@sinclair/typebox';
import { CHANNEL_TYPES, Cid, Timestamp, UserId, Uuid } from './ids.js';
import { SafeText } from './text.js';

/**
 * Every action the permission model decides, as named in `own_capabilities` and in overrides.
 * Order is the table's order in docs/permissions.md.
 */
export const CAPABILITIES = [
  'read-channel',
  'join-channel',
  'send-message',
  'mention-channel',
  'upload-file',
  'send-reaction',
  'pin-message',
  'manage-bookmarks',
  'edit-own-message',
  'edit-any-message',
  'delete-own-message',
  'delete-any-message',
  'update-channel-topic',
  'update-channel',
  'freeze-channel',
  'add-members',
  'remove-members',
  'update-member-roles',
  'ban-members',
  'skip-slow-mode',
  'flag-message',
  'create-poll',
  'vote-poll',
  'edit-channel-notes',
] as const;
/** One action of the permission model. */
export type Capability = (typeof CAPABILITIES)[number];
/** A capability name on the wire. */
export const CapabilityName = Type.Union(CAPABILITIES.map((c) => Type.Literal(c)));

/** The lowest channel role an action is granted to (`nobody`: not granted; `anyone`: non-members too). */
export const GRANT_LEVELS = ['anyone', 'member', 'moderator', 'admin', 'owner', 'nobody'] as const;
export type GrantLevel = (typeof GRANT_LEVELS)[number];
export const GrantLevelName = Type.Union(GRANT_LEVELS.map((g) => Type.Literal(g)));

/** Per-app overrides: channel type → capability → the lowest role it is granted to. */
export const PermissionOverrides = Type.Partial(
  Type.Object(
    Object.fromEntries(
      CHANNEL_TYPES.map((t) => [
        t,
        Type.Partial(
          Type.Object(Object.fromEntries(CAPABILITIES.map((c) => [c, GrantLevelName])), {
            additionalProperties: false,
          }),
        ),
      ]),
    ),
    { additionalProperties: false },
  ),
);
export type PermissionOverrides = Partial<
  Record<(typeof CHANNEL_TYPES)[number], Partial<Record<Capability, GrantLevel>>>
>;

/** `GET`/`PUT /v1/admin/apps/{id}/permissions` and `/v1/moderation/permissions`. */
export const PermissionsResponse = Type.Object({
  /** The app's overrides as stored. */
  overrides: PermissionOverrides,
  /** The effective table: channel type → capability → lowest role granted. */
  effective: Type.Record(Type.String(), Type.Record(Type.String(), GrantLevelName)),
});
export type PermissionsResponse = Static<typeof PermissionsResponse>;
export const PermissionsBody = Type.Object({ overrides: PermissionOverrides }, { additionalProperties: false });
export type PermissionsBody = Static<typeof PermissionsBody>;

/** Who may react: `members` (default) or `open` (anyone who may read the channel). */
export const ReactionsPolicy = Type.Union([Type.Literal('members'), Type.Literal('open')]);
/** Longest slow mode, in seconds (one hour). */
export const MAX_SLOW_MODE_S = 3600;

// ---- bans --------------------------------------------------------------------------------

const Reason = SafeText({ maxLength: 500 });

/** A ban: in one channel (`cid`) or app-wide (`cid: null`). */
export const Ban = Type.Object({
  user_id: UserId,
  cid: Type.Union([Cid, Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  banned_by: Type.Union([UserId, Type.Null()]),
  created_at: Timestamp,
  /** When it lifts by itself; null: until lifted. */
  expires_at: Type.Union([Timestamp, Type.Null()]),
  /** A shadow ban: the user may go on posting; what they send is seen only by them and moderators. */
  shadow: Type.Boolean(),
});
export type Ban = Static<typeof Ban>;

/** `POST /v1/moderation/bans` */
export const BanBody = Type.Object(
  {
    user_id: UserId,
    /** The channel; absent: app-wide (app admins and moderators only). */
    cid: Type.Optional(Cid),
    reason: Type.Optional(Reason),
    /** Seconds until the ban lifts by itself; absent: until lifted. */
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400 })),
    /**
     * A shadow ban (app moderators and admins, the server token): the user is not removed, not
     * told, and goes on posting, but their new messages are seen only by them and moderators.
     */
    shadow: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type BanBody = Static<typeof BanBody>;
/** `POST /v1/moderation/unban` */
export const UnbanBody = Type.Object({ user_id: UserId, cid: Type.Optional(Cid) }, { additionalProperties: false });
export type UnbanBody = Static<typeof UnbanBody>;
export const BanResponse = Type.Object({ ban: Ban });
export const BansResponse = Type.Object({ bans: Type.Array(Ban) });
export const BansQuery = Type.Object(
  { cid: Type.Optional(Cid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
  { additionalProperties: false },
);

// ---- mutes (personal: the muter stops seeing the muted user's messages) ------------------

/** One user the caller has muted. */
export const Mute = Type.Object({ user_id: UserId, created_at: Timestamp });
export type Mute = Static<typeof Mute>;
/** `POST /v1/moderation/mutes` */
export const MuteBody = Type.Object({ user_id: UserId }, { additionalProperties: false });
export type MuteBody = Static<typeof MuteBody>;
export const MuteParams = Type.Object({ user_id: UserId });
export const MuteResponse = Type.Object({ mute: Mute });
export const MutesResponse = Type.Object({ mutes: Type.Array(Mute) });

// ---- flags (the moderation queue) --------------------------------------------------------

export const FLAG_STATUSES = ['open', 'removed', 'banned', 'dismissed'] as const;
export const FlagStatus = Type.Union(FLAG_STATUSES.map((s) => Type.Literal(s)));

/** A report of a message or a user; automod files them too (`reported_by: null`). */
export const Flag = Type.Object({
  id: Uuid,
  /** The flagged message, if a message was flagged. */
  message_id: Type.Union([Uuid, Type.Null()]),
  cid: Type.Union([Cid, Type.Null()]),
  /** The flagged user (the message's author for a message). */
  user_id: UserId,
  reported_by: Type.Union([UserId, Type.Null()]),
  reason: Type.String(),
  /** The flagged message's text when it was flagged (moderators see it even after an edit). */
  text: Type.Union([Type.String(), Type.Null()]),
  status: FlagStatus,
  reviewed_by: Type.Union([UserId, Type.Null()]),
  reviewed_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});
export type Flag = Static<typeof Flag>;

/** `POST /v1/moderation/flags`: report a message or a user. */
export const FlagBody = Type.Object(
  {
    message_id: Type.Optional(Uuid),
    user_id: Type.Optional(UserId),
    reason: Reason,
  },
  { additionalProperties: false },
);
export type FlagBody = Static<typeof FlagBody>;
export const FlagResponse = Type.Object({ flag: Flag });
export const FlagsResponse = Type.Object({ flags: Type.Array(Flag), next: Type.Optional(Type.String()) });
export const FlagsQuery = Type.Object(
  {
    status: Type.Optional(FlagStatus),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    /** The `next` of the previous page. */
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const FlagParams = Type.Object({ id: Uuid });
/** `POST /v1/moderation/flags/{id}/review` */
export const ReviewFlagBody = Type.Object(
  {
    action: Type.Union([Type.Literal('remove'), Type.Literal('ban'), Type.Literal('dismiss')]),
    /** For `ban`: app-wide unless `cid`; the flagged message is removed too. */
    ban: Type.Optional(
      Type.Object(
        {
          cid: Type.Optional(Cid),
          reason: Type.Optional(Reason),
          timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ReviewFlagBody = Static<typeof ReviewFlagBody>;

// ---- automod -----------------------------------------------------------------------------

/** What automod does with a message that matches: refuse it, or let it through and file a flag. */
export const AutomodAction = Type.Union([Type.Literal('block'), Type.Literal('flag')]);
export type AutomodAction = Static<typeof AutomodAction>;

/** An app's automod settings: `GET`/`PUT /v1/moderation/automod`. */
export const AutomodSettings = Type.Object(
  {
    /** Whole words (case-insensitive). */
    blocked_words: Type.Array(SafeText({ minLength: 1, maxLength: 100 }), { maxItems: 1000 }),
    /** JavaScript regular expressions (flags `iu`), each run with a time budget. */
    blocked_patterns: Type.Array(SafeText({ minLength: 1, maxLength: 500 }), { maxItems: 100 }),
    /** Link domains (and their subdomains). */
    blocked_domains: Type.Array(SafeText({ minLength: 1, maxLength: 253 }), { maxItems: 1000 }),
    action: AutomodAction,
    /** Spam heuristic: the same text in this many channels within `spam_window_s` is spam (0: off). */
    spam_channels: Type.Integer({ minimum: 0, maximum: 100 }),
    spam_window_s: Type.Integer({ minimum: 1, maximum: 3600 }),
    /** Mention flood: more distinct @mentions than this in one message (0: off). */
    max_mentions: Type.Integer({ minimum: 0, maximum: 1000 }),
  },
  { additionalProperties: false },
);
export type AutomodSettings = Static<typeof AutomodSettings>;
export const AutomodResponse = Type.Object({ automod: AutomodSettings });

// ---- transparency report -----------------------------------------------------------------

/** At most this many periods in one transparency report. */
export const TRANSPARENCY_MAX_PERIODS = 400;

export const TransparencyQuery = Type.Object(
  {
    /** How the report is cut: by UTC day, ISO week (Monday first) or calendar month; default `month`. */
    period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')])),
    /** First and last day (UTC, `YYYY-MM-DD`), both included; default: the last 12 months (or 12 weeks, 30 days). */
    from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    /** `json` (default) or `csv`: a header line, then a line a period, then `total`. */
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);
export type TransparencyQuery = Static<typeof TransparencyQuery>;

/** The moderation actions of one period (or of all of them: `totals`). */
export const TransparencyCounts = Type.Object({
  /** Reports filed by people (`POST /v1/moderation/flags`). */
  reports: Type.Integer(),
  /** Messages flagged by automod or the assistant's moderation, not by a person. */
  flagged_automatically: Type.Integer(),
  /** Flags reviewed by moderators, by outcome: message removed, author banned, dismissed. */
  reviewed_removed: Type.Integer(),
  reviewed_banned: Type.Integer(),
  reviewed_dismissed: Type.Integer(),
  /** Bans made (a review's ban included), shadow bans and bans lifted. */
  bans: Type.Integer(),
  shadow_bans: Type.Integer(),
  unbans: Type.Integer(),
  /** Messages the assistant's moderation refused, and let through with a flag. */
  ai_blocked: Type.Integer(),
  ai_flagged: Type.Integer(),
});
export type TransparencyCounts = Static<typeof TransparencyCounts>;

export const TransparencyPeriod = Type.Intersect([
  Type.Object({
    /** The period's first and last UTC day, both included (`YYYY-MM-DD`). */
    start: Type.String(),
    end: Type.String(),
  }),
  TransparencyCounts,
]);
export type TransparencyPeriod = Static<typeof TransparencyPeriod>;

export const TransparencyResponse = Type.Object({
  period: Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')]),
  from: Type.String(),
  to: Type.String(),
  /** Every period from `from` to `to`, oldest first, empty ones included. */
  periods: Type.Array(TransparencyPeriod),
  totals: TransparencyCounts,
});
export type TransparencyResponse = Static<typeof TransparencyResponse>;

/** The report's columns, in the CSV's order. */
export const TRANSPARENCY_COLUMNS = [
  'reports',
  'flagged_automatically',
  'reviewed_removed',
  'reviewed_banned',
  'reviewed_dismissed',
  'bans',
  'shadow_bans',
  'unbans',
  'ai_blocked',
  'ai_flagged',
] as const satisfies readonly (keyof TransparencyCounts)[];

/** The report as CSV: a header, a line a period, then the totals (`total` in place of the days). */
export function transparencyCsv(r: TransparencyResponse): string {
  const lines = [['period_start', 'period_end', ...TRANSPARENCY_COLUMNS].join(',')];
  for (const p of r.periods) lines.push([p.start, p.end, ...TRANSPARENCY_COLUMNS.map((c) => p[c])].join(','));
  lines.push(['total', '', ...TRANSPARENCY_COLUMNS.map((c) => r.totals[c])].join(','));
  return `${lines.join('\r\n')}\r\n`;
}
