/**
 * The channel feature's side of the socket: what a connection needs when it opens (the user
 * and their channels with each one's last seq, in one query — the gateway queries no table
 * itself), and `channel.members`, the member list paged on demand (a resync no longer carries
 * it).
 */
import type { Member } from '@parley/protocol';
import { and, asc, eq, gt } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { checkRate } from '../../platform/limits.js';
import type { Opening } from '../../realtime/gateway.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import type { Services } from '../../services.js';
import { ensureUser } from '../users/index.js';
import { accessChannelRead } from './access.js';
import { type MemberViewer, presentMember } from './present.js';

/** Default and largest page of `channel.members`. */
export const MEMBERS_PAGE = 100;
export const MEMBERS_PAGE_MAX = 500;

/** The connection budgets of platform/limits.ts, for the gateway's admission. */
export async function admitConnection(svc: Services, appId: string, userId: string, ip: string | null) {
  try {
    await checkRate(svc, 'connections', appId, userId, ip);
    return null;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'RATE_LIMITED')
      return Number((err.details as { retry_after_ms?: number }).retry_after_ms ?? 1000);
    throw err;
  }
}

/**
 * The user (created on first sight) and every channel they are a member of with its last seq,
 * read with the openings of the same event-loop turn (`readOpenings`, openings.ts). Null if the user is gone.
 */
export async function openConnection(svc: Services, appId: string, userId: string): Promise<Opening | null> {
  // The user usually exists: read first, and create (first sight) only when the read finds none.
  const opening = await svc.openings.add({ appId, userId });
  if (opening) return opening;
  await ensureUser(svc, appId, userId);
  return svc.openings.add({ appId, userId });
}

/** One page of a channel's members, ordered by user id; `next` is the cursor of the page after. */
export async function membersPage(
  svc: Services,
  appId: string,
  cid: string,
  after: string | undefined,
  limit: number,
  viewer: MemberViewer,
): Promise<{ members: Member[]; next: string | null }> {
  const conds = [eq(schema.members.appId, appId), eq(schema.members.cid, cid)];
  if (after !== undefined) conds.push(gt(schema.members.userId, after));
  const rows = await svc.db
    .select({ member: schema.members, user: schema.users })
    .from(schema.members)
    .leftJoin(
      schema.users,
      and(eq(schema.users.appId, schema.members.appId), eq(schema.users.id, schema.members.userId)),
    )
    .where(and(...conds))
    .orderBy(asc(schema.members.userId))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    members: page.map((r) => presentMember(r.member, r.user, viewer)),
    next: rows.length > limit && last ? last.member.userId : null,
  };
}

export const channelSocket: SocketHandlers = {
  'channel.members': async ({ svc, caller }, f) => {
    await accessChannelRead(svc.db, caller, f.cid);
    return membersPage(svc, caller.app.id, f.cid, f.cursor, f.limit ?? MEMBERS_PAGE, caller.userId ?? 'everyone');
  },
};
