/** Account, workspace, member and invite rows as the wire shows them. */
import type {
  Account,
  CreatedInvite,
  Invite,
  InvitePreview,
  JoinPolicy,
  Workspace,
  WorkspaceMember,
  WorkspaceRole,
} from '@parley/protocol';
import type { schema } from '../../platform/db/index.js';

export type AccountRow = typeof schema.accounts.$inferSelect;
export type InviteRow = typeof schema.invites.$inferSelect;

/** A workspace joined with the caller's membership (see `loadMembership`). */
export interface MembershipRow {
  appId: string;
  name: string;
  apiKey: string;
  joinPolicy: string;
  createdAt: Date;
  accountId: string;
  userId: string;
  role: string;
}

export interface MemberRow {
  accountId: string;
  userId: string;
  name: string;
  email: string;
  role: string;
  joinedAt: Date;
}

export function presentAccount(row: AccountRow): Account {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    email_verified: row.emailVerifiedAt !== null,
    created_at: row.createdAt.toISOString(),
  };
}

export function presentWorkspace(m: MembershipRow): Workspace {
  return {
    id: m.appId,
    name: m.name,
    join_policy: m.joinPolicy as JoinPolicy,
    role: m.role as WorkspaceRole,
    user_id: m.userId,
    created_at: m.createdAt.toISOString(),
  };
}

/** Emails are shown to owners and admins only. */
export function presentMember(row: MemberRow, showEmail: boolean): WorkspaceMember {
  return {
    account_id: row.accountId,
    user_id: row.userId,
    name: row.name,
    ...(showEmail ? { email: row.email } : {}),
    role: row.role as WorkspaceRole,
    joined_at: row.joinedAt.toISOString(),
  };
}

export function presentCreatedInvite(row: InviteRow, token: string): CreatedInvite {
  return {
    id: row.id,
    token,
    url_path: `/invite/${token}`,
    expires_at: row.expiresAt.toISOString(),
    max_uses: row.maxUses,
  };
}

export function presentInvite(row: InviteRow, inviterName: string | null): Invite {
  return {
    id: row.id,
    created_by: { account_id: row.createdBy, name: inviterName },
    expires_at: row.expiresAt.toISOString(),
    max_uses: row.maxUses,
    uses: row.uses,
    created_at: row.createdAt.toISOString(),
  };
}

export function presentPreview(
  p: { workspaceName: string; inviterName: string | null; expiresAt: Date },
  reason: InvitePreview['reason'],
): InvitePreview {
  return {
    workspace_name: p.workspaceName,
    inviter_name: p.inviterName,
    valid: reason === null,
    reason,
    expires_at: p.expiresAt.toISOString(),
  };
}
