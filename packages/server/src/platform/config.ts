/**
 * Server configuration: one plain object, read from the environment in `main.ts` and
 * built directly by tests. Nothing else reads `process.env`.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_OUTBOUND_ALLOW, type OutboundAllow, outboundAllowFromEnv } from './outbound.js';
import { parseS3Url, type S3Options } from './storage/store.js';

export interface Config {
  /** HTTP port; 0 picks a free one. */
  port: number;
  host: string;
  /** Folder for PGlite data, the master key and the generated admin token. */
  dataDir: string;
  /** PostgreSQL URL; unset = embedded PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Redis URL for fan-out between nodes (issue: scale-out); unset = in process. */
  redisUrl?: string | undefined;
  /** Admin token; unset = generated on first start and kept in `dataDir`. */
  adminToken?: string | undefined;
  /** 32-byte master key (base64 or hex) sealing app secrets at rest; unset = kept in `dataDir`. */
  masterKey?: string | undefined;
  /** Largest HTTP body, in bytes. */
  bodyLimit: number;
  /** Largest WebSocket frame, in bytes. */
  maxFrameBytes: number;
  /** Bytes a connection may have queued before it is dropped as a slow consumer. */
  maxQueuedBytes: number;
  /** How often the server pings each socket, in ms; a socket that misses a pong is closed. */
  heartbeatMs: number;
  /** Time allowed for the auth frame, in ms. */
  authTimeoutMs: number;
  /** How long typing state lives without a refresh, in ms. */
  typingTtlMs: number;
  /** Grace after the last connection closes before a user is shown offline, in ms. */
  presenceGraceMs: number;
  /**
   * How long a node's word on a user's presence lasts in the pool unless it refreshes it (every
   * third of this), in ms: a node that dies stops counting after at most this long.
   */
  presenceTtlMs: number;
  /** Inactivity after which an online user is shown away, in ms. */
  awayAfterMs: number;
  /**
   * How often each node re-reads do-not-disturb for the users connected to it, in ms: a DND
   * window opening or a pause running out shows as `busy` (or not) within this long.
   */
  busyCheckMs: number;
  /** Messages one user may send per `rateWindowMs` (0 = no limit). */
  rateMessages: number;
  /**
   * How long a burst past `rateMessages` blocks the sender, from the first refused send
   * (`PARLEY_RATE_MESSAGES_BLOCK_SECONDS`); every send meanwhile is refused with the time left.
   * 0: only the window's end (the next window opens as usual).
   */
  rateBlockSeconds: number;
  /**
   * The default limit on every REST route under /v1, beside the routes' own (sends, sign-in,
   * uploads…): requests per minute per client IP (`PARLEY_HTTP_RATE_PER_IP`), per user token or
   * session (`PARLEY_HTTP_RATE_PER_USER`) and per app's server token
   * (`PARLEY_HTTP_RATE_PER_SERVER`); 0 turns one off. Fixed windows, in Redis when it is set.
   */
  httpLimits: { ip: number; user: number; server: number; windowMs: number };
  rateWindowMs: number;
  /** Rate limits of every other action (platform/limits.ts). */
  limits: Record<LimitName, Budget>;
  /** Most events a resync replays before it answers `reload`. */
  maxReplay: number;
  logLevel: string;
  /** A name for this node in logs and metrics. */
  nodeId: string;
  /** Traces over OTLP/HTTP (platform/tracing.ts); null: off (the default). */
  tracing: TracingConfig | null;
  /** The built web app (served at `/` when it holds an index.html); unset = none. */
  webDir?: string | undefined;
  /** The built documentation site (served at `/docs/` when it holds an index.html); unset = none. */
  docsDir?: string | undefined;
  /**
   * Which proxies' `X-Forwarded-For`/`-Proto`/`-Host` are believed (Fastify's `trustProxy`):
   * `false` (none, the default), a number of hops, or addresses and CIDRs of the proxies.
   */
  trustProxy: TrustProxy;
  /** Origins besides the server's own that may make cookie-authenticated writes. */
  allowedOrigins: string[];
  /**
   * Sockets that may be opening at once (upgrade to hello); more are closed with OVERLOADED
   * (4006) and a retry hint (docs/protocol/socket.md, admission control).
   */
  /**
   * The kernel's queue of connections not yet accepted (`listen`'s backlog; the kernel caps it at
   * net.core.somaxconn). Node's default, 511, overflows when thousands of clients reconnect at
   * once after a restart: the rest see resets and TCP timeouts before Parley ever sees them.
   */
  listenBacklog: number;
  /**
   * On SIGTERM, how long the node keeps serving while its `/readyz` already fails, before it
   * stops taking connections (`PARLEY_DRAIN_DELAY_MS`): the time a balancer that polls readiness
   * (Kubernetes' endpoints) needs to stop sending it new ones. 0 behind a proxy that retries a
   * refused connection on the next node (nginx).
   */
  drainDelayMs: number;
  maxOpeningSockets: number;
  /** Whether this node runs background jobs (`PARLEY_JOB_WORKERS=0`: it only enqueues them). */
  jobWorkers: boolean;
  /**
   * Where this node runs its background jobs (`PARLEY_BACKGROUND`): `inline` on the event loop
   * that serves clients, or `thread` on a worker thread of the same process with its own
   * database connections (background.ts), so that a send never waits behind a job, a push or a
   * webhook delivery. `auto` (the default): `thread` on PostgreSQL, `inline` on the embedded
   * database, which only one thread can open (`thread` there runs inline too).
   */
  background: 'auto' | 'inline' | 'thread';
  /**
   * How much lower the background thread's CPU priority is than the main thread's, as a nice
   * increment (0–19; `PARLEY_BACKGROUND_NICE`, default 0). Raised, the sends get a contended
   * core first and their tail shortens, but under saturation the jobs and webhook deliveries
   * fall behind (docs/benchmarks.md). Linux only (elsewhere a thread's priority is the process's).
   */
  backgroundNice: number;
  /** How often an idle job worker asks for work, in ms. */
  jobPollMs: number;
  /** How long a graceful shutdown lets running jobs finish before handing them back, in ms. */
  jobStopTimeoutMs: number;
  /** Job maintenance interval (expiry of runs of dead nodes), in seconds. */
  jobMaintenanceSeconds: number;
  /** Largest upload, in bytes. */
  uploadMaxBytes: number;
  /**
   * An upload that sends no byte for this long is ended (400) and its bytes removed; also how
   * young a temporary upload must be to survive the sweep's lower bound.
   */
  uploadIdleMs: number;
  /** Bytes of stored files one user may have (0 = no limit). */
  userQuotaBytes: number;
  /** Bytes of stored files one app may have (0 = no limit). */
  appQuotaBytes: number;
  /** An upload no message claims is removed after this many seconds. */
  unattachedTtlSeconds: number;
  /** How long a signed file URL works, in seconds. */
  fileUrlTtlSeconds: number;
  /** Whether messages' links get previews (`PARLEY_LINK_PREVIEWS=0` turns them off). */
  linkPreviews: boolean;
  /**
   * `host:port` entries the preview fetcher may reach even though they are private addresses
   * (loopback test servers). Empty — off — by default, and deliberately not read from the
   * environment: only code that builds the server (tests) sets it.
   */
  previewAllowHosts: string[];
  /** How long a link's card is cached, in seconds. */
  previewTtlSeconds: number;
  /** How long a failed or empty unfurl is remembered before the link is tried again, in seconds. */
  previewFailureTtlSeconds: number;
  /** Time allowed for one link's page (and, separately, for its image), in ms. */
  previewTimeoutMs: number;
  /**
   * Links not in the cache that one user's messages may have fetched per minute (0 = no limit);
   * past it a link gets no card. Bounds how much fetching one account can make the server do.
   */
  previewFetchesPerMinute: number;
  /** Whether sent messages are handed to the notification jobs (`PARLEY_NOTIFICATIONS=0`: no push, no digest). */
  notifications: boolean;
  /** Whether the activity inbox records items (features/inbox; `PARLEY_INBOX=0`: none are recorded). */
  inbox: boolean;
  /** Most items one user's inbox keeps; the oldest go first (`PARLEY_INBOX_MAX_ITEMS`). */
  inboxMaxItems: number;
  /** Inbox items older than this many days are deleted (`PARLEY_INBOX_RETENTION_DAYS`). */
  inboxRetentionDays: number;
  /**
   * How long changes of unread counts gather before one batch reads and pushes them
   * (`unread.updated`, features/reads/push.ts; `PARLEY_UNREAD_PUSH_MS`); 0: no pushes.
   */
  unreadPushMs: number;
  /**
   * Milliseconds a message's changes of its members' counts gather before they are read and
   * pushed (`PARLEY_UNREAD_PUSH_MESSAGES_MS`); such a push waits up to four times as long for the
   * member's next frame to leave with (realtime/connection.ts `sendLazy`). Never less than
   * `unreadPushMs`.
   */
  unreadPushMessagesMs: number;
  /**
   * Notifications (features/notifications): push to a user active on a device only after this
   * many seconds, if the message is still unread (`PARLEY_PUSH_GRACE_SECONDS`).
   */
  pushGraceSeconds: number;
  /** One push per thread burst: the same collapse key again within this many seconds is not pushed. */
  pushBurstSeconds: number;
  /**
   * A push that failed transiently (5xx, 429, timeout) is tried again after this many seconds,
   * then with the job queue's backoff doubling it (`PARLEY_PUSH_RETRY_SECONDS`).
   */
  pushRetryDelaySeconds: number;
  /** Mentions and DMs unread for this many minutes go out in an email digest (`PARLEY_DIGEST_AFTER_MINUTES`). */
  digestAfterMinutes: number;
  /**
   * A PEM CA that Web Push deliveries also trust (a test's local push service). Like
   * `previewAllowHosts`, deliberately not read from the environment: only code sets it.
   */
  webPushCa?: string | undefined;
  /**
   * `host:port` entries a Web Push endpoint may be at although they are private addresses (a
   * test's push service on loopback). Empty by default and, like `previewAllowHosts`, only
   * set by code: anywhere else the server refuses to push to private addresses.
   */
  webPushAllowHosts: string[];
  /** Web Push's VAPID subject (`PARLEY_VAPID_SUBJECT`, a mailto: or https: URL); default from the public URL. */
  vapidSubject?: string | undefined;
  /**
   * How often the search index's pending list is merged into its trees, in ms (0 = only by
   * autovacuum or when it fills); see features/search/index-flush.ts.
   */
  searchFlushMs: number;
  /**
   * Minutes between the vacuum-and-analyze passes Parley runs where no autovacuum does: PGlite,
   * or PostgreSQL with `autovacuum` off (`PARLEY_VACUUM_MINUTES`, default 15; 0 = never); see
   * platform/db/maintenance.ts.
   */
  vacuumMinutes: number;
  /** Days the audit log keeps an entry (`PARLEY_AUDIT_RETENTION_DAYS`, default 365; 0 = forever). */
  auditRetentionDays: number;
  /** How often each node samples its open connections for usage analytics (`PARLEY_USAGE_SAMPLE_SECONDS`, default 60). */
  usageSampleSeconds: number;
  /** How long a data export stays downloadable (`PARLEY_EXPORT_TTL_HOURS`, default 72). */
  exportTtlHours: number;
  /** An S3-compatible store (`PARLEY_S3_URL` or `PARLEY_S3_*`); unset = a folder in `dataDir`. */
  s3?: S3Options | undefined;
  /** SMTP server for account mail (`smtp://user:pass@host:587`, `smtps://…`); unset = mail is only logged. */
  smtpUrl?: string | undefined;
  /** The From of account mail. */
  mailFrom: string;
  /** Without SMTP, whether the log gets a mail's text (links included) or only its headers (production). */
  mailLogBodies: boolean;
  /**
   * First wait before a mail the SMTP server did not take is tried again, in seconds; each
   * later wait doubles (10 tries in all, platform/mail-queue.ts).
   */
  mailRetrySeconds: number;
  /** The address people open the web app at, for links in mail (`https://chat.example.com`); unset = http://host:port. */
  publicUrl?: string | undefined;
  /** Whether a new account must verify its email before it can sign in. */
  requireEmailVerification: boolean;
  /** Sign-in protection; see features/accounts/signin-guard.ts. */
  signin: SigninLimits;
  /** A web app session ends after this many days without a request (`PARLEY_SESSION_IDLE_DAYS`). */
  sessionIdleDays: number;
  /** Sign-in with an OpenID Connect provider (`PARLEY_OIDC_*`); unset = off. See features/accounts/oidc.ts. */
  oidc?: OidcConfig | undefined;
  /**
   * `host:port` entries webhook and before-send deliveries may reach although they are private
   * addresses (loopback test receivers). Empty by default and, like `previewAllowHosts`, only set
   * by code that builds the server.
   */
  webhookAllowHosts: string[];
  /**
   * Private targets each kind of outbound call may reach (`PARLEY_OUTBOUND_ALLOW`,
   * `PARLEY_OUTBOUND_ALLOW_<KIND>`; platform/outbound.ts). Empty by default: public addresses on
   * ports 80 and 443 only.
   */
  outboundAllow: OutboundAllow;
  /** Time allowed for one webhook delivery (`PARLEY_WEBHOOK_TIMEOUT_MS`), in ms. */
  webhookTimeoutMs: number;
  /** How long an app has to answer a slash command or a button click (features/commands), ms. */
  commandTimeoutMs: number;
  /** First retry delay of a failed delivery, in ms; each next one doubles (capped at an hour), jittered. */
  webhookRetryBaseMs: number;
  /** A delivery still failing this long after its event (default a day) fails for good and disables its endpoint. */
  webhookMaxAgeMs: number;
  /**
   * How long a node's hold on a webhook lane lasts without renewal (`PARLEY_WEBHOOK_LEASE_SECONDS`,
   * default 20; renewed every quarter of it): after a node dies, its lanes go to another node
   * at the next sweep after this.
   */
  webhookLeaseSeconds: number;
  /** How often a node looks for webhook lanes with due deliveries and no sender (`PARLEY_WEBHOOK_SWEEP_SECONDS`, default 15). */
  webhookSweepSeconds: number;
  /**
   * How long an inactive webhook endpoint's deliveries are kept for it (`PARLEY_WEBHOOK_RETENTION_DAYS`,
   * default 7, at least 1): older ones are dropped and counted on the endpoint (`dropped`).
   */
  webhookRetentionDays: number;
  /** Calls: ringing, the mesh limit and the ICE servers handed to clients (docs/calls.md). */
  calls: CallsConfig;
  /** Spaces, the virtual office (features/spaces). */
  spaces: SpacesConfig;
  /**
   * Read-by (who read a message, and when: `GET /v1/messages/{id}/read-by`) is answered in
   * channels of at most this many members (`PARLEY_READ_BY_MAX_MEMBERS`, default 20); above
   * it, a channel is a crowd and its read-by is off (`READ_BY_OFF`). 0 turns it off everywhere.
   */
  readByMaxMembers: number;
}

