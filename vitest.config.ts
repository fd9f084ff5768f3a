import { globSync } from 'tinyglobby';
import { defaultServerConditions } from 'vite';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import SlowestFiles from './scripts/slowest-files.js';
import { BOTH_BACKENDS, splitBackend } from './scripts/test-split.mjs';

/**
 * Three tiers, each a project per database backend, so a tier can run alone and `npm test`
 * still runs every file once per backend as before:
 *
 * - `unit`: pure and fast — no database, no spawned process, no browser (`npm run test:unit`,
 *   under a minute). Runs once; it has nothing to run on PostgreSQL.
 * - `server:pglite` / `server:postgres`: the server, SDK and React kit through a real server on
 *   a real database (`npm run test:server`).
 * - `slow:pglite` / `slow:postgres`: spawned `parley` and `node` processes (the CLI, chaos, the
 *   packages' dist/), Chromium (the web app), and what takes as long: the fuzz suite, the SDK's
 *   chaos run, the template's test (`npm run test:slow`).
 *
 * The `*:pglite` projects run on embedded PGlite; the `*:postgres` ones run the `*.pg.test.ts`
 * files of their tier again on the PostgreSQL named by DATABASE_URL. Without DATABASE_URL those
 * are left out, unless PARLEY_REQUIRE_PG=1 says a missing PostgreSQL is a failure (CI sets it).
 * A test file belongs to exactly one tier: `scripts/check-test-tiers.mjs` (in `npm run check`)
 * fails on a file that is in none or in two, so a new file cannot fall out of CI.
 */
const pgUrl = process.env.DATABASE_URL;
if (process.env.PARLEY_REQUIRE_PG === '1' && !pgUrl) {
  throw new Error('PARLEY_REQUIRE_PG=1 but DATABASE_URL is not set');
}

/**
 * `isolate: false`: the files a worker runs share its module cache, so the server's module graph
 * (fastify, drizzle, pg, PGlite…) is loaded once per worker rather than once per file, which
 * took 2–5 s per file, more than most files' tests (measured: messaging and channels, 17 files,
 * 170 s isolated against 60 s shared). Files share no state but modules: each builds its own
 * server on its own database and closes it, and none stubs globals or modules.
 */
const common = {
  // PARLEY_TEST_CPU_PROF=<folder>: a V8 CPU profile of each file (packages/react/test/setup.ts).
  // A test or hook that starts a server of its own (a harness, a web app) takes several times
  // longer on a loaded CI machine than alone: 34.6 s for one that takes 10 s alone, at load 14,
  // with three workers on two cores beside Chromium and image builds. A hang still fails, a
  // minute later.
  testTimeout: 60_000,
  hookTimeout: 120_000,
  teardownTimeout: 20_000,
  isolate: false,
  // Testing Library's cleanup after each test of every DOM file, not only a worker's first.
  setupFiles: ['packages/react/test/setup.ts'],
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

/** Test files of packages' and apps' test/ folders that are pure: they join `unit`. */
const unitInTestFolders = [
  'packages/server/test/messaging/hub.test.ts',
  'packages/react/test/markdown-no-dom.test.ts',
  'packages/react/test/markdown.test.tsx',
  'packages/react/test/rows.test.ts',
  'packages/react/test/format.test.ts',
  'apps/web/src/lib/message-alerts.test.ts',
  // The SDK's state against a reference server in memory (fast-check): no server, no socket.
  'packages/client/test/convergence.test.ts',
  // Reads and validates deploy/kubernetes/: no server.
  'packages/server/test/deploy/kubernetes.test.ts',
  // Reads and validates deploy/container/compose.yaml and its neighbours: no server.
  'packages/server/test/deploy/compose.test.ts',
];
/** What is slow, by what it starts or by its measured time (see README.md, Development). */
const slowFiles = [
  'packages/cli/test/**/*.test.ts',
  // Spawns `parley start` and the kit's own bin against it.
  'packages/conformance/test/**/*.test.ts',
  // Spawns Jest on @parley/react-native (its own server, React Native's preset) and builds the
  // kit for react-native-web.
  'packages/react-native/test/**/*.test.ts',
  'packages/create-parley-app/test/**/*.test.ts',
  // Builds the kit's catalogue and opens every story in Chromium.
  'packages/react/test/kit.test.ts',
  'apps/*/test/**/*.test.ts',
  'packages/server/test/fuzz/**/*.test.ts',
  'packages/client/test/packages.test.ts',
  'packages/client/test/quickstart.test.ts',
  'packages/client/test/chaos.pg.test.ts',
  // Starts the reference SDK adapter (a child process) for each SDK scenario, broken ones too.
  'packages/client/test/conformance.pg.test.ts',
  // Migrates PGlite from nothing to compare with the template: 7-28 s measured, the most of any
  // file that would be in `server` (whose median is ~2 s).
  'packages/server/test/foundation/template.test.ts',
  // Debian's nginx (deploy/), and what is tested through it.
  'packages/server/test/deploy/nginx.test.ts',
  // Migrates PGlite from nothing to 0037 first, as template.test.ts does.
  'packages/server/test/foundation/migration-0038.pg.test.ts',
  // Kills and restarts real server processes mid-job.
  'packages/server/test/jobs/crash.pg.test.ts',
  // Kills a server process mid-send of a scheduled message and starts others.
  'packages/server/test/hooks/scheduled-crash.pg.test.ts',
  // Kills a server process mid-stream of webhook deliveries and starts others.
  'packages/server/test/hooks/webhooks-crash.pg.test.ts',
  // Kills a server process at random instants of a send and sign-up storm, several times.
  'packages/server/test/notifications/crash-loses-nothing.pg.test.ts',
];

const tiers = {
  unit: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/src/**/*.test.tsx',
      'scripts/*.test.mjs',
      'bench/**/*.test.ts',
      ...unitInTestFolders,
    ],
    exclude: ['**/*.pg.test.ts'],
  },
  server: {
    include: ['packages/*/src/**/*.pg.test.ts', 'packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.tsx'],
    exclude: [...unitInTestFolders, ...slowFiles],
  },
  slow: { include: slowFiles, exclude: [] },
};

