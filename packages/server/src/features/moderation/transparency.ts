/**
 * The transparency report: an app's moderation actions per UTC day, ISO week or calendar month
 * (`GET /v1/moderation/report`, app moderators and admins, the server token), as JSON or CSV.
 *
 * Counted from what is stored: reports and automatic flags from the moderation queue
 * (`moderation_flags`, kept for good), reviews by outcome, bans, shadow bans, unbans and the
 * assistant's verdicts from the audit log, so a period older than `PARLEY_AUDIT_RETENTION_DAYS`
 * counts only its reports and flags. One read of each table, grouped by period.
 */
import {
  TRANSPARENCY_COLUMNS,
  TRANSPARENCY_MAX_PERIODS,
  type TransparencyCounts,
  type TransparencyPeriod,
  type TransparencyQuery,
  type TransparencyResponse,
} from '@parley/protocol';
import { sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { rows } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { checkAppModerator } from './actions.js';

type Period = TransparencyResponse['period'];

const DAY_MS = 86_400_000;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9998, 11, 31);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `YYYY-MM-DD` as the UTC midnight it names; a day that does not exist (02-31) is refused. */
function parseDay(v: string, name: string): number {
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (Number.isNaN(ms) || dayOf(ms) !== v) throw invalid(`${name} is not a day (YYYY-MM-DD): ${v}`);
  if (ms < EARLIEST || ms > LATEST) throw invalid(`${name} must be from 1970-01-01 to 9998-12-31: ${v}`);
  return ms;
}

/** The first day of the period `ms` falls in. */
function startOf(period: Period, ms: number): number {
  const d = new Date(ms);
  if (period === 'day') return ms;
  if (period === 'week') return ms - ((d.getUTCDay() + 6) % 7) * DAY_MS; // back to Monday
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The first day of the period after the one starting at `start`. */
function nextStart(period: Period, start: number): number {
  if (period === 'day') return start + DAY_MS;
  if (period === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const zero = (): TransparencyCounts =>
  Object.fromEntries(TRANSPARENCY_COLUMNS.map((c) => [c, 0])) as unknown as TransparencyCounts;

export async function transparencyReport(
  svc: Services,
  caller: Caller,
  q: TransparencyQuery,
): Promise<TransparencyResponse> {
  await checkAppModerator(svc.db, caller);
  const period: Period = q.period ?? 'month';
  const to = q.to ? parseDay(q.to, 'to') : parseDay(dayOf(svc.clock()), 'to');
  let from: number;
  if (q.from) from = parseDay(q.from, 'from');
  else {
    // The last 12 months or weeks, or 30 days, the one holding `to` included.
    from = startOf(period, to);
    for (let i = 0; i < (period === 'day' ? 29 : 11); i++) from = startOf(period, from - DAY_MS);
  }
  if (from > to) throw invalid('from is after to');
  const periods: { key: number; start: number; end: number }[] = [];
  for (let s = startOf(period, from); s <= to; s = nextStart(period, s)) {
    if (periods.length === TRANSPARENCY_MAX_PERIODS)
      throw invalid(
        `At most ${TRANSPARENCY_MAX_PERIODS} periods in one report: narrow from and to, or take longer periods`,
      );
    periods.push({ key: s, start: Math.max(s, from), end: Math.min(nextStart(period, s) - DAY_MS, to) });
  }
  const lo = new Date(from).toISOString();
  const hi = new Date(to + DAY_MS).toISOString();
  // The unit is bound like any value (the period was checked above: day, week or month).
  const unit = sql`${period}::text`;
  const appId = caller.app.id;
  const counted = await rows<{ p: string } & Record<string, number>>(
    svc.db,
    sql`
    with flags as (
      select date_trunc(${unit}, f.created_at, 'UTC') as p,
        count(*) filter (where f.reported_by is not null)::int as reports,
        count(*) filter (where f.reported_by is null)::int as flagged_automatically
      from moderation_flags f
      where f.app_id = ${appId} and f.created_at >= ${lo}::timestamptz and f.created_at < ${hi}::timestamptz
      group by 1
    ),
    acts as (
      select date_trunc(${unit}, a.at, 'UTC') as p,
        count(*) filter (where a.action = 'moderation.flag_reviewed' and a.details->>'action' = 'remove')::int as reviewed_removed,
        count(*) filter (where a.action = 'moderation.flag_reviewed' and a.details->>'action' = 'ban')::int as reviewed_banned,
        count(*) filter (where a.action = 'moderation.flag_reviewed' and a.details->>'action' = 'dismiss')::int as reviewed_dismissed,
        count(*) filter (where a.action = 'moderation.ban')::int as bans,
        count(*) filter (where a.action = 'moderation.shadow_ban')::int as shadow_bans,
        count(*) filter (where a.action = 'moderation.unban')::int as unbans,
        count(*) filter (where a.action = 'assistant.message_blocked')::int as ai_blocked,
        count(*) filter (where a.action = 'assistant.message_flagged')::int as ai_flagged
      from audit_log a
      where a.app_id = ${appId} and a.at >= ${lo}::timestamptz and a.at < ${hi}::timestamptz
        and a.action in ('moderation.flag_reviewed', 'moderation.ban', 'moderation.shadow_ban', 'moderation.unban',
          'assistant.message_blocked', 'assistant.message_flagged')
      group by 1
    )
    select to_char(coalesce(f.p, a.p) at time zone 'UTC', 'YYYY-MM-DD') as p, f.reports, f.flagged_automatically,
      a.reviewed_removed, a.reviewed_banned, a.reviewed_dismissed, a.bans, a.shadow_bans, a.unbans,
      a.ai_blocked, a.ai_flagged
    from flags f full join acts a on a.p = f.p`,
  );
  const byStart = new Map(counted.map((r) => [r.p, r]));
  const totals = zero();
  const out: TransparencyPeriod[] = periods.map(({ key, start, end }) => {
    const r = byStart.get(dayOf(key));
    const counts = zero();
    for (const c of TRANSPARENCY_COLUMNS) {
      counts[c] = Number(r?.[c] ?? 0);
      totals[c] += counts[c];
    }
    return { start: dayOf(start), end: dayOf(end), ...counts };
  });
  return { period, from: dayOf(from), to: dayOf(to), periods: out, totals };
}