/** Spaces: how long teleports and knocks wait, and how quiet a room is about comings and goings. */
export interface SpacesConfig {
  /**
   * No second "entered" (or "left") system message for the same user in the same room within
   * this many ms (`PARLEY_SPACE_QUIET_SECONDS`, default 60): someone walking back and forth
   * does not flood the room. The move itself always happens and is always announced live.
   */
  quietMs: number;
  /** How long a teleport or a knock waits for an answer, in ms (`PARLEY_SPACE_INVITE_SECONDS`, default 30). */
  inviteTimeoutMs: number;
  /**
   * How long someone gone offline (every connection, on every node) keeps their place, in ms
   * (`PARLEY_SPACE_AWAY_SECONDS`, default 300): back within it, they are still there; after
   * it, they are taken out and no longer count against the space's capacity.
   */
  awayMs: number;
  /**
   * How often, in ms, a sweep looks for occupants offline everywhere whom no node saw go (their
   * node died, or the process stopped): default `awayMs / 2`, at least 1 s and at most a minute;
   * 0 turns it off. Each is then taken out after `awayMs` as if seen going (features/spaces/away.ts).
   */
  sweepMs?: number;
  /**
   * A space's room chat is archived after this many days idle (`PARLEY_OFFICE_ROOM_IDLE_DAYS`,
   * default 30): nobody in the space, no live call in the room, and nothing said there nor
   * anyone there since. Entering the space again unarchives it. 0 (or unset here): never.
   */
  roomIdleDays?: number;
}

