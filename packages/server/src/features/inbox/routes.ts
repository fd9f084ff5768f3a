/** The activity inbox over REST (features/inbox/actions.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  IdParams,
  InboxCountResponse,
  InboxItemResponse,
  InboxQuery,
  InboxResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { inboxCount, listInbox, markAllRead, markItemRead } from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['inbox'];

export function inboxRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'user' as const };
    app.get(
      '/v1/inbox',
      {
        config,
        schema: {
          tags,
          summary:
            'My activity inbox, newest first: mentions (me, my groups, @here/@channel), thread replies, reactions, DMs while away, invitations, reminders',
          description:
            '`filter`: all (default), mentions, threads, reactions, unread. Paged by `cursor` (the `next` of the previous page). Each item carries the message it is about, as you may see it now (null once deleted or out of reach), and the answer carries the unread count.',
          querystring: InboxQuery,
          response: { 200: InboxResponse, ...errors },
        },
      },
      async (req) => listInbox(svc, userOf(req), req.query),
    );
    app.get(
      '/v1/inbox/count',
      {
        config,
        schema: { tags, summary: 'The unread count of my inbox', response: { 200: InboxCountResponse, ...errors } },
      },
      async (req) => ({ unread_count: await inboxCount(svc, userOf(req)) }),
    );
    app.post(
      '/v1/inbox/:id/read',
      {
        config,
        schema: {
          tags,
          summary: 'Mark one item read (`{"read": false}`: unread again); every device gets `inbox.updated`',
          params: IdParams,
          body: Type.Optional(Type.Object({ read: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
          response: { 200: InboxItemResponse, ...errors },
        },
      },
      async (req) => markItemRead(svc, userOf(req), req.params.id, req.body?.read ?? true),
    );
    app.post(
      '/v1/inbox/read',
      {
        config,
        schema: {
          tags,
          summary: 'Mark every item read; every device gets `inbox.updated`',
          body: Type.Optional(Type.Object({}, { additionalProperties: false })),
          response: { 200: InboxCountResponse, ...errors },
        },
      },
      async (req) => {
        await markAllRead(svc, userOf(req));
        return { unread_count: 0 };
      },
    );
  };
}