// DATABASE_URL is blanked so servers built in-process use PGlite; tests that start real
// `parley` processes on PostgreSQL (packages/cli/test/chaos) get the URL under its own name.
const pgliteEnv = { PARLEY_TEST_DB: 'pglite', DATABASE_URL: '', PARLEY_CHAOS_PG_URL: pgUrl ?? '' };
const postgresEnv = { PARLEY_TEST_DB: 'postgres', PARLEY_TEST_PG_URL: pgUrl ?? '' };

function project(name: string, include: string[], exclude: string[], env: Record<string, string>) {
  return { ...sources, test: { ...common, name, include, exclude: [...configDefaults.exclude, ...exclude], env } };
}

/**
 * PARLEY_TEST_SPLIT=<salt> (CI sets the commit's hash): each `*.pg.test.ts` file of the server
 * tier, and of the fuzz suite, runs on one backend instead of both, chosen by a hash of the salt
 * and its path: a commit's CI runs about half of them on PGlite and the rest on PostgreSQL, and
 * the next commit's another half. Run on both, the suite outgrew CI's 90 minutes on a slow day
 * (the server tier alone took 13 min on PGlite and 11 on PostgreSQL, 2026-11-29).
 *
 * The files about the database itself, and those with a test or a check for one backend only,
 * run on both every time (BOTH_BACKENDS, scripts/test-split.mjs), as do the rest of the slow
 * tier's `*.pg.test.ts` (crash, backup, chaos: each backend's own path through a real process).
 * Without the variable `npm test` runs every such file on both.
 */
const split = process.env.PARLEY_TEST_SPLIT;

/** Under PARLEY_TEST_SPLIT, the split files of each backend: each runs on its backend only. */
function splitFiles(): { pglite: string[]; postgres: string[] } {
  const out = { pglite: [] as string[], postgres: [] as string[] };
  if (!split || !pgUrl) return out;
  const files = [
    ...globSync(pgOnly(tiers.server.include), { ignore: [...tiers.server.exclude, '**/node_modules/**'] }),
    ...globSync(['packages/server/test/fuzz/*.pg.test.ts']),
  ];
  for (const file of files.sort()) {
    if (BOTH_BACKENDS.includes(file)) continue;
    out[splitBackend(split, file)].push(file);
  }
  return out;
}

/** The `*.pg.test.ts` files of a tier's globs: what runs again on PostgreSQL. */
function pgOnly(globs: string[]): string[] {
  return globs.flatMap((g) =>
    g.endsWith('.pg.test.ts') ? [g] : g.endsWith('/*.test.ts') ? [g.replace(/\*\.test\.ts$/, '*.pg.test.ts')] : [],
  );
}

const splits = splitFiles();

/**
 * The slow tier first, then the server tier, then `unit`; Vitest's own order within each (its
 * cache's failed and longest files first, else the largest). Vitest's default orders projects by
 * name, which started the slowest files (the browser's, up to 80 s each) two thirds into a run
 * and could leave one of them running alone at its end; started first, the end of a run is the
 * server tier's 1–3 s files, shared by every worker.
 */
class SlowTierFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => ['slow:', 'server:', 'unit'].findIndex((t) => f.project.name.startsWith(t));
    const within = await super.sort(files);
    const at = new Map(within.map((f, i) => [f, i]));
    return within.sort((a, b) => rank(a) - rank(b) || (at.get(a) as number) - (at.get(b) as number));
  }
}

export default defineConfig({
  test: {
    ...common,
    pool: 'forks',
    // Three files at a time, whatever the core count (Vitest's default is one fewer than the
    // cores: one here). Much of a file's time is waiting — for PostgreSQL, a spawned node,
    // Chromium, a timer — so on two cores a second worker nearly halves `npm test`, and a third
    // fills what the two leave idle: a fresh-clone CI took 14 min 19 s and 15 min 05 s with two
    // (the CPU ~60 % busy), 13 min 33 s with three (2026-11-26; on a machine already busy, 17
    // min against 18). `PARLEY_TEST_WORKERS=N` tries another count.
    maxWorkers: Number(process.env.PARLEY_TEST_WORKERS) || 3,
    sequence: { sequencer: SlowTierFirst },
    // In CI the run ends with its slowest files (scripts/slowest-files.ts): where the minutes go.
    ...(process.env.CI ? { reporters: ['default', new SlowestFiles()] } : {}),
    projects: [
      project('unit', tiers.unit.include, tiers.unit.exclude, pgliteEnv),
      project('server:pglite', tiers.server.include, [...tiers.server.exclude, ...splits.postgres], pgliteEnv),
      project('slow:pglite', tiers.slow.include, [...tiers.slow.exclude, ...splits.postgres], pgliteEnv),
      ...(pgUrl
        ? [
            project(
              'server:postgres',
              pgOnly(tiers.server.include),
              [...tiers.server.exclude, ...splits.pglite],
              postgresEnv,
            ),
            project(
              'slow:postgres',
              pgOnly(tiers.slow.include),
              [...tiers.slow.exclude, ...splits.pglite],
              postgresEnv,
            ),
          ]
        : []),
    ],
  },
});
