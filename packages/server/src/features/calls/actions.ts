/**
 * The calls feature's writes: the whole life of a call, each step one transaction that locks
 * the call's row first (then its participants, then its invitations), with the events
 * published after commit.
 *
 *   start → ringing ──accept/join──▶ active ──leave (fewer than two left) / end──▶ ended
 *              │ decline (everyone) ▶ declined   │ cancel ▶ cancelled
 *              │ timeout (nobody)   ▶ missed     │ every invitee busy ▶ busy
 *
 * `call.updated` goes to the channel (every member's devices: the callee's other devices
 * stop ringing when they see that someone answered, and the channel shows a live call);
 * `call.ring` goes to the invitee's user topic (every device, every node). The ring's timeout
 * is the invitation machinery's (features/invitations). A call that ends leaves a system
 * message in its channel: "Call ended · 12 min", "Missed call", "Call declined".
 */
import type { Call, CallChange, CallKind, CallParticipant, CallSignal, CallState } from '@parley/protocol';
import { formatCallLength, uuidv7 } from '@parley/protocol';
import { and, desc, eq, inArray, lt, ne } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { logEvents, type Outbox, takeSeqs, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { accessChannelRead, checkPost, memberRow, spaceOfRoom } from '../channels/index.js';
import {
  answerInvitation,
  armTimer,
  cancelInvitations,
  createInvitations,
  disarmTimer,
  registerInvitationKind,
  takeExpired,
} from '../invitations/index.js';
import { presentMessage } from '../messages/index.js';

export type CallRow = typeof schema.calls.$inferSelect;
export type ParticipantRow = typeof schema.callParticipants.$inferSelect;

/** The invitation kind of call rings. */
export const CALL_INVITATION = 'calls';
const LIVE: readonly string[] = ['ringing', 'active'];

/** Who acts: a user on one device (socket connection). */
export interface CallActor {
  appId: string;
  userId: string;
  connectionId: string;
}

export function actorOf(caller: Caller, connectionId: string): CallActor {
  const me = requireUser(caller, 'Calls are made as a user: use a user token');
  return { appId: me.app.id, userId: me.userId, connectionId };
}

// ---- presenting ------------------------------------------------------------------------

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentCall(row: CallRow, parts: ParticipantRow[]): Call {
  const duration = row.startedAt && row.endedAt ? Math.max(0, row.endedAt.getTime() - row.startedAt.getTime()) : null;
  return {
    id: row.id,
    cid: row.cid,
    created_by: row.createdBy,
    kind: row.kind as CallKind,
    state: row.state as CallState,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    ended_at: iso(row.endedAt),
    duration_ms: duration,
    participants: [...parts]
      .sort((a, b) => a.invitedAt.getTime() - b.invitedAt.getTime() || (a.userId < b.userId ? -1 : 1))
      .map(
        (p): CallParticipant => ({
          user_id: p.userId,
          state: p.state as CallParticipant['state'],
          invited: p.invited,
          connection_id: p.state === 'joined' ? p.connectionId : null,
          invited_at: p.invitedAt.toISOString(),
          joined_at: iso(p.joinedAt),
          left_at: iso(p.leftAt),
        }),
      ),
  };
}

/** Talk time as a system message says it: "45 s", "12 min", "1 h 5 min". */
/** The "Call ended · …" wording: the protocol's one rounding rule for talk time. */
export const formatDuration = formatCallLength;

// ---- reading ---------------------------------------------------------------------------

async function participantsOf(q: Queryable, appId: string, callIds: string[]): Promise<ParticipantRow[]> {
  if (callIds.length === 0) return [];
  return q
    .select()
    .from(schema.callParticipants)
    .where(and(eq(schema.callParticipants.appId, appId), inArray(schema.callParticipants.callId, callIds)));
}

/** A call with its participants; `lock` takes the call's row until commit (every writer does). */
async function loadCall(q: Queryable, appId: string, id: string, lock: boolean) {
  const query = q
    .select()
    .from(schema.calls)
    .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, id)));
  const [call] = lock ? await query.for('update') : await query;
  if (!call) throw notFound('Call');
  return { call, parts: await participantsOf(q, appId, [id]) };
}

/** The live call `userId` is joined to, other than `except`, if any. */
/** The id of the channel's live call (ringing or active), or null: a channel has at most one. */
export async function liveCallIn(q: Queryable, appId: string, cid: string): Promise<string | null> {
  const [live] = await q
    .select({ id: schema.calls.id })
    .from(schema.calls)
    .where(
      and(eq(schema.calls.appId, appId), eq(schema.calls.cid, cid), inArray(schema.calls.state, ['ringing', 'active'])),
    )
    .limit(1);
  return live?.id ?? null;
}

