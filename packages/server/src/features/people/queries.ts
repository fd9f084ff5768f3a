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
import { accessFilterFields, likePrefix, presentUser, visibleToGuest } from '../users/index.js';

const {
  users: u,
  workspaceMembers: wm,
  accounts: acc,
  notificationSettings: ns,
  profileFieldValues: pfv,
  workspaces: ws,
} = schema;

/**
 * What of the directory's private side `caller` sees. `admin` (workspace roles, deactivated
 * accounts, and emails): server tokens and the app's admins (a workspace's owners and admins
 * are app admins). `emails`: admins, and every member but guests where the workspace's
 * `email_visibility` is `members`. One row read.
 */
export async function directoryView(svc: Services, caller: Caller): Promise<{ admin: boolean; emails: boolean }> {
  if (caller.kind === 'server') return { admin: true, emails: true };
  const [me] = await svc.db
    .select({ role: u.role, emailVisibility: ws.emailVisibility })
    .from(u)
    .leftJoin(ws, eq(ws.appId, u.appId))
    .where(and(eq(u.appId, caller.app.id), eq(u.id, caller.userId)))
    .limit(1);
  const admin = me?.role === 'admin';
  return { admin, emails: admin || (!!me && me.role !== 'guest' && me.emailVisibility === 'members') };
}

/**
 * What `q` is matched against, each as a case-insensitive prefix: a word of the name, the
 * username, and the email for those who see emails (a word of the title is `titleWord`).
 */
function searchColumns(emails: boolean): SQL[] {
  const cols = [sql`lower(${u.name})`, sql`' ' || lower(${u.name})`, sql`lower(${u.username})`];
  if (emails) cols.push(sql`lower(${acc.email})`);
  return cols;
}

/** One directory page as `caller` may see it. */
export async function queryPeople(
  svc: Services,
  caller: Caller,
  query: QueryPeopleQuery,
): Promise<{ people: Person[]; next: string | null }> {
  const appId = caller.app.id;
  const { admin, emails } = await directoryView(svc, caller);
  if (query.deactivated && !admin) throw new ApiError('FORBIDDEN', 'Only admins list deactivated accounts');
  const limit = query.limit ?? 50;
  const conds: SQL[] = [eq(u.appId, appId), isNull(u.deletedAt)];
  // Deactivated accounts are left out unless an admin asks for exactly them.
  conds.push(query.deactivated ? isNotNull(wm.deactivatedAt) : isNull(wm.deactivatedAt));
  if (query.role) conds.push(eq(u.role, query.role));
  if (caller.kind === 'user') conds.push(visibleToGuest(appId, caller.userId, sql`${u.id}`));
  const q = query.q?.trim();
  if (q) {
    const cols = searchColumns(emails);
    const word = likePrefix(q);
    // The name's other words: ' ' + name matched against ' q%' finds "Lovelace" in "Ada Lovelace".
    const matches = cols.map((c, i) => (i === 1 ? sql`${c} like ${`% ${word}`}` : sql`${c} like ${word}`));
    conds.push(or(...matches, titleWord(word)) as SQL);
  }
  const title = query.title?.trim();
  if (title) conds.push(titleWord(likePrefix(title)));
  if (query.field?.length) conds.push(...(await fieldConditions(svc, appId, admin, query.field)));
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
      ...(emails ? { email: r.email ?? null } : {}),
      ...(admin ? { workspace_role: r.workspaceRole ?? null, deactivated: r.deactivatedAt !== null } : {}),
    })),
    next:
      rows.length > limit && last
        ? Buffer.from(JSON.stringify({ n: last.user.name.toLowerCase(), i: last.user.id })).toString('base64url')
        : null,
  };
}

/** A word of the title starts with `word` (a `likePrefix` pattern); ' ' + title makes the first word one too. */
const titleWord = (word: string): SQL => sql`' ' || lower(${u.title}) like ${`% ${word}`}`;

/**
 * The custom field filters (`<field id>:<value>`) as conditions on the page's statement: each an
 * EXISTS on the user's value of that field, read through the values' primary key (app, user,
 * field), so a filter costs one index probe per row the directory order reads. A choice matches
 * its option exactly; text and links by case-insensitive prefix.
 */
async function fieldConditions(svc: Services, appId: string, admin: boolean, raw: string[]): Promise<SQL[]> {
  const filters = raw.map((r) => {
    const at = r.indexOf(':');
    return { id: r.slice(0, at).toLowerCase(), value: r.slice(at + 1).trim() };
  });
  const fields = await accessFilterFields(
    svc,
    appId,
    filters.map((f) => f.id),
    admin,
  );
  return filters.map(({ id, value }) => {
    const field = fields.get(id);
    if (!field) throw invalid(`Unknown profile field: ${id}`, { field: id });
    if (!value) throw invalid(`${field.name}: the filter needs a value`, { field: id });
    if (field.kind === 'choice' && !field.options.includes(value))
      throw invalid(`${field.name}: not one of the options`, { field: id });
    const match =
      field.kind === 'choice' ? sql`${pfv.value} = ${value}` : sql`lower(${pfv.value}) like ${likePrefix(value)}`;
    return sql`exists (select 1 from ${pfv} where ${pfv.appId} = ${u.appId} and ${pfv.userId} = ${u.id} and ${pfv.fieldId} = ${id} and ${match})`;
  });
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
