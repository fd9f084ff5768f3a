/**
 * Moving through the office: enter a space, leave it, or go from one to another — one
 * transaction that locks the spaces involved (in id order, so two moves across the same two
 * spaces cannot deadlock), then the user's place, then the rooms' channel rows (seqs):
 *
 *   lock spaces → check (capacity, meeting) → move the occupant row → leave the old room,
 *   join the new one (member events; a system message unless the user said the same thing
 *   there within `quietMs`) → settle each space's status → commit → `space.updated` to the
 *   office's watchers, `presence.changed` with `space_id` to the user and their followers.
 *
 * Teleports and knocks end in the same move (`moveUser` with `admitted`), inside the
 * transaction that takes their answer.
 */

import type { Space, SpaceChange, SpaceStatus } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, notFound } from '../../platform/errors.js';
import { logEvents, type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { liveCallIn } from '../calls/index.js';
import { bump, presentChannel, presentMember, roomCid, setArchived, systemMessage } from '../channels/index.js';
import { presenceOutgoing } from '../presence/index.js';
import { presentUser, type UserRow } from '../users/index.js';
import { accessOfficeCaller, accessOfficeUser } from './access.js';
import { armAway } from './away-job.js';
import { meetingStarted } from './notes.js';
import { type OccupantRow, occupantsOf, presentSpace, type SpaceRow } from './present.js';

/** What a move may need beyond the mover: an answer taken in the same transaction. */
export interface MoveOptions {
  /** Let in past a meeting's closed door (a teleport accepted, a knock admitted). Capacity still holds. */
  admitted?: boolean;
  /** Runs after the spaces are locked and before anything moves (takes an invitation's answer). */
  before?: (tx: Tx, out: Outbox, at: Date) => Promise<void>;
}

/** A space's status from who is in it and whether its room has a live call. */
async function statusOf(tx: Tx, appId: string, row: SpaceRow, occupants: number): Promise<SpaceStatus> {
  if (occupants === 0) return 'free';
  if (!row.cid) return 'in_use';
  return (await liveCallIn(tx, appId, row.cid)) ? 'in_meeting' : 'in_use';
}

/**
 * Bring a locked space's status up to date; returns the space as it now stands and whether
 * the status moved (to be announced as `status`).
 */
export async function settleSpace(
  tx: Tx,
  appId: string,
  row: SpaceRow,
  at: Date,
): Promise<{ space: Space; statusChanged: boolean }> {
  const occupants = await occupantsOf(tx, appId, [row.id]);
  const status = await statusOf(tx, appId, row, occupants.length);
  let current = row;
  if (status !== row.status) {
    const [r] = await tx
      .update(schema.spaces)
      .set({ status, updatedAt: at })
      .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, row.id)))
      .returning();
    current = r ?? row;
  }
  return { space: presentSpace(current, occupants), statusChanged: status !== row.status };
}

export function spaceUpdated(
  out: Outbox,
  appId: string,
  space: Space,
  change: SpaceChange,
  userId: string | null,
  at: Date,
): void {
  out.push({
    to: 'spaces',
    appId,
    event: { type: 'space.updated', space, change, user_id: userId, created_at: at.toISOString() },
  });
}

/**
 * The room channel of a space, made on first entry (a `group` channel named after the space);
 * one archived for being idle (idle-rooms.ts) is unarchived, its history kept.
 */
async function ensureRoom(tx: Tx, out: Outbox, appId: string, row: SpaceRow, at: Date): Promise<string> {
  const cid = row.cid ?? roomCid(row.id);
  await tx
    .insert(schema.channels)
    .values({
      appId,
      cid,
      type: 'group',
      id: cid.slice('group:'.length),
      name: row.name,
      createdBy: null,
      memberCount: 0,
      createdAt: at,
      updatedAt: at,
    })
    .onConflictDoNothing();
  if (row.cid) await setArchived(tx, out, appId, cid, false, at);
  else
    await tx
      .update(schema.spaces)
      .set({ cid })
      .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, row.id)));
  return cid;
}

/**
 * Whether the room may say "X entered" (or "left") now: not if it said so for the same user
 * within `quietMs`. A budget of one per window in the shared limiter (Redis when scaled out),
 * so every node keeps the same quiet.
 */
async function mayAnnounce(svc: Services, appId: string, spaceId: string, userId: string, what: string) {
  const ms = svc.config.spaces.quietMs;
  if (ms <= 0) return true;
  return (await svc.limiter.hit(`space-note:${appId}:${spaceId}:${userId}:${what}`, 1, ms)).ok;
}