async function joinedCall(q: Queryable, appId: string, userId: string, except?: string): Promise<string | null> {
  const conds = [
    eq(schema.callParticipants.appId, appId),
    eq(schema.callParticipants.userId, userId),
    eq(schema.callParticipants.state, 'joined'),
    inArray(schema.calls.state, ['ringing', 'active']),
  ];
  if (except) conds.push(ne(schema.callParticipants.callId, except));
  const [row] = await q
    .select({ id: schema.callParticipants.callId })
    .from(schema.callParticipants)
    .innerJoin(
      schema.calls,
      and(eq(schema.calls.appId, schema.callParticipants.appId), eq(schema.calls.id, schema.callParticipants.callId)),
    )
    .where(and(...conds))
    .limit(1);
  return row?.id ?? null;
}

/** Per-user budgets (shared by every node with Redis); RATE_LIMITED says when to retry. */
async function checkRate(svc: Services, key: string, limit: number, windowMs: number, what: string) {
  if (limit <= 0) return;
  const r = await svc.limiter.hit(key, limit, windowMs);
  if (!r.ok)
    throw new ApiError('RATE_LIMITED', `Too many ${what}: at most ${limit} per ${windowMs / 1000} s`, {
      retry_after_ms: r.retryAfterMs,
    });
}

const checkRingRate = (svc: Services, appId: string, userId: string) =>
  checkRate(svc, `ring:${appId}:${userId}`, svc.config.calls.ringsPerMinute, 60_000, 'calls');

const busyError = (callId: string) =>
  new ApiError('CALL_BUSY', 'You are in another call: leave it first', { call_id: callId });

/** A call's access for reading: a participant, or someone who may read its channel. */
export async function getCall(svc: Services, caller: Caller, id: string): Promise<Call> {
  const me = requireUser(caller, 'Calls are read as a user: use a user token');
  const { call, parts } = await loadCall(svc.db, me.app.id, id, false);
  if (!parts.some((p) => p.userId === me.userId)) {
    try {
      await accessChannelRead(svc.db, me, call.cid);
    } catch {
      throw notFound('Call');
    }
  }
  return presentCall(call, parts);
}

/**
 * Call history, newest first: the calls of a channel the caller may read (`cid`), or else
 * every call the caller was part of (rung, joined or declined). Paged by call id (UUIDv7, in
 * time order): `before` is the previous page's `next`.
 */
