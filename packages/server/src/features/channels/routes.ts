import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminChannelsQuery,
  AdminChannelsResponse,
  ChannelResponse,
  CidParams,
  CreateChannelBody,
  CreateChannelResponse,
  ErrorBody,
  MemberParams,
  MemberResponse,
  MembersBody,
  QueryChannelsBody,
  QueryChannelsResponse,
  RemovedResponse,
  UpdateChannelBody,
  UpdateMemberBody,
} from '@parley/protocol';
import { invalid, notFound } from '../../platform/errors.js';
import { callerOf, userOf } from '../../platform/http.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import { checkAppAdmin } from '../audit/index.js';
import {
  addMembers,
  channelWithMembers,
  createChannel,
  loadChannel,
  removeMembers,
  updateChannel,
  updateMember,
} from './actions.js';
import { listAppChannels } from './admin-list.js';
import { queryChannels } from './queries.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['channels'];

export function channelRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/channels',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Create a channel; `dm` is get-or-create for the same member set',
          description:
            'With `first_message`, the channel and its first message are made in one transaction (a new group ' +
            'in one step): the message is checked as a send is, a refusal creates nothing, members get the ' +
            'channel with the message, and the same message `id` again answers what the first create made. A ' +
            '`group` made so needs a member besides its creator (`GROUP_TOO_SMALL`).',
          body: CreateChannelBody,
          response: { 200: CreateChannelResponse, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        // Server-token calls (the embedder's backend) are not counted; users are, and their IP.
        if (caller.kind === 'user') await checkRate(svc, 'channels', caller.app.id, caller.userId, req.ip);
        return createChannel(svc, caller, req.body);
      },
    );

    app.get(
      '/v1/channels',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'Every channel of the app with its moderation settings, by name (app admins, server token)',
          description:
            'Members or not, archived or not; DMs are never listed (no one may moderate them). Filters: `q` ' +
            '(words found in the name or cid), `type`, `state` (`frozen` or `slow_mode`). Keyset paging: pass ' +
            '`next` as `cursor`. Change a channel with `PATCH /v1/channels/{cid}`, as its own moderators do.',
          querystring: AdminChannelsQuery,
          response: { 200: AdminChannelsResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc, caller);
        return listAppChannels(svc, caller.app.id, req.query);
      },
    );

    app.post(
      '/v1/channels/query',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Filter, sort and page channels',
          body: QueryChannelsBody,
          response: { 200: QueryChannelsResponse, ...errors },
        },
      },
      async (req) => queryChannels(svc, callerOf(req), req.body),
    );

    app.get(
      '/v1/channels/:cid',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'A channel with its members and last_seq',
          params: CidParams,
          response: { 200: ChannelResponse, ...errors },
        },
      },
      async (req) => channelWithMembers(svc.db, callerOf(req), req.params.cid),
    );

    app.patch(
      '/v1/channels/:cid',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Update name, description, topic, image or archived',
          params: CidParams,
          body: UpdateChannelBody,
          response: { 200: ChannelResponse, ...errors },
        },
      },
      async (req) => updateChannel(svc, callerOf(req), req.params.cid, req.body),
    );

    app.post(
      '/v1/channels/:cid/members',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Add and/or remove members',
          params: CidParams,
          body: MembersBody,
          response: { 200: ChannelResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const { add, remove } = req.body;
        if (add && remove && add.some((id) => remove.includes(id)))
          throw invalid('A user cannot be both added and removed');
        if (add) await addMembers(svc, caller, req.params.cid, add);
        if (remove) await removeMembers(svc, caller, req.params.cid, remove);
        // The actions checked access; a caller who just left a private channel may no longer
        // read it, yet gets the state they left it in (not a 404 for a leave that worked).
        const a = await loadChannel(svc.db, caller, req.params.cid);
        if (!a) throw notFound('Channel');
        return channelWithMembers(svc.db, caller, req.params.cid, a);
      },
    );

    app.patch(
      '/v1/channels/:cid/members/:user_id',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "Change a member's role (admins) or your own mute",
          params: MemberParams,
          body: UpdateMemberBody,
          response: { 200: MemberResponse, ...errors },
        },
      },
      async (req) => updateMember(svc, callerOf(req), req.params.cid, req.params.user_id, req.body),
    );

    app.post(
      '/v1/channels/:cid/join',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Join a public or announcement channel',
          params: CidParams,
          response: { 200: ChannelResponse, ...errors },
        },
      },
      async (req) => {
        const me = userOf(req);
        return addMembers(svc, me, req.params.cid, [me.userId]);
      },
    );

    app.post(
      '/v1/channels/:cid/leave',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Leave a channel',
          params: CidParams,
          response: { 200: RemovedResponse, ...errors },
        },
      },
      async (req) => {
        const me = userOf(req);
        return removeMembers(svc, me, req.params.cid, [me.userId]);
      },
    );
  };
}
