/**
 * Who an import's people become, the same for every importer (slack.ts, mattermost.ts): the
 * workspace's members matched by email, and for the others a username under the workspace's
 * one-name rule (features/users/names.ts).
 */
import { USERNAME_PATTERN } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { isReservedName } from '../users/index.js';

const USERNAME = new RegExp(USERNAME_PATTERN);

/** The workspace's members by lower-case email (their user ids), and those users' names. */
export async function workspaceMembersByEmail(db: Queryable, appId: string) {
  const memberRows = await db
    .select({ email: schema.accounts.email, userId: schema.workspaceMembers.userId })
    .from(schema.workspaceMembers)
    .innerJoin(schema.accounts, eq(schema.accounts.id, schema.workspaceMembers.accountId))
    .where(eq(schema.workspaceMembers.appId, appId));
  const byEmail = new Map(memberRows.map((r) => [r.email.toLowerCase(), r.userId]));
  const users = new Map<string, { name: string; username: string | null }>();
  const ids = [...new Set(memberRows.map((r) => r.userId))];
  for (let i = 0; i < ids.length; i += 500) {
    const got = await db
      .select({ id: schema.users.id, name: schema.users.name, username: schema.users.username })
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), inArray(schema.users.id, ids.slice(i, i + 500))));
    for (const g of got) users.set(g.id, g);
  }
  return { byEmail, users };
}

/** Why an imported person's username is not the one they had. */
export type RenameReason = { reason: 'reserved' } | { reason: 'taken'; held_by: 'user' | 'group' };

/**
 * The usernames of the workspace's one-name rule: a name a user or a group holds already (any
 * case), or a reserved word, gets the first free `<name>-2`, `<name>-3`…. Who holds each of
 * `first` (the names the export asks for) is read at once; the picker reads more only for
 * clashes. Each name picked is held from then on.
 */
export async function usernamePicker(db: Queryable, appId: string, first: readonly string[]) {
  const held = new Map<string, { userId: string | null; groupId: string | null }>(); // lower(name) → holder
  const read = async (names: readonly string[]) => {
    const fresh = [...new Set(names.map((n) => n.toLowerCase()))].filter((n) => !held.has(n));
    for (let i = 0; i < fresh.length; i += 500) {
      const rows = await db
        .select({
          name: schema.mentionNames.name,
          userId: schema.mentionNames.userId,
          groupId: schema.mentionNames.groupId,
        })
        .from(schema.mentionNames)
        .where(and(eq(schema.mentionNames.appId, appId), inArray(schema.mentionNames.name, fresh.slice(i, i + 500))));
      for (const r of rows) held.set(r.name, r);
    }
  };
  await read(first.filter((n) => USERNAME.test(n)));
  /** The username `userId` gets for `wanted`, and why it differs, if it does. */
  return async (wanted: string, userId: string): Promise<{ username: string; why: RenameReason | null }> => {
    const problem = (name: string): RenameReason | null => {
      if (isReservedName(name, { user: userId })) return { reason: 'reserved' };
      const h = held.get(name.toLowerCase());
      if (h && h.userId !== userId) return { reason: 'taken', held_by: h.userId !== null ? 'user' : 'group' };
      return null;
    };
    const why = problem(wanted);
    let username = wanted;
    if (why)
      for (let from = 2; username === wanted; from += 20) {
        const tries = Array.from({ length: 20 }, (_, i) => `${wanted.slice(0, 60)}-${from + i}`);
        await read(tries);
        username = tries.find((t) => !problem(t)) ?? wanted;
      }
    held.set(username.toLowerCase(), { userId, groupId: null });
    return { username, why };
  };
}
