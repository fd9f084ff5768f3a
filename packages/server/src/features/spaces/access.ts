/**
 * Who may use the office. Spaces belong to the app, not to a channel, so the channel policy's
 * `checkCan` does not apply to them; these are the checks, in one place: a user of the app who
 * is neither a guest (a guest sees only its own channels, and a space's room would show it the
 * people there) nor banned app-wide. Laying spaces out is for app admins (and the server token).
 * The room's call is a channel action and goes through `checkCan` in the calls feature.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError, forbidden, notFound } from '../../platform/errors.js';
import { checkAppAdmin } from '../audit/index.js';
import { appBanned, isGuest } from '../permissions/index.js';
import type { UserRow } from '../users/index.js';

/**
 * A user of the app who may be somewhere in the office (not deleted). NOT_FOUND otherwise.
 * `check: false` skips the office checks: anyone may be taken out (a banned user too).
 */
export async function accessOfficeUser(
  q: Queryable,
  appId: string,
  userId: string,
  now: number,
  { check = true }: { check?: boolean } = {},
): Promise<UserRow> {
  const [user] = await q
    .select()
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId), isNull(schema.users.deletedAt)));
  if (!user) throw notFound('User');
  if (check) checkOfficeUser(user, now);
  return user;
}

/** Throws FORBIDDEN for guests and BANNED for who is banned from the app. */
export function checkOfficeUser(user: UserRow, now: number): void {
  if (isGuest(user)) throw forbidden('Guests have no place in the office');
  if (appBanned(user, now)) throw new ApiError('BANNED', 'You are banned from this app', { cid: null });
}

/** The calling user, checked as an office user. */
export async function accessOfficeCaller(q: Queryable, caller: Caller, now: number) {
  const me = requireUser(caller, 'Spaces are entered as a user: use a user token');
  const user = await accessOfficeUser(q, me.app.id, me.userId, now);
  return { appId: me.app.id, userId: me.userId, user };
}

export { checkAppAdmin as checkSpaceAdmin };
