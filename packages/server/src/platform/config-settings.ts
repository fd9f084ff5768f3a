/**
 * Every environment variable the server and the `parley` command read, defined once: its names,
 * its default (read off `defaultConfig()` wherever the config holds it) and what it does.
 * docs/settings.md is generated from this list (`node --import tsx scripts/gen-settings-doc.mjs`),
 * and config-settings.test.ts fails when the file is stale or when a `PARLEY_*` name read in
 * packages/server/src or packages/cli/src has no entry here.
 */
import { type Config, defaultConfig } from './config.js';

export interface SettingDef {
  /** The variables this row describes; the first is the main one. */
  names: readonly string[];
  /** The default as the docs show it: Markdown, or a value read off `defaultConfig()`. */
  default: string | ((d: Config) => string | number | readonly number[]);
  /** What it does, one Markdown paragraph (links relative to docs/). */
  meaning: string;
}

export interface SettingGroup {
  title: string;
  intro?: string;
  settings: readonly SettingDef[];
}

const bit = (on: boolean) => (on ? 1 : 0);

export const SETTING_GROUPS: readonly SettingGroup[] = [
  {
    title: 'The server',
    settings: [
      {
        names: ['PORT'],
        default: (d) => d.port,
        meaning: 'HTTP and WebSocket port (`--port`). `0` picks a free port.',
      },
      {
        names: ['HOST'],
        default: (d) => d.host,
        meaning:
          'Address to listen on (`--host`). Only this machine can connect by default; use `0.0.0.0` to listen on every interface.',
      },
      {
        names: ['PARLEY_DATA_DIR'],
        default: '`./.parley`',
        meaning:
          'Data folder (`--data`), made absolute at start: the PGlite database (`pgdata/`), the generated `master.key` and `admin-token`, and `owner.lock` while a process owns the folder (see [cli.md](cli.md#one-owner-per-data-folder)).',
      },
      {
        names: ['PARLEY_WEB_DIR'],
        default: '`apps/web/dist`',
        meaning:
          "Folder of the built web app, served at `/` when it holds an `index.html`. The default is this repository's `apps/web/dist`, found from the server's own files rather than the current folder (`npm ci` builds it), or in an installed `@parley/server` the copy it carries (`web/`). A relative path is taken from the current folder.",
      },
      {
        names: ['PARLEY_DOCS_DIR'],
        default: '`docs/.vitepress/dist`',
        meaning:
          "Folder of the built documentation site, served at `/docs/` when it holds an `index.html` (the API's Swagger UI is at `/docs/api/` either way). The default is this repository's `docs/.vitepress/dist`, found from the server's own files (`npm ci` builds it: see [development.md](development.md#the-documentation-site)), or in an installed `@parley/server` the copy it carries (`docs-site/`). A relative path is taken from the current folder.",
      },
      {
        names: ['LOG_LEVEL'],
        default: (d) => d.logLevel,
        meaning:
          'Log level of the JSON logs on stdout: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. One line per request (`msg: "request"`, with `method`, `url`, `status`, `ms`, `ip`; `"request failed"` at `error`, with the error, for an unexpected one); secrets never appear (see [security/logs.md](security/logs.md)).',
      },
      {
        names: ['PARLEY_NODE_ID'],
        default: '`node-<pid>`',
        meaning:
          "This node's name in logs (`node`) and metrics (the `node` label). Under `--workers`, each worker is `<PARLEY_NODE_ID>-w<n>`, or `<host name>-w<n>` when it is unset.",
      },
      {
        names: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
        default: 'unset (no traces)',
        meaning:
          "Send traces over OTLP/HTTP (JSON) to this collector: the base URL (spans go to `/v1/traces` under it), or the second name's full URL. `OTEL_EXPORTER_OTLP_HEADERS` adds headers, `OTEL_SERVICE_NAME` sets `service.name` (default `parley`), `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns them off. Unset, OpenTelemetry is not loaded (see [deploy.md](deploy.md#traces)).",
      },
      {
        names: ['PARLEY_PUBLIC_URL'],
        default: '`http://HOST:PORT`',
        meaning:
          "The address people open the web app at (`https://chat.example.com`): the base of links in mail and of pictures' URLs. Set it in production; pictures uploaded under an earlier address move to it at the next start.",
      },
      {
        names: ['PARLEY_LISTEN_BACKLOG'],
        default: (d) => d.listenBacklog,
        meaning:
          "Connections the kernel queues before the server accepts them (`listen`'s backlog, capped by `net.core.somaxconn`). Node's default of 511 overflows when thousands of clients reconnect at once after a restart, and they see resets and TCP timeouts; raise `somaxconn` with it on a host that holds more.",
      },
      {
        names: ['PARLEY_DRAIN_DELAY_MS'],
        default: (d) => d.drainDelayMs,
        meaning:
          'On `SIGTERM`, how long the node keeps serving with `/readyz` failing before it stops taking connections: the time a balancer that polls readiness needs (Kubernetes: a few seconds). nginx needs none. See [deploy.md](deploy.md#draining-and-rolling-restarts).',
      },
      {
        names: ['PARLEY_MAX_OPENING_SOCKETS'],
        default: (d) => d.maxOpeningSockets,
        meaning:
          'Sockets a node lets open at once (between the upgrade and `hello`); more are closed with `4006 OVERLOADED` and a retry hint, so a crowd reconnecting after a restart is let in at the pace the node can authenticate it ([the handshake](protocol/socket.md#handshake), admission). `0` still lets one in at a time.',
      },
    ],
  },
  {
    title: 'Database, Redis and files',
    settings: [
      {
        names: ['DATABASE_URL'],
        default: 'unset',
        meaning:
          'A PostgreSQL URL, e.g. `postgres://user:pass@host:5432/parley`. Unset: embedded PGlite in the data folder.',
      },
      {
        names: ['REDIS_URL'],
        default: 'unset',
        meaning:
          'A Redis URL, e.g. `redis://:password@host:6379`. Set: live events travel between server processes over Redis pub/sub, so a client on any process hears every change; presence is pooled over the processes; and send limits are counted once for all of them. Unset: all three stay in the process — fine for one process (see [internals.md](internals/presence-and-typing.md)).',
      },
      {
        names: ['PARLEY_PGLITE_SHARED_BUFFERS'],
        default: '`32MB`',
        meaning:
          "Embedded PGlite in a data folder only: PostgreSQL's shared buffers, a size from `128kB` to `1GB` such as `64MB`. They are set up at every start, so more start later (128 MB took about 0.2 s longer than 32 MB on a quiet machine, [benchmarks](benchmarks.md#first-start)); pages past them are read from the folder's files through the operating system's cache. Raise it for a large folder that is read much. A value that is not such a size stops the start with an error.",
      },
      {
        names: ['PARLEY_HOT_POOL_SIZE'],
        default: '`4`',
        meaning:
          "PostgreSQL only: connections of the send path's own, opened as needed beside the pool of 10 every other query uses (so up to 14 per process), so a send never waits behind other queries for a connection. `0` sends through the shared pool (for comparison).",
      },
      {
        names: [
          'PARLEY_S3_URL',
          'PARLEY_S3_BUCKET',
          'PARLEY_S3_REGION',
          'PARLEY_S3_ENDPOINT',
          'PARLEY_S3_ACCESS_KEY_ID',
          'PARLEY_S3_SECRET_ACCESS_KEY',
          'PARLEY_S3_FORCE_PATH_STYLE',
          'PARLEY_S3_PREFIX',
        ],
        default: 'unset',
        meaning:
          'Keep files in an S3-compatible store (AWS S3, R2, MinIO) instead of `<data>/files`. See [internals.md](internals/files-and-storage.md).',
      },
      {
        names: ['PARLEY_VACUUM_MINUTES'],
        default: (d) => d.vacuumMinutes,
        meaning:
          "Where no autovacuum runs (embedded PGlite, or a PostgreSQL server with `autovacuum` off), Parley vacuums and analyzes its tables itself this often (a node's first pass one period after it starts), one table at a time, so rows rewritten by traffic (a channel's counter on every send, members' read marks, jobs) are freed and the planner's statistics stay current; `0` never does. With autovacuum on, Parley leaves it to the server.",
      },
      {
        names: ['PARLEY_SEARCH_FLUSH_MS'],
        default: (d) => d.searchFlushMs,
        meaning:
          "How often the search index's pending list is merged into the index, off the send path (`0`: left to autovacuum).",
      },
    ],
  },
  {
    title: 'Secrets, proxies and outbound calls',
    settings: [
      {
        names: ['PARLEY_ADMIN_TOKEN'],
        default: 'generated',
        meaning:
          'Bearer token for the admin API (`/v1/admin/*`). Unset: `padm_…` is generated on first start, printed, and kept in `<data>/admin-token` (mode 0600).',
      },
      {
        names: ['PARLEY_MASTER_KEY'],
        default: 'generated',
        meaning:
          "32 bytes (64 hex digits or base64) that seal the apps' secrets in the database. Unset: generated on first start into `<data>/master.key` (mode 0600). Must be the same on every node and must not be lost. See [security.md](security.md).",
      },
      {
        names: ['PARLEY_BACKUP_PASSPHRASE'],
        default: 'unset',
        meaning:
          'The passphrase `parley backup` seals the master key into its archive with, and `parley restore` opens it with (or `--passphrase-file FILE`). See [backup.md](backup.md).',
      },
      {
        names: ['PARLEY_TRUST_PROXY'],
        default: 'off',
        meaning:
          "Which reverse proxies' `X-Forwarded-For`, `-Proto` and `-Host` to believe: `off` (the default: none — the client IP is the peer's, and the session cookie is `Secure` only when Parley itself serves https); a whole number of proxy hops in front; or a comma-separated list of the proxies' addresses or CIDRs (`10.0.0.0/8,::1`, or `loopback`). The client IP it yields is the one used in logs and rate limits. See [security/reverse-proxy.md](security/reverse-proxy.md).",
      },
      {
        names: ['PARLEY_ALLOWED_ORIGINS'],
        default: 'unset',
        meaning:
          "Comma-separated origins (`https://chat.example.com`) that may, besides the server's own, make requests with the web app's session cookie. Others get `403`.",
      },
      {
        names: [
          'PARLEY_OUTBOUND_ALLOW',
          'PARLEY_OUTBOUND_ALLOW_WEBHOOKS',
          'PARLEY_OUTBOUND_ALLOW_BEFORE_SEND',
          'PARLEY_OUTBOUND_ALLOW_PREVIEWS',
          'PARLEY_OUTBOUND_ALLOW_PUSH',
          'PARLEY_OUTBOUND_ALLOW_COMMANDS',
          'PARLEY_OUTBOUND_ALLOW_ASSISTANT',
        ],
        default: 'unset',
        meaning:
          "Private targets (CIDRs, addresses, host names, each with an optional `:port`; comma-separated) that webhooks, the before-send hook, link previews and Web Push may reach, e.g. `10.0.0.0/8,backend.internal:8080`. `PARLEY_OUTBOUND_ALLOW_WEBHOOKS`, `_BEFORE_SEND`, `_PREVIEWS`, `_PUSH`, `_COMMANDS` (slash commands' apps and the GIF search) and `_ASSISTANT` (the assistant's model provider) add entries for one kind. Unset: public addresses on ports 80/443 only. See [security/outbound.md](security/outbound.md#outbound-calls-to-a-private-network-parley_outbound_allow).",
      },
    ],
  },
  {
    title: 'Accounts, sign-in and mail',
    settings: [
      {
        names: ['PARLEY_SMTP_URL'],
        default: 'unset',
        meaning:
          'SMTP server for account mail (password reset, email verification and change, lockout notices): `smtp://user:pass@host:587` or `smtps://…:465`. Mail waits in the job queue until the server takes it (tried again for about 85 minutes, across restarts). Unset: mail is written to the server log instead (its links too, unless `NODE_ENV=production`) — for development only.',
      },
      { names: ['PARLEY_MAIL_FROM'], default: (d) => d.mailFrom, meaning: 'The From of account mail.' },
      {
        names: ['PARLEY_REQUIRE_EMAIL_VERIFICATION'],
        default: (d) => bit(d.requireEmailVerification),
        meaning: '`1`: a new account signs in only after following the link mailed to it.',
      },
      {
        names: ['PARLEY_SIGNIN_PER_IP'],
        default: (d) => d.signin.perIp,
        meaning:
          'Sign-in attempts one client IP may make per minute (10 per email, fixed). See [security/sign-in-protection.md](security/sign-in-protection.md).',
      },
      {
        names: ['PARLEY_SIGNUP_PER_IP'],
        default: (d) => d.signin.signupPerIp,
        meaning: 'Sign-ups one client IP may make per hour (5 tries per address, taken or not, fixed).',
      },
      {
        names: ['PARLEY_LOCK_AFTER'],
        default: (d) => d.signin.lockAfter,
        meaning:
          'Failed sign-ins in a row that lock an account (1 minute, doubling each further time, up to an hour). `0`: no lockout.',
      },
      {
        names: ['PARLEY_SESSION_IDLE_DAYS'],
        default: (d) => d.sessionIdleDays,
        meaning: 'A web app session ends after this many days without a request (30 days after sign-in at the latest).',
      },
      {
        names: ['PARLEY_OIDC_ISSUER', 'PARLEY_OIDC_CLIENT_ID', 'PARLEY_OIDC_CLIENT_SECRET'],
        default: 'unset',
        meaning:
          "Sign in with an OpenID Connect provider (all three, or none): its issuer URL (https; http only on a loopback address) and this server's client at it. Register the redirect URI `<PARLEY_PUBLIC_URL>/v1/auth/oidc/callback` there. See [security/openid-connect.md](security/openid-connect.md).",
      },
      {
        names: ['PARLEY_OIDC_NAME'],
        default: "the issuer's host",
        meaning: 'The provider\'s name on the web app\'s button: "Sign in with {name}".',
      },
      {
        names: ['PARLEY_OIDC_SIGNUP'],
        default: '`1`',
        meaning: '`0`: only existing accounts may sign in with the provider; a new email makes no account.',
      },
    ],
  },
  {
    title: 'Limits',
    settings: [
      {
        names: ['PARLEY_BODY_LIMIT'],
        default: (d) => d.bodyLimit,
        meaning: 'Largest HTTP request body, in bytes; larger bodies get `413 PAYLOAD_TOO_LARGE`.',
      },
      {
        names: ['PARLEY_RATE_MESSAGES'],
        default: (d) => d.rateMessages,
        meaning:
          'Messages one user may send per 10-second window (REST and socket together); one more gets `429 RATE_LIMITED` with `retry_after_ms`. `0` turns the limit off.',
      },
      {
        names: ['PARLEY_RATE_MESSAGES_BLOCK_SECONDS'],
        default: (d) => d.rateBlockSeconds,
        meaning:
          'Seconds a burst past `PARLEY_RATE_MESSAGES` blocks the sender, from the first refused send: every send meanwhile gets `429 RATE_LIMITED` with the time left in `retry_after_ms` (one node or all of them, as the limit is counted). `0`: refused only until the window ends.',
      },
      {
        names: ['PARLEY_LIMITS'],
        default: '(see docs)',
        meaning:
          'JSON overrides of the other rate limits, e.g. `{"reactions":{"user":30},"connections":{"ip":600}}`: per `user`, `ip` and `app` and `windowMs`, for `reactions`, `typing`, `channels`, `uploads`, `searches`, `connections`, `flags`, `commands` ([permissions.md](permissions.md#rate-limits-on-everything)).',
      },
      {
        names: ['PARLEY_HTTP_RATE_PER_IP', 'PARLEY_HTTP_RATE_PER_USER', 'PARLEY_HTTP_RATE_PER_SERVER'],
        default: (d) => [d.httpLimits.ip, d.httpLimits.user, d.httpLimits.server],
        meaning:
          "The default limit of every REST route under `/v1`, per minute: per client IP, per user (token or session), per app's server token; `0` turns one off ([security/rate-limits.md](security/rate-limits.md)).",
      },
      {
        names: ['PARLEY_UPLOAD_MAX_BYTES'],
        default: (d) => d.uploadMaxBytes,
        meaning: 'Largest uploaded file, in bytes (`413 PAYLOAD_TOO_LARGE` past it).',
      },
      {
        names: ['PARLEY_UPLOAD_IDLE_SECONDS'],
        default: (d) => d.uploadIdleMs / 1000,
        meaning:
          'An upload that sends no byte for this long is ended with `400 VALIDATION_ERROR`, and its bytes removed.',
      },
      {
        names: ['PARLEY_USER_QUOTA_BYTES'],
        default: (d) => d.userQuotaBytes,
        meaning: 'Bytes of files one user may have stored (`413 QUOTA_EXCEEDED` past it); `0` = no limit.',
      },
      {
        names: ['PARLEY_APP_QUOTA_BYTES'],
        default: (d) => d.appQuotaBytes,
        meaning: 'Bytes of files one app may have stored; `0` = no limit.',
      },
      {
        names: ['PARLEY_READ_BY_MAX_MEMBERS'],
        default: (d) => d.readByMaxMembers,
        meaning:
          'Read-by (who read a message, and when: `GET /v1/messages/{id}/read-by`) is answered in channels of at most this many members; in a bigger channel it is off (`READ_BY_OFF`). `0` turns it off everywhere.',
      },
    ],
  },
  {
    title: 'Retention',
    settings: [
      {
        names: ['PARLEY_UNATTACHED_TTL_SECONDS'],
        default: (d) => d.unattachedTtlSeconds,
        meaning: 'An upload no message carries is removed after this long.',
      },
      {
        names: ['PARLEY_FILE_URL_TTL_SECONDS'],
        default: (d) => d.fileUrlTtlSeconds,
        meaning: 'How long a signed file link (`POST /v1/files/links`) works.',
      },
      {
        names: ['PARLEY_EXPORT_TTL_HOURS'],
        default: (d) => d.exportTtlHours,
        meaning: "How long a data export (a user's, or a workspace's in Parley's own format) stays downloadable.",
      },
      {
        names: ['PARLEY_AUDIT_RETENTION_DAYS'],
        default: (d) => d.auditRetentionDays,
        meaning: 'Days the audit log keeps an entry (an hourly job deletes older ones); `0` keeps them for good.',
      },
      {
        names: ['PARLEY_USAGE_SAMPLE_SECONDS'],
        default: (d) => d.usageSampleSeconds,
        meaning: 'How often each node samples its open connections for usage analytics (peak concurrent connections).',
      },
      {
        names: ['PARLEY_INBOX_MAX_ITEMS'],
        default: (d) => d.inboxMaxItems,
        meaning: "Most items one user's activity inbox keeps (the oldest go first).",
      },
      {
        names: ['PARLEY_INBOX_RETENTION_DAYS'],
        default: (d) => d.inboxRetentionDays,
        meaning: 'Days an activity inbox item is kept.',
      },
      {
        names: ['PARLEY_UNREAD_PUSH_MS'],
        default: (d) => d.unreadPushMs,
        meaning:
          "Milliseconds a change of one user's unread counts (a read, a mark unread, a mute, a join) waits before a batch reads them and pushes `unread.updated`. `0`: no pushes (clients count from the messages they see).",
      },
      {
        names: ['PARLEY_UNREAD_PUSH_MESSAGES_MS'],
        default: (d) => d.unreadPushMessagesMs,
        meaning:
          "Milliseconds a message's changes of its members' counts gather before they are read and pushed: they are due on the next 50 ms tick after that wait, the same instant for every message of a tick, so those messages are read and pushed together, at most one push per member per window (clients count a message they see at once; the push confirms it); such a push then waits up to four windows more for the member's next frame, to leave in the same write. Longer: fewer reads in busy channels, later confirmations. Never less than `PARLEY_UNREAD_PUSH_MS`.",
      },
    ],
  },
  {
    title: 'Background jobs',
    settings: [
      {
        names: ['PARLEY_JOB_WORKERS'],
        default: (d) => bit(d.jobWorkers),
        meaning: '`0`: this node enqueues background jobs but runs none.',
      },
      {
        names: ['PARLEY_BACKGROUND'],
        default: (d) => d.background,
        meaning:
          'Where this node runs its background jobs (notifications and pushes, webhook deliveries, mail, previews): `thread` on a worker thread of the process with its own database connections, so a send never waits behind them; `inline` on the event loop that serves clients. `auto`: `thread` on PostgreSQL, `inline` on the embedded database (which one thread owns). The thread costs about 100 MB and a second of start-up.',
      },
      {
        names: ['PARLEY_BACKGROUND_NICE'],
        default: (d) => d.backgroundNice,
        meaning:
          "How much lower the background thread's CPU priority is than the main thread's (0–19, Linux only). Raised (e.g. `10`), sends get a contended core first and their slowest answers come sooner, but on a saturated machine jobs and webhook deliveries fall behind.",
      },
      {
        names: ['PARLEY_JOB_POLL_MS'],
        default: (d) => d.jobPollMs,
        meaning: 'How often an idle job worker looks for work.',
      },
      {
        names: ['PARLEY_JOB_STOP_TIMEOUT_MS'],
        default: (d) => d.jobStopTimeoutMs,
        meaning: 'On shutdown, how long running jobs may finish before they are handed back to the queue.',
      },
      {
        names: ['PARLEY_JOB_MAINTENANCE_SECONDS'],
        default: (d) => d.jobMaintenanceSeconds,
        meaning: "How often the job queue fails runs of nodes that died (after each kind's expiry) into retries.",
      },
    ],
  },
  {
    title: 'Webhooks, slash commands and link previews',
    settings: [
      {
        names: ['PARLEY_WEBHOOK_TIMEOUT_MS'],
        default: (d) => d.webhookTimeoutMs,
        meaning:
          'Time a webhook endpoint has to answer one delivery (a 2xx) before the attempt counts as failed and is retried.',
      },
      {
        names: ['PARLEY_WEBHOOK_LEASE_SECONDS'],
        default: (d) => d.webhookLeaseSeconds,
        meaning:
          "How long a node's hold on a webhook lane (an endpoint's deliveries of one channel) lasts without renewal; renewed every quarter of it. After a node dies, another takes its lanes once this has passed (at least 4).",
      },
      {
        names: ['PARLEY_WEBHOOK_RETENTION_DAYS'],
        default: (d) => d.webhookRetentionDays,
        meaning:
          'How long a paused or disabled webhook endpoint keeps what it would have received (sent in order when it is re-enabled); older deliveries are dropped and counted on the endpoint (`dropped`).',
      },
      {
        names: ['PARLEY_WEBHOOK_SWEEP_SECONDS'],
        default: (d) => d.webhookSweepSeconds,
        meaning:
          "How often a node looks for webhook lanes with due deliveries and no live sender (a dead node's, or a wake lost in a crash).",
      },
      {
        names: ['PARLEY_COMMAND_TIMEOUT_MS'],
        default: (d) => d.commandTimeoutMs,
        meaning:
          'Time an app has to answer a slash command or a button click; past it the user gets an ephemeral error and nothing is posted ([slash commands](protocol/hooks-and-commands.md#slash-commands)).',
      },
      {
        names: ['PARLEY_LINK_PREVIEWS'],
        default: (d) => bit(d.linkPreviews),
        meaning: '`0` turns link previews off (no page is ever fetched).',
      },
      {
        names: ['PARLEY_PREVIEW_TTL_SECONDS'],
        default: (d) => d.previewTtlSeconds,
        meaning: "How long a link's card is cached (per app); failed and empty unfurls are kept 10 minutes.",
      },
      {
        names: ['PARLEY_PREVIEW_FETCHES_PER_MINUTE'],
        default: (d) => d.previewFetchesPerMinute,
        meaning:
          "Links not yet cached that one user's messages may have fetched per minute (`0`: no limit); past it, no card.",
      },
    ],
  },
  {
    title: 'Notifications',
    settings: [
      {
        names: ['PARLEY_NOTIFICATIONS'],
        default: (d) => bit(d.notifications),
        meaning: '`0`: sent messages cause no push and no email digest.',
      },
      { names: ['PARLEY_INBOX'], default: (d) => bit(d.inbox), meaning: '`0`: the activity inbox records nothing.' },
      {
        names: ['PARLEY_PUSH_GRACE_SECONDS'],
        default: (d) => d.pushGraceSeconds,
        meaning:
          'A user connected on some device is pushed a message only after this long, and only if it is still unread. See [notifications.md](notifications.md).',
      },
      {
        names: ['PARLEY_PUSH_BURST_SECONDS'],
        default: (d) => d.pushBurstSeconds,
        meaning: 'One push per thread (or channel) burst: the same collapse key again within this long is not pushed.',
      },
      {
        names: ['PARLEY_PUSH_RETRY_SECONDS'],
        default: (d) => d.pushRetryDelaySeconds,
        meaning:
          'A push that failed transiently (5xx, 429, timeout) is retried for that device only after this long, then with doubling backoff. See [notifications.md](notifications.md).',
      },
      {
        names: ['PARLEY_DIGEST_AFTER_MINUTES'],
        default: (d) => d.digestAfterMinutes,
        meaning:
          'Mentions and DMs unread this long go out in an email digest (users with a web app account; needs `PARLEY_SMTP_URL`).',
      },
      {
        names: ['PARLEY_VAPID_SUBJECT'],
        default: 'from `PARLEY_PUBLIC_URL` or the mail From',
        meaning: "Web Push's VAPID subject (`mailto:` or `https:`); set it in production.",
      },
    ],
  },
  {
    title: 'Calls and spaces',
    settings: [
      {
        names: ['PARLEY_CALL_RING_SECONDS', 'PARLEY_CALL_RING_MS'],
        default: (d) => d.calls.ringTimeoutMs / 1000,
        meaning:
          'How long a call rings before it is missed (30–60 is usual; `PARLEY_CALL_RING_MS` sets it in ms, for tests and demos). See [calls.md](calls.md).',
      },
      {
        names: ['PARLEY_CALL_MAX_PARTICIPANTS'],
        default: (d) => d.calls.maxParticipants,
        meaning: 'Most participants of one peer-to-peer call; joins past it get `CALL_FULL`.',
      },
      {
        names: ['PARLEY_CALL_GHOST_SECONDS'],
        default: (d) => d.calls.ghostMs / 1000,
        meaning:
          'How long a call participant whose server node died (offline on every node, never seen going) stays in the call before they are made to leave.',
      },
      {
        names: ['PARLEY_STUN_URLS'],
        default: 'unset',
        meaning: 'STUN servers handed to clients (`stun:stun.example.com:3478`, comma-separated).',
      },
      {
        names: ['PARLEY_TURN_URLS', 'PARLEY_TURN_SECRET'],
        default: 'unset',
        meaning:
          'TURN servers (`turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349`) and the secret shared with them (coturn `static-auth-secret`): clients get TURN REST API credentials from `GET /v1/calls/ice-servers`.',
      },
      {
        names: ['PARLEY_TURN_TTL_SECONDS'],
        default: (d) => d.calls.turnTtlSeconds,
        meaning: 'How long a TURN credential works.',
      },
      {
        names: ['PARLEY_SPACE_QUIET_SECONDS'],
        default: (d) => d.spaces.quietMs / 1000,
        meaning:
          'Spaces: no second "entered"/"left" message for the same person in the same room within this time. See [spaces](protocol/spaces-and-calls.md#spaces).',
      },
      {
        names: ['PARLEY_SPACE_INVITE_SECONDS'],
        default: (d) => d.spaces.inviteTimeoutMs / 1000,
        meaning: 'Spaces: how long a teleport or a knock waits for an answer.',
      },
      {
        names: ['PARLEY_SPACE_AWAY_SECONDS'],
        default: (d) => d.spaces.awayMs / 1000,
        meaning:
          'Spaces: how long someone offline everywhere keeps their place before they are taken out of the office.',
      },
      {
        names: ['PARLEY_OFFICE_ROOM_IDLE_DAYS'],
        default: (d) => d.spaces.roomIdleDays ?? 0,
        meaning:
          'Spaces: a room chat with nobody in its space, no live call, and nothing said there nor anyone there for this many days is archived (its history kept); entering the space unarchives it. `0`: never. See [the office](office.md#idle-rooms).',
      },
    ],
  },
  {
    title: 'The `parley` command',
    settings: [
      {
        names: ['PARLEY_DEBUG'],
        default: 'unset',
        meaning: '`1`: a command that fails prints the stack trace under its one-line message (for a bug report).',
      },
    ],
  },
  {
    title: 'The test suite',
    intro:
      'Read by the tests and `vitest.config.ts`, not by the server. (`PARLEY_TEST_DB`, `PARLEY_TEST_PG_URL` and `PARLEY_CHAOS_PG_URL` are set by `vitest.config.ts` for each project; do not set them yourself.)',
    settings: [
      {
        names: ['DATABASE_URL'],
        default: 'unset',
        meaning:
          'When set, `npm test` also runs the `*.pg.test.ts` files on this PostgreSQL. Each test file creates its own database there and drops it after, so the role needs `CREATEDB`. With `REDIS_URL`, it also turns on the chaos tests.',
      },
      {
        names: ['PARLEY_REQUIRE_PG'],
        default: 'unset',
        meaning:
          '`1`: a missing `DATABASE_URL` (or anything else the chaos tests need) is an error instead of a skip (CI sets it).',
      },
      {
        names: ['REDIS_URL'],
        default: 'unset',
        meaning:
          'When set, the broker conformance suite (`packages/server/src/realtime/broker.test.ts`) and the several-node tests (`packages/server/test/scale/`) also run against this Redis. With `DATABASE_URL`, the chaos tests run too; they start a `redis-server` of their own, so that binary must be installed.',
      },
      {
        names: ['PARLEY_REQUIRE_REDIS'],
        default: 'unset',
        meaning: '`1`: a missing `REDIS_URL` (or `redis-server`) is an error instead of a skip (CI sets it).',
      },
      {
        names: ['PARLEY_REQUIRE_BROWSER'],
        default: 'unset',
        meaning:
          "`1`: a missing `/usr/bin/chromium` fails the web app's end-to-end tests instead of skipping them (CI sets it).",
      },
      {
        names: ['PARLEY_TEST_SPLIT'],
        default: 'unset (CI: the commit)',
        meaning:
          "With `DATABASE_URL`: each `*.pg.test.ts` file of the server tier and of the fuzz suite, and each `parley import` and `parley export` test file, runs on one backend, PGlite or PostgreSQL, chosen by a hash of this value and its path, instead of on both; the files about the database itself, and the slow tier's crash, backup and chaos files, still run on both. CI sets the commit's hash, so each commit runs another half on each (see [development.md](development.md)).",
      },
      {
        names: ['PARLEY_DOCS_SHOT'],
        default: 'unset',
        meaning:
          "`1`: the web app's end-to-end test (`apps/web/test/e2e.test.ts`) also writes its chat screenshot to `docs/screenshot.png`, the README's picture. Unset, a test run changes no tracked file.",
      },
      {
        names: ['PARLEY_TEST_WORKERS'],
        default: '`3`',
        meaning: 'Test files run at a time.',
      },
      {
        names: ['PARLEY_TEST_CPU_LOG', 'PARLEY_TEST_CPU_PROF'],
        default: 'unset',
        meaning:
          "Where a run's CPU goes: each test file's CPU time in its worker, one JSON line per file appended to the file named; each file's V8 CPU profile written to the folder named.",
      },
      {
        names: ['PARLEY_FUZZ_SEED', 'PARLEY_FUZZ_RUNS', 'PARLEY_FUZZ_VERBOSE'],
        default: 'fixed',
        meaning:
          'The hostile-input suite (`packages/server/test/fuzz/`) runs with a fixed seed and a bounded number of runs; set a seed and a number of runs for a longer hunt (`PARLEY_FUZZ_VERBOSE=1` prints the answers per route).',
      },
    ],
  },
];

