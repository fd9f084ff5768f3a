/**
 * The channel feature's side of the socket: what a connection needs when it opens (the user
 * and their channels with each one's last seq, in one query — the gateway queries no table
 * itself), and `channel.members`, the member list paged on demand (a resync no longer carries
 * it).
 */
import type { Member } from '@parley/protocol';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Opening } from '../../realtime/gateway.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import type { Services } from '../../services.js';
import { checkRate } from '../moderation/limits.js';
import { appBanned } from '../permissions/policy.js';
import { ensureUser } from '../users/actions.js';
import { presentUser } from '../users/present.js';
import { accessChannelRead } from './access.js';
import { presentMember } from './present.js';

/** Default and largest page of `channel.members`. */
export const MEMBERS_PAGE = 100;
export const MEMBERS_PAGE_MAX = 500;

/**
 * The user (created on first sight) and every channel they are a member of with its last seq:
 * one statement, the channels aggregated beside the user row. Null if the user is gone.
 */
/** The connection budgets of features/moderation/limits.ts, for the gateway's admission. */
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

export async function openConnection(svc: Services, appId: string, userId: string): Promise<Opening | null> {
  // The user usually exists: read first, and create (first sight) only when the read finds none.
  const opening = await readOpening(svc, appId, userId);
  if (opening) return opening;
  await ensureUser(svc, appId, userId);
  return readOpening(svc, appId, userId);
}

async function readOpening(svc: Services, appId: string, userId: string): Promise<Opening | null> {
  const [row] = await svc.db
    .select({
      user: schema.users,
      // As text, parsed here: the two drivers return json columns differently. The outer row
      // is named in full: drizzle leaves a one-table select's columns unqualified.
      channels: sql<string>`coalesce((select json_agg(json_build_array(m.cid, c.last_seq))::text
        from ${schema.members} m join ${schema.channels} c on c.app_id = m.app_id and c.cid = m.cid
        where m.app_id = "users"."app_id" and m.user_id = "users"."id"), '[]')`,
    })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  if (!row) return null;
  const pairs = JSON.parse(row.channels) as [string, number | string][];
  return {
    user: presentUser(row.user),
    channels: pairs.map(([cid, seq]) => ({ cid, lastSeq: Number(seq) })),
    banned: appBanned(row.user, svc.clock()),
    deleted: row.user.deletedAt !== null,
  };
}

/** One page of a channel's members, ordered by user id; `next` is the cursor of the page after. */
export async function membersPage(
  svc: Services,
  appId: string,
  cid: string,
  after: string | undefined,
  limit: number,
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
    members: page.map((r) => presentMember(r.member, r.user)),
    next: rows.length > limit && last ? last.member.userId : null,
  };
}

export const channelSocket: SocketHandlers = {
  'channel.members': async ({ svc, caller }, f) => {
    await accessChannelRead(svc.db, caller, f.cid);
    return membersPage(svc, caller.app.id, f.cid, f.cursor, f.limit ?? MEMBERS_PAGE);
  },
};