/** Calls: how long an invitation rings, the mesh limit, and STUN/TURN. */
export interface CallsConfig {
  /** How long a call rings before it is missed, in ms (`PARLEY_CALL_RING_SECONDS`, default 45; 30–60 is usual). */
  ringTimeoutMs: number;
  /** Most participants of one peer-to-peer (mesh) call (`PARLEY_CALL_MAX_PARTICIPANTS`, default 4). */
  maxParticipants: number;
  /** How long a participant whose socket dropped stays in the call, to come back on a new one, in ms. */
  rejoinGraceMs: number;
  /**
   * How long a participant whom no node saw go (the node holding their connection died) stays
   * in the call once they are offline everywhere, in ms (`PARLEY_CALL_GHOST_SECONDS`, default
   * 60); then they leave it as if they had hung up (features/calls/ghosts.ts).
   */
  ghostMs: number;
  /**
   * How often, in ms, a sweep looks for such participants: default `ghostMs / 2`, at least 1 s
   * and at most a minute; 0 turns it off.
   */
  sweepMs?: number;
  /** STUN URLs (`PARLEY_STUN_URLS`, comma-separated). */
  stunUrls: string[];
  /** TURN URLs (`PARLEY_TURN_URLS`); without `turnSecret` they are not handed out. */
  turnUrls: string[];
  /** The shared secret of the TURN REST API (coturn `static-auth-secret`; `PARLEY_TURN_SECRET`). */
  turnSecret?: string | undefined;
  /** How long a TURN credential works, in seconds (`PARLEY_TURN_TTL_SECONDS`, default 86400). */
  turnTtlSeconds: number;
  /** Calls one user may start or ring people into per minute (`0` = no limit): ring spam stops there. */
  ringsPerMinute: number;
  /** Signals (SDP, ICE candidates) one user may relay per 10 s (`0` = no limit). */
  signalsPer10s: number;
}

