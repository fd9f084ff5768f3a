/**
 * Password hashing: argon2id from `@node-rs/argon2` (prebuilt native, off the event loop).
 * Parameters are the OWASP minimum (19 MiB, 2 passes, 1 lane), written out so a change of
 * library defaults cannot change them silently; every hash carries its own parameters, so
 * raising them later only affects new hashes (rehash-on-sign-in would go in `signIn`).
 */
import { argon2 } from '../../platform/lazy-deps.js';

const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2().hash(password, PARAMS);
}

/** Whether `password` matches `stored`; a malformed stored hash counts as a mismatch. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await argon2().verify(stored, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * Spend the time of one verification when there is no account to verify against, so an
 * unknown email takes as long to refuse as a wrong password and the timing does not say
 * which it was.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hashPassword('parley: no such account, and never a real password');
  await verifyPassword(await dummy, password);
  return false;
}
