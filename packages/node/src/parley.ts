/**
 * `Parley`: a backend's handle on one Parley app, holding its API key and secret. It signs its
 * own server token (and, for calls made as a user, that user's token), so it needs no other
 * credentials, and groups the calls a backend makes by subject:
 *
 * ```ts
 * const parley = new Parley({ url: 'http://127.0.0.1:3000', apiKey, apiSecret });
 * await parley.users.upsert([{ id: 'ada', name: 'Ada Lovelace' }]);
 * const token = await parley.createToken('ada', { expiresIn: '1h' }); // hand it to the browser
 * await parley.channels.create({ type: 'group', id: 'ops', members: ['ada', 'bob'], created_by: 'ada' });
 * await parley.messages.send('group:ops', { text: 'Deploy finished' }, { as: 'ada' });
 * for await (const m of parley.messages.history('group:ops')) console.log(m.seq, m.text);
 * ```
 */
import type {
  AdminChannelsQuery,
  AdminChannelsResponse,
  AssistantResponse,
  AssistantSettings,
  AssistantUsageResponse,
  AuditEntry,
  AuditQuery,
  AuditResponse,
  Ban,
  BanBody,
  BeforeSendHook,
  Channel,
  ChannelFilter,
  CommandAnswer,
  CreateChannelBody,
  CreateCommandBody,
  CreateTaskBody,
  CreateWebhookBody,
  DeletionResponse,
  DeliveriesQuery,
  FeatureFlag,
  FeatureFlagResponse,
  FeatureFlagsResponse,
  Flag,
  GifProviderBody,
  GifProviderResponse,
  Member,
  MemberRole,
  Message,
  MessageInput,
  MyFlagsResponse,
  PeopleResponse,
  Person,
  PutAssistantBody,
  PutFeatureFlagBody,
  ReplayWebhookResponse,
  ReviewFlagBody,
  RunCommandResponse,
  SetBeforeSendBody,
  SlashCommand,
  SystemMessageBody,
  Task,
  TaskResponse,
  TaskStatus,
  TasksResponse,
  TransparencyQuery,
  TransparencyResponse,
  UnbanBody,
  UpdateChannelBody,
  UpdateCommandBody,
  UpdateTaskBody,
  UpdateUserBody,
  UpdateWebhookBody,
  User,
  UserInput,
  WebhookDelivery,
  WebhookEndpoint,
} from '@parley/protocol';
import { SignJWT } from 'jose';
import { Http, type Query } from './http.js';

export interface ParleyOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Retries of a retryable failure after the first attempt (default 3; 0 turns them off). */
  retries?: number;
  /** Per attempt (default 15 000 ms). */
  timeoutMs?: number;
  /** First retry's backoff, doubled each time, jittered (default 200 ms). */
  backoffMs?: number;
  /** A `fetch` of your own (default the global one). */
  fetch?: typeof fetch;
}

/** Who a call is made as: the app's server token (default), or a user of the app. */
export interface As {
  /** Make the call as this user (a token the SDK signs for them): their permissions apply. */
  as?: string;
  /** An `Idempotency-Key` of your own for a write (default: a new one per call, kept across its retries). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface TokenOptions {
  /** `exp`: seconds from now, or a jose time span (`'1h'`, `'7d'`); default none. */
  expiresIn?: number | string;
}

/** One page at a time, as an async iterator: `for await (const x of list)`, or `.toArray()`. */
export class Paged<T> implements AsyncIterable<T> {
  constructor(private readonly pages: () => AsyncGenerator<T[]>) {}
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.pages()) yield* page;
  }
  /** Every item (mind large lists), or at most `max`. */
  async toArray(max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) {
      if (out.length >= max) break;
      out.push(x);
    }
    return out;
  }
}

const SERVER_TOKEN_SECONDS = 3600;
const USER_TOKENS_KEPT = 1000;

export class Parley {
  readonly users: Users;
  readonly channels: Channels;
  readonly messages: Messages;
  readonly moderation: Moderation;
  readonly webhooks: Webhooks;
  readonly hooks: Hooks;
  readonly commands: Commands;
  /** The app's feature flags. */
  readonly flags: FeatureFlags;
  /** The app's assistant: its model provider and the usage meter. */
  readonly assistant: AssistantAdmin;
  /** Tasks from messages, made, changed and listed as a user (`{ as }`). */
  readonly tasks: Tasks;
  /** @internal */
  readonly http: Http;
  private readonly key: Uint8Array;
  private readonly tokens = new Map<string, { token: string; renewAt: number }>();

