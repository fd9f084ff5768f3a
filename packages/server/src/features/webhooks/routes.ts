/**
 * The app admin API of webhooks and the before-send hook: the embedder's backend (server
 * token) or an owner or admin of the workspace (user token, for the web app's admin screen).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BeforeSendResponse,
  CreatedWebhookResponse,
  CreateWebhookBody,
  DeliveriesQuery,
  DeliveriesResponse,
  DeliveryResponse,
  ErrorBody,
  IdParams,
  ReplayWebhookBody,
  ReplayWebhookResponse,
  RotateWebhookSecretBody,
  SetBeforeSendBody,
  UpdateWebhookBody,
  WebhookDeliveryParams,
  WebhookResponse,
  WebhooksResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { checkAppAdmin } from '../permissions/index.js';
import {
  accessWebhook,
  createWebhook,
  deleteBeforeSend,
  deleteWebhook,
  getBeforeSend,
  getDelivery,
  listDeliveries,
  listWebhooks,
  presentWebhook,
  redeliver,
  replayWebhook,
  rotateWebhookSecret,
  sendTestEvent,
  setBeforeSend,
  updateWebhook,
} from './actions.js';

const tags = ['webhooks'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** The app whose hooks the caller may manage: a server token, or a workspace owner/admin. */
const checkHookAdmin = (svc: Services, req: FastifyRequest): Promise<string> =>
  checkAppAdmin(
    svc.db,
    callerOf(req),
    'Only the app backend (server token) or a workspace owner or admin manages hooks',
  );

