/**
 * The admin console's System tab: the deployment at a glance (GET /v1/admin/system) — nodes and
 * their versions, connections, the job queues, each webhook endpoint's backlog, the database's
 * pools and the last backup. That route belongs to the operator, not to a workspace: it takes
 * the server's admin token (printed on the first start, kept in `.parley/admin-token` or set as
 * PARLEY_ADMIN_TOKEN). The tab asks for it once and keeps it in this browser tab's
 * sessionStorage only, so closing the tab forgets it; "Forget token" does so at once.
 * The figures refresh every 5 s while the tab is open.
 */
import type { SystemReport } from '@parley/protocol';
import { formatBytes } from '@parley/react';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';

const KEY = 'parley.operator-token';
const REFRESH_MS = 5_000;

const stored = () => {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
};
const BACKUP_STATUS: Record<string, string> = { ok: 'Succeeded', running: 'Running', failed: 'Failed' };
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** The report, or why there is none: 401 means the token is wrong (it is then forgotten). */
async function fetchSystem(token: string): Promise<SystemReport> {
  let res: Response;
  try {
    res = await fetch('/v1/admin/system', {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  } catch {
    throw new Error('Cannot reach the server. Check your connection and try again.');
  }
  if (res.status === 401) throw new TokenRefused();
  if (!res.ok) throw new Error(`The server answered ${res.status}.`);
  return (await res.json()) as SystemReport;
}
class TokenRefused extends Error {
  constructor() {
    super('The server refused this admin token. It is the one `parley start` printed on its first start.');
  }
}

export function SystemTab() {
  const [token, setToken] = useState<string | null>(stored);
  const [draft, setDraft] = useState('');
  const [report, setReport] = useState<SystemReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  const forget = useCallback(() => {
    try {
      sessionStorage.removeItem(KEY);
    } catch {}
    setToken(null);
    setReport(null);
  }, []);

  useEffect(() => {
    if (!token) return;
    let live = true;
    const load = () =>
      fetchSystem(token).then(
        (r) => {
          if (!live) return;
          setReport(r);
          setError(null);
        },
        (e: unknown) => {
          if (!live) return;
          setError(e instanceof Error ? e.message : String(e));
          if (e instanceof TokenRefused) forget();
        },
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [token, forget]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = draft.trim();
    if (!t) return setError('Paste the server’s admin token.');
    try {
      sessionStorage.setItem(KEY, t);
    } catch {}
    setDraft('');
    setError(null);
    setToken(t);
  };

  const alert = error ? (
    <p className="app-form__error" role="alert">
      {error}
    </p>
  ) : null;

  if (!token)
    return (
      <form className="app-form" data-testid="system-token" onSubmit={submit}>
        {alert}
        <p className="app-muted">
          The System page shows the whole server, every workspace on it: it needs the operator’s admin token, not a
          workspace role. `parley start` prints it on the first start; it is kept in `.parley/admin-token`, or set as
          PARLEY_ADMIN_TOKEN. This tab keeps it until you close the tab.
        </p>
        <label className="app-field">
          <span className="app-field__label">Admin token</span>
          <input
            className="app-input"
            type="password"
            autoComplete="off"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
          />
        </label>
        <div className="app-row app-row--end">
          <button type="submit" className="app-button app-button--primary">
            Show the system
          </button>
        </div>
      </form>
    );

  return (
    <div className="app-form app-system" data-testid="system-report" aria-busy={report === null}>
      {alert}
      {report ? <Report report={report} /> : <p className="app-muted">Loading…</p>}
      <div className="app-row app-row--end">
        <span className="app-muted">Refreshes every 5 s.</span>
        <button type="button" className="app-button" onClick={forget}>
          Forget token
        </button>
      </div>
    </div>
  );
}

/** A table of `rows`, one column per `[heading, cell]`; `rowKey` and `data` mark each row for tests. */
function Table<T>({
  rows,
  columns,
  rowKey,
  testId,
  data,
}: {
  rows: readonly T[];
  columns: readonly [string, (row: T) => ReactNode][];
  rowKey: (row: T) => string;
  testId?: string;
  data?: (row: T) => Record<string, string>;
}) {
  return (
    <table className="app-table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map(([h]) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={rowKey(r)} {...data?.(r)}>
            {columns.map(([h, cell]) => (
              <td key={h}>{cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type Row<K extends keyof SystemReport> = SystemReport[K] extends readonly (infer R)[] ? R : never;

function Report({ report }: { report: SystemReport }) {
  const { database: db, last_backup: backup } = report;
  const pools = Object.entries(db.pools).map(([name, p]) => ({ name, ...p }));
  return (
    <>
      <section aria-labelledby="system-nodes">
        <h3 id="system-nodes">Nodes</h3>
        <Table<Row<'nodes'>>
          testId="system-nodes"
          rows={report.nodes}
          rowKey={(n) => n.id}
          data={(n) => ({ 'data-node': n.id })}
          columns={[
            ['Node', (n) => `${n.id}${n.id === report.node.id ? ' (this one)' : ''}`],
            ['Version', (n) => n.version],
            ['Schema', (n) => n.schema],
            ['State', (n) => (n.live ? 'live' : 'gone')],
            ['Connections', (n) => n.connections ?? '—'],
            ['Started', (n) => when(n.started_at)],
            ['Last seen', (n) => when(n.seen_at)],
          ]}
        />
      </section>
      <section aria-labelledby="system-database">
        <h3 id="system-database">Database</h3>
        <p data-testid="system-database">
          {db.kind === 'pglite' ? 'Embedded (PGlite)' : 'PostgreSQL'}, migration {db.migration ?? 'none'}
          {pools.length === 0 ? '; no connection pools (embedded).' : '.'}
        </p>
        {pools.length > 0 ? (
          <Table
            rows={pools}
            rowKey={(p) => p.name}
            columns={[
              ['Pool', (p) => p.name],
              ['Connections', (p) => p.total],
              ['Idle', (p) => p.idle],
              ['Waiting', (p) => p.waiting],
            ]}
          />
        ) : null}
      </section>
      <section aria-labelledby="system-jobs">
        <h3 id="system-jobs">Job queues</h3>
        {report.jobs.length === 0 ? (
          <p className="app-muted">Every job is done.</p>
        ) : (
          <Table<Row<'jobs'>>
            testId="system-jobs"
            rows={report.jobs}
            rowKey={(j) => j.queue}
            columns={[
              ['Queue', (j) => j.queue],
              ['Waiting', (j) => j.created],
              ['Retrying', (j) => j.retry],
              ['Running', (j) => j.active],
              ['Failed', (j) => j.failed],
            ]}
          />
        )}
      </section>
      <section aria-labelledby="system-webhooks">
        <h3 id="system-webhooks">Webhook backlog</h3>
        {report.webhooks.length === 0 ? (
          <p className="app-muted">No webhook endpoint on this server.</p>
        ) : (
          <Table<Row<'webhooks'>>
            testId="system-webhooks"
            rows={report.webhooks}
            rowKey={(w) => w.endpoint_id}
            data={(w) => ({ 'data-endpoint': w.endpoint_id })}
            columns={[
              ['App', (w) => w.app_name],
              ['Endpoint', (w) => <span className="app-system__url">{w.url}</span>],
              ['State', (w) => (w.active ? 'active' : 'paused')],
              ['Waiting', (w) => w.pending],
              ['Oldest waiting', (w) => when(w.oldest_pending_at)],
            ]}
          />
        )}
      </section>
      <section aria-labelledby="system-backup">
        <h3 id="system-backup">Last backup</h3>
        <p data-testid="system-backup">
          {backup
            ? `${BACKUP_STATUS[backup.status] ?? backup.status}, started ${when(backup.started_at)}` +
              (backup.finished_at ? `, finished ${when(backup.finished_at)}` : '') +
              (backup.bytes !== null ? `, ${formatBytes(backup.bytes)}` : '') +
              (backup.error ? `: ${backup.error}` : '')
            : 'None yet. Run `parley backup` (see the backup guide) and schedule it.'}
        </p>
      </section>
    </>
  );
}