  constructor(readonly options: ParleyOptions) {
    if (!/^https?:\/\//.test(options.url)) throw new TypeError(`url must be an http(s) URL, not ${options.url}`);
    if (!options.apiKey || !options.apiSecret) throw new TypeError('apiKey and apiSecret are required');
    this.key = new TextEncoder().encode(options.apiSecret);
    this.http = new Http({
      baseUrl: options.url,
      apiKey: options.apiKey,
      retries: options.retries ?? 3,
      timeoutMs: options.timeoutMs ?? 15_000,
      backoffMs: options.backoffMs ?? 200,
      fetch: options.fetch ?? globalThis.fetch,
    });
    this.users = new Users(this);
    this.channels = new Channels(this);
    this.messages = new Messages(this);
    this.moderation = new Moderation(this);
    this.webhooks = new Webhooks(this);
    this.hooks = new Hooks(this);
    this.commands = new Commands(this);
    this.flags = new FeatureFlags(this);
    this.assistant = new AssistantAdmin(this);
    this.tasks = new Tasks(this);
  }

  /** A user token for `userId`, to hand to that user's browser or app (the client SDKs connect with it). */
  createToken(userId: string, opts: TokenOptions = {}): Promise<string> {
    if (!userId) throw new TypeError('userId is required');
    return this.sign({ sub: userId }, opts.expiresIn);
  }

  /** A server token: every call of this SDK uses one; for tools of your own (curl, the CLI). */
  createServerToken(opts: TokenOptions = {}): Promise<string> {
    return this.sign({ server: true }, opts.expiresIn);
  }

  private sign(claims: Record<string, unknown>, expiresIn?: number | string): Promise<string> {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
    if (expiresIn !== undefined)
      jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
    return jwt.sign(this.key);
  }

  /** The token for a call: the server's, or a user's; signed for an hour, renewed at half of it. */
  private async tokenFor(as?: string): Promise<string> {
    const id = as === undefined ? '' : `u:${as}`;
    const kept = this.tokens.get(id);
    const now = Date.now();
    if (kept && kept.renewAt > now) return kept.token;
    const token = await this.sign(as === undefined ? { server: true } : { sub: as }, SERVER_TOKEN_SECONDS);
    if (this.tokens.size >= USER_TOKENS_KEPT) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(id, { token, renewAt: now + (SERVER_TOKEN_SECONDS * 1000) / 2 });
    return token;
  }

  /** Any REST call of the API (docs/protocol.md), with this SDK's auth, retries and errors. */
  async request<T>(method: string, path: string, o: As & { body?: unknown; query?: Query } = {}): Promise<T> {
    return this.http.call<T>(method, path, {
      token: await this.tokenFor(o.as),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.query ? { query: o.query } : {}),
      ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  /** @internal A list paged by an opaque `cursor` answered as `next`. */
  cursorPaged<T, R extends { next?: string | null }>(
    path: string,
    query: Query,
    items: (r: R) => T[],
    o: As & { method?: 'GET' | 'POST'; body?: Record<string, unknown> } = {},
  ): Paged<T> {
    const self = this;
    return new Paged(async function* () {
      let cursor: string | undefined;
      do {
        const r =
          o.method === 'POST'
            ? await self.request<R>('POST', path, { ...o, body: { ...o.body, ...(cursor ? { cursor } : {}) } })
            : await self.request<R>('GET', path, { ...o, query: { ...query, cursor } });
        yield items(r);
        cursor = r.next ?? undefined;
      } while (cursor);
    });
  }

  /** The app's audit log, newest first (docs/protocol/admin.md, "Audit log"). */
  audit(query: Omit<AuditQuery, 'cursor'> = {}): Paged<AuditEntry> {
    return this.cursorPaged<AuditEntry, AuditResponse>('/v1/audit', query, (r) => r.entries);
  }
}

const enc = encodeURIComponent;

class Users {
  constructor(private readonly p: Parley) {}

  /** Create or update users (up to 100 a call; more are sent in batches). Answers them as stored. */
  async upsert(users: UserInput[], o: As = {}): Promise<User[]> {
    const out: User[] = [];
    for (let i = 0; i < users.length; i += 100) {
      const r = await this.p.request<{ users: User[] }>('POST', '/v1/users', {
        ...o,
        body: { users: users.slice(i, i + 100) },
      });
      out.push(...r.users);
    }
    return out;
  }

  /** One user, with presence. */
  async get(id: string, o: As = {}): Promise<User> {
    return (await this.p.request<{ user: User }>('GET', `/v1/users/${enc(id)}`, o)).user;
  }

  /**
   * Change a user's name or title (only those given; a null or blank title clears it). Audited
   * as `user.profile_updated`; everyone who shares a channel with them gets `user.updated`.
   */
  async update(id: string, fields: UpdateUserBody, o: As = {}): Promise<User> {
    return (await this.p.request<{ user: User }>('PATCH', `/v1/users/${enc(id)}`, { ...o, body: fields })).user;
  }

  /** Users whose username or name starts with `q` (every user without `q`), a page at a time. */
  search(q?: string, o: As & { limit?: number } = {}): Paged<User> {
    return this.p.cursorPaged<User, { users: User[]; next?: string | null }>(
      '/v1/users',
      { q, limit: o.limit },
      (r) => r.users,
      o,
    );
  }

  /**
   * The people directory (`GET /v1/people`) in name order, a page at a time: as the app (every
   * field, emails, deactivated accounts with `deactivated: true`) or `as` a user (what they may
   * see). `q` matches a word of the name or title, the username, the email; `title` a word of the
   * title; `fields` custom profile field id → value (a choice exactly, text by prefix). Every
   * filter must hold.
   */
  directory(
    query: {
      q?: string;
      role?: User['role'];
      title?: string;
      fields?: Record<string, string>;
      deactivated?: boolean;
      limit?: number;
    } = {},
    o: As = {},
  ): Paged<Person> {
    const { fields, ...rest } = query;
    const field = Object.entries(fields ?? {}).map(([id, value]) => `${id}:${value}`);
    return this.p.cursorPaged<Person, PeopleResponse>(
      '/v1/people',
      { ...rest, ...(field.length ? { field } : {}) },
      (r) => r.people,
      o,
    );
  }

  /**
   * Delete a user through the job queue: `soft` (default) anonymizes them and keeps their
   * messages as "deleted user"; `hard` removes their messages too. Answers the deletion job.
   */
  async delete(id: string, o: As & { mode?: 'soft' | 'hard' } = {}): Promise<DeletionResponse> {
    return this.p.request('DELETE', `/v1/users/${enc(id)}`, { ...o, query: { mode: o.mode } });
  }
}

class Channels {
  constructor(private readonly p: Parley) {}

  /**
   * Create a channel (as the app: name its `created_by`; or `as` a user, who becomes its owner).
   * `dm` is get-or-create for the same member set.
   */
  async create(body: CreateChannelBody, o: As = {}): Promise<{ channel: Channel; members: Member[] }> {
    return this.p.request('POST', '/v1/channels', { ...o, body });
  }

  /** Create the channel unless it exists; answers it either way. */
  async ensure(body: CreateChannelBody & { id: string }, o: As = {}): Promise<{ channel: Channel; members: Member[] }> {
    try {
      return await this.create(body, o);
    } catch (e) {
      if ((e as { code?: string }).code !== 'CONFLICT') throw e;
      return this.get(`${body.type}:${body.id}`, o);
    }
  }

  async get(cid: string, o: As = {}): Promise<{ channel: Channel; members: Member[] }> {
    return this.p.request('GET', `/v1/channels/${enc(cid)}`, o);
  }

  async update(cid: string, body: UpdateChannelBody, o: As = {}): Promise<Channel> {
    return (await this.p.request<{ channel: Channel }>('PATCH', `/v1/channels/${enc(cid)}`, { ...o, body })).channel;
  }

  /** Delete a channel and everything in it, through the job queue. */
  async delete(cid: string, o: As = {}): Promise<DeletionResponse> {
    return this.p.request('DELETE', `/v1/channels/${enc(cid)}`, o);
  }

  async addMembers(cid: string, userIds: string[], o: As = {}): Promise<{ channel: Channel; members: Member[] }> {
    return this.p.request('POST', `/v1/channels/${enc(cid)}/members`, { ...o, body: { add: userIds } });
  }

  async removeMembers(cid: string, userIds: string[], o: As = {}): Promise<{ channel: Channel; members: Member[] }> {
    return this.p.request('POST', `/v1/channels/${enc(cid)}/members`, { ...o, body: { remove: userIds } });
  }

  async setRole(cid: string, userId: string, role: MemberRole, o: As = {}): Promise<Member> {
    const path = `/v1/channels/${enc(cid)}/members/${enc(userId)}`;
    return (await this.p.request<{ member: Member }>('PATCH', path, { ...o, body: { role } })).member;
  }

  /** Every channel of the app but DMs, by name, with moderation state (app admins, the server). */
  list(query: Omit<AdminChannelsQuery, 'cursor'> = {}, o: As = {}): Paged<Channel> {
    return this.p.cursorPaged<Channel, AdminChannelsResponse>('/v1/channels', query, (r) => r.channels, o);
  }

  /** A user's channels matching `filter` (docs/protocol/channels.md, "Querying channels"), a page at a time. */
  query(filter: ChannelFilter, o: As & { sort?: unknown; limit?: number } & { as: string }): Paged<Channel> {
    const body = { filter, ...(o.sort ? { sort: o.sort } : {}), ...(o.limit ? { limit: o.limit } : {}) };
    return this.p.cursorPaged<Channel, { channels: Channel[]; next: string | null }>(
      '/v1/channels/query',
      {},
      (r) => r.channels,
      { ...o, method: 'POST', body },
    );
  }
}

class Messages {
  constructor(private readonly p: Parley) {}

  /**
   * Send a message `as` a user (their permissions, rate limits and the before-send hook apply).
   * Give `message.id` (a UUIDv7) to make a resend of the same message a no-op.
   */
  async send(cid: string, message: MessageInput, o: As & { as: string }): Promise<Message> {
    const path = `/v1/channels/${enc(cid)}/messages`;
    return (await this.p.request<{ message: Message }>('POST', path, { ...o, body: message })).message;
  }

  /**
   * Post a system message as the app: shown without an author line, counted in no unread and
   * pushed to no one (`user_id`: who it is about; default the app's bot).
   */
  async sendSystem(cid: string, body: SystemMessageBody, o: As = {}): Promise<Message> {
    const path = `/v1/channels/${enc(cid)}/system-messages`;
    return (await this.p.request<{ message: Message }>('POST', path, { ...o, body })).message;
  }

  async get(id: string, o: As = {}): Promise<Message> {
    return (await this.p.request<{ message: Message }>('GET', `/v1/messages/${enc(id)}`, o)).message;
  }

  /** Edit a message's text (its author only: make the call `as` them). */
  async update(id: string, text: string, o: As & { as: string }): Promise<Message> {
    return (await this.p.request<{ message: Message }>('PATCH', `/v1/messages/${enc(id)}`, { ...o, body: { text } }))
      .message;
  }

  /** Soft-delete a message (as the server, a moderator, or its author). */
  async delete(id: string, o: As = {}): Promise<Message> {
    return (await this.p.request<{ message: Message }>('DELETE', `/v1/messages/${enc(id)}`, o)).message;
  }

  /**
   * A channel's history a page at a time: newest first (default), or oldest first from `after`.
   * Within a page messages come in the order iterated.
   */
  history(
    cid: string,
    o: As & { order?: 'newest' | 'oldest'; after?: number; pageSize?: number } = {},
  ): Paged<Message> {
    return this.seqPaged(`/v1/channels/${enc(cid)}/messages`, o);
  }

  /** A thread's replies, oldest first. */
  replies(parentId: string, o: As & { pageSize?: number } = {}): Paged<Message> {
    return this.seqPaged(`/v1/messages/${enc(parentId)}/replies`, { ...o, order: 'oldest' });
  }

  private seqPaged(path: string, o: As & { order?: 'newest' | 'oldest'; after?: number; pageSize?: number }) {
    const p = this.p;
    const limit = o.pageSize ?? 100;
    return new Paged<Message>(async function* () {
      if (o.order === 'oldest') {
        let after = o.after ?? 0;
        for (;;) {
          const { messages } = await p.request<{ messages: Message[] }>('GET', path, { ...o, query: { after, limit } });
          if (messages.length) yield messages;
          if (messages.length < limit) return;
          after = (messages[messages.length - 1] as Message).seq;
        }
      }
      let before: number | undefined;
      for (;;) {
        const { messages } = await p.request<{ messages: Message[] }>('GET', path, { ...o, query: { before, limit } });
        if (messages.length) yield [...messages].reverse();
        if (messages.length < limit) return;
        before = (messages[0] as Message).seq;
        if (before <= 1) return;
      }
    });
  }

  async react(id: string, type: string, o: As & { as: string }): Promise<Message> {
    const path = `/v1/messages/${enc(id)}/reactions`;
    return (await this.p.request<{ message: Message }>('POST', path, { ...o, body: { type } })).message;
  }
}

class Moderation {
  constructor(private readonly p: Parley) {}

  /** Ban a user from a channel (`cid`) or the app; `timeout_s` lifts it by itself; `shadow` hides their new messages. */
  async ban(body: BanBody, o: As = {}): Promise<Ban> {
    return (await this.p.request<{ ban: Ban }>('POST', '/v1/moderation/bans', { ...o, body })).ban;
  }

  async unban(body: UnbanBody, o: As = {}): Promise<void> {
    await this.p.request('POST', '/v1/moderation/unban', { ...o, body });
  }

  /** Standing bans: the app's, or one channel's. */
  async bans(o: As & { cid?: string; limit?: number } = {}): Promise<Ban[]> {
    return (
      await this.p.request<{ bans: Ban[] }>('GET', '/v1/moderation/bans', {
        ...o,
        query: { cid: o.cid, limit: o.limit },
      })
    ).bans;
  }

  /** The moderation queue, newest first. */
  flags(o: As & { status?: string; limit?: number } = {}): Paged<Flag> {
    return this.p.cursorPaged<Flag, { flags: Flag[]; next?: string }>(
      '/v1/moderation/flags',
      { status: o.status, limit: o.limit },
      (r) => r.flags,
      o,
    );
  }

  /** Review a flag: remove the message, ban its author (and remove), or dismiss. */
  async review(flagId: string, body: ReviewFlagBody, o: As = {}): Promise<Flag> {
    const path = `/v1/moderation/flags/${enc(flagId)}/review`;
    return (await this.p.request<{ flag: Flag }>('POST', path, { ...o, body })).flag;
  }

  /** The transparency report: moderation actions per day, week or month (`transparencyCsv` makes it CSV). */
  async report(q: Omit<TransparencyQuery, 'format'> = {}, o: As = {}): Promise<TransparencyResponse> {
    return this.p.request<TransparencyResponse>('GET', '/v1/moderation/report', {
      ...o,
      query: { period: q.period, from: q.from, to: q.to },
    });
  }
}

class Webhooks {
  constructor(private readonly p: Parley) {}

  async list(o: As = {}): Promise<WebhookEndpoint[]> {
    return (await this.p.request<{ webhooks: WebhookEndpoint[] }>('GET', '/v1/webhooks', o)).webhooks;
  }

  /** Add an endpoint. Keep `secret`: it is shown only now, and `verifyWebhook` needs it. */
  async create(body: CreateWebhookBody, o: As = {}): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    return this.p.request('POST', '/v1/webhooks', { ...o, body });
  }

  async get(id: string, o: As = {}): Promise<WebhookEndpoint> {
    return (await this.p.request<{ webhook: WebhookEndpoint }>('GET', `/v1/webhooks/${enc(id)}`, o)).webhook;
  }

  /**
   * Change an endpoint. `active: false` pauses it: what it would receive is kept for it (7 days,
   * the server's `PARLEY_WEBHOOK_RETENTION_DAYS`; older is dropped and counted in `dropped`), and
   * `active: true` sends all of it, in order.
   */
  async update(id: string, body: UpdateWebhookBody, o: As = {}): Promise<WebhookEndpoint> {
    return (await this.p.request<{ webhook: WebhookEndpoint }>('PATCH', `/v1/webhooks/${enc(id)}`, { ...o, body }))
      .webhook;
  }

  async delete(id: string, o: As = {}): Promise<void> {
    await this.p.request('DELETE', `/v1/webhooks/${enc(id)}`, o);
  }

  /** An endpoint's delivery log, newest first. */
  deliveries(id: string, query: Omit<DeliveriesQuery, 'before'> = {}, o: As = {}): Paged<WebhookDelivery> {
    const p = this.p;
    const limit = query.limit ?? 100;
    return new Paged(async function* () {
      let before: string | undefined;
      for (;;) {
        const { deliveries } = await p.request<{ deliveries: WebhookDelivery[] }>(
          'GET',
          `/v1/webhooks/${enc(id)}/deliveries`,
          { ...o, query: { ...query, limit, before } },
        );
        if (deliveries.length) yield deliveries;
        if (deliveries.length < limit) return;
        before = (deliveries[deliveries.length - 1] as WebhookDelivery).id;
      }
    });
  }

  /** Send a delivered or failed event again (a new delivery at the end of its lane). */
  async redeliver(id: string, deliveryId: string, o: As = {}): Promise<WebhookDelivery> {
    const path = `/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`;
    return (await this.p.request<{ delivery: WebhookDelivery }>('POST', path, o)).delivery;
  }

  /**
   * Send a `webhook.test` event to the endpoint now (active or paused) and answer the delivery:
   * `status` `delivered` or `failed`, with `response_status`, `error` and `latency_ms`.
   */
  async test(id: string, o: As = {}): Promise<WebhookDelivery> {
    return (await this.p.request<{ delivery: WebhookDelivery }>('POST', `/v1/webhooks/${enc(id)}/test`, o)).delivery;
  }

  /**
   * A new signing secret (answered only now). The old one keeps signing beside it for
   * `overlapSeconds` (default a day, at most 7 days; 0 ends it at once), so deploy the new secret
   * to your receiver within that time; `verifyWebhook` accepts either meanwhile.
   */
  async rotateSecret(
    id: string,
    opts: { overlapSeconds?: number } = {},
    o: As = {},
  ): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    const body = opts.overlapSeconds === undefined ? {} : { overlap_seconds: opts.overlapSeconds };
    return this.p.request('POST', `/v1/webhooks/${enc(id)}/rotate-secret`, { ...o, body });
  }

  /**
   * Send the channel events committed in `[since, until)` (until: now) again to the endpoint, as
   * new deliveries with their original `event_id` — for an endpoint that missed them, one deleted
   * and made again included. Pages through the range (`pageSize` events a call) and answers how
   * many were queued. Only channel events of the event log are replayed; user-level and app-wide
   * events, bookmarks and notes are not kept there.
   */
  async replay(
    id: string,
    range: { since: Date | string; until?: Date | string; pageSize?: number },
    o: As = {},
  ): Promise<number> {
    const iso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());
    // A fixed end, so the pages walk one range however long they take.
    const until = iso(range.until ?? new Date());
    let queued = 0;
    let after: string | null = null;
    do {
      const r: ReplayWebhookResponse = await this.p.request('POST', `/v1/webhooks/${enc(id)}/replay`, {
        ...o,
        body: {
          since: iso(range.since),
          until,
          ...(range.pageSize ? { limit: range.pageSize } : {}),
          ...(after ? { after } : {}),
        },
      });
      queued += r.queued;
      after = r.next;
    } while (after);
    return queued;
  }
}

