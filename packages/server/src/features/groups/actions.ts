/**
 * User groups: `@designers` names several people at once. Admins manage them (or every
 * member, when the app's setting says `everyone`: `PUT /v1/user-group-settings`); everyone in
 * the app lists and searches them. Each change is one transaction with its audit entry, then
 * `user_group.updated` to the app's connections and webhooks after commit.
 *
 * Who a group mention reaches is decided on the send path (messages/actions.ts
 * `resolveMentions`), in the one query that already resolves @usernames: the members of the
 * group who are members of the channel — so never anyone who cannot read it.
 */
import {
  type CreateUserGroupBody,
  GROUP_MAX_MEMBERS,
  GROUPS_MAX_PER_APP,
  type GroupManagers,
  type UpdateUserGroupBody,
  type UserGroup,
  type UserGroupChange,
  type UserGroupMembersBody,
  uuidv7,
} from '@parley/protocol';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { type ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { actorOfCaller, isAppAdmin, recordAudit } from '../audit/index.js';
import { appCan } from '../permissions/index.js';
import { checkName, isNameClash, nameError, nameProblems } from '../users/index.js';

type GroupRow = typeof schema.userGroups.$inferSelect;
const g = schema.userGroups;
const gm = schema.userGroupMembers;

export function presentGroup(row: GroupRow, members: string[]): UserGroup {
  return {
    id: row.id,
    handle: row.handle,
    name: row.name,
    description: row.description,
    members,
    member_count: members.length,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The app's setting: who manages groups. */
export async function groupManagers(svc: Services, appId: string): Promise<GroupManagers> {
  const [row] = await svc.db
    .select({ managers: schema.userGroupSettings.managers })
    .from(schema.userGroupSettings)
    .where(eq(schema.userGroupSettings.appId, appId));
  return (row?.managers as GroupManagers | undefined) ?? 'admins';
}

/** Throws FORBIDDEN unless the caller may create, edit or delete groups (`manage-user-groups`). */
async function checkManage(svc: Services, caller: Caller): Promise<void> {
  if (caller.kind === 'server') return;
  const [u] = await svc.db
    .select({ role: schema.users.role })
    .from(schema.users)
    .where(
      and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId), isNull(schema.users.deletedAt)),
    );
  const role = u?.role ?? 'guest';
  if (appCan('manage-user-groups', role)) return;
  if (appCan('manage-user-groups', role, (await groupManagers(svc, caller.app.id)) === 'everyone')) return;
  throw forbidden('Only app admins may manage user groups here');
}

/**
 * Throws unless `handle` is free for the group `self` (null: a new one): no mention keyword, no
 * username of the app, no other group, any case — the one @name rule (users/names.ts), which the
 * database holds too, so a user taking the name at the same moment cannot also win.
 */
async function checkHandle(q: Queryable, appId: string, handle: string, self: string | null): Promise<void> {
  await checkName(q, appId, 'handle', handle, { group: self });
}

/** The error for a handle another transaction took between the check and the write. */
async function handleClash(svc: Services, appId: string, handle: string, self: string | null): Promise<ApiError> {
  const [p] = await nameProblems(svc.db, appId, [{ name: handle, owner: { group: self } }]);
  return nameError('handle', p ?? { name: handle, reason: 'taken' });
}

/** Throws VALIDATION_ERROR naming the ids that are no (live) user of the app. */
async function checkUsers(q: Queryable, appId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await q
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), inArray(schema.users.id, ids), isNull(schema.users.deletedAt)));
  const known = new Set(found.map((r) => r.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw invalid('Unknown users', { unknown_users: unknown.slice(0, 20) });
}

async function membersOf(q: Queryable, appId: string, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await q
    .select({ groupId: gm.groupId, userId: gm.userId })
    .from(gm)
    .where(and(eq(gm.appId, appId), inArray(gm.groupId, groupIds)))
    .orderBy(asc(gm.groupId), asc(gm.userId));
  for (const r of rows) out.get(r.groupId)?.push(r.userId);
  return out;
}

async function groupRow(q: Queryable, appId: string, id: string): Promise<GroupRow> {
  const [row] = await q
    .select()
    .from(g)
    .where(and(eq(g.appId, appId), eq(g.id, id)));
  if (!row) throw notFound('User group');
  return row;
}

/**
 * Tell the app of a change, inside its transaction: `user_group.updated` goes to every
 * connection of the app after commit, and to webhook endpoints that want it (recorded in the
 * same transaction, in the app's lane: features/webhooks/outbox.ts).
 */
function announce(out: Outbox, appId: string, group: UserGroup, change: UserGroupChange): UserGroup {
  out.push({
    to: 'app',
    appId,
    event: { type: 'user_group.updated', group, change, created_at: new Date().toISOString() },
  });
  return group;
}

export async function createGroup(svc: Services, caller: Caller, body: CreateUserGroupBody): Promise<UserGroup> {
  const appId = caller.app.id;
  await checkManage(svc, caller);
  const members = [...new Set(body.members ?? [])];
  await checkUsers(svc.db, appId, members);
  const [{ n } = { n: 0 }] = await svc.db.select({ n: sql<number>`count(*)::int` }).from(g).where(eq(g.appId, appId));
  if (n >= GROUPS_MAX_PER_APP) throw invalid(`At most ${GROUPS_MAX_PER_APP} user groups per app`);
  let group: UserGroup;
  try {
    group = await withTransaction(svc, async (tx, out) => {
      await checkHandle(tx, appId, body.handle, null);
      const now = new Date();
      const [row] = await tx
        .insert(g)
        .values({
          appId,
          id: uuidv7(),
          handle: body.handle,
          name: body.name.trim(),
          description: body.description ?? '',
          createdBy: caller.userId,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      const r = row as GroupRow;
      if (members.length) await tx.insert(gm).values(members.map((userId) => ({ appId, groupId: r.id, userId })));
      await recordAudit(tx, {
        appId,
        actor: actorOfCaller(caller),
        action: 'user_group.created',
        target: { kind: 'user_group', id: r.id },
        details: { handle: r.handle, members: members.length },
      });
      return announce(out, appId, presentGroup(r, members.sort()), 'created');
    });
  } catch (err) {
    if (isNameClash(err)) throw await handleClash(svc, appId, body.handle, null);
    throw err;
  }
  return group;
}

/** The app's groups, by handle; `q`: a prefix of the handle or the name. */
export async function listGroups(svc: Services, caller: Caller, q?: string, limit = 100): Promise<UserGroup[]> {
  const appId = caller.app.id;
  const conds = [eq(g.appId, appId)];
  if (q?.trim()) {
    const p = `${q
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(sql`(lower(${g.handle}) like ${p} or lower(${g.name}) like ${p})`);
  }
  const rows = await svc.db
    .select()
    .from(g)
    .where(and(...conds))
    .orderBy(asc(sql`lower(${g.handle})`))
    .limit(limit);
  const members = await membersOf(
    svc.db,
    appId,
    rows.map((r) => r.id),
  );
  return rows.map((r) => presentGroup(r, members.get(r.id) ?? []));
}

export async function getGroup(svc: Services, caller: Caller, id: string): Promise<UserGroup> {
  const row = await groupRow(svc.db, caller.app.id, id);
  return presentGroup(row, (await membersOf(svc.db, caller.app.id, [id])).get(id) ?? []);
}

export async function updateGroup(
  svc: Services,
  caller: Caller,
  id: string,
  body: UpdateUserGroupBody,
): Promise<UserGroup> {
  const appId = caller.app.id;
  await checkManage(svc, caller);
  if (body.handle === undefined && body.name === undefined && body.description === undefined)
    throw invalid('Nothing to change: send handle, name or description');
  let group: UserGroup;
  try {
    group = await withTransaction(svc, async (tx, out) => {
      const before = await groupRow(tx, appId, id);
      if (body.handle !== undefined) await checkHandle(tx, appId, body.handle, id);
      const [row] = await tx
        .update(g)
        .set({
          ...(body.handle !== undefined ? { handle: body.handle } : {}),
          ...(body.name !== undefined ? { name: body.name.trim() } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          updatedAt: new Date(),
        })
        .where(and(eq(g.appId, appId), eq(g.id, id)))
        .returning();
      await recordAudit(tx, {
        appId,
        actor: actorOfCaller(caller),
        action: 'user_group.updated',
        target: { kind: 'user_group', id },
        details: { before: { handle: before.handle, name: before.name }, changed: Object.keys(body) },
      });
      return announce(
        out,
        appId,
        presentGroup(row as GroupRow, (await membersOf(tx, appId, [id])).get(id) ?? []),
        'updated',
      );
    });
  } catch (err) {
    if (isNameClash(err) && body.handle !== undefined) throw await handleClash(svc, appId, body.handle, id);
    throw err;
  }
  return group;
}

export async function deleteGroup(svc: Services, caller: Caller, id: string): Promise<UserGroup> {
  const appId = caller.app.id;
  await checkManage(svc, caller);
  const group = await withTransaction(svc, async (tx, out) => {
    const row = await groupRow(tx, appId, id);
    const members = (await membersOf(tx, appId, [id])).get(id) ?? [];
    await tx.delete(gm).where(and(eq(gm.appId, appId), eq(gm.groupId, id)));
    await tx.delete(g).where(and(eq(g.appId, appId), eq(g.id, id)));
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'user_group.deleted',
      target: { kind: 'user_group', id },
      details: { handle: row.handle },
    });
    return announce(out, appId, presentGroup(row, members), 'deleted');
  });
  return group;
}

/** Add and remove members (a user in both lists ends up removed). */
export async function changeGroupMembers(
  svc: Services,
  caller: Caller,
  id: string,
  body: UserGroupMembersBody,
): Promise<UserGroup> {
  const appId = caller.app.id;
  await checkManage(svc, caller);
  const add = [...new Set(body.add ?? [])];
  const remove = [...new Set(body.remove ?? [])];
  if (add.length === 0 && remove.length === 0) throw invalid('Send `add` or `remove` with at least one user id');
  await checkUsers(svc.db, appId, add);
  const group = await withTransaction(svc, async (tx, out) => {
    const row = await groupRow(tx, appId, id);
    if (add.length)
      await tx
        .insert(gm)
        .values(add.map((userId) => ({ appId, groupId: id, userId })))
        .onConflictDoNothing();
    if (remove.length)
      await tx.delete(gm).where(and(eq(gm.appId, appId), eq(gm.groupId, id), inArray(gm.userId, remove)));
    const members = (await membersOf(tx, appId, [id])).get(id) ?? [];
    if (members.length > GROUP_MAX_MEMBERS) throw invalid(`A group has at most ${GROUP_MAX_MEMBERS} members`);
    const [updated] = await tx
      .update(g)
      .set({ updatedAt: new Date() })
      .where(and(eq(g.appId, appId), eq(g.id, id)))
      .returning();
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'user_group.members_changed',
      target: { kind: 'user_group', id },
      details: { handle: row.handle, added: add, removed: remove },
    });
    return announce(out, appId, presentGroup((updated ?? row) as GroupRow, members), 'members');
  });
  return group;
}

/** Set who manages the app's groups (app admins and the server token only). */
export async function setGroupManagers(svc: Services, caller: Caller, managers: GroupManagers) {
  const appId = caller.app.id;
  if (caller.kind !== 'server' && !(await isAppAdmin(svc, appId, caller.userId)))
    throw forbidden('Only app admins (or the server token) may change this');
  await svc.db.transaction(async (tx) => {
    await tx
      .insert(schema.userGroupSettings)
      .values({ appId, managers, updatedAt: new Date() })
      .onConflictDoUpdate({ target: schema.userGroupSettings.appId, set: { managers, updatedAt: new Date() } });
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'user_group.settings_updated',
      target: { kind: 'app', id: appId },
      details: { managers },
    });
  });
  return { managers };
}
