import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  ErrorBody,
  IdParams,
  LastChannelBody,
  LastChannelResponse,
  ReadBody,
  ReadByResponse,
  ReadPrivacyResponse,
  ReadStateResponse,
  UnreadBody,
  UpdateReadPrivacyBody,
} from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { markRead, markUnread } from './actions.js';
import { getLastChannel, setLastChannel } from './last-channel.js';
import { getReadPrivacy, setReadPrivacy } from './privacy.js';
import { readBy } from './read-by.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function readRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/channels/:cid/read',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Mark read up to seq',
          params: CidParams,
          body: ReadBody,
          response: { 200: ReadStateResponse, ...errors },
        },
      },
      async (req) => markRead(svc, callerOf(req), req.params.cid, req.body.seq),
    );
    app.post(
      '/v1/channels/:cid/unread',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Mark unread from a message on',
          params: CidParams,
          body: UnreadBody,
          response: { 200: ReadStateResponse, ...errors },
        },
      },
      async (req) => markUnread(svc, callerOf(req), req.params.cid, req.body.message_id),
    );
    app.get(
      '/v1/messages/:id/read-by',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['reads'],
          summary: 'Who has read a message, and when',
          description:
            'The members other than the author whose read mark is at or past the message, earliest first, with ' +
            'when their mark last moved (`read_at`). Members and the server token only (403 for a non-member of a ' +
            'public channel). In a channel of more than `PARLEY_READ_BY_MAX_MEMBERS` members (default 20) read-by ' +
            'is off: `enabled` is false and `read_by` empty. A member who hides their read receipts ' +
            '(`PATCH /v1/me/privacy`) is never listed. Live: each `read.updated` carries the reader and their ' +
            'new mark (`seq`, `created_at`).',
          params: IdParams,
          response: { 200: ReadByResponse, ...errors },
        },
      },
      async (req) => readBy(svc, callerOf(req), req.params.id),
    );
    app.get(
      '/v1/me/privacy',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Your privacy settings (whether others see your read receipts)',
          response: { 200: ReadPrivacyResponse, ...errors },
        },
      },
      async (req) => getReadPrivacy(svc, callerOf(req)),
    );
    app.patch(
      '/v1/me/privacy',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Hide or show your read receipts',
          description:
            'Only the fields sent change, and only your own (a user token; no user id can be named). With ' +
            '`hide_read_receipts` on, you are in no read-by list, others get no `read.updated` about you, and ' +
            'member lists show others your `last_read_seq` as 0: you count as not having seen. Your own read ' +
            'marks and unread counts are unchanged. Hiding sends the other members of your channels of at most ' +
            '`PARLEY_READ_BY_MAX_MEMBERS` members a `read.updated` with `seq` 0; showing again announces your ' +
            'real marks to each of your channels.',
          body: UpdateReadPrivacyBody,
          response: { 200: ReadPrivacyResponse, ...errors },
        },
      },
      async (req) => setReadPrivacy(svc, callerOf(req), req.body),
    );
    app.get(
      '/v1/me/last-channel',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'The channel you last had open (on any device)',
          description: 'Null when none is kept, or the channel is gone or no longer readable by you.',
          response: { 200: LastChannelResponse, ...errors },
        },
      },
      async (req) => getLastChannel(svc, callerOf(req)),
    );
    app.put(
      '/v1/me/last-channel',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Keep the channel you have open now, so it opens on your other devices',
          description:
            'A channel you may read (else 404/403, as opening it would). Clients set it when a channel opens, debounced.',
          body: LastChannelBody,
          response: { 200: LastChannelResponse, ...errors },
        },
      },
      async (req) => setLastChannel(svc, callerOf(req), req.body.cid),
    );
  };
}
