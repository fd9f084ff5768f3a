/**
 * The assistant's one way out: `POST {url}/chat/completions` of an OpenAI-compatible server
 * (llama.cpp's `llama-server`, vLLM, Ollama, a hosted provider), streamed (`stream: true`, SSE
 * `data:` chunks ending in `data: [DONE]`, with `stream_options.include_usage` so the last chunk
 * counts the tokens) or not.
 *
 * - Every call goes through the outbound policy (`checkTarget` with the `assistant` kind's
 *   allow-list, PARLEY_OUTBOUND_ALLOW_ASSISTANT): a private or loopback provider must be allowed
 *   by the operator, and the connection goes to the address that was checked (its `Host` and TLS
 *   name are the URL's), so a second DNS answer cannot slip another address in.
 * - One time limit for the whole call (connect, answer, the stream to its end), and a cap on the
 *   bytes read: past either the call is cut and fails.
 * - Answers are parsed with schemas: a non-2xx, a body that is not JSON, JSON that is not a
 *   completion, a stream without `[DONE]` — each is ASSISTANT_UNAVAILABLE, never a crash and
 *   never passed on as text.
 * - Tokens in and out are what the provider's `usage` says (none said: 0), added to the app's
 *   meter per UTC day and feature (`assistant_usage`) after each successful call.
 */
import { type AssistantFeature, type AssistantUsage, SseParser } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { sql } from 'drizzle-orm';
import { type Dispatcher, Pool } from 'undici';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { allowFor, outboundSetting } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { checkTarget, FetchRefused } from '../links/index.js';

/** Most bytes of one answer read (a stream's included). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export interface ProviderTarget {
  url: string;
  model: string;
  /** The API key, opened; null: none sent. */
  key: string | null;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CallOptions {
  feature: AssistantFeature;
  timeoutMs: number;
  maxTokens?: number;
  temperature?: number;
  /** Ends the call early (the asking client went away). */
  signal?: AbortSignal;
}

const Usage = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
});
const Completion = Type.Object({
  choices: Type.Array(Type.Object({ message: Type.Object({ content: Type.Union([Type.String(), Type.Null()]) }) }), {
    minItems: 1,
  }),
  usage: Type.Optional(Type.Union([Usage, Type.Null()])),
});
const Chunk = Type.Object({
  choices: Type.Array(
    Type.Object({
      delta: Type.Optional(Type.Object({ content: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
    }),
  ),
  usage: Type.Optional(Type.Union([Usage, Type.Null()])),
});
const isCompletion = TypeCompiler.Compile(Completion);
const isChunk = TypeCompiler.Compile(Chunk);

const unavailable = (message: string) => new ApiError('ASSISTANT_UNAVAILABLE', message, { retry_after_ms: 1000 });

/** Each server's kept-alive connections to providers, one pool per checked address and name. */
const poolsOf = new WeakMap<Services, Map<string, Pool>>();

/** Close every provider connection of this server (at shutdown). */
export async function closeProviderPools(svc: Services): Promise<void> {
  const pools = poolsOf.get(svc);
  if (!pools) return;
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.destroy()));
}

async function connect(svc: Services, raw: string): Promise<{ pool: Pool; path: string; host: string }> {
  let u: URL;
  try {
    u = new URL(`${raw.replace(/\/+$/, '')}/chat/completions`);
  } catch {
    throw unavailable('The model provider URL is not a URL');
  }
  let checked: { address: string; family: number };
  try {
    checked = await checkTarget(u, allowFor(svc.config, 'assistant'), {});
  } catch (err) {
    if (err instanceof FetchRefused)
      throw unavailable(
        `The model provider is not called by this server (${err.reason}); allow it with ${outboundSetting('assistant')}`,
      );
    throw err;
  }
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const origin = `${u.protocol}//${checked.family === 6 ? `[${checked.address}]` : checked.address}:${port}`;
  const name = u.hostname.replace(/^\[|\]$/g, '');
  const servername = u.protocol === 'https:' && !/^[\d.]+$|:/.test(name) ? name : undefined;
  const key = `${origin} ${name}`;
  let pools = poolsOf.get(svc);
  if (!pools) {
    pools = new Map();
    poolsOf.set(svc, pools);
  }
  let pool = pools.get(key);
  if (!pool) {
    if (pools.size >= 200) await closeProviderPools(svc);
    pool = new Pool(origin, { connections: null, ...(servername ? { connect: { servername } } : {}) });
    pools.set(key, pool);
  }
  return { pool, path: `${u.pathname}${u.search}`, host: u.host };
}

/** The request: headers and body of one call. */
function request(p: ProviderTarget, messages: ChatMessage[], o: CallOptions, stream: boolean, host: string) {
  const body = JSON.stringify({
    model: p.model,
    messages,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}),
    temperature: o.temperature ?? 0.2,
  });
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'Parley-Assistant/1.0',
    ...(p.key ? { authorization: `Bearer ${p.key}` } : {}),
  };
  return { body, headers };
}

