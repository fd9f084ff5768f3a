/**
 * Channel writes: create (DMs are get-or-create by member set), update, archive, members in
 * and out, roles. Each is one transaction that takes seqs for what it logs (member events and
 * a system message) and publishes only after commit.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  type ChannelEvent,
  type CreateChannelBody,
  type CreateChannelResponse,
  type Message,
  type UpdateChannelBody,
  type UpdateMemberBody,
  uuidv7,
} from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { rows as dbRows, type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { logEvents, type Outbox, withTransaction } from '../../platform/event-log.js';
import type { FirstMessagePlan, Services } from '../../services.js';
import { checkCan, ownCapabilities } from '../permissions/index.js';
import type { UserRow } from '../users/index.js';
import {
  accessChannelRead,
  type ChannelAccess,
  checkInvite,
  checkRead,
  loadChannel,
  memberRow,
  RANK,
  rankOf,
} from './access.js';
import { checkNotBanned } from './ban-check.js';
import { type ChannelRow, type MemberRow, presentChannel, presentMember, presentMembership } from './present.js';

const now = () => new Date();

/** A DM's id is derived from its member set, so the same people always get the same DM. */
export function dmId(memberIds: readonly string[]): string {
  const sorted = [...new Set(memberIds)].sort();
  return `h${createHash('sha256').update(sorted.join('\n')).digest('base64url').slice(0, 40)}`;
}

