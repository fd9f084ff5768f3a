/**
 * A job queue whose start fails part-way (here: one queue cannot be created, as a lock timeout
 * or a connection lost under load would make it fail) starts nothing, logs why, and starts
 * for real at its next try: jobs enqueued meanwhile run. Before, the failed start left the
 * queue counted as started, and no job of that node ever ran again. And nodes starting at once
 * on a new database create their queues one at a time (they deadlocked).
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
const others: JobQueue[] = [];
beforeAll(async () => {
  db = await testDatabase();
  await createRunsTable(db.database);
});
afterAll(async () => {
  await queue?.stop();
  for (const q of others) await q.stop();
  await db?.drop();
});

/** A warnings-only logger that keeps each message in `into`. */
function logInto(into: string[]) {
  return pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        into.push(JSON.parse(line).msg as string);
      },
    },
  );
}

const newQueue = (log: ReturnType<typeof logInto>) =>
  new JobQueue(db.database, {
    log,
    registry: new Registry(),
    work: true,
    pollMs: 100,
    stopTimeoutMs: 500,
    maintenanceSeconds: 60,
  });

describe('job queues starting', () => {
  it('on three nodes at once, with twelve queues none of them has yet, all start at the first try', async () => {
    const warnings: string[] = [];
    const nodes = [0, 1, 2].map(() => newQueue(logInto(warnings)));
    others.push(...nodes);
    for (const q of nodes)
      for (let i = 0; i < 12; i++) await q.define({ name: `test.together-${i}`, run: async () => {} });
    await Promise.all(nodes.map((q) => q.start()));
    expect(warnings).toEqual([]);
    const made = await rows<{ n: number }>(
      db.database.db,
      sql.raw(`select count(*)::int as n from ${JOBS_SCHEMA}.queue where name like 'test.together-%'`),
    );
    expect(made[0]?.n).toBe(12);
  });

  it('creates a missing queue, updates one whose settings changed, and writes nothing for one as defined', async () => {
    const warnings: string[] = [];
    const first = newQueue(logInto(warnings));
    others.push(first);
    const kinds = ['test.kept', 'test.changed'].map((name) => ({ name, retryLimit: 7, run: async () => {} }));
    for (const k of kinds) await first.define(k);
    await first.start();
    await first.stop();
    const read = () =>
      rows<{ name: string; retry_limit: number; updated_on: Date }>(
        db.database.db,
        sql.raw(
          `select name, retry_limit, updated_on from ${JOBS_SCHEMA}.queue where name in ('test.kept', 'test.changed', 'test.added') order by name`,
        ),
      );
    const [changedBefore, keptBefore] = await read();
    // A later release retries test.changed more and defines test.added.
    const second = newQueue(logInto(warnings));
    others.push(second);
    await second.define({ name: 'test.kept', retryLimit: 7, run: async () => {} });
    await second.define({ name: 'test.changed', retryLimit: 9, run: async () => {} });
    await second.define({ name: 'test.added', retryLimit: 3, run: async () => {} });
    await second.start();
    const after = await read();
    expect(after.map((q) => [q.name, q.retry_limit])).toEqual([
      ['test.added', 3],
      ['test.changed', 9],
      ['test.kept', 7],
    ]);
    expect(after[1]?.updated_on).not.toEqual(changedBefore?.updated_on);
    expect(after[2]?.updated_on).toEqual(keptBefore?.updated_on);
    expect(warnings).toEqual([]);
  });

  it('when one fails part-way, starts nothing, says why, and runs every job once a later try succeeds', async () => {
    const name = 'test.late-queue';
    // pg-boss names a queue's partition after the hash of its name: a table already there makes
    // creating the queue fail, as any error of the database would.
    const partition = `j${createHash('sha224').update(name).digest('hex')}`;
    await db.database.db.execute(sql.raw(`create table ${JOBS_SCHEMA}.${partition} (x int)`));
    const warnings: string[] = [];
    queue = newQueue(logInto(warnings));
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
