/**
 * Imported people taken over by their owners. An import (features/imports) records each person
 * it brings in with the email address they had there (`import_claims`). When an account whose
 * email is that address, verified, joins the workspace (an invite, a domain join, an approved
 * request), it becomes that user — their messages, memberships, reactions and saved items are
 * its own — instead of a new one. An unverified address claims nothing (anyone can type one),
 * each person is claimed once, and never by a second account.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { AccountRow } from './present.js';

const { importClaims } = schema;

/**
 * Inside the join's transaction: the user id of the imported person `account` takes over in
 * `appId`, marked claimed by it; null when there is none to take (no such person, the email is
 * not verified, already claimed, or that user already belongs to a member).
 */
export async function claimImported(q: Queryable, appId: string, account: AccountRow): Promise<string | null> {
  if (account.emailVerifiedAt === null) return null;
  const rows = await q
    .update(importClaims)
    .set({ claimedBy: account.id, claimedAt: sql`now()` })
    .where(
      and(
        eq(importClaims.appId, appId),
        eq(importClaims.email, account.email.toLowerCase()),
        isNull(importClaims.claimedAt),
        sql`exists (select 1 from ${schema.users} u where u.app_id = ${importClaims.appId} and u.id = ${importClaims.userId})`,
        sql`not exists (select 1 from ${schema.workspaceMembers} m where m.app_id = ${importClaims.appId} and m.user_id = ${importClaims.userId})`,
      ),
    )
    .returning({ userId: importClaims.userId });
  return rows[0]?.userId ?? null;
}
