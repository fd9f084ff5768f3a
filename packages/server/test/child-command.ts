/**
 * How tests start a Node child of the workspace's code: a crash test's server
 * (jobs/crash-child.ts, hooks/scheduled-child.ts), the conformance kit's reference SDK adapter
 * (packages/client/test/conformance-adapter.ts), the kit's bin.
 *
 * When the packages the child runs are built and current (`npm ci` builds them, so in CI they
 * are), it is plain Node on their dist/: a TypeScript script is first bundled with its relative
 * imports into one file under node_modules/.cache/, its package imports left to resolve to the
 * packages' dist/. Otherwise (a source edited since the last build) it runs the sources through
 * tsx with the `@parley/source` condition, as `parley` does (packages/cli/bin/parley.mjs), so
 * what runs is what is written. Plain Node costs less: tsx's hooks load in each of a child's
 * threads, and a crash test's server starts on about 3.5 s less CPU, the adapter on 1.1 s less.
 */
import { mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { builtIsCurrent } from '../../cli/bin/built.mjs';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CACHE = path.join(ROOT, 'node_modules/.cache/parley-test-children');
const SOURCES = ['--conditions=@parley/source', '--import', 'tsx'];

/**
 * The bundles this process made, by script, with the files each was made of: made again when one
 * of them changed since (`vitest --watch` keeps its workers between runs).
 */
const bundles = new Map<string, { out: string; inputs: string[]; at: number }>();

const changedSince = (files: readonly string[], at: number) =>
  files.some((f) => (statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? Number.POSITIVE_INFINITY) > at);

function bundle(script: string): string {
  const had = bundles.get(script);
  if (had && !changedSince(had.inputs, had.at)) return had.out;
  const at = Date.now();
  const out = path.join(
    CACHE,
    `${path
      .relative(ROOT, script)
      .replace(/[/\\]/g, '_')
      .replace(/\.tsx?$/, '')}.mjs`,
  );
  mkdirSync(CACHE, { recursive: true });
  // Written aside and renamed: workers bundling the same script at once never see half a file.
  const part = `${out}.${process.pid}`;
  const { metafile } = buildSync({
    entryPoints: [script],
    metafile: true,
    absWorkingDir: ROOT,
    outfile: part,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  renameSync(part, out);
  bundles.set(script, { out, inputs: Object.keys(metafile.inputs).map((f) => path.resolve(ROOT, f)), at });
  return out;
}

/**
 * Node's arguments to run `script` (a `.ts` or `.mjs` file of the repository), given the
 * workspace packages it runs (their folder names under packages/).
 */
export function nodeArgs(script: string, packages: readonly string[]): string[] {
  if (!builtIsCurrent(packages.map((p) => path.join(ROOT, 'packages', p)))) return [...SOURCES, script];
  return [/\.tsx?$/.test(script) ? bundle(script) : script];
}

/** The same as one shell command line (what the conformance kit's `--adapter` takes). */
export function nodeCommand(script: string, packages: readonly string[]): string {
  return [process.execPath, ...nodeArgs(script, packages)].map((a) => `"${a}"`).join(' ');
}

/** The conformance kit's reference SDK adapter, which drives @parley/client, as a command line. */
export function referenceAdapter(): string {
  return nodeCommand(path.join(ROOT, 'packages/client/test/conformance-adapter.ts'), ['client', 'protocol']);
}
