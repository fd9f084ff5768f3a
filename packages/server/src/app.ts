/**
 * `buildServer(config)` assembles one Parley server — database, broker, hub, gateway and
 * every feature's routes — without listening, so tests drive it with `inject()` or on a real
 * port, and `main.ts` (or the CLI) calls `listen()`.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as protocol from '@parley/protocol';
import { ERRORS, PROTOCOL_VERSION } from '@parley/protocol';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions, LogController } from 'fastify';
import type { DestinationStream } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { type Background, BackgroundLaunch } from './background.js';
import {
  accountRoutes,
  ChatSessions,
  defineAccountJobs,
  membershipRoutes,
  oidcRoutes,
  resolveSession,
  SESSIONS_TOPIC,
} from './features/accounts/index.js';
import { adminRoutes, defineAdminJobs, nodeRoutes, systemRoutes } from './features/admin/index.js';
import { ActivityTracker, analyticsRoutes, startSampler } from './features/analytics/index.js';
import { appRoutes } from './features/apps/index.js';
import { ASSISTANT_TOPIC, assistantRoutes, receiveAssistantChange } from './features/assistant/index.js';
import { auditRoutes, defineAuditJobs } from './features/audit/index.js';
import { backupRoutes } from './features/backups/index.js';
import { bookmarkRoutes, defineBookmarkJobs } from './features/bookmarks/index.js';
import { callRoutes, callSocket, connectionClosed, defineCallJobs } from './features/calls/index.js';
import {
  admitConnection,
  channelRoutes,
  channelSocket,
  mayReadChannel,
  openConnection,
  readOpenings,
  type SeedRows,
} from './features/channels/index.js';
import { commandRoutes, commandSocket } from './features/commands/index.js';
import { emojiRoutes } from './features/emoji/index.js';
import { eventRoutes, eventSocket, watchBatcher } from './features/events/index.js';
import { defineFileJobs, fileRoutes, startUploadSweep } from './features/files/index.js';
import { FLAGS_TOPIC, flagRoutes, liveFlags } from './features/flags/index.js';
import { groupRoutes } from './features/groups/index.js';
import { followPublicUrl, imageRoutes } from './features/images/index.js';
import { defineImportJobs, importRoutes } from './features/imports/index.js';
import {
  defineInboxJobs,
  holdInboxTask,
  inboxRoutes,
  inboxSocket,
  invitationItems,
  recordChannelRead,
  recordMessage,
  recoverAtStart,
} from './features/inbox/index.js';
import { defineInvitationJobs } from './features/invitations/index.js';
import { jobRoutes } from './features/jobs/index.js';
import { defineLinkJobs, linkRoutes, linkSocket } from './features/links/index.js';
import {
  accessMessage,
  deleteMessage,
  enrichMessages,
  messageRoutes,
  messageSocket,
  ownReactions,
  planFirstMessage,
  presentMessage,
  runSendJob,
  SendBatcher,
} from './features/messages/index.js';
import { defineModerationJobs, moderationRoutes } from './features/moderation/index.js';
import { noteRoutes, noteSocket } from './features/notes/index.js';
import {
  defineNotificationJobs,
  notificationRoutes,
  notifyMessage,
  notifySettled,
} from './features/notifications/index.js';
import { peopleRoutes } from './features/people/index.js';
import { definePollJobs, pollRoutes, pollSocket } from './features/polls/index.js';
import { Presence, presenceSocket, RedisShare, RedisViewerShare, Viewers } from './features/presence/index.js';
import { reactionRoutes, reactionSocket } from './features/reactions/index.js';
import { readRoutes, readSocket, UnreadPush, unreadTotals } from './features/reads/index.js';
import { defineReminderJobs, reminderRoutes, reminderSocket } from './features/reminders/index.js';
import { searchRoutes, searchSocket, startSearchIndexFlush } from './features/search/index.js';
import { sidebarRoutes, sidebarSocket } from './features/sidebar/index.js';
import { defineSpaceJobs, spaceRoutes, spaceSocket, spacesOfUsers } from './features/spaces/index.js';
import { dropMessageTasks, taskRoutes, taskSocket } from './features/tasks/index.js';
import { Typing, typingSocket } from './features/typing/index.js';
import { ensureUser, userRoutes } from './features/users/index.js';
import {
  defineWebhookJobs,
  HOOKS_TOPIC,
  HookRegistry,
  recordDeliveries,
  WEBHOOKS_TOPIC,
  WebhookPump,
  webhookRoutes,
} from './features/webhooks/index.js';
import { dataEpoch, holdDeletions, sweepHeldDeletions } from './platform/backup/runs.js';
import { type Config, fastifyTrustProxy } from './platform/config.js';
import { registerCors } from './platform/cors.js';
import { type Database, openDatabase } from './platform/db/index.js';
import { defineVacuum } from './platform/db/maintenance.js';
import { lastKnownMigration, type MigrationReport, runMigrations } from './platform/db/migrate.js';
import { registerDocsRedirects, registerDocsSite } from './platform/docs-site.js';
import { ApiError } from './platform/errors.js';
import { readChannelSeqs, readEvents } from './platform/event-log.js';
import { cspReportRoute, registerSecurityHeaders } from './platform/headers.js';
import { registerHttp } from './platform/http.js';
import { registerHttpLimits } from './platform/http-limits.js';
import { registerIdempotency } from './platform/idempotency.js';
import { JOBS_TOPIC, JobQueue } from './platform/jobs/queue.js';
import { checkMasterKey } from './platform/key-check.js';
import { fastifyAjvCompiler, once } from './platform/lazy-deps.js';
import { loggerOptions } from './platform/log.js';
import { defineMailJobs, mailQueue } from './platform/mail-queue.js';
import { createMailer } from './platform/mailer.js';
import { createMetrics, observeDatabase } from './platform/metrics.js';
import { startNodeRegistry } from './platform/nodes.js';
import { PARLEY_VERSION } from './platform/package-version.js';
import { closeH2Sessions } from './platform/push/h2.js';
import { MemoryRateLimiter, RedisRateLimiter } from './platform/rate-limit.js';
import { registerRequestContext } from './platform/request-context.js';
import { trackRequestless } from './platform/requestless.js';
import { createSealer, loadAdminToken, loadMasterKey, secretMatcher } from './platform/secrets.js';
import { createStorage } from './platform/storage/index.js';
import { APPS_TOPIC, AppRegistry } from './platform/tenancy.js';
import { TickBatcher } from './platform/tick-batch.js';
import { flushTracing, registerHttpTracing, startTracing } from './platform/tracing.js';
import { registerWebApp } from './platform/web.js';
import { type Broker, MemoryBroker } from './realtime/broker.js';
import { Bus } from './realtime/bus.js';
import { Gateway } from './realtime/gateway.js';
import { Hub } from './realtime/hub.js';
import { RedisBroker } from './realtime/redis-broker.js';
import { StabilityMeter } from './realtime/stability.js';
import { streamRoutes } from './realtime/stream-routes.js';
import type { Services } from './services.js';

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;
type AjvOptions = { customOptions: Record<string, unknown> };
type RouteValidator = (route: { httpPart?: string; schema?: unknown }) => unknown;
type ValidateFn = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type AjvFactory = (external: unknown, options: AjvOptions) => RouteValidator;
// Fastify's own Ajv validator factory, made by the first validator compiled (see `onFirstUse`).
const ajvFactory = once(() => (fastifyAjvCompiler() as () => AjvFactory)());
const ajvValidators: AjvFactory = (external, options) => ajvFactory()(external, options);

/**
 * Query strings and path params arrive as text, so they are coerced to their schema types;
 * JSON bodies are typed already and are not: coercing them would accept `{"text":123}` and,
 * worse, turn `null` into `""` in nullable strings (`{"text":null}` must clear a status).
 */
