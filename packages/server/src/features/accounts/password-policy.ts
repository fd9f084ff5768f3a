/**
 * The password policy, beyond the length the protocol's schema checks (PASSWORD_MIN_LENGTH to
 * PASSWORD_MAX_LENGTH): not one of the common passwords seen in breaches, not the account's
 * email, and not one of its last PASSWORD_HISTORY passwords. A refusal is VALIDATION_ERROR
 * with `details.reason` (PASSWORD_REFUSALS), so a form can say which rule it broke.
 *
 * The breach list is the `passwords-common` dictionary of `@zxcvbn-ts/language-common`
 * (pinned): ~49k passwords, most frequent first, from public breach corpora. It is compared
 * case-insensitively; loaded (decompressed, ~20 ms) on first use and kept.
 */
import { PASSWORD_HISTORY, type PasswordRefusal } from '@parley/protocol';
import { desc, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { verifyPassword } from './passwords.js';

const { passwordHistory } = schema;

let breached: Promise<Set<string>> | null = null;

/** The breach list, lower-cased. */
export function breachedPasswords(): Promise<Set<string>> {
  breached ??= import('@zxcvbn-ts/language-common').then(
    (m) => new Set(m.dictionary['passwords-common'].map((p) => p.toLowerCase())),
  );
  return breached;
}

/** Whether `password` is on the breach list (any case). */
export async function isBreached(password: string): Promise<boolean> {
  return (await breachedPasswords()).has(password.toLowerCase());
}

const refuse = (reason: PasswordRefusal, message: string) => new ApiError('VALIDATION_ERROR', message, { reason });

/**
 * Throw VALIDATION_ERROR unless `password` may be set on an account with `email` (and, for an
 * existing account, `accountId`: no reuse of its last passwords).
 */
export async function checkPasswordPolicy(
  q: Queryable,
  password: string,
  who: { email: string; accountId?: string },
): Promise<void> {
  if (password.trim().toLowerCase() === who.email.trim().toLowerCase())
    throw refuse('email', 'The password cannot be your email address');
  if (await isBreached(password))
    throw refuse('breached', 'This password is one of the most common ones in data breaches: choose another');
  if (who.accountId) {
    const earlier = await q
      .select({ hash: passwordHistory.passwordHash })
      .from(passwordHistory)
      .where(eq(passwordHistory.accountId, who.accountId))
      .orderBy(desc(passwordHistory.id))
      .limit(PASSWORD_HISTORY);
    for (const e of earlier)
      if (await verifyPassword(e.hash, password))
        throw refuse('reused', `Choose a password you have not used for your last ${PASSWORD_HISTORY} passwords`);
  }
}

/** Record a password just set (its hash), and forget all but the last PASSWORD_HISTORY. */
export async function rememberPassword(q: Queryable, accountId: string, hash: string, at: Date): Promise<void> {
  await q.insert(passwordHistory).values({ accountId, passwordHash: hash, createdAt: at });
  const keep = await q
    .select({ id: passwordHistory.id })
    .from(passwordHistory)
    .where(eq(passwordHistory.accountId, accountId))
    .orderBy(desc(passwordHistory.id))
    .offset(PASSWORD_HISTORY);
  if (keep.length > 0)
    await q.delete(passwordHistory).where(
      inArray(
        passwordHistory.id,
        keep.map((k) => k.id),
      ),
    );
}
