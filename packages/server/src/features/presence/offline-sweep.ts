/**
 * Recurring sweeps of users whom no node saw go. A node that dies holding someone's only
 * connection (or a process that stops) announces nothing: the pool lapses them to offline
 * (`presenceTtlMs`) with no transition anywhere, so whatever a feature arms on `onOffline` or on
 * a socket's close never runs for them. A feature whose rows must not outlive their user's
 * connections (a place in a space, a place in a call) defines a sweep over those rows here.
 *
 * Each run (once per period across nodes, `defineRecurring`) reads the feature's rows in pages,
 * asks the pool who of their users is offline — strictly: if the pool cannot be read, the run
 * fails and is retried, rather than take this node's own view, which knows only its own
 * connections, for everyone's — and hands every row whose user is offline and did not go within
 * the grace (their `last_active_at`: a clean going armed the feature's own path) to the
 * feature's `arm`. That arms a durable job due after the grace, at most one per row per grace,
 * and the job checks again (`stillGone`): a row is acted on only when its user was offline at
 * the sweep and still is a grace later, with no return and clean going in between.
 */
import { and, eq } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';

/** A row a sweep reads: whose it is, and when they were last seen going (`users.last_active_at`). */
export interface SweptRow {
  appId: string;
  userId: string;
  lastActiveAt: Date | null;
}

export interface OfflineSweep<R extends SweptRow> {
  /** The recurring job's kind (`spaces.sweep`, `calls.sweep`). */
  name: string;
  /** How long a user must be gone before their row is acted on, in ms. */
  graceMs: number;
  /** How often the sweep runs, in ms: undefined for the default (`sweepPeriodMs`), 0 for never. */
  everyMs?: number | undefined;
  /**
   * Up to `limit` of the feature's rows after `after` (null: from the first) in one stable
   * order, so a run pages through all of them with one bounded statement each.
   */
  page(after: R | null, limit: number): Promise<R[]>;
  /**
   * Arm the feature's job for a row whose user the pool calls offline, `lastActive` being their
   * `last_active_at` in ms (0 if never stored); answers whether it was armed (false: one already
   * is, within this grace).
   */
  arm(row: R, lastActive: number): Promise<boolean>;
  /** What the log says after a run that armed some. */
  what: string;
}

/** Rows read per statement of a sweep. */
const SWEEP_PAGE = 500;

/** How often a sweep runs, in ms (0: never): `everyMs`, else half the grace in [1 s, 1 min]. */
export function sweepPeriodMs(graceMs: number, everyMs?: number): number {
  return everyMs ?? Math.min(60_000, Math.max(1_000, graceMs / 2));
}

/** The grace in whole seconds, as a job's delay and throttle window (at least 1). */
export function graceSeconds(graceMs: number): number {
  return Math.max(1, Math.ceil(graceMs / 1000));
}

/** One run of `sweep` over every app's rows; answers how many jobs it armed. */
export async function sweepOfflineUsers<R extends SweptRow>(svc: Services, sweep: OfflineSweep<R>): Promise<number> {
  const recent = svc.clock() - sweep.graceMs;
  let armed = 0;
  let after: R | null = null;
  for (;;) {
    const page = await sweep.page(after, SWEEP_PAGE);
    const byApp = new Map<string, R[]>();
    for (const r of page) {
      const list = byApp.get(r.appId);
      if (list) list.push(r);
      else byApp.set(r.appId, [r]);
    }
    for (const [appId, list] of byApp) {
      const states = await svc.presence.pooledStatesOf(appId, [...new Set(list.map((r) => r.userId))]);
      for (const r of list) {
        if (states.get(r.userId) !== 'offline') continue;
        const lastActive = r.lastActiveAt?.getTime() ?? 0;
        // Gone within the grace: a node saw it, and the feature's own path is armed.
        if (lastActive > recent) continue;
        if (await sweep.arm(r, lastActive)) armed++;
      }
    }
    const last = page.at(-1);
    if (page.length < SWEEP_PAGE || !last) return armed;
    after = last;
  }
}

/** Define `sweep`'s recurring job (nothing when its period is 0). */
export async function defineOfflineSweep<R extends SweptRow>(svc: Services, sweep: OfflineSweep<R>): Promise<void> {
  const every = sweepPeriodMs(sweep.graceMs, sweep.everyMs);
  if (every <= 0) return;
  await svc.jobs.defineRecurring(sweep.name, every / 1000, async () => {
    const n = await sweepOfflineUsers(svc, sweep);
    if (n > 0) svc.log.info({ armed: n, sweep: sweep.name }, sweep.what);
  });
}

/**
 * Whether `userId` is still away from the absence a job was armed for (`lastActive`, their
 * `last_active_at` then): offline in the pool, read strictly (a pool that cannot be read
 * rejects, and the job is retried), and not back and gone again since (a newer
 * `last_active_at`: that absence's own job decides). A deleted user is not "still gone".
 */
export async function stillGone(svc: Services, appId: string, userId: string, lastActive: number): Promise<boolean> {
  const state = (await svc.presence.pooledStatesOf(appId, [userId])).get(userId) ?? 'offline';
  if (state !== 'offline') return false;
  const [user] = await svc.db
    .select({ lastActiveAt: schema.users.lastActiveAt })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  if (!user) return false;
  return !user.lastActiveAt || user.lastActiveAt.getTime() <= lastActive;
}
