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

const { accounts } = schema;

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
  await limit(svc, `signin:acct:${email.trim().toLowerCase()}`, s.perAccount, s.windowMs, 'sign-in attempts');
}

/** Count one request that sends mail, against its IP and the address it names. */
export async function limitMail(svc: Services, req: FastifyRequest, email: string): Promise<void> {
  const s = svc.config.signin;
  await limit(svc, `mail:ip:${req.ip}`, s.mailPerWindow * 4, s.mailWindowMs, 'requests from this address');
  await limit(svc, `mail:to:${email.trim().toLowerCase()}`, s.mailPerWindow, s.mailWindowMs, 'mails to this address');
}

/** ACCOUNT_LOCKED with the time left, when the account is locked now. */
export function checkNotLocked(svc: Services, account: AccountRow): void {
  const now = svc.clock();
  const until = account.lockedUntil?.getTime() ?? 0;
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
 * Record a failed sign-in. When it completes a run of `lockAfter`, lock the account, mail its
 * owner, and throw ACCOUNT_LOCKED; otherwise return (the caller answers UNAUTHORIZED).
 */
export async function recordFailure(svc: Services, account: AccountRow): Promise<void> {
  const s = svc.config.signin;
  const now = new Date(svc.clock());
  // One statement, so concurrent failures each count; a locked account is not counted.
  const [row] = await svc.db
    .update(accounts)
    .set({ failedSignins: sql`${accounts.failedSignins} + 1` })
    .where(and(eq(accounts.id, account.id), or(isNull(accounts.lockedUntil), lte(accounts.lockedUntil, now))))
    .returning({ failed: accounts.failedSignins });
  if (!row || s.lockAfter <= 0 || row.failed % s.lockAfter !== 0) return;
  const lockMs = lockLength(row.failed / s.lockAfter, s.lockBaseMs, s.lockMaxMs);
  const until = new Date(now.getTime() + lockMs);
  await svc.db.update(accounts).set({ lockedUntil: until }).where(eq(accounts.id, account.id));
  svc.log.warn({ account: account.id, failures: row.failed, lockMs }, 'account locked after failed sign-ins');
  const failures = row.failed;
  svc.mailer.later('lockout notice', async () => lockedMail(svc.config, account.email, failures, lockMs));
  throw lockedError(lockMs, until);
}

/** A successful sign-in: the run of failures is over. */
export async function clearFailures(svc: Services, account: AccountRow): Promise<void> {
  if (account.failedSignins === 0 && account.lockedUntil === null) return;
  await svc.db.update(accounts).set({ failedSignins: 0, lockedUntil: null }).where(eq(accounts.id, account.id));
}
