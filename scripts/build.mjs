#!/usr/bin/env node
/**
 * Build the workspace packages as they are published: each package's `src/` transpiled file by
 * file into `dist/` (esbuild: same tree, ESM, source maps) with type declarations beside it
 * (tsc), and the assets the code finds next to itself (the server's migrations, the React kit's
 * stylesheet). Then the server's migrated database template (packages/server/.template/), so a
 * first `parley start` copies it instead of running initdb. `npm ci` runs this (root `prepare`).
 *
 *   node scripts/build.mjs [protocol client …]     # default: every package, then the template
 *
 * File by file rather than bundled: paths the code computes from `import.meta.url` (the web
 * app's folder, the migrations) stay the same under dist/ as under src/, and each package keeps
 * importing its dependencies, which are published too. In the repository, tools read the
 * sources through the `@parley/source` export condition; plain Node gets dist/.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** In dependency order: declarations of a package read those of the ones before it. */
const PACKAGES = ['protocol', 'client', 'node', 'react', 'react-native', 'server', 'cli'];

/** Non-TypeScript files each package's code needs next to itself, relative to src/. */
const ASSETS = { react: ['styles.css'], server: ['platform/db/migrations'] };

const isTest = (f) => /\.test\.tsx?$/.test(f);

function sources(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts') && !isTest(f))
    .map((f) => path.join(dir, f));
}

async function buildPackage(name) {
  const dir = path.join(ROOT, 'packages', name);
  const src = path.join(dir, 'src');
  const dist = path.join(dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  await build({
    entryPoints: sources(src),
    outdir: dist,
    outbase: src,
    bundle: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    jsx: 'automatic',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const asset of ASSETS[name] ?? []) cpSync(path.join(src, asset), path.join(dist, asset), { recursive: true });
  if (name === 'protocol') await writeContract(dist);
  // Declarations, with the repository's compiler options (tsconfig.build.json extends the root's),
  // but without the source condition: imports of packages built before resolve to their dist/.
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  );
}

/**
 * The wire contract as documents (protocol's contract.ts): the JSON Schema bundle of every frame
 * and REST body, and the AsyncAPI document of the socket, in dist/contract/.
 */
async function writeContract(dist) {
  const protocol = await import(`${pathToFileURL(path.join(dist, 'index.js')).href}?t=${Date.now()}`);
  mkdirSync(path.join(dist, 'contract'), { recursive: true });
  const write = (file, doc) => writeFileSync(path.join(dist, 'contract', file), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(path.join(dist, 'contract', 'schema.json'), JSON.stringify(protocol.jsonSchemaBundle(protocol)));
  write('asyncapi.json', protocol.asyncApiDocument());
}

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : PACKAGES) {
  if (!PACKAGES.includes(name)) throw new Error(`no package ${name}; packages: ${PACKAGES.join(', ')}`);
  const t = performance.now();
  await buildPackage(name);
  console.log(`built packages/${name}/dist in ${Math.round(performance.now() - t)} ms`);
}

if (!wanted.length) {
  // Through the built server, as a user of the published package would build it.
  const t = performance.now();
  const { prepareDatabaseTemplate } = await import('@parley/server');
  const template = await prepareDatabaseTemplate();
  const where = template ? path.relative(ROOT, template.dir) : 'nowhere (no writable cache folder)';
  console.log(`database template in ${where} (${Math.round(performance.now() - t)} ms)`);
}
