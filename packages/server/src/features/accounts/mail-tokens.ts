/**
 * One-time tokens sent by mail (`account_tokens`): verification of a new account's email,
 * password reset, change of email. The link carries 32 random bytes; the database keeps their
 * SHA-256 only. Redeeming is one UPDATE that sets `used_at` where it is still null and the
 * token has not expired, so a token works once, even when two requests race with it.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { newToken, sha256 } from './sessions.js';

const { accountTokens } = schema;

/** `two_factor`: the challenge of a sign-in's second step (two-factor.ts), never mailed. */
export type MailTokenKind = 'verify_email' | 'reset_password' | 'change_email' | 'two_factor';
export type MailTokenRow = typeof accountTokens.$inferSelect;

/**
 * A new token of `kind` for the account, valid `ttlSeconds` from `now`; the account's earlier
 * unused tokens of that kind stop working (only the newest mailed link counts).
 */
export async function issueMailToken(
  q: Queryable,
  accountId: string,
  kind: MailTokenKind,
  ttlSeconds: number,
  now: number,
  newEmail: string | null = null,
): Promise<string> {
  await q
    .update(accountTokens)
    .set({ usedAt: new Date(now) })
    .where(and(eq(accountTokens.accountId, accountId), eq(accountTokens.kind, kind), isNull(accountTokens.usedAt)));
  const token = newToken();
  await q.insert(accountTokens).values({
    id: randomUUID(),
    accountId,
    kind,
    tokenHash: sha256(token),
    newEmail,
    createdAt: new Date(now),
    expiresAt: new Date(now + ttlSeconds * 1000),
  });
  return token;
}

/**
 * Use a token of `kind`: its row, marked used, or null when it is unknown, of another kind,
 * expired or used already (one answer for all four: the link is simply no good).
 */
export async function redeemMailToken(
  q: Queryable,
  kind: MailTokenKind,
  token: string,
  now: number,
): Promise<MailTokenRow | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const [row] = await q
    .update(accountTokens)
    .set({ usedAt: new Date(now) })
    .where(
      and(
        eq(accountTokens.tokenHash, sha256(token)),
        eq(accountTokens.kind, kind),
        isNull(accountTokens.usedAt),
        gt(accountTokens.expiresAt, new Date(now)),
      ),
    )
    .returning();
  return row ?? null;
}
