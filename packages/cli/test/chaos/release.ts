/**
 * The previous release, built from its commit, for the upgrade test: its sources exported with
 * `git archive` (the repository itself is left alone: no worktree to register or prune), then
 * `npm ci` and its own build of what a node and a client run. Cached in the OS temp folder by
 * commit, so only the first run on a machine pays for it; a build is made under a temporary
 * name and renamed when complete, so a run killed halfway never leaves a half-built release.
 *
 * The commit comes from packages/server/src/platform/db/releases.ts: the tag `v<version>` when
 * this clone has it (and then it must agree), the recorded commit otherwise — tags need not
 * travel with a clone, the commit is an ancestor of main and does.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RELEASES, type Release } from '../../../server/src/platform/db/releases.js';
import { ROOT } from './infra.js';

const run = promisify(execFile);

/** A release built and ready to run. */
export interface BuiltRelease extends Release {
  dir: string;
  /** Its `parley` command. */
  bin: string;
  /** Its SDK's entry point (packages/client/dist/index.js). */
  client: string;
  /** How long building it took now, or null when it came from the cache. */
  buildMs: number | null;
}

async function git(args: string[]): Promise<string> {
  return (await run('git', args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
}

/** The commit of `release`: its tag's if this clone has the tag, else the recorded one (fetched if missing). */
export async function releaseCommit(release: Release): Promise<string> {
  const tagged = await git(['rev-parse', '--verify', '--quiet', `refs/tags/v${release.version}^{commit}`]).catch(
    () => '',
  );
  if (tagged && tagged !== release.commit)
    throw new Error(`tag v${release.version} is ${tagged}, but releases.ts records ${release.commit}`);
  const commit = tagged || release.commit;
  const present = await git(['cat-file', '-e', `${commit}^{commit}`]).then(
    () => true,
    () => false,
  );
  // A shallow clone may lack it: ask the remote for that one commit.
  if (!present) await git(['fetch', '--no-tags', '--depth=1', 'origin', commit]);
  return commit;
}

/** The environment of a build: the test runner's npm settings left out. */
function buildEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const k of Object.keys(env))
    if (k.startsWith('npm_') || k.startsWith('PARLEY_') || k === 'DATABASE_URL') delete env[k];
  return env;
}

/** The last release in releases.ts, built (or found in the cache). */
export async function previousRelease(release: Release = RELEASES.at(-1) as Release): Promise<BuiltRelease> {
  const commit = await releaseCommit(release);
  const dir = path.join(tmpdir(), `parley-release-${release.version}-${commit.slice(0, 12)}`);
  const built = {
    ...release,
    commit,
    dir,
    bin: path.join(dir, 'packages/cli/bin/parley.mjs'),
    client: path.join(dir, 'packages/client/dist/index.js'),
  };
  if (existsSync(path.join(dir, '.built'))) return { ...built, buildMs: null };

  const started = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), `parley-release-${release.version}-build-`));
  try {
    await run('sh', ['-c', `git -C "${ROOT}" archive --format=tar ${commit} | tar -x -C "${work}"`], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const opts = { cwd: work, env: buildEnv(), maxBuffer: 64 * 1024 * 1024 };
    // Its lockfile, without its `prepare` (which also builds the web app, the React kits and the
    // PGlite template: none of them run in this test); then its own build of what does.
    await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], opts);
    await run(process.execPath, ['scripts/build.mjs', 'protocol', 'client', 'server', 'cli'], opts);
    writeFileSync(path.join(work, '.built'), `${commit}\n`);
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another run finished the same build first: use that one.
      if (!existsSync(path.join(dir, '.built'))) throw e;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    const err = e as { message: string; stderr?: string; stdout?: string };
    throw new Error(
      `building release ${release.version} (${commit}) failed: ${err.message}\n${(err.stderr ?? '').slice(-3_000)}`,
    );
  }
  return { ...built, buildMs: Date.now() - started };
}
