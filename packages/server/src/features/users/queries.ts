import { and, eq, or, type SQL, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import type { UserRow } from './present.js';

/** Escape LIKE wildcards so a search for `a_b` matches only that. */
export const likePrefix = (s: string) => `${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Users whose username or name (or, with `byEmail`, for admins only, their account's email)
 * starts with `q` (case-insensitive), by name, a page at a time:
 * `cursor` is the `next` of the page before (keyset on the lowercased name and the id).
 * A guest `viewer` (app role `guest`) finds only themselves and the people who share a channel
 * with them: guests never see the directory. Decided in the same statement, no extra round trip.
 */
export async function searchUsers(
  svc: Services,
  appId: string,
  q: string | undefined,
  limit: number,
  cursor?: string,
  viewer?: string,
  byEmail = false,
): Promise<{ rows: UserRow[]; next: string | null }> {
  const u = schema.users;
  const conds: SQL[] = [eq(u.appId, appId)];
  if (viewer) conds.push(visibleToGuest(appId, viewer, sql`${u.id}`));
  if (q) {
    const matches = [sql`lower(${u.username}) like ${likePrefix(q)}`, sql`lower(${u.name}) like ${likePrefix(q)}`];
    // Emails are the accounts' (the web app's people), found only for admins: `byEmail`.
    if (byEmail)
      matches.push(sql`exists (select 1 from ${schema.workspaceMembers} wm join ${schema.accounts} a on a.id = wm.account_id
        where wm.app_id = ${appId} and wm.user_id = ${u.id} and lower(a.email) like ${likePrefix(q)})`);
    conds.push(or(...matches) as SQL);
  }
  if (cursor) {
    const after = decodeUserCursor(cursor);
    conds.push(sql`(lower(${u.name}), ${u.id}) > (${after.name}, ${after.id})`);
  }
  const rows = await svc.db
    .select()
    .from(u)
    .where(and(...conds))
    .orderBy(sql`lower(${u.name})`, u.id)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next =
    rows.length > limit && last
      ? Buffer.from(JSON.stringify({ name: last.name.toLowerCase(), id: last.id })).toString('base64url')
      : null;
  return { rows: page, next };
}

/**
 * SQL that is true when `userId` may be shown to `viewer`: always unless the viewer is a guest,
 * and then only themselves and those who share a channel with them.
 */
export function visibleToGuest(appId: string, viewer: string, userId: SQL): SQL {
  const { members, users } = schema;
  return sql`(not exists (select 1 from ${users} g where g.app_id = ${appId} and g.id = ${viewer} and g.role = 'guest')
    or ${userId} = ${viewer}
    or exists (select 1 from ${members} ma join ${members} mb on mb.app_id = ma.app_id and mb.cid = ma.cid
      where ma.app_id = ${appId} and ma.user_id = ${viewer} and mb.user_id = ${userId}))`;
}

function decodeUserCursor(raw: string): { name: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { name?: unknown; id?: unknown };
    if (typeof c.name === 'string' && typeof c.id === 'string') return { name: c.name, id: c.id };
  } catch {
    // fall through
  }
  throw invalid('Invalid cursor');
}

/** One user; with a guest `viewer`, only one it may see (`visibleToGuest`), else null. */
export async function getUser(svc: Services, appId: string, userId: string, viewer?: string): Promise<UserRow | null> {
  const [row] = await svc.db
    .select()
    .from(schema.users)
    .where(
      and(
        eq(schema.users.appId, appId),
        eq(schema.users.id, userId),
        viewer ? visibleToGuest(appId, viewer, sql`${schema.users.id}`) : undefined,
      ),
    )
    .limit(1);
  return row ?? null;
}
