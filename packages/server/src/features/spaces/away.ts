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
 */
import { and, eq } from 'drizzle-orm';
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

/** The kind, and presence's offline transitions armed for whoever is in a space. */
export async function defineSpaceJobs(svc: Services): Promise<void> {
  await svc.jobs.define<AwayJob>({
    name: AWAY.name,
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
    run: (job) => sweepAway(svc, job),
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