const validatorFactory =
  (eager: boolean): AjvFactory =>
  (external, options) => {
    // Made by the first validator compiled of each kind.
    const coercing = once(() => ajvValidators(external, options));
    const strict = once(() =>
      ajvValidators(external, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } }),
    );
    return (route) => {
      const compile = () => (route.httpPart === 'body' ? strict()(route) : coercing()(route)) as ValidateFn;
      const validate = eager ? compile() : onFirstUse(compile);
      return route.httpPart === 'body' ? validate : decimalIntegers(route.schema, validate);
    };
  };

/**
 * A route's validator compiled at its first request, not while the server is built: Ajv
 * compiling every route's schemas was ~1.2 s of CPU in a `parley start` that was ready in
 * ~4.2 s (a V8 profile of a fresh start), and a server answers most routes rarely or never.
 * `eagerSchemas` (tests) compiles them all up front, so a schema Ajv refuses fails a build.
 */
function onFirstUse(compile: () => ValidateFn): ValidateFn {
  let validate: ValidateFn | undefined;
  const v: ValidateFn = (data, ctx) => {
    validate ??= compile();
    const ok = validate(data, ctx);
    v.errors = validate.errors;
    return ok;
  };
  // Every Ajv validator has one; Fastify then passes the parent (so a root value can be coerced).
  v.schemaEnv = true;
  return v;
}

/**
 * Ajv coerces any string that `Number()` reads: `0x10`, `1e3`, `Infinity`, ` 7 `. A whole-number
 * query or path parameter must be written as decimal digits (an optional `-`, which the
 * schema's minimum then refuses), so `before=0x10` is 400 like `before=abc`, not seq 16; the
 * schema's bounds refuse the rest (`1e20`, 40 digits).
 */
