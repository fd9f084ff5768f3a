/**
 * Notifications: a user's preferences (default level, per-channel overrides, do-not-disturb,
 * email digest), Web Push subscriptions, native push devices, and an app's native push
 * credentials (admin). Who gets which push is decided by the server
 * (packages/server/src/features/notifications/decide.ts); this file is only the wire.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** What notifies: every message, mentions + DMs + threads you are in, or nothing. */
export const NOTIFY_LEVELS = ['all', 'mentions', 'none'] as const;
export type NotifyLevel = (typeof NOTIFY_LEVELS)[number];
export const NotifyLevel = Type.Union(NOTIFY_LEVELS.map((l) => Type.Literal(l)));

/** A channel's level: an override, or `default` (the user's own level). */
export const ChannelNotifyLevel = Type.Union([NotifyLevel, Type.Literal('default')]);
export type ChannelNotifyLevel = Static<typeof ChannelNotifyLevel>;

/** `HH:MM`, 24 hours. */
export const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });

/** A daily do-not-disturb window in the user's time zone; `end` before `start` crosses midnight. */
export const DndSchedule = Type.Object(
  {
    start: ClockTime,
    end: ClockTime,
    /** Days the window starts on, 0 = Sunday; every day when absent. */
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 })),
  },
  { additionalProperties: false },
);
export type DndSchedule = Static<typeof DndSchedule>;

/** An IANA time zone name (`Europe/Berlin`); checked by the server against the zones it knows. */
export const TimeZone = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+\\-/]+$' });

/** A user's notification preferences. */
export const NotificationSettings = Type.Object({
  level: NotifyLevel,
  time_zone: Type.String(),
  /** Do not disturb until then (ISO time); null: off. */
  dnd_until: Nullable(Type.String()),
  dnd_schedule: Nullable(DndSchedule),
  /** Whether DND is in force right now (until, or the schedule). */
  dnd_active: Type.Boolean(),
  /** Email digest of unread mentions and DMs (only for users with an account email). */
  email_digest: Type.Boolean(),
  /** Per-channel overrides. */
  channels: Type.Array(Type.Object({ cid: Type.String(), level: NotifyLevel })),
});
export type NotificationSettings = Static<typeof NotificationSettings>;

export const NotificationSettingsResponse = Type.Object({ settings: NotificationSettings });

/** `PATCH /v1/notifications/settings` */
export const UpdateNotificationSettingsBody = Type.Object(
  {
    level: Type.Optional(NotifyLevel),
    time_zone: Type.Optional(TimeZone),
    dnd_until: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
    /** Shorthand for `dnd_until`: do not disturb for this many minutes from now (0 turns it off). */
    dnd_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600 })),
    dnd_schedule: Type.Optional(Nullable(DndSchedule)),
    email_digest: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateNotificationSettingsBody = Static<typeof UpdateNotificationSettingsBody>;

/** `PUT /v1/channels/{cid}/notifications` */
export const ChannelNotificationsBody = Type.Object({ level: ChannelNotifyLevel }, { additionalProperties: false });
export type ChannelNotificationsBody = Static<typeof ChannelNotificationsBody>;
export const ChannelNotificationsResponse = Type.Object({ cid: Type.String(), level: ChannelNotifyLevel });

/** `GET /v1/push/web/key`: the server's VAPID public key (base64url), the `applicationServerKey`. */
export const WebPushKeyResponse = Type.Object({ public_key: Type.String() });

const B64Url = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '^[A-Za-z0-9_\\-]+=*$' });

/** `POST /v1/push/web/subscriptions`: a browser's `PushSubscription.toJSON()`. */
export const WebPushSubscribeBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' }),
    keys: Type.Object({ p256dh: B64Url(200), auth: B64Url(64) }, { additionalProperties: false }),
    expirationTime: Type.Optional(Nullable(Type.Number())),
  },
  { additionalProperties: false },
);
export type WebPushSubscribeBody = Static<typeof WebPushSubscribeBody>;

export const WebPushSubscription = Type.Object({ id: Uuid, endpoint: Type.String(), created_at: Type.String() });
export const WebPushSubscriptionResponse = Type.Object({ subscription: WebPushSubscription });

export const PUSH_PROVIDERS = ['apns', 'fcm'] as const;
export type PushProvider = (typeof PUSH_PROVIDERS)[number];
export const PushProvider = Type.Union(PUSH_PROVIDERS.map((p) => Type.Literal(p)));