/** Put `user` in the room's members, with its `member.added` (and, unless quiet, a system message). */
async function joinRoom(
  svc: Services,
  tx: Tx,
  out: Outbox,
  appId: string,
  cid: string,
  user: UserRow,
  space: SpaceRow,
  at: Date,
) {
  const [ch] = await tx
    .select({ lastSeq: schema.channels.lastSeq })
    .from(schema.channels)
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
    .for('update');
  if (!ch) throw notFound('Channel');
  const [added] = await tx
    .insert(schema.members)
    // History before their arrival counts as read, as for anyone added to a channel.
    .values({ appId, cid, userId: user.id, role: 'member', joinedAt: at, lastReadSeq: ch.lastSeq })
    .onConflictDoNothing()
    .returning();
  if (!added) return;
  const say = await mayAnnounce(svc, appId, space.id, user.id, 'enter');
  const n = say ? 2 : 1;
  const row = await bump(tx, appId, cid, n, { memberCount: sql`${schema.channels.memberCount} + 1` });
  const channel = presentChannel(row);
  const seq = row.lastSeq - n + 1;
  const events = [
    {
      type: 'member.added' as const,
      cid,
      seq,
      created_at: at.toISOString(),
      member: presentMember(added, user, 'everyone'),
      channel,
    },
  ];
  const all = say
    ? [...events, await systemMessage(svc, tx, appId, cid, seq + 1, user.id, `${user.name} entered`, at)]
    : events;
  await logEvents(tx, out, appId, all);
  out.push({
    to: 'user',
    appId,
    userId: user.id,
    event: { type: 'channel.added', cid, channel, created_at: at.toISOString() },
  });
}

/** Take `user` out of the room's members, with `member.removed` (and, unless quiet, a system message). */
async function leaveRoom(
  svc: Services,
  tx: Tx,
  out: Outbox,
  appId: string,
  cid: string,
  user: UserRow,
  spaceId: string,
  at: Date,
) {
  const removed = await tx
    .delete(schema.members)
    .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, user.id)))
    .returning();
  if (removed.length === 0) return;
  const say = await mayAnnounce(svc, appId, spaceId, user.id, 'leave');
  const n = say ? 2 : 1;
  const row = await bump(tx, appId, cid, n, { memberCount: sql`greatest(${schema.channels.memberCount} - 1, 0)` });
  const channel = presentChannel(row);
  const seq = row.lastSeq - n + 1;
  const events = [
    { type: 'member.removed' as const, cid, seq, created_at: at.toISOString(), user_id: user.id, channel },
  ];
  const all = say
    ? [...events, await systemMessage(svc, tx, appId, cid, seq + 1, user.id, `${user.name} left`, at)]
    : events;
  await logEvents(tx, out, appId, all);
  out.push({
    to: 'user',
    appId,
    userId: user.id,
    event: { type: 'channel.removed', cid, created_at: at.toISOString() },
  });
}

/**
 * Move `userId` to `targetId` (null: out of the office). Returns the space they are in now
 * (or left, for a leave; null when they were in none). Refusals: NOT_FOUND (no such space),
 * SPACE_FULL (at capacity), FORBIDDEN (a meeting is going on: knock).
 */