export async function listCalls(
  svc: Services,
  caller: Caller,
  q: { cid?: string | undefined; state?: string | undefined; limit?: number | undefined; before?: string | undefined },
): Promise<{ calls: Call[]; next: string | null }> {
  const me = requireUser(caller, 'Call history is read as a user: use a user token');
  const appId = me.app.id;
  const limit = q.limit ?? 30;
  const conds = [eq(schema.calls.appId, appId)];
  if (q.cid) {
    await accessChannelRead(svc.db, me, q.cid);
    conds.push(eq(schema.calls.cid, q.cid));
  } else {
    conds.push(
      inArray(
        schema.calls.id,
        svc.db
          .select({ id: schema.callParticipants.callId })
          .from(schema.callParticipants)
          .where(and(eq(schema.callParticipants.appId, appId), eq(schema.callParticipants.userId, me.userId))),
      ),
    );
  }
  if (q.state) {
    const states = q.state.split(',');
    const known = new Set<string>(['ringing', 'active', 'ended', 'missed', 'declined', 'cancelled', 'busy']);
    const bad = states.find((s) => !known.has(s));
    if (bad) throw invalid(`Unknown call state "${bad}"`);
    conds.push(inArray(schema.calls.state, states));
  }
  if (q.before) conds.push(lt(schema.calls.id, q.before));
  const rows = await svc.db
    .select()
    .from(schema.calls)
    .where(and(...conds))
    .orderBy(desc(schema.calls.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const parts = await participantsOf(
    svc.db,
    appId,
    page.map((r) => r.id),
  );
  const byCall = new Map<string, ParticipantRow[]>();
  for (const p of parts) byCall.set(p.callId, [...(byCall.get(p.callId) ?? []), p]);
  return {
    calls: page.map((r) => presentCall(r, byCall.get(r.id) ?? [])),
    next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

// ---- events ----------------------------------------------------------------------------

function updated(
  out: Outbox,
  appId: string,
  call: Call,
  change: CallChange,
  userId: string,
  connectionId: string | null,
  at: Date,
): void {
  out.push({
    to: 'channel',
    appId,
    cid: call.cid,
    event: {
      type: 'call.updated',
      cid: call.cid,
      call,
      change,
      user_id: userId,
      connection_id: connectionId,
      created_at: at.toISOString(),
    },
  });
}

function ring(out: Outbox, appId: string, call: Call, userIds: string[], from: string, expiresAt: Date, at: Date) {
  for (const userId of userIds)
    out.push({
      to: 'user',
      appId,
      userId,
      event: {
        type: 'call.ring',
        cid: call.cid,
        call,
        from_user_id: from,
        expires_at: expiresAt.toISOString(),
        created_at: at.toISOString(),
      },
    });
}

// ---- writes ----------------------------------------------------------------------------

async function setParticipant(tx: Tx, appId: string, callId: string, userId: string, set: Partial<ParticipantRow>) {
  await tx
    .update(schema.callParticipants)
    .set(set)
    .where(
      and(
        eq(schema.callParticipants.appId, appId),
        eq(schema.callParticipants.callId, callId),
        eq(schema.callParticipants.userId, userId),
      ),
    );
}

/**
 * End a call in `state`: everyone still in leaves, everyone still rung has missed it, the
 * rings stop, and the channel gets its system message.
 */
async function finish(tx: Tx, out: Outbox, appId: string, call: CallRow, state: CallState, at: Date): Promise<CallRow> {
  await tx
    .update(schema.callParticipants)
    .set({ state: 'left', leftAt: at, connectionId: null })
    .where(
      and(
        eq(schema.callParticipants.appId, appId),
        eq(schema.callParticipants.callId, call.id),
        eq(schema.callParticipants.state, 'joined'),
      ),
    );
  await tx
    .update(schema.callParticipants)
    .set({ state: 'missed' })
    .where(
      and(
        eq(schema.callParticipants.appId, appId),
        eq(schema.callParticipants.callId, call.id),
        eq(schema.callParticipants.state, 'ringing'),
      ),
    );
  await cancelInvitations(tx, { appId, kind: CALL_INVITATION, subjectId: call.id, now: at });
  const [row] = await tx
    .update(schema.calls)
    .set({ state, endedAt: at })
    .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, call.id)))
    .returning();
  // In a space's room the call is the room's meeting (spaces/notes.ts says when it began):
  // however it ends, it is the meeting ending, timed from its start (or from when it was opened,
  // for someone who waited alone).
  const text = spaceOfRoom(call.cid)
    ? `Meeting ended · ${formatDuration(at.getTime() - (call.startedAt ?? call.createdAt).getTime())}`
    : state === 'ended' && call.startedAt
      ? `Call ended · ${formatDuration(at.getTime() - call.startedAt.getTime())}`
      : state === 'declined'
        ? 'Call declined'
        : 'Missed call';
  const seq = await takeSeqs(tx, appId, call.cid, 1, at);
  const [msg] = await tx
    .insert(schema.messages)
    .values({
      appId,
      id: uuidv7(),
      cid: call.cid,
      seq,
      userId: call.createdBy,
      type: 'system',
      text,
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  await logEvents(tx, out, appId, [
    { type: 'message.new', cid: call.cid, seq, created_at: at.toISOString(), message: presentMessage(msg!) },
  ]);
  disarmTimer(appId, CALL_INVITATION, call.id);
  return row!;
}

/**
 * After a participant's change: end the call if it has run its course — nobody rung any more
 * and fewer than two in it (a call that was never answered ends as declined or cancelled by
 * the caller's hand elsewhere; here, as missed/declined by how the rings ended).
 */
async function settle(tx: Tx, out: Outbox, appId: string, callId: string, at: Date): Promise<CallRow | null> {
  const { call, parts } = await loadCall(tx, appId, callId, false);
  if (!LIVE.includes(call.state)) return null;
  const ringing = parts.filter((p) => p.state === 'ringing').length;
  const joined = parts.filter((p) => p.state === 'joined').length;
  if (ringing > 0) return null;
  if (call.state === 'active') {
    if (joined >= 2) return null;
    return finish(tx, out, appId, call, 'ended', at);
  }
  // Still ringing, nobody rung any more: nobody answered.
  const invited = parts.filter((p) => p.invited);
  const state: CallState = invited.every((p) => p.state === 'declined')
    ? 'declined'
    : invited.every((p) => p.state === 'busy')
      ? 'busy'
      : 'missed';
  return finish(tx, out, appId, call, state, at);
}

/** The `change` of the `call.updated` that tells a call ended in `state`. */
function endChange(state: string): CallChange {
  return state === 'declined' || state === 'cancelled' || state === 'busy' || state === 'missed' ? state : 'ended';
}

/** Reload and present a call inside the transaction (after its writes). */
async function current(tx: Tx, appId: string, id: string): Promise<Call> {
  const { call, parts } = await loadCall(tx, appId, id, false);
  return presentCall(call, parts);
}

/**
 * Start a call in `cid` and ring its other members (or `invite`, members only). The caller
 * joins it on this device. Members who are in another call are marked busy and not rung; a
 * channel with more members than the mesh limit rings nobody unless `invite` names them (the
 * call is open for members to join, up to the limit).
 */
export async function startCall(
  svc: Services,
  caller: Caller,
  connectionId: string,
  body: { cid: string; kind: CallKind; invite?: string[] | undefined },
): Promise<Call> {
  const a = actorOf(caller, connectionId);
  const { appId, userId } = a;
  const max = svc.config.calls.maxParticipants;
  await checkRingRate(svc, appId, userId);
  let expiresAt: Date | null = null;
  const result = await withTransaction(svc, async (tx, out) => {
    // The channel's row locked: two members starting a call at once get one call.
    const ch = await accessChannelRead(tx, caller, body.cid, true);
    if (!ch.member) throw forbidden('Only members of the channel may call in it');
    checkPost(ch, svc.clock());
    const busy = await joinedCall(tx, appId, userId);
    if (busy) throw busyError(busy);
    const live = await liveCallIn(tx, appId, body.cid);
    if (live) throw new ApiError('CONFLICT', 'A call is going on in this channel: join it', { call_id: live });

    const members = await tx
      .select({ userId: schema.members.userId })
      .from(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, body.cid)));
    const others = members.map((m) => m.userId).filter((u) => u !== userId);
    let invitees: string[];
    if (body.invite) {
      invitees = [...new Set(body.invite)].filter((u) => u !== userId);
      const notMember = invitees.find((u) => !others.includes(u));
      if (notMember) throw invalid(`${notMember} is not a member of this channel`, { user_id: notMember });
      if (invitees.length + 1 > max)
        throw new ApiError('CALL_FULL', `A call carries at most ${max} participants`, { limit: max });
    } else {
      invitees = others.length + 1 <= max ? others : [];
    }
    const at = new Date(svc.clock());
    const id = uuidv7();
    const busyOnes = new Set<string>();
    for (const u of invitees) if (await joinedCall(tx, appId, u)) busyOnes.add(u);
    const rung = invitees.filter((u) => !busyOnes.has(u));
    const state: CallState = rung.length > 0 ? 'ringing' : invitees.length > 0 ? 'busy' : 'active';
    await tx.insert(schema.calls).values({
      appId,
      id,
      cid: body.cid,
      createdBy: userId,
      kind: body.kind,
      state: state === 'busy' ? 'ringing' : state,
      createdAt: at,
    });
    await tx.insert(schema.callParticipants).values([
      { appId, callId: id, userId, state: 'joined', invited: false, connectionId, invitedAt: at, joinedAt: at },
      ...invitees.map((u) => ({
        appId,
        callId: id,
        userId: u,
        state: busyOnes.has(u) ? 'busy' : 'ringing',
        invited: true,
        invitedAt: at,
      })),
    ]);
    const rows = await createInvitations(svc, tx, {
      appId,
      kind: CALL_INVITATION,
      subjectId: id,
      fromUserId: userId,
      toUserIds: rung,
      now: at,
      ttlMs: svc.config.calls.ringTimeoutMs,
    });
    let call = await current(tx, appId, id);
    updated(out, appId, call, 'started', userId, connectionId, at);
    if (state === 'busy') {
      // Everyone rung was in another call: over before it began.
      for (const u of busyOnes) updated(out, appId, call, 'busy', u, null, at);
      await finish(tx, out, appId, (await loadCall(tx, appId, id, true)).call, 'busy', at);
      call = await current(tx, appId, id);
      updated(out, appId, call, 'ended', userId, connectionId, at);
      return call;
    }
    for (const u of busyOnes) updated(out, appId, call, 'busy', u, null, at);
    if (rows[0]) {
      expiresAt = rows[0].expiresAt;
      ring(out, appId, call, rung, userId, rows[0].expiresAt, at);
    }
    return call;
  });
  if (expiresAt) armTimer(svc, appId, CALL_INVITATION, result.id, expiresAt);
  trackJoin(svc, appId, connectionId, result);
  liveChanged(svc, appId, result.cid);
  return result;
}

/** The participant row of `userId`, or NOT_FOUND for someone who cannot see the call. */
function partOf(parts: ParticipantRow[], userId: string): ParticipantRow | undefined {
  return parts.find((p) => p.userId === userId);
}

function checkLive(call: CallRow): void {
  if (!LIVE.includes(call.state)) throw new ApiError('CALL_ENDED', `The call is over (${call.state})`);
}

/**
 * Join the call on this device: answering a ring (`accept`), or joining a channel's live
 * call, or moving to this device (a reconnect). Refused past the mesh limit (CALL_FULL) and
 * while in another call (CALL_BUSY).
 */
export async function joinCall(
  svc: Services,
  caller: Caller,
  connectionId: string,
  callId: string,
  how: 'accept' | 'join',
): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    const me = partOf(parts, userId);
    if (!me && !(await memberRow(tx, appId, call.cid, userId))) throw notFound('Call');
    checkLive(call);
    const at = new Date(svc.clock());
    if (how === 'accept') {
      if (!me?.invited) throw forbidden('You were not rung for this call: join it instead');
      const answered = await answerInvitation(
        tx,
        { appId, kind: CALL_INVITATION, subjectId: callId, userId, now: at },
        'accepted',
        connectionId,
      );
      if (!answered)
        throw new ApiError(
          'CALL_ENDED',
          me.state === 'joined' ? 'Answered on another device' : 'This ring is over',
          me.state === 'joined' ? { connection_id: me.connectionId } : undefined,
        );
    }
    if (me?.state === 'joined' && me.connectionId === connectionId) {
      return presentCall(call, parts); // already in, on this device
    }
    const busy = await joinedCall(tx, appId, userId, callId);
    if (busy) throw busyError(busy);
    // Who is rung holds a seat until they answer or the ring ends: a join that would take it is
    // CALL_FULL, so someone rung can always answer (a fifth joiner once took the seat of a
    // fourth being rung, who then got CALL_FULL while still shown as ringing).
    const joined = parts.filter((p) => p.state === 'joined' && p.userId !== userId).length;
    const taken = parts.filter((p) => (p.state === 'joined' || p.state === 'ringing') && p.userId !== userId).length;
    const max = svc.config.calls.maxParticipants;
    if (taken + 1 > max)
      throw new ApiError('CALL_FULL', `A call carries at most ${max} participants`, {
        limit: max,
        ringing: parts.filter((p) => p.state === 'ringing' && p.userId !== userId).length,
      });
    if (me) {
      // A ring answered by joining is an answer too: the other devices stop ringing.
      if (how === 'join' && me.state === 'ringing')
        await answerInvitation(
          tx,
          { appId, kind: CALL_INVITATION, subjectId: callId, userId, now: at },
          'accepted',
          connectionId,
        );
      await setParticipant(tx, appId, callId, userId, {
        state: 'joined',
        connectionId,
        joinedAt: me.state === 'joined' ? me.joinedAt : at,
        leftAt: null,
      });
    } else {
      await tx.insert(schema.callParticipants).values({
        appId,
        callId,
        userId,
        state: 'joined',
        invited: false,
        connectionId,
        invitedAt: at,
        joinedAt: at,
      });
    }
    if (joined + 1 >= 2 && call.state === 'ringing') {
      await tx
        .update(schema.calls)
        .set({ state: 'active', startedAt: call.startedAt ?? at })
        .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, callId)));
    } else if (joined + 1 >= 2 && !call.startedAt) {
      await tx
        .update(schema.calls)
        .set({ startedAt: at })
        .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, callId)));
    }
    const now = await current(tx, appId, callId);
    updated(out, appId, now, how === 'accept' ? 'accepted' : 'joined', userId, connectionId, at);
    return now;
  });
  trackJoin(svc, appId, connectionId, result);
  return result;
}

