/**
 * Transfer of a workspace's ownership, as one action: the caller (an owner) hands ownership
 * to another active member, who becomes `owner`; the caller becomes `admin`. Both changes are
 * made in one transaction with the workspace row locked, so the workspace never has no owner
 * and two transfers cannot cross. Refused (FORBIDDEN, `details.reason`) for guests
 * (`guest`) and deactivated members (`deactivated`); the caller themselves is VALIDATION_ERROR.
 */
import { and, eq, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { accessWorkspace, checkOwner } from './access.js';
import type { MemberRow } from './present.js';
import { membersOf } from './queries.js';

const { users, workspaceMembers } = schema;

export async function transferOwnership(
  svc: Services,
  accountId: string,
  appId: string,
  targetAccountId: string,
): Promise<MemberRow[]> {
  return svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    checkOwner(me);
    if (targetAccountId === accountId)
      throw new ApiError('VALIDATION_ERROR', 'You own the workspace already: name another member', {
        reason: 'self',
      });
    const [target] = await membersOf(tx, appId, targetAccountId);
    if (!target) throw notFound('Member');
    if (target.role === 'guest')
      throw new ApiError('FORBIDDEN', 'Guests cannot own a workspace: make them a member first', { reason: 'guest' });
    if (target.deactivatedAt)
      throw new ApiError('FORBIDDEN', 'A deactivated member cannot own the workspace: reactivate them first', {
        reason: 'deactivated',
      });
    const set = async (who: string, userId: string, role: 'owner' | 'admin') => {
      await tx
        .update(workspaceMembers)
        .set({ role })
        .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, who)));
      await tx
        .update(users)
        .set({ role: 'admin', guestUntil: null, updatedAt: sql`now()` })
        .where(and(eq(users.appId, appId), eq(users.id, userId)));
    };
    await set(targetAccountId, target.userId, 'owner');
    await set(accountId, me.userId, 'admin');
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'workspace.ownership_transferred',
      target: { kind: 'account', id: targetAccountId },
      details: { from_user_id: me.userId, to_user_id: target.userId },
    });
    return membersOf(tx, appId);
  });
}