class Hooks {
  constructor(private readonly p: Parley) {}

  /** The before-send hook, or null. */
  async getBeforeSend(o: As = {}): Promise<BeforeSendHook | null> {
    return (await this.p.request<{ hook: BeforeSendHook | null }>('GET', '/v1/hooks/before-send', o)).hook;
  }

  /** Set it; `secret` comes back the first time (keep it for `verifyWebhook`). */
  async setBeforeSend(body: SetBeforeSendBody, o: As = {}): Promise<{ hook: BeforeSendHook; secret?: string }> {
    return this.p.request('PUT', '/v1/hooks/before-send', { ...o, body });
  }

  async removeBeforeSend(o: As = {}): Promise<void> {
    await this.p.request('DELETE', '/v1/hooks/before-send', o);
  }
}

/**
 * The app's slash commands (docs/protocol/hooks-and-commands.md, "Slash commands"): register `/name` with the URL
 * that takes it, and the GIF provider of `/giphy`. A command's requests are signed like
 * webhooks: check them with `verifyWebhook(body, header, secret)` and the command's secret.
 */
class Commands {
  constructor(private readonly p: Parley) {}

  /** The registry: the built-ins, then the app's commands. */
  async list(o: As = {}): Promise<SlashCommand[]> {
    return (await this.p.request<{ commands: SlashCommand[] }>('GET', '/v1/commands', o)).commands;
  }

