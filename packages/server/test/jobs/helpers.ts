/** Test kinds of job that record every run in a table of the test database. */

import { rows } from '@parley/server/database';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/index.js';
import type { JobKind } from '../../src/platform/jobs/queue.js';

export async function createRunsTable(database: Database): Promise<void> {
  await database.db.execute(
    sql`create table if not exists test_job_runs (job_id uuid not null, node text not null, note text not null, at timestamptz not null default now())`,
  );
}

export async function recordRun(database: Database, jobId: string, node: string, note: string): Promise<void> {
  await database.db.execute(sql`insert into test_job_runs (job_id, node, note) values (${jobId}, ${node}, ${note})`);
}

export async function runsOf(
  database: Database,
  jobId?: string,
): Promise<{ job_id: string; node: string; note: string }[]> {
  return rows(
    database.db,
    jobId
      ? sql`select job_id, node, note from test_job_runs where job_id = ${jobId} order by at`
      : sql`select job_id, node, note from test_job_runs order by at`,
  );
}

export async function jobState(database: Database, id: string): Promise<string | undefined> {
  const r = await rows<{ state: string }>(
    database.db,
    sql`select state::text as state from pgboss.job where id = ${id}`,
  );
  return r[0]?.state;
}

/** Wait (polling the database) until `pred` holds; fails the test after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type { JobKind };