/** Decline a ring (every device of the caller stops ringing). */
export async function declineCall(svc: Services, caller: Caller, connectionId: string, callId: string): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    const me = partOf(parts, userId);
    if (!me) throw notFound('Call');
    checkLive(call);
    const at = new Date(svc.clock());
    const answered = await answerInvitation(
      tx,
      { appId, kind: CALL_INVITATION, subjectId: callId, userId, now: at },
      'declined',
      connectionId,
    );
    if (!answered)
      throw new ApiError('CALL_ENDED', me.state === 'joined' ? 'Answered on another device' : 'This ring is over');
    await setParticipant(tx, appId, callId, userId, { state: 'declined', leftAt: at });
    updated(out, appId, await current(tx, appId, callId), 'declined', userId, connectionId, at);
    const ended = await settle(tx, out, appId, callId, at);
    const now = await current(tx, appId, callId);
    if (ended) updated(out, appId, now, endChange(ended.state), userId, connectionId, at);
    return now;
  });
  if (!LIVE.includes(result.state)) liveChanged(svc, appId, result.cid);
  return result;
}

/** The caller stops ringing before anyone answered: the call is cancelled (a missed call for the others). */
export async function cancelCall(svc: Services, caller: Caller, connectionId: string, callId: string): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    if (!partOf(parts, userId)) throw notFound('Call');
    if (call.createdBy !== userId) throw forbidden('Only the caller may cancel a call');
    checkLive(call);
    if (call.state !== 'ringing') throw new ApiError('CONFLICT', 'The call was answered: hang up instead');
    const at = new Date(svc.clock());
    await finish(tx, out, appId, call, 'cancelled', at);
    const now = await current(tx, appId, callId);
    updated(out, appId, now, 'cancelled', userId, connectionId, at);
    return now;
  });
  untrack(connectionId);
  liveChanged(svc, appId, result.cid);
  return result;
}