  /** Register a command. Keep `secret`: it is shown only now; it signs the command's requests. */
  async create(body: CreateCommandBody, o: As = {}): Promise<{ command: SlashCommand; secret: string }> {
    return this.p.request('POST', '/v1/commands', { ...o, body });
  }

  async get(id: string, o: As = {}): Promise<SlashCommand> {
    return (await this.p.request<{ command: SlashCommand }>('GET', `/v1/commands/${enc(id)}`, o)).command;
  }

  async update(id: string, body: UpdateCommandBody, o: As = {}): Promise<SlashCommand> {
    return (await this.p.request<{ command: SlashCommand }>('PATCH', `/v1/commands/${enc(id)}`, { ...o, body }))
      .command;
  }

  async delete(id: string, o: As = {}): Promise<void> {
    await this.p.request('DELETE', `/v1/commands/${enc(id)}`, o);
  }

  /** The commands `o.as` may run in `cid` (what their autocomplete lists). */
  async available(cid: string, o: As & { as: string }): Promise<SlashCommand[]> {
    return (await this.p.request<{ commands: SlashCommand[] }>('GET', `/v1/channels/${enc(cid)}/commands`, o)).commands;
  }

  /** Run `/name args` in `cid` as a user (as if they typed it). */
  async run(cid: string, text: string, o: As & { as: string; parentId?: string }): Promise<RunCommandResponse> {
    const body = { text, ...(o.parentId ? { parent_id: o.parentId } : {}) };
    return this.p.request('POST', `/v1/channels/${enc(cid)}/commands/run`, { ...o, body });
  }

