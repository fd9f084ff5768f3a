/**
 * Two-factor sign-in: TOTP (RFC 6238, `otplib`: six digits, 30-second steps, SHA-1 — what
 * every authenticator app speaks) and single-use backup codes.
 *
 * - Setup takes the password, makes a secret and keeps it sealed (AES-256-GCM under the master
 *   key, like app secrets: `svc.sealer`) as *pending*; it is in force only once a first code
 *   from the app confirms it, and that answer carries the ten backup codes, the only time they
 *   are shown (the database keeps their SHA-256).
 * - Sign-in with it on: the right password answers a challenge (a one-time token, 5 minutes,
 *   hashed in `account_tokens` like mailed links) instead of a cookie; the second step redeems
 *   the challenge and a code in one transaction, so a wrong code leaves the challenge usable
 *   and changes nothing. Wrong codes count as failed sign-ins (the rate limits and the lockout
 *   of signin-guard.ts), and the failure count is cleared only when both steps succeed: knowing
 *   the password does not reset the guesses at the code.
 * - No code works twice: the TOTP step of the last accepted code is stored
 *   (`two_factor_last_step`) and a code must be of a later step, set by one conditional UPDATE
 *   (two requests racing with one code: one wins). A backup code is used by one UPDATE of its
 *   row where `used_at` is null.
 * - Turning it off, or making new backup codes, takes the password or a current code.
 *
 * Time comes from `svc.clock`, so tests compute codes for the step they choose.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  BACKUP_CODE_COUNT,
  type SignInTwoFactorBody,
  TWO_FACTOR_CHALLENGE_TTL_SECONDS,
  type TwoFactorChallenge,
  type TwoFactorProofBody,
  type TwoFactorSetup,
  type TwoFactorStatus,
} from '@parley/protocol';
import { and, count, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { AccountSession } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { issueMailToken, redeemMailToken } from './mail-tokens.js';
import { verifyPassword } from './passwords.js';
import type { AccountRow } from './present.js';
import { accountById, twoFactorWorkspacesOf } from './queries.js';
import { createSession, sha256 } from './sessions.js';
import { checkNotLocked, clearFailures, limitSignin, recordFailure } from './signin-guard.js';

const { accounts, accountBackupCodes, accountTokens } = schema;

/** The issuer authenticator apps show beside the account. */
const ISSUER = 'Parley';
/** A code of the step before or after the server's is accepted too (clocks drift). */
const TOLERANCE_SECONDS = 30;
/** Crockford's base32 alphabet (no i, l, o, u): 32 symbols, so each is 5 unbiased bits. */
const BACKUP_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 12 symbols: 60 random bits per backup code, too many to guess from its hash. */
const BACKUP_LENGTH = 12;

/** The signed-in account (sessions go with their account, so it exists; if not, signed out). */
async function loadAccount(svc: Services, accountId: string): Promise<AccountRow> {
  const account = await accountById(svc.db, accountId);
  if (!account) throw new ApiError('UNAUTHORIZED', 'Not signed in');
  return account;
}

const wrongCode = () => new ApiError('FORBIDDEN', 'That code is not right', { reason: 'wrong_code' });
const wrongProof = () => new ApiError('FORBIDDEN', 'The password or code is not right', { reason: 'wrong_code' });
const invalidChallenge = () =>
  new ApiError('UNAUTHORIZED', 'This sign-in has expired: enter your password again', {
    reason: 'invalid_challenge',
  });

/** Thrown inside the second step's transaction so a wrong code rolls it back (challenge kept). */
class WrongCode extends Error {
  constructor(readonly account: AccountRow) {
    super('wrong code');
  }
}

/** A backup code as typed → its canonical form: lower case, no spaces or dashes, Crockford's look-alikes. */
function normalizeBackupCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

const backupHash = (accountId: string, code: string) =>
  createHash('sha256')
    .update(`${accountId}:${normalizeBackupCode(code)}`)
    .digest('hex');

/** Ten new backup codes, `xxxx-xxxx-xxxx`. */
function newBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => {
    const bytes = randomBytes(BACKUP_LENGTH);
    let s = '';
    for (const b of bytes) s += BACKUP_ALPHABET[b & 31];
    return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
  });
}

