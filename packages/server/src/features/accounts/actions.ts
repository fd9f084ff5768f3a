/**
 * Writes of the accounts feature: sign-up and sign-in, workspaces, invites and roles.
 *
 * A workspace is an app. Its members are accounts, and inside the app each one is an
 * ordinary user whose id is derived from the account (`workspaceUserId`), or the imported person
 * it took over (claims.ts), so the chat API works on workspaces unchanged. Workspace owners and admins are app `admin`s (powers in
 * every channel); members are plain `user`s. Role changes keep the two in step.
 */
import { randomUUID } from 'node:crypto';
import {
  type ChangePasswordBody,
  type CreatedInvite,
  type CreateInviteBody,
  INVITE_DEFAULT_HOURS,
  type SignInBody,
  type SignUpBody,
  type TwoFactorChallenge,
  type UpdateWorkspaceBody,
  VERIFY_TOKEN_TTL_SECONDS,
  WORKSPACE_TOKEN_TTL_SECONDS,
  type WorkspaceRole,
  type WorkspaceSession,
} from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { signToken } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { AccountSession } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { accessWorkspace, checkManager, checkOwner } from './access.js';
import { announceWorkspace, checkSlug } from './branding.js';
import { endSessions } from './chat-sessions.js';
import { claimImported, workspaceUserId } from './claims.js';
import { addGuestToChannels, checkGuestInvite } from './guests.js';
import { issueMailToken } from './mail-tokens.js';
import { inviteMail, passwordChangedMail, verifyMail } from './mails.js';
import { checkPasswordPolicy, rememberPassword } from './password-policy.js';
import { hashPassword, verifyNothing, verifyPassword } from './passwords.js';
import { type AccountRow, type MemberRow, type MembershipRow, presentCreatedInvite } from './present.js';
import {
  accountById,
  inviteByTokenHash,
  inviteProblem,
  isDeactivated,
  loadMembership,
  membersOf,
  membersWithoutTwoFactor,
  ownerCount,
} from './queries.js';
import { createSession, newToken, sha256 } from './sessions.js';
import { clearFailures, guardSignin, limitSignup, recordFailure } from './signin-guard.js';
import { issueChallenge } from './two-factor.js';

const { apps, invites, users, workspaceMembers, workspaces } = schema;

export { workspaceUserId };

/** The app-level role that goes with a workspace role (guests are app `guest`s: see guests.ts). */
export const appRoleOf = (role: string) => (role === 'member' ? 'user' : role === 'guest' ? 'guest' : 'admin');

/** Members and guests: the roles admins (not only owners) may remove and deactivate. */
const isPlain = (role: string) => role === 'member' || role === 'guest';

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505';

// ---- accounts ----------------------------------------------------------------------------

/**
 * Create an account and mail it a link to verify its email. It is signed in at once (a session
 * token for the cookie) unless the server requires verification first (`token: null`). The
 * password must pass the policy (password-policy.ts). 409 CONFLICT if the email is taken (any
 * case).
 */
