/**
 * The job queues the database templates hold (platform/jobs/install.ts), so a new database does
 * not build them at its first start: TEMPLATE_QUEUES must hold exactly the kinds a server
 * defines, with their settings, and a server on a fresh copy of its template (PGlite's or
 * PostgreSQL's) creates and updates none.
 */
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { VACUUM_JOB } from '../../src/platform/db/maintenance.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/install.js';
import { TEMPLATE_QUEUES } from '../../src/platform/jobs/template-queues.js';
import { backend, type Harness, startHarness } from '../harness.js';

let h: Harness | undefined;
type QueueRow = {
  name: string;
  policy: string;
  retry_limit: number;
  retry_delay: number;
  retry_backoff: boolean;
  expire_seconds: number;
  created_on: Date;
  updated_on: Date;
};
afterAll(async () => {
  await h?.close();
});

describe('the queues in the templates', () => {
  // Two server starts (each a copy of the template and its boot): more than the default 30 s on a
  // loaded machine.
  it('hold every kind a server defines with its settings, and no other; a server on a new database creates and updates none', {
    timeout: 120_000,
  }, async () => {
    // A first server makes sure the template exists: the first run after the queues changed
    // builds PostgreSQL's template here, and its queues would look made by this start.
    await (await startHarness()).close();
    const before = new Date();
    // With the recurring vacuum on: PGlite defines it (PostgreSQL has autovacuum instead).
    h = await startHarness({ vacuumMinutes: 60 });
    const defined = h.server.svc.jobs.names();
    // A kind missing here makes every new database build its queue at the first start: add it
    // to TEMPLATE_QUEUES (platform/jobs/install.ts). One listed but never defined: remove it.
    // The vacuum is defined only where no autovacuum runs (always on PGlite).
    const notVacuum = (q: string) => q !== VACUUM_JOB;
    expect(defined.filter(notVacuum)).toEqual(
      TEMPLATE_QUEUES.map((q) => q.name)
        .filter(notVacuum)
        .sort(),
    );
    if (backend === 'pglite') expect(defined).toContain(VACUUM_JOB);

    // Every queue was in the template: none was created by this server's start.
    const queues = await rows<QueueRow>(
      h.database.db,
      sql`select name, policy, retry_limit, retry_delay, retry_backoff, expire_seconds, created_on, updated_on
          from ${sql.identifier(JOBS_SCHEMA)}.queue order by name`,
    );
    expect(queues.map((q) => q.name)).toEqual(TEMPLATE_QUEUES.map((q) => q.name).sort());
    expect(queues.filter((q) => new Date(q.created_on) >= before).map((q) => q.name)).toEqual([]);
    // …and each as its kind wants it: the start read them and wrote nothing. A kind whose retry
    // or expiry changed: change its entry in TEMPLATE_QUEUES to match.
    expect(queues.filter((q) => new Date(q.updated_on) >= before).map((q) => q.name)).toEqual([]);
    const wanted = new Map(TEMPLATE_QUEUES.map((q) => [q.name, q]));
    for (const q of queues) {
      const t = wanted.get(q.name);
      expect({
        name: q.name,
        policy: q.policy,
        retryLimit: q.retry_limit,
        retryDelay: q.retry_delay,
        expire: q.expire_seconds,
        backoff: q.retry_backoff,
      }).toEqual({
        name: t?.name,
        policy: t?.policy ?? 'standard',
        retryLimit: t?.retryLimit,
        retryDelay: t?.retryDelay,
        expire: t?.expireInSeconds,
        backoff: true,
      });
    }
  });
});