export async function moveUser(
  svc: Services,
  appId: string,
  userId: string,
  targetId: string | null,
  opts: MoveOptions = {},
): Promise<Space | null> {
  const presence = (await svc.presence.statesOf(appId, [userId])).get(userId) ?? 'offline';
  return withTransaction(svc, async (tx, out) => {
    const at = new Date(svc.clock());
    // Going somewhere is checked; anyone may be taken out (a banned user too, by the away sweep).
    const user = await accessOfficeUser(tx, appId, userId, at.getTime(), { check: targetId !== null });
    const [mine] = await tx
      .select()
      .from(schema.spaceOccupants)
      .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));
    const fromId = mine?.spaceId ?? null;
    const ids = [...new Set([fromId, targetId].filter((x): x is string => x !== null))].sort();
    const locked =
      ids.length === 0
        ? []
        : await tx
            .select()
            .from(schema.spaces)
            .where(and(eq(schema.spaces.appId, appId), inArray(schema.spaces.id, ids)))
            .orderBy(schema.spaces.id)
            .for('update');
    const target = targetId ? locked.find((r) => r.id === targetId) : null;
    if (targetId && !target) throw notFound('Space');
    const from = fromId ? (locked.find((r) => r.id === fromId) ?? null) : null;
    await opts.before?.(tx, out, at);
    if (fromId === targetId) {
      if (!target) return null;
      return presentSpace(target, await occupantsOf(tx, appId, [target.id]));
    }
    if (target) {
      const inside: OccupantRow[] = await occupantsOf(tx, appId, [target.id]);
      if (target.capacity !== null && inside.length >= target.capacity)
        throw new ApiError('SPACE_FULL', `${target.name} is full (${target.capacity})`, {
          space_id: target.id,
          capacity: target.capacity,
        });
      if (target.status === 'in_meeting' && !opts.admitted)
        throw forbidden(`A meeting is going on in ${target.name}: knock to be let in`);
    }
    // The row's key (app, user) is what keeps a user in one space at a time.
    if (target)
      await tx
        .insert(schema.spaceOccupants)
        .values({ appId, userId, spaceId: target.id, enteredAt: at })
        .onConflictDoUpdate({
          target: [schema.spaceOccupants.appId, schema.spaceOccupants.userId],
          set: { spaceId: target.id, enteredAt: at },
        });
    else
      await tx
        .delete(schema.spaceOccupants)
        .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));

    // The space entered is announced before the one left: a client that applies them in turn
    // never sees the mover in no space at all (the office closed its room pane in between and
    // dropped and re-followed everyone's presence).
    let now: Space | null = null;
    if (target) {
      const cid = await ensureRoom(tx, out, appId, target, at);
      await joinRoom(svc, tx, out, appId, cid, user, target, at);
      const s = await settleSpace(tx, appId, { ...target, cid }, at);
      now = s.space;
      spaceUpdated(out, appId, s.space, 'entered', userId, at);
      if (s.statusChanged) spaceUpdated(out, appId, s.space, 'status', null, at);
    }
    let left: Space | null = null;
    if (from) {
      if (from.cid) await leaveRoom(svc, tx, out, appId, from.cid, user, from.id, at);
      const s = await settleSpace(tx, appId, from, at);
      left = s.space;
      spaceUpdated(out, appId, s.space, 'left', userId, at);
      if (s.statusChanged) spaceUpdated(out, appId, s.space, 'status', null, at);
    }
    // Moved while offline (REST, no socket): no offline transition will come to arm the sweep.
    if (target && presence === 'offline')
      await armAway(svc, tx, { appId, userId, lastActive: user.lastActiveAt?.getTime() ?? 0 });
    out.push(...presenceOutgoing(appId, presentUser(user), presence, at, { space_id: target?.id ?? null }));
    return target ? now : left;
  });
}

/**
 * A deleted user's place (admin/deletion.ts, inside its transaction): the occupant row goes,
 * the space is settled (free again if they were the last) and the office is told they left.
 * Their room membership goes with their other channels there; no "left" note is written, as
 * it would carry the name the deletion is erasing.
 */
export async function dropOccupant(tx: Tx, out: Outbox, appId: string, userId: string, at: Date): Promise<void> {
  const [mine] = await tx
    .select({ spaceId: schema.spaceOccupants.spaceId })
    .from(schema.spaceOccupants)
    .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));
  if (!mine) return;
  // The space first, as a move locks it, then the place.
  const [row] = await tx
    .select()
    .from(schema.spaces)
    .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, mine.spaceId)))
    .for('update');
  await tx
    .delete(schema.spaceOccupants)
    .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));
  if (!row) return;
  const s = await settleSpace(tx, appId, row, at);
  spaceUpdated(out, appId, s.space, 'left', userId, at);
  if (s.statusChanged) spaceUpdated(out, appId, s.space, 'status', null, at);
}

/** `space.enter` / `POST /v1/spaces/{id}/enter`. */
export async function enterSpace(svc: Services, caller: Caller, spaceId: string): Promise<Space> {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  const space = await moveUser(svc, appId, userId, spaceId);
  if (!space) throw notFound('Space');
  return space;
}

/** `space.leave` / `POST /v1/spaces/leave`: the space left, or null when in none. */
export async function leaveSpace(svc: Services, caller: Caller): Promise<Space | null> {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  return moveUser(svc, appId, userId, null);
}

/**
 * After a call in a space's room started or ended (calls feature, after its commit): settle
 * the space's status in a transaction of its own, so the call's locks (call → channel) and a
 * move's (space → channel) are never held against each other.
 */
export async function refreshSpaceOfRoom(svc: Services, appId: string, spaceId: string): Promise<void> {
  await withTransaction(svc, async (tx, out) => {
    const [row] = await tx
      .select()
      .from(schema.spaces)
      .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, spaceId)))
      .for('update');
    if (!row) return;
    const at = new Date(svc.clock());
    const s = await settleSpace(tx, appId, row, at);
    if (s.statusChanged) spaceUpdated(out, appId, s.space, 'status', null, at);
    if (s.statusChanged && s.space.status === 'in_meeting' && row.cid)
      await meetingStarted(svc, tx, out, appId, row.cid, at);
  });
}
