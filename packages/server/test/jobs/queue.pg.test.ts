/**
 * The job queue on the real database: outbox semantics (a rolled-back transaction leaves no
 * job), retries with backoff into the dead-letter state, the admin list and retry, metrics,
 * and a graceful stop that hands a running job back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobKind } from '../../src/platform/jobs/queue.js';
import { ADMIN, type Harness, startHarness } from '../harness.js';
import { createRunsTable, jobState, recordRun, runsOf, until } from './helpers.js';

let h: Harness;
const admin = { authorization: `Bearer ${ADMIN}` };
/** Attempts of `test.flaky` that fail before it starts succeeding. */
let flakyFailures = 0;

const ok: JobKind<{ n: number }> = {
  name: 'test.ok',
  run: async (_data, job) => recordRun(h.database, job.id, 'a', 'done'),
};
const flaky: JobKind<{ n: number }> = {
  name: 'test.flaky',
  retryLimit: 2,
  retryDelaySeconds: 1,
  run: async (_data, job) => {
    await recordRun(h.database, job.id, 'a', `attempt ${job.retryCount}`);
    if (flakyFailures-- > 0) throw new Error('flaky failure');
  },
};
let releaseBlocked: () => void = () => {};
const blocked: JobKind<object> = {
  name: 'test.blocked',
  retryLimit: 3,
  run: async (_data, job) => {
    await recordRun(h.database, job.id, 'a', 'start');
    await new Promise<void>((r) => {
      releaseBlocked = r;
    });
  },
};

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100, jobStopTimeoutMs: 300 });
  await createRunsTable(h.database);
  for (const k of [ok, flaky, blocked]) await h.server.svc.jobs.define(k);
});
afterAll(async () => {
  releaseBlocked();
  await h.close();
});

