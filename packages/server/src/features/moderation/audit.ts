/**
 * The audit trail of moderation (features/audit): every ban, unban, flag review and change of
 * the app's permissions or automod rules is one `moderation.*` entry, written by `recordAudit`
 * in the transaction of the change where there is one (bans, unbans, reviews), so the change
 * and its record commit together. Settings are kept through the app registry, which has its
 * own write; their record follows it.
 */
import type { AuditAction } from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import type { Queryable } from '../../platform/db/index.js';
import { actorOfCaller, recordAudit } from '../audit/index.js';

const ACTIONS = {
  ban: 'moderation.ban',
  'shadow.ban': 'moderation.shadow_ban',
  unban: 'moderation.unban',
  'flag.review': 'moderation.flag_reviewed',
  'permissions.update': 'moderation.permissions_updated',
  'automod.update': 'moderation.automod_updated',
} as const satisfies Record<string, AuditAction>;

export type ModerationAction = keyof typeof ACTIONS;

export async function recordModeration(
  q: Queryable,
  caller: Caller,
  action: ModerationAction,
  target: { userId?: string | null; cid?: string | null; flagId?: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  const subject = target.userId
    ? { kind: 'user', id: target.userId }
    : target.cid
      ? { kind: 'channel', id: target.cid }
      : { kind: 'app', id: caller.app.id };
  await recordAudit(q, {
    appId: caller.app.id,
    actor: actorOfCaller(caller),
    action: ACTIONS[action],
    target: subject,
    details: {
      ...(target.cid ? { cid: target.cid } : {}),
      ...(target.flagId ? { flag_id: target.flagId } : {}),
      ...details,
    },
  });
}
