/** The server's typed answers on the account screens, in words. */
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@parley/protocol';
import { ApiError } from './api.js';

const reasonOf = (err: ApiError) => (err.details as { reason?: unknown } | undefined)?.reason;

const minutes = (ms: number) => {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
};

/** A new password the server refused (400 with `details.reason`, or the schema's length rule). */
export function newPasswordProblem(err: unknown, field = 'new_password'): string | null {
  if (!(err instanceof ApiError) || err.code !== 'VALIDATION_ERROR') return null;
  const reason = reasonOf(err);
  if (reason === 'breached') return 'That password is one of the most common ones in data breaches. Choose another.';
  if (reason === 'reused') return 'You used that password recently. Choose one you have not used before.';
  if (reason === 'email') return 'Your password cannot be your email address.';
  const about = Array.isArray(err.details)
    ? (err.details as { path?: string; message?: string }[]).find((d) => d.path?.endsWith(field))
    : undefined;
  if (about?.message?.includes('characters'))
    return `Choose a password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`;
  return null;
}

/** Sign-in refusals beyond a wrong password: lockout, rate limits, an unverified email. */
export function signInProblem(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  const left = (err.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
  if (err.code === 'ACCOUNT_LOCKED')
    return `Too many failed sign-ins: this account is locked for ${minutes(typeof left === 'number' ? left : 60_000)}. We emailed its owner. You can also reset your password.`;
  if (err.code === 'RATE_LIMITED')
    return `Too many attempts. Try again in ${minutes(typeof left === 'number' ? left : 60_000)}.`;
  if (err.code === 'FORBIDDEN' && reasonOf(err) === 'email_unverified')
    return 'Confirm your email first: follow the link we sent you.';
  return null;
}

/** A mailed link the server said is no good. */
export const isBadLink = (err: unknown) =>
  err instanceof ApiError && err.code === 'FORBIDDEN' && reasonOf(err) === 'invalid_token';
