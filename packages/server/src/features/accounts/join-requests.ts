/**
 * Joining a workspace without an invite, as its join policy allows: under `request` a
 * signed-in account asks and an owner or admin approves or denies (the requester is mailed
 * the answer and sees it on the join page); under `domain` an account whose *verified* email
 * is at the workspace's `join_domain` joins at once. Under `invite_only` and `link` the join
 * page is NOT_FOUND: those workspaces say nothing to people without an invite.
 */
import { randomUUID } from 'node:crypto';
import type { JoinPage, JoinRequest } from '@parley/protocol';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { accessWorkspace, checkManager } from './access.js';
import { loadAccount, workspaceUserId } from './actions.js';
import { claimImported } from './claims.js';
import { publicUrl } from './mails.js';
import type { AccountRow, MembershipRow } from './present.js';
import { accountById, isDeactivated, loadMembership } from './queries.js';

const { accounts, apps, joinRequests, users, workspaceMembers, workspaces } = schema;

type RequestRow = typeof joinRequests.$inferSelect & { name: string; email: string };

export function presentJoinRequest(r: RequestRow, showEmail: boolean): JoinRequest {
  return {
    id: r.id,
    account_id: r.accountId,
    name: r.name,
    ...(showEmail ? { email: r.email } : {}),
    status: r.status as JoinRequest['status'],
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
  };
}

/** The workspace as its join page shows it, or NOT_FOUND when it takes no requests or domain joins. */
async function openWorkspace(q: Queryable, appId: string, lock = false) {
  const query = q
    .select({
      appId: workspaces.appId,
      name: apps.name,
      logo: workspaces.logo,
      policy: workspaces.joinPolicy,
      domain: workspaces.joinDomain,
    })
    .from(workspaces)
    .innerJoin(apps, eq(apps.id, workspaces.appId))
    .where(and(eq(workspaces.appId, appId), sql`${apps.disabledAt} is null`))
    .limit(1);
  const [w] = lock ? await query.for('update', { of: workspaces }) : await query;
  if (!w || (w.policy !== 'request' && w.policy !== 'domain')) throw notFound('Workspace');
  return w;
}

const selectRequest = {
  appId: joinRequests.appId,
  id: joinRequests.id,
  accountId: joinRequests.accountId,
  status: joinRequests.status,
  createdAt: joinRequests.createdAt,
  decidedAt: joinRequests.decidedAt,
  decidedBy: joinRequests.decidedBy,
  name: accounts.name,
  email: accounts.email,
};

async function requestOf(q: Queryable, appId: string, where: ReturnType<typeof eq>): Promise<RequestRow | null> {
  const [r] = await q
    .select(selectRequest)
    .from(joinRequests)
    .innerJoin(accounts, eq(accounts.id, joinRequests.accountId))
    .where(and(eq(joinRequests.appId, appId), where))
    .limit(1);
  return r ?? null;
}

/** Whether an account may join under the `domain` policy: a verified email at the domain. */
const domainMatches = (account: AccountRow, domain: string | null) =>
  domain !== null &&
  account.emailVerifiedAt !== null &&
  account.email.toLowerCase().split('@').at(-1) === domain.toLowerCase();

/** The join page of a workspace for the signed-in account. */
export async function joinPage(svc: Services, accountId: string, appId: string): Promise<JoinPage> {
  const w = await openWorkspace(svc.db, appId);
  const account = await loadAccount(svc, accountId);
  const member = (await loadMembership(svc.db, accountId, appId)) !== null;
  const r = await requestOf(svc.db, appId, eq(joinRequests.accountId, accountId));
  return {
    workspace_id: w.appId,
    workspace_name: w.name,
    workspace_logo: w.logo,
    join_policy: w.policy as JoinPage['join_policy'],
    join_domain: w.policy === 'domain' ? w.domain : null,
    member,
    request: w.policy === 'request' && r ? presentJoinRequest(r, false) : null,
    can_join: w.policy === 'domain' && domainMatches(account, w.domain),
  };
}

/** Add an account to a workspace as a member (inside the caller's transaction). */
async function addMember(q: Queryable, appId: string, account: AccountRow, invitedBy: string | null) {
  // An imported person with this account's verified email becomes this account's (claims.ts).
  const userId = (await claimImported(q, appId, account)) ?? workspaceUserId(account.id);
  await q
    .insert(users)
    .values({ appId, id: userId, name: account.name, role: 'user' })
    .onConflictDoUpdate({
      target: [users.appId, users.id],
      set: { name: account.name, role: 'user', guestUntil: null, updatedAt: sql`now()` },
    });
  await q.insert(workspaceMembers).values({ appId, accountId: account.id, userId, role: 'member', invitedBy });
}

/**
 * Ask to join (`request` policy) or join at once (`domain` policy, verified email at the
 * domain; FORBIDDEN with `details.reason` `domain` otherwise, or `email_unverified`). A member
 * asking gets `{ workspace }` back and nothing changes; a deactivated member is FORBIDDEN
 * (`deactivated`). Asking twice keeps the one pending request; a denied account may ask again.
 * The workspace row is locked so a request and its approval cannot cross.
 */
