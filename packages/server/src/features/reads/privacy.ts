/**
 * Hiding one's read receipts (Zulip's "Let others see when I've read messages"). The read
 * marks stay exactly as they are — unread counts, mark-unread and a user's other devices go by
 * them — and only what others see of them changes: no read-by entry (read-by.ts), no
 * `read.updated` but to the reader's own connections (actions.ts), and in every member list
 * shown to someone else a mark of 0 (channels/present.ts). A hidden reader counts as not having
 * seen: "seen by 2 of 3".
 *
 * `users.reads_hidden_rev` is both the switch and the revision others are shown: a new value of
 * the read-mark sequence taken when the receipts are hidden, so it is larger than any real
 * mark another client holds (the SDK replaces a mark by one with a larger revision) and never
 * moves while they stay hidden (a moving one would tell others that the reader read something).
 */
import type { EventOf, ReadPrivacyResponse, UpdateReadPrivacyBody } from '@parley/protocol';
import { and, eq, inArray, lte, ne, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { rows as rowsOf, schema } from '../../platform/db/index.js';
import { notFound } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { presentUser } from '../users/index.js';

/** `GET /v1/me/privacy`. */
export async function getReadPrivacy(svc: Services, caller: Caller): Promise<ReadPrivacyResponse> {
  const me = requireUser(caller, 'Privacy settings belong to a user: use a user token');
  const [row] = await svc.db
    .select({ rev: schema.users.readsHiddenRev })
    .from(schema.users)
    .where(and(eq(schema.users.appId, me.app.id), eq(schema.users.id, me.userId)));
  if (!row) throw notFound('User');
  return { privacy: { hide_read_receipts: row.rev !== null } };
}

/**
 * `PATCH /v1/me/privacy`: only the caller's own settings, by construction (no user id to name).
 * Hiding tells the other members of the caller's small channels (where read-by is shown) that
 * the caller's mark is now 0; showing again gives every mark a new revision and announces the
 * real marks to each channel, so clients that hold the 0 take them.
 */
export async function setReadPrivacy(
  svc: Services,
  caller: Caller,
  body: UpdateReadPrivacyBody,
): Promise<ReadPrivacyResponse> {
  const me = requireUser(caller, 'Privacy settings belong to a user: use a user token');
  const appId = me.app.id;
  const u = schema.users;
  const m = schema.members;
  return withTransaction(svc, async (tx, out) => {
    // Locked: two toggles at once must not both take (or both give back) the hidden revision.
    const [row] = await tx
      .select()
      .from(u)
      .where(and(eq(u.appId, appId), eq(u.id, me.userId)))
      .for('update');
    if (!row) throw notFound('User');
    const hide = body.hide_read_receipts;
    if (hide === undefined || hide === (row.readsHiddenRev !== null))
      return { privacy: { hide_read_receipts: row.readsHiddenRev !== null } };
    const at = new Date(svc.clock()).toISOString();
    if (hide) {
      const [rev] = await rowsOf<{ rev: string | number }>(tx, sql`select nextval('member_read_rev') as rev`);
      const [updated] = await tx
        .update(u)
        .set({ readsHiddenRev: Number(rev?.rev) })
        .where(and(eq(u.appId, appId), eq(u.id, me.userId)))
        .returning();
      if (!updated) throw notFound('User');
      const user = presentUser(updated);
      // Their co-members in channels small enough for read-by, each on their own topic (the
      // reader's own connections keep the real mark): one event per channel and co-member.
      const max = svc.config.readByMaxMembers;
      if (max > 0) {
        const mine = tx
          .select({ cid: m.cid })
          .from(m)
          .innerJoin(schema.channels, and(eq(schema.channels.appId, m.appId), eq(schema.channels.cid, m.cid)))
          .where(and(eq(m.appId, appId), eq(m.userId, me.userId), lte(schema.channels.memberCount, max)));
        const others = await tx
          .select({ cid: m.cid, userId: m.userId })
          .from(m)
          .where(and(eq(m.appId, appId), inArray(m.cid, mine), ne(m.userId, me.userId)));
        for (const o of others) {
          const event: EventOf<'read.updated'> = {
            type: 'read.updated',
            cid: o.cid,
            user,
            seq: 0,
            read_rev: updated.readsHiddenRev as number,
            created_at: at,
          };
          out.push({ to: 'user', appId, userId: o.userId, event });
        }
      }
      return { privacy: { hide_read_receipts: true } };
    }
    const [updated] = await tx
      .update(u)
      .set({ readsHiddenRev: null })
      .where(and(eq(u.appId, appId), eq(u.id, me.userId)))
      .returning();
    if (!updated) throw notFound('User');
    const user = presentUser(updated);
    // New revisions, all larger than the hidden one others hold: the real marks replace the 0.
    const marks = await tx
      .update(m)
      .set({ readRev: sql`nextval('member_read_rev')` })
      .where(and(eq(m.appId, appId), eq(m.userId, me.userId)))
      .returning({ cid: m.cid, seq: m.lastReadSeq, rev: m.readRev, at: m.lastReadAt });
    for (const k of marks) {
      const event: EventOf<'read.updated'> = {
        type: 'read.updated',
        cid: k.cid,
        user,
        seq: k.seq,
        read_rev: k.rev,
        created_at: k.at?.toISOString() ?? at,
      };
      out.push({ to: 'channel', appId, cid: k.cid, event });
    }
    return { privacy: { hide_read_receipts: false } };
  });
}
