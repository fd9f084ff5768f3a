/**
 * Who may use the admin API of an app (audit log, analytics, exports of others, deletions):
 * the app's server token, or a user whose app role is `admin` (workspace owners and admins
 * have it while active; see features/accounts/actions.ts `appRoleOf`).
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';

/** Throws FORBIDDEN unless the caller administers its app. */
export async function checkAppAdmin(svc: Services, caller: Caller): Promise<void> {
  if (caller.kind === 'server') return;
  if (!(await isAppAdmin(svc, caller.app.id, caller.userId)))
    throw new ApiError('FORBIDDEN', 'Only app admins (or the server token) may do this');
}

export async function isAppAdmin(svc: Services, appId: string, userId: string): Promise<boolean> {
  const [row] = await svc.db
    .select({ role: schema.users.role })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId), isNull(schema.users.deletedAt)));
  return row?.role === 'admin';
}
