/**
 * Idle rooms: a space's room chat that nobody has used for `config.spaces.roomIdleDays`
 * (`PARLEY_OFFICE_ROOM_IDLE_DAYS`) is archived, as an admin's archive would be (the channels
 * feature's `setArchived`: `archived_at` and a `channel.updated` to its members and watchers).
 * Idle means: nobody in the space, no live call in the room, and neither its newest message
 * (the "left" notes included) nor the space's last change (the last one out makes it `free`)
 * within the period. Entering the space unarchives the room inside the move (moves.ts).
 *
 * A recurring job (hourly, once per period across nodes) finds candidates without locks, then
 * archives each in a transaction of its own that locks the space first, as a move does, and
 * checks the rule again under that lock: a move that got there first wins, a move that comes
 * after waits and unarchives, and a second node running the same sweep finds it archived.
 */
import { and, eq, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { liveCallIn } from '../calls/index.js';
import { setArchived } from '../channels/index.js';

export const ROOMS_IDLE = 'spaces.archive_idle_rooms';
const DAY_MS = 86_400_000;
const BATCH = 200;

/** When the room last saw anyone or anything: its newest message, or the space's last change. */
const lastUsed = sql`greatest(s.updated_at, c.created_at,
  (select m.created_at from messages m where m.app_id = c.app_id and m.cid = c.cid order by m.seq desc limit 1))`;

/** Archive every room idle at `now` (default: the server's clock); answers how many it archived. */
export async function archiveIdleRooms(svc: Services, now = svc.clock()): Promise<number> {
  const days = svc.config.spaces.roomIdleDays ?? 0;
  if (days <= 0) return 0;
  const cutoff = new Date(now - days * DAY_MS);
  let archived = 0;
  let after: { appId: string; id: string } | null = null;
  for (;;) {
    const page: { app_id: string; id: string }[] = await rows<{ app_id: string; id: string }>(
      svc.db,
      sql`select s.app_id, s.id from spaces s
          join channels c on c.app_id = s.app_id and c.cid = s.cid
          where c.archived_at is null and s.status = 'free'
            and ${lastUsed} < ${cutoff.toISOString()}::timestamptz
            ${after ? sql`and (s.app_id, s.id) > (${after.appId}::uuid, ${after.id}::uuid)` : sql``}
          order by s.app_id, s.id limit ${BATCH}`,
    );
    for (const r of page) if (await archiveIfIdle(svc, r.app_id, r.id, cutoff, now)) archived++;
    const last = page.at(-1);
    if (page.length < BATCH || !last) return archived;
    after = { appId: last.app_id, id: last.id };
  }
}

/** The rule again, under the space's lock, and the archive if it still holds. */
async function archiveIfIdle(svc: Services, appId: string, spaceId: string, cutoff: Date, now: number) {
  return withTransaction(svc, async (tx, out) => {
    const [space] = await tx
      .select()
      .from(schema.spaces)
      .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, spaceId)))
      .for('update');
    if (!space?.cid) return false;
    const [inside] = await tx
      .select({ userId: schema.spaceOccupants.userId })
      .from(schema.spaceOccupants)
      .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.spaceId, spaceId)))
      .limit(1);
    if (inside) return false;
    if (await liveCallIn(tx, appId, space.cid)) return false;
    const [still] = await rows<{ idle: boolean }>(
      tx,
      sql`select ${lastUsed} < ${cutoff.toISOString()}::timestamptz as idle
          from spaces s join channels c on c.app_id = s.app_id and c.cid = s.cid
          where s.app_id = ${appId} and s.id = ${spaceId}`,
    );
    if (!still?.idle) return false;
    return (await setArchived(tx, out, appId, space.cid, true, new Date(now))) !== null;
  });
}

/** The hourly sweep (nothing when `roomIdleDays` is 0). */
export async function defineIdleRoomJobs(svc: Services): Promise<void> {
  if ((svc.config.spaces.roomIdleDays ?? 0) <= 0) return;
  await svc.jobs.defineRecurring(ROOMS_IDLE, 3600, async () => {
    const n = await archiveIdleRooms(svc);
    if (n > 0) svc.log.info({ archived: n }, 'archived idle office rooms');
  });
}