const DECIMAL = /^-?[0-9]+$/;
function decimalIntegers(schema: unknown, validate: ValidateFn): ValidateFn {
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  const integers = Object.keys(props).filter((k) => props[k]?.type === 'integer');
  if (integers.length === 0) return validate;
  const wrapped: ValidateFn = (data, ctx) => {
    for (const k of integers) {
      const v = (data as Record<string, unknown> | null)?.[k];
      if (typeof v === 'string' && !DECIMAL.test(v)) {
        wrapped.errors = [
          {
            keyword: 'type',
            instancePath: `/${k}`,
            schemaPath: `#/properties/${k}/type`,
            params: { type: 'integer' },
            message: 'must be an integer written in decimal digits',
          },
        ];
        return false;
      }
    }
    const ok = validate(data, ctx);
    wrapped.errors = validate.errors;
    return ok;
  };
  wrapped.schemaEnv = validate.schemaEnv;
  return wrapped;
}

export interface BuildOptions {
  /** An already open database (tests); otherwise opened from the config and closed on close. */
  database?: Database;
  /**
   * The config's database, which the caller began opening earlier (`parley start` opens the
   * embedded one while the server's modules load); the server owns it and closes it on close.
   */
  opening?: Promise<Database>;
  /** A broker (tests wire several nodes to one network); default: Redis with `redisUrl`, else in process. */
  broker?: Broker;
  /**
   * Compile every route's request schemas while building (default: each at its route's first
   * request). A test builds one server this way so a schema Ajv refuses fails CI, not a call.
   */
  eagerSchemas?: boolean;
  /** Apply pending migrations while building (default true). */
  migrate?: boolean;
  /**
   * Move stored picture URLs onto the configured public URL when it changed (default true;
   * features/images/origin.ts). Off for a passing server of the CLI's (`parley demo` seeding),
   * whose public URL is a guess at the one `parley start` will have.
   */
  followPublicUrl?: boolean;
  /** `false` silences logs. */
  logger?: boolean;
  /** Where log lines go instead of stdout (tests capture them); wins over `logger: false`. */
  logStream?: DestinationStream /** Now, in ms since the epoch (tests of lockout timing move it); default `Date.now`. */;
  clock?: () => number;
}

export interface ParleyServer {
  app: FastifyInstance;
  svc: Services;
  gateway: Gateway;
  /** The admin token, and whether it was generated by this start (print it then). */
  admin: { token: string; generated: boolean };
  /** The shutdown step running now (null before close begins, 'closed' after): where a hang is. */
  shutdownStep(): string | null;
  /**
   * Begin a drain: from now on `/readyz` answers 503, so load balancers and Kubernetes take this
   * node out of rotation, while it still serves everything (`app.close()` then finishes it).
   */
  startDraining(): void;
  /** The background thread running this node's jobs (PARLEY_BACKGROUND), if there is one. */
  background: Background | null;
}

/** A shutdown step taking longer than this is logged (it names what a hung shutdown waits on). */
const SLOW_STEP_MS = 10_000;

