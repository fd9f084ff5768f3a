/** Reads for accounts, workspaces, members and invites. */
import { aliasedTable, and, asc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import type { AccountRow, InviteRow, MemberRow, MembershipRow } from './present.js';

const { accounts, apps, invites, users, workspaceMembers, workspaces } = schema;

/** The chat user of a workspace member (for a guest's `guest_until`). */
const memberUser = and(eq(users.appId, workspaceMembers.appId), eq(users.id, workspaceMembers.userId));

/** The account with this email, compared case-insensitively (the `lower(email)` index). */
export async function accountByEmail(q: Queryable, email: string): Promise<AccountRow | null> {
  const [row] = await q.select().from(accounts).where(sql`lower(${accounts.email}) = lower(${email})`).limit(1);
  return row ?? null;
}

export async function accountById(q: Queryable, id: string): Promise<AccountRow | null> {
  const [row] = await q.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return row ?? null;
}

const membership = {
  appId: workspaceMembers.appId,
  name: apps.name,
  apiKey: apps.apiKey,
  joinPolicy: workspaces.joinPolicy,
  joinDomain: workspaces.joinDomain,
  requireTwoFactor: workspaces.requireTwoFactor,
  emailVisibility: workspaces.emailVisibility,
  slug: workspaces.slug,
  logo: workspaces.logo,
  createdAt: workspaces.createdAt,
  accountId: workspaceMembers.accountId,
  userId: workspaceMembers.userId,
  role: workspaceMembers.role,
  guestUntil: users.guestUntil,
};

function memberships(q: Queryable, where: SQL | undefined) {
  return q
    .select(membership)
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.appId, workspaceMembers.appId))
    .innerJoin(apps, eq(apps.id, workspaceMembers.appId))
    .leftJoin(users, memberUser)
    .where(and(where, isNull(apps.disabledAt), isNull(workspaceMembers.deactivatedAt)));
}

/**
 * One account's membership of one workspace, with the workspace; null when the account is
 * not a member, or a deactivated one (or the app is disabled). `lock` first takes the workspace row `FOR UPDATE`,
 * which serialises role and settings changes within the workspace. The membership is read
 * by a second statement, after the lock is held: under READ COMMITTED a single locking
 * statement would still answer the role as it was before it waited, and a just-demoted
 * owner would pass the check.
 */
export async function loadMembership(
  q: Queryable,
  accountId: string,
  appId: string,
  lock = false,
): Promise<MembershipRow | null> {
  if (lock) {
    const [held] = await q
      .select({ appId: workspaces.appId })
      .from(workspaces)
      .where(eq(workspaces.appId, appId))
      .for('update');
    if (!held) return null;
  }
  const [row] = await memberships(q, and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, accountId)));
  return row ?? null;
}

/** One account's membership of the workspace with this slug (lower case); null as `loadMembership`. */
export async function membershipBySlug(q: Queryable, accountId: string, slug: string): Promise<MembershipRow | null> {
  const [row] = await memberships(q, and(eq(workspaces.slug, slug), eq(workspaceMembers.accountId, accountId)));
  return row ?? null;
}

/** Every workspace an account belongs to, by name. */
export async function workspacesOf(svc: Services, accountId: string): Promise<MembershipRow[]> {
  return memberships(svc.db, eq(workspaceMembers.accountId, accountId)).orderBy(
    sql`lower(${apps.name})`,
    workspaceMembers.appId,
  );
}

/** The members of a workspace with their accounts' names and emails, by name; deactivated ones too. */
export async function membersOf(q: Queryable, appId: string, accountId?: string): Promise<MemberRow[]> {
  return q
    .select({
      accountId: workspaceMembers.accountId,
      userId: workspaceMembers.userId,
      name: accounts.name,
      email: accounts.email,
      role: workspaceMembers.role,
      joinedAt: workspaceMembers.joinedAt,
      deactivatedAt: workspaceMembers.deactivatedAt,
      guestUntil: users.guestUntil,
    })
    .from(workspaceMembers)
    .innerJoin(accounts, eq(accounts.id, workspaceMembers.accountId))
    .leftJoin(users, memberUser)
    .where(and(eq(workspaceMembers.appId, appId), accountId ? eq(workspaceMembers.accountId, accountId) : undefined))
    .orderBy(sql`lower(${accounts.name})`, workspaceMembers.accountId);
}

