/**
 * Durable background jobs on pg-boss, the same on PostgreSQL and on embedded PGlite (pg-boss
 * runs its SQL through the small executor below, so it shares the server's database: no second
 * pool, and on PGlite no second process).
 *
 * - Enqueued in the caller's transaction (`enqueue(tx, …)`): pg-boss's `send` takes the
 *   transaction's own connection as its `db`, so a job exists exactly when the change that
 *   caused it commits (an outbox without a relay), and a rollback leaves no job behind.
 * - Run once across nodes and `--workers` processes: a fetch marks jobs active with
 *   `FOR UPDATE SKIP LOCKED`, so two fetchers never take the same row.
 * - Retries with exponential backoff (pg-boss: `retryDelay · 2^n`, jittered); after the last
 *   one a job stays `failed` — the dead-letter state — until an admin retries it.
 * - A crash mid-job: the job stays `active` until its `expireInSeconds` passes and pg-boss's
 *   supervisor fails it into a retry. On PGlite one process owns the database, so every
 *   `active` job found at start is an orphan of a crash and is released at once.
 * - Graceful stop: no new fetches, running jobs get `stopTimeoutMs` to finish, and any still
 *   running then are failed back into the queue (their retry comes from another node or the
 *   next start) rather than left active until they expire.
 *
 * Handlers must be idempotent: a job may run again after a crash, a timeout or a release.
 */
import type { Transaction } from '@electric-sql/pglite';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database, Queryable } from '../db/index.js';
import { type Executor, JOBS_SCHEMA, pgliteExecutor, queueOptions } from './install.js';
import type { QueueSettings } from './template-queues.js';

export { JOBS_SCHEMA } from './install.js';

/** What a handler learns about the job it runs. */
export interface JobInfo {
  id: string;
  /** Attempts before this one (0 on the first run). */
  retryCount: number;
  createdOn: Date;
}

/** A kind of job by name, typed by its data: what `enqueue` takes. */
export interface JobRef<T extends object = object> {
  /** Queue name, `feature.verb` (letters, digits, `.`, `_`, `-`). */
  readonly name: string;
  /** Type only: the job's data. */
  readonly __data?: T;
}

/** Name a kind of job whose data is `T`. */
export const jobRef = <T extends object>(name: string): JobRef<T> => ({ name });

/** A kind of job: its queue name, its retry policy and its handler. */
export interface JobKind<T extends object = object> extends JobRef<T> {
  /** Retries after the first failure before the job is dead-lettered (default 5). */
  retryLimit?: number;
  /** Base delay of the exponential backoff, in seconds (default 2: ~2, 4, 8 … s, jittered). */
  retryDelaySeconds?: number;
  /** A run that lasts longer is taken for dead (a crashed node) and retried (default 300). */
  expireInSeconds?: number;
  /** Jobs of this kind one node runs at a time (default 2). */
  concurrency?: number;
  /**
   * pg-boss's queue policy. `short`: at most one job per `singletonKey` waits to start (a second
   * enqueue while one waits is a no-op); one may be running beside it. Every enqueue of a
   * `short` kind must give a `singletonKey` (jobs without one share the empty key). Default
   * `standard`: no such limit.
   */
  policy?: 'standard' | 'short';
  /** Do the work. Throw to fail the attempt. Must be idempotent. */
  run(data: T, job: JobInfo): Promise<void>;
}

/**
 * The broker topic on which a node that runs no jobs wakes the nodes that do (its frame: the
 * kind's name), so a job it enqueued starts now rather than at their next probe.
 */
export const JOBS_TOPIC = 'x:jobs';

/** Seconds before the first offers of recurring jobs in a database this start made (`start`). */
const FRESH_FIRST_OFFER_S = 10;

export interface JobQueueOptions {
  log: FastifyBaseLogger;
  registry: Registry;
  /** Whether this node runs handlers; `false` only enqueues (e.g. an API-only node). */
  work: boolean;
  /** How often the idle kinds are asked for due work (one statement for all of them), in ms. */
  pollMs: number;
  /** How long a graceful stop waits for running jobs before releasing them, in ms. */
  stopTimeoutMs: number;
  /** pg-boss maintenance (expiry of dead runs, archiving), in seconds; at least 1. */
  maintenanceSeconds: number;
  /**
   * On a node that does not work: wake the kind on the nodes that do (app.ts publishes it on the
   * broker), instead of leaving the job to their next probe (`pollMs`).
   */
  wakeElsewhere?: (name: string) => void;
}