/** `POST /v1/push/devices`: a native app's APNs device token or FCM registration token. */
export const RegisterDeviceBody = Type.Object(
  { provider: PushProvider, token: Type.String({ minLength: 8, maxLength: 4096, pattern: '^[A-Za-z0-9_:\\-.]+$' }) },
  { additionalProperties: false },
);
export type RegisterDeviceBody = Static<typeof RegisterDeviceBody>;

export const PushDevice = Type.Object({ id: Uuid, provider: PushProvider, created_at: Type.String() });
export const PushDeviceResponse = Type.Object({ device: PushDevice });
export const PushTargetsResponse = Type.Object({
  devices: Type.Array(PushDevice),
  subscriptions: Type.Array(WebPushSubscription),
});

/** `PUT /v1/admin/apps/{id}/push/apns`: token-based APNs credentials (a .p8 key). */
export const ApnsConfigBody = Type.Object(
  {
    team_id: Type.String({ minLength: 1, maxLength: 20 }),
    key_id: Type.String({ minLength: 1, maxLength: 20 }),
    /** The `.p8` key's PEM text (ES256). */
    private_key: Type.String({ minLength: 1, maxLength: 8192 }),
    /** The app's bundle id: the `apns-topic`. */
    topic: Type.String({ minLength: 1, maxLength: 255 }),
    /** `true`: api.push.apple.com; else api.sandbox.push.apple.com. */
    production: Type.Optional(Type.Boolean()),
    /** Another base URL (a proxy, or a test server), and the PEM CA to trust for it. */
    endpoint: Type.Optional(Type.String({ pattern: '^https://', maxLength: 2048 })),
    ca: Type.Optional(Type.String({ maxLength: 65_536 })),
  },
  { additionalProperties: false },
);
export type ApnsConfigBody = Static<typeof ApnsConfigBody>;

/** `PUT /v1/admin/apps/{id}/push/fcm`: a Firebase service account (its JSON key file's fields). */
export const FcmConfigBody = Type.Object(
  {
    project_id: Type.String({ minLength: 1, maxLength: 128 }),
    client_email: Type.String({ minLength: 3, maxLength: 320 }),
    private_key: Type.String({ minLength: 1, maxLength: 8192 }),
    /** Where the OAuth2 token is asked for (default https://oauth2.googleapis.com/token). */
    token_uri: Type.Optional(Type.String({ pattern: '^https://', maxLength: 2048 })),
    /** Another FCM base URL (default https://fcm.googleapis.com), and a PEM CA to trust. */
    endpoint: Type.Optional(Type.String({ pattern: '^https://', maxLength: 2048 })),
    ca: Type.Optional(Type.String({ maxLength: 65_536 })),
  },
  { additionalProperties: false },
);
export type FcmConfigBody = Static<typeof FcmConfigBody>;

export const PushProviderInfo = Type.Object({
  provider: PushProvider,
  /** The non-secret part of the configuration (ids, topic, endpoint). */
  summary: Type.Record(Type.String(), Type.Union([Type.String(), Type.Boolean()])),
  updated_at: Type.String(),
});
export const PushProvidersResponse = Type.Object({ providers: Type.Array(PushProviderInfo) });
export const PushProviderParams = Type.Object({ id: Uuid, provider: PushProvider });

/** What a push carries (Web Push payload JSON; the same fields go into APNs/FCM data). */
export const PushPayload = Type.Object({
  type: Type.Literal('message.new'),
  app_id: Type.String(),
  cid: Type.String(),
  message_id: Type.String(),
  parent_id: Nullable(Type.String()),
  title: Type.String(),
  body: Type.String(),
  /** Notifications with the same key replace each other (one per thread burst). */
  collapse_key: Type.String(),
  /** The user's unread count across channels (muted excluded): the app badge. */
  badge: Type.Integer(),
  /** Why: `mention`, `dm`, `thread`, `message`. */
  reason: Type.String(),
});
export type PushPayload = Static<typeof PushPayload>;

/** `POST /v1/notifications/unsubscribe?token=…` (one-click, RFC 8058). */
export const UnsubscribeQuery = Type.Object({ token: Type.String({ minLength: 10, maxLength: 512 }) });
