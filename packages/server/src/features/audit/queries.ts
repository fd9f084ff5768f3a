/**
 * Reading the audit log: one page, newest first, filtered by actor, action (or an action
 * prefix such as `member.`), target and time. Keyset paging on the log's increasing id: the
 * cursor is the last id of the page, so entries written while a reader pages never shift or
 * repeat what it sees. A workspace's log includes the account-level events (sign-ins,
 * two-factor changes; `app_id` null) of its current members.
 */
import { AUDIT_MAX_LIMIT, type AuditEntry, type AuditQuery } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { rows } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';

interface Row {
  id: string | number;
  action: string;
  actor_kind: AuditEntry['actor']['kind'];
  actor_id: string | null;
  actor_name: string | null;
  target_kind: string | null;
  target_id: string | null;
  target_name: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | string;
  at: Date | string;
}

const CURSOR = /^a[0-9]{1,18}$/;

function decodeCursor(c: string): string {
  if (!CURSOR.test(c)) throw invalid('Invalid cursor');
  return c.slice(1);
}

export async function listAudit(
  svc: Services,
  appId: string,
  q: AuditQuery,
): Promise<{ entries: AuditEntry[]; next: string | null }> {
  const limit = Math.min(q.limit ?? 50, AUDIT_MAX_LIMIT);
  const before = q.cursor ? decodeCursor(q.cursor) : null;
  if (q.before && q.after && Date.parse(q.after) >= Date.parse(q.before))
    throw invalid('`after` must be earlier than `before`');
  const action = q.action
    ? q.action.endsWith('.')
      ? sql` and a.action like ${`${q.action.replace(/[\\%_]/g, '\\$&')}%`}`
      : sql` and a.action = ${q.action}`
    : sql``;
  const got = await rows<Row>(
    svc.db,
    sql`select a.id::text as id, a.action, a.actor_kind, a.actor_id, a.target_kind, a.target_id, a.ip,
          a.user_agent, a.details, a.at,
          case a.actor_kind
            when 'account' then (select ac.name from accounts ac where ac.id::text = a.actor_id)
            when 'user' then (select u.name from users u where u.app_id = ${appId} and u.id = a.actor_id)
          end as actor_name,
          case a.target_kind
            when 'account' then (select ac.name from accounts ac where ac.id::text = a.target_id)
            when 'user' then (select u.name from users u where u.app_id = ${appId} and u.id = a.target_id)
            when 'channel' then (select c.name from channels c where c.app_id = ${appId} and c.cid = a.target_id)
          end as target_name
        from audit_log a
        where (a.app_id = ${appId}
            or (a.app_id is null and a.actor_kind = 'account' and a.actor_id in
                (select wm.account_id::text from workspace_members wm where wm.app_id = ${appId})))
          ${before ? sql` and a.id < ${before}::bigint` : sql``}
          ${q.actor ? sql` and a.actor_id = ${q.actor}` : sql``}
          ${q.target ? sql` and a.target_id = ${q.target}` : sql``}
          ${q.before ? sql` and a.at < ${q.before}::timestamptz` : sql``}
          ${q.after ? sql` and a.at > ${q.after}::timestamptz` : sql``}
          ${action}
        order by a.id desc
        limit ${limit + 1}`,
  );
  const page = got.slice(0, limit);
  const last = page[page.length - 1];
  return {
    entries: page.map(presentAudit),
    next: got.length > limit && last ? `a${last.id}` : null,
  };
}

export function presentAudit(r: Row): AuditEntry {
  return {
    id: String(r.id),
    action: r.action,
    actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
    target: r.target_kind && r.target_id ? { kind: r.target_kind, id: r.target_id, name: r.target_name } : null,
    ip: r.ip,
    user_agent: r.user_agent,
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    at: new Date(r.at).toISOString(),
  };
}