/** A failed (dead-lettered) job, as the admin API lists it. */
export interface FailedJob {
  id: string;
  name: string;
  data: unknown;
  retryCount: number;
  createdOn: Date;
  completedOn: Date | null;
  error: unknown;
}

type QueryClient = { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

/** pg-boss's executor over the server's own database handle. */
function databaseExecutor(database: Database): Executor {
  const d = database.driver;
  if (d.kind === 'postgres') return { executeSql: (text, values) => d.pool.query(text, values as unknown[]) };
  return pgliteExecutor(d.client);
}

/**
 * The connection a drizzle transaction (or database) runs on, as an executor: drizzle keeps
 * it as `session.client` — a `pg` PoolClient inside a transaction on PostgreSQL, PGlite's
 * `Transaction` on PGlite. Checked, so a drizzle upgrade that moves it fails loudly here
 * rather than enqueueing outside the transaction.
 */
function queryableExecutor(database: Database, q: Queryable): Executor {
  const client = (q as unknown as { session?: { client?: QueryClient } }).session?.client;
  if (!client || typeof client.query !== 'function') throw new Error('jobs: cannot reach the transaction connection');
  if (database.kind === 'pglite') return pgliteExecutor(client as unknown as Transaction);
  return { executeSql: (text, values) => (client as unknown as pg.PoolClient).query(text, values as unknown[]) };
}

interface Running {
  name: string;
  id: string;
  done: Promise<void>;
  released: boolean;
}

export class JobQueue {
  private boss: PgBoss;
  private readonly kinds = new Map<string, JobKind<object>>();
  private readonly running = new Set<Running>();
  private readonly loops: Promise<void>[] = [];
  private readonly wakers = new Map<string, () => void>();
  /** Kinds woken since their loop last began a fetch (a wake during a fetch is not lost). */
  private readonly woken = new Set<string>();
  private readonly recurring: { kind: JobRef<Record<string, never>>; every: number; firstAfter: number }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopping = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly finished: Counter<'queue' | 'outcome'>;
  private readonly duration: Histogram<'queue' | 'outcome'>;
  private readonly wait: Histogram<'queue'>;

  constructor(
    private readonly database: Database,
    private readonly opts: JobQueueOptions,
  ) {
    this.boss = this.makeBoss();
    const registers = [opts.registry];
    const self = this;
    new Gauge({
      name: 'parley_jobs',
      help: 'Jobs by queue and state (created, retry, active, failed), read from the database at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        if (!self.started || self.stopping) return;
        this.reset();
        try {
          for (const r of await self.counts()) this.set({ queue: r.name, state: r.state }, r.n);
        } catch {
          // A scrape during shutdown or a database outage reports no job counts.
        }
      },
    });
    new Gauge({
      name: 'parley_jobs_running',
      help: 'Jobs this node is running now',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const r of self.running) this.inc({ queue: r.name });
      },
    });
    this.finished = new Counter({
      name: 'parley_jobs_finished_total',
      help: 'Job runs finished on this node, by outcome (completed, failed)',
      labelNames: ['queue', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'parley_job_run_seconds',
      help: 'How long a job run took',
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120],
      registers,
    });
    this.wait = new Histogram({
      name: 'parley_job_latency_seconds',
      help: 'From enqueue to the start of a run (queueing latency)',
      labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.25, 1, 2.5, 10, 30, 120, 600],
      registers,
    });
  }

  private makeBoss(): PgBoss {
    const opts = this.opts;
    const boss = new PgBoss({
      db: databaseExecutor(this.database) as PgBoss.Db,
      schema: JOBS_SCHEMA,
      migrate: true,
      supervise: opts.work,
      schedule: false,
      maintenanceIntervalSeconds: Math.max(1, opts.maintenanceSeconds),
      // Dead-lettered jobs stay listed (and retryable) for two weeks before pg-boss archives them.
      archiveFailedAfterSeconds: 14 * 24 * 3600,
    });
    boss.on('error', (err) => opts.log.warn({ err }, 'job queue maintenance failed'));
    return boss;
  }

  /** Add a kind of job. Before `start()` or after; its queue is created when the queue starts. */
  async define<T extends object>(kind: JobKind<T>): Promise<void> {
    if (this.kinds.has(kind.name)) throw new Error(`job kind ${kind.name} is defined twice`);
    if (!/^[a-z][\w.-]*$/i.test(kind.name)) throw new Error(`job kind name ${kind.name} is not a queue name`);
    this.kinds.set(kind.name, kind);
    if (this.started) {
      await this.createQueues([kind]);
      this.startLoop(kind);
    }
  }

  /**
   * Install or upgrade pg-boss's schema, create the queues and, if this node works, start
   * fetching. A database that cannot be reached, or any step that fails (a lock timeout, a
   * connection lost under load), does not stop the server from starting (it answers 503s until
   * the database is back): nothing is started until every queue exists, and the queue logs and
   * begins again every few seconds.
   */
  async start(): Promise<void> {
    if (this.started || this.stopping) return;
    try {
      await this.boss.start();
      // A database made from the template by this start has no run left by a dead process.
      if (this.database.kind === 'pglite' && this.opts.work && !this.database.fresh) await this.releaseOrphans();
      await this.createQueues(this.kinds.values());
    } catch (err) {
      if (this.stopping) return;
      this.opts.log.warn({ err }, 'job queue could not start; trying again in 5 s');
      // A pg-boss whose start failed part-way counts itself as starting: begin with a new one.
      await this.boss.stop({ graceful: false, close: false, wait: false }).catch(() => {});
      this.boss = this.makeBoss();
      this.retry = setTimeout(() => void this.start(), 5_000);
      this.retry.unref();
      return;
    }
    if (this.stopping) {
      // Stopped while starting: stop() found nothing started; pg-boss's maintenance is.
      await this.boss.stop({ graceful: false, close: false, wait: false }).catch(() => {});
      return;
    }
    this.started = true;
    const probe = this.opts.work ? this.startProbe() : null;
    for (const kind of this.kinds.values()) this.startLoop(kind);
    // Every kind's worker waits now: one statement finds those with work left from before. A
    // database made from the template by this start has none: its first probe comes with the
    // poll. (Either statement is the first to open every queue's partition of the job table,
    // 0.15 s on PGlite: a first start is ready that much sooner.)
    if (!this.database.fresh) await probe?.();
    // Nothing recurring has work in a database this start made, and each first offer opens its
    // queue's partition of the job table: 8 offers were 0.18 s of PGlite on a first start's way
    // to listening. They come a little later there.
    for (const r of this.recurring)
      this.offer(r.kind, r.every, this.database.fresh ? Math.max(r.firstAfter, FRESH_FIRST_OFFER_S) : r.firstAfter);
  }

  /**
   * Create (or update) the queues of `kinds`, one node at a time on PostgreSQL: pg-boss makes a
   * queue's partition with DDL on its shared job table, and nodes doing so at once on a new
   * database deadlock (two compose nodes starting together did, one in two tries). The lock is
   * held on a connection of its own, so a pool of one (a test's) goes without.
   */
  private async createQueues(kinds: Iterable<JobKind<object>>): Promise<void> {
    const d = this.database.driver;
    if (d.kind !== 'postgres' || (d.pool.options.max ?? 10) < 2) {
      await this.createMissingQueues(kinds);
      return;
    }
    const client = await d.pool.connect();
    let broken = false;
    try {
      await client.query(`select pg_advisory_lock(hashtext('parley.jobs.queues'))`);
      await this.createMissingQueues(kinds);
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('parley.jobs.queues'))`).catch(() => {
        broken = true;
      });
      // A connection whose unlock failed may still hold the lock: closed, not reused.
      client.release(broken);
    }
  }

  /**
   * Create the queues of `kinds` that do not exist, and update those whose options differ from
   * their kind's. One read of the queue table first: on a database that has them all as defined
   * (the template's, or any start after the first) that read is the whole work, where creating
   * and updating each in turn took two statements a kind (64, about a third of a second of a
   * first start on PGlite).
   */
  private async createMissingQueues(kinds: Iterable<JobKind<object>>): Promise<void> {
    const existing = new Map((await this.boss.getQueues()).map((q) => [q.name, q]));
    for (const kind of kinds) {
      const options = queueOptions(kindQueue(kind));
      const found = existing.get(kind.name);
      if (!found) await this.boss.createQueue(kind.name, options);
      else if (sameQueueOptions(found, options)) continue;
      // An existing queue keeps what it was created with unless updated: a new policy applies to new jobs.
      await this.boss.updateQueue(kind.name, options);
    }
  }

  private startLoop(kind: JobKind<object>): void {
    if (this.opts.work && !this.stopping) this.loops.push(this.loop(kind));
  }

  /**
   * Runs left `active` by a process that died. Only on PGlite, where this process is the
   * database's only user: fail them now (into a retry, or dead-lettered if out of retries)
   * instead of waiting for their expiry.
   */
  private async releaseOrphans(): Promise<void> {
    const { executeSql } = databaseExecutor(this.database);
    await executeSql(
      `update ${JOBS_SCHEMA}.job set started_on = now() - expire_in - interval '1 second' where state = 'active'`,
      [],
    );
    await this.boss.expire();
  }

  /**
   * Enqueue a job on `q` — pass the transaction of the change that causes it, so the job is
   * committed or rolled back with it. Answers the job id. `singletonKey` makes a second
   * enqueue with the same key while one is queued a no-op (answers null). `startAt`: not before
   * that instant (to the millisecond, where whole `startAfterSeconds` may run up to a second late).
   */
  async enqueue<T extends object>(
    q: Queryable,
    kind: JobRef<T>,
    data: T,
    opts: { startAfterSeconds?: number; startAt?: Date; singletonKey?: string; singletonSeconds?: number } = {},
  ): Promise<string | null> {
    if (!this.kinds.has(kind.name)) throw new Error(`job kind ${kind.name} is not defined`);
    const send: PgBoss.SendOptions = { db: queryableExecutor(this.database, q) as PgBoss.Db };
    if (opts.startAfterSeconds) send.startAfter = opts.startAfterSeconds;
    if (opts.startAt) send.startAfter = opts.startAt;
    if (opts.singletonKey) send.singletonKey = opts.singletonKey;
    if (opts.singletonSeconds) send.singletonSeconds = opts.singletonSeconds;
    return this.boss.send(kind.name, data, send);
  }

  /**
   * Enqueue many jobs of one kind in one statement (pg-boss `insert`), each with its own
   * `singletonKey`: a key with a job already waiting is skipped, as with `enqueue`.
   */
  async enqueueMany<T extends object>(
    q: Queryable,
    kind: JobRef<T>,
    jobs: readonly { data: T; singletonKey?: string }[],
  ): Promise<void> {
    if (!this.kinds.has(kind.name)) throw new Error(`job kind ${kind.name} is not defined`);
    if (jobs.length === 0) return;
    await this.boss.insert(
      jobs.map((j) => ({ name: kind.name, data: j.data, ...(j.singletonKey ? { singletonKey: j.singletonKey } : {}) })),
      { db: queryableExecutor(this.database, q) as PgBoss.Db },
    );
  }

  /**
   * A kind that runs once per period of `everySeconds` (at most 12 hours, pg-boss's archive
   * interval) across all nodes. Every working node offers the current period's job on a timer,
   * a few times a period; pg-boss's throttle (`singletonSeconds`, one job per name, window and
   * key, enforced by a unique index) keeps all but the first offer of a window out. Durable:
   * a run that fails is retried like any job; a node down for a while is covered by the others.
   * `firstAfterSeconds`: this node offers nothing until it has run that long (default 0: at
   * once), for work that is pointless right after a start.
   */
  async defineRecurring(
    name: string,
    everySeconds: number,
    run: () => Promise<void>,
    opts: { firstAfterSeconds?: number } = {},
  ): Promise<void> {
    const every = Math.min(43_200, Math.max(1, Math.floor(everySeconds)));
    const firstAfter = Math.max(0, opts.firstAfterSeconds ?? 0);
    const kind: JobKind<Record<string, never>> = { name, retryLimit: 3, run: async () => run() };
    this.recurring.push({ kind, every, firstAfter });
    await this.define(kind);
    if (this.started) this.offer(kind, every, firstAfter);
  }

  private offer(kind: JobRef<Record<string, never>>, every: number, firstAfter = 0): void {
    if (!this.opts.work || this.stopping) return;
    const tick = () => {
      if (this.stopping) return;
      this.enqueue(this.database.db, kind, {}, { singletonKey: 'recurring', singletonSeconds: every }).catch((err) =>
        this.opts.log.warn({ err, queue: kind.name }, 'could not offer a recurring job'),
      );
    };
    const begin = () => {
      if (this.stopping) return;
      tick();
      const timer = setInterval(tick, Math.min(60, every / 4) * 1000);
      timer.unref();
      this.timers.push(timer);
    };
    if (firstAfter <= 0) {
      begin();
      return;
    }
    const wait = setTimeout(begin, firstAfter * 1000);
    wait.unref();
    this.timers.push(wait);
  }

  /**
   * One statement every `pollMs` for all idle kinds: which of them have a job due (enqueued on
   * another node, a retry or a delayed job whose time came). Only those fetch. Each kind
   * polling with its own fetch was a statement per kind per poll — 28 kinds, 28 a second on an
   * idle server: on PGlite 6 % of a core with nothing to do (26 % at a 100 ms poll), now 2 %.
   */
  private startProbe(): () => Promise<void> {
    let probing = false;
    const probe = async () => {
      if (probing || this.stopping || this.wakers.size === 0) return;
      probing = true;
      try {
        const { executeSql } = databaseExecutor(this.database);
        const r = await executeSql(
          // An index probe per kind (pg-boss's partial fetch index): half the cost of one scan
          // over every queue's partition on PGlite.
          `select q.name from unnest($1::text[]) q(name) where exists (select 1 from ${JOBS_SCHEMA}.job j
             where j.name = q.name and j.state < 'active' and j.start_after < now())`,
          [[...this.wakers.keys()]],
        );
        for (const row of r.rows) this.wake(row.name as string);
      } catch (err) {
        this.opts.log.warn({ err }, 'job probe failed');
      } finally {
        probing = false;
      }
    };
    const timer = setInterval(() => void probe(), this.opts.pollMs);
    timer.unref();
    this.timers.push(timer);
    return probe;
  }

  /** Ask an idle worker of `name` on this node to look for work now (after a commit). */
  wake(name: string): void {
    if (!this.opts.work) {
      this.opts.wakeElsewhere?.(name);
      return;
    }
    this.woken.add(name);
    this.wakers.get(name)?.();
  }

  private async loop(kind: JobKind<object>): Promise<void> {
    const concurrency = Math.max(1, kind.concurrency ?? 2);
    let mine = 0;
    const slotFreed: (() => void)[] = [];
    // Idle from the start: the probe, run as the queue starts, says which kinds have work.
    let idle = true;
    while (!this.stopping) {
      if (mine >= concurrency) {
        await new Promise<void>((r) => slotFreed.push(r));
        continue;
      }
      if (idle) {
        // Until woken: by a commit on this node, or by the probe finding work due.
        if (!this.woken.has(kind.name)) {
          await new Promise<void>((r) => this.wakers.set(kind.name, r));
          this.wakers.delete(kind.name);
          continue;
        }
        idle = false;
      }
      let jobs: PgBoss.JobWithMetadata<object>[] = [];
      // A wake from here on may be for a job this fetch does not see yet (committed after
      // its snapshot): remembered, so the loop looks again instead of sleeping a full poll.
      this.woken.delete(kind.name);
      try {
        jobs = await this.boss.fetch(kind.name, { batchSize: concurrency - mine, includeMetadata: true });
      } catch (err) {
        this.opts.log.warn({ err, queue: kind.name }, 'job fetch failed');
      }
      if (this.stopping) {
        // Fetched while stopping began: give them straight back.
        if (jobs.length)
          await this.release(
            kind.name,
            jobs.map((j) => j.id),
          ).catch(() => {});
        break;
      }
      if (jobs.length === 0) {
        idle = true;
        continue;
      }
      for (const job of jobs) {
        mine++;
        const entry: Running = { name: kind.name, id: job.id, released: false, done: Promise.resolve() };
        entry.done = this.runOne(kind, job, entry).finally(() => {
          mine--;
          this.running.delete(entry);
          slotFreed.shift()?.();
        });
        this.running.add(entry);
      }
    }
  }

  private async runOne(kind: JobKind<object>, job: PgBoss.JobWithMetadata<object>, entry: Running): Promise<void> {
    const started = performance.now();
    this.wait.observe({ queue: kind.name }, Math.max(0, (Date.now() - new Date(job.createdOn).getTime()) / 1000));
    let outcome: 'completed' | 'failed' = 'completed';
    let error: unknown;
    try {
      await kind.run(job.data, { id: job.id, retryCount: job.retryCount, createdOn: new Date(job.createdOn) });
    } catch (err) {
      outcome = 'failed';
      error = err;
    }
    this.duration.observe({ queue: kind.name, outcome }, (performance.now() - started) / 1000);
    this.finished.inc({ queue: kind.name, outcome });
    if (entry.released) return; // given back by a stop that did not wait for it
    try {
      if (outcome === 'completed') await this.boss.complete(kind.name, job.id);
      else {
        const e = error instanceof Error ? { message: error.message, name: error.name } : { message: String(error) };
        this.opts.log.warn({ err: error, queue: kind.name, job: job.id, attempt: job.retryCount + 1 }, 'job failed');
        await this.boss.fail(kind.name, job.id, e);
      }
    } catch (err) {
      // The job stays active and expires into a retry: at least once, never lost.
      this.opts.log.error({ err, queue: kind.name, job: job.id }, 'could not record a job outcome');
    }
  }

  private async release(name: string, ids: string[]): Promise<void> {
    for (const id of ids) await this.boss.fail(name, id, { message: 'released by a stopping node' });
  }

  /**
   * Stop fetching, give running jobs up to `stopTimeoutMs` to finish, then fail the rest back
   * into the queue. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.retry);
    for (const t of this.timers) clearInterval(t);
    for (const wake of this.wakers.values()) wake();
    if (!this.started) return;
    const all = Promise.all([...this.running].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, this.opts.stopTimeoutMs)))]);
    clearTimeout(timer);
    const left = [...this.running];
    for (const r of left) r.released = true;
    const byName = new Map<string, string[]>();
    for (const r of left) byName.set(r.name, [...(byName.get(r.name) ?? []), r.id]);
    for (const [name, ids] of byName) {
      await this.release(name, ids).catch((err: unknown) => this.opts.log.warn({ err }, 'could not release jobs'));
      this.opts.log.info({ queue: name, jobs: ids.length }, 'released running jobs at shutdown');
    }
    await this.boss.stop({ graceful: false, close: false, wait: true });
  }

  /** Job counts by queue and live state (completed ones excluded). */
  async counts(): Promise<{ name: string; state: string; n: number }[]> {
    const { executeSql } = databaseExecutor(this.database);
    const r = await executeSql(
      `select name, state::text as state, count(*)::int as n from ${JOBS_SCHEMA}.job
       where state in ('created', 'retry', 'active', 'failed') group by name, state`,
      [],
    );
    return r.rows as { name: string; state: string; n: number }[];
  }

  /** Dead-lettered jobs, newest first. */
  async listFailed(opts: { name?: string | undefined; limit: number }): Promise<FailedJob[]> {
    const { executeSql } = databaseExecutor(this.database);
    const r = await executeSql(
      `select id, name, data, retry_count, created_on, completed_on, output from ${JOBS_SCHEMA}.job
       where state = 'failed' and ($1::text is null or name = $1) order by completed_on desc nulls last, id limit $2`,
      [opts.name ?? null, opts.limit],
    );
    type Row = {
      id: string;
      name: string;
      data: unknown;
      retry_count: number;
      created_on: Date;
      completed_on: Date | null;
      output: unknown;
    };
    return (r.rows as Row[]).map((j) => ({
      id: j.id,
      name: j.name,
      data: j.data,
      retryCount: j.retry_count,
      createdOn: new Date(j.created_on),
      completedOn: j.completed_on ? new Date(j.completed_on) : null,
      error: j.output ?? null,
    }));
  }

  /** Put failed jobs back in their queue (one more attempt each); answers how many moved. */
  async retryFailed(name: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { executeSql } = databaseExecutor(this.database);
    const r = await executeSql(
      `with moved as (update ${JOBS_SCHEMA}.job set state = 'retry', retry_limit = retry_count + 1, start_after = now()
         where name = $1 and id = any($2::uuid[]) and state = 'failed' returning 1)
       select count(*)::int as n from moved`,
      [name, ids],
    );
    this.wake(name);
    return (r.rows[0]?.n as number | undefined) ?? 0;
  }

  /** The defined kinds' names, sorted. */
  names(): string[] {
    return [...this.kinds.keys()].sort();
  }

  /** Whether `name` is a defined kind. */
  has(name: string): boolean {
    return this.kinds.has(name);
  }
}

/** A kind's queue settings (those the templates hold, install.ts). */
function kindQueue(kind: JobKind<object>): QueueSettings {
  return {
    name: kind.name,
    policy: kind.policy ?? 'standard',
    retryLimit: kind.retryLimit ?? 5,
    retryDelay: kind.retryDelaySeconds ?? 2,
    expireInSeconds: kind.expireInSeconds ?? 300,
  };
}

/** True when a stored queue already has every option its kind sets. */
function sameQueueOptions(q: PgBoss.QueueResult, o: ReturnType<typeof queueOptions>): boolean {
  return (
    q.policy === o.policy &&
    q.retryLimit === o.retryLimit &&
    q.retryDelay === o.retryDelay &&
    q.retryBackoff === o.retryBackoff &&
    q.expireInSeconds === o.expireInSeconds
  );
}