export function webhookRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const cfg = { auth: 'any' as const };
    app.get(
      '/v1/webhooks',
      {
        config: cfg,
        schema: { tags, summary: "The app's webhook endpoints", response: { 200: WebhooksResponse, ...errors } },
      },
      async (req) => ({ webhooks: await listWebhooks(svc, await checkHookAdmin(svc, req)) }),
    );
    app.post(
      '/v1/webhooks',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Add a webhook endpoint (answers its signing secret, once)',
          description:
            'A `url` the outbound policy refuses (a private address, a port other than 80/443) is `400 OUTBOUND_NOT_ALLOWED`, ' +
            'with `details.setting` naming the setting that would allow it. ' +
            'Events are POSTed as JSON with `X-Parley-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; see docs/protocol/webhooks.md. ' +
            '`events` takes exact types, `noun.*` or `*`: the channel events `message.*`, `reaction.*`, `member.*`, ' +
            '`channel.updated`, `poll.updated`, `bookmarks.updated`, `note.updated`, `note.deleted`, the app-wide ' +
            '`emoji.updated` and `user_group.updated`, and the user events `user.updated`, `user.deleted`, `user.banned`, `user.unbanned`, ' +
            "`inbox.new` (an item in a user's activity inbox) " +
            '(presence and typing are never sent).',
          body: CreateWebhookBody,
          response: { 201: CreatedWebhookResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await createWebhook(svc, await checkHookAdmin(svc, req), req.body)),
    );
    app.get(
      '/v1/webhooks/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'One webhook endpoint',
          params: IdParams,
          response: { 200: WebhookResponse, ...errors },
        },
      },
      async (req) => {
        const appId = await checkHookAdmin(svc, req);
        return { webhook: await presentWebhook(svc, appId, await accessWebhook(svc, appId, req.params.id)) };
      },
    );
    app.patch(
      '/v1/webhooks/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary:
            'Change a webhook endpoint; `active: false` pauses it, `active: true` re-enables it and sends what waited, in order',
          description:
            'An inactive endpoint (paused, or disabled after a day of failures) keeps what it would have received for ' +
            '`PARLEY_WEBHOOK_RETENTION_DAYS` (7); older deliveries are dropped and counted (`dropped`). A new `url` ' +
            'the outbound policy refuses is `400 OUTBOUND_NOT_ALLOWED`, naming the setting that would allow it.',
          params: IdParams,
          body: UpdateWebhookBody,
          response: { 200: WebhookResponse, ...errors },
        },
      },
      async (req) => ({ webhook: await updateWebhook(svc, await checkHookAdmin(svc, req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/webhooks/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Delete a webhook endpoint and its delivery log',
          params: IdParams,
          response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors },
        },
      },
      async (req) => {
        await deleteWebhook(svc, await checkHookAdmin(svc, req), req.params.id);
        return { ok: true };
      },
    );
    app.post(
      '/v1/webhooks/:id/test',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Send a `webhook.test` event now (active or not) and answer how it went',
          description:
            'Signed like every delivery; recorded in the delivery log (delivered or failed, with the status, error and ' +
            'latency), outside the channel lanes.',
          params: IdParams,
          response: { 200: DeliveryResponse, ...errors },
        },
      },
      async (req) => ({
        delivery: await sendTestEvent(svc, await checkHookAdmin(svc, req), req.params.id),
      }),
    );
    app.post(
      '/v1/webhooks/:id/rotate-secret',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Make a new signing secret (answered once); the old one keeps signing for `overlap_seconds`',
          description:
            'During the overlap (default 86400 s, at most 7 days; 0 ends the old secret now) each request carries ' +
            '`X-Parley-Signature: t=<t>,v1=<new>,v1=<old>`.',
          params: IdParams,
          body: RotateWebhookSecretBody,
          response: { 200: CreatedWebhookResponse, ...errors },
        },
      },
      async (req) => rotateWebhookSecret(svc, await checkHookAdmin(svc, req), req.params.id, req.body ?? {}),
    );
    app.post(
      '/v1/webhooks/:id/replay',
      {
        config: cfg,
        schema: {
          tags,
          summary: "Send the event log's channel events of a time range again, as new deliveries",
          description:
            'Channel events committed in `[since, until)` that the endpoint wants, at the end of their channel lanes, ' +
            'with their original `event_id`. At most `limit` (default 1000) per call; call again with `after: next` ' +
            'until `next` is null. User-level and app-wide events, bookmarks and notes are not in the log.',
          params: IdParams,
          body: ReplayWebhookBody,
          response: { 200: ReplayWebhookResponse, ...errors },
        },
      },
      async (req) => replayWebhook(svc, await checkHookAdmin(svc, req), req.params.id, req.body),
    );
    app.get(
      '/v1/webhooks/:id/deliveries',
      {
        config: cfg,
        schema: {
          tags,
          summary: "An endpoint's delivery log, newest first (status, attempts, latency)",
          params: IdParams,
          querystring: DeliveriesQuery,
          response: { 200: DeliveriesResponse, ...errors },
        },
      },
      async (req) => ({
        deliveries: await listDeliveries(svc, await checkHookAdmin(svc, req), req.params.id, req.query),
      }),
    );
    app.get(
      '/v1/webhooks/:id/deliveries/:delivery_id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'One delivery, with the body that was signed and sent',
          params: WebhookDeliveryParams,
          response: { 200: DeliveryResponse, ...errors },
        },
      },
      async (req) => ({
        delivery: await getDelivery(svc, await checkHookAdmin(svc, req), req.params.id, req.params.delivery_id),
      }),
    );
    app.post(
      '/v1/webhooks/:id/deliveries/:delivery_id/redeliver',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Send a delivered or failed event again (a new delivery at the end of its channel lane)',
          params: WebhookDeliveryParams,
          response: { 201: DeliveryResponse, ...errors },
        },
      },
      async (req, reply) =>
        reply.status(201).send({
          delivery: await redeliver(svc, await checkHookAdmin(svc, req), req.params.id, req.params.delivery_id),
        }),
    );

    app.get(
      '/v1/hooks/before-send',
      {
        config: cfg,
        schema: {
          tags,
          summary: "The app's before-send hook (null when none)",
          response: { 200: BeforeSendResponse, ...errors },
        },
      },
      async (req) => ({ hook: await getBeforeSend(svc, await checkHookAdmin(svc, req)) }),
    );
    app.put(
      '/v1/hooks/before-send',
      {
        config: cfg,
        schema: {
          tags,
          summary:
            'Set the before-send hook: URL, time limit, fail open or closed (the secret is answered the first time)',
          body: SetBeforeSendBody,
          response: { 200: BeforeSendResponse, ...errors },
        },
      },
      async (req) => setBeforeSend(svc, await checkHookAdmin(svc, req), req.body),
    );
    app.delete(
      '/v1/hooks/before-send',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Remove the before-send hook',
          response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors },
        },
      },
      async (req) => {
        await deleteBeforeSend(svc, await checkHookAdmin(svc, req));
        return { ok: true };
      },
    );
  };
}
