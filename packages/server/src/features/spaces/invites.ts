/**
 * Teleports and knocks: two kinds of ringing invitation (features/invitations), owned here.
 *
 *   teleport: someone in a space asks a user to come (subject: the space). The invitee
 *             accepts (and is moved there, past a meeting's door, within capacity), declines,
 *             or lets it time out.
 *   knock:    someone asks to be let into a space whose meeting is going on (subject: the
 *             space and the knocker). Everyone inside is asked; the first who answers admits
 *             (the knocker is moved in) or turns them away, and the others' asks are cancelled.
 *
 * Every change goes as `space.invitation` to everyone it concerns (user topics). Lock order
 * is the invitations module's: the space first, then its invitations.
 */
import type { SpaceInvitation } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { liveCallIn } from '../calls/index.js';
import {
  answerInvitation,
  armTimer,
  cancelInvitations,
  createInvitations,
  type InvitationRow,
  registerInvitationKind,
  takeExpired,
} from '../invitations/index.js';
import { accessOfficeCaller, accessOfficeUser } from './access.js';
import { moveUser } from './moves.js';
import { KNOCK, knockSubject, loadSpace, presentInvitation, TELEPORT } from './present.js';

function tell(out: Outbox, appId: string, userIds: Iterable<string>, invitation: SpaceInvitation, at: Date) {
  for (const userId of new Set(userIds))
    out.push({
      to: 'user',
      appId,
      userId,
      event: { type: 'space.invitation', invitation, created_at: at.toISOString() },
    });
}

async function checkInviteRate(svc: Services, appId: string, userId: string) {
  const r = await svc.limiter.hit(`space-invite:${appId}:${userId}`, 20, 60_000);
  if (!r.ok)
    throw new ApiError('RATE_LIMITED', 'Too many teleports and knocks: at most 20 a minute', {
      retry_after_ms: r.retryAfterMs,
    });
}

const gone = () => new ApiError('CONFLICT', 'This invitation is no longer pending (answered, expired or cancelled)');

async function placeOf(tx: Tx, appId: string, userId: string): Promise<string | null> {
  const [row] = await tx
    .select({ spaceId: schema.spaceOccupants.spaceId })
    .from(schema.spaceOccupants)
    .where(and(eq(schema.spaceOccupants.appId, appId), eq(schema.spaceOccupants.userId, userId)));
  return row?.spaceId ?? null;
}

/** Ask `toUserId` to come to `spaceId`, where the caller is. */
export async function teleport(svc: Services, caller: Caller, spaceId: string, toUserId: string) {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  if (toUserId === userId) throw invalid('You are already where you are');
  await checkInviteRate(svc, appId, userId);
  let due: Date | null = null;
  const result = await withTransaction(svc, async (tx, out) => {
    await loadSpace(tx, appId, spaceId, true);
    if ((await placeOf(tx, appId, userId)) !== spaceId)
      throw forbidden('You can only bring people to the space you are in');
    const at = new Date(svc.clock());
    await accessOfficeUser(tx, appId, toUserId, at.getTime());
    if ((await placeOf(tx, appId, toUserId)) === spaceId)
      throw new ApiError('CONFLICT', `${toUserId} is already here`, { user_id: toUserId });
    const [row] = await createInvitations(svc, tx, {
      appId,
      kind: TELEPORT,
      subjectId: spaceId,
      fromUserId: userId,
      toUserIds: [toUserId],
      now: at,
      ttlMs: svc.config.spaces.inviteTimeoutMs,
    });
    const invitation = presentInvitation(row as InvitationRow);
    due = (row as InvitationRow).expiresAt;
    tell(out, appId, [toUserId, userId], invitation, at);
    return invitation;
  });
  if (due) armTimer(svc, appId, TELEPORT, spaceId, due);
  return result;
}

/** The invitee answers a teleport; accepting moves them (SPACE_FULL refuses and leaves it pending). */
export async function answerTeleport(svc: Services, caller: Caller, spaceId: string, accept: boolean) {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  let invitation: SpaceInvitation | null = null;
  const take = async (tx: Tx, out: Outbox, at: Date) => {
    const row = await answerInvitation(
      tx,
      { appId, kind: TELEPORT, subjectId: spaceId, userId, now: at },
      accept ? 'accepted' : 'declined',
      null,
    );
    if (!row) throw gone();
    invitation = presentInvitation(row, userId);
    tell(out, appId, [row.fromUserId, userId], invitation, at);
  };
  if (accept) await moveUser(svc, appId, userId, spaceId, { admitted: true, before: take });
  else
    await withTransaction(svc, async (tx, out) => {
      await loadSpace(tx, appId, spaceId, true);
      await take(tx, out, new Date(svc.clock()));
    });
  return invitation as unknown as SpaceInvitation;
}

