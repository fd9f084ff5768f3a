/**
 * Two nodes on one PostgreSQL database run each job once: pg-boss's fetch takes rows with
 * `FOR UPDATE SKIP LOCKED`. (PGlite belongs to one process, so this is PostgreSQL only.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/platform/db/index.js';
import type { JobKind } from '../../src/platform/jobs/queue.js';
import { backend, type Harness, startHarness } from '../harness.js';
import { createRunsTable, recordRun, runsOf, until } from './helpers.js';

describe.skipIf(backend !== 'postgres')('jobs on two nodes', () => {
  let a: Harness;
  let b: Harness;
  let second: Database;
  const kind = (node: string, database: () => Database): JobKind<{ i: number }> => ({
    name: 'test.shared',
    concurrency: 4,
    run: async (_d, job) => {
      await recordRun(database(), job.id, node, 'run');
      // Long enough for the other node's fetches to meet this job's row while it is active.
      await new Promise((r) => setTimeout(r, 20));
    },
  });

  beforeAll(async () => {
    a = await startHarness({ jobPollMs: 50, nodeId: 'a' });
    const pool = (a.database.driver as { pool: { options: { connectionString: string } } }).pool;
    second = await openDatabase({ url: pool.options.connectionString, poolSize: 4 });
    b = await startHarness({ jobPollMs: 50, nodeId: 'b' }, { database: second });
    await createRunsTable(a.database);
    await a.server.svc.jobs.define(kind('a', () => a.database));
    await b.server.svc.jobs.define(kind('b', () => second));
  });
  afterAll(async () => {
    await b?.close();
    await second?.close();
    await a?.close();
  });

  it('runs each of 200 jobs exactly once between them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const q = i % 2 ? second.db : a.database.db;
      const node = i % 2 ? b : a;
      ids.push(
        (await node.server.svc.jobs.enqueue(
          q,
          kind('x', () => a.database),
          { i },
        )) as string,
      );
    }
    const runs = await until(
      'every job to run',
      () => runsOf(a.database),
      (r) => r.length >= 200,
      60_000,
    );
    // A little longer, so a second run of any job would show.
    await new Promise((r) => setTimeout(r, 500));
    const all = await runsOf(a.database);
    expect(all).toHaveLength(200);
    expect(new Set(all.map((r) => r.job_id))).toEqual(new Set(ids));
    // Both nodes took part (each polls every 50 ms while 200 jobs wait).
    expect(new Set(runs.map((r) => r.node))).toEqual(new Set(['a', 'b']));
  });
});
