#!/usr/bin/env node
// `npm create parley-app@latest my-chat`: write a chat app on Parley into ./my-chat, install
// it, and say how to run it. Plain Node, no dependencies: it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const own = JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8'));
const TEMPLATES = {
  react: 'React + Vite front end on @parley/react, and a Node backend that signs users in with @parley/node',
};

const HELP = `Usage: npm create parley-app@latest [dir] -- [options]
       create-parley-app [dir] [options]

Writes a chat app on Parley into dir (asked for when not given), installs it, and prints how
to run it next to \`npx parley start\`.

Options:
  --template NAME   the app to write (default react):
${Object.entries(TEMPLATES)
  .map(([k, v]) => `                      ${k}: ${v}`)
  .join('\n')}
  --packages PATH   take the @parley/* packages from local tarballs instead of the registry:
                    a folder of them, or a Parley clone whose \`npm run pack:all\` wrote them
                    to its dist-packages/ (the app depends on them by file: path)
  --no-install      write the files only (run npm install yourself)
  -h, --help        this help
  -v, --version     create-parley-app's version
`;

function fail(message) {
  process.stderr.write(`create-parley-app: ${message}\n`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      template: { type: 'string' },
      packages: { type: 'string' },
      install: { type: 'boolean', default: true },
      'no-install': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
} catch (err) {
  fail(`${err.message}\n\n${HELP}`);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (values.version) {
  process.stdout.write(`${own.version}\n`);
  process.exit(0);
}
if (positionals.length > 1) fail(`one folder at a time, not ${positionals.join(' ')}\n\n${HELP}`);

const template = values.template ?? 'react';
if (!(template in TEMPLATES)) fail(`no template "${template}"; there is: ${Object.keys(TEMPLATES).join(', ')}`);

/** The @parley/* packages an app installs, directly or through another of them. */
const PARLEY = ['protocol', 'client', 'node', 'conformance', 'react', 'server', 'cli'];

/**
 * `--packages PATH`: the tarball of each of PARLEY in a folder (a clone's dist-packages/ when
 * PATH is a clone), as `file:` specs. Checked before anything is written.
 */
function localPackages(given) {
  let from = path.resolve(given);
  if (!existsSync(from) || !statSync(from).isDirectory()) fail(`--packages ${given}: no such folder`);
  if (existsSync(path.join(from, 'packages/create-parley-app/package.json'))) {
    const clone = from;
    from = path.join(clone, 'dist-packages');
    if (!existsSync(from)) fail(`${clone} has no dist-packages/: run \`npm run pack:all\` there first`);
  }
  const files = readdirSync(from);
  const specs = {};
  const missing = [];
  for (const n of PARLEY) {
    const found = files.filter((f) => new RegExp(`^parley-${n}-\\d+\\.\\d+\\.\\d+.*\\.tgz$`).test(f));
    const pick = found.length === 1 ? found[0] : found.find((f) => f === `parley-${n}-${own.version}.tgz`);
    if (pick) specs[`@parley/${n}`] = `file:${path.join(from, pick)}`;
    else missing.push(found.length ? `@parley/${n} (several versions, none ${own.version})` : `@parley/${n}`);
  }
  if (missing.length) fail(`${from} lacks ${missing.join(', ')}: \`npm run pack:all\` in a Parley clone writes them`);
  return specs;
}
const local = values.packages === undefined ? null : localPackages(values.packages);

let dir = positionals[0];
if (!dir) {
  if (!process.stdin.isTTY) fail(`say where to write the app: create-parley-app my-chat\n\n${HELP}`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  dir = (await rl.question('Project folder: (my-chat) ')).trim() || 'my-chat';
  rl.close();
}
const target = path.resolve(dir);
const name = path
  .basename(target)
  .toLowerCase()
  .replace(/[^a-z0-9._-]+/g, '-')
  .replace(/^[._-]+|-+$/g, '');
if (!name) fail(`"${dir}" makes no package name: use letters and digits`);
if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0))
  fail(`${target} is not an empty folder: choose another, or empty it`);

/** Every file of the template, with its placeholders filled and `_gitignore` named as git wants. */
function copy(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dest = path.join(to, entry.name === '_gitignore' ? '.gitignore' : entry.name);
    if (entry.isDirectory()) copy(src, dest);
    else writeFileSync(dest, readFileSync(src, 'utf8').replaceAll('{{name}}', name).replaceAll('{{title}}', name));
  }
}
copy(path.join(here, '../template', template), target);

const parley = `^${own.version}`;
const pkg = {
  name,
  version: '0.1.0',
  private: true,
  type: 'module',
  scripts: {
    dev: 'node server/index.mjs --dev',
    build: 'vite build',
    start: 'node server/index.mjs',
    parley: 'parley start',
  },
  dependencies: {
    '@parley/client': parley,
    '@parley/node': parley,
    '@parley/react': parley,
    react: '^19.3.1',
    'react-dom': '^19.3.1',
  },
  devDependencies: {
    '@parley/cli': parley,
    '@vitejs/plugin-react': '^6.3.0',
    vite: '^8.3.8',
  },
};
if (local) {
  for (const deps of [pkg.dependencies, pkg.devDependencies])
    for (const n of Object.keys(deps)) if (n in local) deps[n] = local[n];
  // The packages' own dependencies on each other (@parley/node → @parley/protocol, …) must come
  // from the tarballs too, not the registry. An override of a direct dependency must repeat
  // its spec exactly, which it does.
  pkg.overrides = { ...local };
}
writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

const relative = path.relative(process.cwd(), target) || '.';
process.stdout.write(`Wrote ${name} (${template}) in ${target}\n`);
const install = values.install && !values['no-install'];
if (install) {
  process.stdout.write('Installing (npm install)…\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: target, stdio: 'inherit' });
  if (r.status !== 0) fail(`npm install failed in ${target}; fix what it said, then run it again there`);
}
process.stdout.write(`
Next, in ${relative}:
${install ? '' : '  npm install\n'}  npx parley start     # Parley itself, in its own terminal (data in ./.parley)
  npm run dev          # your app, on http://localhost:5173
`);
