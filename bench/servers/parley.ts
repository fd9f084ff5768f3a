/**
 * Parley under test, alone in this process: `buildServer` from packages/server, listening on
 * 127.0.0.1 (a free port). Configured by the orchestrator through the environment:
 *
 *   BENCH_DATABASE_URL  PostgreSQL (unset: embedded PGlite in BENCH_DATA_DIR)
 *   BENCH_REDIS_URL     Redis broker for several nodes (unset: in process)
 *   BENCH_MIGRATE       "0" when another node already migrated the database
 *   BENCH_MASTER_KEY    shared by every node, so each can open the app secret
 *   BENCH_RATE_MESSAGES per-user send limit per window (0 = off; unset = the default)
 *   BENCH_WEB_PUSH_CA   a PEM certificate Web Push deliveries trust (the bench's push receiver)
 *   BENCH_PUSH_BURST_SECONDS the push burst window (0: every message pushes; unset = the default)
 *   BENCH_UNREAD_PUSH_MS the unread pushes' window (0: no unread pushes; unset = the default)
 *   BENCH_UNREAD_PUSH_MESSAGES_MS the window of a message's unread pushes (unset = the default)
 *   BENCH_LISTEN_BACKLOG the listen backlog (unset: the product's default, PARLEY_LISTEN_BACKLOG's)
 *   BENCH_OUTBOUND_ALLOW what PARLEY_OUTBOUND_ALLOW would say: private targets the server's own
 *                       calls may reach (the bench's webhook, hook and push receiver on loopback)
 *   BENCH_JOB_WORKERS   "0": this node runs no background jobs and sends no webhooks (an API node
 *                       beside a worker node, as PARLEY_JOB_WORKERS=0 makes one)
 *   BENCH_BACKGROUND    where this node's jobs run, as PARLEY_BACKGROUND says (unset: the default,
 *                       a worker thread on PostgreSQL)
 *   BENCH_BACKGROUND_NICE that thread's nice increment (PARLEY_BACKGROUND_NICE; unset: the default)
 *   BENCH_STATEMENTS    "1": tally the statements sent to PostgreSQL by their text (the
 *                       `statements` call), to see which ones a scenario's extra cost is made of
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { buildServer } from '../../packages/server/src/app.js';
import { defaultConfig, NO_HTTP_LIMITS } from '../../packages/server/src/platform/config.js';
import { outboundAllowFromEnv } from '../../packages/server/src/platform/outbound.js';
import { serve, serverCommon } from '../lib/proc.js';
import { stageMeans } from '../lib/stages.js';

const env = process.env;
/** Statements sent since the last `statements` call, by their first 160 characters (or name). */
const tally = new Map<string, number>();
if (env.BENCH_STATEMENTS === '1') {
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    const q = a[0] as string | { name?: string; text?: string };
    const text = typeof q === 'string' ? q : (q?.name ?? q?.text ?? '?');
    const key = String(text).replace(/\s+/g, ' ').trim().slice(0, 160);
    tally.set(key, (tally.get(key) ?? 0) + 1);
    return query.apply(this, a);
  } as typeof pg.Client.prototype.query;
}
let profiler: Session | null = null;
const t0 = performance.now();
const server = await buildServer(
  defaultConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir: env.BENCH_DATA_DIR as string,
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    redisUrl: env.BENCH_REDIS_URL || undefined,
    adminToken: 'bench-admin-token',
    masterKey: env.BENCH_MASTER_KEY,
    logLevel: 'silent',
    nodeId: env.BENCH_CHILD ?? 'bench',
    // Every client of a scenario connects from 127.0.0.1: the default REST limit per IP would
    // measure itself, not the server.
    httpLimits: NO_HTTP_LIMITS,
    // The fan-out sender is one user sending hundreds of messages a second: scenarios that
    // need it turn the per-user send limit off (BENCH_RATE_MESSAGES=0); others keep the default.
    ...(env.BENCH_RATE_MESSAGES ? { rateMessages: Number(env.BENCH_RATE_MESSAGES) } : {}),
    ...(env.BENCH_WEB_PUSH_CA ? { webPushCa: env.BENCH_WEB_PUSH_CA } : {}),
    ...(env.BENCH_JOB_WORKERS === '0' ? { jobWorkers: false } : {}),
    ...(env.BENCH_BACKGROUND ? { background: env.BENCH_BACKGROUND as 'auto' | 'inline' | 'thread' } : {}),
    ...(env.BENCH_BACKGROUND_NICE ? { backgroundNice: Number(env.BENCH_BACKGROUND_NICE) } : {}),
    ...(env.BENCH_PUSH_BURST_SECONDS ? { pushBurstSeconds: Number(env.BENCH_PUSH_BURST_SECONDS) } : {}),
    ...(env.BENCH_UNREAD_PUSH_MS ? { unreadPushMs: Number(env.BENCH_UNREAD_PUSH_MS) } : {}),
    ...(env.BENCH_UNREAD_PUSH_MESSAGES_MS ? { unreadPushMessagesMs: Number(env.BENCH_UNREAD_PUSH_MESSAGES_MS) } : {}),
    ...(env.BENCH_OUTBOUND_ALLOW
      ? { outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: env.BENCH_OUTBOUND_ALLOW }) }
      : {}),
  }),
  { logger: false, migrate: env.BENCH_MIGRATE !== '0' },
);
// Event-loop delay, sampled every millisecond, reported and reset with the send stages.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const address = await server.app.listen({
  port: 0,
  host: '127.0.0.1',
  // As `parley start` listens: the product's backlog (4,096), unless the bench says otherwise.
  backlog: env.BENCH_LISTEN_BACKLOG ? Number(env.BENCH_LISTEN_BACKLOG) : server.svc.config.listenBacklog,
});
serve(
  {
    ...serverCommon,
    /** Sockets this node holds (a check that the generator's count is the server's). */
    sockets: () => [...server.svc.hub.allConnections()].length,
    /** SQL statements issued so far (the database's own counter). */
    queries: () => server.svc.database.queryCount(),
    /** Where sends spent their time since the last call (mean ms per stage), and reset. */
    sendStages: async () => {
      const line = await stageMeans(server.svc.metrics.registry);
      // The unread pushes over the same span: counts pushed, and passes read whole or added to.
      const m = server.svc.metrics;
      const counts = (await m.unreadPairs.get()).values[0]?.value ?? 0;
      const passes = Object.fromEntries((await m.unreadPasses.get()).values.map((v) => [v.labels.from, v.value]));
      const unread = `; unread pushes ${counts} (passes read whole ${passes.mark ?? 0}, added to ${passes.kept ?? 0})`;
      server.svc.metrics.registry.resetMetrics();
      // How late the event loop ran its callbacks over the same span: a send waits that long too.
      const lag = `; event-loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(2)} p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} max ${(loopDelay.max / 1e6).toFixed(1)} ms`;
      loopDelay.reset();
      return line + unread + lag;
    },
    /** CPU profile of one measured window (BENCH_PROFILE_DIR): start… */
    profileStart: async () => {
      profiler ??= new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return null;
    },
    /** The statement tally (BENCH_STATEMENTS=1), most frequent first, and reset. */
    statements: () => {
      const top = [...tally].sort((a, b) => b[1] - a[1]);
      tally.clear();
      return top;
    },
    /** …and stop, writing a .cpuprofile that Chrome DevTools opens. */
    profileStop: async (a: { file: string }) => {
      if (!profiler) return null;
      const { profile } = await profiler.post('Profiler.stop');
      mkdirSync(path.dirname(a.file), { recursive: true });
      writeFileSync(a.file, JSON.stringify(profile));
      profiler.disconnect();
      profiler = null;
      return a.file;
    },
  },
  { url: address, startMs: performance.now() - t0, database: server.svc.database.kind },
);