export async function buildServer(given: Config, opts: BuildOptions = {}): Promise<ParleyServer> {
  const ownsDb = !opts.database;
  // Traces (OTEL_EXPORTER_OTLP_ENDPOINT): OpenTelemetry is loaded only then, beside the database.
  const tracing = given.tracing ? startTracing(given.tracing, given.nodeId, PARLEY_VERSION) : null;
  const database =
    opts.database ?? (await (opts.opening ?? openDatabase({ url: given.databaseUrl, dataDir: given.dataDir })));
  // PARLEY_BACKGROUND (auto: thread on PostgreSQL): this node's jobs run on a thread of their
  // own (background.ts), which opens the database from its URL; this server only enqueues them.
  // The embedded database belongs to this thread alone, so there they run here.
  const threaded =
    given.background !== 'inline' && given.jobWorkers && database.kind === 'postgres' && !!given.databaseUrl;
  const config: Config = threaded ? { ...given, jobWorkers: false } : given;
  await tracing;
  // Spawned now: the thread loads its modules while this one migrates and builds.
  const launch = threaded ? new BackgroundLaunch(given, opts.logger !== false) : null;
  const masterKey = loadMasterKey(config.masterKey, config.dataDir);
  let migrated: MigrationReport | null = null;
  let keyChecked: Promise<void> = Promise.resolve();
  if (opts.migrate !== false) {
    // Throws DatabaseTooNewError, changing nothing, on a database a newer release made unfit.
    migrated = await runMigrations(database);
    // With the migrations, a start-up check on the database: workers and test harnesses
    // (migrate: false) rely on the process that migrated having checked it. A database this
    // start made from the template holds no key to differ from (its check writes the first):
    // there the build goes on meanwhile (an embedded one is still booting on its thread), and
    // the check is awaited before anything reads the database (below).
    keyChecked = checkMasterKey(database.db, masterKey);
    if (database.fresh) keyChecked.catch(() => {});
    else await keyChecked;
  }

  const sealer = createSealer(masterKey);
  const admin = loadAdminToken(config.adminToken, config.dataDir);
  const isAdminToken = secretMatcher(admin.token);

  const app = Fastify({
    logger: opts.logStream
      ? { ...loggerOptions(config.logLevel, config.nodeId), stream: opts.logStream }
      : opts.logger === false
        ? false
        : loggerOptions(config.logLevel, config.nodeId),
    // One line per request, written when it is answered (platform/log.ts), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // Off unless configured: X-Forwarded-* from anyone else would let a client choose its own
    // IP (rate limits, logs) and scheme.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    schemaController: {
      compilersFactory: {
        buildValidator: validatorFactory(opts.eagerSchemas ?? false) as unknown as ValidatorFactory,
        // Response schemas document the API; replies are plain JSON.stringify of presented
        // objects. Given here, Fastify does not load its own serializer compiler at start
        // (fast-json-stringify, ~25 ms of a first start).
        buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
      },
    },
    // Shutdown answers come from the catalogue (platform/http.ts), not Fastify's own body.
    return503OnClosing: false,
    // A request the HTTP parser cannot finish (malformed, cut off by a half-close, headers too
    // large, too slow) is answered in the error shape too, not Fastify's own body.
    clientErrorHandler: answerClientError,
    // URL faults the router meets before any route: answered in the error shape too.
    frameworkErrors: (error, _req, reply) => {
      const msg = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'Malformed URL';
      void (reply as unknown as FastifyReply).status(400).send({ error: { code: 'VALIDATION_ERROR', message: msg } });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Shutting down, a request that was already in flight keeps its answer but not its
  // connection: Node's server.close() reaps only the keep-alive connections idle at that moment,
  // and one answered a moment later would otherwise hold the close open for the whole
  // keep-alive timeout (72 s), e.g. an SDK's REST call still running when its user disconnected.
  let shuttingDown = false;
  // Draining (startDraining, or the close itself): /readyz fails so balancers stop sending here.
  let draining = false;
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (shuttingDown) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req) => {
    // Headers sent before the shutdown began said keep-alive: end the connection here instead.
    if (shuttingDown && !req.raw.socket.destroyed) req.raw.socket.end();
  });
  // Connections that have not yet made a request: none sent, or only part of a request's head.
  // Node's server.close() reaps idle keep-alive connections but waits for these until the
  // headers timeout (60 s) — a client that connected and stalls would hold the shutdown that
  // long. Shutting down, they are closed (requestless.ts); requests in flight still finish.
  const requestless = trackRequestless(app.server);

  const metrics = createMetrics(config.nodeId);
  observeDatabase(metrics, database);
  const broker = opts.broker ?? (config.redisUrl ? new RedisBroker(config.redisUrl) : new MemoryBroker());
  if (broker instanceof RedisBroker) await broker.ready();
  // The thread builds its server while this one builds; awaited at the end.
  const backgroundStarting = launch?.start(broker, app.log) ?? null;
  backgroundStarting?.catch(() => {});
  const jobs = new JobQueue(database, {
    log: app.log,
    registry: metrics.registry,
    work: config.jobWorkers,
    pollMs: config.jobPollMs,
    stopTimeoutMs: config.jobStopTimeoutMs,
    maintenanceSeconds: config.jobMaintenanceSeconds,
    wakeElsewhere: (name) => broker.publish(JOBS_TOPIC, { type: 'jobs.wake', frame: name }),
  });
  if (config.jobWorkers) broker.subscribe(JOBS_TOPIC);
  let background: Background | null = null;
  // Removals wait while a backup runs (platform/backup/runs.ts); backups read the store itself.
  const storage = createStorage(config, masterKey);
  const ownStore = storage.store;
  storage.store = holdDeletions(ownStore, database.db);
  const svc = {
    config,
    database,
    db: database.db,
    log: app.log,
    metrics,
    apps: new AppRegistry(database.db, sealer),
    broker,
    bus: new Bus(broker),
    jobs,
    storage,
    // Read with the key's check, before the jobs start (below).
    dataEpoch: undefined,
    clock: opts.clock ?? Date.now,
    sealer,
    mailer: createMailer({
      smtpUrl: config.smtpUrl,
      from: config.mailFrom,
      log: app.log,
      logBodies: config.mailLogBodies,
      queue: mailQueue(jobs, sealer),
    }),
  } as Services;
  svc.stability = new StabilityMeter(svc.clock, metrics);
  svc.hub = new Hub(
    broker,
    (appId, cid, after, upTo) => readEvents(svc, appId, cid, after, upTo - after, upTo),
    app.log,
  );
  svc.presence = new Presence(
    () => svc,
    broker instanceof RedisBroker ? new RedisShare(broker.client, config.nodeId, config.presenceTtlMs) : undefined,
  );
  svc.limiter = broker instanceof RedisBroker ? new RedisRateLimiter(broker.client) : new MemoryRateLimiter(svc.clock);
  svc.typing = new Typing(() => svc);
  svc.viewers = new Viewers(
    () => svc,
    broker instanceof RedisBroker
      ? new RedisViewerShare(broker.client, config.nodeId, config.presenceTtlMs)
      : undefined,
  );
  svc.chatSessions = new ChatSessions(() => svc, broker);
  svc.hooks = new HookRegistry(() => svc, broker);
  svc.webhooks = new WebhookPump(svc, svc.hooks, config.jobWorkers);
  // Hooks higher features register so lower ones need not import them (services.ts).
  svc.afterSend = [notifyMessage, recordMessage];
  svc.invited = async (svc, tx, appId, cid, actorId, userIds) =>
    userIds.length === 0
      ? () => {}
      : holdInboxTask(svc, tx, appId, {
          kind: 'items',
          items: invitationItems(appId, cid, actorId, userIds, svc.clock()),
        });
  svc.mentionsEdited = async (svc, tx, appId, messageId, added, removed) =>
    added.length === 0 && removed.length === 0
      ? () => {}
      : holdInboxTask(svc, tx, appId, {
          kind: 'mentions_edited',
          appId,
          messageId,
          added: [...added],
          removed: [...removed],
        });
  svc.channelRead = recordChannelRead;
  svc.messagesDeleted = dropMessageTasks;
  svc.presentMessage = presentMessage;
  svc.enrichMessages = enrichMessages;
  svc.ownReactions = ownReactions;
  svc.accessMessage = accessMessage;
  svc.deleteMessage = deleteMessage;
  svc.firstMessage = planFirstMessage;
  svc.spacesOfUsers = spacesOfUsers;
  svc.unreadTotals = unreadTotals;
  const unread = new UnreadPush(() => svc);
  svc.unread = unread;
  svc.bus.onPublished = (events) => unread.observe(events);
  svc.hub.onCounts = (appId, cid, userIds) => unread.local(appId, cid, userIds);
  svc.beforeCommit = (tx, out) => recordDeliveries(svc.hooks, tx, out, (lanes) => svc.webhooks.wake(lanes));
  svc.apps.listen(broker);
  svc.hub.onControl = (topic, msg) => {
    if (topic === SESSIONS_TOPIC) svc.chatSessions.receive(msg);
    else if (topic === APPS_TOPIC) svc.apps.receive(msg);
    else if (topic === HOOKS_TOPIC) svc.hooks.receive(msg);
    else if (topic === WEBHOOKS_TOPIC) svc.webhooks.receive(msg);
    else if (topic === ASSISTANT_TOPIC) receiveAssistantChange(svc, msg);
    else if (topic === FLAGS_TOPIC) liveFlags(svc).receive(msg);
    else if (topic === JOBS_TOPIC && config.jobWorkers) svc.jobs.wake(msg.frame);
  };
  // Each connection gets a flag change with its own user's value (features/flags/live.ts); made
  // now, so this node hears the others' changes (FLAGS_TOPIC) from the start.
  const flagRules = liveFlags(svc);
  svc.hub.personalize('feature_flags.updated', (appId, frame) => flagRules.personalFrames(appId, frame));
  svc.sends = new SendBatcher(
    () => svc,
    (job) => runSendJob(svc, job),
    {
      // PGlite runs one statement at a time; on PostgreSQL, one batch per connection of the
      // hot pool (platform/db/index.ts: 4), which keeps a burst to a few commits.
      maxInFlight: database.kind === 'pglite' ? 1 : 4,
      maxBatch: 256,
      // PostgreSQL runs a statement on one core: a burst runs as two statements at once (persist
      // 256 × 64: 4,600 → 5,900 msg/s, docs/benchmarks.md).
      spread: 2,
    },
  );
  // Watches run on the read lane's pool (platform/db/index.ts: 4), at most two batches at once.
  // A reconnect storm's clients send their watches one socket per turn, like their handshakes
  // below: during a burst a batch waits 5 ms for more (none: 6 watches a statement in the storm
  // bench, 2 ms: 9.5; 5 ms against 2: the storm back 0.81× and 0.94×, docs/benchmarks.md).
  svc.watches = watchBatcher(() => svc, {
    maxInFlight: database.kind === 'pglite' ? 1 : 2,
    maxBatch: 256,
    lingerMs: 5,
  });
  // Connects too: a storm's opening reads and watches then fill the read pool, never the sends'.
  // What a connect reads of its user (their row, their roles) is what their sends are checked
  // against: the send path keeps it (features/messages/access-cache.ts).
  // Their channels' rows are read ahead, after the hello (features/messages/warm.ts).
  const seed: SeedRows = (appId, user, digest, roles) => {
    svc.sends.cache.seed(appId, user, digest, roles);
    svc.sends.warmer.warm(
      appId,
      roles.map(([cid]) => cid),
    );
  };
  svc.openings = new TickBatcher((reads) => readOpenings(svc, reads, seed), {
    maxInFlight: database.kind === 'pglite' ? 1 : 2,
    maxBatch: 256,
    // A storm's sockets finish their handshakes one per turn: without a short wait during a
    // burst, quick reads went out one per connect (0.8–1.0 statements per connect against
    // 0.1–0.3 with it, and ~20 % more CPU per connect; docs/benchmarks.md). 5 ms against 2:
    // connects per second 1.12×, CPU per connect 0.93×.
    lingerMs: 5,
  });

  // The first connect to a channel on this node reads its seq again after subscribing
  // (realtime/gateway.ts): in a reconnect storm, every channel's first connect, one turn's in
  // one statement.
  svc.channelSeqs = new TickBatcher((asked) => readChannelSeqs(svc, asked), {
    maxInFlight: database.kind === 'pglite' ? 1 : 2,
    maxBatch: 256,
    lingerMs: 5,
  });

  // A span per request (when tracing is on), around everything the request does.
  registerHttpTracing(app);
  registerSecurityHeaders(app, { scriptHashes: () => web?.scriptHashes() ?? [] });
  // The client IP and user agent of each request, for the audit log (features/audit).
  registerRequestContext(app);
  // Daily and monthly active users (features/analytics).
  const activity = new ActivityTracker(() => svc);
  svc.activity = activity;

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: `1.${PROTOCOL_VERSION}.0`,
        description:
          'Parley chat engine. Every /v1 call needs `X-Api-Key` and `Authorization: Bearer <token>` (see docs/protocol.md). ' +
          `Errors: {"error":{"code","message","details?"}} with codes ${Object.keys(ERRORS).join(', ')}.`,
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          session: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
        },
      },
      security: [{ apiKey: [], bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, {
    // Under /docs/, beside the documentation site (platform/docs-site.ts).
    routePrefix: '/docs/api',
    // Its own page's CSP (with hashes of its inline parts), minus the upgrade to https that
    // would break the page on a plain-http server, and never framed.
    staticCSP: true,
    transformStaticCSP: (csp: string) =>
      csp.replace(/\s*upgrade-insecure-requests;?/, '').replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
  });

  // The bundled web app, when it was built (`npm ci` builds it): its files, and its page for
  // browser navigations no route answers. (After the security headers' hook, which they need.)
  const web = await registerWebApp(app, config.webDir);
  registerDocsRedirects(app, await registerDocsSite(app, config.docsDir));
  const pageFallback = web?.pageFallback ?? null;

  registerCors(app);
  registerHttp(app, {
    pageFallback,
    apps: svc.apps,
    metrics,
    isAdminToken,
    onUser: async (caller) => {
      // A token an account session minted works only while that session (and membership) lasts.
      if (caller.sessionId && !(await svc.chatSessions.check(caller.app.id, caller.userId, caller.sessionId)))
        throw new ApiError('UNAUTHORIZED', 'This token was signed out');
      await ensureUser(svc, caller.app.id, caller.userId);
      await activity.note(caller.app.id, caller.userId);
    },
    resolveAccount: (req) => resolveSession(svc, req),
  });

  registerHttpLimits(app, svc);
  registerIdempotency(app, svc.db, svc.clock);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true, version: PARLEY_VERSION }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    if (draining)
      return reply
        .status(503)
        .send({ error: { code: 'UNAVAILABLE', message: 'This node is draining (shutting down): use another' } });
    try {
      await database.ping();
      return { ok: true, database: database.kind };
    } catch {
      return reply.status(503).send({ error: { code: 'UNAVAILABLE', message: 'Database unreachable' } });
    }
  });
  /** This node's metrics and, with PARLEY_BACKGROUND=thread, its thread's (labelled `node: <id>/bg`). */
  const nodeMetrics = async () => {
    if (!background) return metrics.registry.metrics();
    const [own, thread] = await Promise.all([metrics.registry.getMetricsAsJSON(), background.metrics()]);
    return AggregatorRegistry.aggregate([own, thread]).metrics();
  };
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await nodeMetrics()),
  );
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The wire contract as documents (protocol's contract.ts), made once on first ask.
  let contract: { schema: string; asyncapi: string } | null = null;
  const contractDocs = () =>
    (contract ??= {
      schema: JSON.stringify(protocol.jsonSchemaBundle(protocol)),
      asyncapi: JSON.stringify(protocol.asyncApiDocument()),
    });
  app.get('/v1/schema.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('application/schema+json').send(contractDocs().schema),
  );
  app.get('/v1/asyncapi.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('application/json').send(contractDocs().asyncapi),
  );

  await app.register(cspReportRoute({ limiter: svc.limiter }));
  await app.register(appRoutes(svc));
  await app.register(userRoutes(svc));
  await app.register(peopleRoutes(svc));
  await app.register(channelRoutes(svc));
  await app.register(messageRoutes(svc));
  await app.register(reactionRoutes(svc));
  await app.register(pollRoutes(svc));
  await definePollJobs(svc);
  await app.register(emojiRoutes(svc));
  await app.register(readRoutes(svc));
  await app.register(eventRoutes(svc));
  await app.register(accountRoutes(svc));
  await app.register(oidcRoutes(svc));
  await app.register(membershipRoutes(svc));
  await app.register(jobRoutes(svc));
  await app.register(fileRoutes(svc));
  await app.register(imageRoutes(svc));
  await defineMailJobs(svc.jobs, svc.mailer, sealer, svc.log, config.mailRetrySeconds);
  await defineAccountJobs(svc);
  await defineFileJobs(svc);
  await app.register(linkRoutes(svc));
  await defineLinkJobs(svc);
  await app.register(searchRoutes(svc));
  await app.register(moderationRoutes(svc));
  await defineModerationJobs(svc);
  await app.register(auditRoutes(svc));
  await defineAuditJobs(svc);
  await app.register(analyticsRoutes(svc));
  await app.register(adminRoutes(svc));
  await app.register(backupRoutes(svc, { store: ownStore, masterKey }));
  await app.register(nodeRoutes(svc));
  await app.register(systemRoutes(svc));
  await app.register(importRoutes(svc));
  await defineImportJobs(svc);
  await defineAdminJobs(svc);
  await app.register(callRoutes(svc));
  await defineCallJobs(svc);
  await defineInvitationJobs(svc);
  await app.register(spaceRoutes(svc));
  await defineSpaceJobs(svc);
  await app.register(notificationRoutes(svc));
  await defineNotificationJobs(svc);
  await app.register(webhookRoutes(svc));
  await defineWebhookJobs(svc);
  await app.register(reminderRoutes(svc));
  await app.register(groupRoutes(svc));
  await app.register(inboxRoutes(svc));
  await defineInboxJobs(svc);
  await app.register(noteRoutes(svc));
  await app.register(commandRoutes(svc));
  await app.register(flagRoutes(svc));
  await app.register(assistantRoutes(svc));
  await defineReminderJobs(svc);
  await app.register(sidebarRoutes(svc));
  await app.register(taskRoutes(svc));
  await app.register(bookmarkRoutes(svc));
  await defineBookmarkJobs(svc);
  // Where no autovacuum runs (PGlite; a server with it off), a recurring vacuum and analyze.
  await defineVacuum(svc.jobs, database, { everyMinutes: config.vacuumMinutes, log: svc.log });

  const gateway = new Gateway(
    svc,
    {
      ...messageSocket,
      ...reactionSocket,
      ...pollSocket,
      ...readSocket,
      ...typingSocket,
      ...presenceSocket,
      ...eventSocket,
      ...channelSocket,
      ...searchSocket,
      ...linkSocket,
      ...callSocket,
      ...spaceSocket,
      ...reminderSocket,
      ...inboxSocket,
      ...noteSocket,
      ...sidebarSocket,
      ...taskSocket,
      ...commandSocket,
    },
    {
      open: async (s, appId, userId) => {
        // The user's flags for the hello: no query while this node knows the app's rules.
        const [opening, flags] = await Promise.all([
          openConnection(s, appId, userId),
          liveFlags(s).evaluated(appId, userId),
        ]);
        if (opening) opening.flags = flags;
        // Not awaited: the hello does not wait for the day's first-sight row and its commit
        // (a WAL flush, most of a connect's time in a storm of users not yet seen today on
        // this node). `note` never throws; during a burst its row waits up to 100 ms for
        // others' (`lazy`), and shutdown waits for it (`activity.settled`).
        if (opening) void activity.note(appId, userId, { lazy: true });
        return opening;
      },
      admit: admitConnection,
      lastSeqs: async (s, appId, cids) => {
        const seqs = await Promise.all(cids.map((cid) => s.channelSeqs.add({ appId, cid })));
        return new Map(cids.flatMap((cid, i) => (seqs[i] == null ? [] : [[cid, seqs[i] as number]])));
      },
      readLog: readEvents,
      closed: (s, conn) => {
        connectionClosed(s, conn);
        s.viewers.closed(conn.id);
      },
      mayRead: (s, caller, cid) => mayReadChannel(s.db, caller, cid),
      channelLost: (s, conn, cid) => s.viewers.lost(conn.id, cid),
    },
  );
  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  // The fallback transport (SSE down, POST up) for networks that refuse WebSocket upgrades.
  await app.register(streamRoutes(svc, gateway));

  try {
    await keyChecked;
  } catch (e) {
    await app.close().catch(() => {});
    if (ownsDb) await database.close().catch(() => {});
    throw e;
  }
  // A database that does not answer yet must not stop the build (the server answers 503 until
  // it does); the hello then goes without an epoch, as an older server's.
  svc.dataEpoch = await dataEpoch(database.db).catch(() => undefined);
  // After every feature defined its kinds: installs pg-boss's schema, creates the queues, and
  // (unless this node only enqueues) starts the workers.
  await svc.jobs.start();
  // Pictures stored under an earlier address follow the public URL (before the first request).
  if (opts.followPublicUrl !== false)
    await followPublicUrl(svc).catch((err: unknown) => svc.log.warn({ err }, 'pictures not moved to the public URL'));
  // What a previous run left, looked for now: inbox items a crash left underived
  // (features/inbox/record.ts), not at the job's period; removals a backup held, left by one that
  // died or by the deployment a restore came from. A database this start made from the template
  // has none, and on PGlite each first read of a table is a few ms of a first start.
  if (!database.fresh) {
    if (config.jobWorkers) recoverAtStart(svc);
    sweepHeldDeletions(database.db, ownStore).catch((err: unknown) => svc.log.warn({ err }, 'held removals not done'));
  }
  await svc.webhooks.start();
  if (backgroundStarting) background = await backgroundStarting;
  const searchFlush = startSearchIndexFlush(database, {
    everyMs: config.searchFlushMs,
    log: svc.log,
    registry: metrics.registry,
  });
  // This node's connection counts for usage analytics, at aligned instants.
  const stopSampler = startSampler(svc);
  if (migrated?.newer)
    svc.log.warn(
      { database: migrated.newer, version: PARLEY_VERSION, schema: lastKnownMigration() },
      'the database was migrated by a newer release that keeps this one working (a rolling upgrade): upgrade this node',
    );
  // In the node list with its version (GET /v1/admin/nodes); a failure only goes unlisted.
  const onRegistryError = (err: unknown) => svc.log.warn({ err }, 'could not update the node registry');
  const stopRegistry = await startNodeRegistry(
    svc.db,
    { id: config.nodeId, version: PARLEY_VERSION, schema: lastKnownMigration() },
    onRegistryError,
  ).catch((err) => {
    onRegistryError(err);
    return () => {};
  });
  // Temporary uploads a crash or a kill left: swept at start and every ten minutes, on each node
  // (the folder is the node's own, so no cluster-wide job).
  const stopUploadSweep = startUploadSweep(svc);

  // Each step of the shutdown is named while it runs, so a shutdown that hangs says where: the
  // log warns once a step has taken SLOW_STEP_MS, and ParleyServer.shutdownStep tells tests.
  const shutdown = { step: null as string | null };
  const step = async (name: string, run: () => unknown): Promise<void> => {
    shutdown.step = name;
    const slow = setTimeout(() => svc.log.warn({ step: name }, 'a shutdown step is slow'), SLOW_STEP_MS);
    slow.unref();
    try {
      await run();
    } finally {
      clearTimeout(slow);
    }
  };
  app.addHook('preClose', async () => {
    shuttingDown = true;
    draining = true;
    // First stop taking connections (Fastify closes the listener only after these steps), so
    // the sockets told below to reconnect, and any new client, land on another node: behind a
    // proxy, a refused connection is one it passes to the next node. Requests in flight finish;
    // Fastify's own close later waits for them (Node reports the listener already closed, which
    // Fastify takes as done).
    if (app.server.listening) app.server.close();
    await step('gateway', () => gateway.shutdown());
    await step('notifications', () => notifySettled(svc));
    // Unread counts of what committed are pushed while the database is still there.
    await step('unread', () => svc.unread.close());
    // The sockets' first-sight rows still lingering in their batch.
    await step('activity', () => activity.settled());
    // Mail being sent from memory (no durable queue) gets its bound to finish.
    await step('mailer flush', () => svc.mailer.flush());
    // Before the database closes: deliveries in flight are recorded and their lanes let go,
    // running jobs finish or are handed back.
    await step('webhooks', () => svc.webhooks.stop());
    await step('hooks', () => svc.hooks.close());
    await step('jobs', () => svc.jobs.stop());
    // After this thread's last hand-offs (the notifications step) were enqueued and woken.
    await step('background', () => background?.stop());
    await step('search flush', () => searchFlush.stop());
    requestless.closeAll();
  });
  app.addHook('onClose', async () => {
    stopSampler();
    stopRegistry();
    stopUploadSweep();
    svc.presence.close();
    svc.typing.close();
    svc.viewers.close();
    await step('mailer', () => svc.mailer.close());
    closeH2Sessions();
    await step('limiter', () => svc.limiter.close());
    await step('broker', () => broker.close());
    if (ownsDb) await step('database', () => database.close());
    // The last spans go out (the exporter stays: OpenTelemetry's provider is the process's).
    await step('traces', () => flushTracing());
    shutdown.step = 'closed';
  });

  return {
    app: app as unknown as FastifyInstance,
    svc,
    gateway,
    admin,
    shutdownStep: () => shutdown.step,
    startDraining: () => {
      draining = true;
    },
    background,
  };
}

/** What the HTTP layer answers a request it cannot read: the catalogue's shape, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request took too long to arrive']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large']
        : [400, 'The request is malformed or was cut off'];
  const body = JSON.stringify({ error: { code: 'VALIDATION_ERROR', message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
