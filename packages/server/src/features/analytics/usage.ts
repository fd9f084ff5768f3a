/**
 * Usage analytics per app: who was active on which day (daily and monthly active users), how
 * many messages were sent, the peak of concurrent WebSocket connections, and storage used.
 *
 * - Activity: the first authenticated request or socket of a user on a UTC day writes one
 *   `user_activity` row (insert-or-nothing); each node remembers what it wrote today, so the
 *   database sees one write per user per day per node, not one per request.
 * - Concurrency: every node samples its own open connections per app at instants aligned to
 *   `PARLEY_USAGE_SAMPLE_SECONDS` (so all nodes sample the same instant) into `usage_samples`;
 *   the app's concurrency at an instant is the sum over nodes, and a day's peak the largest sum.
 * - Messages and storage are counted from their own tables when asked.
 */
import { ANALYTICS_MAX_DAYS, type AnalyticsDay, type AnalyticsQuery, type AnalyticsResponse } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import { TickBatcher } from '../../platform/tick-batch.js';
import type { Services } from '../../services.js';

const DAY_MS = 86_400_000;
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface ActivityRow {
  appId: string;
  userId: string;
  day: string;
}

/** At most this many remembered (app, user) pairs per node per day before the memory is reset. */
const SEEN_MAX = 200_000;

export class ActivityTracker {
  private day = '';
  private readonly seen = new Set<string>();
  /**
   * The rows of one event-loop turn, written with one statement: a connect storm after a
   * deploy (a new process remembers nobody) is every user's first sight of the day on this
   * node at once, and a statement each was half of what those connects asked of the database.
   */
  private readonly writes: TickBatcher<ActivityRow, null>;
  /**
   * The same for notes nobody waits for (a socket's open): they linger 100 ms during a burst,
   * so a connect storm's first sights go out in a few large statements rather than one per
   * event-loop turn (about one statement per five connects before).
   */
  private readonly lazyWrites: TickBatcher<ActivityRow, null>;

  constructor(private readonly svc: () => Services) {
    const write = async (rows: ActivityRow[]) => {
      // One JSON parameter, not the query builder's three per row: building the rows with it
      // was 4 % of a connect storm's CPU (docs/benchmarks.md).
      const json = JSON.stringify(rows.map((r) => ({ app_id: r.appId, user_id: r.userId, day: r.day })));
      await this.svc().db.execute(
        sql`insert into ${schema.userActivity} (app_id, user_id, day)
          select app_id, user_id, day from json_to_recordset(${json}::json) as v(app_id uuid, user_id text, day text)
          on conflict do nothing`,
      );
      return rows.map(() => null);
    };
    this.writes = new TickBatcher(write, { maxInFlight: 1, maxBatch: 500 });
    this.lazyWrites = new TickBatcher(write, { maxInFlight: 1, maxBatch: 500, lingerMs: 100 });
  }

  /**
   * Note that `userId` was active now. Never throws: analytics must not fail a request.
   * `lazy`: for a caller that does not wait (a socket's open), written in larger batches.
   */
  note(appId: string, userId: string, opts: { lazy?: boolean } = {}): Promise<void> {
    return this.write(appId, userId, opts.lazy === true);
  }

  /** Resolves once every note made so far is written (or given up). */
  async settled(): Promise<void> {
    await Promise.all([this.writes.settled(), this.lazyWrites.settled()]);
  }