/** An OpenID Connect provider people may sign in with. */
export interface OidcConfig {
  /** The issuer URL (`PARLEY_OIDC_ISSUER`); its discovery document is at `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The provider's name on the sign-in button (`PARLEY_OIDC_NAME`, default the issuer's host). */
  name: string;
  /** Whether a new email makes a new account (`PARLEY_OIDC_SIGNUP=0`: only existing accounts may sign in). */
  signup: boolean;
  /** Time allowed for each request to the provider, in ms. */
  timeoutMs: number;
}

/** Actions with a rate limit of their own (platform/limits.ts). */
export const LIMIT_NAMES = [
  'reactions',
  'typing',
  'channels',
  'uploads',
  'searches',
  'connections',
  'flags',
  'commands',
  'views',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
/** One action's budgets per window: per user, per IP, per app (0: no limit of that kind). */
export interface Budget {
  user: number;
  ip: number;
  app: number;
  windowMs: number;
}

/**
 * Per-IP budgets are off (0) where many honest users share an address (NAT, a load balancer
 * without PARLEY_TRUST_PROXY, a load test): reactions, typing, connections. Turn them on with
 * PARLEY_LIMITS where the server sees client addresses.
 */
export const DEFAULT_LIMITS: Record<LimitName, Budget> = {
  reactions: { user: 120, ip: 0, app: 0, windowMs: 60_000 },
  typing: { user: 120, ip: 0, app: 0, windowMs: 60_000 },
  channels: { user: 30, ip: 300, app: 0, windowMs: 60_000 },
  uploads: { user: 60, ip: 600, app: 0, windowMs: 60_000 },
  searches: { user: 60, ip: 1200, app: 0, windowMs: 60_000 },
  connections: { user: 120, ip: 0, app: 0, windowMs: 60_000 },
  flags: { user: 30, ip: 0, app: 0, windowMs: 60_000 },
  /** Slash commands run (features/commands): each may call an app or a GIF provider. */
  commands: { user: 30, ip: 0, app: 0, windowMs: 60_000 },
  /** `channel.view` (features/presence/viewers.ts): each is an access read and a fan-out. */
  views: { user: 240, ip: 0, app: 0, windowMs: 60_000 },
};

/** Every limit off: for tests that are not about limits (each sets the one it tests). */
export const NO_LIMITS: Record<LimitName, Budget> = Object.fromEntries(
  LIMIT_NAMES.map((n) => [n, { user: 0, ip: 0, app: 0, windowMs: 60_000 }]),
) as Record<LimitName, Budget>;

/** The default REST limits off (benchmarks and tests that drive one server from one address). */
export const NO_HTTP_LIMITS: Config['httpLimits'] = { ip: 0, user: 0, server: 0, windowMs: 60_000 };

/** `PARLEY_LIMITS` (JSON, partial: `{"reactions":{"user":30}}`) over the defaults. */
export function parseLimits(
  v: string | undefined,
  base: Record<LimitName, Budget> = DEFAULT_LIMITS,
): Record<LimitName, Budget> {
  const out = structuredClone(base);
  if (!v) return out;
  const parsed = JSON.parse(v) as Record<string, Partial<Budget>>;
  for (const [name, b] of Object.entries(parsed)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(name)) throw new Error(`PARLEY_LIMITS: unknown limit "${name}"`);
    for (const [k, n] of Object.entries(b))
      if (!['user', 'ip', 'app', 'windowMs'].includes(k) || !Number.isInteger(n) || (n as number) < 0)
        throw new Error(`PARLEY_LIMITS: ${name}.${k} must be a whole number`);
    Object.assign(out[name as LimitName], b);
  }
  return out;
}

/** Limits on sign-in and on the account routes that send mail. */
export interface SigninLimits {
  /** Sign-in attempts one IP address may make per `windowMs`. */
  perIp: number;
  /** Sign-in attempts on one email (any IP) per `windowMs`. */
  perAccount: number;
  windowMs: number;
  /** Consecutive failures that lock an account; every further run of as many locks it again. */
  lockAfter: number;
  /** The first lock's length, in ms; each next lock doubles it, up to `lockMaxMs`. */
  lockBaseMs: number;
  lockMaxMs: number;
  /** Mails (reset, verification, change of email) one IP or one address may ask for per `mailWindowMs`. */
  mailPerWindow: number;
  mailWindowMs: number;
  /**
   * Sign-ups one IP may make per `signupWindowMs` (`PARLEY_SIGNUP_PER_IP`), and tries to sign up
   * one address (taken or not, so the limit tells nothing) may see in the same window.
   */
  signupPerIp: number;
  signupPerAddress: number;
  signupWindowMs: number;
}

export type TrustProxy = false | number | string[];

/**
 * The web app's build: apps/web's in this repository, else the copy the published package
 * carries (scripts/pack-all.mjs puts it in the package's `web/`).
 */
const REPO_WEB_DIR = builtSite(ownDir('../../apps/web/dist'), ownDir('web'));
/** The docs site's build (docs/.vitepress/config.mjs): the repository's, else the package's `docs-site/`. */
const REPO_DOCS_DIR = builtSite(ownDir('../../docs/.vitepress/dist'), ownDir('docs-site'));

/** `rel` from this package's folder (src/platform/ and dist/platform/ are both two below it). */
function ownDir(rel: string): string | undefined {
  try {
    // From a string, not `new URL(…)`: browser-like test environments replace the global URL.
    return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..', rel);
  } catch {
    return undefined; // not loaded from a file
  }
}

/** The first of `dirs` that holds a built site (an index.html); else the first, for messages. */
function builtSite(...dirs: (string | undefined)[]): string | undefined {
  return dirs.find((d) => d && existsSync(path.join(d, 'index.html'))) ?? dirs[0];
}

