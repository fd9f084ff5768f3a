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
  presentEndpoint,
  redeliver,
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
            'Events are POSTed as JSON with `X-Parley-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; see docs/protocol.md#webhooks. ' +
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
      async (req) => ({
        webhook: presentEndpoint(await accessWebhook(svc, await checkHookAdmin(svc, req), req.params.id)),
      }),
    );
    app.patch(
      '/v1/webhooks/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Change a webhook endpoint; `active: true` re-enables a disabled one',
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