  private async write(appId: string, userId: string, lazy: boolean): Promise<void> {
    const svc = this.svc();
    const day = utcDay(svc.clock());
    if (day !== this.day || this.seen.size >= SEEN_MAX) {
      this.day = day;
      this.seen.clear();
    }
    const key = `${appId}\n${userId}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    try {
      // Awaited: a caller that awaits `note` (a REST request) is counted before it is answered.
      // A socket's open does not wait for it (app.ts).
      await (lazy ? this.lazyWrites : this.writes).add({ appId, userId, day });
    } catch (err) {
      this.seen.delete(key);
      svc.log.warn({ err }, 'could not record user activity');
    }
  }
}

/** The sample instant at or before `now`: a multiple of the sampling period. */
export function sampleInstant(now: number, periodSeconds: number): Date {
  const p = periodSeconds * 1000;
  return new Date(Math.floor(now / p) * p);
}

/**
 * Write this node's connection counts per app at `at` (an aligned instant), with the
 * connection-stability figures of the period that ends there (realtime/stability.ts).
 */
export async function sampleUsage(
  svc: Services,
  at: Date,
  counts = svc.hub.connectionCounts(),
  stability = svc.stability.take(),
): Promise<number> {
  const apps = new Set([...counts].filter(([, n]) => n > 0).map(([appId]) => appId));
  for (const appId of stability.keys()) apps.add(appId);
  const values = [...apps].map((appId) => {
    const t = stability.get(appId);
    return {
      appId,
      nodeId: svc.config.nodeId,
      at,
      connections: counts.get(appId) ?? 0,
      connectedMs: t?.connectedMs ?? 0,
      reconnects: t?.reconnects ?? 0,
      resyncs: t?.resyncs ?? 0,
      resyncMs: t?.resyncMs ?? 0,
      resyncMaxMs: t?.resyncMaxMs ?? 0,
    };
  });
  if (values.length === 0) return 0;
  // A second sample of the same instant (a test, a clock step) adds its period's figures.
  const u = schema.usageSamples;
  await svc.db
    .insert(u)
    .values(values)
    .onConflictDoUpdate({
      target: [u.appId, u.at, u.nodeId],
      set: {
        connections: sql`excluded.connections`,
        connectedMs: sql`${u.connectedMs} + excluded.connected_ms`,
        reconnects: sql`${u.reconnects} + excluded.reconnects`,
        resyncs: sql`${u.resyncs} + excluded.resyncs`,
        resyncMs: sql`${u.resyncMs} + excluded.resync_ms`,
        resyncMaxMs: sql`greatest(${u.resyncMaxMs}, excluded.resync_max_ms)`,
      },
    });
  return values.length;
}

/** Start this node's sampler; answers a stop function. */
export function startSampler(svc: Services): () => void {
  const period = svc.config.usageSampleSeconds;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    sampleUsage(svc, sampleInstant(now, period)).catch((err) => svc.log.warn({ err }, 'usage sample failed'));
    schedule();
  };
  const schedule = () => {
    const now = Date.now();
    const next = sampleInstant(now, period).getTime() + period * 1000;
    timer = setTimeout(tick, next - now);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function parseDay(s: string, what: string): number {
  const ms = Date.parse(`${s}T00:00:00Z`);
  if (Number.isNaN(ms) || utcDay(ms) !== s) throw invalid(`\`${what}\` is not a calendar day`);
  return ms;
}