/** Defaults, overridden by the environment or by tests. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 3000,
    host: '127.0.0.1',
    dataDir: path.resolve('.parley'),
    bodyLimit: 1024 * 1024,
    maxFrameBytes: 64 * 1024,
    maxQueuedBytes: 4 * 1024 * 1024,
    heartbeatMs: 25_000,
    authTimeoutMs: 10_000,
    typingTtlMs: 6_000,
    presenceGraceMs: 5_000,
    presenceTtlMs: 45_000,
    awayAfterMs: 10 * 60_000,
    busyCheckMs: 30_000,
    maxReplay: 2_000,
    rateMessages: 120,
    httpLimits: { ip: 6000, user: 1200, server: 12_000, windowMs: 60_000 },
    rateWindowMs: 10_000,
    rateBlockSeconds: 60,
    limits: structuredClone(DEFAULT_LIMITS),
    logLevel: 'info',
    nodeId: `node-${process.pid}`,
    tracing: null,
    webDir: REPO_WEB_DIR,
    docsDir: REPO_DOCS_DIR,
    trustProxy: false,
    allowedOrigins: [],
    maxOpeningSockets: 1024,
    listenBacklog: 4096,
    drainDelayMs: 0,
    jobWorkers: true,
    background: 'auto',
    backgroundNice: 0,
    jobPollMs: 1_000,
    jobStopTimeoutMs: 10_000,
    jobMaintenanceSeconds: 30,
    uploadMaxBytes: 100 * 1024 * 1024,
    uploadIdleMs: 30_000,
    userQuotaBytes: 10 * 1024 * 1024 * 1024,
    appQuotaBytes: 0,
    unattachedTtlSeconds: 24 * 3600,
    linkPreviews: true,
    previewAllowHosts: [],
    previewTtlSeconds: 24 * 3600,
    previewFailureTtlSeconds: 10 * 60,
    previewTimeoutMs: 8_000,
    previewFetchesPerMinute: 30,
    notifications: true,
    inbox: true,
    inboxMaxItems: 1000,
    inboxRetentionDays: 90,
    unreadPushMs: 25,
    unreadPushMessagesMs: 250,
    webPushAllowHosts: [],
    pushGraceSeconds: 30,
    pushBurstSeconds: 120,
    pushRetryDelaySeconds: 10,
    digestAfterMinutes: 60,
    searchFlushMs: 1000,
    vacuumMinutes: 15,
    auditRetentionDays: 365,
    usageSampleSeconds: 60,
    exportTtlHours: 72,
    fileUrlTtlSeconds: 3600,
    mailFrom: 'Parley <parley@localhost>',
    mailLogBodies: true,
    mailRetrySeconds: 5,
    requireEmailVerification: false,
    sessionIdleDays: 14,
    calls: {
      ringTimeoutMs: 45_000,
      maxParticipants: 4,
      rejoinGraceMs: 15_000,
      ghostMs: 60_000,
      stunUrls: [],
      turnUrls: [],
      turnTtlSeconds: 86_400,
      ringsPerMinute: 30,
      signalsPer10s: 2_000,
    },
    spaces: { quietMs: 60_000, inviteTimeoutMs: 30_000, awayMs: 300_000, roomIdleDays: 30 },
    readByMaxMembers: 20,
    webhookAllowHosts: [],
    outboundAllow: NO_OUTBOUND_ALLOW,
    webhookTimeoutMs: 10_000,
    commandTimeoutMs: 3_000,
    webhookRetryBaseMs: 10_000,
    webhookMaxAgeMs: 24 * 3600_000,
    webhookLeaseSeconds: 20,
    webhookSweepSeconds: 15,
    webhookRetentionDays: 7,
    signin: {
      perIp: 30,
      perAccount: 10,
      windowMs: 60_000,
      lockAfter: 5,
      lockBaseMs: 60_000,
      lockMaxMs: 3600_000,
      mailPerWindow: 5,
      mailWindowMs: 15 * 60_000,
      signupPerIp: 20,
      signupPerAddress: 5,
      signupWindowMs: 3600_000,
    },
    ...overrides,
  };
}

function int(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${v}"`);
  if (n < min) throw new Error(`${name} must be at least ${min}, got "${v}"`);
  return n;
}

/** Read the configuration from environment variables (documented in docs/settings.md, made from config-settings.ts). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const d = defaultConfig();
  const pick = <T>(v: T | undefined, fallback: T) => (v === undefined ? fallback : v);
  return {
    ...d,
    port: pick(int(env.PORT, 'PORT'), d.port),
    host: env.HOST || d.host,
    dataDir: path.resolve(env.PARLEY_DATA_DIR || d.dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    adminToken: env.PARLEY_ADMIN_TOKEN || undefined,
    masterKey: env.PARLEY_MASTER_KEY || undefined,
    bodyLimit: pick(int(env.PARLEY_BODY_LIMIT, 'PARLEY_BODY_LIMIT'), d.bodyLimit),
    logLevel: env.LOG_LEVEL || d.logLevel,
    rateMessages: pick(int(env.PARLEY_RATE_MESSAGES, 'PARLEY_RATE_MESSAGES'), d.rateMessages),
    rateBlockSeconds: pick(
      int(env.PARLEY_RATE_MESSAGES_BLOCK_SECONDS, 'PARLEY_RATE_MESSAGES_BLOCK_SECONDS'),
      d.rateBlockSeconds,
    ),
    httpLimits: {
      ip: pick(int(env.PARLEY_HTTP_RATE_PER_IP, 'PARLEY_HTTP_RATE_PER_IP'), d.httpLimits.ip),
      user: pick(int(env.PARLEY_HTTP_RATE_PER_USER, 'PARLEY_HTTP_RATE_PER_USER'), d.httpLimits.user),
      server: pick(int(env.PARLEY_HTTP_RATE_PER_SERVER, 'PARLEY_HTTP_RATE_PER_SERVER'), d.httpLimits.server),
      windowMs: d.httpLimits.windowMs,
    },
    limits: parseLimits(env.PARLEY_LIMITS),
    nodeId: env.PARLEY_NODE_ID || d.nodeId,
    tracing: tracingFromEnv(env),
    webDir: env.PARLEY_WEB_DIR ? path.resolve(env.PARLEY_WEB_DIR) : d.webDir,
    docsDir: env.PARLEY_DOCS_DIR ? path.resolve(env.PARLEY_DOCS_DIR) : d.docsDir,
    trustProxy: parseTrustProxy(env.PARLEY_TRUST_PROXY),
    allowedOrigins: parseOrigins(env.PARLEY_ALLOWED_ORIGINS),
    maxOpeningSockets: pick(int(env.PARLEY_MAX_OPENING_SOCKETS, 'PARLEY_MAX_OPENING_SOCKETS'), d.maxOpeningSockets),
    listenBacklog: pick(int(env.PARLEY_LISTEN_BACKLOG, 'PARLEY_LISTEN_BACKLOG', 1), d.listenBacklog),
    drainDelayMs: pick(int(env.PARLEY_DRAIN_DELAY_MS, 'PARLEY_DRAIN_DELAY_MS'), d.drainDelayMs),
    jobWorkers: env.PARLEY_JOB_WORKERS !== '0',
    background: parseBackground(env.PARLEY_BACKGROUND) ?? d.background,
    backgroundNice: pick(niceness(env.PARLEY_BACKGROUND_NICE), d.backgroundNice),
    jobPollMs: pick(int(env.PARLEY_JOB_POLL_MS, 'PARLEY_JOB_POLL_MS'), d.jobPollMs),
    jobStopTimeoutMs: pick(int(env.PARLEY_JOB_STOP_TIMEOUT_MS, 'PARLEY_JOB_STOP_TIMEOUT_MS'), d.jobStopTimeoutMs),
    jobMaintenanceSeconds: pick(
      int(env.PARLEY_JOB_MAINTENANCE_SECONDS, 'PARLEY_JOB_MAINTENANCE_SECONDS'),
      d.jobMaintenanceSeconds,
    ),
    uploadMaxBytes: pick(int(env.PARLEY_UPLOAD_MAX_BYTES, 'PARLEY_UPLOAD_MAX_BYTES'), d.uploadMaxBytes),
    outboundAllow: outboundAllowFromEnv(env),
    uploadIdleMs: (() => {
      const s = int(env.PARLEY_UPLOAD_IDLE_SECONDS, 'PARLEY_UPLOAD_IDLE_SECONDS');
      if (s === 0) throw new Error('PARLEY_UPLOAD_IDLE_SECONDS must be at least 1');
      return s === undefined ? d.uploadIdleMs : s * 1000;
    })(),
    userQuotaBytes: pick(int(env.PARLEY_USER_QUOTA_BYTES, 'PARLEY_USER_QUOTA_BYTES'), d.userQuotaBytes),
    appQuotaBytes: pick(int(env.PARLEY_APP_QUOTA_BYTES, 'PARLEY_APP_QUOTA_BYTES'), d.appQuotaBytes),
    unattachedTtlSeconds: pick(
      int(env.PARLEY_UNATTACHED_TTL_SECONDS, 'PARLEY_UNATTACHED_TTL_SECONDS'),
      d.unattachedTtlSeconds,
    ),
    fileUrlTtlSeconds: pick(int(env.PARLEY_FILE_URL_TTL_SECONDS, 'PARLEY_FILE_URL_TTL_SECONDS'), d.fileUrlTtlSeconds),
    s3: s3FromEnv(env),
    linkPreviews: env.PARLEY_LINK_PREVIEWS !== '0',
    webhookTimeoutMs: pick(int(env.PARLEY_WEBHOOK_TIMEOUT_MS, 'PARLEY_WEBHOOK_TIMEOUT_MS'), d.webhookTimeoutMs),
    commandTimeoutMs: pick(int(env.PARLEY_COMMAND_TIMEOUT_MS, 'PARLEY_COMMAND_TIMEOUT_MS'), d.commandTimeoutMs),
    webhookLeaseSeconds: pick(
      int(env.PARLEY_WEBHOOK_LEASE_SECONDS, 'PARLEY_WEBHOOK_LEASE_SECONDS', 4),
      d.webhookLeaseSeconds,
    ),
    webhookSweepSeconds: pick(
      int(env.PARLEY_WEBHOOK_SWEEP_SECONDS, 'PARLEY_WEBHOOK_SWEEP_SECONDS', 1),
      d.webhookSweepSeconds,
    ),
    webhookRetentionDays: pick(
      int(env.PARLEY_WEBHOOK_RETENTION_DAYS, 'PARLEY_WEBHOOK_RETENTION_DAYS', 1),
      d.webhookRetentionDays,
    ),
    previewTtlSeconds: pick(int(env.PARLEY_PREVIEW_TTL_SECONDS, 'PARLEY_PREVIEW_TTL_SECONDS'), d.previewTtlSeconds),
    previewFetchesPerMinute: pick(
      int(env.PARLEY_PREVIEW_FETCHES_PER_MINUTE, 'PARLEY_PREVIEW_FETCHES_PER_MINUTE'),
      d.previewFetchesPerMinute,
    ),
    notifications: env.PARLEY_NOTIFICATIONS !== '0',
    inbox: env.PARLEY_INBOX !== '0',
    inboxMaxItems: pick(int(env.PARLEY_INBOX_MAX_ITEMS, 'PARLEY_INBOX_MAX_ITEMS'), d.inboxMaxItems),
    inboxRetentionDays: pick(int(env.PARLEY_INBOX_RETENTION_DAYS, 'PARLEY_INBOX_RETENTION_DAYS'), d.inboxRetentionDays),
    unreadPushMs: pick(int(env.PARLEY_UNREAD_PUSH_MS, 'PARLEY_UNREAD_PUSH_MS'), d.unreadPushMs),
    unreadPushMessagesMs: pick(
      int(env.PARLEY_UNREAD_PUSH_MESSAGES_MS, 'PARLEY_UNREAD_PUSH_MESSAGES_MS'),
      d.unreadPushMessagesMs,
    ),
    pushGraceSeconds: pick(int(env.PARLEY_PUSH_GRACE_SECONDS, 'PARLEY_PUSH_GRACE_SECONDS'), d.pushGraceSeconds),
    pushBurstSeconds: pick(int(env.PARLEY_PUSH_BURST_SECONDS, 'PARLEY_PUSH_BURST_SECONDS'), d.pushBurstSeconds),
    pushRetryDelaySeconds: pick(
      int(env.PARLEY_PUSH_RETRY_SECONDS, 'PARLEY_PUSH_RETRY_SECONDS'),
      d.pushRetryDelaySeconds,
    ),
    digestAfterMinutes: pick(int(env.PARLEY_DIGEST_AFTER_MINUTES, 'PARLEY_DIGEST_AFTER_MINUTES'), d.digestAfterMinutes),
    vapidSubject: env.PARLEY_VAPID_SUBJECT || undefined,
    searchFlushMs: pick(int(env.PARLEY_SEARCH_FLUSH_MS, 'PARLEY_SEARCH_FLUSH_MS'), d.searchFlushMs),
    vacuumMinutes: pick(int(env.PARLEY_VACUUM_MINUTES, 'PARLEY_VACUUM_MINUTES'), d.vacuumMinutes),
    auditRetentionDays: pick(int(env.PARLEY_AUDIT_RETENTION_DAYS, 'PARLEY_AUDIT_RETENTION_DAYS'), d.auditRetentionDays),
    usageSampleSeconds: Math.max(
      1,
      pick(int(env.PARLEY_USAGE_SAMPLE_SECONDS, 'PARLEY_USAGE_SAMPLE_SECONDS'), d.usageSampleSeconds),
    ),
    exportTtlHours: Math.max(1, pick(int(env.PARLEY_EXPORT_TTL_HOURS, 'PARLEY_EXPORT_TTL_HOURS'), d.exportTtlHours)),
    smtpUrl: env.PARLEY_SMTP_URL || undefined,
    mailFrom: env.PARLEY_MAIL_FROM || d.mailFrom,
    mailLogBodies: env.NODE_ENV !== 'production',
    publicUrl: parsePublicUrl(env.PARLEY_PUBLIC_URL),
    calls: callsFromEnv(env, d.calls),
    readByMaxMembers: Math.max(
      0,
      pick(int(env.PARLEY_READ_BY_MAX_MEMBERS, 'PARLEY_READ_BY_MAX_MEMBERS'), d.readByMaxMembers),
    ),
    spaces: {
      quietMs: pick(int(env.PARLEY_SPACE_QUIET_SECONDS, 'PARLEY_SPACE_QUIET_SECONDS'), d.spaces.quietMs / 1000) * 1000,
      inviteTimeoutMs:
        Math.max(
          1,
          pick(int(env.PARLEY_SPACE_INVITE_SECONDS, 'PARLEY_SPACE_INVITE_SECONDS'), d.spaces.inviteTimeoutMs / 1000),
        ) * 1000,
      awayMs:
        Math.max(1, pick(int(env.PARLEY_SPACE_AWAY_SECONDS, 'PARLEY_SPACE_AWAY_SECONDS'), d.spaces.awayMs / 1000)) *
        1000,
      roomIdleDays: Math.max(
        0,
        pick(int(env.PARLEY_OFFICE_ROOM_IDLE_DAYS, 'PARLEY_OFFICE_ROOM_IDLE_DAYS'), d.spaces.roomIdleDays ?? 0),
      ),
    },
    oidc: parseOidc(env),
    requireEmailVerification: flag(env.PARLEY_REQUIRE_EMAIL_VERIFICATION, 'PARLEY_REQUIRE_EMAIL_VERIFICATION'),
    sessionIdleDays: Math.max(
      1,
      pick(int(env.PARLEY_SESSION_IDLE_DAYS, 'PARLEY_SESSION_IDLE_DAYS'), d.sessionIdleDays),
    ),
    signin: {
      ...d.signin,
      perIp: pick(int(env.PARLEY_SIGNIN_PER_IP, 'PARLEY_SIGNIN_PER_IP'), d.signin.perIp),
      lockAfter: pick(int(env.PARLEY_LOCK_AFTER, 'PARLEY_LOCK_AFTER'), d.signin.lockAfter),
      signupPerIp: pick(int(env.PARLEY_SIGNUP_PER_IP, 'PARLEY_SIGNUP_PER_IP'), d.signin.signupPerIp),
    },
    ...overrides,
  };
}

/**
 * The S3 store: `PARLEY_S3_URL` (see storage/store.ts, `parseS3Url`), or `PARLEY_S3_BUCKET`
 * with `PARLEY_S3_ENDPOINT`, `PARLEY_S3_REGION`, `PARLEY_S3_ACCESS_KEY_ID`,
 * `PARLEY_S3_SECRET_ACCESS_KEY`, `PARLEY_S3_FORCE_PATH_STYLE` (1/0) and `PARLEY_S3_PREFIX`.
 * Without a key pair the AWS SDK's usual chain (environment, profile, instance role) is used.
 */
