/**
 * The services one server instance is built from, created once in `buildServer` and passed
 * to every feature. Features reach the database, the bus and each other only through here.
 *
 * `Infra` (infra.ts) is the part that knows no feature; the components added here are built on
 * `Infra` only, which keeps this module out of any import cycle with the features.
 */
import type { FirstMessageInput, Message } from '@parley/protocol';
import type { ChatSessions } from './features/accounts/index.js';
import type { ChannelAccess, OpeningRead } from './features/channels/index.js';
import type { WatchFound, WatchRead } from './features/events/index.js';
import type { MessageRow, SendBatcher } from './features/messages/index.js';
import type { Presence, Viewers } from './features/presence/index.js';
import type { Typing } from './features/typing/index.js';
import type { HookRegistry, WebhookPump } from './features/webhooks/index.js';
import type { Infra } from './infra.js';
import type { Caller } from './platform/auth.js';
import type { Queryable, Tx } from './platform/db/index.js';
import type { Outbox } from './platform/event-log.js';
import type { TickBatcher } from './platform/tick-batch.js';
import type { Opening } from './realtime/opening.js';

export type { Infra } from './infra.js';

export interface Services extends Infra {
  presence: Presence;
  /** Who views which channel now (`channel.view`, features/presence/viewers.ts). */
  viewers: Viewers;
  typing: Typing;
  /** Group commit for plain sends. */
  sends: SendBatcher;
  /** The reads of `channel.watch`, batched (a reconnect storm is thousands of them). */
  watches: TickBatcher<WatchRead, WatchFound | null>;
  /** What a connection reads when it opens, batched per event-loop turn (a connect storm is thousands). */
  openings: TickBatcher<OpeningRead, Opening | null>;
  /** Channels' last seqs for connections' catch-ups, batched per event-loop turn (platform/event-log.ts). */
  channelSeqs: TickBatcher<{ appId: string; cid: string }, number | null>;
  /** Which account-minted chat tokens still work; ends them on every node. */
  chatSessions: ChatSessions;
  /** Each app's webhook endpoints and before-send hook, cached (features/webhooks/settings.ts). */
  hooks: HookRegistry;
  /** This node's sender of webhook deliveries (features/webhooks/pump.ts). */
  webhooks: WebhookPump;
  /**
   * What follows a sent message once its transaction has committed, in order: features/messages
   * calls these, and app.ts registers notifications' pushes and the inbox's recording at startup,
   * so messages imports neither (they sit above it). `sent.inbox`: the send wrote its row of
   * the inbox's outbox (a mention, @here, @channel, a thread reply or a DM); no other send can
   * put an item in an inbox.
   */
  afterSend: ((svc: Services, appId: string, messageId: string, sent: { inbox: boolean }) => void)[];
  /**
   * Members were invited to a channel: features/channels calls it inside the transaction that
   * adds them, and calls what it returns after the commit; app.ts registers the inbox's
   * invitation items at startup (the inbox sits above channels). Durable: the inbox's task is
   * written in that transaction (features/inbox/tasks.ts).
   */
  invited: (
    svc: Services,
    tx: Queryable,
    appId: string,
    cid: string,
    actorId: string | null,
    userIds: string[],
  ) => Promise<() => void>;
  /**
   * An edit that names people the message did not (`added`) or no longer names (`removed`):
   * features/messages calls it inside the edit's transaction, and what it returns after the
   * commit; app.ts registers the inbox's mention items at startup (the inbox sits above messages).
   */
  mentionsEdited: (
    svc: Services,
    tx: Queryable,
    appId: string,
    messageId: string,
    added: readonly string[],
    removed: readonly string[],
  ) => Promise<() => void>;
  /**
   * Messages were deleted (soft, by their author or a moderator, or removed with a deleted user):
   * features/messages and features/admin call it inside the deletion's transaction, so what hung
   * on the messages goes with them in it, and what it returns after the commit; app.ts registers
   * the tasks' (they sit above messages).
   */
  messagesDeleted: (
    svc: Services,
    tx: Tx,
    out: Outbox,
    appId: string,
    messageIds: readonly string[],
    at: number,
  ) => Promise<() => void>;
  /**
   * A member's read mark moved forward in a channel, to `seq`: features/reads calls it after
   * the write, and app.ts registers the inbox's (its items of those messages are read too; the
   * inbox and reads are peers).
   */
  channelRead: (svc: Services, appId: string, userId: string, cid: string, seq: number) => void;
  /**
   * A message row as the wire shows it, with no caller's view (messages' `presentMessage`):
   * channels, below messages, writes system messages; app.ts fills it at startup.
   */
  presentMessage: (row: MessageRow) => Message;
  /**
   * Message rows as the wire shows them to `callerId`, with authors, own reactions and votes and
   * quoted messages (messages' `enrichMessages`): features below messages present a message they
   * changed or list through it (channels, files, links); app.ts fills it at startup.
   */
  enrichMessages: (q: Queryable, appId: string, callerId: string | null, rows: MessageRow[]) => Promise<Message[]>;
  /**
   * The caller's own reactions on one message (messages' `ownReactions`): links answers a preview's
   * removal with the message as its author sees it; app.ts fills it at startup.
   */
  ownReactions: (q: Queryable, appId: string, userId: string | null, messageId: string) => Promise<string[]>;
  /**
   * A message the caller may read, with its channel, or NOT_FOUND (messages' `accessMessage`):
   * features below messages that act on a message (moderation's flags, links' preview removal)
   * read it through this, which app.ts fills at startup.
   */
  accessMessage: (q: Queryable, caller: Caller, messageId: string) => Promise<ChannelAccess & { message: MessageRow }>;
  /**
   * Delete a message as its author or a moderator would (messages' `deleteMessage`): a flag's
   * review removes the message, and moderation sits below messages; app.ts fills it at startup.
   */
  deleteMessage: (svc: Services, caller: Caller, id: string) => Promise<Message>;
  /**
   * A channel's first message (`first_message` of `POST /v1/channels`): features/channels
   * (below messages) checks it before its transaction as a send is checked, then writes it in
   * the transaction that creates the channel; app.ts registers messages' `planFirstMessage`.
   */
  firstMessage: (
    svc: Services,
    me: Caller & { kind: 'user' },
    cid: string,
    input: FirstMessageInput,
  ) => Promise<FirstMessagePlan>;
  /**
   * Which space each user is in, part of their presence: features/spaces (above presence)
   * registers it at startup in app.ts.
   */
  spacesOfUsers: (q: Queryable, appId: string, userIds: readonly string[]) => Promise<Map<string, string>>;
  /**
   * A user's unread totals across channels (`GET /v1/me`, features/users): features/reads, above
   * users, registers its query at startup in app.ts.
   */
  unreadTotals: (
    svc: Services,
    appId: string,
    userId: string,
  ) => Promise<{ total: number; mentions: number; channels: number; rev: number }>;
  /**
   * Pushes each change of a user's unread counts to their connections (`unread.updated`,
   * features/reads/push.ts): it follows the bus's committed events by itself; actions whose
   * change publishes no event that says so (a read mark, a mute) name the user here.
   */
  unread: UnreadPusher;
  /** Who was active on which day (features/analytics/usage.ts: `ActivityTracker`). */
  activity: { note(appId: string, userId: string): Promise<void>; settled(): Promise<void> };
}

