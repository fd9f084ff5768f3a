/**
 * Sign-in protection, in two layers:
 *
 * - Rate limits (platform/rate-limit.ts: in memory, or in Redis when REDIS_URL is set, so
 *   every node counts against one budget): sign-in attempts per IP and per email, and the
 *   routes that send mail per IP and per address. RATE_LIMITED with `retry_after_ms`.
 * - Lockout, in the database: `accounts.failed_signins` counts failures in a row; every
 *   `lockAfter`-th failure sets `locked_until`, for `lockBaseMs` the first time and twice as
 *   long each next time (up to `lockMaxMs`), and mails the owner. While locked, sign-in is
 *   refused with ACCOUNT_LOCKED and the time left, before the password is checked (so a
 *   locked account gives a guesser nothing) and without counting. A success, or a password
 *   reset, sets the count back to 0.
 *
 * Time comes from `svc.clock`, so tests move it instead of waiting.
 */
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { lockedMail } from './mails.js';
import type { AccountRow } from './present.js';
import { accountByEmail } from './queries.js';

const { accounts, signinLockouts } = schema;

async function limit(svc: Services, key: string, max: number, windowMs: number, what: string): Promise<void> {
  const r = await svc.limiter.hit(key, max, windowMs);
  if (!r.ok)
    throw new ApiError('RATE_LIMITED', `Too many ${what}; try again later`, { retry_after_ms: r.retryAfterMs });
}

/** Count one sign-in attempt against its IP and (when known) its email; RATE_LIMITED past either budget. */
export async function limitSignin(svc: Services, req: FastifyRequest, email: string | null): Promise<void> {
  const s = svc.config.signin;
  await limit(svc, `signin:ip:${req.ip}`, s.perIp, s.windowMs, 'sign-in attempts from this address');
  if (email === null) return;
  await limit(svc, `signin:acct:${emailKey(email)}`, s.perAccount, s.windowMs, 'sign-in attempts');
}

/**
 * Count one sign-up against its IP and the address it names, before any work: a script cannot
 * make accounts (and their mails) without end from one address, nor probe one address again
 * and again. Counted whether or not the address is taken, so the limit tells nothing either.
 */
export async function limitSignup(svc: Services, req: FastifyRequest, email: string): Promise<void> {
  const s = svc.config.signin;
  await limit(svc, `signup:ip:${req.ip}`, s.signupPerIp, s.signupWindowMs, 'sign-ups from this address');
  await limit(svc, `signup:to:${email.toLowerCase()}`, s.signupPerAddress, s.signupWindowMs, 'sign-ups for this email');
}

/** Count one request that sends mail, against its IP and the address it names. */
export async function limitMail(svc: Services, req: FastifyRequest, email: string): Promise<void> {
  const s = svc.config.signin;
  await limit(svc, `mail:ip:${req.ip}`, s.mailPerWindow * 4, s.mailWindowMs, 'requests from this address');
  await limit(svc, `mail:to:${email.trim().toLowerCase()}`, s.mailPerWindow, s.mailWindowMs, 'mails to this address');
}

/**
 * Who a sign-in names: an account, or an email with no account. Both go through the same
 * states — failures counted in a row, locked every `lockAfter`-th, refused while locked — with
 * the same answers, so the answers never tell whether an address has an account (they once
 * did: an unknown email answered 401 for ever, a known one 423 after five tries).
 */
export type SigninTarget = { account: AccountRow } | { email: string; lockedUntil: Date | null };

/**
 * The one key of an address, for its rate limit and its lockout alike: trimmed and lower-cased
 * (sign-in trims what was typed before looking the account up, `guardSignin`).
 */
const emailKey = (email: string) => email.trim().toLowerCase();

/** The target of a sign-in to `email`: its account, or the lockout state of an unknown email. */
async function signinTarget(svc: Services, account: AccountRow | null, email: string): Promise<SigninTarget> {
  if (account) return { account };
  const [row] = await svc.db
    .select({ lockedUntil: signinLockouts.lockedUntil })
    .from(signinLockouts)
    .where(eq(signinLockouts.email, emailKey(email)));
  return { email, lockedUntil: row?.lockedUntil ?? null };
}

/**
 * The checks before a password is looked at, in ONE order for every address, with or without an
 * account: the IP's budget, the address's budget (RATE_LIMITED), then the lock (ACCOUNT_LOCKED).
 * Attempts made while locked still count against the budgets, the same for both, so that past
 * either limit both answer RATE_LIMITED on the same try. Returns the account (null for an unknown
 * address) and the target to count a failure against.
 */