export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP JSON), e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** `service.name` of the resource (`OTEL_SERVICE_NAME`, default `parley`). */
  serviceName: string;
}

/** Tracing settings from the environment (OpenTelemetry's own variables); null: off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv): TracingConfig | null {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return null;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!url) return null;
  if (!/^https?:\/\//.test(url)) throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL');
  return { url, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'parley' };
}

export function s3FromEnv(env: NodeJS.ProcessEnv): S3Options | undefined {
  if (env.PARLEY_S3_URL) return parseS3Url(env.PARLEY_S3_URL);
  if (!env.PARLEY_S3_BUCKET) return undefined;
  const prefix = env.PARLEY_S3_PREFIX?.replace(/^\/+|\/+$/g, '') ?? '';
  return {
    bucket: env.PARLEY_S3_BUCKET,
    region: env.PARLEY_S3_REGION || 'us-east-1',
    endpoint: env.PARLEY_S3_ENDPOINT || undefined,
    accessKeyId: env.PARLEY_S3_ACCESS_KEY_ID || undefined,
    secretAccessKey: env.PARLEY_S3_SECRET_ACCESS_KEY || undefined,
    forcePathStyle:
      env.PARLEY_S3_FORCE_PATH_STYLE === '1' || (!!env.PARLEY_S3_ENDPOINT && env.PARLEY_S3_FORCE_PATH_STYLE !== '0'),
    prefix: prefix ? `${prefix}/` : '',
  };
}

/**
 * `PARLEY_TRUST_PROXY`: unset, `off` or `0` — believe no forwarded header; a whole number —
 * that many proxies in front (the client is that many hops back in `X-Forwarded-For`); else a
 * comma-separated list of the proxies' addresses or CIDRs (`10.0.0.0/8`, `::1`, and the names
 * `loopback`, `linklocal`, `uniquelocal`), checked when the server starts.
 */
