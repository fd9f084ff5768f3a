/**
 * Notification routes: the caller's preferences and per-channel levels, Web Push
 * subscriptions and native devices (users), the app's native push credentials (admin), and
 * the email digest's one-click unsubscribe (no credentials: the signed token is the proof).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ApnsConfigBody,
  ChannelNotificationsBody,
  ChannelNotificationsResponse,
  CidParams,
  ErrorBody,
  FcmConfigBody,
  IdParams,
  NotificationSettingsResponse,
  OkResponse,
  PushDeviceResponse,
  PushProviderParams,
  PushProvidersResponse,
  PushTargetsResponse,
  RegisterDeviceBody,
  UnsubscribeQuery,
  UpdateNotificationSettingsBody,
  WebPushKeyResponse,
  WebPushSubscribeBody,
  WebPushSubscriptionResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../platform/errors.js';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { readUnsubscribeToken, unsubscribeDigest } from './digest.js';
import { vapidKeys } from './jobs.js';
import { presentSettings, setChannelLevel, updateSettings } from './settings.js';
import {
  configureProvider,
  listProviders,
  listTargets,
  registerDevice,
  removeDevice,
  removeProvider,
  subscribeWebPush,
  unsubscribeWebPush,
} from './targets.js';

const tags = ['notifications'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const AppParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${title}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
  `${body}</body></html>`;

export function notificationRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The one-click unsubscribe POST of RFC 8058 is a form body (`List-Unsubscribe=One-Click`);
    // it carries nothing the route needs (the token is in the URL). Only in this plugin.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, _body, done) =>
      done(null, undefined),
    );

    app.get(
      '/v1/notifications/settings',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Your notification preferences',
          response: { 200: NotificationSettingsResponse, ...errors },
        },
      },
      async (req) => {
        const me = userOf(req);
        return { settings: await presentSettings(svc, me.app.id, me.userId) };
      },
    );
    app.patch(
      '/v1/notifications/settings',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Change your notification preferences (level, time zone, do-not-disturb, email digest)',
          description:
            '`dnd_minutes` sets do-not-disturb for that long from now (0: off); `dnd_until` sets its end (null: off); ' +
            '`dnd_schedule` `{start,end,days?}` is a daily window in `time_zone`.',
          body: UpdateNotificationSettingsBody,
          response: { 200: NotificationSettingsResponse, ...errors },
        },
      },
      async (req) => ({ settings: await updateSettings(svc, userOf(req), req.body) }),
    );
    app.put(
      '/v1/channels/:cid/notifications',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary:
            "Set your notification level for a channel (`default` follows your own level); mute is the membership's `muted`",
          params: CidParams,
          body: ChannelNotificationsBody,
          response: { 200: ChannelNotificationsResponse, ...errors },
        },
      },
      async (req) => setChannelLevel(svc, userOf(req), req.params.cid, req.body.level),
    );

    app.get(
      '/v1/push/web/key',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: "The server's VAPID public key: the `applicationServerKey` to subscribe with",
          response: { 200: WebPushKeyResponse, ...errors },
        },
      },
      async () => ({ public_key: (await vapidKeys(svc)).publicKey }),
    );
    app.post(
      '/v1/push/web/subscriptions',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: "Register a browser's Web Push subscription (`PushSubscription.toJSON()`)",
          body: WebPushSubscribeBody,
          response: { 200: WebPushSubscriptionResponse, ...errors },
        },
      },
      async (req) => subscribeWebPush(svc, userOf(req), req.body),
    );
    app.delete(
      '/v1/push/web/subscriptions/:id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Remove a Web Push subscription of yours',
          params: IdParams,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await unsubscribeWebPush(svc, userOf(req), req.params.id);
        return { ok: true as const };
      },
    );
    app.post(
      '/v1/push/devices',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: "Register a native app's APNs device token or FCM registration token",
          body: RegisterDeviceBody,
          response: { 200: PushDeviceResponse, ...errors },
        },
      },
      async (req) => registerDevice(svc, userOf(req), req.body),
    );
    app.delete(
      '/v1/push/devices/:id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Remove a device of yours',
          params: IdParams,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await removeDevice(svc, userOf(req), req.params.id);
        return { ok: true as const };
      },
    );
    app.get(
      '/v1/push/targets',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Your devices and Web Push subscriptions',
          response: { 200: PushTargetsResponse, ...errors },
        },
      },
      async (req) => listTargets(svc, userOf(req)),
    );

    app.get(
      '/v1/admin/apps/:id/push',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "An app's native push providers (without their keys)",
          params: AppParams,
          response: { 200: PushProvidersResponse, ...errors },
        },
      },
      async (req) => listProviders(svc, req.params.id),
    );
    app.put(
      '/v1/admin/apps/:id/push/apns',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary:
            'Configure APNs (token auth: team id, key id, .p8 key, bundle id as topic); see docs/notifications.md',
          params: AppParams,
          body: ApnsConfigBody,
          response: { 200: PushProvidersResponse, ...errors },
        },
      },
      async (req) => configureProvider(svc, req.params.id, 'apns', req.body),
    );
    app.put(
      '/v1/admin/apps/:id/push/fcm',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "Configure FCM HTTP v1 (a Firebase service account's project id, client email and key)",
          params: AppParams,
          body: FcmConfigBody,
          response: { 200: PushProvidersResponse, ...errors },
        },
      },
      async (req) => configureProvider(svc, req.params.id, 'fcm', req.body),
    );
    app.delete(
      '/v1/admin/apps/:id/push/:provider',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Remove a native push provider of an app',
          params: PushProviderParams,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await removeProvider(svc, req.params.id, req.params.provider);
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/notifications/unsubscribe',
      {
        schema: {
          tags,
          summary: 'The email digest unsubscribe page (asks to confirm; a GET changes nothing)',
          security: [],
          querystring: UnsubscribeQuery,
          response: { 200: Type.String({ description: 'An HTML page' }), 400: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!readUnsubscribeToken(svc, req.query.token))
          throw new ApiError('VALIDATION_ERROR', 'Invalid unsubscribe link');
        const action = `/v1/notifications/unsubscribe?token=${encodeURIComponent(req.query.token)}`;
        return reply
          .type('text/html; charset=utf-8')
          .send(
            page(
              'Unsubscribe',
              `<h1>Stop email digests?</h1><p>You will no longer get mail about unread mentions and direct messages.</p>` +
                `<form method="post" action="${action}"><button type="submit">Unsubscribe</button></form>`,
            ),
          );
      },
    );
    app.post(
      '/v1/notifications/unsubscribe',
      {
        schema: {
          tags,
          summary: 'Turn the email digest off (one-click, RFC 8058: the token in the URL is the proof)',
          security: [],
          querystring: UnsubscribeQuery,
          response: { 200: Type.Union([OkResponse, Type.String({ description: 'An HTML page' })]), 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const who = readUnsubscribeToken(svc, req.query.token);
        if (!who) throw new ApiError('VALIDATION_ERROR', 'Invalid unsubscribe link');
        await unsubscribeDigest(svc, who.appId, who.userId);
        if (req.headers.accept?.includes('application/json')) return reply.send({ ok: true as const });
        return reply
          .type('text/html; charset=utf-8')
          .send(page('Unsubscribed', '<h1>Unsubscribed</h1><p>You will no longer get email digests.</p>'));
      },
    );
  };
}