/** How many active (not deactivated) owners a workspace has. */
export async function ownerCount(q: Queryable, appId: string): Promise<number> {
  const [row] = await q
    .select({ n: sql<number>`count(*)::int` })
    .from(workspaceMembers)
    .where(
      and(
        eq(workspaceMembers.appId, appId),
        eq(workspaceMembers.role, 'owner'),
        isNull(workspaceMembers.deactivatedAt),
      ),
    );
  return row?.n ?? 0;
}

/**
 * How many times an invite may be used: its own `max_uses`, else what the workspace's join
 * policy says (one for `invite_only`, no limit for `link`). Read at use time, so changing
 * the policy changes what existing invites without `max_uses` allow.
 */
export function useLimit(maxUses: number | null, joinPolicy: string): number | null {
  return maxUses ?? (joinPolicy === 'invite_only' ? 1 : null);
}

/** Why an invite (not revoked) cannot be accepted now, or null when it can. */
export function inviteProblem(invite: InviteRow, joinPolicy: string): 'expired' | 'used_up' | null {
  if (invite.expiresAt.getTime() <= Date.now()) return 'expired';
  const limit = useLimit(invite.maxUses, joinPolicy);
  if (limit !== null && invite.uses >= limit) return 'used_up';
  return null;
}

/** Invites that can still be accepted, newest first, with their creator's name. */
export async function activeInvites(
  svc: Services,
  appId: string,
  joinPolicy: string,
): Promise<{ invite: InviteRow; inviterName: string | null }[]> {
  const fallback = useLimit(null, joinPolicy);
  const limit = sql`coalesce(${invites.maxUses}, ${fallback}::int)`;
  return svc.db
    .select({ invite: invites, inviterName: accounts.name })
    .from(invites)
    .leftJoin(accounts, eq(accounts.id, invites.createdBy))
    .where(
      and(
        eq(invites.appId, appId),
        isNull(invites.revokedAt),
        gt(invites.expiresAt, sql`now()`),
        sql`(${limit} is null or ${invites.uses} < ${limit})`,
      ),
    )
    .orderBy(sql`${invites.createdAt} desc`, asc(invites.id));
}

const inviter = aliasedTable(accounts, 'inviter');

/** An invite found by its token's hash, with its workspace; revoked ones included. */
export async function inviteByTokenHash(q: Queryable, tokenHash: string, lock = false) {
  const query = q
    .select({
      invite: invites,
      workspaceName: apps.name,
      workspaceLogo: workspaces.logo,
      joinPolicy: workspaces.joinPolicy,
      inviterName: inviter.name,
    })
    .from(invites)
    .innerJoin(workspaces, eq(workspaces.appId, invites.appId))
    .innerJoin(apps, eq(apps.id, invites.appId))
    .leftJoin(inviter, eq(inviter.id, invites.createdBy))
    .where(and(eq(invites.tokenHash, tokenHash), isNull(apps.disabledAt)))
    .limit(1);
  const [row] = lock ? await query.for('update', { of: invites }) : await query;
  return row ?? null;
}

/** Whether the account has a deactivated membership of the workspace. */
export async function isDeactivated(q: Queryable, accountId: string, appId: string): Promise<boolean> {
  const [row] = await q
    .select({ at: workspaceMembers.deactivatedAt })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, accountId)))
    .limit(1);
  return row?.at != null;
}

/** The user ids of a workspace's active members whose accounts have no two-factor sign-in. */
export async function membersWithoutTwoFactor(q: Queryable, appId: string): Promise<string[]> {
  const rows = await q
    .select({ userId: workspaceMembers.userId })
    .from(workspaceMembers)
    .innerJoin(accounts, eq(accounts.id, workspaceMembers.accountId))
    .where(
      and(
        eq(workspaceMembers.appId, appId),
        isNull(workspaceMembers.deactivatedAt),
        isNull(accounts.twoFactorSecretSealed),
      ),
    );
  return rows.map((r) => r.userId);
}

/** The workspaces that require two-factor sign-in in which the account is an active member: app and user ids. */
export async function twoFactorWorkspacesOf(q: Queryable, accountId: string) {
  return q
    .select({ appId: workspaceMembers.appId, userId: workspaceMembers.userId })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.appId, workspaceMembers.appId))
    .where(
      and(
        eq(workspaceMembers.accountId, accountId),
        isNull(workspaceMembers.deactivatedAt),
        eq(workspaces.requireTwoFactor, true),
      ),
    );
}
