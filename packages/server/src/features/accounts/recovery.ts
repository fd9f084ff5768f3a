/**
 * Writes that go through a mailed link: password reset, email verification, change of email.
 *
 * The requests that name an address (forgot password, change of email) answer the same,
 * `{ok:true}`, whether it has an account or not, and in the same time: the answer is given
 * before anything depends on the address — the look-up, the token and the mail run after it,
 * in an `accounts.mail` job the request enqueues (mail-jobs.ts), and only the rate limits are
 * counted first. Every other mail is queued in the transaction of the request that causes it.
 */
import {
  type ChangeEmailBody,
  type ForgotPasswordBody,
  type ResetPasswordBody,
  VERIFY_TOKEN_TTL_SECONDS,
} from '@parley/protocol';
import { eq, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { AccountSession } from '../../platform/http.js';
import { removeBytes } from '../../platform/storage/pictures.js';
import type { Services } from '../../services.js';
import { forgetUser } from '../users/index.js';
import { loadAccount } from './actions.js';
import { endSessions } from './chat-sessions.js';
import { claimLate, type LateClaim } from './claims.js';
import { enqueueAccountMail, wakeAccountMail } from './mail-jobs.js';
import { issueMailToken, redeemMailToken } from './mail-tokens.js';
import { emailChangeNoticeMail, verifyMail } from './mails.js';
import { checkPasswordPolicy, rememberPassword } from './password-policy.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { accountById } from './queries.js';
import { limitMail } from './signin-guard.js';

const { accounts } = schema;

/** One answer for every link that is no good: unknown, expired, used, or of another kind. */
const badLink = () =>
  new ApiError('FORBIDDEN', 'This link is invalid, has expired or was already used', { reason: 'invalid_token' });

/**
 * In the transaction that verified the account's email: the imported people it claims now, in
 * workspaces it joined before (claims.ts).
 */
async function claimNow(tx: Tx, out: Outbox, accountId: string, via: Parameters<typeof claimLate>[3]) {
  const account = await accountById(tx, accountId);
  return account ? claimLate(tx, out, account, via) : [];
}

/**
 * After the commit of late claims: the account's sockets as its old user close (the app gets a
 * token as the person it became, and loads again), and a picture the merge dropped goes.
 */
async function afterClaims(svc: Services, done: LateClaim[]): Promise<void> {
  for (const c of done) {
    forgetUser(c.appId, c.merged);
    svc.chatSessions.end({ appId: c.appId, userId: c.merged, reason: 'You now have your imported history' });
    if (c.picture) await removeBytes(svc, c.picture);
  }
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505';

/** Mail a reset link if `email` has an account. Answers alike either way (see the top). */
export async function requestPasswordReset(svc: Services, body: ForgotPasswordBody, req: FastifyRequest) {
  await limitMail(svc, req, body.email);
  await enqueueAccountMail(svc, svc.db, { kind: 'password reset', email: body.email });
  wakeAccountMail(svc);
}

/**
 * Set a new password with a reset link's token. In one transaction: the token is used up, the
 * password checked against the policy and set, the lockout cleared and the email marked
 * verified (the link reached that mailbox). A policy refusal rolls it all back, token
 * included, so the person can try another password with the same link. After commit, every
 * session of the account ends (its chat sockets close): whoever held one keeps nothing. The
 * caller is not signed in; they sign in with the new password.
 */
export async function resetPassword(svc: Services, body: ResetPasswordBody): Promise<void> {
  const now = svc.clock();
  const { accountId, claims } = await withTransaction(svc, async (tx, out) => {
    const row = await redeemMailToken(tx, 'reset_password', body.token, now);
    if (!row) throw badLink();
    const account = await accountById(tx, row.accountId);
    if (!account) throw badLink();
    await checkPasswordPolicy(tx, body.new_password, { email: account.email, accountId: account.id });
    const passwordHash = await hashPassword(body.new_password);
    await tx
      .update(accounts)
      .set({
        passwordHash,
        failedSignins: 0,
        lockedUntil: null,
        emailVerifiedAt: sql`coalesce(${accounts.emailVerifiedAt}, ${new Date(now)})`,
        updatedAt: sql`now()`,
      })
      .where(eq(accounts.id, account.id));
    await rememberPassword(tx, account.id, passwordHash, new Date(now));
    // The link reached the mailbox: an address confirmed only now claims its imported people.
    const claims = account.emailVerifiedAt ? [] : await claimNow(tx, out, account.id, 'password_reset');
    return { accountId: account.id, claims };
  });
  await endSessions(svc, { accountId });
  await afterClaims(svc, claims);
}

/** Mail the signed-in account a new verification link (a no-op once verified). */
export async function resendVerification(svc: Services, session: AccountSession, req: FastifyRequest) {
  const account = await loadAccount(svc, session.accountId);
  if (account.emailVerifiedAt) return;
  await limitMail(svc, req, account.email);
  await svc.db.transaction(async (tx) => {
    const token = await issueMailToken(tx, account.id, 'verify_email', VERIFY_TOKEN_TTL_SECONDS, svc.clock());
    await svc.mailer.queue(tx, 'verification', verifyMail(svc.config, account.email, token));
  });
  svc.mailer.wake();
}

/**
 * Mark an account's email verified with the token of its verification link; the imported people
 * with that address in workspaces it already joined become its, in the same transaction.
 */
export async function verifyEmail(svc: Services, token: string): Promise<void> {
  const now = svc.clock();
  const claims = await withTransaction(svc, async (tx, out) => {
    const row = await redeemMailToken(tx, 'verify_email', token, now);
    if (!row) throw badLink();
    const [was] = await tx
      .select({ at: accounts.emailVerifiedAt })
      .from(accounts)
      .where(eq(accounts.id, row.accountId))
      .for('update');
    await tx
      .update(accounts)
      .set({ emailVerifiedAt: sql`coalesce(${accounts.emailVerifiedAt}, ${new Date(now)})` })
      .where(eq(accounts.id, row.accountId));
    return was && was.at === null ? claimNow(tx, out, row.accountId, 'email_verified') : [];
  });
  await afterClaims(svc, claims);
}

/**
 * Ask to move the signed-in account to `new_email`, proving it is the owner with the current
 * password (FORBIDDEN when wrong). The new address gets a confirmation link — or, when it
 * already has an account, a mail that says so, with the same subject; the old address gets a
 * notice. The answer is the same either way.
 */
export async function requestEmailChange(
  svc: Services,
  session: AccountSession,
  body: ChangeEmailBody,
  req: FastifyRequest,
): Promise<void> {
  const account = await loadAccount(svc, session.accountId);
  if (!(await verifyPassword(account.passwordHash, body.password)))
    throw new ApiError('FORBIDDEN', 'The password is wrong');
  if (body.new_email.toLowerCase() === account.email.toLowerCase())
    throw new ApiError('VALIDATION_ERROR', 'This is already your email address', { reason: 'same_email' });
  await limitMail(svc, req, body.new_email);
  await svc.db.transaction(async (tx) => {
    await enqueueAccountMail(svc, tx, { kind: 'email change', accountId: account.id, newEmail: body.new_email });
    await svc.mailer.queue(tx, 'email change notice', emailChangeNoticeMail(account.email, body.new_email));
  });
  wakeAccountMail(svc);
  svc.mailer.wake();
}

/**
 * Confirm a change of email with the token mailed to the new address: the account takes it,
 * verified, and the imported people with that address in workspaces it already joined become
 * its, in the same transaction. CONFLICT when another account took the address in the meantime
 * (the token stays used).
 */
export async function confirmEmailChange(svc: Services, token: string): Promise<void> {
  const now = svc.clock();
  const row = await redeemMailToken(svc.db, 'change_email', token, now);
  const newEmail = row?.newEmail;
  if (!row || !newEmail) throw badLink();
  let claims: LateClaim[];
  try {
    claims = await withTransaction(svc, async (tx, out) => {
      await tx
        .update(accounts)
        .set({ email: newEmail, emailVerifiedAt: new Date(now), updatedAt: sql`now()` })
        .where(eq(accounts.id, row.accountId));
      return claimNow(tx, out, row.accountId, 'email_changed');
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError('CONFLICT', 'Another account uses this email now');
    throw err;
  }
  await afterClaims(svc, claims);
}
