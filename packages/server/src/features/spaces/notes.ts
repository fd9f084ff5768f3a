/**
 * The office, spoken in its room: what happens in a space is said in its room channel as a
 * system message, beside "Ada entered" and "Ada left" (moves.ts):
 *
 * - a meeting starting ("Ada started a meeting", when the room's call makes the space
 *   `in_meeting`, in the transaction that settles its status) and ending (the call's own note,
 *   "Meeting ended · 12 min", calls/actions.ts);
 * - someone in the space setting or clearing their custom status ("Ada: 🍔 Lunch", "Ada
 *   cleared their status"), in a transaction of its own after the status's commit. Not when
 *   the status runs out (that is the clock, not news), and at most one a minute per person
 *   (`spaces.quietMs`, as for comings and goings), so trying a few on does not flood the room.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { schema, type Tx } from '../../platform/db/index.js';
import { logEvents, type Outbox, takeSeqs, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { systemMessage } from '../channels/index.js';
import type { UserRow } from '../users/index.js';
import { onStatusChange } from '../users/index.js';

/** "Ada started a meeting" in the room `cid`, by whoever started its live call (channel row locked by the seq). */
export async function meetingStarted(
  svc: Services,
  tx: Tx,
  out: Outbox,
  appId: string,
  cid: string,
  at: Date,
): Promise<void> {
  // The room's live call (ringing or active: a channel has at most one, calls/actions.ts).
  const [starter] = await tx
    .select({ by: schema.calls.createdBy, name: schema.users.name })
    .from(schema.calls)
    .leftJoin(
      schema.users,
      and(eq(schema.users.appId, schema.calls.appId), eq(schema.users.id, schema.calls.createdBy)),
    )
    .where(
      and(eq(schema.calls.appId, appId), eq(schema.calls.cid, cid), inArray(schema.calls.state, ['ringing', 'active'])),
    )
    .limit(1);
  if (!starter) return;
  const seq = await takeSeqs(tx, appId, cid, 1);
  const text = `${starter.name ?? starter.by} started a meeting`;
  await logEvents(tx, out, appId, [await systemMessage(svc, tx, appId, cid, seq, starter.by, text, at)]);
}

/** The text a status change says in the room. */
export function statusNote(user: Pick<UserRow, 'name' | 'statusText' | 'statusEmoji'>): string {
  if (user.statusText === null) return `${user.name} cleared their status`;
  return `${user.name}: ${user.statusEmoji ? `${user.statusEmoji} ` : ''}${user.statusText}`;
}

async function sayStatus(svc: Services, appId: string, user: UserRow): Promise<void> {
  const [place] = await svc.db
    .select({ spaceId: schema.spaces.id, cid: schema.spaces.cid })
    .from(schema.spaceOccupants)
    .innerJoin(
      schema.spaces,
      and(eq(schema.spaces.appId, schema.spaceOccupants.appId), eq(schema.spaces.id, schema.spaceOccupants.spaceId)),
    )
    .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, user.id)));
  if (!place?.cid) return;
  const cid = place.cid;
  const ms = svc.config.spaces.quietMs;
  if (ms > 0 && !(await svc.limiter.hit(`space-note:${appId}:${place.spaceId}:${user.id}:status`, 1, ms)).ok) return;
  await withTransaction(svc, async (tx, out) => {
    // Still in the room when the note is written (they may have walked out since the status).
    const [member] = await tx
      .select({ userId: schema.members.userId })
      .from(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, user.id)));
    if (!member) return;
    const at = new Date(svc.clock());
    const seq = await takeSeqs(tx, appId, cid, 1);
    await logEvents(tx, out, appId, [await systemMessage(svc, tx, appId, cid, seq, user.id, statusNote(user), at)]);
  });
}

onStatusChange(sayStatus);
