/**
 * The audit log of the workspace: newest first, filtered by action (or area), by who did it and
 * by what it was done to, a page at a time ("Load more" follows the server's cursor).
 */
import { AUDIT_ACTIONS, type AuditEntry, type AuditQuery } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';
import type { AdminTabProps } from './tab-props.js';

const PAGE = 50;

/** The areas of the action names (`member.`, `invite.` …), offered as filters beside each action. */
const AREAS = [...new Set(AUDIT_ACTIONS.map((a) => `${a.split('.')[0]}.`))];

/** "member.role_changed" → "Member role changed". */
export function actionLabel(action: string): string {
  const text = action.replace(/[._]/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describe(e: AuditEntry): string {
  const d = e.details as Record<string, unknown>;
  if (e.action === 'member.role_changed' && typeof d.from === 'string' && typeof d.to === 'string')
    return `${d.from} → ${d.to}`;
  if (e.action === 'user.deleted' && typeof d.mode === 'string') return `${d.mode} delete`;
  // An admin's correction of someone's profile: each field as `{from, to}`, null for none.
  if (e.action === 'user.profile_updated')
    return Object.entries(d)
      .map(([k, v]) => {
        const c = v as { from?: unknown; to?: unknown };
        return `${k}: ${c.from ?? '—'} → ${c.to ?? '—'}`;
      })
      .join('; ');
  if (typeof d.method === 'string') return d.reason ? `${d.method}, ${String(d.reason).replace(/_/g, ' ')}` : d.method;
  return '';
}

const who = (p: { name: string | null; id: string | null; kind: string } | null) =>
  p ? (p.name ?? p.id ?? (p.kind === 'server' ? 'server' : p.kind === 'admin' ? 'operator' : p.kind)) : '';

export function AuditTab(_: AdminTabProps) {
  const client = useChatClient();
  const [filter, setFilter] = useState<AuditQuery>({});
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (cursor: string | null) => {
      setBusy(true);
      setError(null);
      try {
        const r = await client.admin.audit({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) });
        setEntries((old) => (cursor && old ? [...old, ...r.entries] : r.entries));
        setNext(r.next);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      } finally {
        setBusy(false);
      }
    },
    [client, filter],
  );
  useEffect(() => {
    void load(null);
  }, [load]);

  const set = (k: keyof AuditQuery, v: string) => setFilter((f) => ({ ...f, [k]: v === '' ? undefined : v }));
  return (
    <div className="app-audit">
      <form
        className="app-audit__filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <label className="app-field">
          <span className="app-field__label">Action</span>
          <select
            className="app-input"
            aria-label="Action"
            value={filter.action ?? ''}
            onChange={(e) => set('action', e.target.value)}
          >
            <option value="">All actions</option>
            {AREAS.map((a) => (
              <option key={a} value={a}>
                {actionLabel(a.slice(0, -1))} (all)
              </option>
            ))}
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {actionLabel(a)}
              </option>
            ))}
          </select>
        </label>
        <label className="app-field">
          <span className="app-field__label">Actor id</span>
          <input
            className="app-input"
            value={filter.actor ?? ''}
            placeholder="account or user id"
            onChange={(e) => set('actor', e.target.value.trim())}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">Target id</span>
          <input
            className="app-input"
            value={filter.target ?? ''}
            placeholder="account, user, channel or invite id"
            onChange={(e) => set('target', e.target.value.trim())}
          />
        </label>
      </form>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {entries === null ? (
        <p className="app-muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="app-muted">
          Nothing recorded{filter.action || filter.actor || filter.target ? ' that matches' : ''}.
        </p>
      ) : (
        <table className="app-audit__table" aria-label="Audit log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
              <th scope="col">IP</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="audit-entry" data-action={e.action}>
                <td>
                  <time dateTime={e.at} title={e.at}>
                    {new Date(e.at).toLocaleString()}
                  </time>
                </td>
                <td>{who(e.actor)}</td>
                <td>{actionLabel(e.action)}</td>
                <td>{who(e.target)}</td>
                <td>{describe(e)}</td>
                <td title={e.user_agent ?? undefined}>{e.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next ? (
        <div className="app-row app-row--end">
          <button
            type="button"
            className="app-button app-button--small"
            disabled={busy}
            onClick={() => void load(next)}
          >
            Load more
          </button>
        </div>
      ) : null}
    </div>
  );
}
