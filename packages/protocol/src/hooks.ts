/**
 * The wire shapes of webhooks, the before-send hook, reminders and scheduled messages
 * (server: features/webhooks, features/reminders). Webhook bodies themselves are documented in
 * docs/protocol/webhooks.md: `{id, type, app_id, created_at, event}` signed over
 * `timestamp.body`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message, User } from './entities.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { InboxItem } from './inbox.js';
import { Ban } from './moderation.js';
import { MessageText } from './rest.js';
import { TASK_EVENT_TYPES } from './tasks.js';
import { SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * User-level events that only webhooks get (sockets see profile changes as `presence.changed`
 * and bans as `user.banned`). Presence and typing are left out: they change by the second,
 * follow connections rather than the data, and are not worth a signed, retried HTTP call.
 */
export const WEBHOOK_USER_EVENT_TYPES = [
  'user.updated',
  'user.deleted',
  'user.banned',
  'user.unbanned',
  'inbox.new',
] as const;
export type WebhookUserEventType = (typeof WEBHOOK_USER_EVENT_TYPES)[number];

/**
 * Channel events outside the log that webhooks get too, in the channel's lane: a channel's
 * bookmarks bar, its notes and its messages' tasks (with the log's events — `LOGGED_EVENT_TYPES` — these are the
 * channel events delivered). Read marks and typing are left out, as presence is.
 */
export const WEBHOOK_CHANNEL_STATE_EVENT_TYPES = [
  'bookmarks.updated',
  'note.updated',
  'note.deleted',
  ...TASK_EVENT_TYPES,
] as const;

/** The `event` of a user webhook (its body's envelope is the same as for channel events). */
export const WebhookUserEvent = Type.Union([
  /** A profile (name, username, image, role) or custom status changed, or a status expired. */
  Type.Object({ type: Type.Literal('user.updated'), user: User, created_at: Timestamp }),
  /** The user was deleted by an admin (`soft`: anonymized; `hard`: their content removed too). */
  Type.Object({
    type: Type.Literal('user.deleted'),
    user_id: UserId,
    mode: Type.Union([Type.Literal('soft'), Type.Literal('hard')]),
    created_at: Timestamp,
  }),
  /** Banned from the app (`ban.cid` null) or from one channel. */
  Type.Object({ type: Type.Literal('user.banned'), user_id: UserId, ban: Ban, created_at: Timestamp }),
  /** A ban was lifted, by a moderator or because its time was up. */
  Type.Object({ type: Type.Literal('user.unbanned'), user_id: UserId, ban: Ban, created_at: Timestamp }),
  /**
   * An item arrived in the user's activity inbox (a mention, a thread reply, a reaction, …): what
   * an embedder needs to notify through a channel of its own (email, SMS, its own push).
   */
  Type.Object({ type: Type.Literal('inbox.new'), user_id: UserId, item: InboxItem, created_at: Timestamp }),
]);
export type WebhookUserEvent = Static<typeof WebhookUserEvent>;

/** An event type a webhook wants: an exact type (`message.new`), `noun.*`, or `*` for all. */
export const WebhookEventPattern = Type.String({ pattern: '^(\\*|[a-z_]+\\.(\\*|[a-z_]+))$', maxLength: 64 });
/** An http(s) URL a webhook or hook is POSTed to. */
export const HookUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });

