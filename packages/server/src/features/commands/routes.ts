/**
 * Slash commands over REST: the registry (the app backend or a workspace owner/admin), the
 * commands a user may run in a channel, running one, clicking an ephemeral message's buttons,
 * the apps' late answers (`response_url`), and the GIF provider setting.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  CommandAnswer,
  CommandResponse,
  CommandsResponse,
  CreateCommandBody,
  CreatedCommandResponse,
  EphemeralActionBody,
  EphemeralResponse,
  ErrorBody,
  GifProviderBody,
  GifProviderResponse,
  IdParams,
  RunCommandBody,
  RunCommandResponse,
  UpdateCommandBody,
  Uuid,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { notFound } from '../../platform/errors.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { actOnEphemeral, commandsFor, dismissEphemeral, respondLater, runCommand } from './actions.js';
import { previewImage } from './gif.js';
import {
  accessCommand,
  checkCommandAdmin,
  createCommand,
  deleteCommand,
  getGifProvider,
  listAppCommands,
  presentBuiltin,
  presentCommand,
  removeGifProvider,
  setGifProvider,
  updateCommand,
} from './registry.js';

const tags = ['commands'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };
const Ok = Type.Object({ ok: Type.Boolean() });
/** A Host header fit to build a URL from (as features/images does). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
/** The request's own origin, for the response URL an app is given (PARLEY_PUBLIC_URL wins). */
const originOf = (req: FastifyRequest) => (HOST.test(req.host) ? `${req.protocol}://${req.host}` : undefined);

