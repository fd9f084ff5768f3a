/**
 * The channel feature's side of the socket: what a connection needs when it opens (the user
 * and their channels with each one's last seq, in one query — the gateway queries no table
 * itself), and `channel.members`, the member list paged on demand (a resync no longer carries
 * it).
 */
import type { Member } from '@parley/protocol';
import { and, asc, eq, gt } from 'drizzle-orm';
import { fromJson, hotStatement, schema } from '../../platform/db/index.js';
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

/**
 * The user (created on first sight) and every channel they are a member of with its last seq:
 * one statement, the channels aggregated beside the user row. Null if the user is gone.
 */
export async function openConnection(svc: Services, appId: string, userId: string): Promise<Opening | null> {
  // The user usually exists: read first, and create (first sight) only when the read finds none.
  const opening = await readOpening(svc, appId, userId);
  if (opening) return opening;
  await ensureUser(svc, appId, userId);
  return readOpening(svc, appId, userId);
}

/**
 * The opening's read: the user row, and beside it every channel they are a member of with its
 * last seq (aggregated as text and parsed here: the two drivers return json columns
 * differently). A hot statement (platform/db/hot.ts): every connect runs it — a reconnect storm
 * thousands of times in seconds — and built with the query builder it was the costliest part of
 * a connect after the socket writes. Reached through the user's key, the index of a user's
 * memberships, and each channel's key (a LATERAL probe, so no plan hashes `channels` whole).
 */
const OPENING = hotStatement({
  name: 'parley_open_connection',
  reads: {
    users: 'users_app_id_id_pk',
    members: 'members_user_idx',
    channels: 'channels_app_id_cid_pk',
  },
  text: `select to_json(u) as "user", coalesce((
  select json_agg(json_build_array(m.cid, c.last_seq))::text
  from members m
  cross join lateral (
    select c.last_seq from channels c where c.app_id = m.app_id and c.cid between m.cid and m.cid order by c.cid limit 1
  ) c
  where m.app_id = u.app_id and m.user_id = u.id
), '[]') as channels
from json_to_record($1::json) as p(app_id uuid, uid text)
cross join lateral (
  select * from users u where u.app_id = p.app_id and u.id between p.uid and p.uid order by u.id limit 1
) u`,
});

async function readOpening(svc: Services, appId: string, userId: string): Promise<Opening | null> {
  const [row] = await svc.database.prepared<{ user: Record<string, unknown>; channels: string }>(OPENING, [
    JSON.stringify({ app_id: appId, uid: userId }),
  ]);
  const user = row ? fromJson(schema.users, row.user) : null;
  if (!row || !user) return null;
  const pairs = JSON.parse(row.channels) as [string, number | string][];
  return {
    user: presentUser(user),
    channels: pairs.map(([cid, seq]) => ({ cid, lastSeq: Number(seq) })),
    banned: appBanned(user, svc.clock()),
    deleted: user.deletedAt !== null,
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