/**
 * Hang up: leave the call. The caller leaving a call nobody answered cancels it; a call left
 * with fewer than two in it and nobody rung ends.
 */
export async function leaveCall(svc: Services, caller: Caller, connectionId: string, callId: string): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  return leave(svc, appId, userId, connectionId, callId, false);
}

async function leave(
  svc: Services,
  appId: string,
  userId: string,
  connectionId: string,
  callId: string,
  droppedLeave: boolean,
): Promise<Call> {
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    const p = partOf(parts, userId);
    if (!p) throw notFound('Call');
    if (!LIVE.includes(call.state) || p.state !== 'joined') return presentCall(call, parts); // already out
    // A dropped device's delayed leave must not take the user out of a call they moved on.
    if (droppedLeave && p.connectionId !== connectionId) return presentCall(call, parts);
    const at = new Date(svc.clock());
    const othersJoined = parts.filter((x) => x.state === 'joined' && x.userId !== userId).length;
    if (call.state === 'ringing' && othersJoined === 0) {
      await finish(tx, out, appId, call, 'cancelled', at);
      const now = await current(tx, appId, callId);
      updated(out, appId, now, 'cancelled', userId, connectionId, at);
      return now;
    }
    await setParticipant(tx, appId, callId, userId, { state: 'left', leftAt: at, connectionId: null });
    updated(out, appId, await current(tx, appId, callId), 'left', userId, connectionId, at);
    const ended = await settle(tx, out, appId, callId, at);
    const now = await current(tx, appId, callId);
    if (ended) updated(out, appId, now, endChange(ended.state), userId, connectionId, at);
    return now;
  });
  untrack(connectionId);
  if (!LIVE.includes(result.state)) liveChanged(svc, appId, result.cid);
  return result;
}

