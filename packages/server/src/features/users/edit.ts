/**
 * An app admin (or the app's server token) corrects someone else's name or title, as Slack's and
 * Zulip's admins can: `PATCH /v1/users/{id}`. The values are checked as `PATCH /v1/me` checks
 * them; the change and its audit entry (`user.profile_updated`, each changed field's before and
 * after) commit together, and `user.updated` goes out after commit as for a change of one's own.
 */
import type { UpdateUserBody } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { Unchanged, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, recordAudit } from '../audit/index.js';
import { userUpdated } from './actions.js';
import type { UserRow } from './present.js';
import { announceUserUpdated, profileColumns } from './profile.js';

/**
 * In a workspace, as for removing someone: owners edit anyone, admins edit members and guests
 * but not owners or other admins (FORBIDDEN). Outside workspaces every app admin may.
 */
async function checkOutranks(svc: Services, appId: string, callerId: string, targetId: string): Promise<void> {
  const wm = schema.workspaceMembers;
  const roles = await svc.db
    .select({ userId: wm.userId, role: wm.role })
    .from(wm)
    .where(and(eq(wm.appId, appId), inArray(wm.userId, [callerId, targetId])));
  const role = (id: string) => roles.find((r) => r.userId === id)?.role;
  const target = role(targetId);
  if ((target === 'owner' || target === 'admin') && role(callerId) !== 'owner')
    throw new ApiError('FORBIDDEN', "Only owners of the workspace may change an owner's or an admin's name or title", {
      reason: 'outranked',
    });
}

/** The fields an admin may change on another's profile, by their wire names. */
const EDITABLE = ['name', 'title'] as const;

/**
 * Set `userId`'s name and/or title (only those sent). FORBIDDEN unless the caller is an app
 * admin or the server token; NOT_FOUND for a user the app does not have (or deleted). Values
 * equal to the stored ones change nothing: no write, no audit entry, no event.
 */
export async function editUser(svc: Services, caller: Caller, userId: string, body: UpdateUserBody): Promise<UserRow> {
  await checkAppAdmin(svc, caller);
  if (caller.kind === 'user' && caller.userId !== userId)
    await checkOutranks(svc, caller.app.id, caller.userId, userId);
  const want: Partial<Record<(typeof EDITABLE)[number], string | null>> = {};
  if (body.name !== undefined) {
    const name = body.name.trim();
    if (!name) throw new ApiError('VALIDATION_ERROR', 'A name cannot be blank', { field: 'name' });
    want.name = name;
  }
  if (body.title !== undefined) want.title = profileColumns({ title: body.title }).title ?? null;
  const u = schema.users;
  const { row, changed } = await withTransaction(svc, async (tx, out) => {
    const [cur] = await tx
      .select()
      .from(u)
      .where(and(eq(u.appId, caller.app.id), eq(u.id, userId)))
      .for('update');
    if (!cur || cur.deletedAt) throw new ApiError('NOT_FOUND', 'User not found');
    const changes: Record<string, { from: string | null; to: string | null }> = {};
    for (const key of EDITABLE) {
      const to = want[key];
      if (to !== undefined && to !== cur[key]) changes[key] = { from: cur[key], to };
    }
    // Nothing differs: the row as it is, and nothing is published (Unchanged rolls back the no-op).
    if (Object.keys(changes).length === 0) throw new Unchanged({ row: cur as UserRow, changed: false });
    const set: Partial<typeof u.$inferInsert> = { updatedAt: new Date() };
    if (changes.name) set.name = changes.name.to as string;
    if (changes.title) set.title = changes.title.to;
    const [row] = (await tx
      .update(u)
      .set(set)
      .where(and(eq(u.appId, caller.app.id), eq(u.id, userId)))
      .returning()) as [UserRow];
    await recordAudit(tx, {
      appId: caller.app.id,
      actor: actorOfCaller(caller),
      action: 'user.profile_updated',
      target: { kind: 'user', id: userId },
      details: changes,
    });
    userUpdated(out, caller.app.id, row);
    await announceUserUpdated(tx, out, caller.app.id, row);
    return { row, changed: true };
  });
  // The person's presence followers see the new name too, as after PATCH /v1/me.
  if (changed) await svc.presence.announce(caller.app.id, row);
  return row;
}
