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