/** What features see of features/reads' `UnreadPush` (declared here: reads sits above them). */
export interface UnreadPusher {
  /** A user's counts in `cid` (null: only their totals; '*': all their channels) may have moved. */
  user(appId: string, userId: string, cid: string | null): void;
  /** A message moved the counts of these members of `cid`, connected to this node. */
  local(appId: string, cid: string, userIds: readonly string[]): void;
  /** Each user's unread total across their channels (push badges); one read for all of them. */
  totals(appId: string, userIds: readonly string[]): Promise<Map<string, number>>;
  /** Resolves once every change noted so far has been pushed. */
  settled(): Promise<void>;
  /** Push what is queued, then take nothing more (shutdown). */
  close(): Promise<void>;
}

/** A first message that passed a send's checks, ready to be written with its channel. */
export interface FirstMessagePlan {
  /** The message's id (the client's, or made by the server). */
  readonly id: string;
  /**
   * In the creating transaction, once the channel and its members are written: store the
   * message at the channel's next seq (its row locked) and queue its events in `out`. Throws a
   * typed error if the author may not post there (the rollback then creates nothing); answers
   * null when its id is taken. `committed` runs what follows a send, after the commit.
   */
  write(tx: Tx, out: Outbox): Promise<{ message: Message; committed: () => Promise<void> } | null>;
}