/** A dropped device's grace ran out: leave for it, unless it came back on another connection. */
export async function leaveDropped(svc: Services, appId: string, callId: string, userId: string, connectionId: string) {
  const [p] = await svc.db
    .select()
    .from(schema.callParticipants)
    .where(
      and(
        eq(schema.callParticipants.appId, appId),
        eq(schema.callParticipants.callId, callId),
        eq(schema.callParticipants.userId, userId),
      ),
    );
  if (p?.state !== 'joined' || p.connectionId !== connectionId) return;
  await leave(svc, appId, userId, connectionId, callId, true);
}

/** End the call for everyone in it (any joined participant). */
export async function endCall(svc: Services, caller: Caller, connectionId: string, callId: string): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    const p = partOf(parts, userId);
    if (!p) throw notFound('Call');
    checkLive(call);
    if (p.state !== 'joined') throw new ApiError('NOT_IN_CALL', 'Only who is in the call may end it');
    const at = new Date(svc.clock());
    const state: CallState = call.state === 'active' ? 'ended' : 'cancelled';
    await finish(tx, out, appId, call, state, at);
    const now = await current(tx, appId, callId);
    updated(out, appId, now, state === 'ended' ? 'ended' : 'cancelled', userId, connectionId, at);
    return now;
  });
  liveChanged(svc, appId, result.cid);
  return result;
}