export async function usageOf(svc: Services, appId: string, q: AnalyticsQuery): Promise<AnalyticsResponse> {
  const today = Math.floor(svc.clock() / DAY_MS) * DAY_MS;
  const toMs = q.to ? parseDay(q.to, 'to') : today;
  const fromMs = q.from ? parseDay(q.from, 'from') : toMs - 29 * DAY_MS;
  if (fromMs > toMs) throw invalid('`from` must not be after `to`');
  const n = Math.round((toMs - fromMs) / DAY_MS) + 1;
  if (n > ANALYTICS_MAX_DAYS) throw invalid(`At most ${ANALYTICS_MAX_DAYS} days at once`);
  const from = utcDay(fromMs);
  const to = utcDay(toMs);
  const start = new Date(fromMs).toISOString();
  const end = new Date(toMs + DAY_MS).toISOString();

  const [dau, mau, msgs, peaks, stable, office, totals] = await Promise.all([
    rows<{ day: string; n: number }>(
      svc.db,
      sql`select day, count(*)::int as n from user_activity
          where app_id = ${appId} and day >= ${from} and day <= ${to} group by day`,
    ),
    rows<{ day: string; n: number }>(
      svc.db,
      sql`select d.day, count(distinct a.user_id)::int as n
          from (select to_char(g, 'YYYY-MM-DD') as day, to_char(g - interval '29 days', 'YYYY-MM-DD') as since
                from generate_series(${from}::date, ${to}::date, interval '1 day') g) d
          join user_activity a on a.app_id = ${appId} and a.day >= d.since and a.day <= d.day
          group by d.day`,
    ),
    rows<{ day: string; n: number }>(
      svc.db,
      sql`select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as n from messages
          where app_id = ${appId} and type <> 'system'
            and created_at >= ${start}::timestamptz and created_at < ${end}::timestamptz
          group by 1`,
    ),
    rows<{ day: string; n: number }>(
      svc.db,
      sql`select day, max(total)::int as n from
            (select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day, sum(connections) as total from usage_samples
             where app_id = ${appId} and at >= ${start}::timestamptz and at < ${end}::timestamptz group by at) s
          group by day`,
    ),
    rows<StabilityDay>(
      svc.db,
      sql`select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day, sum(connected_ms)::float8 as connected_ms,
            sum(reconnects)::int as reconnects, sum(resyncs)::int as resyncs, sum(resync_ms)::float8 as resync_ms,
            max(resync_max_ms)::int as resync_max_ms
          from usage_samples
          where app_id = ${appId} and at >= ${start}::timestamptz and at < ${end}::timestamptz group by 1`,
    ),
    rows<{ day: string; spaces: number; rooms: number }>(
      svc.db,
      sql`select day, sum(spaces)::int as spaces, sum(rooms)::int as rooms from (
            select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, 1 as spaces, 0 as rooms from spaces
            where app_id = ${appId} and created_at >= ${start}::timestamptz and created_at < ${end}::timestamptz
            union all
            select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), 0, 1 from channels
            where app_id = ${appId} and type = 'group' and cid like 'group:space-%'
              and created_at >= ${start}::timestamptz and created_at < ${end}::timestamptz
          ) o group by day`,
    ),
    rows<{
      users: number;
      channels: number;
      messages: number;
      storage_bytes: string | number;
      files: number;
      connections_now: number;
    }>(
      svc.db,
      sql`select
            (select count(*) from users where app_id = ${appId} and deleted_at is null)::int as users,
            (select count(*) from channels where app_id = ${appId})::int as channels,
            (select count(*) from messages where app_id = ${appId} and type <> 'system')::int as messages,
            (select coalesce(sum(size), 0) from files where app_id = ${appId} and deleted_at is null)::bigint
              as storage_bytes,
            (select count(*) from files where app_id = ${appId} and deleted_at is null)::int as files,
            coalesce((select sum(connections) from usage_samples where app_id = ${appId}
              and at = (select max(at) from usage_samples where app_id = ${appId})
              and at >= ${new Date(svc.clock() - 2 * svc.config.usageSampleSeconds * 1000).toISOString()}::timestamptz
            ), 0)::int as connections_now`,
    ),
  ]);
  const by = (r: { day: string; n: number }[]) => new Map(r.map((x) => [x.day, Number(x.n)]));
  const [dauBy, mauBy, msgBy, peakBy] = [by(dau), by(mau), by(msgs), by(peaks)];
  const stableBy = new Map(stable.map((r) => [r.day, r]));
  const officeBy = new Map(office.map((r) => [r.day, r]));
  const days: AnalyticsDay[] = [];
  for (let i = 0; i < n; i++) {
    const day = utcDay(fromMs + i * DAY_MS);
    days.push({
      day,
      dau: dauBy.get(day) ?? 0,
      mau: mauBy.get(day) ?? 0,
      messages: msgBy.get(day) ?? 0,
      peak_connections: peakBy.get(day) ?? 0,
      ...stabilityOf(stableBy.get(day)),
      office_spaces_created: Number(officeBy.get(day)?.spaces ?? 0),
      office_rooms_opened: Number(officeBy.get(day)?.rooms ?? 0),
    });
  }
  const t = totals[0];
  return {
    from,
    to,
    days,
    totals: {
      users: t?.users ?? 0,
      channels: t?.channels ?? 0,
      messages: t?.messages ?? 0,
      storage_bytes: Number(t?.storage_bytes ?? 0),
      files: t?.files ?? 0,
      connections_now: t?.connections_now ?? 0,
    },
  };
}

interface StabilityDay {
  day: string;
  connected_ms: number;
  reconnects: number;
  resyncs: number;
  resync_ms: number;
  resync_max_ms: number;
}

/** A day's connection-stability figures from its samples' sums. */
function stabilityOf(r: StabilityDay | undefined) {
  const hours = Number(r?.connected_ms ?? 0) / 3_600_000;
  const reconnects = Number(r?.reconnects ?? 0);
  const resyncs = Number(r?.resyncs ?? 0);
  return {
    connection_hours: Math.round(hours * 1e6) / 1e6,
    reconnects,
    reconnects_per_connection_hour: hours > 0 ? Math.round((reconnects / hours) * 100) / 100 : null,
    resyncs,
    resync_ms_avg: resyncs > 0 ? Math.round(Number(r?.resync_ms ?? 0) / resyncs) : null,
    resync_ms_max: resyncs > 0 ? Number(r?.resync_max_ms ?? 0) : null,
  };
}

/** Drop samples older than `keepDays` (at least 400, so a year-long chart stays whole). */
export async function pruneSamples(svc: Services, keepDays: number): Promise<void> {
  const days = Math.max(400, keepDays);
  await svc.db.execute(
    sql`delete from usage_samples where at < ${new Date(svc.clock() - days * DAY_MS).toISOString()}::timestamptz`,
  );
}
