/**
 * The Parley image the container tests run (container.test.ts, compose.test.ts), built once per
 * test run by deploy/container/build.sh: the first file to ask builds it while the others wait,
 * and all of them use it. PARLEY_CONTAINER_IMAGE=<tag> uses an image already built instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, until } from './chaos/infra.js';

const run = promisify(execFile);

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
  try {
    await run(path.join(ROOT, 'deploy/container/build.sh'), [tag], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
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
