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
 * recurring sweep (`spaces.sweep`, once per period across nodes; the shape every such sweep
 * shares is features/presence/offline-sweep.ts) covers them: it arms the same job for every occupant the pool calls offline and who did not go in the last grace (those
 * have a job of their own). The job then decides as above — so someone is taken out only when
 * they were offline at the sweep and still are a grace later, without a return in between.
 */
import { and, asc, eq, gt, or, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { TickBatcher } from '../../platform/tick-batch.js';
import type { Services } from '../../services.js';
import { defineOfflineSweep, type OfflineSweep, type SweptRow, stillGone } from '../presence/index.js';
import { AWAY, type AwayJob, armAway } from './away-job.js';
import { defineIdleRoomJobs } from './idle-rooms.js';
import { moveUser } from './moves.js';

/**
 * Take `userId` out of the office if they are still away from the absence the job was armed for
 * (the pool read strictly: a pool that cannot be read fails the job, which is retried, rather
 * than take someone online on another node for gone).
 */
export async function sweepAway(svc: Services, { appId, userId, lastActive }: AwayJob): Promise<void> {
  if (await stillGone(svc, appId, userId, lastActive)) await moveUser(svc, appId, userId, null);
}

export const SPACES_SWEEP = 'spaces.sweep';

/**
 * The sweep of occupants no node saw go (features/presence/offline-sweep.ts): every occupant,
 * of every app, in (app, user) order; each found offline has the away job armed, once per grace,
 * with what they were last seen at — a return and a clean going since makes it a no-op.
 */
function occupantSweep(svc: Services): OfflineSweep<SweptRow> {
  const o = schema.spaceOccupants;
  return {
    name: SPACES_SWEEP,
    graceMs: svc.config.spaces.awayMs,
    everyMs: svc.config.spaces.sweepMs,
    what: 'armed the away sweep of occupants no node saw go',
    page: (after, limit) =>
      svc.db
        .select({ appId: o.appId, userId: o.userId, lastActiveAt: schema.users.lastActiveAt })
        .from(o)
        .leftJoin(schema.users, and(eq(schema.users.appId, o.appId), eq(schema.users.id, o.userId)))
        .where(
          after ? or(gt(o.appId, after.appId), and(eq(o.appId, after.appId), gt(o.userId, after.userId))) : undefined,
        )
        .orderBy(asc(o.appId), asc(o.userId))
        .limit(limit),
    arm: (r, lastActive) => armAway(svc, svc.db, { appId: r.appId, userId: r.userId, lastActive }, { once: true }),
  };
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
  await defineOfflineSweep(svc, occupantSweep(svc));
  await defineIdleRoomJobs(svc);
  // Who of those who went offline together is in a space: one read for all of them (a node's
  // every socket dropping at once made one read each, most of a reconnect storm's statements).
  const occupants = new TickBatcher<{ appId: string; userId: string }, boolean>(
    async (items) => {
      const found = await rows<{ i: number }>(
        svc.db,
        sql`select v.i from json_to_recordset(${JSON.stringify(items.map((x, i) => ({ i, a: x.appId, u: x.userId })))}::json)
              as v(i int, a uuid, u text)
            where exists (select 1 from space_occupants o where o.app_id = v.a and o.user_id = v.u)`,
      );
      const inSpace = new Set(found.map((r) => r.i));
      return items.map((_, i) => inSpace.has(i));
    },
    { maxInFlight: 1, maxBatch: 1000, lingerMs: 20 },
  );
  svc.presence.onOffline((appId, userId, lastActive) => {
    void (async () => {
      if (await occupants.add({ appId, userId })) await armAway(svc, svc.db, { appId, userId, lastActive });
    })().catch((err: unknown) => svc.log.warn({ err, user: userId }, 'could not arm the sweep of an away occupant'));
  });
}
