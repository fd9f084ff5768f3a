/**
 * Usage of the workspace: totals (members, channels, messages, storage, connections now) and a
 * chart per measure over the chosen range (7, 30 or 90 days): daily and monthly active users,
 * messages per day, peak concurrent connections; connection stability (reconnects per
 * connection-hour, time to resync) and the office (spaces added, rooms opened).
 */
import type { AnalyticsResponse } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect, useState } from 'react';
import { BarChart } from './charts.js';
import type { AdminTabProps } from './tab-props.js';

const RANGES = [7, 30, 90] as const;

/** Bytes as people read them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function AnalyticsTab(_: AdminTabProps) {
  const client = useChatClient();
  const [days, setDays] = useState<(typeof RANGES)[number]>(30);
  const [data, setData] = useState<AnalyticsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const to = new Date();
    const from = new Date(to.getTime() - (days - 1) * 86_400_000);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    client.admin
      .analytics({ from: day(from), to: day(to) })
      .then((r) => live && setData(r))
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [client, days]);

  if (error)
    return (
      <p className="app-form__error" role="alert">
        {error}
      </p>
    );
  if (!data) return <p className="app-muted">Loading…</p>;
  const t = data.totals;
  type Measure =
    | 'dau'
    | 'mau'
    | 'messages'
    | 'peak_connections'
    | 'reconnects_per_connection_hour'
    | 'resync_ms_avg'
    | 'office_spaces_created'
    | 'office_rooms_opened';
  const series = (k: Measure) => data.days.map((d) => ({ day: d.day, value: d[k] ?? 0 }));
  return (
    <div className="app-analytics">
      <div className="app-row">
        <span className="app-field__label">Range</span>
        {RANGES.map((r) => (
          <button
            key={r}
            type="button"
            className={`app-button app-button--small${r === days ? ' app-button--primary' : ''}`}
            aria-pressed={r === days}
            onClick={() => setDays(r)}
          >
            {r} days
          </button>
        ))}
      </div>
      <dl className="app-analytics__totals" data-testid="analytics-totals">
        <div>
          <dt>Users</dt>
          <dd>{t.users}</dd>
        </div>
        <div>
          <dt>Channels</dt>
          <dd>{t.channels}</dd>
        </div>
        <div>
          <dt>Messages</dt>
          <dd>{t.messages}</dd>
        </div>
        <div>
          <dt>Storage</dt>
          <dd>
            {formatBytes(t.storage_bytes)} <span className="app-muted">in {t.files} files</span>
          </dd>
        </div>
        <div>
          <dt>Connected now</dt>
          <dd>{t.connections_now}</dd>
        </div>
      </dl>
      <BarChart title="Daily active users" points={series('dau')} />
      <BarChart title="Monthly active users" points={series('mau')} />
      <BarChart title="Messages per day" points={series('messages')} />
      <BarChart title="Peak concurrent connections" points={series('peak_connections')} />
      <BarChart title="Reconnects per connection-hour" points={series('reconnects_per_connection_hour')} />
      <BarChart title="Time to resync after a reconnect" points={series('resync_ms_avg')} unit=" ms" />
      <BarChart title="Office spaces added" points={series('office_spaces_created')} />
      <BarChart title="Office rooms opened" points={series('office_rooms_opened')} />
    </div>
  );
}
