#!/usr/bin/env node
// Build the SDK for use outside this repo: one ESM bundle (protocol and its schema library
// inlined, so it has no unpublished dependencies), type declarations, and a package.json —
// all in packages/client/dist, ready for `npm pack packages/client/dist`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [path.join(root, 'src/index.ts')],
  outfile: path.join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  legalComments: 'inline',
});

// Declarations: the SDK's and, beside them, the protocol's (which the bundle inlines), with
// imports of @parley/protocol pointed at the copy so the types resolve in any project.
const tsc = (src, out) =>
  execFileSync(
    process.execPath,
    [
      path.join(root, '../../node_modules/typescript/bin/tsc'),
      '--ignoreConfig',
      '--declaration',
      '--emitDeclarationOnly',
      '--skipLibCheck',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'preserve',
      '--moduleResolution',
      'bundler',
      '--lib',
      'es2023,dom',
      '--types',
      'node',
      '--outDir',
      out,
      src,
    ],
    { stdio: 'inherit' },
  );
try {
  tsc(path.join(root, 'src/index.ts'), path.join(dist, 'types'));
  tsc(path.join(root, '../protocol/src/index.ts'), path.join(dist, 'types/protocol'));
  for (const f of readdirSync(path.join(dist, 'types'))) {
    if (!f.endsWith('.d.ts')) continue;
    const file = path.join(dist, 'types', f);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll("'@parley/protocol'", "'./protocol/index.js'"));
  }
} catch {
  console.warn('declarations could not be emitted; the bundle is still usable');
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
writeFileSync(
  path.join(dist, 'package.json'),
  `${JSON.stringify(
    {
      name: pkg.name,
      version: pkg.version,
      description: pkg.description,
      type: 'module',
      main: './index.js',
      types: './types/index.d.ts',
      exports: { '.': { types: './types/index.d.ts', default: './index.js' } },
      sideEffects: false,
      // Only for the type declarations; the bundle has it inlined.
      dependencies: { '@sinclair/typebox': pkg.dependencies?.['@sinclair/typebox'] ?? '^0.34.0' },
      license: 'MIT',
    },
    null,
    2,
  )}\n`,
);
console.log(`built ${path.relative(process.cwd(), dist)}`);
