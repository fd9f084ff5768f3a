/**
 * Who went away: someone whose every connection is gone keeps their place for
 * `config.spaces.awayMs` (`PARLEY_SPACE_AWAY_SECONDS`), then is taken out, so nobody stays in a
 * space forever and counts against its capacity. Presence says when a user went offline across
 * nodes (`onOffline`, called by the node whose view made the pooled state offline); a durable
 * job (`spaces.away`), rather than a timer, makes the sweep happen even if that node is gone by
 * the time the grace is over. A move made while offline (REST only, no socket) arms it too.
 *
 * The job decides when it runs, not when it is armed: back online (on any node) → nothing; a
 * newer absence (their `last_active_at` moved past the one the job was armed with: they came
 * back and went again) → nothing, that absence's own job decides; else out of the office.
 *
 * No node sees a user go whose only connection was on a node that died (or in a process that
 * stopped): the pool lapses them to offline (`presenceTtlMs`) with no transition anywhere. A
 * recurring sweep (`spaces.sweep`, once per period across nodes) covers them: it arms the same
 * job for every occupant the pool calls offline and who did not go in the last grace (those
 * have a job of their own). The job then decides as above — so someone is taken out only when
 * they were offline at the sweep and still are a grace later, without a return in between.
 */
import { and, asc, eq, gt, or } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import { AWAY, type AwayJob, armAway } from './away-job.js';
import { moveUser } from './moves.js';

/** Take `userId` out of the office if they are still away from the absence the job was armed for. */
export async function sweepAway(svc: Services, { appId, userId, lastActive }: AwayJob): Promise<void> {
  const state = (await svc.presence.statesOf(appId, [userId])).get(userId) ?? 'offline';
  if (state !== 'offline') return;
  const [user] = await svc.db
    .select({ lastActiveAt: schema.users.lastActiveAt })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  if (!user) return;
  if (user.lastActiveAt && user.lastActiveAt.getTime() > lastActive) return;
  await moveUser(svc, appId, userId, null);
}

export const SPACES_SWEEP = 'spaces.sweep';
/** Occupants read per statement of a sweep. */
const SWEEP_PAGE = 500;

/** How often the sweep runs, in ms (0: never): `config.spaces.sweepMs`, else half the grace in [1 s, 1 min]. */
export function sweepPeriodMs(spaces: Services['config']['spaces']): number {
  return spaces.sweepMs ?? Math.min(60_000, Math.max(1_000, spaces.awayMs / 2));
}

/**
 * Arm the away job of every occupant, of every app, whom the pool calls offline and who did not
 * go offline within the grace (their last `last_active_at`); answers how many were armed. The
 * pool is read strictly: if it cannot be read, the run fails (and is retried) rather than take
 * this node's own view — which knows only its own connections — for everyone's.
 */
export async function sweepOffline(svc: Services): Promise<number> {
  const recent = svc.clock() - svc.config.spaces.awayMs;
  const o = schema.spaceOccupants;
  let armed = 0;
  let after: { appId: string; userId: string } | null = null;
  for (;;) {
    const page: { appId: string; userId: string; lastActiveAt: Date | null }[] = await svc.db
      .select({ appId: o.appId, userId: o.userId, lastActiveAt: schema.users.lastActiveAt })
      .from(o)
      .leftJoin(schema.users, and(eq(schema.users.appId, o.appId), eq(schema.users.id, o.userId)))
      .where(
        after ? or(gt(o.appId, after.appId), and(eq(o.appId, after.appId), gt(o.userId, after.userId))) : undefined,
      )
      .orderBy(asc(o.appId), asc(o.userId))
      .limit(SWEEP_PAGE);
    const byApp = new Map<string, typeof page>();
    for (const r of page) {
      const list = byApp.get(r.appId);
      if (list) list.push(r);
      else byApp.set(r.appId, [r]);
    }
    for (const [appId, list] of byApp) {
      const states = await svc.presence.pooledStatesOf(
        appId,
        list.map((r) => r.userId),
      );
      for (const r of list) {
        if (states.get(r.userId) !== 'offline') continue;
        const lastActive = r.lastActiveAt?.getTime() ?? 0;
        if (lastActive > recent) continue;
        // Once per grace however often sweeps find them, with what they were last seen at: a
        // return and a clean going since then makes the job a no-op.
        if (await armAway(svc, svc.db, { appId, userId: r.userId, lastActive }, { once: true })) armed++;
      }
    }
    const last = page.at(-1);
    if (page.length < SWEEP_PAGE || !last) return armed;
    after = { appId: last.appId, userId: last.userId };
  }
}

/** The kinds, and presence's offline transitions armed for whoever is in a space. */
export async function defineSpaceJobs(svc: Services): Promise<void> {
  await svc.jobs.define<AwayJob>({
    name: AWAY.name,
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
    run: (job) => sweepAway(svc, job),
  });
  const every = sweepPeriodMs(svc.config.spaces);
  if (every > 0)
    await svc.jobs.defineRecurring(SPACES_SWEEP, every / 1000, async () => {
      const n = await sweepOffline(svc);
      if (n > 0) svc.log.info({ armed: n }, 'armed the away sweep of occupants no node saw go');
    });
  svc.presence.onOffline((appId, userId, lastActive) => {
    void (async () => {
      const [here] = await svc.db
        .select({ spaceId: schema.spaceOccupants.spaceId })
        .from(schema.spaceOccupants)
        .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));
      if (here) await armAway(svc, svc.db, { appId, userId, lastActive });
    })().catch((err: unknown) => svc.log.warn({ err, user: userId }, 'could not arm the sweep of an away occupant'));
  });
}