export async function signUp(
  svc: Services,
  body: SignUpBody,
  req: FastifyRequest,
): Promise<{ account: AccountRow; token: string | null }> {
  await limitSignup(svc, req, body.email);
  await checkPasswordPolicy(svc.db, body.password, { email: body.email });
  const passwordHash = await hashPassword(body.password);
  const now = svc.clock();
  let done: { account: AccountRow; token: string | null };
  try {
    done = await svc.db.transaction(async (tx) => {
      const [account] = await tx
        .insert(schema.accounts)
        .values({ id: randomUUID(), email: body.email, name: body.name.trim(), passwordHash })
        .returning();
      if (!account) throw new Error('insert returned no account');
      await rememberPassword(tx, account.id, passwordHash, new Date(now));
      const verify = await issueMailToken(tx, account.id, 'verify_email', VERIFY_TOKEN_TTL_SECONDS, now);
      await svc.mailer.queue(tx, 'verification', verifyMail(svc.config, account.email, verify));
      const token = svc.config.requireEmailVerification ? null : await createSession(tx, account.id, req, now);
      return { account, token };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError('CONFLICT', 'An account with this email already exists');
    throw err;
  }
  svc.mailer.wake();
  return { account: done.account, token: done.token };
}

/**
 * Check a password and start a session. An unknown email and a wrong password get the same
 * answer after the same work (one argon2 verification), so neither the message nor the time
 * tells which it was. Before that: the rate limits per IP and per email, and the lockout
 * (signin-guard.ts); a failure is counted and may lock the account (ACCOUNT_LOCKED). With
 * verification required, the right password of an unverified account is FORBIDDEN with
 * `details.reason: "email_unverified"`. With two-factor sign-in on, the right password gets a
 * challenge for the second step (two-factor.ts) instead of a session, and the failures are
 * not cleared until that step succeeds.
 *
 * Later, here: rehash when PARAMS were raised.
 */
export async function signIn(
  svc: Services,
  body: SignInBody,
  req: FastifyRequest,
): Promise<{ account: AccountRow; token: string } | { challenge: TwoFactorChallenge }> {
  // An unknown email has a lockout state too, and is answered as an account with another
  // password: the same checks in the same order (guardSignin), the same work after them.
  const { account, target } = await guardSignin(svc, req, body.email.trim());
  const ok = account ? await verifyPassword(account.passwordHash, body.password) : await verifyNothing(body.password);
  if (!ok) await recordFailure(svc, target);
  if (account && !ok) {
    await recordAudit(svc.db, {
      appId: null,
      actor: accountActor(account.id),
      action: 'account.signin_failed',
      target: { kind: 'account', id: account.id },
      details: { method: 'password', reason: 'wrong_password' },
    });
  }
  if (!account || !ok) throw new ApiError('UNAUTHORIZED', 'Wrong email or password');
  if (!account.twoFactorSecretSealed) await clearFailures(svc, account);
  if (svc.config.requireEmailVerification && account.emailVerifiedAt === null)
    throw new ApiError('FORBIDDEN', 'Confirm your email first: follow the link we mailed you', {
      reason: 'email_unverified',
    });
  if (account.twoFactorSecretSealed) return { challenge: await issueChallenge(svc, account) };
  const token = await svc.db.transaction(async (tx) => {
    await recordAudit(tx, {
      appId: null,
      actor: accountActor(account.id),
      action: 'account.signin',
      target: { kind: 'account', id: account.id },
      details: { method: 'password' },
    });
    return createSession(tx, account.id, req, svc.clock());
  });
  return { account, token };
}

/**
 * The signed-in account. Sessions are deleted with their account, so a live session without
 * one is not expected; should it happen, the caller is answered as signed out.
 */
export async function loadAccount(svc: Services, accountId: string): Promise<AccountRow> {
  const account = await accountById(svc.db, accountId);
  if (!account) throw new ApiError('UNAUTHORIZED', 'Not signed in');
  return account;
}

/**
 * Change the password, knowing the current one, and sign out every other session of the
 * account (and end their chat tokens): whoever else held a session keeps nothing. This
 * session stays signed in. A wrong current password is FORBIDDEN, not UNAUTHORIZED: the
 * caller is signed in, and a 401 would read as "signed out".
 */
export async function changePassword(svc: Services, session: AccountSession, body: ChangePasswordBody): Promise<void> {
  const account = await loadAccount(svc, session.accountId);
  if (!(await verifyPassword(account.passwordHash, body.current_password)))
    throw new ApiError('FORBIDDEN', 'The current password is wrong');
  await checkPasswordPolicy(svc.db, body.new_password, { email: account.email, accountId: account.id });
  const passwordHash = await hashPassword(body.new_password);
  await svc.db.transaction(async (tx) => {
    await tx
      .update(schema.accounts)
      .set({ passwordHash, updatedAt: sql`now()` })
      .where(eq(schema.accounts.id, account.id));
    await rememberPassword(tx, account.id, passwordHash, new Date(svc.clock()));
    await recordAudit(tx, {
      appId: null,
      actor: accountActor(account.id),
      action: 'account.password_changed',
      target: { kind: 'account', id: account.id },
    });
    await svc.mailer.queue(tx, 'password changed notice', passwordChangedMail(account.email));
  });
  svc.mailer.wake();
  await endSessions(svc, { accountId: account.id, except: session.sessionId });
}

// ---- workspaces --------------------------------------------------------------------------

/**
 * Create a workspace: an app (through the registry, which makes and seals its credentials),
 * its workspace row, and the creator as its owner and as an app admin user. The app is made
 * first, outside the transaction (the registry owns that write); if the rest fails it is
 * deleted again, so no half-made workspace stays behind.
 */
export async function createWorkspace(svc: Services, accountId: string, name: string): Promise<MembershipRow> {
  const account = await loadAccount(svc, accountId);
  const app = await svc.apps.create(name.trim());
  const userId = workspaceUserId(accountId);
  try {
    await svc.db.transaction(async (tx) => {
      await tx.insert(workspaces).values({ appId: app.id, createdBy: accountId });
      await tx.insert(users).values({ appId: app.id, id: userId, name: account.name, role: 'admin' });
      await tx.insert(workspaceMembers).values({ appId: app.id, accountId, userId, role: 'owner' });
    });
  } catch (err) {
    await svc.db
      .delete(apps)
      .where(eq(apps.id, app.id))
      .catch(() => {});
    throw err;
  }
  const m = await loadMembership(svc.db, accountId, app.id);
  if (!m) throw new Error('workspace vanished after creation');
  return m;
}

/**
 * Rename a workspace, change its join policy or who sees members' emails, or require two-factor
 * sign-in (owners and admins). Requiring it needs it on the caller's own account (FORBIDDEN, `two_factor_required`:
 * else they would shut themselves out); once required, the chat tokens of members without it
 * end at once (their sockets close) and they get no new one until they turn it on.
 */
export async function updateWorkspace(
  svc: Services,
  accountId: string,
  appId: string,
  body: UpdateWorkspaceBody,
): Promise<MembershipRow> {
  const slug = body.slug === undefined ? undefined : checkSlug(body.slug);
  const done = await svc.db.transaction(async (tx) => {
    const m = await accessWorkspace(tx, accountId, appId, true);
    checkManager(m);
    if (slug !== undefined && slug !== m.slug) {
      // The workspace's address is the owners' to change, as Slack's workspace URL is.
      checkOwner(m);
      try {
        // A savepoint: the unique index decides a race, and a refusal leaves the rest unchanged.
        await tx.transaction((sp) => sp.update(workspaces).set({ slug }).where(eq(workspaces.appId, appId)));
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ApiError('CONFLICT', 'Another workspace already has this address', { field: 'slug' });
        throw err;
      }
    }
    // The name is the app's name, kept in one place. (The registry's in-memory cache of app
    // contexts may show the old name for up to its TTL; nothing authorizes by name.)
    if (body.name !== undefined) await tx.update(apps).set({ name: body.name.trim() }).where(eq(apps.id, appId));
    if (body.join_policy !== undefined || body.join_domain !== undefined) {
      const policy = body.join_policy ?? m.joinPolicy;
      const domain = body.join_domain === undefined ? m.joinDomain : (body.join_domain?.toLowerCase() ?? null);
      if (policy === 'domain' && !domain)
        throw new ApiError('VALIDATION_ERROR', 'The domain policy needs a join_domain', { reason: 'join_domain' });
      await tx.update(workspaces).set({ joinPolicy: policy, joinDomain: domain }).where(eq(workspaces.appId, appId));
    }
    if (body.email_visibility !== undefined)
      await tx.update(workspaces).set({ emailVisibility: body.email_visibility }).where(eq(workspaces.appId, appId));
    let shutOut: string[] = [];
    if (body.require_two_factor !== undefined && body.require_two_factor !== m.requireTwoFactor) {
      if (body.require_two_factor && !(await accountById(tx, accountId))?.twoFactorSecretSealed)
        throw new ApiError('FORBIDDEN', 'Turn on two-factor sign-in for your own account first', {
          reason: 'two_factor_required',
        });
      await tx.update(workspaces).set({ requireTwoFactor: body.require_two_factor }).where(eq(workspaces.appId, appId));
      if (body.require_two_factor) shutOut = await membersWithoutTwoFactor(tx, appId);
    }
    const updated = await loadMembership(tx, accountId, appId);
    if (!updated) throw notFound('Workspace');
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'workspace.updated',
      target: { kind: 'workspace', id: appId },
      details: { ...body, ...(slug !== undefined ? { slug } : {}) },
    });
    return { updated, shutOut };
  });
  for (const userId of done.shutOut) svc.chatSessions.end({ appId, userId });
  if (body.name !== undefined || slug !== undefined) await announceWorkspace(svc, appId);
  return done.updated;
}