export function parseTrustProxy(v: string | undefined): TrustProxy {
  const s = v?.trim() ?? '';
  if (s === '' || s === 'off' || s === 'false' || s === '0') return false;
  if (/^\d+$/.test(s)) return Number(s);
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const a of list)
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(a))
      throw new Error(`PARLEY_TRUST_PROXY: "${a}" is not an address, a CIDR, a hop count or "off"`);
  return list;
}

/** The setting as Fastify's `trustProxy`: a hop count as proxy-addr's function (Fastify takes a number, its types do not). */
export function fastifyTrustProxy(t: TrustProxy): false | string[] | ((addr: string, hop: number) => boolean) {
  return typeof t === 'number' ? (_addr, hop) => hop < t : t;
}

/** `PARLEY_ALLOWED_ORIGINS`: comma-separated origins (`https://chat.example.com`). */
export function parseOrigins(v: string | undefined): string[] {
  const list = (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const o of list) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = u.origin === o && (u.protocol === 'https:' || u.protocol === 'http:');
    } catch {}
    if (!ok) throw new Error(`PARLEY_ALLOWED_ORIGINS: "${o}" is not an origin like https://chat.example.com`);
  }
  return list;
}

function flag(v: string | undefined, name: string): boolean {
  const s = v?.trim().toLowerCase() ?? '';
  if (s === '' || s === '0' || s === 'false' || s === 'off') return false;
  if (s === '1' || s === 'true' || s === 'on') return true;
  throw new Error(`${name} must be 1 or 0, got "${v}"`);
}