/** Replace the account's backup codes with new ones; returns them (the only time they exist in clear). */
async function replaceBackupCodes(q: Queryable, accountId: string): Promise<string[]> {
  const codes = newBackupCodes();
  await q.delete(accountBackupCodes).where(eq(accountBackupCodes.accountId, accountId));
  await q.insert(accountBackupCodes).values(codes.map((c) => ({ accountId, codeHash: backupHash(accountId, c) })));
  return codes;
}

/**
 * Count one try at a code or password by a signed-in account (setup, enable, disable, new
 * codes), against the same per-account budget as sign-in: a stolen session cannot guess
 * without bound.
 */
async function limitTries(svc: Services, account: AccountRow): Promise<void> {
  const s = svc.config.signin;
  const r = await svc.limiter.hit(`2fa:acct:${account.id}`, s.perAccount, s.windowMs);
  if (!r.ok) throw new ApiError('RATE_LIMITED', 'Too many tries; try again later', { retry_after_ms: r.retryAfterMs });
}

/**
 * Whether `code` is a current TOTP code or an unused backup code of the account; if it is, it
 * is used up (the TOTP step recorded, the backup code marked), in `q` (a transaction, so a
 * rollback gives it back).
 */
export async function useSecondFactor(
  svc: Services,
  q: Queryable,
  account: AccountRow,
  code: string,
): Promise<boolean> {
  if (!account.twoFactorSecretSealed) return false;
  const digits = code.replace(/\s/g, '');
  if (/^\d{6}$/.test(digits)) {
    const step = await totpStep(svc, svc.sealer.open(account.twoFactorSecretSealed), digits);
    if (step === null) return false;
    const last = accounts.twoFactorLastStep;
    const done = await q
      .update(accounts)
      .set({ twoFactorLastStep: step })
      .where(and(eq(accounts.id, account.id), or(isNull(last), lt(last, step))))
      .returning({ id: accounts.id });
    return done.length === 1;
  }
  const normalized = normalizeBackupCode(code);
  if (normalized.length !== BACKUP_LENGTH || [...normalized].some((c) => !BACKUP_ALPHABET.includes(c))) return false;
  const done = await q
    .update(accountBackupCodes)
    .set({ usedAt: new Date(svc.clock()) })
    .where(
      and(
        eq(accountBackupCodes.accountId, account.id),
        eq(accountBackupCodes.codeHash, backupHash(account.id, normalized)),
        isNull(accountBackupCodes.usedAt),
      ),
    )
    .returning({ id: accountBackupCodes.accountId });
  return done.length === 1;
}

