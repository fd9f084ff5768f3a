/**
 * The people directory: one statement per page. Order is by lowercased name then id, read
 * through `users_directory_idx` (keyset: the cursor is the last row's name and id), so a page
 * costs the same at the 10th row as at the 10,000th and no row is skipped or repeated when
 * people join meanwhile.
 */
import type { Person, QueryPeopleQuery } from '@parley/protocol';
import { and, eq, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { likePrefix, presentUser, visibleToGuest } from '../users/index.js';

const { users: u, workspaceMembers: wm, accounts: acc, notificationSettings: ns } = schema;

/**
 * Who sees the directory's private side (emails, workspace roles, deactivated accounts): server
 * tokens and the app's admins (a workspace's owners and admins are app admins). One row read.
 */
export async function checkDirectoryAdmin(svc: Services, caller: Caller): Promise<boolean> {
  if (caller.kind === 'server') return true;
  const [me] = await svc.db
    .select({ role: u.role })
    .from(u)
    .where(and(eq(u.appId, caller.app.id), eq(u.id, caller.userId)))
    .limit(1);
  return me?.role === 'admin';
}

/**
 * What `q` is matched against, each as a case-insensitive prefix: a word of the name, the
 * username, and for admins the email. A new searchable column (a profile's title) is one
 * more entry here.
 */
function searchColumns(admin: boolean): SQL[] {
  const cols = [sql`lower(${u.name})`, sql`' ' || lower(${u.name})`, sql`lower(${u.username})`];
  if (admin) cols.push(sql`lower(${acc.email})`);
  return cols;
}

/** One directory page as `caller` may see it. */
export async function queryPeople(
  svc: Services,
  caller: Caller,
  query: QueryPeopleQuery,
): Promise<{ people: Person[]; next: string | null }> {
  const appId = caller.app.id;
  const admin = await checkDirectoryAdmin(svc, caller);
  if (query.deactivated && !admin) throw new ApiError('FORBIDDEN', 'Only admins list deactivated accounts');
  const limit = query.limit ?? 50;
  const conds: SQL[] = [eq(u.appId, appId), isNull(u.deletedAt)];
  // Deactivated accounts are left out unless an admin asks for exactly them.
  conds.push(query.deactivated ? isNotNull(wm.deactivatedAt) : isNull(wm.deactivatedAt));
  if (query.role) conds.push(eq(u.role, query.role));
  if (caller.kind === 'user') conds.push(visibleToGuest(appId, caller.userId, sql`${u.id}`));
  const q = query.q?.trim();
  if (q) {
    const cols = searchColumns(admin);
    const word = likePrefix(q);
    // The name's other words: ' ' + name matched against ' q%' finds "Lovelace" in "Ada Lovelace".
    conds.push(or(...cols.map((c, i) => (i === 1 ? sql`${c} like ${`% ${word}`}` : sql`${c} like ${word}`))) as SQL);
  }
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    conds.push(sql`(lower(${u.name}), ${u.id}) > (${after.name}, ${after.id})`);
  }
  const rows = await svc.db
    .select({
      user: u,
      timeZone: ns.timeZone,
      email: acc.email,
      workspaceRole: wm.role,
      deactivatedAt: wm.deactivatedAt,
    })
    .from(u)
    .leftJoin(wm, and(eq(wm.appId, u.appId), eq(wm.userId, u.id)))
    .leftJoin(acc, eq(acc.id, wm.accountId))
    .leftJoin(ns, and(eq(ns.appId, u.appId), eq(ns.userId, u.id)))
    .where(and(...conds))
    .orderBy(sql`lower(${u.name})`, u.id)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const states = await svc.presence.statesOf(
    appId,
    page.map((r) => r.user.id),
  );
  const last = page.at(-1);
  return {
    people: page.map((r) => ({
      ...presentUser(r.user, states.get(r.user.id)),
      time_zone: r.timeZone ?? null,
      ...(admin
        ? { email: r.email ?? null, workspace_role: r.workspaceRole ?? null, deactivated: r.deactivatedAt !== null }
        : {}),
    })),
    next:
      rows.length > limit && last
        ? Buffer.from(JSON.stringify({ n: last.user.name.toLowerCase(), i: last.user.id })).toString('base64url')
        : null,
  };
}

function decodeCursor(raw: string): { name: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { n?: unknown; i?: unknown };
    if (typeof c.n === 'string' && typeof c.i === 'string') return { name: c.n, id: c.i };
  } catch {
    // fall through
  }
  throw invalid('Invalid cursor');
}