/**
 * A user token for the caller in one workspace (HS256 with that app's secret, 12 hours).
 * Only a member gets one, and only for the app it is a member of: the secret is looked up
 * by the membership's own app id, so no other app's secret can be reached from here. The
 * token names the account session it was asked with (`psid`), and works only while that
 * session and the membership last (chat-sessions.ts).
 */
export async function openWorkspaceSession(
  svc: Services,
  session: AccountSession,
  appId: string,
): Promise<WorkspaceSession> {
  const m = await accessWorkspace(svc.db, session.accountId, appId);
  if (m.requireTwoFactor && !(await loadAccount(svc, session.accountId)).twoFactorSecretSealed)
    throw new ApiError('FORBIDDEN', 'This workspace requires two-factor sign-in: turn it on in your account first', {
      reason: 'two_factor_required',
    });
  const secret = await svc.apps.secretOf(m.appId);
  if (!secret) throw notFound('Workspace');
  const exp = Math.floor(Date.now() / 1000) + WORKSPACE_TOKEN_TTL_SECONDS;
  return {
    api_key: m.apiKey,
    token: await signToken(secret, m.userId, { expiresIn: exp, sessionId: session.sessionId }),
    user_id: m.userId,
    expires_at: new Date(exp * 1000).toISOString(),
  };
}