describe('job queue', () => {
  it('runs a job enqueued in a committed transaction, and never one from a rolled-back one', async () => {
    const jobs = h.server.svc.jobs;
    let rolledBack: string | null = null;
    await expect(
      h.database.db.transaction(async (tx) => {
        rolledBack = await jobs.enqueue(tx, ok, { n: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/);
    const committed = await h.database.db.transaction((tx) => jobs.enqueue(tx, ok, { n: 2 }));
    expect(committed).toBeTruthy();
    await until(
      'the committed job',
      () => runsOf(h.database, committed as string),
      (r) => r.length === 1,
    );
    await until(
      'completion',
      () => jobState(h.database, committed as string),
      (s) => s === 'completed',
    );
    // The rolled-back job was never stored, so nothing can ever run it.
    expect(await jobState(h.database, rolledBack as unknown as string)).toBeUndefined();
    expect(await runsOf(h.database, rolledBack as unknown as string)).toEqual([]);
  });

  it('refuses to enqueue a kind nobody defined', async () => {
    await expect(h.server.svc.jobs.enqueue(h.database.db, { name: 'test.nobody' }, {})).rejects.toThrow(/not defined/);
  });

  it('retries with backoff, dead-letters after the last retry, and an admin retry runs it again', async () => {
    flakyFailures = 3; // the first run and both retries fail
    const id = (await h.server.svc.jobs.enqueue(h.database.db, flaky, { n: 1 })) as string;
    await until(
      'the dead-letter state',
      () => jobState(h.database, id),
      (s) => s === 'failed',
    );
    expect((await runsOf(h.database, id)).map((r) => r.note)).toEqual(['attempt 0', 'attempt 1', 'attempt 2']);

    const listed = await h.call({ method: 'GET', url: '/v1/admin/jobs/failed?queue=test.flaky', headers: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.jobs).toHaveLength(1);
    expect(listed.body.jobs[0]).toMatchObject({ id, queue: 'test.flaky', data: { n: 1 }, attempts: 3 });
    expect(listed.body.jobs[0].error).toMatchObject({ message: 'flaky failure' });

    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/parley_jobs\{[^}]*queue="test.flaky",state="failed"[^}]*\} 1/);
    expect(metrics.body).toMatch(/parley_jobs_finished_total\{[^}]*queue="test.flaky",outcome="failed"[^}]*\} 3/);
    expect(metrics.body).toMatch(/parley_job_latency_seconds_count\{[^}]*queue="test.ok"[^}]*\} 1/);

    const retried = await h.call({
      method: 'POST',
      url: '/v1/admin/jobs/retry',
      headers: admin,
      payload: { queue: 'test.flaky', ids: [id] },
    });
    expect(retried).toEqual({ status: 200, body: { retried: 1 } });
    await until(
      'the retried job',
      () => jobState(h.database, id),
      (s) => s === 'completed',
    );
    expect(await runsOf(h.database, id)).toHaveLength(4);
    const after = await h.call({ method: 'GET', url: '/v1/admin/jobs/failed', headers: admin });
    expect(after.body.jobs.filter((j: { id: string }) => j.id === id)).toEqual([]);
    // Retrying it again moves nothing: it is not failed any more.
    const again = await h.call({
      method: 'POST',
      url: '/v1/admin/jobs/retry',
      headers: admin,
      payload: { queue: 'test.flaky', ids: [id] },
    });
    expect(again.body).toEqual({ retried: 0 });
  });

  it('guards the admin routes: token, queue name, ids', async () => {
    expect((await h.call({ method: 'GET', url: '/v1/admin/jobs/failed' })).status).toBe(401);
    const user = await h.call({
      method: 'GET',
      url: '/v1/admin/jobs/failed',
      headers: { authorization: 'Bearer not-the-admin-token' },
    });
    expect(user.status).toBe(401);
    const unknown = await h.call({
      method: 'POST',
      url: '/v1/admin/jobs/retry',
      headers: admin,
      payload: { queue: 'no.such', ids: ['0190d9a0-0000-7000-8000-000000000000'] },
    });
    expect(unknown.status).toBe(404);
    for (const payload of [
      { queue: 'test.flaky', ids: ['not-a-uuid'] },
      { queue: 'test.flaky', ids: [] },
      { queue: "x'; drop table pgboss.job; --", ids: ['0190d9a0-0000-7000-8000-000000000000'] },
      { queue: 'test.flaky' },
    ]) {
      const r = await h.call({ method: 'POST', url: '/v1/admin/jobs/retry', headers: admin, payload });
      expect(r.status, JSON.stringify(payload)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
    }
    const badLimit = await h.call({ method: 'GET', url: '/v1/admin/jobs/failed?limit=0', headers: admin });
    expect(badLimit.status).toBe(400);
  });

  it('an idle node asks for due work in one statement a poll: no kind fetches while nothing is due', async () => {
    // Each kind used to fetch on its own every poll: 28 kinds at this file's 100 ms poll were
    // 280 fetches a second with nothing to do. Now one probe a poll; only kinds it finds due fetch.
    const boss = (h.server.svc.jobs as unknown as { boss: { fetch: (...a: unknown[]) => Promise<unknown> } }).boss;
    const fetch = boss.fetch;
    let fetches = 0;
    boss.fetch = (...a) => {
      fetches++;
      return fetch.apply(boss, a);
    };
    try {
      await new Promise((r) => setTimeout(r, 1_000)); // a window of about ten polls, not a wait for an event
      // A recurring sweep may fall due in the window; nothing like one fetch per kind per poll.
      expect(fetches).toBeLessThan(10);
      // A job enqueued without waking anyone (as from another node) is found by the probe.
      const id = await h.database.db.transaction((tx) => h.server.svc.jobs.enqueue(tx, ok, { n: 3 }));
      await until(
        'the probed job',
        () => jobState(h.database, id as string),
        (s) => s === 'completed',
      );
    } finally {
      boss.fetch = fetch;
    }
  });

  it('a graceful stop hands a job that does not finish in time back to the queue', async () => {
    const id = (await h.server.svc.jobs.enqueue(h.database.db, blocked, {})) as string;
    await until(
      'the blocked job to start',
      () => runsOf(h.database, id),
      (r) => r.length === 1,
    );
    expect(await jobState(h.database, id)).toBe('active');
    await h.server.svc.jobs.stop();
    // Not left active until it expires: back in the queue for another node or the next start.
    expect(await jobState(h.database, id)).toBe('retry');
    releaseBlocked();
  });
});
