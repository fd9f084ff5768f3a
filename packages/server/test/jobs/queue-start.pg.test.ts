/**
 * A job queue whose start fails part-way (here: one queue cannot be created, as a lock timeout
 * or a connection lost under load would make it fail) starts nothing, logs why, and starts
 * for real at its next try: jobs enqueued meanwhile run. Before, the failed start left the
 * queue counted as started, and no job of that node ever ran again.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/install.js';
import { type JobKind, JobQueue } from '../../src/platform/jobs/queue.js';
import { testDatabase } from '../harness.js';
import { createRunsTable, recordRun, runsOf, until } from './helpers.js';

let db: Awaited<ReturnType<typeof testDatabase>>;
let queue: JobQueue | undefined;
beforeAll(async () => {
  db = await testDatabase();
  await createRunsTable(db.database);
});
afterAll(async () => {
  await queue?.stop();
  await db?.drop();
});

describe('a job queue whose start fails', () => {
  it('starts nothing, says why, and runs every job once a later try succeeds', async () => {
    const name = 'test.late-queue';
    // pg-boss names a queue's partition after the hash of its name: a table already there makes
    // creating the queue fail, as any error of the database would.
    const partition = `j${createHash('sha224').update(name).digest('hex')}`;
    await db.database.db.execute(sql.raw(`create table ${JOBS_SCHEMA}.${partition} (x int)`));
    const warnings: string[] = [];
    const log = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          warnings.push(JSON.parse(line).msg as string);
        },
      },
    );
    queue = new JobQueue(db.database, {
      log,
      registry: new Registry(),
      work: true,
      pollMs: 100,
      stopTimeoutMs: 500,
      maintenanceSeconds: 60,
    });
    const kind: JobKind<{ n: number }> = {
      name,
      run: async (_data, job) => recordRun(db.database, job.id, 'a', 'ran'),
    };
    await queue.define(kind);
    await queue.start();
    expect(warnings).toContain('job queue could not start; trying again in 5 s');

    // The cause goes away (the lock is released, the connection comes back); the next try works.
    await db.database.db.execute(sql.raw(`drop table ${JOBS_SCHEMA}.${partition}`));
    await until(
      'the queue to exist',
      async () =>
        (await rows(db.database.db, sql.raw(`select 1 from ${JOBS_SCHEMA}.queue where name = '${name}'`))).length,
      (n) => n === 1,
      30_000,
    );
    const id = await db.database.db.transaction((tx) => (queue as JobQueue).enqueue(tx, kind, { n: 1 }));
    const runs = await until(
      'the job to run',
      () => runsOf(db.database, id as string),
      (r) => r.length > 0,
      30_000,
    );
    expect(runs).toEqual([{ job_id: id, node: 'a', note: 'ran' }]);
  }, 60_000);
});
