/**
 * The assistant: a model of the app's choosing behind any server that speaks the
 * OpenAI-compatible chat-completions API (llama.cpp's server, vLLM, Ollama, a hosted one).
 * Off until the app's backend or an admin sets a provider (`PUT /v1/assistant`); the key is
 * sealed at rest and never answered. What it does for users: catch-up (a summary of a channel
 * or a thread from the caller's read mark, streamed, citing the messages it drew on), smart
 * replies (up to three short answers to a message), and a moderation step after automod.
 *
 * Catch-up answers a `text/event-stream`: one `data:` line per event, a JSON
 * {@link CatchUpEvent} — `start`, then `delta`s of the summary, then `done` (the whole summary
 * with its citations mapped to message ids) or `error`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Seq, Timestamp, Uuid } from './ids.js';
import { SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Most messages one catch-up reads (the newest of its range). */
export const CATCH_UP_MAX_MESSAGES = 200;
/** Most characters of message text one catch-up puts in its prompt (newest kept). */
export const CATCH_UP_MAX_CHARS = 24_000;
/** Most smart replies one request answers. */
export const MAX_SUGGESTIONS = 3;
/** Longest smart reply kept (characters). */
export const MAX_SUGGESTION_LENGTH = 200;

/** What the assistant does, each on or off per app. */
export const ASSISTANT_FEATURES = ['catch_up', 'smart_replies', 'moderation'] as const;
export type AssistantFeature = (typeof ASSISTANT_FEATURES)[number];

/**
 * How smart replies are offered in the app's clients: not at all (`off`: the suggestions call
 * answers ASSISTANT_OFF), on a click (`on_request`, a "Suggest replies" button), or as soon as a
 * message someone else wrote awaits an answer (`automatic`: the client asks by itself, once per
 * message). The server enforces `off`; the other two tell clients what to show.
 */
export const SMART_REPLIES_MODES = ['off', 'on_request', 'automatic'] as const;
export const SmartRepliesMode = Type.Union(SMART_REPLIES_MODES.map((m) => Type.Literal(m)));
export type SmartRepliesMode = Static<typeof SmartRepliesMode>;

/** The provider's base URL: `{url}/chat/completions` is called (e.g. `http://127.0.0.1:8080/v1`). */
export const ProviderUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });

/** An app's assistant, as its admins see it: never the key, only whether there is one. */
export const AssistantSettings = Type.Object({
  /** Off: nothing is sent to the provider, whatever the features say. */
  enabled: Type.Boolean(),
  url: ProviderUrl,
  model: Type.String(),
  has_key: Type.Boolean(),
  /** Time limit of a catch-up or a smart-reply call, ms. */
  timeout_ms: Type.Integer(),
  catch_up: Type.Boolean(),
  /** Whether smart replies are on (`smart_replies_mode` is not `off`). */
  smart_replies: Type.Boolean(),
  /** How clients offer smart replies (`off` exactly when `smart_replies` is false). */
  smart_replies_mode: SmartRepliesMode,
  moderation: Type.Boolean(),
  /** Time limit of one moderation call, ms (the send waits on it). */
  moderation_timeout_ms: Type.Integer(),
  /** When the moderation call fails or times out: send anyway (true) or refuse with ASSISTANT_UNAVAILABLE. */
  moderation_fail_open: Type.Boolean(),
  updated_at: Timestamp,
});
export type AssistantSettings = Static<typeof AssistantSettings>;

/** `PUT /v1/assistant`: set the provider (the fields sent; `url` and `model` the first time). */
export const PutAssistantBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    url: Type.Optional(ProviderUrl),
    model: Type.Optional(SafeText({ minLength: 1, maxLength: 200 })),
    /** The provider's API key (sent as `Authorization: Bearer`); null removes it. Never answered. */
    key: Type.Optional(Nullable(SafeText({ minLength: 1, maxLength: 1000 }))),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 120_000 })),
    catch_up: Type.Optional(Type.Boolean()),
    /** On (keeping the mode it had, `on_request` when it was off) or `off`. */
    smart_replies: Type.Optional(Type.Boolean()),
    /** How clients offer them; with `smart_replies` too, the two must agree (VALIDATION_ERROR otherwise). */
    smart_replies_mode: Type.Optional(SmartRepliesMode),
    moderation: Type.Optional(Type.Boolean()),
    moderation_timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 10_000 })),
    moderation_fail_open: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PutAssistantBody = Static<typeof PutAssistantBody>;

