/**
 * Slash commands and GIFs (issue #37).
 *
 * One registry per app: the built-in commands (`/remind`, `/schedule`, `/poll`, `/giphy`, `/me`,
 * `/shrug`) and the commands the app registers (`POST /v1/commands`: name, description, usage
 * hint, URL, optional roles). A user runs `/name args` in a channel (`POST
 * /v1/channels/{cid}/commands/run`, or the socket's `command.run`); the server parses the text,
 * checks the user may run the command there, and either runs a built-in or POSTs a signed
 * request to the app's URL. The answer is a message in the channel or an *ephemeral* message:
 * seen only by the sender, delivered only to that user's connections (`ephemeral.new`), never
 * in the channel's history. Ephemeral messages may carry buttons (`actions`) whose clicks go
 * back to the app, signed, and may replace or remove the ephemeral message.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message } from './entities.js';
import { Cid, Timestamp, Uuid } from './ids.js';
import { SAFE_TEXT_PATTERN } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** A command name: lower case letters, digits, `_` and `-`, 1–32, starting with a letter or digit. */
export const COMMAND_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';
export const CommandName = Type.String({ pattern: COMMAND_NAME_PATTERN, description: 'the name typed after `/`' });
/** The built-in commands, parsed and run by the server itself. */
export const BUILTIN_COMMANDS = ['remind', 'schedule', 'poll', 'giphy', 'me', 'shrug'] as const;
export type BuiltinCommand = (typeof BUILTIN_COMMANDS)[number];
/** Most commands an app registers. */
export const MAX_APP_COMMANDS = 100;
/** Longest `/name args` text. */
export const MAX_COMMAND_TEXT = 4000;
/** How long a response token (`response_url`) takes answers, in seconds. */
export const COMMAND_RESPONSE_TTL_SECONDS = 30 * 60;

const SafeLine = (max: number) => Type.String({ maxLength: max, pattern: SAFE_TEXT_PATTERN });
const Roles = Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }), { maxItems: 20, uniqueItems: true });

/** A command of the registry as an admin sees it (`secret` only on creation). */
export const SlashCommand = Type.Object({
  /** The registered command's id; null for a built-in. */
  id: Nullable(Uuid),
  name: CommandName,
  description: Type.String(),
  /** The arguments' hint: `[when] [what]`. */
  usage: Type.String(),
  /** Where the app takes the command (registered commands); null for a built-in. */
  url: Nullable(Type.String()),
  /** User roles (app role or channel role) that may run it; null: everyone who may post. */
  roles: Nullable(Type.Array(Type.String())),
  builtin: Type.Boolean(),
  created_at: Nullable(Timestamp),
});
export type SlashCommand = Static<typeof SlashCommand>;

export const CreateCommandBody = Type.Object(
  {
    name: CommandName,
    description: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    usage: Type.Optional(SafeLine(100)),
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    roles: Type.Optional(Nullable(Roles)),
  },
  { additionalProperties: false },
);
export type CreateCommandBody = Static<typeof CreateCommandBody>;

export const UpdateCommandBody = Type.Object(
  {
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    usage: Type.Optional(SafeLine(100)),
    url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048 })),
    roles: Type.Optional(Nullable(Roles)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCommandBody = Static<typeof UpdateCommandBody>;

export const CommandResponse = Type.Object({ command: SlashCommand });
export type CommandResponse = Static<typeof CommandResponse>;
/** The answer to `POST /v1/commands`: the signing secret is shown once. */
export const CreatedCommandResponse = Type.Object({ command: SlashCommand, secret: Type.String() });
export type CreatedCommandResponse = Static<typeof CreatedCommandResponse>;
export const CommandsResponse = Type.Object({ commands: Type.Array(SlashCommand) });
export type CommandsResponse = Static<typeof CommandsResponse>;

/** `POST /v1/channels/{cid}/commands/run` and `command.run`: the text as typed. */
export const RunCommandBody = Type.Object(
  {
    /** `/name args`. */
    text: Type.String({ minLength: 2, maxLength: MAX_COMMAND_TEXT, pattern: '^/[^/\\s]' }),
    /** Run in this thread (in_channel answers are posted as replies). */
    parent_id: Type.Optional(Nullable(Uuid)),
    /**
     * The sender's time zone offset in minutes (as `Date.getTimezoneOffset()`): `/remind
     * tomorrow` means 9:00 where they are. Default 0.
     */
    tz_offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
  },
  { additionalProperties: false },
);
export type RunCommandBody = Static<typeof RunCommandBody>;

/** A button on an ephemeral message. */
export const EphemeralAction = Type.Object({
  /** What the click tells the app (`send`, `shuffle`, `cancel` for `/giphy`). */
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
  text: Type.String({ minLength: 1, maxLength: 64, pattern: SAFE_TEXT_PATTERN }),
  value: Type.Optional(Type.String({ maxLength: 2000, pattern: SAFE_TEXT_PATTERN })),
  style: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('danger'), Type.Literal('default')])),
});
export type EphemeralAction = Static<typeof EphemeralAction>;

/** An image an app's answer shows (an absolute http(s) URL). */
export const AnswerImage = Type.Object({
  url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
  title: Type.Optional(Type.String({ maxLength: 200, pattern: SAFE_TEXT_PATTERN })),
  width: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  height: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});

