/** Account, workspace, member and invite rows as the wire shows them. */
import {
  type Account,
  type AccountSessionInfo,
  type CreatedInvite,
  DEVICE_TYPES,
  type EmailVisibility,
  type Invite,
  type InvitePreview,
  type JoinPolicy,
  type Workspace,
  type WorkspaceMember,
  type WorkspaceRole,
} from '@parley/protocol';
import Bowser from 'bowser';
import type { schema } from '../../platform/db/index.js';

export type AccountRow = typeof schema.accounts.$inferSelect;
export type InviteRow = typeof schema.invites.$inferSelect;

/** A workspace joined with the caller's membership (see `loadMembership`). */
export interface MembershipRow {
  appId: string;
  name: string;
  apiKey: string;
  joinPolicy: string;
  joinDomain: string | null;
  requireTwoFactor: boolean;
  emailVisibility: string;
  slug: string | null;
  logo: string | null;
  createdAt: Date;
  accountId: string;
  userId: string;
  role: string;
  /** A guest's end of posting (its chat user's `guest_until`); null for everyone else. */
  guestUntil: Date | null;
}

export interface MemberRow {
  accountId: string;
  userId: string;
  name: string;
  email: string;
  role: string;
  joinedAt: Date;
  deactivatedAt: Date | null;
  guestUntil: Date | null;
}

export function presentAccount(row: AccountRow): Account {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    email_verified: row.emailVerifiedAt !== null,
    two_factor_enabled: row.twoFactorSecretSealed !== null,
    created_at: row.createdAt.toISOString(),
  };
}

export function presentWorkspace(m: MembershipRow): Workspace {
  return {
    id: m.appId,
    name: m.name,
    join_policy: m.joinPolicy as JoinPolicy,
    join_domain: m.joinDomain,
    require_two_factor: m.requireTwoFactor,
    email_visibility: m.emailVisibility as EmailVisibility,
    slug: m.slug,
    logo: m.logo,
    role: m.role as WorkspaceRole,
    guest_expires_at: m.guestUntil?.toISOString() ?? null,
    user_id: m.userId,
    created_at: m.createdAt.toISOString(),
  };
}

/** A member as a caller sees them: the email only where `showEmail` (`seesMemberEmails`). */
export function presentMember(row: MemberRow, showEmail: boolean): WorkspaceMember {
  return {
    account_id: row.accountId,
    user_id: row.userId,
    name: row.name,
    ...(showEmail ? { email: row.email } : {}),
    role: row.role as WorkspaceRole,
    joined_at: row.joinedAt.toISOString(),
    deactivated_at: row.deactivatedAt?.toISOString() ?? null,
    guest_expires_at: row.guestUntil?.toISOString() ?? null,
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
    guest_channels: row.guestChannels ?? null,
  };
}

export function presentPreview(
  p: { workspaceName: string; workspaceLogo?: string | null; inviterName: string | null; expiresAt: Date },
  reason: InvitePreview['reason'],
): InvitePreview {
  return {
    workspace_name: p.workspaceName,
    workspace_logo: p.workspaceLogo ?? null,
    inviter_name: p.inviterName,
    valid: reason === null,
    reason,
    expires_at: p.expiresAt.toISOString(),
  };
}

export type SessionRow = typeof schema.accountSessions.$inferSelect;

const DEVICES = new Set<string>(DEVICE_TYPES);

/** A user agent as bowser reads it, or null: whatever a client sent, listing sessions must not fail. */
function parseAgent(ua: string): Bowser.Parser.ParsedResult | null {
  try {
    return Bowser.parse(ua);
  } catch {
    return null;
  }
}

/**
 * A session as its owner lists it: the browser, system and kind of device read from its user
 * agent (bowser), where it was last seen from, and when.
 */
export function presentSession(row: SessionRow, currentId: string): AccountSessionInfo {
  const ua = row.userAgent ? parseAgent(row.userAgent) : null;
  const version = (v: string | undefined) => (v ? ` ${v.split('.').slice(0, 2).join('.').replace(/\.0$/, '')}` : '');
  const browser = ua?.browser.name ? `${ua.browser.name}${version(ua.browser.version)}` : null;
  const os = ua?.os.name ? `${ua.os.name}${version(ua.os.versionName ?? ua.os.version)}` : null;
  const type = ua?.platform.type ?? 'unknown';
  return {
    id: row.id,
    current: row.id === currentId,
    browser,
    os,
    device: (DEVICES.has(type) ? type : 'unknown') as AccountSessionInfo['device'],
    ip: row.ip,
    created_at: row.createdAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
  };
}