export const AssistantResponse = Type.Object({ assistant: Nullable(AssistantSettings) });
export type AssistantResponse = Static<typeof AssistantResponse>;

/** `GET /v1/me/assistant`: what the assistant offers the caller (all false, and `off`, when it is off). */
export const MyAssistantResponse = Type.Object({
  catch_up: Type.Boolean(),
  smart_replies: Type.Boolean(),
  /** How to offer smart replies: `off` whenever `smart_replies` is false. */
  smart_replies_mode: SmartRepliesMode,
});
export type MyAssistantResponse = Static<typeof MyAssistantResponse>;

/**
 * To every connection of the app, after its admins changed the assistant (`PUT` or `DELETE
 * /v1/assistant`): what it offers now, the same for every user, as `GET /v1/me/assistant` would
 * answer. A client sets it without a request, so a change of `smart_replies_mode` shows at once
 * (an older client drops the unknown event and keeps what it read, until it reads again).
 */
export const AssistantUpdatedEvent = Type.Object({
  type: Type.Literal('assistant.updated'),
  ...MyAssistantResponse.properties,
  created_at: Timestamp,
});
export type AssistantUpdatedEvent = Static<typeof AssistantUpdatedEvent>;

/** `GET /v1/assistant/usage`: the last `days` days (default 30). */
export const AssistantUsageQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })) },
  { additionalProperties: false },
);
export type AssistantUsageQuery = Static<typeof AssistantUsageQuery>;

/** Tokens in and out (as the provider counted them) of one feature on one UTC day. */
export const AssistantUsageDay = Type.Object({
  /** A UTC day, `YYYY-MM-DD`. */
  day: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'a UTC day, YYYY-MM-DD' }),
  feature: Type.Union(ASSISTANT_FEATURES.map((f) => Type.Literal(f))),
  requests: Type.Integer(),
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
});
export type AssistantUsageDay = Static<typeof AssistantUsageDay>;

export const AssistantUsageResponse = Type.Object({
  usage: Type.Array(AssistantUsageDay),
  total: Type.Object({ requests: Type.Integer(), prompt_tokens: Type.Integer(), completion_tokens: Type.Integer() }),
});
export type AssistantUsageResponse = Static<typeof AssistantUsageResponse>;

/**
 * `POST /v1/channels/{cid}/catch-up` and `POST /v1/messages/{id}/catch-up` (a thread): the
 * messages after `after_seq` (default: the caller's read mark) and before `before_seq`
 * (default: none), the newest {@link CATCH_UP_MAX_MESSAGES} of them.
 */
export const CatchUpBody = Type.Object(
  { after_seq: Type.Optional(Seq), before_seq: Type.Optional(Seq) },
  { additionalProperties: false },
);
export type CatchUpBody = Static<typeof CatchUpBody>;

/** A message a summary drew on: `[n]` in its text is this message. */
export const Citation = Type.Object({ n: Type.Integer({ minimum: 1 }), message_id: Uuid, seq: Seq });
export type Citation = Static<typeof Citation>;

export const AssistantUsage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer() });
export type AssistantUsage = Static<typeof AssistantUsage>;

/** One event of a catch-up stream (each a `data:` line of JSON). */
export const CatchUpEvent = Type.Union([
  /** First: how many messages the summary covers (0: nothing to catch up on, `done` follows). */
  Type.Object({
    type: Type.Literal('start'),
    messages: Type.Integer(),
    from_seq: Nullable(Seq),
    to_seq: Nullable(Seq),
  }),
  /** The next piece of the summary's text. */
  Type.Object({ type: Type.Literal('delta'), text: Type.String() }),
  /** Last, when it went well: the whole summary and the messages its `[n]` cite. */
  Type.Object({
    type: Type.Literal('done'),
    summary: Type.String(),
    citations: Type.Array(Citation),
    usage: AssistantUsage,
  }),
  /** Last, when it did not: the error, as a REST error body's `error`. */
  Type.Object({
    type: Type.Literal('error'),
    error: Type.Object({ code: Type.String(), message: Type.String() }),
  }),
]);
export type CatchUpEvent = Static<typeof CatchUpEvent>;

/** `POST /v1/messages/{id}/suggestions`: short replies the caller might send to the message. */
export const SuggestionsResponse = Type.Object({
  suggestions: Type.Array(Type.String({ maxLength: MAX_SUGGESTION_LENGTH }), { maxItems: MAX_SUGGESTIONS }),
});
export type SuggestionsResponse = Static<typeof SuggestionsResponse>;