function niceness(v: string | undefined): number | undefined {
  const n = int(v, 'PARLEY_BACKGROUND_NICE');
  if (n !== undefined && n > 19) throw new Error(`PARLEY_BACKGROUND_NICE must be at most 19, got "${v}"`);
  return n;
}

function parseBackground(v: string | undefined): Config['background'] | undefined {
  if (!v) return undefined;
  if (v === 'auto' || v === 'inline' || v === 'thread') return v;
  throw new Error(`PARLEY_BACKGROUND must be auto, inline or thread, got "${v}"`);
}

/**
 * `PARLEY_OIDC_ISSUER`, `PARLEY_OIDC_CLIENT_ID`, `PARLEY_OIDC_CLIENT_SECRET` (all three, or
 * none), `PARLEY_OIDC_NAME`, `PARLEY_OIDC_SIGNUP`. The issuer must be https, or http on a
 * loopback address (a provider on the same machine, tests).
 */
export function parseOidc(env: NodeJS.ProcessEnv): OidcConfig | undefined {
  const issuer = env.PARLEY_OIDC_ISSUER?.trim();
  const clientId = env.PARLEY_OIDC_CLIENT_ID?.trim();
  const clientSecret = env.PARLEY_OIDC_CLIENT_SECRET;
  if (!issuer && !clientId && !clientSecret) return undefined;
  if (!issuer || !clientId || !clientSecret)
    throw new Error('PARLEY_OIDC_ISSUER, PARLEY_OIDC_CLIENT_ID and PARLEY_OIDC_CLIENT_SECRET go together');
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    throw new Error(`PARLEY_OIDC_ISSUER: "${issuer}" is not a URL like https://accounts.example.com`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname)))
    throw new Error(`PARLEY_OIDC_ISSUER: "${issuer}" must be https (http only on a loopback address)`);
  return {
    issuer,
    clientId,
    clientSecret,
    name: env.PARLEY_OIDC_NAME?.trim() || u.host,
    signup: env.PARLEY_OIDC_SIGNUP !== '0',
    timeoutMs: 10_000,
  };
}

/** localhost, 127.0.0.0/8 or ::1. */
export const isLoopbackHost = (host: string) =>
  host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** `PARLEY_PUBLIC_URL`: an http(s) origin, with an optional path (no trailing slash kept). */
export function parsePublicUrl(v: string | undefined): string | undefined {
  const s = v?.trim();
  if (!s) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`PARLEY_PUBLIC_URL: "${s}" is not a URL like https://chat.example.com`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new Error(`PARLEY_PUBLIC_URL: "${s}" must be http or https`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

const urlList = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);

/** `PARLEY_CALL_*`, `PARLEY_STUN_URLS`, `PARLEY_TURN_*` (docs/calls.md). */
export function callsFromEnv(env: NodeJS.ProcessEnv, d: CallsConfig): CallsConfig {
  const ring = int(env.PARLEY_CALL_RING_SECONDS, 'PARLEY_CALL_RING_SECONDS');
  const ringMs = int(env.PARLEY_CALL_RING_MS, 'PARLEY_CALL_RING_MS');
  const max = int(env.PARLEY_CALL_MAX_PARTICIPANTS, 'PARLEY_CALL_MAX_PARTICIPANTS');
  if (max !== undefined && max < 2) throw new Error('PARLEY_CALL_MAX_PARTICIPANTS must be at least 2');
  const ttl = int(env.PARLEY_TURN_TTL_SECONDS, 'PARLEY_TURN_TTL_SECONDS');
  const ghost = int(env.PARLEY_CALL_GHOST_SECONDS, 'PARLEY_CALL_GHOST_SECONDS');
  if (ghost !== undefined && ghost < 1) throw new Error('PARLEY_CALL_GHOST_SECONDS must be at least 1');
  const turnUrls = urlList(env.PARLEY_TURN_URLS);
  for (const u of [...turnUrls, ...urlList(env.PARLEY_STUN_URLS)])
    if (!/^(stuns?|turns?):/.test(u))
      throw new Error(`ICE server URL must start with stun:, stuns:, turn: or turns:, got "${u}"`);
  return {
    // Ms for tests and demos that want a short ring; seconds for operators.
    ringTimeoutMs: ringMs ?? (ring !== undefined ? ring * 1000 : d.ringTimeoutMs),
    maxParticipants: max ?? d.maxParticipants,
    rejoinGraceMs: d.rejoinGraceMs,
    ghostMs: ghost !== undefined ? ghost * 1000 : d.ghostMs,
    ...(d.sweepMs !== undefined ? { sweepMs: d.sweepMs } : {}),
    stunUrls: urlList(env.PARLEY_STUN_URLS),
    turnUrls,
    turnSecret: env.PARLEY_TURN_SECRET || undefined,
    turnTtlSeconds: ttl ?? d.turnTtlSeconds,
    ringsPerMinute: d.ringsPerMinute,
    signalsPer10s: d.signalsPer10s,
  };
}
