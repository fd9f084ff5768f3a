/**
 * Admin and compliance: the audit log (`GET /v1/audit`), usage analytics
 * (`GET /v1/analytics`), every channel of the app with its moderation settings
 * (`GET /v1/channels`), a user's data export (`POST /v1/users/{id}/exports`) and the deletion
 * of users and channels through the job queue. Callers are app admins (a user token whose user
 * has the app role `admin`, which workspace owners and admins have) or the server token.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Channel } from './entities.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { SafeText } from './text.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** Every action the audit log records, `noun.verb`. */
export const AUDIT_ACTIONS = [
  'account.signin',
  'account.signin_failed',
  'account.two_factor_enabled',
  'account.two_factor_disabled',
  'account.password_changed',
  'member.role_changed',
  'member.deactivated',
  'member.reactivated',
  'member.removed',
  'member.left',
  'member.claimed',
  'invite.created',
  'invite.revoked',
  'invite.accepted',
  'join_request.approved',
  'join_request.denied',
  'workspace.ownership_transferred',
  'workspace.updated',
  'app.created',
  'app.updated',
  'app.token_minted',
  'app.upload_rules_updated',
  'user.role_changed',
  'user.profile_updated',
  'export.requested',
  'export.downloaded',
  'user.deleted',
  'channel.deleted',
  'moderation.ban',
  'moderation.shadow_ban',
  'moderation.unban',
  'moderation.flag_reviewed',
  'moderation.permissions_updated',
  'moderation.automod_updated',
  'emoji.added',
  'emoji.removed',
  'emoji.settings_updated',
  'user_group.created',
  'user_group.updated',
  'user_group.deleted',
  'user_group.members_changed',
  'user_group.settings_updated',
  'command.created',
  'command.updated',
  'command.deleted',
  'command.gif_provider_updated',
  'feature_flag.created',
  'feature_flag.updated',
  'feature_flag.deleted',
  'assistant.updated',
  'assistant.deleted',
  'assistant.message_flagged',
  'assistant.message_blocked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: an account of the web app, a chat user, the app's server token, the operator, or a job. */
export const AUDIT_ACTOR_KINDS = ['account', 'user', 'server', 'admin', 'system'] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/** At most this many entries in one page of the audit log. */
export const AUDIT_MAX_LIMIT = 200;

export const AuditQuery = Type.Object(
  {
    /** Only what this actor (account id or user id) did. */
    actor: Type.Optional(SafeText({ minLength: 1, maxLength: 128 })),
    /** An action (`member.role_changed`) or a prefix ending in `.` (`member.`). */
    action: Type.Optional(SafeText({ minLength: 1, maxLength: 64 })),
    /** Only entries about this target id (an account, user, channel cid, invite …). */
    target: Type.Optional(SafeText({ minLength: 1, maxLength: 200 })),
    /** Entries strictly before / after this time. */
    before: Type.Optional(Timestamp),
    after: Type.Optional(Timestamp),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_MAX_LIMIT })),
    /** `next` of the previous page; opaque. */
    cursor: Type.Optional(SafeText({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEntry = Type.Object({
  id: Type.String({ description: 'increasing; newer entries have larger ids' }),
  action: Type.String(),
  actor: Type.Object({
    kind: Type.Union(AUDIT_ACTOR_KINDS.map((k) => Type.Literal(k))),
    id: Nullable(Type.String()),
    /** The actor's name as it is now, where known. */
    name: Nullable(Type.String()),
  }),
  target: Type.Union([
    Type.Object({ kind: Type.String(), id: Type.String(), name: Nullable(Type.String()) }),
    Type.Null(),
  ]),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  at: Timestamp,
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditResponse = Type.Object({
  entries: Type.Array(AuditEntry),
  /** Cursor of the next (older) page, or null on the last. */
  next: Type.Union([Type.String(), Type.Null()]),
});
export type AuditResponse = Static<typeof AuditResponse>;

// ---- analytics ----------------------------------------------------------------------------

/** At most this many days in one analytics answer. */
export const ANALYTICS_MAX_DAYS = 366;

export const AnalyticsQuery = Type.Object(
  {
    /** First and last day (UTC, `YYYY-MM-DD`), both included; default: the last 30 days. */
    from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
  },
  { additionalProperties: false },
);
export type AnalyticsQuery = Static<typeof AnalyticsQuery>;

export const AnalyticsDay = Type.Object({
  day: Type.String({ description: 'UTC day, YYYY-MM-DD' }),
  /** Distinct users active that day (connected or called the API). */
  dau: Type.Integer(),
  /** Distinct users active in the 30 days ending that day. */
  mau: Type.Integer(),
  /** Messages (replies included, system messages not) sent that day. */
  messages: Type.Integer(),
  /** The most WebSocket connections open at once that day, summed over nodes at each sample. */
  peak_connections: Type.Integer(),
  /** Connection-hours: the time connections were open that day, summed over them. */
  connection_hours: Type.Number({ minimum: 0 }),
  /** Connections opened by clients that came back (the SDK's `reconnect=1`). */
  reconnects: Type.Integer(),
  /** `reconnects / connection_hours`: how often a connection drops; null with no connection time. */
  reconnects_per_connection_hour: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** Resyncs reported (`connection.resynced`), with their mean and longest time; null with none. */
  resyncs: Type.Integer(),
  resync_ms_avg: Type.Union([Type.Integer(), Type.Null()]),
  resync_ms_max: Type.Union([Type.Integer(), Type.Null()]),
  /** Office: spaces added to the layout that day (of those still in it). */
  office_spaces_created: Type.Integer(),
  /** Office: room channels made that day (a space's room is made when someone first enters it). */
  office_rooms_opened: Type.Integer(),
});
export type AnalyticsDay = Static<typeof AnalyticsDay>;

export const AnalyticsResponse = Type.Object({
  from: Type.String(),
  to: Type.String(),
  days: Type.Array(AnalyticsDay),
  totals: Type.Object({
    users: Type.Integer({ description: 'users of the app, deleted ones excluded' }),
    channels: Type.Integer(),
    messages: Type.Integer(),
    /** Bytes of stored uploads (not deleted). */
    storage_bytes: Type.Integer(),
    files: Type.Integer(),
    /** WebSocket connections open now, over all nodes (the latest sample of each). */
    connections_now: Type.Integer(),
  }),
});
export type AnalyticsResponse = Static<typeof AnalyticsResponse>;

// ---- channels --------------------------------------------------------------------------------

/** At most this many channels in one page of `GET /v1/channels`. */
export const ADMIN_CHANNELS_MAX_LIMIT = 200;

/** The channel types `GET /v1/channels` lists. */
export const ADMIN_CHANNEL_TYPES = ['public', 'announcement', 'group'] as const;

/** `state` filter of `GET /v1/channels`: frozen channels, or channels in slow mode. */
export const ADMIN_CHANNEL_STATES = ['frozen', 'slow_mode'] as const;

export const AdminChannelsQuery = Type.Object(
  {
    /** Words each found in the channel's name or cid (case-insensitive). */
    q: Type.Optional(SafeText({ minLength: 1, maxLength: 100 })),
    /** One channel type. DMs are never listed: no one may moderate them (`freeze-channel` is `nobody`). */
    type: Type.Optional(Type.Union(ADMIN_CHANNEL_TYPES.map((t) => Type.Literal(t)))),
    state: Type.Optional(Type.Union(ADMIN_CHANNEL_STATES.map((s) => Type.Literal(s)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ADMIN_CHANNELS_MAX_LIMIT })),
    /** `next` of the previous page; opaque. */
    cursor: Type.Optional(SafeText({ maxLength: 400 })),
  },
  { additionalProperties: false },
);
export type AdminChannelsQuery = Static<typeof AdminChannelsQuery>;

export const AdminChannelsResponse = Type.Object({
  /** By name (case-insensitive; a channel without one by its id), then cid. */
  channels: Type.Array(Channel),
  /** Cursor of the next page, or null on the last. */
  next: Type.Union([Type.String(), Type.Null()]),
});
export type AdminChannelsResponse = Static<typeof AdminChannelsResponse>;

// ---- data export ----------------------------------------------------------------------------

export const EXPORT_STATUSES = ['pending', 'ready', 'failed'] as const;

export const DataExport = Type.Object({
  id: Uuid,
  user_id: UserId,
  status: Type.Union(EXPORT_STATUSES.map((s) => Type.Literal(s))),
  /** Bytes of the archive, once ready. */
  size: Type.Union([Type.Integer(), Type.Null()]),
  /**
   * A signed link that downloads the archive (`.tar.gz`) without other credentials, until
   * `expires_at`; null until ready. Ask for the export again to get a fresh link.
   */
  url: Nullable(Type.String()),
  created_at: Timestamp,
  ready_at: Nullable(Timestamp),
  expires_at: Nullable(Timestamp),
});
export type DataExport = Static<typeof DataExport>;

/**
 * A workspace export in Parley's own format (docs/moving.md), made by a job: its progress while
 * `pending` (`done` of `total` steps, `step` the kind being written), then its size; downloaded
 * with the admin token until `expires_at`.
 */
export const WorkspaceExport = Type.Object({
  id: Uuid,
  workspace_id: Uuid,
  status: Type.Union(EXPORT_STATUSES.map((s) => Type.Literal(s))),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer(), step: Nullable(Type.String()) }),
  /** Bytes of the archive, once ready. */
  size: Type.Union([Type.Integer(), Type.Null()]),
  /** Why it failed, when it did. */
  error: Nullable(Type.String()),
  created_at: Timestamp,
  ready_at: Nullable(Timestamp),
  expires_at: Nullable(Timestamp),
});
export type WorkspaceExport = Static<typeof WorkspaceExport>;
export const WorkspaceExportResponse = Type.Object({ export: WorkspaceExport });
export type WorkspaceExportResponse = Static<typeof WorkspaceExportResponse>;

export const DataExportResponse = Type.Object({ export: DataExport });
export type DataExportResponse = Static<typeof DataExportResponse>;
export const DataExportsResponse = Type.Object({ exports: Type.Array(DataExport) });
export type DataExportsResponse = Static<typeof DataExportsResponse>;

export const ExportParams = Type.Object({ id: UserId, export_id: Uuid }, { additionalProperties: false });
export const ExportDownloadQuery = Type.Object(
  {
    app: Uuid,
    v: Type.Literal('export'),
    exp: Type.Integer({ minimum: 0, maximum: 2 ** 40 }),
    sig: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export const ExportDownloadParams = Type.Object({ export_id: Uuid }, { additionalProperties: false });

// ---- deletion --------------------------------------------------------------------------------

export const DELETE_USER_MODES = ['soft', 'hard'] as const;
export const DeleteUserQuery = Type.Object(
  {
    /**
     * `soft`: the user becomes "[deleted user]" with every personal field cleared; their
     * messages stay so conversations read on. `hard`: their messages, reactions and uploads
     * are removed too.
     */
    mode: Type.Optional(Type.Union(DELETE_USER_MODES.map((m) => Type.Literal(m)))),
  },
  { additionalProperties: false },
);
export type DeleteUserQuery = Static<typeof DeleteUserQuery>;

export const DeletionResponse = Type.Object({
  /** The job that does the deletion; the record is gone (or renamed) once it has run. */
  job_id: Type.String(),
  target: Type.Union([Type.Object({ user_id: UserId }), Type.Object({ cid: Cid })]),
});
export type DeletionResponse = Static<typeof DeletionResponse>;

/** The name a soft-deleted user is shown with. */
export const DELETED_USER_NAME = '[deleted user]';

const Count = Type.Integer({ minimum: 0 });
const Pool = Type.Object({ total: Count, idle: Count, waiting: Count });

/**
 * GET /v1/admin/system (the operator's admin token): the deployment at a glance, as the admin
 * console's System tab shows it — nodes, connections, job queues, webhook backlogs, the
 * database's pools, the last backup.
 */
export const SystemReport = Type.Object({
  node: Type.Object({
    id: Type.String({ description: 'the node that answered' }),
    version: Type.String(),
    connections: Type.Integer({ description: 'its open sockets now' }),
  }),
  nodes: Type.Array(
    Type.Object({
      id: Type.String(),
      version: Type.String(),
      schema: Type.String({ description: 'the last migration its code knows' }),
      started_at: Type.String(),
      seen_at: Type.String(),
      live: Type.Boolean({ description: 'seen within the last minute' }),
      connections: Type.Union([Type.Integer(), Type.Null()], {
        description: 'open sockets: now for the node that answered, else at its last usage sample (null: none)',
      }),
    }),
  ),
  database: Type.Object({
    kind: Type.Union([Type.Literal('pglite'), Type.Literal('postgres')]),
    migration: Nullable(Type.String()),
    pools: Type.Record(Type.String(), Pool, {
      description: "PostgreSQL's pools of the node that answered (main, hot, read): connections and callers waiting",
    }),
  }),
  jobs: Type.Array(Type.Object({ queue: Type.String(), created: Count, retry: Count, active: Count, failed: Count }), {
    description: 'queues with jobs not completed, deepest first',
  }),
  webhooks: Type.Array(
    Type.Object({
      app_id: Type.String(),
      app_name: Type.String(),
      endpoint_id: Type.String(),
      url: Type.String(),
      active: Type.Boolean(),
      pending: Count,
      oldest_pending_at: Nullable(Type.String()),
    }),
    { description: 'every endpoint, the largest backlog first' },
  ),
  last_backup: Type.Union([
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      started_at: Type.String(),
      finished_at: Nullable(Type.String()),
      bytes: Type.Union([Type.Integer(), Type.Null()]),
      error: Nullable(Type.String()),
    }),
    Type.Null(),
  ]),
});
export type SystemReport = Static<typeof SystemReport>;
