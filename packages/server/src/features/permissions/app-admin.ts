/**
 * Who may manage an app's integrations (webhook endpoints, the before-send hook, slash commands,
 * the GIF provider): its backend with a server token, or a workspace owner or admin of the app
 * whose membership is not deactivated.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { forbidden } from '../../platform/errors.js';

/** The caller's app id when they may manage its integrations; else FORBIDDEN saying `refusal`. */
export async function checkAppAdmin(db: Queryable, caller: Caller, refusal: string): Promise<string> {
  if (caller.kind === 'server') return caller.app.id;
  const m = schema.workspaceMembers;
  const [row] = await db
    .select({ role: m.role })
    .from(m)
    .where(
      and(
        eq(m.appId, caller.app.id),
        eq(m.userId, caller.userId),
        inArray(m.role, ['owner', 'admin']),
        isNull(m.deactivatedAt),
      ),
    )
    .limit(1);
  if (!row) throw forbidden(refusal);
  return caller.app.id;
}
