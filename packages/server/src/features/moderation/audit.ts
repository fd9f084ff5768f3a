/**
 * The one place where moderation actions would be written to the audit log. The audit
 * feature (features/audit, another change) provides the recorder; until it lands this logs at
 * info level. Every ban, unban, flag review and settings change calls it after its commit.
 */
import type { Infra } from '../../infra.js';
import type { Caller } from '../../platform/auth.js';

export type ModerationAction = 'ban' | 'unban' | 'flag.review' | 'permissions.update' | 'automod.update';

export function recordModeration(
  svc: Infra,
  caller: Caller,
  action: ModerationAction,
  target: { userId?: string | null; cid?: string | null; flagId?: string },
  details: Record<string, unknown> = {},
): void {
  svc.log.info(
    { audit: 'moderation', appId: caller.app.id, actor: caller.userId ?? 'server', action, target, details },
    `moderation: ${action}`,
  );
}
