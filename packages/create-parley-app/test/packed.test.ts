/**
 * The packages as they would be published, checked before they are: `npm run pack:all` packs
 * every public workspace package; each tarball passes publint and Are the Types Wrong (attw), and
 * `npm publish --dry-run`. Then an app written by create-parley-app from those tarballs
 * (`--packages`) installs with npm, its @parley/* from the tarballs and never from a registry
 * (the @parley scope points at a closed port), and plain Node runs what it installed: the SDK
 * signs a token, imported and required, and the installed `parley start` serves the web app and
 * the docs site it carries, answers the SDK `require()`d from a CommonJS file, and passes the
 * installed conformance kit's handshake.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(path.join(tmpdir(), 'parley-packed-'));
const out = path.join(work, 'tarballs');
/** A child's environment without the test runner's (loaders, npm_ of the parent run). */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$)/.test(k)),
);

/**
 * attw's profile per package: `strict` (every resolution: node10, node16 from CommonJS and from
 * ESM, bundler) for those with a CommonJS entry; `esm-only` for the rest, whose `require()` is
 * Node's require(esm) (Node 20.19+, 22.12+), which attw's node16-cjs mode reports as a problem.
 */
const ATTW_PROFILE: Record<string, 'strict' | 'esm-only'> = { '@parley/node': 'strict' };

const workspaces: string[] = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).workspaces;
const published = workspaces
  .map((dir) => JSON.parse(readFileSync(path.join(repo, dir, 'package.json'), 'utf8')))
  .filter((p) => !p.private)
  .map((p) => p.name as string);

let tarballs: { name: string; file: string }[] = [];

