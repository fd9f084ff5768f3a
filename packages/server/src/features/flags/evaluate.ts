/**
 * Who has a feature flag. Pure, so the SDKs, the tests and the server agree: a user's bucket
 * (0–99) is the first four bytes of SHA-256 over `key` and the user id, modulo 100. The bucket
 * depends on the flag too, so a user in the first 10 % of one flag is not in the first 10 % of
 * every flag; and it depends on nothing that changes, so a user keeps their answer until the
 * flag does, and raising the percentage only adds users.
 */
import { createHash } from 'node:crypto';

/** The bucket (0–99) a user falls in for a flag. */
export function rolloutBucket(key: string, userId: string): number {
  const digest = createHash('sha256').update(`${key}\u0000${userId}`).digest();
  return digest.readUInt32BE(0) % 100;
}

export interface FlagRule {
  key: string;
  enabled: boolean;
  percentage: number;
  userIds: readonly string[];
}

/** Whether `userId` has the flag: it is enabled, and the user is named or in its percentage. */
export function evaluateFlag(flag: FlagRule, userId: string): boolean {
  if (!flag.enabled) return false;
  if (flag.userIds.includes(userId)) return true;
  return rolloutBucket(flag.key, userId) < flag.percentage;
}
