import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  ErrorBody,
  HistoryQuery,
  IdParams,
  MessageResponse,
  MessagesResponse,
  MessageVersionsResponse,
  SendMessageBody,
  SystemMessageBody,
  UpdateMessageBody,
} from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { deleteMessage, sendMessage, setPinned, updateMessage } from './actions.js';
import { getMessage, listMessages, listPinned, listReplies, listVersions } from './queries.js';
import { sendSystemMessage } from './system.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['messages'];

export function messageRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/channels/:cid/messages',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Send a message; the same id again returns the same message',
          params: CidParams,
          body: SendMessageBody,
          response: { 200: MessageResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => ({ message: await sendMessage(svc, callerOf(req), req.params.cid, req.body) }),
    );

    app.get(
      '/v1/channels/:cid/messages',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Channel history, ascending by seq (latest, before, after or around)',
          params: CidParams,
          querystring: HistoryQuery,
          response: { 200: MessagesResponse, ...errors },
        },
      },
      async (req) => ({ messages: await listMessages(svc, callerOf(req), req.params.cid, req.query) }),
    );

    app.get(
      '/v1/channels/:cid/pinned',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Pinned messages, latest pin first',
          params: CidParams,
          response: { 200: MessagesResponse, ...errors },
        },
      },
      async (req) => ({ messages: await listPinned(svc, callerOf(req), req.params.cid) }),
    );

    app.get(
      '/v1/messages/:id',
      {
        config: { auth: 'any' },
        schema: { tags, summary: 'One message', params: IdParams, response: { 200: MessageResponse, ...errors } },
      },
      async (req) => ({ message: await getMessage(svc, callerOf(req), req.params.id) }),
    );

    app.patch(
      '/v1/messages/:id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Edit your message',
          params: IdParams,
          body: UpdateMessageBody,
          response: { 200: MessageResponse, ...errors },
        },
      },
      async (req) => ({ message: await updateMessage(svc, callerOf(req), req.params.id, req.body.text) }),
    );

    app.delete(
      '/v1/messages/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Soft-delete a message (author or moderator)',
          params: IdParams,
          response: { 200: MessageResponse, ...errors },
        },
      },
      async (req) => ({ message: await deleteMessage(svc, callerOf(req), req.params.id) }),
    );

    app.get(
      '/v1/messages/:id/replies',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Thread replies, paginated like history',
          params: IdParams,
          querystring: HistoryQuery,
          response: { 200: MessagesResponse, ...errors },
        },
      },
      async (req) => ({ messages: await listReplies(svc, callerOf(req), req.params.id, req.query) }),
    );

    app.get(
      '/v1/messages/:id/versions',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Earlier versions of an edited message',
          params: IdParams,
          response: { 200: MessageVersionsResponse, ...errors },
        },
      },
      async (req) => ({ versions: await listVersions(svc, callerOf(req), req.params.id) }),
    );

    app.post(
      '/v1/messages/:id/pin',
      {
        config: { auth: 'user' },
        schema: { tags, summary: 'Pin a message', params: IdParams, response: { 200: MessageResponse, ...errors } },
      },
      async (req) => ({ message: await setPinned(svc, callerOf(req), req.params.id, true) }),
    );

    app.delete(
      '/v1/messages/:id/pin',
      {
        config: { auth: 'user' },
        schema: { tags, summary: 'Unpin a message', params: IdParams, response: { 200: MessageResponse, ...errors } },
      },
      async (req) => ({ message: await setPinned(svc, callerOf(req), req.params.id, false) }),
    );
    app.post(
      '/v1/channels/:cid/system-messages',
      {
        config: { auth: 'server' },
        schema: {
          tags,
          summary: 'Post a system message (server token only)',
          description:
            "A message of type `system` in any channel of the app: the channel's own voice, shown without an " +
            'author line, counted in no unread and pushed to no one. `user_id` (an existing user) says who it is ' +
            'about; default the app bot `parley-bot`. The same `id` again answers the same message. A user ' +
            "token is refused (403); a user's send (`POST /v1/channels/{cid}/messages`) takes no `type`.",
          params: CidParams,
          body: SystemMessageBody,
          response: { 200: MessageResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => ({ message: await sendSystemMessage(svc, callerOf(req), req.params.cid, req.body) }),
    );
  };
}