/**
 * One call, its answer's body as it arrives (chunks of text), within the time limit and the
 * byte cap. Throws ASSISTANT_UNAVAILABLE for anything but a 2xx that arrives in time.
 */
async function* exchange(
  svc: Services,
  p: ProviderTarget,
  messages: ChatMessage[],
  o: CallOptions,
  stream: boolean,
): AsyncGenerator<string> {
  const { pool, path, host } = await connect(svc, p.url);
  const { body, headers } = request(p, messages, o, stream, host);
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error('timeout'));
  }, o.timeoutMs);
  timer.unref();
  const onOuterAbort = () => abort.abort(new Error('aborted'));
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const failed = (err: unknown): ApiError => {
    if (err instanceof ApiError) return err;
    if (timedOut) return unavailable('The model provider did not answer in time');
    if (o.signal?.aborted) return unavailable('The request was abandoned');
    const e = err as { code?: string; message?: string };
    return unavailable(`The model provider could not be reached (${e.code ?? e.message ?? 'error'})`);
  };
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({ path, method: 'POST', headers, body, signal: abort.signal });
    } catch (err) {
      throw failed(err);
    }
    // A body ended early (an error answer, past the cap) errs as it is destroyed: that is not news.
    res.body.on('error', () => {});
    if (res.statusCode < 200 || res.statusCode >= 300) {
      res.body.destroy();
      throw unavailable(`The model provider answered HTTP ${res.statusCode}`);
    }
    const decoder = new TextDecoder();
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw unavailable(`The model provider's answer is larger than ${MAX_ANSWER_BYTES} bytes`);
        }
        yield decoder.decode(chunk, { stream: true });
      }
    } catch (err) {
      throw failed(err);
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
}

const usageOf = (u: { prompt_tokens: number; completion_tokens: number } | null | undefined): AssistantUsage => ({
  prompt_tokens: u?.prompt_tokens ?? 0,
  completion_tokens: u?.completion_tokens ?? 0,
});

/** A whole completion, not streamed: its text and usage (recorded on the app's meter). */
export async function complete(
  svc: Services,
  appId: string,
  p: ProviderTarget,
  messages: ChatMessage[],
  o: CallOptions,
): Promise<{ text: string; usage: AssistantUsage }> {
  let raw = '';
  for await (const piece of exchange(svc, p, messages, o, false)) raw += piece;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw unavailable('The model provider answered something that is not JSON');
  }
  if (!isCompletion.Check(parsed)) throw unavailable('The model provider answered JSON that is not a chat completion');
  const usage = usageOf(parsed.usage);
  await recordUsage(svc, appId, o.feature, usage);
  return { text: parsed.choices[0]?.message.content ?? '', usage };
}

/**
 * A streamed completion: yields the text's pieces as they come, and returns the usage (from
 * the last chunk, recorded on the app's meter) once `[DONE]` arrives. A stream that ends without
 * `[DONE]`, or carries a chunk that is not one, fails.
 */
export async function* streamCompletion(
  svc: Services,
  appId: string,
  p: ProviderTarget,
  messages: ChatMessage[],
  o: CallOptions,
): AsyncGenerator<string, AssistantUsage> {
  const parser = new SseParser();
  let usage: AssistantUsage | null = null;
  let done = false;
  for await (const piece of exchange(svc, p, messages, o, true)) {
    for (const ev of parser.feed(piece)) {
      if (done) continue;
      if (ev.data.trim() === '[DONE]') {
        done = true;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        throw unavailable('The model provider streamed something that is not JSON');
      }
      if (!isChunk.Check(parsed)) throw unavailable('The model provider streamed JSON that is not a completion chunk');
      if (parsed.usage) usage = usageOf(parsed.usage);
      const text = parsed.choices[0]?.delta?.content;
      if (text) yield text;
    }
  }
  if (!done) throw unavailable('The model provider ended its stream early');
  const u = usage ?? usageOf(null);
  await recordUsage(svc, appId, o.feature, u);
  return u;
}

/** Add one call's tokens to the app's meter for today (UTC). */
export async function recordUsage(
  svc: Services,
  appId: string,
  feature: AssistantFeature,
  u: AssistantUsage,
): Promise<void> {
  const day = new Date(svc.clock()).toISOString().slice(0, 10);
  const t = schema.assistantUsage;
  await svc.db
    .insert(t)
    .values({ appId, day, feature, requests: 1, promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens })
    .onConflictDoUpdate({
      target: [t.appId, t.day, t.feature],
      set: {
        requests: sql`${t.requests} + 1`,
        promptTokens: sql`${t.promptTokens} + ${u.prompt_tokens}`,
        completionTokens: sql`${t.completionTokens} + ${u.completion_tokens}`,
      },
    });
}
