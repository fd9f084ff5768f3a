/**
 * The Parley image the container tests run (container.test.ts, compose.test.ts), built by
 * deploy/container/build.sh: the first file of a run to ask builds it while the others wait,
 * and all of them use it. PARLEY_CONTAINER_IMAGE=<tag> uses an image already built instead.
 *
 * An image is also tagged with a hash of everything the build reads (IMAGE_INPUTS, the Node
 * binary, the template's key), and a later run with the same inputs uses it instead of building
 * again: the build's 4–5 minutes of a CI run are spent once per change to what goes in it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { keyOf } from '../../../scripts/build-key.mjs';
import { ROOT, until } from './chaos/infra.js';

const run = promisify(execFile);

/** What deploy/container/build.sh puts in the image, besides node_modules (the lockfile's). */
const IMAGE_INPUTS = [
  'deploy/container/Containerfile',
  'deploy/container/build.sh',
  'deploy/container/healthcheck.mjs',
  'package.json',
  'package-lock.json',
  'packages/protocol/dist',
  'packages/server/dist',
  'packages/cli/dist',
  'packages/cli/bin',
  'packages/conformance/dist',
  'packages/conformance/bin',
  'packages/conformance/scenarios',
  'packages/node/dist',
  'apps/web/dist',
];

/** A hash of the image's inputs: the same inputs, the same image. */
function inputsKey(): string {
  const workspaces: string[] = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).workspaces;
  // The template folder is named by its own key (migrations, PGlite, pg-boss, its form).
  const template = path.join(ROOT, 'packages/server/.template');
  const templates = existsSync(template) ? readdirSync(template).sort().join(',') : '';
  return keyOf(
    [...IMAGE_INPUTS, ...workspaces.map((ws) => path.join(ws, 'package.json'))],
    undefined,
    `${templates} node ${process.version} ${statSync(process.execPath).size}`,
  );
}

export async function parleyImage(): Promise<string> {
  if (process.env.PARLEY_CONTAINER_IMAGE) return process.env.PARLEY_CONTAINER_IMAGE;
  // One test run: its files are processes of one Vitest (their parent).
  const key = path.join(tmpdir(), `parley-image-${process.ppid}`);
  const tag = 'localhost/parley:test';
  const done = path.join(key, 'built');
  try {
    mkdirSync(key); // atomic: only one file of the run gets here
  } catch {
    const result = await until(() => (existsSync(done) ? readFileSync(done, 'utf8') : ''), 30 * 60_000, 'the image');
    if (result !== 'ok') throw new Error(`the image build failed in another test file: ${result}`);
    return tag;
  }
  const t0 = Date.now();
  const keyed = `localhost/parley:inputs-${inputsKey()}`;
  try {
    const have = await run('podman', ['image', 'exists', keyed]).then(
      () => true,
      () => false,
    );
    if (have) {
      await run('podman', ['tag', keyed, tag]);
      writeFileSync(done, 'ok');
      console.log(`container tests: the image of these inputs was built before (${keyed})`);
      return tag;
    }
    await run(path.join(ROOT, 'deploy/container/build.sh'), [tag], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
    // Images of other inputs go: one kept is enough for the next run of the same commit.
    const { stdout } = await run('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', 'localhost/parley']);
    for (const old of stdout.split('\n').filter((t) => t.startsWith('localhost/parley:inputs-')))
      await run('podman', ['untag', old, old]).catch(() => {});
    await run('podman', ['tag', tag, keyed]);
  } catch (err) {
    writeFileSync(done, String((err as Error).message).slice(0, 2000) || 'failed');
    throw err;
  }
  writeFileSync(done, 'ok');
  // The previous run's image, now untagged, unless a container still uses it.
  await run('podman', ['image', 'prune', '--force']).catch(() => {});
  console.log(`container tests: image built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return tag;
}
