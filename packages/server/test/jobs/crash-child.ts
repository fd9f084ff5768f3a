/**
 * A real server process for the crash test (crash.pg.test.ts): `startServer` from the
 * environment plus one test kind of job, `test.crash`, that records its start, then either
 * hangs (CRASH_MODE=hang, to be killed mid-job) or finishes (CRASH_MODE=finish). With
 * CRASH_ENQUEUE=1 it enqueues one job at start. It prints one JSON line per step.
 */

import { configFromEnv, startServer } from '@parley/server';
import { createRunsTable, recordRun } from './helpers.js';

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const mode = process.env.CRASH_MODE ?? 'finish';

const s = await startServer(configFromEnv(process.env, { port: 0, logLevel: 'warn' }), { handleSignals: true });
await createRunsTable(s.svc.database);
const kind = {
  name: 'test.crash',
  retryLimit: 3,
  retryDelaySeconds: 1,
  // A run of a node that died is taken for dead after this long (PostgreSQL; on PGlite a
  // restart releases it at once).
  expireInSeconds: 3,
  concurrency: 1,
  run: async (_d: object, job: { id: string }) => {
    await recordRun(s.svc.database, job.id, String(process.pid), 'start');
    say({ started: job.id });
    if (mode === 'hang') await new Promise(() => {});
    await recordRun(s.svc.database, job.id, String(process.pid), 'done');
    say({ done: job.id });
  },
};
await s.svc.jobs.define(kind);
if (process.env.CRASH_ENQUEUE === '1') {
  const id = await s.svc.db.transaction((tx) => s.svc.jobs.enqueue(tx, kind, { step: 1 }));
  say({ enqueued: id });
}
say({ ready: s.url });