// ---- invites -----------------------------------------------------------------------------

/** Make an invite link (owners and admins). Its token is returned once and only hashed at rest. */
export async function createInvite(
  svc: Services,
  accountId: string,
  appId: string,
  body: CreateInviteBody,
): Promise<CreatedInvite> {
  const m = await accessWorkspace(svc.db, accountId, appId);
  checkManager(m);
  if (body.guest) await checkGuestInvite(svc, appId, body.guest);
  const token = newToken();
  const hours = body.expires_in_hours ?? INVITE_DEFAULT_HOURS;
  const id = randomUUID();
  const to = body.email;
  const created = await svc.db.transaction(async (tx) => {
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'invite.created',
      target: { kind: 'invite', id },
      details: { max_uses: body.max_uses ?? null, expires_in_hours: hours, guest: body.guest ? true : undefined },
    });
    const [row] = await tx
      .insert(invites)
      .values({
        appId,
        id,
        tokenHash: sha256(token),
        createdBy: accountId,
        maxUses: body.max_uses ?? null,
        expiresAt: new Date(Date.now() + hours * 3600_000),
        guestChannels: body.guest?.channels ?? null,
        guestExpiresAt: body.guest ? new Date(body.guest.expires_at) : null,
      })
      .returning();
    if (!row) throw new Error('insert returned no invite');
    const created = presentCreatedInvite(row, token);
    if (to) {
      const [who] = await tx
        .select({ inviter: schema.accounts.name, workspace: apps.name })
        .from(schema.accounts)
        .innerJoin(apps, eq(apps.id, appId))
        .where(eq(schema.accounts.id, accountId));
      await svc.mailer.queue(
        tx,
        'invite',
        inviteMail(svc.config, to, who?.inviter ?? 'Someone', who?.workspace ?? 'a workspace', created),
      );
    }
    return created;
  });
  if (to) svc.mailer.wake();
  return created;
}

/** Revoke an invite (owners and admins). Revoking twice is fine; an unknown id is NOT_FOUND. */
export async function revokeInvite(svc: Services, accountId: string, appId: string, inviteId: string): Promise<void> {
  const m = await accessWorkspace(svc.db, accountId, appId);
  checkManager(m);
  await svc.db.transaction(async (tx) => {
    const done = await tx
      .update(invites)
      .set({ revokedAt: sql`coalesce(${invites.revokedAt}, now())` })
      .where(and(eq(invites.appId, appId), eq(invites.id, inviteId)))
      .returning({ id: invites.id });
    if (done.length === 0) throw notFound('Invite');
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'invite.revoked',
      target: { kind: 'invite', id: inviteId },
    });
  });
}

/**
 * Join a workspace with an invite token, as a `member`. Unknown and revoked invites are
 * NOT_FOUND; expired and used-up ones are FORBIDDEN with `details.reason` (`expired` |
 * `used_up`). An account that is already a member just gets the workspace back, and uses
 * nothing. The invite row is locked for the check-and-count, so two people cannot both take
 * the last use.
 */