export async function guardSignin(
  svc: Services,
  req: FastifyRequest,
  email: string,
): Promise<{ account: AccountRow | null; target: SigninTarget }> {
  await limitSignin(svc, req, email);
  const account = await accountByEmail(svc.db, email);
  const target = await signinTarget(svc, account, email);
  checkNotLocked(svc, target);
  return { account, target };
}

/** ACCOUNT_LOCKED with the time left, when the account (or unknown email) is locked now. */
export function checkNotLocked(svc: Services, target: AccountRow | SigninTarget): void {
  const lockedUntil =
    'id' in target ? target.lockedUntil : 'account' in target ? target.account.lockedUntil : target.lockedUntil;
  const now = svc.clock();
  const until = lockedUntil?.getTime() ?? 0;
  if (until > now) throw lockedError(until - now, new Date(until));
}

function lockedError(leftMs: number, until: Date): ApiError {
  const mins = Math.max(1, Math.ceil(leftMs / 60_000));
  return new ApiError(
    'ACCOUNT_LOCKED',
    `Too many failed sign-ins: try again in ${mins} minute${mins === 1 ? '' : 's'}`,
    {
      retry_after_ms: leftMs,
      locked_until: until.toISOString(),
    },
  );
}

/** How long the `n`-th lock lasts (n ≥ 1): base, doubled each time, capped. */
export function lockLength(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 30));
}

/**
 * Record a failed sign-in. When it completes a run of `lockAfter`, lock the account (or the
 * unknown email), mail the account's owner, and throw ACCOUNT_LOCKED; otherwise return (the
 * caller answers UNAUTHORIZED). An unknown email takes one statement like an account, and its
 * lock is written the same way, so neither the answer nor the work differs.
 */
export async function recordFailure(svc: Services, target: AccountRow | SigninTarget): Promise<void> {
  const s = svc.config.signin;
  const now = new Date(svc.clock());
  const account = 'id' in target ? target : 'account' in target ? target.account : null;
  let failed: number | undefined;
  if (account) {
    // One statement, so concurrent failures each count; a locked account is not counted.
    const [row] = await svc.db
      .update(accounts)
      .set({ failedSignins: sql`${accounts.failedSignins} + 1` })
      .where(and(eq(accounts.id, account.id), or(isNull(accounts.lockedUntil), lte(accounts.lockedUntil, now))))
      .returning({ failed: accounts.failedSignins });
    failed = row?.failed;
  } else {
    const key = emailKey((target as { email: string }).email);
    const [row] = await svc.db
      .insert(signinLockouts)
      .values({ email: key, failedSignins: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: signinLockouts.email,
        set: { failedSignins: sql`${signinLockouts.failedSignins} + 1`, updatedAt: now },
        setWhere: or(isNull(signinLockouts.lockedUntil), lte(signinLockouts.lockedUntil, now)),
      })
      .returning({ failed: signinLockouts.failedSignins });
    failed = row?.failed;
  }
  if (failed === undefined || s.lockAfter <= 0 || failed % s.lockAfter !== 0) return;
  const lockMs = lockLength(failed / s.lockAfter, s.lockBaseMs, s.lockMaxMs);
  const until = new Date(now.getTime() + lockMs);
  if (account) {
    const failures = failed;
    await svc.db.transaction(async (tx) => {
      await tx.update(accounts).set({ lockedUntil: until }).where(eq(accounts.id, account.id));
      await svc.mailer.queue(tx, 'lockout notice', lockedMail(svc.config, account.email, failures, lockMs));
    });
    svc.mailer.wake();
    svc.log.warn({ account: account.id, failures: failed, lockMs }, 'account locked after failed sign-ins');
  } else {
    const key = emailKey((target as { email: string }).email);
    await svc.db.update(signinLockouts).set({ lockedUntil: until }).where(eq(signinLockouts.email, key));
    svc.log.warn({ failures: failed, lockMs }, 'unknown email locked after failed sign-ins');
  }
  throw lockedError(lockMs, until);
}

/**
 * Forget unknown emails whose failures stopped long ago (a day past the longest lock): the
 * table holds only addresses being tried now. Run by the accounts' recurring sweep.
 */
export async function sweepSigninLockouts(svc: Services): Promise<number> {
  const before = new Date(svc.clock() - svc.config.signin.lockMaxMs - 86_400_000);
  const gone = await svc.db
    .delete(signinLockouts)
    .where(lte(signinLockouts.updatedAt, before))
    .returning({ email: signinLockouts.email });
  return gone.length;
}

/** A successful sign-in: the run of failures is over. */
export async function clearFailures(svc: Services, account: AccountRow): Promise<void> {
  if (account.failedSignins === 0 && account.lockedUntil === null) return;
  await svc.db.update(accounts).set({ failedSignins: 0, lockedUntil: null }).where(eq(accounts.id, account.id));
}
