/**
 * One @name, one thing. A user's username and a user group's handle share one namespace per app,
 * compared case-insensitively: `@eng` names a person or a group, never both. The rule is held in
 * two places that agree:
 *
 * - here, before a write, to answer with the reason (`nameProblems`): a mention keyword, a name
 *   reserved for usernames, or a name some other user or group holds;
 * - in the database, whatever the write path (table `mention_names`, kept by triggers on
 *   `users.username` and `user_groups.handle`): two transactions taking one name at once cannot
 *   both commit — the second fails on the key, and `isNameClash` turns that into the same
 *   CONFLICT the check gives.
 *
 * Every write path calls these: `PATCH /v1/me`, the server's user upsert, group create and
 * rename, the Slack import (which picks another name and reports it), and
 * `GET /v1/usernames/{name}` answers from the same check. Sign-up, OIDC and invites set no
 * username.
 */
import { USERNAME_PATTERN } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { MENTION_KEYWORDS } from './mentions.js';

/**
 * Names a person may not choose for themselves: they read as the system or a route. The mention
 * keywords (`MENTION_KEYWORDS`) are refused to everyone — a user set by the app's server, an
 * imported one, a group; these others only to a person picking their own username (`PATCH
 * /v1/me`): the embedder's backend and an import bring real people, who may well be `admin`, and
 * a group shows as a group, so `@support` as a group's handle misleads no one.
 */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  ...MENTION_KEYWORDS,
  'admin',
  'administrator',
  'api',
  'help',
  'me',
  'moderator',
  'owner',
  'parley',
  'root',
  'support',
  'system',
]);

/**
 * Who would take a name: a user (by id; `chosen`: picking it themself) or a group (by id, null
 * for a group not made yet).
 */
export type NameOwner = { user: string; chosen?: boolean } | { group: string | null };

/** Why a name cannot be had: `reserved`, or `taken` by another user or group. */
export interface NameProblem {
  name: string;
  reason: 'reserved' | 'taken';
  /** For `taken`: what holds it. */
  held_by?: 'user' | 'group';
}

const USERNAME = new RegExp(USERNAME_PATTERN);

/** Whether `name` is reserved for `owner`: a mention keyword, or a system word they chose. */
export function isReservedName(name: string, owner: NameOwner): boolean {
  const lower = name.toLowerCase();
  return 'user' in owner && owner.chosen ? RESERVED_USERNAMES.has(lower) : MENTION_KEYWORDS.has(lower);
}

/**
 * The problems of each name that `owners` would take (name → owner), in one query: a reserved
 * word, or a name another user or group holds (a name its own holder keeps is no problem).
 * Names compare as the database's `lower()` does, as its key does.
 */
export async function nameProblems(
  q: Queryable,
  appId: string,
  wanted: ReadonlyArray<{ name: string; owner: NameOwner }>,
): Promise<NameProblem[]> {
  const problems: NameProblem[] = [];
  const free: { name: string; owner: NameOwner }[] = [];
  for (const w of wanted) {
    if (isReservedName(w.name, w.owner)) problems.push({ name: w.name, reason: 'reserved' });
    else free.push(w);
  }
  if (free.length === 0) return problems;
  // Usernames and handles are ASCII (their patterns), on which toLowerCase and the database's
  // lower() — the table's key — agree.
  const m = schema.mentionNames;
  const held = await q
    .select({ name: m.name, userId: m.userId, groupId: m.groupId })
    .from(m)
    .where(and(eq(m.appId, appId), inArray(m.name, [...new Set(free.map((w) => w.name.toLowerCase()))])));
  const holder = new Map(held.map((h) => [h.name, h]));
  for (const w of free) {
    const h = holder.get(w.name.toLowerCase());
    if (!h) continue;
    const own = 'user' in w.owner ? h.userId === w.owner.user : h.groupId !== null && h.groupId === w.owner.group;
    if (!own) problems.push({ name: w.name, reason: 'taken', held_by: h.userId !== null ? 'user' : 'group' });
  }
  return problems;
}

/** The error for a name that cannot be had, naming the field and why. */
export function nameError(field: 'username' | 'handle', p: NameProblem): ApiError {
  if (p.reason === 'reserved')
    return new ApiError('VALIDATION_ERROR', `@${p.name} is reserved`, { field, reason: 'reserved' });
  const holder = p.held_by === 'group' ? "a user group's handle" : "someone's username";
  return new ApiError('CONFLICT', `@${p.name} is taken: it is ${holder}`, {
    field,
    reason: 'taken',
    held_by: p.held_by,
  });
}

/** Throws VALIDATION_ERROR (reserved) or CONFLICT (taken) unless `owner` may take `name`. */
export async function checkName(
  q: Queryable,
  appId: string,
  field: 'username' | 'handle',
  name: string,
  owner: NameOwner,
): Promise<void> {
  const [p] = await nameProblems(q, appId, [{ name, owner }]);
  if (p) throw nameError(field, p);
}

/**
 * Whether a failed write broke the one-name rule in the database: a name taken by another
 * transaction between the check and the write (the key of `mention_names`), or by another user
 * (the `users_username_uq` index) or group (`user_groups_handle_uq`).
 */
export function isNameClash(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; cause?: { code?: string; constraint?: string } };
  const code = e.code ?? e.cause?.code;
  const constraint = e.constraint ?? e.cause?.constraint ?? '';
  return (
    code === '23505' &&
    (constraint === 'mention_names_app_id_name_pk' ||
      constraint === 'users_username_uq' ||
      constraint === 'user_groups_handle_uq')
  );
}

/** Whether `name` is a valid username at all (the protocol's pattern). */
export const isUsername = (name: string) => USERNAME.test(name);