export async function askToJoin(
  svc: Services,
  accountId: string,
  appId: string,
): Promise<{ workspace: MembershipRow } | { request: RequestRow }> {
  const account = await loadAccount(svc, accountId);
  const done = await svc.db.transaction(async (tx) => {
    const w = await openWorkspace(tx, appId, true);
    const already = await loadMembership(tx, accountId, appId);
    if (already) return { workspace: already };
    if (await isDeactivated(tx, accountId, appId))
      throw new ApiError('FORBIDDEN', 'Your account was deactivated in this workspace: ask an admin', {
        reason: 'deactivated',
      });
    if (w.policy === 'domain') {
      if (account.emailVerifiedAt === null)
        throw new ApiError('FORBIDDEN', 'Confirm your email first: follow the link we mailed you', {
          reason: 'email_unverified',
        });
      if (!domainMatches(account, w.domain))
        throw new ApiError('FORBIDDEN', `Only accounts with an email at ${w.domain} may join`, { reason: 'domain' });
      await addMember(tx, appId, account, null);
      const m = await loadMembership(tx, accountId, appId);
      if (!m) throw new Error('membership vanished after joining');
      return { workspace: m };
    }
    await tx
      .insert(joinRequests)
      .values({ appId, id: randomUUID(), accountId, status: 'pending' })
      .onConflictDoUpdate({
        target: [joinRequests.appId, joinRequests.accountId],
        // Pending stays as it was; an old decision gives way to a new request.
        set: {
          status: 'pending',
          createdAt: sql`case when ${joinRequests.status} = 'pending' then ${joinRequests.createdAt} else now() end`,
          decidedAt: null,
          decidedBy: null,
        },
      });
    const r = await requestOf(tx, appId, eq(joinRequests.accountId, accountId));
    if (!r) throw new Error('join request vanished');
    await svc.mailer.queue(tx, 'join request received', {
      to: account.email,
      subject: `Your request to join ${w.name}`,
      text: `We passed your request to join ${w.name} to its admins. We will mail you when they decide.`,
    });
    return { request: r };
  });
  if (done.request) {
    svc.mailer.wake();
    return { request: done.request };
  }
  return done as { workspace: MembershipRow };
}

/** Pending requests, oldest first (owners and admins). */
export async function pendingRequests(svc: Services, accountId: string, appId: string): Promise<RequestRow[]> {
  const m = await accessWorkspace(svc.db, accountId, appId);
  checkManager(m);
  return svc.db
    .select(selectRequest)
    .from(joinRequests)
    .innerJoin(accounts, eq(accounts.id, joinRequests.accountId))
    .where(and(eq(joinRequests.appId, appId), eq(joinRequests.status, 'pending')))
    .orderBy(asc(joinRequests.createdAt), asc(joinRequests.id));
}

/**
 * Approve (the requester becomes a member) or deny a pending request (owners and admins),
 * and mail the requester the answer. NOT_FOUND for an unknown request; CONFLICT for one
 * already decided. Approving works whatever the policy is now: the admin decided.
 */
export async function decideRequest(
  svc: Services,
  accountId: string,
  appId: string,
  requestId: string,
  approve: boolean,
): Promise<RequestRow> {
  const r = await svc.db.transaction(async (tx) => {
    const me = await accessWorkspace(tx, accountId, appId, true);
    checkManager(me);
    const r = await requestOf(tx, appId, eq(joinRequests.id, requestId));
    if (!r) throw notFound('Join request');
    if (r.status !== 'pending') throw new ApiError('CONFLICT', `This request was ${r.status} already`);
    if (approve && !(await loadMembership(tx, r.accountId, appId))) {
      if (await isDeactivated(tx, r.accountId, appId))
        throw new ApiError('CONFLICT', 'This account was deactivated here: reactivate it instead');
      const account = await accountById(tx, r.accountId);
      if (!account) throw notFound('Join request');
      await addMember(tx, appId, account, accountId);
    }
    const status = approve ? 'approved' : 'denied';
    const at = new Date(svc.clock());
    await tx
      .update(joinRequests)
      .set({ status, decidedAt: at, decidedBy: accountId })
      .where(and(eq(joinRequests.appId, appId), eq(joinRequests.id, requestId)));
    await recordAudit(tx, {
      appId,
      actor: accountActor(accountId),
      action: approve ? 'join_request.approved' : 'join_request.denied',
      target: { kind: 'account', id: r.accountId },
      details: { request_id: requestId },
    });
    const url = `${publicUrl(svc.config)}/join/${appId}`;
    await svc.mailer.queue(tx, `join request ${status}`, {
      to: r.email,
      subject: approve ? `You joined ${me.name}` : `Your request to join ${me.name} was declined`,
      text: approve
        ? `An admin of ${me.name} approved your request. Open it here:\n${url}`
        : `An admin of ${me.name} declined your request to join.`,
    });
    return { ...r, status, decidedAt: at, decidedBy: accountId, workspaceName: me.name };
  });
  svc.mailer.wake();
  return r;
}