/** Names that look like settings but are not read from the environment as one. */
export const NOT_SETTINGS: Readonly<Record<string, string>> = {
  PARLEY_VERSION: 'a constant: the version of the running package',
  PARLEY_DATABASE_TOO_NEW: 'an error code of the migrator',
  PARLEY_WORKER: 'set by `parley start --workers` for each worker it forks',
  PARLEY_FORMAT: "a constant: the `format` a Parley workspace export's manifest names",
  PARLEY_FORMAT_VERSION: "a constant: the version of a Parley workspace export's format",
};

/** Every name the list documents. */
export function documentedNames(): Set<string> {
  return new Set(SETTING_GROUPS.flatMap((g) => g.settings.flatMap((s) => s.names)));
}

function showDefault(s: SettingDef, d: Config): string {
  if (typeof s.default === 'string') return s.default;
  const v = s.default(d);
  return (Array.isArray(v) ? v : [v]).map((x) => `\`${x}\``).join(', ');
}

const cell = (text: string) => text.replaceAll('\n', ' ');
const anchor = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

/** docs/settings.md, as scripts/gen-settings-doc.mjs writes it. */
export function renderSettingsDoc(): string {
  const d = defaultConfig();
  const out = [
    '# Settings',
    '',
    '<!-- Generated from packages/server/src/platform/config-settings.ts by scripts/gen-settings-doc.mjs: edit that file, then run `node --import tsx scripts/gen-settings-doc.mjs`. -->',
    '',
    'Parley is configured by environment variables, read once at start (`configFromEnv` in',
    '`packages/server/src/platform/config.ts`). An empty value counts as unset. A number that is',
    'not a whole number, or a value that is not one its row allows, stops the server at start with',
    'a message naming the variable. `parley start --port`, `--host` and `--data` set `PORT`, `HOST`',
    'and `PARLEY_DATA_DIR`.',
    '',
    ...SETTING_GROUPS.map((g) => `- [${g.title}](#${anchor(g.title)})`),
  ];
  for (const g of SETTING_GROUPS) {
    out.push('', `## ${g.title}`, '');
    if (g.intro) out.push(g.intro, '');
    out.push('| variable | default | meaning |', '| --- | --- | --- |');
    for (const s of g.settings) {
      out.push(`| ${s.names.map((n) => `\`${n}\``).join(', ')} | ${cell(showDefault(s, d))} | ${cell(s.meaning)} |`);
    }
  }
  out.push(
    '',
    '## Fixed for now',
    '',
    'These have fixed defaults and no variable yet; code that builds a server itself (tests) can',
    'change them through `defaultConfig({...})`:',
    `largest WebSocket frame ${d.maxFrameBytes / 1024} KiB, unsent data per socket before it is dropped`,
    `${d.maxQueuedBytes / 1024 / 1024} MiB, heartbeat every ${d.heartbeatMs / 1000} s, auth frame within ${d.authTimeoutMs / 1000} s,`,
    `typing expires after ${d.typingTtlMs / 1000} s, offline ${d.presenceGraceMs / 1000} s after the last socket closes, away after`,
    `${d.awayAfterMs / 60_000} minutes idle, at most ${d.maxReplay} events replayed before a reload, send-limit window`,
    `${d.rateWindowMs / 1000} s.`,
    '',
  );
  return out.join('\n');
}