/**
 * An image on an ephemeral message: an app's URL as it gave it, or a path of this server (a
 * `/giphy` preview, `/v1/gif-previews/…`, proxied so that the provider never sees the viewer and
 * the page's image policy holds): resolve a path against the server's base URL.
 */
export const EphemeralImage = Type.Object({
  url: Type.String({ maxLength: 2048 }),
  title: Type.Optional(Type.String({ maxLength: 200, pattern: SAFE_TEXT_PATTERN })),
  width: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  height: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
});
export type EphemeralImage = Static<typeof EphemeralImage>;

/** A message only its recipient sees (see the module comment). */
export const EphemeralMessage = Type.Object({
  id: Uuid,
  cid: Cid,
  parent_id: Nullable(Uuid),
  /** The command that made it (`giphy`, an app's command). */
  command: Type.String(),
  text: Type.String(),
  images: Type.Array(EphemeralImage),
  actions: Type.Array(EphemeralAction),
  /** An error note (the app failed, bad arguments): shown as such. */
  error: Type.Boolean(),
  created_at: Timestamp,
});
export type EphemeralMessage = Static<typeof EphemeralMessage>;

/**
 * What running a command did: `message` (posted in the channel), `ephemeral` (seen only by
 * you, also delivered as `ephemeral.new`), or `none` (done, nothing to show: a reminder set
 * says so ephemerally instead).
 */
export const RunCommandResponse = Type.Object({
  result: Type.Union([Type.Literal('message'), Type.Literal('ephemeral'), Type.Literal('none')]),
  message: Type.Optional(Message),
  ephemeral: Type.Optional(EphemeralMessage),
});
export type RunCommandResponse = Static<typeof RunCommandResponse>;

/** `POST /v1/ephemerals/{id}/actions`: a click of one of its buttons. */
export const EphemeralActionBody = Type.Object(
  {
    name: EphemeralAction.properties.name,
    value: Type.Optional(EphemeralAction.properties.value),
  },
  { additionalProperties: false },
);
export type EphemeralActionBody = Static<typeof EphemeralActionBody>;

/**
 * What an app answers a command or a click with (in its HTTP answer, or POSTed to the
 * `response_url`). Everything is optional: `{}` (or an empty 200) shows nothing.
 */
export const CommandAnswer = Type.Object({
  /** `ephemeral` (default): only the sender sees it; `in_channel`: a message everyone sees. */
  response_type: Type.Optional(Type.Union([Type.Literal('ephemeral'), Type.Literal('in_channel')])),
  text: Type.Optional(Type.String({ maxLength: 4000, pattern: SAFE_TEXT_PATTERN })),
  /** in_channel: post as the user who ran it (true) or as the app's bot (default). */
  as_user: Type.Optional(Type.Boolean()),
  images: Type.Optional(Type.Array(AnswerImage, { maxItems: 4 })),
  actions: Type.Optional(Type.Array(EphemeralAction, { maxItems: 5 })),
  /** On a click: replace the ephemeral message clicked (default true for ephemeral answers). */
  replace_original: Type.Optional(Type.Boolean()),
  /** On a click: remove the ephemeral message clicked. */
  delete_original: Type.Optional(Type.Boolean()),
});
export type CommandAnswer = Static<typeof CommandAnswer>;

export const EphemeralResponse = Type.Object({
  ephemeral: Nullable(EphemeralMessage),
  message: Type.Optional(Message),
});
export type EphemeralResponse = Static<typeof EphemeralResponse>;

/** The GIF providers `/giphy` searches through. */
export const GIF_PROVIDERS = ['giphy', 'tenor'] as const;
export type GifProviderName = (typeof GIF_PROVIDERS)[number];

/** `PUT /v1/commands/gif-provider`: the app's GIF search (the key is stored sealed, never shown). */
export const GifProviderBody = Type.Object(
  {
    provider: Type.Union(GIF_PROVIDERS.map((p) => Type.Literal(p))),
    api_key: Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' }),
    /** Default https://api.giphy.com or https://tenor.googleapis.com. */
    base_url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048 })),
    /** Content rating (GIPHY `rating`, Tenor `contentfilter`): default `g` / `high`. */
    rating: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,16}$' })),
  },
  { additionalProperties: false },
);
export type GifProviderBody = Static<typeof GifProviderBody>;

export const GifProviderInfo = Type.Object({
  provider: Type.Union(GIF_PROVIDERS.map((p) => Type.Literal(p))),
  base_url: Type.String(),
  rating: Nullable(Type.String()),
  updated_at: Timestamp,
});
export const GifProviderResponse = Type.Object({ gif_provider: Nullable(GifProviderInfo) });
export type GifProviderResponse = Static<typeof GifProviderResponse>;

/** Live to the recipient's own connections only: an ephemeral message, new or replacing one with its id. */
export const EphemeralNewEvent = Type.Object({
  type: Type.Literal('ephemeral.new'),
  cid: Cid,
  ephemeral: EphemeralMessage,
  created_at: Timestamp,
});
/** Live to the recipient's own connections only: the ephemeral message is gone (sent, cancelled). */
export const EphemeralDeletedEvent = Type.Object({
  type: Type.Literal('ephemeral.deleted'),
  cid: Cid,
  id: Uuid,
  created_at: Timestamp,
});
export const CommandEvents = [EphemeralNewEvent, EphemeralDeletedEvent] as const;