/** Ring more members of the channel into a live call (a participant who is in it). */
export async function inviteToCall(
  svc: Services,
  caller: Caller,
  connectionId: string,
  callId: string,
  userIds: string[],
): Promise<Call> {
  const { appId, userId } = actorOf(caller, connectionId);
  await checkRingRate(svc, appId, userId);
  let expiresAt: Date | null = null;
  const result = await withTransaction(svc, async (tx, out) => {
    const { call, parts } = await loadCall(tx, appId, callId, true);
    const p = partOf(parts, userId);
    if (!p) throw notFound('Call');
    checkLive(call);
    if (p.state !== 'joined') throw new ApiError('NOT_IN_CALL', 'Only who is in the call may invite');
    const ids = [...new Set(userIds)].filter((u) => u !== userId);
    for (const u of ids)
      if (!(await memberRow(tx, appId, call.cid, u)))
        throw invalid(`${u} is not a member of this channel`, { user_id: u });
    const fresh = ids.filter((u) => {
      const x = partOf(parts, u);
      return !x || (x.state !== 'joined' && x.state !== 'ringing');
    });
    const max = svc.config.calls.maxParticipants;
    const inOrRinging = parts.filter((x) => x.state === 'joined' || x.state === 'ringing').length;
    if (inOrRinging + fresh.length > max)
      throw new ApiError('CALL_FULL', `A call carries at most ${max} participants`, { limit: max });
    const at = new Date(svc.clock());
    const rung: string[] = [];
    for (const u of fresh) {
      const state = (await joinedCall(tx, appId, u, callId)) ? 'busy' : 'ringing';
      if (state === 'ringing') rung.push(u);
      await tx
        .insert(schema.callParticipants)
        .values({ appId, callId, userId: u, state, invited: true, invitedAt: at })
        .onConflictDoUpdate({
          target: [schema.callParticipants.appId, schema.callParticipants.callId, schema.callParticipants.userId],
          set: { state, invited: true, invitedAt: at, connectionId: null, leftAt: null },
        });
    }
    const rows = await createInvitations(svc, tx, {
      appId,
      kind: CALL_INVITATION,
      subjectId: callId,
      fromUserId: userId,
      toUserIds: rung,
      now: at,
      ttlMs: svc.config.calls.ringTimeoutMs,
    });
    const now = await current(tx, appId, callId);
    for (const u of fresh) updated(out, appId, now, rung.includes(u) ? 'invited' : 'busy', u, null, at);
    if (rows[0]) {
      expiresAt = rows[0].expiresAt;
      ring(out, appId, now, rung, userId, rows[0].expiresAt, at);
    }
    return now;
  });
  if (expiresAt) armTimer(svc, appId, CALL_INVITATION, callId, expiresAt);
  return result;
}

/** The rings of `callId` that are due: the invitees missed it; a call nobody answered is missed. */
async function expireRings(svc: Services, appId: string, callId: string): Promise<void> {
  const endedIn = await withTransaction(svc, async (tx, out): Promise<string | null> => {
    const found = await tx
      .select()
      .from(schema.calls)
      .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, callId)))
      .for('update');
    if (!found[0]) return null;
    const at = new Date(svc.clock());
    const expired = await takeExpired(tx, { appId, kind: CALL_INVITATION, subjectId: callId, now: at });
    if (expired.length === 0) return null;
    const users = expired.map((e) => e.toUserId);
    await tx
      .update(schema.callParticipants)
      .set({ state: 'missed' })
      .where(
        and(
          eq(schema.callParticipants.appId, appId),
          eq(schema.callParticipants.callId, callId),
          inArray(schema.callParticipants.userId, users),
          eq(schema.callParticipants.state, 'ringing'),
        ),
      );
    const now = await current(tx, appId, callId);
    for (const u of users) updated(out, appId, now, 'missed', u, null, at);
    const ended = await settle(tx, out, appId, callId, at);
    if (ended) {
      const final = await current(tx, appId, callId);
      updated(out, appId, final, endChange(ended.state), found[0].createdBy, null, at);
    }
    return ended ? found[0].cid : null;
  });
  if (endedIn) liveChanged(svc, appId, endedIn);
}

registerInvitationKind({ name: CALL_INVITATION, expire: expireRings });