/** Knock on a space whose meeting is going on: everyone inside is asked to let the caller in. */
export async function knock(svc: Services, caller: Caller, spaceId: string) {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  await checkInviteRate(svc, appId, userId);
  const subjectId = knockSubject(spaceId, userId);
  let due: Date | null = null;
  const result = await withTransaction(svc, async (tx, out) => {
    const { row, occupants } = await loadSpace(tx, appId, spaceId, true);
    const inside = occupants.map((o) => o.userId);
    if (inside.includes(userId)) throw new ApiError('CONFLICT', 'You are in this space already');
    // The stored status follows a call's start a moment after it commits (the calls feature
    // tells spaces after commit, calls.ts): a knock right after the start reads the call itself.
    const meeting = row.status === 'in_meeting' || (row.cid !== null && (await liveCallIn(tx, appId, row.cid)));
    if (!meeting)
      throw new ApiError('CONFLICT', `No meeting is going on in ${row.name}: enter instead`, { status: row.status });
    const at = new Date(svc.clock());
    const rows = await createInvitations(svc, tx, {
      appId,
      kind: KNOCK,
      subjectId,
      fromUserId: userId,
      toUserIds: inside,
      now: at,
      ttlMs: svc.config.spaces.inviteTimeoutMs,
    });
    const invitation = presentInvitation(rows[0] as InvitationRow);
    due = (rows[0] as InvitationRow).expiresAt;
    tell(out, appId, [...inside, userId], invitation, at);
    return invitation;
  });
  if (due) armTimer(svc, appId, KNOCK, subjectId, due);
  return result;
}

/** Someone inside admits (moves them in) or turns away `knockerId`; the others are no longer asked. */
export async function answerKnock(svc: Services, caller: Caller, spaceId: string, knockerId: string, admit: boolean) {
  const { appId, userId } = await accessOfficeCaller(svc.db, caller, svc.clock());
  const subjectId = knockSubject(spaceId, knockerId);
  let invitation: SpaceInvitation | null = null;
  const take = async (tx: Tx, out: Outbox, at: Date) => {
    const { occupants } = await loadSpace(tx, appId, spaceId, false);
    const inside = occupants.map((o) => o.userId);
    if (!inside.includes(userId)) throw forbidden('Only who is in the space may answer a knock on it');
    const row = await answerInvitation(
      tx,
      { appId, kind: KNOCK, subjectId, userId, now: at },
      admit ? 'accepted' : 'declined',
      null,
    );
    if (!row) throw gone();
    await cancelInvitations(tx, { appId, kind: KNOCK, subjectId, now: at });
    invitation = presentInvitation(row, userId);
    tell(out, appId, [...inside, knockerId], invitation, at);
  };
  if (admit) await moveUser(svc, appId, knockerId, spaceId, { admitted: true, before: take });
  else
    await withTransaction(svc, async (tx, out) => {
      await loadSpace(tx, appId, spaceId, true);
      await take(tx, out, new Date(svc.clock()));
    });
  return invitation as unknown as SpaceInvitation;
}

/** Due teleports or knocks of a subject: tell who they concern that nobody answered in time. */
function expire(kind: string) {
  return async (svc: Services, appId: string, subjectId: string): Promise<void> => {
    const spaceId = subjectId.split(':')[0] as string;
    await withTransaction(svc, async (tx, out) => {
      const [space] = await tx
        .select({ id: schema.spaces.id })
        .from(schema.spaces)
        .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, spaceId)))
        .for('update');
      const at = new Date(svc.clock());
      const expired = await takeExpired(tx, { appId, kind, subjectId, now: at });
      if (!space || expired.length === 0) return;
      if (kind === TELEPORT)
        for (const row of expired) tell(out, appId, [row.toUserId, row.fromUserId], presentInvitation(row), at);
      // A knock is one question to several people: told once, to all of them and the knocker.
      else
        tell(
          out,
          appId,
          [...expired.map((r) => r.toUserId), (expired[0] as InvitationRow).fromUserId],
          presentInvitation(expired[0] as InvitationRow),
          at,
        );
    });
  };
}

registerInvitationKind({ name: TELEPORT, expire: expire(TELEPORT) });
registerInvitationKind({ name: KNOCK, expire: expire(KNOCK) });