  /** Answer a command later: POST `answer` to the `response_url` the command came with. */
  async respond(responseUrl: string, answer: CommandAnswer): Promise<RunCommandResponse> {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(answer),
    });
    const json = (await res.json()) as RunCommandResponse & { error?: { code: string; message: string } };
    if (!res.ok) throw new Error(json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.status}`);
    return json;
  }

  /** The GIF provider of `/giphy` (null when none; its key is never answered). */
  async gifProvider(o: As = {}): Promise<GifProviderResponse['gif_provider']> {
    return (await this.p.request<GifProviderResponse>('GET', '/v1/commands/gif-provider', o)).gif_provider;
  }

  /** Set the GIF provider: GIPHY or Tenor, with its API key (and base URL, rating). */
  async setGifProvider(body: GifProviderBody, o: As = {}): Promise<GifProviderResponse['gif_provider']> {
    return (await this.p.request<GifProviderResponse>('PUT', '/v1/commands/gif-provider', { ...o, body })).gif_provider;
  }

  async removeGifProvider(o: As = {}): Promise<void> {
    await this.p.request('DELETE', '/v1/commands/gif-provider', o);
  }
}

/**
 * The app's feature flags (docs/protocol/admin.md, "Feature flags"): each is on for the users
 * named in `user_ids` and for `percentage` % of the others (a stable hash of key and user id),
 * while `enabled`. Every change is audited and tells every connected client to read its flags again.
 */
class FeatureFlags {
  constructor(private readonly p: Parley) {}

  /** Every flag of the app, by key. */
  async list(o: As = {}): Promise<FeatureFlag[]> {
    return (await this.p.request<FeatureFlagsResponse>('GET', '/v1/feature-flags', o)).flags;
  }

  /** Create the flag (off, 0 %, nobody named, unless given), or change only the fields given. */
  async put(key: string, body: PutFeatureFlagBody, o: As = {}): Promise<FeatureFlag> {
    return (await this.p.request<FeatureFlagResponse>('PUT', `/v1/feature-flags/${enc(key)}`, { ...o, body })).flag;
  }

  async delete(key: string, o: As = {}): Promise<void> {
    await this.p.request('DELETE', `/v1/feature-flags/${enc(key)}`, o);
  }

  /** Every flag of the app as it is for the user `o.as`: key → on or off. */
  async of(o: As & { as: string }): Promise<Record<string, boolean>> {
    return (await this.p.request<MyFlagsResponse>('GET', '/v1/me/flags', o)).flags;
  }
}

/**
 * Tasks from messages (docs/protocol/team-features.md, "Tasks"): a message turned into a task with
 * an assignee, an optional due time (the assignee's reminder) and a status. A task is a user's
 * act, so every call is made `as` a user — a member of the message's channel, as from their own
 * client (the assignee's inbox item names them, and the channel hears `task.*`).
 */
class Tasks {
  constructor(private readonly p: Parley) {}

  /** Turn a message into a task for `assignee_id` (a member of its channel), due at `due_at` if given. */
  async create(body: CreateTaskBody, o: As & { as: string }): Promise<Task> {
    return (await this.p.request<TaskResponse>('POST', '/v1/tasks', { ...o, body })).task;
  }

  /** One task, with its message (null once deleted). */
  async get(id: string, o: As & { as: string }): Promise<Task> {
    return (await this.p.request<TaskResponse>('GET', `/v1/tasks/${enc(id)}`, o)).task;
  }

  /** Reassign, move or clear (`due_at: null`) the due time, complete (`status: 'done'`) or reopen. */
  async update(id: string, body: UpdateTaskBody, o: As & { as: string }): Promise<Task> {
    return (await this.p.request<TaskResponse>('PATCH', `/v1/tasks/${enc(id)}`, { ...o, body })).task;
  }

  /** Delete a task (the message stays; deleting the message deletes its task). Answers it as it was. */
  async delete(id: string, o: As & { as: string }): Promise<Task> {
    return (await this.p.request<TaskResponse>('DELETE', `/v1/tasks/${enc(id)}`, o)).task;
  }

  /** The tasks assigned to the user `o.as`, newest first, of one status (default `open`), a page at a time. */
  list(o: As & { as: string; status?: TaskStatus; pageSize?: number }): Paged<Task> {
    return this.p.cursorPaged<Task, TasksResponse>(
      '/v1/me/tasks',
      { status: o.status, limit: o.pageSize },
      (r) => r.tasks,
      o,
    );
  }

  /** A channel's tasks (what its messages' badges show), as the user `o.as` may read them. */
  ofChannel(cid: string, o: As & { as: string; status?: TaskStatus; pageSize?: number }): Paged<Task> {
    return this.p.cursorPaged<Task, TasksResponse>(
      `/v1/channels/${enc(cid)}/tasks`,
      { status: o.status, limit: o.pageSize },
      (r) => r.tasks,
      o,
    );
  }
}

/**
 * The app's assistant (docs/assistant.md): an OpenAI-compatible model provider — its URL, model
 * and key (sealed, never answered) — and which features are on; off until `enabled`. Changes
 * are audited. `usage` is the meter: requests and tokens per UTC day and feature.
 */
class AssistantAdmin {
  constructor(private readonly p: Parley) {}

  /** The settings, or null when the app has no assistant. */
  async get(o: As = {}): Promise<AssistantSettings | null> {
    return (await this.p.request<AssistantResponse>('GET', '/v1/assistant', o)).assistant;
  }

  /** Set the fields given (`url` and `model` the first time). */
  async put(body: PutAssistantBody, o: As = {}): Promise<AssistantSettings> {
    return (await this.p.request<AssistantResponse>('PUT', '/v1/assistant', { ...o, body }))
      .assistant as AssistantSettings;
  }

  /** Remove the assistant (its provider and key; the meter stays). */
  async delete(o: As = {}): Promise<void> {
    await this.p.request('DELETE', '/v1/assistant', o);
  }

  /** The last `days` days (default 30) of the meter. */
  async usage(days?: number, o: As = {}): Promise<AssistantUsageResponse> {
    return this.p.request<AssistantUsageResponse>('GET', `/v1/assistant/usage${days ? `?days=${days}` : ''}`, o);
  }
}
