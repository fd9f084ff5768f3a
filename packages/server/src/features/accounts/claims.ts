/**
 * Imported people taken over by their owners. An import (features/imports) records each person
 * it brings in with the email address they had there (`import_claims`). When an account whose
 * email is that address, verified, joins the workspace (an invite, a domain join, an approved
 * request), it becomes that user — their messages, memberships, reactions and saved items are
 * its own — instead of a new one. An unverified address claims nothing (anyone can type one),
 * each person is claimed once, and never by a second account; a person deleted here is not
 * claimable.
 *
 * An account that joined first and confirms the address later (the link of its sign-up mail, a
 * password reset, a change of email) claims then (`claimLate`): its own user of the workspace
 * is merged into the imported person (claim-merge.ts), in the confirmation's transaction.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { type Queryable, rows, schema, type Tx } from '../../platform/db/index.js';
import type { Outbox } from '../../platform/event-log.js';
import type { ImageRow } from '../../platform/storage/pictures.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { announceUserUpdated, type UserRow } from '../users/index.js';
import { mergeUsers } from './claim-merge.js';
import type { AccountRow } from './present.js';

const { importClaims } = schema;

/** The user id of an account inside every workspace it joins: stable, and valid as a user id. */
export const workspaceUserId = (accountId: string) => `a_${accountId.replaceAll('-', '')}`;

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
        sql`exists (select 1 from ${schema.users} u where u.app_id = ${importClaims.appId} and u.id = ${importClaims.userId}
              and u.deleted_at is null)`,
        sql`not exists (select 1 from ${schema.workspaceMembers} m where m.app_id = ${importClaims.appId} and m.user_id = ${importClaims.userId})`,
      ),
    )
    .returning({ userId: importClaims.userId });
  return rows[0]?.userId ?? null;
}

/** What a late claim did, for the caller to finish after the commit. */
export interface LateClaim {
  appId: string;
  /** The account's own user, merged away: its sockets close (the app reconnects as `userId`). */
  merged: string;
  userId: string;
  /** A picture the merge dropped: its bytes go after the commit. */
  picture: ImageRow | null;
}

/**
 * Inside the transaction that just verified `account`'s email (`account` as it is now): in each
 * workspace it is a member of under its own user, the imported person with that address — not
 * claimed yet, not deleted, not another member's — becomes its, with the account's own user
 * merged into it (claim-merge.ts), claimed once and audited (`member.claimed`). `via` says what
 * confirmed the address. Members are told the person changed (`user.updated`, after commit).
 */
export async function claimLate(
  tx: Tx,
  out: Outbox,
  account: AccountRow,
  via: 'email_verified' | 'email_changed' | 'password_reset',
): Promise<LateClaim[]> {
  if (account.emailVerifiedAt === null) return [];
  const own = workspaceUserId(account.id);
  const places = await rows<{ app_id: string }>(
    tx,
    sql`select m.app_id from ${schema.workspaceMembers} m
        join ${importClaims} c on c.app_id = m.app_id and c.email = ${account.email.toLowerCase()} and c.claimed_at is null
        where m.account_id = ${account.id} and m.user_id = ${own}
        order by m.app_id
        for update of m`,
  );
  const done: LateClaim[] = [];
  for (const { app_id: appId } of places) {
    const userId = await claimImported(tx, appId, account);
    if (!userId) continue;
    const picture = await mergeUsers(tx, appId, own, userId);
    await recordAudit(tx, {
      appId,
      actor: accountActor(account.id),
      action: 'member.claimed',
      target: { kind: 'user', id: userId },
      details: { merged_user_id: own, via },
    });
    const [row] = await tx
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
    if (row) await announceUserUpdated(tx, out, appId, row as UserRow);
    done.push({ appId, merged: own, userId, picture });
  }
  return done;
}
