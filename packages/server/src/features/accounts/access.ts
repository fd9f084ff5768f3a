/**
 * Workspace permissions, in one place to audit. An account that is not a member of a
 * workspace gets NOT_FOUND (it may not learn the workspace exists); a member without the
 * power gets FORBIDDEN.
 *
 *   owner   everything, including members' roles (and there is always at least one owner)
 *   admin   settings (name, join policy), invites, members' emails
 *   member  chat; list members; open a workspace session
 */
import type { Queryable } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { MembershipRow } from './present.js';
import { loadMembership } from './queries.js';

/** The caller's membership of a workspace, or NOT_FOUND. */
export async function accessWorkspace(
  q: Queryable,
  accountId: string,
  appId: string,
  lock = false,
): Promise<MembershipRow> {
  const m = await loadMembership(q, accountId, appId, lock);
  if (!m) throw notFound('Workspace');
  return m;
}

export const isManager = (m: MembershipRow) => m.role === 'owner' || m.role === 'admin';

/**
 * Whether `m` sees the other members' emails: owners and admins, and members too where the
 * workspace's `email_visibility` is `members`. Guests never do.
 */
export const seesMemberEmails = (m: MembershipRow) =>
  isManager(m) || (m.role === 'member' && m.emailVisibility === 'members');

/** Owners and admins only. */
export function checkManager(m: MembershipRow): void {
  if (!isManager(m)) throw new ApiError('FORBIDDEN', 'Only owners and admins of the workspace can do this');
}

/** Owners only. */
export function checkOwner(m: MembershipRow): void {
  if (m.role !== 'owner') throw new ApiError('FORBIDDEN', 'Only owners of the workspace can do this');
}
