/**
 * The transparency report: the workspace's moderation actions per month, week or day (reports,
 * automatic flags, reviews by outcome, bans, the assistant's verdicts), the totals below, and
 * the same as a CSV or JSON file to publish or keep.
 */
import {
  TRANSPARENCY_COLUMNS,
  type TransparencyCounts,
  type TransparencyQuery,
  type TransparencyResponse,
  transparencyCsv,
} from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';
import type { AdminTabProps } from './tab-props.js';

type Period = NonNullable<TransparencyQuery['period']>;

/** Column headings, in the report's order. */
const HEADINGS: Record<keyof TransparencyCounts, string> = {
  reports: 'Reports',
  flagged_automatically: 'Flagged automatically',
  reviewed_removed: 'Removed',
  reviewed_banned: 'Banned on review',
  reviewed_dismissed: 'Dismissed',
  bans: 'Bans',
  shadow_bans: 'Shadow bans',
  unbans: 'Bans lifted',
  ai_blocked: 'Blocked by the assistant',
  ai_flagged: 'Flagged by the assistant',
};

const PERIODS: { value: Period; label: string }[] = [
  { value: 'month', label: 'By month' },
  { value: 'week', label: 'By week' },
  { value: 'day', label: 'By day' },
];

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

export function TransparencyTab(_: AdminTabProps) {
  const client = useChatClient();
  const [query, setQuery] = useState<Omit<TransparencyQuery, 'format'>>({ period: 'month' });
  const [report, setReport] = useState<TransparencyResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setReport(await client.moderation.report(query));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [client, query]);
  useEffect(() => {
    void load();
  }, [load]);

  const set = (k: 'from' | 'to', v: string) => setQuery((q) => ({ ...q, [k]: v === '' ? undefined : v }));
  const base = report ? `moderation-report-${report.from}-${report.to}` : 'moderation-report';
  return (
    <div className="app-audit" data-testid="transparency-report">
      <p className="app-muted">
        What moderation did in this workspace, period by period. Reviews, bans and the assistant’s verdicts reach back
        as far as the audit log keeps entries.
      </p>
      <form
        className="app-audit__filters"
        aria-label="Choose the report's periods"
        onSubmit={(e) => e.preventDefault()}
      >
        <label className="app-field">
          <span className="app-field__label">Periods</span>
          <select
            className="app-input"
            aria-label="Periods"
            value={query.period ?? 'month'}
            onChange={(e) => setQuery({ period: e.target.value as Period })}
          >
            {PERIODS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        <label className="app-field">
          <span className="app-field__label">From</span>
          <input
            className="app-input"
            type="date"
            aria-label="From"
            value={query.from ?? ''}
            onChange={(e) => set('from', e.target.value)}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">To</span>
          <input
            className="app-input"
            type="date"
            aria-label="To"
            value={query.to ?? ''}
            onChange={(e) => set('to', e.target.value)}
          />
        </label>
        <div className="app-row">
          <button
            type="button"
            className="app-button app-button--small"
            disabled={!report}
            onClick={() => report && download(`${base}.csv`, 'text/csv', transparencyCsv(report))}
          >
            Download CSV
          </button>
          <button
            type="button"
            className="app-button app-button--small"
            disabled={!report}
            onClick={() =>
              report && download(`${base}.json`, 'application/json', `${JSON.stringify(report, null, 2)}\n`)
            }
          >
            Download JSON
          </button>
        </div>
      </form>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {!report ? (
        error ? null : (
          <p className="app-muted">Loading…</p>
        )
      ) : (
        <div className="app-transparency__scroll">
          <table className="app-audit__table" aria-label="Transparency report">
            <thead>
              <tr>
                <th scope="col">Period</th>
                {TRANSPARENCY_COLUMNS.map((c) => (
                  <th key={c} scope="col">
                    {HEADINGS[c]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.periods.map((p) => (
                <tr key={p.start} data-testid="transparency-period">
                  <th scope="row">{p.start === p.end ? p.start : `${p.start} – ${p.end}`}</th>
                  {TRANSPARENCY_COLUMNS.map((c) => (
                    <td key={c} data-column={c}>
                      {p[c]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr data-testid="transparency-totals">
                <th scope="row">Total</th>
                {TRANSPARENCY_COLUMNS.map((c) => (
                  <td key={c} data-column={c}>
                    {report.totals[c]}
                  </td>
                ))}
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </div>
  );
}