/** An endpoint as the API shows it (never its secret, except once on create). */
export const WebhookEndpoint = Type.Object({
  id: Uuid,
  url: HookUrl,
  description: Nullable(Type.String()),
  events: Type.Array(WebhookEventPattern),
  active: Type.Boolean(),
  disabled_at: Nullable(Timestamp),
  disabled_reason: Nullable(Type.String()),
  /**
   * Deliveries waiting to be sent: while the endpoint is inactive, what it would have received
   * (kept for the retention, `PARLEY_WEBHOOK_RETENTION_DAYS`, 7 by default); while active, its backlog.
   */
  pending: Type.Integer(),
  /** Deliveries dropped because they waited past the retention while the endpoint was inactive, in all. */
  dropped: Type.Integer(),
  /** When the last of those was dropped (null: never). */
  dropped_at: Nullable(Timestamp),
  /** During a secret rotation: until when the previous secret still signs too (null: no overlap). */
  previous_secret_expires_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreateWebhookBody = Type.Object(
  {
    url: HookUrl,
    events: Type.Array(WebhookEventPattern, { minItems: 1, maxItems: 50 }),
    description: Type.Optional(Nullable(SafeText({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

/** Change an endpoint; `active: true` re-enables a disabled one (and its pending deliveries go out). */
export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(HookUrl),
    events: Type.Optional(Type.Array(WebhookEventPattern, { minItems: 1, maxItems: 50 })),
    description: Type.Optional(Nullable(SafeText({ maxLength: 200 }))),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const WebhookResponse = Type.Object({ webhook: WebhookEndpoint });
/** On create and on a rotation only: the signing secret, shown once. */
export const CreatedWebhookResponse = Type.Object({ webhook: WebhookEndpoint, secret: Type.String() });

/** The longest overlap of a secret rotation: 7 days. */
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 86_400;
/**
 * Rotate an endpoint's signing secret. For `overlap_seconds` (default a day, 0 ends the old one
 * at once) requests carry a signature under each secret: `t=…,v1=<new>,v1=<old>`.
 */
export const RotateWebhookSecretBody = Type.Object(
  { overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SECRET_OVERLAP_SECONDS })) },
  { additionalProperties: false },
);
export type RotateWebhookSecretBody = Static<typeof RotateWebhookSecretBody>;

/** The type of the event `POST /v1/webhooks/{id}/test` sends (to no other call). */
export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test';

/**
 * Replay the channel events of the event log committed in `[since, until)` to an endpoint, as
 * new deliveries at the end of their channels' lanes. A call queues at most `limit` events (in
 * channel and seq order); `after` is the `next` of the previous call.
 */
export const ReplayWebhookBody = Type.Object(
  {
    since: Timestamp,
    until: Type.Optional(Timestamp),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    after: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);
export type ReplayWebhookBody = Static<typeof ReplayWebhookBody>;
/** What a replay queued, and where the next call goes on from (null: the range is done). */
export const ReplayWebhookResponse = Type.Object({ queued: Type.Integer(), next: Nullable(Type.String()) });
export type ReplayWebhookResponse = Static<typeof ReplayWebhookResponse>;
export const WebhooksResponse = Type.Object({ webhooks: Type.Array(WebhookEndpoint) });

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
/** One delivery of one event to one endpoint: the delivery log. */
export const WebhookDelivery = Type.Object({
  id: Uuid,
  webhook_id: Uuid,
  event_type: Type.String(),
  /** The event's channel, or null for app-wide and user events. */
  cid: Nullable(Type.String()),
  /** The user of a `user.*` event (its deliveries go out in order per user), else null. */
  user_id: Type.Optional(Nullable(UserId)),
  status: Type.Union(WEBHOOK_DELIVERY_STATUSES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  response_status: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  latency_ms: Nullable(Type.Integer()),
  next_attempt_at: Nullable(Timestamp),
  redelivery_of: Nullable(Uuid),
  created_at: Timestamp,
  delivered_at: Nullable(Timestamp),
  /** The signed body as sent (only when asked for one delivery). */
  body: Type.Optional(Type.String()),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const DeliveriesQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(WEBHOOK_DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    /** A delivery id: the page of older deliveries after it (newest first). */
    before: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;
export const DeliveriesResponse = Type.Object({ deliveries: Type.Array(WebhookDelivery) });
export const DeliveryResponse = Type.Object({ delivery: WebhookDelivery });
export const WebhookDeliveryParams = Type.Object({ id: Uuid, delivery_id: Uuid }, { additionalProperties: false });

/** The before-send hook of an app, as the API shows it. */
export const BeforeSendHook = Type.Object({
  url: HookUrl,
  timeout_ms: Type.Integer(),
  /** When the backend does not answer in time (or answers garbage): send anyway (true) or refuse (false). */
  fail_open: Type.Boolean(),
  updated_at: Timestamp,
});
export type BeforeSendHook = Static<typeof BeforeSendHook>;
export const SetBeforeSendBody = Type.Object(
  {
    url: HookUrl,
    timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 10_000 })),
    fail_open: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SetBeforeSendBody = Static<typeof SetBeforeSendBody>;
export const BeforeSendResponse = Type.Object({ hook: Nullable(BeforeSendHook), secret: Type.Optional(Type.String()) });

/** What the app's backend answers the before-send hook with. */
export const BeforeSendVerdict = Type.Object({
  action: Type.Union([Type.Literal('allow'), Type.Literal('change'), Type.Literal('reject')]),
  /** With `change`: the text to send instead. */
  text: Type.Optional(Type.String()),
  /** With `reject`: shown to the sender. */
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});
export type BeforeSendVerdict = Static<typeof BeforeSendVerdict>;

/** A reminder about a message (or a note), delivered as a DM from the app's bot. */
export const Reminder = Type.Object({
  id: Uuid,
  user_id: UserId,
  message_id: Nullable(Uuid),
  cid: Nullable(Cid),
  note: Nullable(Type.String()),
  remind_at: Timestamp,
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('cancelled')]),
  /** When it last fired (a recurring reminder stays `pending` and moves `remind_at` on). */
  sent_at: Nullable(Timestamp),
  /** null: once; otherwise it fires again every day, every weekday (Mon–Fri) or every week. */
  repeat: Nullable(Type.Union([Type.Literal('daily'), Type.Literal('weekdays'), Type.Literal('weekly')])),
  created_at: Timestamp,
  /** The message reminded about, when it still exists. */
  message: Type.Optional(Nullable(Message)),
});
export type Reminder = Static<typeof Reminder>;

/** When: an absolute time, or `in` one of the presets (`20m`, `1h`, `3h`, `tomorrow`) or `N[mhd]`. */
export const CreateReminderBody = Type.Object(
  {
    message_id: Type.Optional(Uuid),
    note: Type.Optional(SafeText({ maxLength: 500 })),
    remind_at: Type.Optional(Timestamp),
    in: Type.Optional(Type.String({ pattern: '^(tomorrow|[1-9][0-9]{0,4}[mhd])$' })),
    /** The caller's time zone offset in minutes (as `Date.getTimezoneOffset()`), for `tomorrow` (9:00 local). */
    tz_offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
    /** Fire again every day, every weekday (Monday to Friday, in `tz_offset`'s time) or every week. */
    repeat: Type.Optional(Type.Union([Type.Literal('daily'), Type.Literal('weekdays'), Type.Literal('weekly')])),
  },
  { additionalProperties: false },
);
export type CreateReminderBody = Static<typeof CreateReminderBody>;
export const ReminderResponse = Type.Object({ reminder: Reminder });
/** Snooze a reminder that has fired: remind again `in` (20m, 1h, tomorrow, N[mhd]) or at `remind_at`. */
export const SnoozeReminderBody = Type.Object(
  {
    remind_at: Type.Optional(Timestamp),
    in: Type.Optional(Type.String({ pattern: '^(tomorrow|[1-9][0-9]{0,4}[mhd])$' })),
    tz_offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
  },
  { additionalProperties: false },
);
export type SnoozeReminderBody = Static<typeof SnoozeReminderBody>;
export const RemindersResponse = Type.Object({ reminders: Type.Array(Reminder) });

/** A message waiting to be sent by the job queue. */
export const ScheduledMessage = Type.Object({
  id: Uuid,
  cid: Cid,
  user_id: UserId,
  /** The id the message will be (and, once sent, is) stored under. */
  message_id: Uuid,
  text: Type.String(),
  parent_id: Nullable(Uuid),
  send_at: Timestamp,
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('sending'),
    Type.Literal('sent'),
    Type.Literal('cancelled'),
    Type.Literal('failed'),
  ]),
  error: Nullable(Type.String()),
  sent_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ScheduledMessage = Static<typeof ScheduledMessage>;
export const ScheduleMessageBody = Type.Object(
  {
    cid: Cid,
    text: MessageText,
    send_at: Timestamp,
    parent_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type ScheduleMessageBody = Static<typeof ScheduleMessageBody>;
export const UpdateScheduledBody = Type.Object(
  { text: Type.Optional(MessageText), send_at: Type.Optional(Timestamp) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateScheduledBody = Static<typeof UpdateScheduledBody>;
export const ScheduledResponse = Type.Object({ scheduled_message: ScheduledMessage });
export const ScheduledListResponse = Type.Object({ scheduled_messages: Type.Array(ScheduledMessage) });