// ---- who else cares that a channel's call started or ended -----------------------------

type LiveListener = (svc: Services, appId: string, cid: string) => Promise<void>;
const liveListeners: LiveListener[] = [];

/**
 * Be told, after commit, when a channel's call may have started or ended (spaces show a room
 * with a live call as in a meeting). After commit and outside the call's transaction, so a
 * listener's own locks are never taken while the call's are held.
 */
export function onCallLiveChange(listener: LiveListener): void {
  liveListeners.push(listener);
}

function liveChanged(svc: Services, appId: string, cid: string): void {
  for (const l of liveListeners)
    l(svc, appId, cid).catch((err: unknown) => svc.log.warn({ err, cid }, 'a call listener failed'));
}

// ---- signalling ------------------------------------------------------------------------

/**
 * Relay an SDP offer/answer or ICE candidate from the caller's device to `toUserId`'s device
 * in the call. Both must be joined participants of the live call, and the sender must be in
 * it on this very connection: anyone else is refused with NOT_IN_CALL. Nothing is stored.
 */
export async function relaySignal(
  svc: Services,
  caller: Caller,
  connectionId: string,
  f: { call_id: string; to_user_id: string; signal: CallSignal },
): Promise<void> {
  const { appId, userId } = actorOf(caller, connectionId);
  await checkRate(svc, `signal:${appId}:${userId}`, svc.config.calls.signalsPer10s, 10_000, 'call signals');
  const rows = await svc.db
    .select({
      cid: schema.calls.cid,
      state: schema.calls.state,
      userId: schema.callParticipants.userId,
      pState: schema.callParticipants.state,
      conn: schema.callParticipants.connectionId,
    })
    .from(schema.calls)
    .leftJoin(
      schema.callParticipants,
      and(
        eq(schema.callParticipants.appId, schema.calls.appId),
        eq(schema.callParticipants.callId, schema.calls.id),
        inArray(schema.callParticipants.userId, [userId, f.to_user_id]),
      ),
    )
    .where(and(eq(schema.calls.appId, appId), eq(schema.calls.id, f.call_id)));
  const first = rows[0];
  const me = rows.find((r) => r.userId === userId);
  // Another app's call, or one of a channel the caller cannot see: NOT_FOUND, as for every call
  // request (docs/errors.md); a member of the channel who is not in the call: NOT_IN_CALL.
  if (!first) throw notFound('Call');
  if (!me) {
    if (!(await memberRow(svc.db, appId, first.cid, userId))) throw notFound('Call');
    throw new ApiError('NOT_IN_CALL', 'You are not in this call');
  }
  if (!LIVE.includes(first.state)) throw new ApiError('CALL_ENDED', `The call is over (${first.state})`);
  if (me.pState !== 'joined' || me.conn !== connectionId)
    throw new ApiError('NOT_IN_CALL', 'You are not in this call on this connection');
  const peer = rows.find((r) => r.userId === f.to_user_id);
  if (f.to_user_id === userId || !peer || peer.pState !== 'joined' || !peer.conn)
    throw new ApiError('NOT_IN_CALL', `${f.to_user_id} is not in this call`, { user_id: f.to_user_id });
  svc.bus.publish([
    {
      to: 'user',
      appId,
      userId: f.to_user_id,
      connectionId: peer.conn,
      event: {
        type: 'call.signal',
        cid: first.cid,
        call_id: f.call_id,
        from_user_id: userId,
        from_connection_id: connectionId,
        signal: f.signal,
        created_at: new Date(svc.clock()).toISOString(),
      },
    },
  ]);
}

// ---- devices that drop -----------------------------------------------------------------

/** Connections of this node that are in a call, so a dropped socket can leave it after a grace. */
const joinedHere = new Map<string, { appId: string; callId: string; userId: string }>();

function trackJoin(_svc: Services, appId: string, connectionId: string, call: Call): void {
  const p = call.participants.find((x) => x.connection_id === connectionId);
  if (p && LIVE.includes(call.state)) joinedHere.set(connectionId, { appId, callId: call.id, userId: p.user_id });
}

function untrack(connectionId: string): void {
  joinedHere.delete(connectionId);
}

/** The connection's socket closed: if it was in a call, leave for it once the rejoin grace is over. */
export function takeDropped(connectionId: string): { appId: string; callId: string; userId: string } | null {
  const t = joinedHere.get(connectionId) ?? null;
  joinedHere.delete(connectionId);
  return t;
}
