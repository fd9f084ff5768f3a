/**
 * Keys of the web app's and the docs site's builds: a hash of every input's path and content,
 * so the same sources give the same key. `npm ci` (the root `prepare`) builds both and stamps
 * each build with its key (`node scripts/build-key.mjs stamp`, a `.build-key` file in it); the
 * Chromium tests serve a stamped build whose key is still the sources' key, and build their own
 * (kept under node_modules/.cache) otherwise: after an edit, or after a bare rebuild, which
 * leaves no stamp.
 *
 *   node scripts/build-key.mjs stamp    # stamp apps/web/dist and docs/.vitepress/dist
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the web app's build reads: its own files, the workspace packages it bundles, and the lockfile. */
const WEB_INPUTS = [
  'apps/web/src',
  'apps/web/public',
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/package.json',
  'packages/react/src',
  'packages/react/package.json',
  'packages/client/src',
  'packages/client/package.json',
  'packages/protocol/src',
  'packages/protocol/package.json',
  'package-lock.json',
];

/** The folders the builds go to, as `npm run build -w @parley/web` and `npm run docs:build` make them. */
export const WEB_DIST = path.join(REPO_ROOT, 'apps/web/dist');
export const DOCS_DIST = path.join(REPO_ROOT, 'docs/.vitepress/dist');

/**
 * A hash of the files and folders `inputs` (paths in the repository: each file's path and
 * content, folders walked in order), less those `skip` names, and of `extra`.
 * @param {string[]} inputs @param {(rel: string) => boolean} [skip] @param {string} [extra]
 */
export function keyOf(inputs, skip = () => false, extra = '') {
  const h = createHash('sha256');
  /** @param {string} rel */
  const add = (rel) => {
    const abs = path.join(REPO_ROOT, rel);
    if (!existsSync(abs) || skip(rel)) return;
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) add(path.join(rel, name));
      return;
    }
    h.update(`${rel}\0`);
    h.update(readFileSync(abs));
  };
  for (const rel of inputs) add(rel);
  h.update(extra);
  return h.digest('hex').slice(0, 16);
}

/** The web app's build key. */
export function webBuildKey() {
  return keyOf(WEB_INPUTS);
}

/** The docs site's build key: every file of docs/ but its build and VitePress's cache, and the lockfile. */
export function docsBuildKey() {
  return keyOf(
    ['docs', 'package-lock.json'],
    (rel) => rel === path.join('docs', '.vitepress', 'dist') || rel === path.join('docs', '.vitepress', 'cache'),
  );
}

/** `dir` when it holds a build stamped with `key`, else null. */
export function stampedBuild(dir, key) {
  try {
    return readFileSync(path.join(dir, '.build-key'), 'utf8').trim() === key ? dir : null;
  } catch {
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'stamp') {
  for (const [dir, key] of [
    [WEB_DIST, webBuildKey()],
    [DOCS_DIST, docsBuildKey()],
  ]) {
    if (existsSync(path.join(dir, 'index.html'))) writeFileSync(path.join(dir, '.build-key'), `${key}\n`);
  }
}