async function usersExist(q: Queryable, appId: string, ids: string[]): Promise<Map<string, UserRow>> {
  if (ids.length === 0) return new Map();
  const rows = await q
    .select()
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), inArray(schema.users.id, ids)));
  const found = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw invalid(`Unknown user${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, { missing });
  return found;
}

const names = (ids: string[], users: Map<string, UserRow>) => {
  const list = ids.map((id) => users.get(id)?.name ?? id);
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
};

/**
 * Guests create no channels but DMs, and DMs only with people who share a (non-DM) channel
 * with them (FORBIDDEN otherwise): they must not reach the rest of the workspace.
 */
async function checkGuestCreate(q: Queryable, appId: string, me: string, users: Map<string, UserRow>, type: string) {
  if (users.get(me)?.role !== 'guest') return;
  if (type !== 'dm') throw forbidden('Guests cannot create channels');
  const shared = await dbRows<{ id: string }>(
    q,
    sql`select distinct mb.user_id as id from ${schema.members} ma
    join ${schema.members} mb on mb.app_id = ma.app_id and mb.cid = ma.cid
    where ma.app_id = ${appId} and ma.user_id = ${me} and ma.cid not like 'dm:%'`,
  );
  const sharing = new Set(shared.map((r) => r.id));
  for (const id of users.keys())
    if (id !== me && !sharing.has(id)) throw forbidden('Guests can message only people who share a channel with them');
}

/**
 * Create a channel; for `dm`, return the existing DM of the same member set if there is one.
 * With `first_message`, the channel and its first message are one transaction (the new-group
 * flow): members get `channel.added` carrying the channel with that message (their
 * subscription starts after it, so it is not sent twice), a refused message creates no
 * channel, and the same create again with the same message id answers what the first made.
 */
export async function createChannel(svc: Services, caller: Caller, body: CreateChannelBody) {
  const creator = caller.kind === 'user' ? caller.userId : (body.created_by ?? null);
  const memberIds = [...new Set([...(creator ? [creator] : []), ...(body.members ?? [])])];
  let id = body.id;
  if (body.type === 'dm') {
    if (id) throw invalid('DM ids are derived from their members; do not send one');
    if (memberIds.length < 2) throw invalid('A DM needs at least two distinct members');
    if (body.name) throw invalid('DMs have no name');
    if (body.first_message)
      throw invalid('A DM is get-or-create: send its first message with POST /v1/channels/{cid}/messages');
    id = dmId(memberIds);
  } else {
    id ??= randomBytes(9)
      .toString('base64url')
      .replace(/[^A-Za-z0-9]/g, 'x');
  }
  const cid = `${body.type}:${id}`;
  const first = body.first_message;
  if (!first) return insertChannel(svc, caller, body, cid, id, creator, memberIds, null);

  const me = requireUser(caller, 'A first message is written as a user: use a user token');
  if (body.type === 'group' && memberIds.length < 2)
    throw new ApiError('GROUP_TOO_SMALL', 'A group needs at least one member besides you', {
      members: memberIds.length,
    });
  // A retry of a create that went through: its message id names the channel it made.
  if (first.id) {
    const made = await firstMade(svc, me, body, first.id);
    if (made) return made;
  }
  // Checked as a send is, before the transaction: a refusal here creates nothing.
  const plan = await svc.firstMessage(svc, me, cid, first);
  try {
    return await insertChannel(svc, caller, body, cid, id, creator, memberIds, plan);
  } catch (err) {
    // Two tries of one create at once: the later one finds the message id (or the channel id)
    // taken once the first committed, and answers what the first made.
    if (first.id && (err instanceof FirstTaken || (err instanceof ApiError && err.code === 'CONFLICT'))) {
      const made = await firstMade(svc, me, body, first.id);
      if (made) return made;
    }
    if (err instanceof FirstTaken) throw new ApiError('CONFLICT', 'This message id is already used by another message');
    throw err;
  }
}

/** The first message's id was taken while the channel was being made: the transaction rolls back. */
class FirstTaken extends Error {}

/**
 * What an earlier create with the first message `messageId` made, as its answer: the channel
 * (if the caller created it with that message, in a channel of the asked type and id), its
 * members and the message. null: no message has that id. CONFLICT: another message has it.
 */
async function firstMade(svc: Services, me: Caller & { kind: 'user' }, body: CreateChannelBody, messageId: string) {
  const appId = me.app.id;
  const [m] = await svc.db
    .select()
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)));
  if (!m) return null;
  const [ch] = await svc.db
    .select({ createdBy: schema.channels.createdBy, type: schema.channels.type, id: schema.channels.id })
    .from(schema.channels)
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, m.cid)));
  const same =
    m.userId === me.userId &&
    m.seq === 1 &&
    ch?.createdBy === me.userId &&
    ch.type === body.type &&
    (body.id === undefined || ch.id === body.id);
  if (!same) throw new ApiError('CONFLICT', 'This message id is already used by another message');
  const [message] = await svc.enrichMessages(svc.db, appId, me.userId, [m]);
  return { ...(await channelWithMembers(svc.db, me, m.cid)), message: message! };
}

async function insertChannel(
  svc: Services,
  caller: Caller,
  body: CreateChannelBody,
  cid: string,
  id: string,
  creator: string | null,
  memberIds: string[],
  first: FirstMessagePlan | null,
): Promise<CreateChannelResponse> {
  const appId = caller.app.id;
  let committed: (() => Promise<void>) | null = null;
  const done = await withTransaction(svc, async (tx, out) => {
    const users = await usersExist(tx, appId, memberIds);
    if (caller.kind === 'user') await checkGuestCreate(tx, appId, caller.userId, users, body.type);
    const at = now();
    const [inserted] = await tx
      .insert(schema.channels)
      .values({
        appId,
        cid,
        type: body.type,
        id,
        name: body.name ?? null,
        description: body.description ?? null,
        topic: body.topic ?? null,
        image: body.image ?? null,
        createdBy: creator,
        memberCount: memberIds.length,
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) {
      if (body.type !== 'dm') throw new ApiError('CONFLICT', `Channel ${cid} already exists`);
      return channelWithMembers(tx, caller, cid);
    }
    let memberRows: MemberRow[] = memberIds.length
      ? await tx
          .insert(schema.members)
          .values(
            memberIds.map((userId) => ({
              appId,
              cid,
              userId,
              role: userId === creator && body.type !== 'dm' ? 'owner' : 'member',
              joinedAt: at,
            })),
          )
          .returning()
      : [];
    let row = inserted;
    let message: Message | undefined;
    if (first) {
      const written = await first.write(tx, out);
      if (!written) throw new FirstTaken();
      ({ message } = written);
      committed = written.committed;
      // The author has read what they wrote; the others have it unread.
      const mine = await tx
        .update(schema.members)
        .set({ lastReadSeq: message.seq })
        .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, creator!)))
        .returning();
      memberRows = memberRows.map((m) => mine.find((x) => x.userId === m.userId) ?? m);
      const [after] = await tx
        .select()
        .from(schema.channels)
        .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
      row = after!;
    }
    const channel = presentChannel(row);
    // `channel.added` starts each member's subscription at the channel's last_seq: with a first
    // message, that is the message's seq, and the event carries it (as `last_message`, with each
    // member's membership and counts), so it arrives with the channel for everyone and never twice.
    for (const m of memberRows) {
      const own = message
        ? {
            ...channel,
            membership: presentMembership(m),
            last_message: message,
            unread_count: m.lastReadSeq >= message.seq ? 0 : 1,
            mention_count: m.lastReadSeq < message.seq && message.mentioned_users.includes(m.userId) ? 1 : 0,
          }
        : channel;
      out.push({
        to: 'user',
        appId,
        userId: m.userId,
        event: { type: 'channel.added', cid, channel: own, created_at: at.toISOString() },
      });
    }
    // The creator's answer carries their membership, as every other channel answer does.
    const mine = creator ? memberRows.find((m) => m.userId === creator) : undefined;
    return {
      channel: mine ? { ...channel, membership: presentMembership(mine) } : channel,
      members: memberRows.map((m) => presentMember(m, users.get(m.userId), caller.userId ?? 'everyone')),
      ...(message ? { message } : {}),
    };
  });
  await (committed as (() => Promise<void>) | null)?.();
  return done;
}

/** The channel and its members (up to 500), as the caller may see them. */
export async function channelWithMembers(q: Queryable, caller: Caller, cid: string, a?: ChannelAccess) {
  const access = a ?? (await accessChannelRead(q, caller, cid));
  const rows = await q
    .select({ member: schema.members, user: schema.users })
    .from(schema.members)
    .leftJoin(
      schema.users,
      and(eq(schema.users.appId, schema.members.appId), eq(schema.users.id, schema.members.userId)),
    )
    .where(and(eq(schema.members.appId, caller.app.id), eq(schema.members.cid, cid)))
    .orderBy(schema.members.joinedAt, schema.members.userId)
    .limit(500);
  return {
    channel: presentChannel(access.channel, {
      membership: access.member ? presentMembership(access.member) : null,
      own_capabilities: ownCapabilities(access),
    }),
    members: rows.map((r) => presentMember(r.member, r.user, caller.userId ?? 'everyone')),
  };
}

/** Take `n` seqs of `cid` and apply `set` to its row, in one update (the channel's row locked until commit). */
export async function bump(
  tx: Tx,
  appId: string,
  cid: string,
  n: number,
  set: Record<string, unknown> = {},
): Promise<ChannelRow> {
  const [row] = await tx
    .update(schema.channels)
    .set({ lastSeq: sql`${schema.channels.lastSeq} + ${n}`, ...set })
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
    .returning();
  if (!row) throw notFound('Channel');
  return row;
}

/** Insert a system message at `seq` (taken) and return its `message.new` event, to log. */
export async function systemMessage(
  svc: Services,
  tx: Tx,
  appId: string,
  cid: string,
  seq: number,
  userId: string,
  text: string,
  at: Date,
): Promise<ChannelEvent> {
  const [row] = await tx
    .insert(schema.messages)
    .values({ appId, id: uuidv7(), cid, seq, userId, type: 'system', text, createdAt: at, updatedAt: at })
    .returning();
  return { type: 'message.new', cid, seq, created_at: at.toISOString(), message: svc.presentMessage(row!) };
}

/** Add members. Adding only yourself to a public or announcement channel is joining. */
export async function addMembers(svc: Services, caller: Caller, cid: string, userIds: string[]) {
  const appId = caller.app.id;
  /** Who was added by someone else (an invitation, in their inbox), once committed. */
  // The invitation items' task is written in the transaction; it runs after the commit.
  let afterCommit = () => {};
  const done = await withTransaction(svc, async (tx, out) => {
    const a = await accessChannelRead(tx, caller, cid, true);
    const selfJoin = caller.kind === 'user' && userIds.length === 1 && userIds[0] === caller.userId;
    if (selfJoin) {
      if (a.member) return channelWithMembers(tx, caller, cid, a);
      checkCan(a, 'join-channel', svc.clock());
    } else {
      checkInvite(a);
    }
    const ids = [...new Set(userIds)];
    // A channel ban blocks re-joining and being added back, until it lifts or is lifted.
    await checkNotBanned(tx, appId, cid, ids, svc.clock());
    const users = await usersExist(tx, appId, ids);
    const at = now();
    const added = await tx
      .insert(schema.members)
      // A newcomer starts with everything before their arrival read, as in Slack: history is
      // there to scroll, not a wall of unread.
      .values(
        ids.map((userId) => ({ appId, cid, userId, role: 'member', joinedAt: at, lastReadSeq: a.channel.lastSeq })),
      )
      .onConflictDoNothing()
      .returning();
    // Events and the system message name people in the order given, whatever order rows come back in.
    added.sort((x, y) => ids.indexOf(x.userId) - ids.indexOf(y.userId));
    if (added.length === 0) return channelWithMembers(tx, caller, cid, a);
    const row = await bump(tx, appId, cid, added.length + 1, {
      memberCount: sql`${schema.channels.memberCount} + ${added.length}`,
    });
    const channel = presentChannel(row);
    let seq = row.lastSeq - added.length;
    const events: ChannelEvent[] = added.map((m) => ({
      type: 'member.added',
      cid,
      seq: seq++,
      created_at: at.toISOString(),
      member: presentMember(m, users.get(m.userId), 'everyone'),
      channel,
    }));
    const actor = caller.userId ?? added[0]!.userId;
    const addedNames = names(
      added.map((m) => m.userId),
      users,
    );
    // A server caller is nobody: say what happened without naming an actor who did not act.
    const text = selfJoin
      ? `${users.get(actor)?.name ?? actor} joined`
      : caller.userId
        ? `${await displayName(tx, appId, actor)} added ${addedNames}`
        : `${addedNames} ${added.length > 1 ? 'were' : 'was'} added`;
    events.push(await systemMessage(svc, tx, appId, cid, seq, actor, text, at));
    await logEvents(tx, out, appId, events);
    for (const m of added)
      out.push({
        to: 'user',
        appId,
        userId: m.userId,
        event: { type: 'channel.added', cid, channel, created_at: at.toISOString() },
      });
    if (!selfJoin && caller.userId)
      afterCommit = await svc.invited(
        svc,
        tx,
        appId,
        cid,
        caller.userId,
        added.map((m) => m.userId).filter((u) => u !== caller.userId),
      );
    return channelWithMembers(tx, caller, cid, {
      ...a,
      channel: row,
      member: a.member ?? added.find((m) => m.userId === caller.userId) ?? null,
    });
  });
  afterCommit();
  return done;
}

async function displayName(q: Queryable, appId: string, userId: string): Promise<string> {
  const [u] = await q
    .select({ name: schema.users.name })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  return u?.name ?? userId;
}

/** Remove members. Removing only yourself is leaving; removing others needs admin powers. */
export async function removeMembers(svc: Services, caller: Caller, cid: string, userIds: string[]) {
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    const a = await accessChannelRead(tx, caller, cid, true);
    const selfLeave = caller.kind === 'user' && userIds.length === 1 && userIds[0] === caller.userId;
    if (a.channel.type === 'dm') throw forbidden('DM membership is fixed');
    if (selfLeave) {
      if (!a.member) throw forbidden('You are not a member of this channel');
    } else {
      checkCan(a, 'remove-members');
      const targets = await tx
        .select()
        .from(schema.members)
        .where(
          and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), inArray(schema.members.userId, userIds)),
        );
      for (const t of targets)
        if (t.userId !== caller.userId && rankOf({ ...caller }, t, null) >= a.rank && caller.kind === 'user')
          throw forbidden(`Not allowed to remove ${t.userId}: their role is not below yours`);
    }
    const removed = await tx
      .delete(schema.members)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), inArray(schema.members.userId, userIds)))
      .returning();
    if (removed.length === 0) return { removed: [] as string[] };
    removed.sort((x, y) => userIds.indexOf(x.userId) - userIds.indexOf(y.userId));
    const row = await bump(tx, appId, cid, removed.length + 1, {
      memberCount: sql`greatest(${schema.channels.memberCount} - ${removed.length}, 0)`,
    });
    const channel = presentChannel(row);
    const at = now();
    let seq = row.lastSeq - removed.length;
    const events: ChannelEvent[] = removed.map((m) => ({
      type: 'member.removed',
      cid,
      seq: seq++,
      created_at: at.toISOString(),
      user_id: m.userId,
      channel,
    }));
    const actor = caller.userId ?? removed[0]!.userId;
    const gone = await tx
      .select()
      .from(schema.users)
      .where(
        and(
          eq(schema.users.appId, appId),
          inArray(
            schema.users.id,
            removed.map((m) => m.userId),
          ),
        ),
      );
    const goneMap = new Map(gone.map((u) => [u.id, u]));
    const goneNames = names(
      removed.map((m) => m.userId),
      goneMap,
    );
    const text = selfLeave
      ? `${goneMap.get(actor)?.name ?? actor} left`
      : caller.userId
        ? `${await displayName(tx, appId, actor)} removed ${goneNames}`
        : `${goneNames} ${removed.length > 1 ? 'were' : 'was'} removed`;
    events.push(await systemMessage(svc, tx, appId, cid, seq, actor, text, at));
    await logEvents(tx, out, appId, events);
    for (const m of removed)
      out.push({
        to: 'user',
        appId,
        userId: m.userId,
        event: { type: 'channel.removed', cid, created_at: at.toISOString() },
      });
    return { removed: removed.map((m) => m.userId) };
  });
}

/**
 * Archive or unarchive `cid` in `tx` for the system (no caller): what a manual archive writes —
 * `archived_at` and a `channel.updated` at the next seq — with the time the caller's clock
 * says. A no-op (null) when the channel already stands so. Used by the office's idle rooms
 * (features/spaces/idle-rooms.ts), which lock the space first, as a move does.
 */
export async function setArchived(
  tx: Tx,
  out: Outbox,
  appId: string,
  cid: string,
  archived: boolean,
  at: Date,
): Promise<ChannelRow | null> {
  const [cur] = await tx
    .select({ archivedAt: schema.channels.archivedAt })
    .from(schema.channels)
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
    .for('update');
  if (!cur || (cur.archivedAt !== null) === archived) return null;
  const row = await bump(tx, appId, cid, 1, { archivedAt: archived ? at : null, updatedAt: at });
  await logEvents(tx, out, appId, [
    { type: 'channel.updated', cid, seq: row.lastSeq, created_at: at.toISOString(), channel: presentChannel(row) },
  ]);
  return row;
}

/** Update name, description, topic, image, or archive state. */
export async function updateChannel(svc: Services, caller: Caller, cid: string, body: UpdateChannelBody) {
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    const a = await accessChannelRead(tx, caller, cid, true);
    checkCan(a, 'update-channel-topic');
    const wantsAdmin = body.name !== undefined || body.image !== undefined || body.archived !== undefined;
    if (wantsAdmin) checkCan(a, 'update-channel');
    const wantsModeration = body.frozen !== undefined || body.slow_mode_s !== undefined || body.reactions !== undefined;
    if (wantsModeration) checkCan(a, 'freeze-channel');
    if (a.channel.type === 'dm' && (body.name !== undefined || body.archived !== undefined))
      throw forbidden('DMs cannot be renamed or archived');
    const onlyUnarchive = body.archived === false && Object.keys(body).length === 1;
    if (a.channel.archivedAt && !onlyUnarchive && body.archived !== false)
      throw forbidden('The channel is archived (read-only); unarchive it first');
    const set: Partial<typeof schema.channels.$inferInsert> = {};
    if (body.name !== undefined) set.name = body.name;
    if (body.description !== undefined) set.description = body.description;
    if (body.topic !== undefined) set.topic = body.topic;
    if (body.image !== undefined) set.image = body.image;
    if (body.archived !== undefined) set.archivedAt = body.archived ? (a.channel.archivedAt ?? now()) : null;
    if (body.frozen !== undefined) set.frozen = body.frozen;
    if (body.slow_mode_s !== undefined) set.slowModeS = body.slow_mode_s;
    if (body.reactions !== undefined) set.reactions = body.reactions;
    // A rename by a user also writes a system message (a second seq); a server caller has no
    // one to attribute it to, so it takes only the channel.updated seq — never a hole.
    const renamed = body.name !== undefined && body.name !== a.channel.name && !!caller.userId;
    const at = now();
    const row = await bump(tx, appId, cid, renamed ? 2 : 1, { ...set, updatedAt: at });
    const events: ChannelEvent[] = [
      {
        type: 'channel.updated',
        cid,
        seq: row.lastSeq - (renamed ? 1 : 0),
        created_at: at.toISOString(),
        channel: presentChannel(row),
      },
    ];
    if (renamed && caller.userId)
      events.push(
        await systemMessage(
          svc,
          tx,
          appId,
          cid,
          row.lastSeq,
          caller.userId,
          `${await displayName(tx, appId, caller.userId)} renamed the channel to ${body.name ?? '(no name)'}`,
          at,
        ),
      );
    await logEvents(tx, out, appId, events);
    return channelWithMembers(tx, caller, cid, { ...a, channel: row });
  });
}

/** Change a member's role (admins) or your own mute setting. */
export async function updateMember(svc: Services, caller: Caller, cid: string, userId: string, body: UpdateMemberBody) {
  const appId = caller.app.id;
  const r = await withTransaction(svc, async (tx, out) => {
    const a = await accessChannelRead(tx, caller, cid, true);
    const target = await memberRow(tx, appId, cid, userId);
    if (!target) throw notFound('Member');
    if (body.muted !== undefined && caller.userId !== userId)
      throw forbidden('Only the member may mute a channel for themselves');
    if (body.role !== undefined) {
      if (a.channel.type === 'dm') throw forbidden('DMs have no roles');
      checkCan(a, 'update-member-roles');
      const newRank = RANK[body.role];
      const targetRank = RANK[target.role as keyof typeof RANK] ?? 0;
      if (caller.kind === 'user' && (newRank >= a.rank || targetRank >= a.rank) && a.rank < RANK.owner)
        throw forbidden('You can only grant or change roles below your own');
    }
    const set: Partial<MemberRow> = {};
    if (body.role !== undefined) set.role = body.role;
    if (body.muted !== undefined) set.muted = body.muted;
    const [m] = await tx
      .update(schema.members)
      .set(set)
      .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, userId)))
      .returning();
    // The member's row says whether they hide their read receipts (presentMember).
    const [user] = await tx
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
    if (body.role !== undefined && body.role !== target.role) {
      const row = await bump(tx, appId, cid, 1);
      const { user: _u, ...member } = presentMember(m!, user, 'everyone');
      await logEvents(tx, out, appId, [
        { type: 'member.updated', cid, seq: row.lastSeq, created_at: now().toISOString(), member },
      ]);
    }
    const { user: _u, ...member } = presentMember(m!, user, caller.userId ?? 'everyone');
    return { member };
  });
  // A muted channel leaves the member's unread totals (features/reads pushes them).
  if (body.muted !== undefined) svc.unread.user(appId, userId, cid);
  return r;
}

export { checkRead, loadChannel };
