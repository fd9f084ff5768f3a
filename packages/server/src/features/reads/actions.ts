/**
 * Read marks. `read.updated` goes to the channel live (receipts, other tabs); it is not logged.
 * A reader who hides their read receipts (privacy.ts) gets it on their own topic only: their
 * other devices follow the mark, nobody else hears of it. Each move also pushes the reader's
 * counts (`unread.updated`, push.ts). The answer's counts are read after the mark's write, whose
 * `read_rev` came from the same sequence as the pushes' revisions: it orders them too.
 */
import type { EventOf } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { forbidden, invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/index.js';
import { accessMessage } from '../messages/index.js';
import { presentUser } from '../users/index.js';
import { unreadOf } from './queries.js';

function announce(
  svc: Services,
  caller: Caller & { kind: 'user' },
  cid: string,
  seq: number,
  readRev: number,
  user: Parameters<typeof presentUser>[0] | null,
  at: Date = new Date(),
) {
  if (!user) return;
  // Its `seq` is the reader's read mark; the bus orders only logged events, so it goes live.
  const event: EventOf<'read.updated'> = {
    type: 'read.updated',
    cid,
    user: presentUser(user),
    seq,
    read_rev: readRev,
    // The time the mark moved, as stored in `last_read_at`: read-by's live time is the stored one.
    created_at: at.toISOString(),
  };
  svc.bus.publish([
    user.readsHiddenRev === null
      ? { to: 'channel', appId: caller.app.id, cid, event }
      : { to: 'user', appId: caller.app.id, userId: caller.userId, event },
  ]);
}

/** Mark read up to `seq` (capped at the channel's last seq). Never moves the mark back. */
export async function markRead(svc: Services, caller: Caller, cid: string, seq: number) {
  const me = requireUser(caller, 'Read state belongs to a user: use a user token');
  const a = await accessChannelRead(svc.db, me, cid);
  if (!a.member) throw forbidden('Only members have read state');
  const target = Math.min(seq, a.channel.lastSeq);
  const at = new Date(svc.clock());
  // `last_read_at` moves only with the mark (a mark that stays put keeps its time, so read-by
  // says when the member first read up to here, not when they last looked).
  const [row] = await svc.db
    .update(schema.members)
    .set({
      lastReadSeq: sql`greatest(${schema.members.lastReadSeq}, ${target})`,
      lastReadAt: sql`case when ${target} > ${schema.members.lastReadSeq} then ${at.toISOString()}::timestamptz else ${schema.members.lastReadAt} end`,
      // A new revision only when the mark moves (nextval is called for those rows only).
      readRev: sql`case when ${target} > ${schema.members.lastReadSeq} then nextval('member_read_rev') else ${schema.members.readRev} end`,
    })
    .where(and(eq(schema.members.appId, me.app.id), eq(schema.members.cid, cid), eq(schema.members.userId, me.userId)))
    .returning();
  const last = row?.lastReadSeq ?? a.member.lastReadSeq;
  const readRev = row?.readRev ?? a.member.readRev;
  if (last !== a.member.lastReadSeq) {
    announce(svc, me, cid, last, readRev, a.user, at);
    svc.channelRead(svc, me.app.id, me.userId, cid, last);
    svc.unread.user(me.app.id, me.userId, cid);
  }
  const { unread, mentions, lastSeq } = await unreadOf(svc.db, me.app.id, cid, me.userId);
  return {
    cid,
    last_read_seq: last,
    read_rev: readRev,
    unread_count: unread,
    mention_count: mentions,
    last_seq: lastSeq,
  };
}

/** Mark unread from a message on: the read mark moves to just before it. */
export async function markUnread(svc: Services, caller: Caller, cid: string, messageId: string) {
  const me = requireUser(caller, 'Read state belongs to a user: use a user token');
  const msg = await accessMessage(svc.db, me, messageId);
  if (msg.channel.cid !== cid) throw invalid('The message is not in this channel');
  if (!msg.member) throw forbidden('Only members have read state');
  const last = Math.max(0, msg.message.seq - 1);
  const [row] = await svc.db
    .update(schema.members)
    .set({ lastReadSeq: last, readRev: sql`nextval('member_read_rev')` })
    .where(and(eq(schema.members.appId, me.app.id), eq(schema.members.cid, cid), eq(schema.members.userId, me.userId)))
    .returning({ readRev: schema.members.readRev });
  const readRev = row?.readRev ?? msg.member.readRev;
  announce(svc, me, cid, last, readRev, msg.user);
  svc.unread.user(me.app.id, me.userId, cid);
  const { unread, mentions, lastSeq } = await unreadOf(svc.db, me.app.id, cid, me.userId);
  return {
    cid,
    last_read_seq: last,
    read_rev: readRev,
    unread_count: unread,
    mention_count: mentions,
    last_seq: lastSeq,
  };
}