beforeAll(() => {
  const report = JSON.parse(
    execFileSync(process.execPath, [path.join(repo, 'scripts/pack-all.mjs'), '--out', out, '--json'], {
      cwd: repo,
      env,
      encoding: 'utf8',
    }),
  ) as { name: string; filename: string; files: { path: string }[] }[];
  tarballs = report.map((r) => ({ name: r.name, file: path.join(out, r.filename) }));
  for (const r of report) {
    const files = r.files.map((f) => f.path);
    expect(files, r.name).toContain('README.md');
    expect(files, r.name).toContain('package.json');
  }
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('pack:all', () => {
  it('packs every public workspace package, and only those', () => {
    expect(tarballs.map((t) => t.name).sort()).toEqual([...published].sort());
    expect(published).toContain('@parley/node');
    expect(published).not.toContain('@parley/web');
    for (const t of tarballs) expect(existsSync(t.file), t.file).toBe(true);
  });

  it('publint finds nothing, not even a suggestion, in any tarball', async () => {
    const found: string[] = [];
    for (const t of tarballs) {
      const b = readFileSync(t.file);
      const tarball = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
      for (const m of messages) found.push(`${t.name}: ${m.type} ${m.code}: ${formatMessage(m, pkg)}`);
    }
    expect(found).toEqual([]);
  });

  it('Are the Types Wrong finds no problem in any entry point', { timeout: 360_000 }, () => {
    const attw = path.join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const checked: string[] = [];
    for (const t of tarballs) {
      const pkg = JSON.parse(readFileSync(path.join(repo, pathOf(t.name), 'package.json'), 'utf8'));
      // The command-line packages (@parley/cli, create-parley-app) have nothing to import: no types to check.
      if (!pkg.exports) {
        expect(pkg.bin, t.name).toBeTruthy();
        expect(pkg.main ?? pkg.types, t.name).toBeUndefined();
        continue;
      }
      // A stylesheet has no types; attw reports it as unresolved.
      const css = Object.keys(pkg.exports).filter((k) => k.endsWith('.css'));
      const profile = ATTW_PROFILE[t.name] ?? 'esm-only';
      const args = [attw, t.file, '--profile', profile, '--format', 'json'];
      if (css.length) args.push('--exclude-entrypoints', ...css);
      const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
      expect(r.status, `${t.name}: attw ${r.stdout.slice(0, 4000)}${r.stderr}`).toBe(0);
      const json = JSON.parse(r.stdout);
      const problems = Object.values(json.problems ?? {}).flat() as { resolutionKind?: string }[];
      // The only problems it may list are those of CommonJS resolution, which `esm-only` leaves out.
      if (profile === 'strict') expect(problems, t.name).toEqual([]);
      for (const p of problems)
        expect(['node10', 'node16-cjs'], `${t.name}: ${JSON.stringify(p)}`).toContain(p.resolutionKind);
      checked.push(t.name);
    }
    expect(checked).toEqual(expect.arrayContaining(['@parley/protocol', '@parley/client', '@parley/node']));
  });

  it('npm publish --dry-run accepts every tarball, with no warning but the one for not being logged in', {
    timeout: 120_000,
  }, () => {
    for (const t of tarballs) {
      const r = spawnSync('npm', ['publish', t.file, '--dry-run', '--access', 'public', '--ignore-scripts'], {
        cwd: work,
        env,
        encoding: 'utf8',
      });
      expect(r.status, `${t.name}:\n${r.stderr}`).toBe(0);
      expect(`${r.stdout}${r.stderr}`, t.name).toContain(`+ ${t.name}@`);
      const warnings = r.stderr.split('\n').filter((l) => /^npm (warn|error)/.test(l) && !/logged in/.test(l));
      expect(warnings, t.name).toEqual([]);
    }
  });
});

describe('create-parley-app --packages', () => {
  it('writes an app on the tarballs that installs with no registry for @parley/*', { timeout: 300_000 }, () => {
    const app = path.join(work, 'my-chat');
    const made = spawnSync(
      process.execPath,
      [path.join(repo, 'packages/create-parley-app/bin/create-parley-app.mjs'), app, '--packages', out, '--no-install'],
      { cwd: work, env, encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@parley/node']).toBe(`file:${path.join(out, 'parley-node-0.1.0.tgz')}`);
    expect(pkg.devDependencies['@parley/cli']).toMatch(/^file:.*parley-cli-0\.1\.0\.tgz$/);
    expect(pkg.overrides['@parley/protocol']).toMatch(/^file:.*parley-protocol-0\.1\.0\.tgz$/);

    // Any request for an @parley package goes to a closed port; the rest may come from npm's cache.
    writeFileSync(path.join(app, '.npmrc'), '@parley:registry=http://127.0.0.1:9/\n');
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: app,
      env,
      encoding: 'utf8',
    });
    expect(install.status, install.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
    const ours = Object.entries(lock.packages as Record<string, { resolved?: string }>).filter(([k]) =>
      k.includes('node_modules/@parley/'),
    );
    expect(ours.map(([k]) => k).sort()).toEqual(
      ['cli', 'client', 'conformance', 'node', 'protocol', 'react', 'server'].map((n) => `node_modules/@parley/${n}`),
    );
    for (const [k, v] of ours) expect(v.resolved, k).toMatch(/^file:.*\.tgz$/);
    expect(readdirSync(path.join(app, 'node_modules/@parley')).sort()).toEqual([
      'cli',
      'client',
      'conformance',
      'node',
      'protocol',
      'react',
      'server',
    ]);

    // Plain Node, in the app: the installed SDK signs a token, and the CLI answers.
    const signed = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { Parley } = await import('@parley/node');
         const p = new Parley({ url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: 's' });
         console.log(typeof (await p.createToken('ada')));`,
      ],
      { cwd: app, env, encoding: 'utf8' },
    );
    expect(signed.trim()).toBe('string');
    // And from CommonJS, on any Node 20: its own bundled build, no require(esm).
    writeFileSync(
      path.join(app, 'sign.cjs'),
      `const { Parley, isParleyError } = require('@parley/node');
       const p = new Parley({ url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: 's' });
       p.createToken('ada').then((t) => console.log(t.split('.').length, typeof isParleyError));`,
    );
    const required = execFileSync(process.execPath, ['--no-experimental-require-module', 'sign.cjs'], {
      cwd: app,
      env,
      encoding: 'utf8',
    });
    expect(required.trim()).toBe('3 function');
    const help = execFileSync(path.join(app, 'node_modules/.bin/parley'), ['--help'], {
      cwd: app,
      env,
      encoding: 'utf8',
    });
    expect(help).toMatch(/parley --version/);
  });

  it('the installed `parley start` serves the web app and the docs from the package', {
    timeout: 240_000,
  }, async () => {
    const app = path.join(work, 'my-chat');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const server = spawn(
      path.join(app, 'node_modules/.bin/parley'),
      ['start', '--port', String(port), '--data', path.join(work, 'data')],
      {
        cwd: app,
        env: { ...env, PARLEY_DATA_DIR: '', PARLEY_WEB_DIR: '', PARLEY_DOCS_DIR: '', DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    server.stdout?.on('data', (d) => (log += d));
    server.stderr?.on('data', (d) => (log += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 180_000;
      while (
        !(await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (server.exitCode !== null || Date.now() > deadline) throw new Error(`parley start did not answer:\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      for (const [url, page] of [
        ['/', /<div id="root">/],
        ['/docs/', /vitepress/i],
      ] as const) {
        const r = await fetch(`${base}${url}`, { headers: { accept: 'text/html' } });
        expect(r.status, url).toBe(200);
        expect(await r.text(), url).toMatch(page);
      }

      // The installed SDK, require()d from a CommonJS file, works against the installed server.
      const adminToken = readFileSync(path.join(work, 'data/admin-token'), 'utf8').trim();
      const made = await fetch(`${base}/v1/admin/apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'cjs' }),
      });
      expect(made.status, await made.clone().text()).toBeLessThan(300);
      const creds = (await made.json()) as { api_key: string; api_secret: string };
      writeFileSync(
        path.join(app, 'backend.cjs'),
        `const { Parley } = require('@parley/node');
         const parley = new Parley({ url: process.argv[2], apiKey: process.argv[3], apiSecret: process.argv[4] });
         (async () => {
           await parley.users.upsert([{ id: 'ada', name: 'Ada Lovelace' }]);
           const token = await parley.createToken('ada');
           const me = await fetch(process.argv[2] + '/v1/me', {
             headers: { 'x-api-key': process.argv[3], authorization: 'Bearer ' + token },
           }).then((r) => r.json());
           console.log(me.user.id, (await parley.users.get('ada')).name);
         })().catch((e) => { console.error(e); process.exit(1); });`,
      );
      const ran = spawnSync(
        process.execPath,
        ['--no-experimental-require-module', 'backend.cjs', base, creds.api_key, creds.api_secret],
        { cwd: app, env, encoding: 'utf8' },
      );
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout.trim()).toBe('ada Ada Lovelace');

      // The conformance kit, installed with the CLI, runs from its package (scenarios included).
      const kit = spawnSync(
        process.execPath,
        [
          path.join(app, 'node_modules/@parley/conformance/bin/parley-conformance.mjs'),
          '--url',
          base,
          '--scenario',
          'handshake',
        ],
        { cwd: app, env: { ...env, PARLEY_ADMIN_TOKEN: adminToken }, encoding: 'utf8' },
      );
      expect(kit.status, `${kit.stdout}${kit.stderr}`).toBe(0);
      expect(kit.stdout).toMatch(/^✓ wire handshake \(\d+ ms\)$/m);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });
});

function pathOf(name: string): string {
  return workspaces.find(
    (dir) => JSON.parse(readFileSync(path.join(repo, dir, 'package.json'), 'utf8')).name === name,
  )!;
}