export async function acceptInvite(svc: Services, accountId: string, token: string): Promise<MembershipRow> {
  const account = await loadAccount(svc, accountId);
  try {
    const joined = await joinWithInvite(svc, account, token);
    if (joined.guestChannels) await addGuestToChannels(svc, joined.appId, joined.userId, joined.guestChannels);
    return joined;
  } catch (err) {
    // The same account joining twice at once (two invites, two tabs): the loser's
    // transaction rolled back, uses included, and the winner's membership stands.
    if (!isUniqueViolation(err)) throw err;
    const row = await inviteByTokenHash(svc.db, sha256(token));
    const m = row && (await loadMembership(svc.db, accountId, row.invite.appId));
    if (!m) throw err;
    return m;
  }
}

function joinWithInvite(
  svc: Services,
  account: AccountRow,
  token: string,
): Promise<MembershipRow & { guestChannels?: string[] }> {
  const accountId = account.id;
  return svc.db.transaction(async (tx) => {
    const row = await inviteByTokenHash(tx, sha256(token), true);
    if (!row || row.invite.revokedAt) throw notFound('Invite');
    const appId = row.invite.appId;
    const already = await loadMembership(tx, accountId, appId);
    if (already) return already;
    // A deactivated member is still a member: an invite does not bring them back, an admin does.
    if (await isDeactivated(tx, accountId, appId))
      throw new ApiError('FORBIDDEN', 'Your account was deactivated in this workspace: ask an admin', {
        reason: 'deactivated',
      });
    const problem = inviteProblem(row.invite, row.joinPolicy);
    if (problem === 'expired') throw new ApiError('FORBIDDEN', 'This invite has expired', { reason: problem });
    if (problem === 'used_up') throw new ApiError('FORBIDDEN', 'This invite has been used up', { reason: problem });

    await tx
      .update(invites)
      .set({ uses: sql`${invites.uses} + 1` })
      .where(and(eq(invites.appId, appId), eq(invites.id, row.invite.id)));
    // An imported person with this account's verified email becomes this account's (claims.ts).
    const claimed = await claimImported(tx, appId, account);
    const userId = claimed ?? workspaceUserId(accountId);
    // A guest invite makes a guest: app role `guest`, posting until the invite's guest expiry.
    const guest = row.invite.guestChannels && row.invite.guestExpiresAt ? row.invite : null;
    const role = guest ? 'guest' : 'user';
    const guestUntil = guest?.guestExpiresAt ?? null;
    await tx
      .insert(users)
      .values({ appId, id: userId, name: account.name, role, guestUntil })
      .onConflictDoUpdate({
        target: [users.appId, users.id],
        set: { name: account.name, role, guestUntil, updatedAt: sql`now()` },
      });
    await tx
      .insert(workspaceMembers)
      .values({ appId, accountId, userId, role: guest ? 'guest' : 'member', invitedBy: row.invite.createdBy });
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'invite.accepted',
      target: { kind: 'invite', id: row.invite.id },
      details: {
        role: guest ? 'guest' : 'member',
        invited_by: row.invite.createdBy,
        ...(claimed ? { claimed_user_id: claimed } : {}),
      },
    });
    const m = await loadMembership(tx, accountId, appId);
    if (!m) throw new Error('membership vanished after joining');
    return guest?.guestChannels ? { ...m, guestChannels: guest.guestChannels } : m;
  });
}

// ---- members -----------------------------------------------------------------------------

/**
 * Remove a member from a workspace, or leave it (`targetAccountId` = the caller). Owners
 * remove anyone, admins remove members, anyone may leave; the last owner can do neither
 * (CONFLICT: make someone else an owner first). The account's user stays in the app — its
 * messages remain — as a plain user, and every chat token it holds for this workspace ends at
 * once (its sockets close); it cannot get a new one. The workspace row is locked first, as
 * for role changes, so two removals cannot leave it without an owner.
 */
export async function removeMember(
  svc: Services,
  accountId: string,
  appId: string,
  targetAccountId: string,
): Promise<void> {
  const removed = await svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    const [target] = await membersOf(tx, appId, targetAccountId);
    if (!target) throw notFound('Member');
    if (targetAccountId !== accountId) {
      checkManager(me);
      if (me.role === 'admin' && !isPlain(target.role))
        throw new ApiError('FORBIDDEN', 'Only owners can remove owners and admins');
    }
    if (target.role === 'owner' && target.deactivatedAt === null && (await ownerCount(tx, appId)) <= 1)
      throw new ApiError('CONFLICT', 'A workspace needs at least one owner: make someone else an owner first');
    await tx
      .delete(workspaceMembers)
      .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, targetAccountId)));
    await tx
      .update(users)
      // A removed guest stays a guest in the chat (never a user who could read open channels).
      .set({ role: target.role === 'guest' ? 'guest' : 'user', updatedAt: sql`now()` })
      .where(and(eq(users.appId, appId), eq(users.id, target.userId)));
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: targetAccountId === accountId ? 'member.left' : 'member.removed',
      target: { kind: 'account', id: targetAccountId },
      details: { role: target.role, user_id: target.userId },
    });
    return target.userId;
  });
  svc.chatSessions.end({ appId, userId: removed });
}