/** The time step of a valid TOTP code for `secret` now (± one step), or null. */
async function totpStep(svc: Services, secret: string, code: string): Promise<number | null> {
  const r = await verify({
    secret,
    token: code,
    epoch: Math.floor(svc.clock() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  // A TOTP result carries the step it matched (an HOTP one would not: never asked for here).
  return r.valid && 'timeStep' in r ? r.timeStep : null;
}

// ---- status and setup --------------------------------------------------------------------

export async function twoFactorStatus(svc: Services, accountId: string): Promise<TwoFactorStatus> {
  const account = await loadAccount(svc, accountId);
  const [left] = await svc.db
    .select({ n: count() })
    .from(accountBackupCodes)
    .where(and(eq(accountBackupCodes.accountId, accountId), isNull(accountBackupCodes.usedAt)));
  const enabled = account.twoFactorSecretSealed !== null;
  return {
    enabled,
    enabled_at: enabled ? (account.twoFactorEnabledAt?.toISOString() ?? null) : null,
    backup_codes_left: enabled ? Number(left?.n ?? 0) : 0,
  };
}

/**
 * Start setting up two-factor sign-in, proving the owner with the password (FORBIDDEN when
 * wrong; CONFLICT when it is on already). A new secret is kept sealed as pending — a second
 * setup replaces it — and is not in force until `enableTwoFactor` confirms it.
 */
export async function startTwoFactorSetup(
  svc: Services,
  session: AccountSession,
  password: string,
): Promise<TwoFactorSetup> {
  const account = await loadAccount(svc, session.accountId);
  await limitTries(svc, account);
  if (!(await verifyPassword(account.passwordHash, password))) throw new ApiError('FORBIDDEN', 'The password is wrong');
  if (account.twoFactorSecretSealed)
    throw new ApiError('CONFLICT', 'Two-factor sign-in is on already: turn it off first to set it up again');
  const secret = generateSecret();
  await svc.db
    .update(accounts)
    .set({ twoFactorPendingSealed: svc.sealer.seal(secret) })
    .where(eq(accounts.id, account.id));
  const uri = generateURI({ issuer: ISSUER, label: account.email, secret });
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    secret,
    otpauth_uri: uri,
    qr_code: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/**
 * Confirm the pending secret with a first code from the app: two-factor sign-in is on from
 * now, and the answer carries the backup codes (shown only here). The code's step is recorded,
 * so it cannot be used again to sign in. CONFLICT when there is no setup to confirm (or it is
 * on already); FORBIDDEN (`wrong_code`) for a wrong code.
 */
export async function enableTwoFactor(svc: Services, session: AccountSession, code: string): Promise<string[]> {
  const account = await loadAccount(svc, session.accountId);
  await limitTries(svc, account);
  if (account.twoFactorSecretSealed) throw new ApiError('CONFLICT', 'Two-factor sign-in is on already');
  const pending = account.twoFactorPendingSealed;
  if (!pending) throw new ApiError('CONFLICT', 'Start the setup first: there is no new secret to confirm');
  const step = /^\d{6}$/.test(code.replace(/\s/g, ''))
    ? await totpStep(svc, svc.sealer.open(pending), code.replace(/\s/g, ''))
    : null;
  if (step === null) throw wrongCode();
  const codes = await svc.db.transaction(async (tx) => {
    // Only the pending secret the code was checked against: a setup started meanwhile wins.
    const done = await tx
      .update(accounts)
      .set({
        twoFactorSecretSealed: pending,
        twoFactorPendingSealed: null,
        twoFactorEnabledAt: new Date(svc.clock()),
        twoFactorLastStep: step,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(accounts.id, account.id),
          eq(accounts.twoFactorPendingSealed, pending),
          isNull(accounts.twoFactorSecretSealed),
        ),
      )
      .returning({ id: accounts.id });
    if (done.length === 0) throw new ApiError('CONFLICT', 'The setup changed meanwhile: start it again');
    await recordAudit(tx, {
      appId: null,
      actor: accountActor(account.id),
      action: 'account.two_factor_enabled',
      target: { kind: 'account', id: account.id },
    });
    return replaceBackupCodes(tx, account.id);
  });
  svc.log.info({ account: account.id }, 'two-factor sign-in turned on');
  return codes;
}

/** Check the password or a current code (which is used up); FORBIDDEN when neither is right. */
async function checkProof(svc: Services, q: Queryable, account: AccountRow, proof: TwoFactorProofBody): Promise<void> {
  if (proof.password !== undefined && (await verifyPassword(account.passwordHash, proof.password))) return;
  if (proof.code !== undefined && (await useSecondFactor(svc, q, account, proof.code))) return;
  throw wrongProof();
}

/** Turn two-factor sign-in off, with the password or a code. A no-op when it is off. */
export async function disableTwoFactor(svc: Services, session: AccountSession, proof: TwoFactorProofBody) {
  const account = await loadAccount(svc, session.accountId);
  await limitTries(svc, account);
  await svc.db.transaction(async (tx) => {
    await checkProof(svc, tx, account, proof);
    await tx
      .update(accounts)
      .set({
        twoFactorSecretSealed: null,
        twoFactorPendingSealed: null,
        twoFactorEnabledAt: null,
        twoFactorLastStep: null,
        updatedAt: sql`now()`,
      })
      .where(eq(accounts.id, account.id));
    await tx.delete(accountBackupCodes).where(eq(accountBackupCodes.accountId, account.id));
    if (account.twoFactorSecretSealed)
      await recordAudit(tx, {
        appId: null,
        actor: accountActor(account.id),
        action: 'account.two_factor_disabled',
        target: { kind: 'account', id: account.id },
      });
  });
  // Workspaces that require it take this account's chat tokens no more: close its sockets there.
  for (const w of await twoFactorWorkspacesOf(svc.db, account.id)) svc.chatSessions.end(w);
  svc.log.info({ account: account.id }, 'two-factor sign-in turned off');
}

/** New backup codes (the old ones stop working), with the password or a code. CONFLICT when 2FA is off. */
export async function regenerateBackupCodes(
  svc: Services,
  session: AccountSession,
  proof: TwoFactorProofBody,
): Promise<string[]> {
  const account = await loadAccount(svc, session.accountId);
  if (!account.twoFactorSecretSealed) throw new ApiError('CONFLICT', 'Two-factor sign-in is off');
  await limitTries(svc, account);
  return svc.db.transaction(async (tx) => {
    await checkProof(svc, tx, account, proof);
    return replaceBackupCodes(tx, account.id);
  });
}

// ---- sign-in -----------------------------------------------------------------------------

/** The first step went well on an account with two-factor sign-in: a challenge for the second. */
export async function issueChallenge(svc: Services, account: AccountRow): Promise<TwoFactorChallenge> {
  const now = svc.clock();
  const challenge = await issueMailToken(svc.db, account.id, 'two_factor', TWO_FACTOR_CHALLENGE_TTL_SECONDS, now);
  return {
    two_factor_required: true,
    challenge,
    expires_at: new Date(now + TWO_FACTOR_CHALLENGE_TTL_SECONDS * 1000).toISOString(),
  };
}

/**
 * The second step: a challenge and a code → a session. UNAUTHORIZED with `invalid_challenge`
 * for an unknown, used or expired challenge (sign in again), with `wrong_code` for a wrong
 * code (counted as a failed sign-in; the lockout's ACCOUNT_LOCKED when it completes a run).
 * The rate limits of sign-in apply to each try.
 */
export async function completeTwoFactorSignIn(
  svc: Services,
  body: SignInTwoFactorBody,
  req: FastifyRequest,
): Promise<{ account: AccountRow; token: string }> {
  const now = svc.clock();
  // A look at the challenge first, without using it: whose budget this try counts against.
  const [peek] = /^[A-Za-z0-9_-]{43}$/.test(body.challenge)
    ? await svc.db
        .select({ email: accounts.email })
        .from(accountTokens)
        .innerJoin(accounts, eq(accounts.id, accountTokens.accountId))
        .where(
          and(
            eq(accountTokens.tokenHash, sha256(body.challenge)),
            eq(accountTokens.kind, 'two_factor'),
            isNull(accountTokens.usedAt),
            gt(accountTokens.expiresAt, new Date(now)),
          ),
        )
        .limit(1)
    : [];
  if (!peek) {
    await limitSignin(svc, req, null); // no account to count against: the IP's budget only
    throw invalidChallenge();
  }
  await limitSignin(svc, req, peek.email);
  let done: { account: AccountRow; token: string };
  try {
    done = await svc.db.transaction(async (tx) => {
      const row = await redeemMailToken(tx, 'two_factor', body.challenge, now);
      if (!row) throw invalidChallenge();
      const account = await accountById(tx, row.accountId);
      if (!account?.twoFactorSecretSealed) throw invalidChallenge();
      checkNotLocked(svc, account);
      if (!(await useSecondFactor(svc, tx, account, body.code))) throw new WrongCode(account);
      await recordAudit(tx, {
        appId: null,
        actor: accountActor(account.id),
        action: 'account.signin',
        target: { kind: 'account', id: account.id },
        details: { method: 'password', two_factor: true },
      });
      return { account, token: await createSession(tx, account.id, req, now) };
    });
  } catch (err) {
    if (!(err instanceof WrongCode)) throw err;
    await recordAudit(svc.db, {
      appId: null,
      actor: accountActor(err.account.id),
      action: 'account.signin_failed',
      target: { kind: 'account', id: err.account.id },
      details: { method: 'password', reason: 'wrong_code' },
    });
    await recordFailure(svc, err.account); // throws ACCOUNT_LOCKED when this failure locks
    throw new ApiError('UNAUTHORIZED', 'That code is not right', { reason: 'wrong_code' });
  }
  await clearFailures(svc, done.account);
  return done;
}
