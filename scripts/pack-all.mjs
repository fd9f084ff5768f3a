#!/usr/bin/env node
/**
 * Pack every public package of the workspace (those not `private`) into one folder of tarballs,
 * exactly as `npm publish` would upload them: `npm pack` of each, from its built dist/.
 *
 *   npm run pack:all                    # → dist-packages/ (git-ignored)
 *   node scripts/pack-all.mjs --out DIR
 *
 * That folder is the local source `create-parley-app --packages DIR` installs @parley/* from
 * while they are not on the registry. Prints one line per tarball; `--json` prints npm pack's
 * report instead. Our own tarballs already in DIR are replaced; nothing else there is touched.
 *
 * @parley/server carries the built web app and docs site (`web/`, `docs-site/`, copied in from
 * apps/web/dist and docs/.vitepress/dist for the packing and removed after), so a `parley start`
 * installed from the tarballs serves both, as one in the repository does.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: path.join(ROOT, 'dist-packages') }, json: { type: 'boolean' } },
});
const out = path.resolve(values.out);

/** The workspace packages that are published: name, folder, and the tarball npm names. */
function publicPackages() {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return root.workspaces
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private)
    .map(({ dir, pkg }) => ({
      name: pkg.name,
      dir,
      tarball: `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`,
    }));
}

const packages = publicPackages();
// A package whose files name dist/ but has none was never built: its tarball would be empty.
for (const { name, dir } of packages) {
  const files = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')).files ?? [];
  if (files.includes('dist') && !existsSync(path.join(ROOT, dir, 'dist'))) {
    process.stderr.write(`pack-all: ${name} has no dist/: run \`npm run build\` first\n`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });
const ours = new RegExp(`^(${packages.map((p) => p.tarball.replace(/-[^-]+\.tgz$/, '')).join('|')})-\\d.*\\.tgz$`);
for (const f of readdirSync(out)) if (ours.test(f)) rmSync(path.join(out, f));

const sites = [
  { from: 'apps/web/dist', to: 'packages/server/web', made: 'npm run build -w @parley/web' },
  { from: 'docs/.vitepress/dist', to: 'packages/server/docs-site', made: 'npm run docs:build' },
];
for (const { from, made } of sites)
  if (!existsSync(path.join(ROOT, from, 'index.html'))) {
    process.stderr.write(`pack-all: ${from} is not built: run \`${made}\` (npm ci does) first\n`);
    process.exit(1);
  }
let report;
try {
  for (const { from, to } of sites) {
    rmSync(path.join(ROOT, to), { recursive: true, force: true });
    // Without the build's stamp (scripts/build-key.mjs), which is the repository's, not the package's.
    cpSync(path.join(ROOT, from), path.join(ROOT, to), {
      recursive: true,
      filter: (src) => path.basename(src) !== '.build-key',
    });
  }
  report = JSON.parse(
    execFileSync(
      'npm',
      ['pack', ...packages.flatMap((p) => ['-w', p.name]), '--ignore-scripts', '--json', '--pack-destination', out],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    ),
  );
} finally {
  for (const { to } of sites) rmSync(path.join(ROOT, to), { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  for (const r of report) process.stdout.write(`${path.join(out, r.filename)}  (${r.entryCount} files, ${r.size} B)\n`);
  process.stdout.write(`${report.length} packages packed into ${out}\n`);
}
