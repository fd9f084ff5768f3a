import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Two projects: `pglite` runs every test on embedded PGlite; `postgres` runs the database
 * tests (`*.pg.test.ts`) again on the PostgreSQL named by DATABASE_URL. Without DATABASE_URL
 * the second project is left out, unless PARLEY_REQUIRE_PG=1 says a missing PostgreSQL is a
 * failure (CI sets it).
 */
const pgUrl = process.env.DATABASE_URL;
if (process.env.PARLEY_REQUIRE_PG === '1' && !pgUrl) {
  throw new Error('PARLEY_REQUIRE_PG=1 but DATABASE_URL is not set');
}

const common = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  teardownTimeout: 20_000,
};

/**
 * Tests import the workspace packages' TypeScript sources, through the `@parley/source` export
 * condition, never their built dist/ (which may be older than the sources). The rest are
 * Vitest's own defaults (Vite's server conditions without `module`) for every environment, DOM
 * ones included: `browser` would swap `ws` for its browser stub. Child processes started by
 * tests pick theirs themselves (packages/cli/bin/parley.mjs).
 */
const conditions = ['@parley/source', ...defaultServerConditions.filter((c) => c !== 'module')];
const sources = { resolve: { conditions }, ssr: { resolve: { conditions } } };

export default defineConfig({
  test: {
    ...common,
    pool: 'forks',
    projects: [
      {
        ...sources,
        test: {
          ...common,
          name: 'pglite',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/src/**/*.test.tsx',
            'packages/*/test/**/*.test.ts',
            'packages/*/test/**/*.test.tsx',
            'apps/*/test/**/*.test.ts',
          ],
          // DATABASE_URL is blanked so servers built in-process use PGlite; tests that start real
          // `parley` processes on PostgreSQL (packages/cli/test/chaos) get the URL under its own name.
          env: { PARLEY_TEST_DB: 'pglite', DATABASE_URL: '', PARLEY_CHAOS_PG_URL: pgUrl ?? '' },
        },
      },
      ...(pgUrl
        ? [
            {
              ...sources,
              test: {
                ...common,
                name: 'postgres',
                include: ['packages/*/src/**/*.pg.test.ts', 'packages/*/test/**/*.pg.test.ts'],
                env: { PARLEY_TEST_DB: 'postgres', PARLEY_TEST_PG_URL: pgUrl },
              },
            },
          ]
        : []),
    ],
  },
});
