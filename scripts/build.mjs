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
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** In dependency order: declarations of a package read those of the ones before it. */
const PACKAGES = ['protocol', 'client', 'node', 'conformance', 'react', 'react-native', 'server', 'cli'];

/** Non-TypeScript files each package's code needs next to itself, relative to src/. */
const ASSETS = { react: ['styles.css'], server: ['platform/db/migrations'] };

/**
 * Packages with a CommonJS entry beside the ESM tree, for `require()` on any Node 20: one file,
 * dist/index.cjs, bundled from src/index.ts with the dependencies that cannot be required (jose 6
 * and @parley/protocol are ESM only; Node before 20.19 has no require(esm)); the rest stay
 * imports. Its declarations are the ESM ones copied as .d.cts, so TypeScript reads them as
 * CommonJS (publint, attw's node16-cjs). Two copies of the code mean `instanceof ParleyError`
 * fails across them: docs/node.md tells users to load it one way per process.
 */
const CJS = { node: { bundle: ['jose', '@parley/protocol'] } };

/**
 * The server again as a few bundled ES modules in dist/bundle/ (what its package exports point
 * at): loading 860 files one by one was most of a first start's CPU (docs/benchmarks.md, "First
 * start"). Entries: the server; its database alone (`@parley/server/database`) and the data
 * folder's open with only node's built-ins under it (`@parley/server/data-folder`, which `parley
 * start` begins first, so the database's thread boots while the rest loads); shared chunks keep
 * one copy of each module; the background thread and the database's. Dynamic imports stay lazy (chunks of their own). Left outside, imported at
 * run time: what has native code or reads files beside itself, and what loads at first use
 * (platform/lazy-deps.ts).
 */
const SERVER_BUNDLE = {
  entries: {
    index: 'index.ts',
    database: 'platform/db/index.ts',
    'data-folder': 'platform/db/data-folder.ts',
    'background-thread': 'background-thread.ts',
    'pglite-worker': 'platform/db/pglite-worker.ts',
  },
  external: [
    // Native code, WebAssembly, or files found next to their own code.
    '@electric-sql/pglite',
    'sharp',
    '@node-rs/argon2',
    '@emoji-mart/data',
    '@fastify/static',
    '@fastify/swagger-ui',
    'pino',
    'web-push',
    // pg's optional pg-native; pg-boss with it.
    'pg',
    'pg-boss',
    // Loaded at first use (lazy-deps.ts; the breached-password list, a 1.5 MB dictionary).
    '@zxcvbn-ts/language-common',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
    'nodemailer',
    'ioredis',
    'htmlparser2',
  ],
  /** Files whose `import.meta.url` must stay the bundle's: they find a bundle entry beside themselves. */
  keepMetaUrl: ['background.ts', 'platform/db/pglite-thread.ts'],
};

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
  if (CJS[name]) await buildCommonJs(dir, CJS[name]);
  if (name === 'server') await bundleServer(dir);
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
  if (CJS[name]) commonJsDeclarations(dist);
}

/** dist/index.cjs: src/index.ts as one CommonJS file, with `bundle` inlined and the other dependencies required. */
async function buildCommonJs(dir, { bundle }) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !bundle.includes(d));
  const outfile = path.join(dir, 'dist/index.cjs');
  const { metafile } = await build({
    entryPoints: [path.join(dir, 'src/index.ts')],
    outfile,
    bundle: true,
    external,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  // The licences of the third-party packages inlined (jose, and @parley/protocol's TypeBox):
  // their MIT terms ask for the notice to travel with the code. None has a /*! */ comment esbuild would keep.
  writeFileSync(`${outfile}.LICENSE.txt`, `dist/index.cjs includes these packages:\n\n${thirdPartyNotices(metafile)}`);
}

/**
 * dist/bundle/ (SERVER_BUNDLE). A module that computes a path from `import.meta.url` (the
 * migrations, the web app's folder, `createRequire`) gets the URL its own file has in dist/, so
 * every path comes out as in the file-by-file build.
 */
async function bundleServer(dir) {
  const src = path.join(dir, 'src');
  const outdir = path.join(dir, 'dist/bundle');
  const metaUrl = {
    name: 'file-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const rel = path.relative(src, args.path);
        if (rel.startsWith('..') || !text.includes('import.meta.url') || SERVER_BUNDLE.keepMetaUrl.includes(rel))
          return { contents: text, loader: 'ts' };
        const twin = path.relative(outdir, path.join(dir, 'dist', rel.replace(/\.ts$/, '.js')));
        return {
          contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(twin)}, import.meta.url).href`),
          loader: 'ts',
        };
      });
    },
  };
  const { metafile } = await build({
    entryPoints: Object.entries(SERVER_BUNDLE.entries).map(([out, entry]) => ({ out, in: path.join(src, entry) })),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['@parley/source'],
    external: SERVER_BUNDLE.external,
    plugins: [metaUrl],
    // CommonJS modules inside the bundle require the external ones through this.
    banner: {
      js: "import { createRequire as __parleyRequire } from 'node:module'; const require = __parleyRequire(import.meta.url);",
    },
    sourcemap: true,
    // Stack traces map to the files; the sources themselves are in src/ (and node_modules).
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(
    path.join(outdir, 'LICENSES.txt'),
    `dist/bundle/ includes these packages:\n\n${thirdPartyNotices(metafile)}`,
  );
}

/** The licence notices of the third-party packages a bundle inlined (their MIT and Apache terms ask for it). */
function thirdPartyNotices(metafile) {
  const inlined = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) inlined.add(path.join(ROOT, input.slice(0, m.index + m[0].length)));
  }
  return [...inlined]
    .sort()
    .map((folder) => {
      const { name, version, license } = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8'));
      const file = readdirSync(folder).find((f) => /^licen[cs]e/i.test(f));
      return `${name}@${version} (${license})\n\n${file ? readFileSync(path.join(folder, file), 'utf8').trim() : ''}\n`;
    })
    .join('\n---\n\n');
}

/**
 * Each declaration file of dist/ again as .d.cts, its relative imports pointed at the .d.cts.
 * Imports of packages (@parley/protocol, ESM only) become `import type … with { 'resolution-mode':
 * 'import' }`: without it TypeScript refuses a CommonJS file's import of an ES module (TS1479,
 * TS1541), types included. That attribute needs TypeScript 5.3 or newer in the user's project.
 */
function commonJsDeclarations(dist) {
  for (const f of readdirSync(dist, { recursive: true }).map(String)) {
    if (!f.endsWith('.d.ts')) continue;
    const text = readFileSync(path.join(dist, f), 'utf8')
      .replace(/(from\s+'\.{1,2}\/[^']*)\.js'/g, "$1.cjs'")
      .replace(/^import (?:type )?\{([^}]*)\} from '([^.'][^']*)';$/gm, (_, names, from) => {
        const bare = names.replace(/\btype\s+/g, '').trim();
        return `import type { ${bare} } from '${from}' with { 'resolution-mode': 'import' };`;
      })
      .replace(/\/\/# sourceMappingURL=.*\n?$/, '');
    const left = /^(?:import|export)\b[^;]*from '[^.'][^']*';$/m.exec(text);
    if (left) throw new Error(`${f}: no CommonJS form for \`${left[0]}\``);
    writeFileSync(path.join(dist, f.replace(/\.d\.ts$/, '.d.cts')), text);
  }
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
