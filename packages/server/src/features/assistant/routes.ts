/**
 * The assistant over REST: its settings and usage meter for the app's backend and admins
 * (`/v1/assistant`), what it offers a user (`GET /v1/me/assistant`), catch-up (streamed as
 * `text/event-stream`) and smart replies.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AssistantResponse,
  AssistantUsageQuery,
  AssistantUsageResponse,
  CatchUpBody,
  CidParams,
  ErrorBody,
  IdParams,
  MyAssistantResponse,
  PutAssistantBody,
  SuggestionsResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { corsOpen } from '../../platform/cors.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { addMessageCheck } from '../moderation/index.js';
import { assistantUsage, deleteAssistant, getAssistant, myAssistant, putAssistant } from './actions.js';
import { type CatchUpPlan, planCatchUp, runCatchUp } from './catch-up.js';
import { aiModerationCheck } from './moderation.js';
import { closeProviderPools } from './provider.js';
import { ModerationRegistry } from './settings.js';
import { suggestReplies } from './suggestions.js';

const tags = ['assistant'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };
const Ok = Type.Object({ ok: Type.Boolean() });
const admin = 'The app backend (server token) or an app admin.';
const streamed =
  'Answers `text/event-stream`: one `data:` line of JSON per event — `{"type":"start","messages","from_seq","to_seq"}`, ' +
  '`{"type":"delta","text"}` pieces of the summary as the model writes them, and last `{"type":"done","summary","citations":[{"n","message_id","seq"}],"usage"}` ' +
  'or `{"type":"error","error":{"code","message"}}`. Errors found before the stream begins (ASSISTANT_OFF, NOT_FOUND, RATE_LIMITED …) are ordinary JSON error answers. ' +
  'Only messages the caller may read enter the prompt (never deleted ones, nor shadowed ones of others). Rate limit: 20 assistant requests a minute per user.';

/** Write a catch-up's events down the response, as `text/event-stream`. */
async function stream(svc: Services, req: FastifyRequest, reply: FastifyReply, plan: CatchUpPlan): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store, no-transform',
    'x-accel-buffering': 'no',
    'x-request-id': String(req.id),
    ...(corsOpen(req) ? { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-request-id' } : {}),
  });
  // The client went away: the provider's call is cut (no more tokens spent on it).
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  for await (const ev of runCatchUp(svc, plan, gone.signal)) {
    if (gone.signal.aborted) break;
    res.write(`data: ${JSON.stringify(ev)}\n\n`);
  }
  res.end();
}

export function assistantRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const moderation = new ModerationRegistry(svc.db, svc.sealer, svc.broker);
    // A database that does not answer yet must not stop the build (the server answers 503 until
    // it does): the apps with AI moderation on are read again every 5 s until the read works.
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    const load = (): Promise<void> =>
      moderation.load().catch((err: unknown) => {
        if (closed) return;
        svc.log.warn({ err }, 'assistant: could not read which apps have AI moderation on; trying again in 5 s');
        retry = setTimeout(() => void load(), 5_000);
        retry.unref();
      });
    await load();
    assistantRegistries.set(svc, moderation);
    addMessageCheck(svc, aiModerationCheck(svc, moderation));
    app.addHook('onClose', async () => {
      closed = true;
      clearTimeout(retry);
      await closeProviderPools(svc);
    });

    app.get(
      '/v1/assistant',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The app's assistant: its provider and what it does (null: none; the key is never answered)",
          description: admin,
          response: { 200: AssistantResponse, ...errors },
        },
      },
      async (req) => getAssistant(svc, callerOf(req)),
    );
    app.put(
      '/v1/assistant',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Set the assistant: an OpenAI-compatible provider (url, model, key) and its features',
          description:
            `${admin} Changes the fields sent; \`url\` and \`model\` are needed the first time. A new assistant is off ` +
            '(`enabled: false`), with catch-up and smart replies on and moderation off once enabled. `{url}/chat/completions` ' +
            'is called through the outbound policy (`PARLEY_OUTBOUND_ALLOW_ASSISTANT`): a URL it refuses is OUTBOUND_NOT_ALLOWED. ' +
            'The key is sealed at rest and never answered (`has_key`); `key: null` removes it. Audited (`assistant.updated`); ' +
            'every connection of the app gets the `assistant.updated` event (what it offers now).',
          body: PutAssistantBody,
          response: { 200: AssistantResponse, ...errors },
        },
      },
      async (req) => putAssistant(svc, moderation, callerOf(req), req.body),
    );
    app.delete(
      '/v1/assistant',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Remove the assistant (its provider and key; the usage meter stays)',
          description: `${admin} Audited (\`assistant.deleted\`); every connection of the app gets \`assistant.updated\` (all off).`,
          response: { 200: Ok, ...errors },
        },
      },
      async (req) => {
        await deleteAssistant(svc, moderation, callerOf(req));
        return { ok: true };
      },
    );
    app.get(
      '/v1/assistant/usage',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The assistant's usage meter: requests and tokens in and out per UTC day and feature",
          description: `${admin} Tokens as the provider's answers counted them (\`usage\`). The last \`days\` days (default 30).`,
          querystring: AssistantUsageQuery,
          response: { 200: AssistantUsageResponse, ...errors },
        },
      },
      async (req) => assistantUsage(svc, callerOf(req), req.query.days),
    );
    app.get(
      '/v1/me/assistant',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'What the assistant offers you: catch-up and smart replies, each on or off',
          response: { 200: MyAssistantResponse, ...errors },
        },
      },
      async (req) => myAssistant(svc, callerOf(req)),
    );
    app.post(
      '/v1/channels/:cid/catch-up',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Catch up on a channel: a summary from your read mark (or `after_seq`/`before_seq`), streamed',
          description: streamed,
          params: CidParams,
          body: CatchUpBody,
          response: { 200: Type.String({ description: 'text/event-stream' }), ...errors },
        },
      },
      async (req, reply) => {
        const plan = await planCatchUp(svc, callerOf(req), { cid: req.params.cid }, req.body);
        await stream(svc, req, reply, plan);
      },
    );
    app.post(
      '/v1/messages/:id/catch-up',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary:
            'Catch up on a thread (of this parent message): a summary of its replies from your read mark, streamed',
          description: streamed,
          params: IdParams,
          body: CatchUpBody,
          response: { 200: Type.String({ description: 'text/event-stream' }), ...errors },
        },
      },
      async (req, reply) => {
        const plan = await planCatchUp(svc, callerOf(req), { parentId: req.params.id }, req.body);
        await stream(svc, req, reply, plan);
      },
    );
    app.post(
      '/v1/messages/:id/suggestions',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Smart replies: up to three short replies you might send to this message',
          description:
            'From the message and the few before it that you may read. ASSISTANT_OFF when smart replies are off; ' +
            'ASSISTANT_UNAVAILABLE when the provider fails or answers something that is not a list.',
          params: IdParams,
          response: { 200: SuggestionsResponse, ...errors, 503: ErrorBody },
        },
      },
      async (req) => suggestReplies(svc, callerOf(req), req.params.id),
    );
  };
}

/** Each server's moderation registry, for the hub's control messages (app.ts). */
const assistantRegistries = new WeakMap<Services, ModerationRegistry>();

/** A broker message on ASSISTANT_TOPIC, for this server's registry. */
export function receiveAssistantChange(svc: Services, msg: Parameters<ModerationRegistry['receive']>[0]): void {
  assistantRegistries.get(svc)?.receive(msg);
}
