/**
 * `recordAudit(q, …)`: the one way anything is written to the audit log. Pass the
 * transaction of the change being recorded, so the change and its record commit or roll back
 * together (no record of a change that did not happen, no change without its record). The
 * client IP and user agent come from the request being handled (platform/request-context.ts)
 * unless given.
 */
import type { AuditAction, AuditActorKind } from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { requestContext } from '../../platform/request-context.js';

export interface AuditActor {
  kind: AuditActorKind;
  id: string | null;
}

export interface AuditRecord {
  /** The app (workspace) it happened in; null for account-level events (sign-ins, 2FA). */
  appId: string | null;
  actor: AuditActor;
  action: AuditAction;
  target?: { kind: string; id: string } | null;
  details?: Record<string, unknown>;
  /** Default: the current request's. */
  ip?: string | null;
  userAgent?: string | null;
}

/** The actor of a chat API caller: its user, or the app's server token. */
export const actorOfCaller = (caller: Caller): AuditActor =>
  caller.kind === 'user' ? { kind: 'user', id: caller.userId } : { kind: 'server', id: null };

export const accountActor = (accountId: string): AuditActor => ({ kind: 'account', id: accountId });
export const SYSTEM: AuditActor = { kind: 'system', id: null };

export async function recordAudit(q: Queryable, r: AuditRecord): Promise<void> {
  const ctx = requestContext();
  await q.insert(schema.auditLog).values({
    appId: r.appId,
    actorKind: r.actor.kind,
    actorId: r.actor.id,
    action: r.action,
    targetKind: r.target?.kind ?? null,
    targetId: r.target?.id ?? null,
    ip: r.ip !== undefined ? r.ip : (ctx?.ip ?? null),
    userAgent: r.userAgent !== undefined ? r.userAgent : (ctx?.userAgent ?? null),
    details: r.details ?? {},
  });
}
