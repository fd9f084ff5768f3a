import { and, eq, or, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import type { UserRow } from './present.js';

/** Escape LIKE wildcards so a search for `a_b` matches only that. */
export const likePrefix = (s: string) => `${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Users whose username or name starts with `q` (case-insensitive), by name. */
export async function searchUsers(
  svc: Services,
  appId: string,
  q: string | undefined,
  limit: number,
): Promise<UserRow[]> {
  const where = q
    ? and(
        eq(schema.users.appId, appId),
        or(
          sql`lower(${schema.users.username}) like ${likePrefix(q)}`,
          sql`lower(${schema.users.name}) like ${likePrefix(q)}`,
        ),
      )
    : eq(schema.users.appId, appId);
  return svc.db
    .select()
    .from(schema.users)
    .where(where)
    .orderBy(sql`lower(${schema.users.name})`, schema.users.id)
    .limit(limit);
}

export async function getUser(svc: Services, appId: string, userId: string): Promise<UserRow | null> {
  const [row] = await svc.db
    .select()
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)))
    .limit(1);
  return row ?? null;
}
