// The backend a split test file runs on under PARLEY_TEST_SPLIT (vitest.config.ts).
import { createHash } from 'node:crypto';

/**
 * A hash of the salt (CI: the commit) and the file's path from the repository root, so each
 * commit runs another half of the split files on each backend.
 * @param {string} salt @param {string} file a path like `packages/server/test/x.pg.test.ts`
 * @returns {'pglite' | 'postgres'}
 */
export function splitBackend(salt, file) {
  return (createHash('sha256').update(`${salt}\0${file}`).digest()[0] ?? 0) & 1 ? 'postgres' : 'pglite';
}

/**
 * Split files that run on both backends all the same: those about the database itself, and
 * those with a test or a check for one backend only (a skip, or an assertion made on one), which
 * on the other backend would leave it out of a commit's CI (the background thread, jobs on two
 * nodes: PostgreSQL's alone). `npm run check` (check-test-tiers.mjs) fails on a split file of
 * the second kind that is not here.
 */
export const BOTH_BACKENDS = [
  'packages/server/test/foundation/migrations.pg.test.ts',
  'packages/server/test/foundation/newer-database.pg.test.ts',
  'packages/server/test/foundation/vacuum.pg.test.ts',
  'packages/server/test/foundation/hot-plans.pg.test.ts',
  'packages/server/test/foundation/tenancy.pg.test.ts',
  'packages/server/test/foundation/idempotency.pg.test.ts',
  'packages/server/test/admin/backup.pg.test.ts',
  'packages/server/test/jobs/template-queues.pg.test.ts',
  'packages/server/test/messaging/concurrency.pg.test.ts',
  'packages/server/test/messaging/query-cost.pg.test.ts',
  'packages/server/test/smoke.pg.test.ts',
  // A test or a check on one backend only.
  'packages/server/test/jobs/background-thread.pg.test.ts',
  'packages/server/test/jobs/nodes.pg.test.ts',
  'packages/server/test/imports/claims.pg.test.ts',
  'packages/server/test/users/names.pg.test.ts',
  'packages/server/test/admin/system.pg.test.ts',
  'packages/server/src/features/messages/send-priority.pg.test.ts',
];

/**
 * Whether a test file's text skips a test on one backend or checks something on one only:
 * `skipIf(…backend…)`, `skipIf(!process.env.DATABASE_URL)`, `if (backend === 'postgres')`, and
 * the same of a database's `kind`. An expectation with a value for each backend (`kind ===
 * 'pglite' ? 1 : 2`) checks both and is not this.
 * @param {string} text
 */
export function checksOneBackend(text) {
  return (
    /\bskipIf\([^)]*(\bbackend\b|DATABASE_URL|\.kind\b)/.test(text) ||
    /\bif \([^)]*(\bbackend|\.kind) [!=]== '(postgres|pglite)'\)/.test(text)
  );
}