export function commandRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const cfg = { auth: 'any' as const };
    const user = { auth: 'user' as const };
    app.get(
      '/v1/commands',
      {
        config: cfg,
        schema: {
          tags,
          summary: "The app's command registry: the built-ins, then the registered commands",
          response: { 200: CommandsResponse, ...errors },
        },
      },
      async (req) => {
        const appId = await checkCommandAdmin(svc, callerOf(req));
        const builtins = (['giphy', 'me', 'poll', 'remind', 'schedule', 'shrug'] as const).map(presentBuiltin);
        return { commands: [...builtins, ...(await listAppCommands(svc, appId)).map(presentCommand)] };
      },
    );
    app.post(
      '/v1/commands',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Register a slash command (answers its signing secret, once)',
          description:
            '`/name args` run in a channel is POSTed to `url` as JSON signed like webhooks (`X-Parley-Signature`); ' +
            'the app answers a command answer (docs/protocol/hooks-and-commands.md#slash-commands). `roles`: app or channel roles that ' +
            'may run it (null: everyone who may post). Names of built-ins are refused.',
          body: CreateCommandBody,
          response: { 201: CreatedCommandResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await createCommand(svc, callerOf(req), req.body)),
    );
    app.get(
      '/v1/commands/gif-provider',
      {
        config: cfg,
        schema: {
          tags,
          summary: "The app's GIF search for /giphy (null: none; the key is never shown)",
          response: { 200: GifProviderResponse, ...errors },
        },
      },
      async (req) => getGifProvider(svc, callerOf(req)),
    );
    app.put(
      '/v1/commands/gif-provider',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Set the GIF search for /giphy: GIPHY or Tenor, API key, base URL, rating',
          body: GifProviderBody,
          response: { 200: GifProviderResponse, ...errors },
        },
      },
      async (req) => setGifProvider(svc, callerOf(req), req.body),
    );
    app.delete(
      '/v1/commands/gif-provider',
      {
        config: cfg,
        schema: { tags, summary: 'Remove the GIF search (/giphy then says so)', response: { 200: Ok, ...errors } },
      },
      async (req) => {
        await removeGifProvider(svc, callerOf(req));
        return { ok: true };
      },
    );
    app.post(
      '/v1/commands/responses',
      {
        schema: {
          tags,
          summary: "An app's later answer to a command or a click, on the `response_url` it was given",
          description: 'The `token` in the query is the credential (it expires 30 minutes after the command).',
          security: [],
          querystring: Type.Object(
            { token: Type.String({ maxLength: 2048, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' }) },
            { additionalProperties: false },
          ),
          body: CommandAnswer,
          response: { 200: RunCommandResponse, ...errors },
        },
      },
      async (req) => respondLater(svc, req.query.token, req.body),
    );
    app.get(
      '/v1/commands/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'One registered command',
          params: IdParams,
          response: { 200: CommandResponse, ...errors },
        },
      },
      async (req) => ({
        command: presentCommand(await accessCommand(svc, await checkCommandAdmin(svc, callerOf(req)), req.params.id)),
      }),
    );
    app.patch(
      '/v1/commands/:id',
      {
        config: cfg,
        schema: {
          tags,
          summary: 'Change a registered command (description, usage, URL, roles)',
          params: IdParams,
          body: UpdateCommandBody,
          response: { 200: CommandResponse, ...errors },
        },
      },
      async (req) => ({ command: await updateCommand(svc, callerOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/commands/:id',
      {
        config: cfg,
        schema: { tags, summary: 'Remove a registered command', params: IdParams, response: { 200: Ok, ...errors } },
      },
      async (req) => {
        await deleteCommand(svc, callerOf(req), req.params.id);
        return { ok: true };
      },
    );

    app.get(
      '/v1/gif-previews/:app/:id/:n',
      {
        schema: {
          tags,
          summary: "A /giphy preview's GIF, through this server (the path is signed and expires)",
          security: [],
          params: Type.Object({ app: Uuid, id: Uuid, n: Type.Integer({ minimum: 0, maximum: 100 }) }),
          querystring: Type.Object(
            { exp: Type.Integer({ minimum: 0 }), sig: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'The GIF' }),
            404: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const { app: appId, id, n } = req.params;
        const bytes = await previewImage(svc, appId, id, n, req.query.exp, req.query.sig);
        if (!bytes) throw notFound('Preview');
        return reply
          .header('content-type', 'image/gif')
          .header('cache-control', 'private, max-age=1800')
          .header('x-content-type-options', 'nosniff')
          .send(bytes);
      },
    );
    app.get(
      '/v1/channels/:cid/commands',
      {
        config: user,
        schema: {
          tags,
          summary: 'The commands you may run in this channel, with description and usage (the autocomplete)',
          params: CidParams,
          response: { 200: CommandsResponse, ...errors },
        },
      },
      async (req) => ({ commands: await commandsFor(svc, callerOf(req), req.params.cid) }),
    );
    app.post(
      '/v1/channels/:cid/commands/run',
      {
        config: user,
        schema: {
          tags,
          summary: 'Run `/name args` here (the socket: `command.run`)',
          description:
            'A built-in runs on the server; an app command is POSTed to the app. `result` says what happened: a ' +
            '`message` posted, an `ephemeral` message for you only (also sent to your connections as `ephemeral.new`), ' +
            'or `none`. An unknown name is UNKNOWN_COMMAND and nothing is posted.',
          params: CidParams,
          body: RunCommandBody,
          response: { 200: RunCommandResponse, ...errors },
        },
      },
      async (req) => {
        return runCommand(svc, callerOf(req), req.params.cid, req.body, originOf(req));
      },
    );
    app.post(
      '/v1/ephemerals/:id/actions',
      {
        config: user,
        schema: {
          tags,
          summary: 'Click a button of your ephemeral message (GIF Send/Shuffle/Cancel, or an app button)',
          params: IdParams,
          body: EphemeralActionBody,
          response: { 200: EphemeralResponse, ...errors },
        },
      },
      async (req) => actOnEphemeral(svc, callerOf(req), req.params.id, req.body, originOf(req)),
    );
    app.delete(
      '/v1/ephemerals/:id',
      {
        config: user,
        schema: { tags, summary: 'Dismiss your ephemeral message', params: IdParams, response: { 200: Ok, ...errors } },
      },
      async (req) => {
        await dismissEphemeral(svc, callerOf(req), req.params.id);
        return { ok: true };
      },
    );
  };
}
