/**
 * Vacuum and analyze where no autovacuum runs (platform/db/maintenance.ts): PGlite always, a
 * PostgreSQL server only when its `autovacuum` is off. A pass vacuums and analyzes every table
 * of Parley's schemas, so the planner learns the real size of a table it had never measured
 * (reltuples -1 until a first ANALYZE), and rows rewritten by sends are freed; the server runs
 * the pass as a recurring job, and `PARLEY_VACUUM_MINUTES=0` turns it off.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { defineVacuum, needsOwnVacuum, VACUUM_JOB, vacuumTables } from '../../src/platform/db/maintenance.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/queue.js';
import { backend, eventually, type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  // The test runs its passes itself: the server's own stays off here (the harness's default).
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const db = () => h.server.svc.db;

async function channelTuples(): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db(),
    sql`select reltuples::int as n from pg_class where oid = 'channels'::regclass`,
  );
  return r?.n ?? Number.NaN;
}

/** A counter of the channels table's statistics (`pg_stat_user_tables`). */
async function channelStat(counter: 'n_tup_upd' | 'n_dead_tup'): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db(),
    sql`select ${sql.identifier(counter)}::int as n from pg_stat_user_tables where relid = 'channels'::regclass`,
  );
  return r?.n ?? Number.NaN;
}

describe('vacuum where no autovacuum runs', () => {
  it('is needed on PGlite always, and on PostgreSQL exactly when autovacuum is off', async () => {
    const [s] = await rows<{ on: string }>(db(), sql`select current_setting('autovacuum') as on`);
    expect(await needsOwnVacuum(h.database)).toBe(backend === 'pglite' ? true : s?.on !== 'on');
  });

  it('vacuums and analyzes every table of both schemas, and the planner then knows their sizes', async () => {
    const tapp = await h.createApp('vac');
    await h.users(tapp, [{ id: 'owner' }]);
    const headers = await tapp.user('owner');
    const made = 25;
    for (let i = 0; i < made; i++) {
      const ch = await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers,
        payload: { type: 'group', id: `room-${i}` },
      });
      expect(ch.status, JSON.stringify(ch.body)).toBe(200);
      // A send rewrites its channel's row (last_seq): dead row versions for the pass to free.
      const sent = await h.call({
        method: 'POST',
        url: `/v1/channels/group:room-${i}/messages`,
        headers,
        payload: { text: `hi ${i}` },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    }
    // The statistics hear of those updates (and the dead versions they left) when a backend
    // flushes its counts, at most once a second: a flush after the pass would count the dead
    // versions again over the pass's zero (CI once read 25). So the pass waits for the flush.
    await eventually(async () => (await channelStat('n_tup_upd')) >= made);
    const { tables, ms } = await vacuumTables(h.database);
    expect(ms).toBeGreaterThan(0);

    // Ordinary tables: a partitioned parent (pg-boss's job table) holds no rows of its own;
    // vacuuming its partitions is what frees space.
    const all = await rows<{ schema: string; name: string; vacuumed: boolean; analyzed: boolean }>(
      db(),
      sql`select s.schemaname as schema, s.relname as name, s.last_vacuum is not null as vacuumed,
                 s.last_analyze is not null as analyzed
          from pg_stat_user_tables s join pg_class c on c.oid = s.relid
          where c.relkind = 'r' and s.schemaname in ('public', ${JOBS_SCHEMA})`,
    );
    expect(tables).toBe(all.length);
    expect(all.some((t) => t.schema === 'public' && t.name === 'messages')).toBe(true);
    expect(all.some((t) => t.schema === JOBS_SCHEMA)).toBe(true);
    expect(all.filter((t) => !t.vacuumed || !t.analyzed)).toEqual([]);

    // The planner's row count now matches the table (before any ANALYZE it is -1: "never
    // measured"); the app's channels plus whatever the harness made before.
    const [count] = await rows<{ n: number }>(db(), sql`select count(*)::int as n from channels`);
    expect(count?.n).toBeGreaterThanOrEqual(made);
    expect(await channelTuples()).toBe(count?.n);
    // And the versions the sends left behind are gone.
    expect(await channelStat('n_dead_tup')).toBe(0);
  });

  it('runs the pass as a recurring job where needed, one period after a start, and never with 0 minutes', async () => {
    const queued = async (hh: Harness) =>
      (
        await rows<{ n: number }>(
          hh.server.svc.db,
          sql`select count(*)::int as n from pgboss.job where name = ${VACUUM_JOB}`,
        )
      )[0]?.n ?? 0;
    const on = await startHarness({ vacuumMinutes: 15 });
    try {
      const needed = await needsOwnVacuum(on.database);
      // Defined where needed, but nothing offered at start: the first pass is a period away.
      const [kinds] = await rows<{ n: number }>(
        on.server.svc.db,
        sql`select count(*)::int as n from pgboss.queue where name = ${VACUUM_JOB}`,
      );
      expect(kinds?.n).toBe(needed ? 1 : 0);
      // Another recurring kind, offered at start, has had its offer made by now.
      await expect
        .poll(
          () => rows(on.server.svc.db, sql`select 1 from pgboss.job where name = 'audit.prune'`).then((r) => r.length),
          { timeout: 30_000 },
        )
        .toBe(1);
      expect(await queued(on)).toBe(0);
      // The harness's own server (vacuumMinutes: 0) defined nothing, and 0 minutes defines nothing.
      expect(await queued(h)).toBe(0);
      expect(await defineVacuum(h.server.svc.jobs, h.database, { everyMinutes: 0, log: h.server.svc.log })).toBe(false);
      if (needed) {
        // Offered at once (as one period after a start), it runs: every table vacuumed again.
        const [t0] = await rows<{ at: string }>(db(), sql`select now()::text as at`);
        await defineVacuum(h.server.svc.jobs, h.database, {
          everyMinutes: 15,
          firstAfterSeconds: 0,
          log: h.server.svc.log,
        });
        await expect.poll(() => queued(h), { timeout: 30_000 }).toBe(1);
        await expect
          .poll(
            async () =>
              (
                await rows<{ n: number }>(
                  db(),
                  sql`select count(*)::int as n from pg_stat_user_tables s join pg_class c on c.oid = s.relid
                      where c.relkind = 'r' and s.schemaname = 'public'
                        and (s.last_vacuum is null or s.last_vacuum < ${t0?.at}::timestamptz)`,
                )
              )[0]?.n,
            { timeout: 60_000 },
          )
          .toBe(0);
      }
    } finally {
      await on.close();
    }
  });
});