/**
 * Change a member's role (owners only). The workspace row is locked first, so two owners
 * demoting each other at once cannot leave the workspace without an owner: the second sees
 * the first's change and is refused with CONFLICT.
 */
export async function setMemberRole(
  svc: Services,
  accountId: string,
  appId: string,
  targetAccountId: string,
  role: WorkspaceRole,
): Promise<MemberRow> {
  return svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    checkOwner(me);
    const [target] = await membersOf(tx, appId, targetAccountId);
    if (!target) throw notFound('Member');
    if (target.role === role) return target;
    if (target.role === 'owner' && target.deactivatedAt === null && (await ownerCount(tx, appId)) <= 1)
      throw new ApiError('CONFLICT', 'A workspace needs at least one owner: make someone else an owner first');
    await tx
      .update(workspaceMembers)
      .set({ role })
      .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, targetAccountId)));
    await tx
      .update(users)
      // A deactivated member stays a plain user in the chat until reactivated. A guest made a
      // member loses its expiry.
      .set({ role: target.deactivatedAt ? 'user' : appRoleOf(role), guestUntil: null, updatedAt: sql`now()` })
      .where(and(eq(users.appId, appId), eq(users.id, target.userId)));
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: 'member.role_changed',
      target: { kind: 'account', id: targetAccountId },
      details: { from: target.role, to: role, user_id: target.userId },
    });
    return { ...target, role, guestUntil: null };
  });
}

/**
 * Deactivate a member (`active: false`) or bring one back (`active: true`). Owners may do it
 * to anyone, admins to members; nobody to themselves (leaving is the way out), and never to
 * the last active owner (CONFLICT). A deactivated member keeps its membership, its role and
 * its messages, but cannot open the workspace — it is NOT_FOUND to them — and every chat
 * token it holds for the workspace ends at once (its sockets close). Its chat user loses the
 * app `admin` role while deactivated. Doing it twice is fine. The workspace row is locked
 * first, as for role changes.
 */
export async function setMemberActive(
  svc: Services,
  accountId: string,
  appId: string,
  targetAccountId: string,
  active: boolean,
): Promise<MemberRow> {
  const done = await svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    checkManager(me);
    const [target] = await membersOf(tx, appId, targetAccountId);
    if (!target) throw notFound('Member');
    if (targetAccountId === accountId)
      throw new ApiError('FORBIDDEN', 'You cannot deactivate yourself: leave the workspace instead');
    if (me.role === 'admin' && !isPlain(target.role))
      throw new ApiError('FORBIDDEN', 'Only owners can deactivate or reactivate owners and admins');
    if ((target.deactivatedAt === null) === active) return { row: target, changed: false };
    if (!active && target.role === 'owner' && (await ownerCount(tx, appId)) <= 1)
      throw new ApiError('CONFLICT', 'A workspace needs at least one owner: make someone else an owner first');
    const at = active ? null : new Date(svc.clock());
    await tx
      .update(workspaceMembers)
      .set({ deactivatedAt: at })
      .where(and(eq(workspaceMembers.appId, appId), eq(workspaceMembers.accountId, targetAccountId)));
    await tx
      .update(users)
      .set({ role: active || target.role === 'guest' ? appRoleOf(target.role) : 'user', updatedAt: sql`now()` })
      .where(and(eq(users.appId, appId), eq(users.id, target.userId)));
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: active ? 'member.reactivated' : 'member.deactivated',
      target: { kind: 'account', id: targetAccountId },
      details: { role: target.role, user_id: target.userId },
    });
    return { row: { ...target, deactivatedAt: at }, changed: true };
  });
  if (done.changed && !active) svc.chatSessions.end({ appId, userId: done.row.userId });
  return done.row;
}
