/**
 * Moderation routes: bans, flags and the moderation queue, personal mutes, automod settings, and an app's
 * permission overrides (also under the admin API, `/v1/admin/apps/{id}/permissions`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AutomodResponse,
  AutomodSettings,
  BanBody,
  BanResponse,
  BansQuery,
  BansResponse,
  ErrorBody,
  FlagBody,
  FlagParams,
  FlagResponse,
  FlagsQuery,
  FlagsResponse,
  MuteBody,
  MuteParams,
  MuteResponse,
  MutesResponse,
  PermissionsBody,
  PermissionsResponse,
  ReviewFlagBody,
  TransparencyQuery,
  TransparencyResponse,
  transparencyCsv,
  UnbanBody,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { callerOf, userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  banUser,
  checkAppAdmin,
  flagContent,
  getAutomod,
  getPermissions,
  listBans,
  listFlags,
  reviewFlag,
  setAutomod,
  setPermissions,
  unbanUser,
} from './actions.js';
import { recordModeration } from './audit.js';
import { listMutes, muteUser, unmuteUser } from './mutes.js';
import { transparencyReport } from './transparency.js';

const tags = ['moderation'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function moderationRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/moderation/bans',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Ban a user from a channel (`cid`) or from the app, with a reason and an optional timeout',
          description:
            'A channel ban needs `ban-members` there and removes the member; an app-wide ban needs an app ' +
            'moderator or admin (or the server token) and closes the user’s sockets (4503) on every node. ' +
            'Sends `user.banned` to the user and the app’s moderators. A timed ban lifts by itself. ' +
            '`shadow: true` (app moderators and admins, app-wide only): the user is neither removed nor told, ' +
            'and their new messages are seen only by them and moderators (docs/permissions.md).',
          body: BanBody,
          response: { 200: BanResponse, ...errors },
        },
      },
      async (req) => banUser(svc, callerOf(req), req.body),
    );
    app.post(
      '/v1/moderation/unban',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Lift a ban now (404 when there is none)',
          body: UnbanBody,
          response: { 200: BanResponse, ...errors },
        },
      },
      async (req) => unbanUser(svc, callerOf(req), req.body.user_id, req.body.cid),
    );
    app.get(
      '/v1/moderation/bans',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "Standing bans: a channel's (its moderators) or the app's (app moderators)",
          querystring: BansQuery,
          response: { 200: BansResponse, ...errors },
        },
      },
      async (req) => listBans(svc, callerOf(req), req.query.cid, req.query.limit),
    );
    app.post(
      '/v1/moderation/flags',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Report a message (`message_id`) or a user (`user_id`) with a reason',
          description:
            'Goes to the moderation queue; the reporter gets `flag.reviewed` with the outcome. Reporting the ' +
            'same thing again while it is open answers the open report. 429 past the `flags` rate limit.',
          body: FlagBody,
          response: { 200: FlagResponse, 429: ErrorBody, ...errors },
        },
      },
      async (req) => flagContent(svc, userOf(req), req.body),
    );
    app.get(
      '/v1/moderation/flags',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'The moderation queue (app moderators and admins), newest first',
          querystring: FlagsQuery,
          response: { 200: FlagsResponse, ...errors },
        },
      },
      async (req) => listFlags(svc, callerOf(req), req.query),
    );
    app.get(
      '/v1/moderation/report',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary:
            'The transparency report: moderation actions per day, week or month, as JSON or CSV (app moderators and admins)',
          description:
            'Reports filed, automatic flags, reviews by outcome, bans, shadow bans, unbans and the assistant’s ' +
            'verdicts per UTC period (`period`: day, ISO week or month; default month) from `from` to `to` (both ' +
            'included; default the last 12 periods, 30 for days), at most 400 periods. `format=csv` answers ' +
            '`text/csv` (a header, a line a period, then `total`). Reviews, bans and verdicts come from the audit ' +
            'log, so they reach back `PARLEY_AUDIT_RETENTION_DAYS`.',
          querystring: TransparencyQuery,
          response: {
            200: Type.Union([TransparencyResponse, Type.String({ description: 'With format=csv: text/csv' })]),
            ...errors,
          },
        },
      },
      async (req, reply) => {
        const report = await transparencyReport(svc, callerOf(req), req.query);
        if (req.query.format !== 'csv') return report;
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="moderation-report-${report.from}-${report.to}.csv"`)
          .send(transparencyCsv(report));
      },
    );
    app.post(
      '/v1/moderation/flags/:id/review',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Review a flag: remove the message, ban its author (and remove), or dismiss',
          params: FlagParams,
          body: ReviewFlagBody,
          response: { 200: FlagResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => reviewFlag(svc, callerOf(req), req.params.id, req.body),
    );
    app.post(
      '/v1/moderation/mutes',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Mute a user: their messages leave your history, search and unread counts',
          description:
            'Personal, not audited, and the muted user is not told. Live `message.new` of a muted author is ' +
            'dropped by the SDK (the channel\u2019s seq still advances). Muting again answers the standing mute.',
          body: MuteBody,
          response: { 200: MuteResponse, ...errors },
        },
      },
      async (req) => muteUser(svc, userOf(req), req.body.user_id),
    );
    app.delete(
      '/v1/moderation/mutes/:user_id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Unmute a user (404 when you had not muted them)',
          params: MuteParams,
          response: { 200: MuteResponse, ...errors },
        },
      },
      async (req) => unmuteUser(svc, userOf(req), req.params.user_id),
    );
    app.get(
      '/v1/moderation/mutes',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'The users you muted, newest first',
          response: { 200: MutesResponse, ...errors },
        },
      },
      async (req) => listMutes(svc, userOf(req)),
    );
    app.get(
      '/v1/moderation/automod',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The app's automod block lists and behaviour (app moderators and admins)",
          response: { 200: AutomodResponse, ...errors },
        },
      },
      async (req) => getAutomod(svc, callerOf(req)),
    );
    app.put(
      '/v1/moderation/automod',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "Replace the app's automod settings (app admins, the server token)",
          description:
            'A pattern that does not compile: 400. Each pattern runs with a time budget (docs/permissions.md).',
          body: AutomodSettings,
          response: { 200: AutomodResponse, ...errors },
        },
      },
      async (req) => setAutomod(svc, callerOf(req), req.body),
    );
    app.get(
      '/v1/moderation/permissions',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The app's permission overrides and its effective table",
          response: { 200: PermissionsResponse, ...errors },
        },
      },
      async (req) => getPermissions(svc, callerOf(req).app.id),
    );
    app.put(
      '/v1/moderation/permissions',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "Replace the app's permission overrides (app admins, the server token)",
          body: PermissionsBody,
          response: { 200: PermissionsResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc.db, caller);
        const r = await setPermissions(svc, caller.app.id, req.body.overrides);
        await recordModeration(svc.db, caller, 'permissions.update', {}, { overrides: req.body.overrides });
        return r;
      },
    );
    const AppParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
    app.get(
      '/v1/admin/apps/:id/permissions',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "An app's permission overrides and its effective table",
          params: AppParams,
          response: { 200: PermissionsResponse, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => getPermissions(svc, req.params.id),
    );
    app.put(
      '/v1/admin/apps/:id/permissions',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "Replace an app's permission overrides (channel type → capability → lowest role)",
          params: AppParams,
          body: PermissionsBody,
          response: { 200: PermissionsResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => setPermissions(svc, req.params.id, req.body.overrides),
    );
  };
}
