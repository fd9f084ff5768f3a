/**
 * create-parley-app end to end, as a new user meets it: the generator writes an app; the app is
 * installed from this repository's packed packages (`npm pack`, unpacked as `npm install` would;
 * the registry's packages linked from the repository's node_modules, so no registry is asked);
 * Vite builds it; its own `npx parley start` runs Parley; its backend creates a Parley app with
 * the admin token Parley kept, and in Chromium a person signs in and sends a message, which the
 * server then holds. And the generator's help and refusals.
 *
 * Needs Debian's chromium at /usr/bin/chromium for the browser part; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveBrowser, launchChromium } from '../../../apps/web/test/browser.js';
import { Parley } from '../../node/src/index.js';
import { freePort } from '../../server/test/free-port.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(repo, 'packages/create-parley-app/bin/create-parley-app.mjs');
const WAIT = { timeout: 30_000 };
const work = mkdtempSync(path.join(tmpdir(), 'parley-create-'));
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  rmSync(work, { recursive: true, force: true });
});

function generate(args: string[], cwd = work) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Start a long-running process of the generated app; resolves when `ready` shows in its output. */
function start(cmd: string[], cwd: string, env: Record<string, string>, ready: RegExp): Promise<{ out: () => string }> {
  // A new user's shell: no test runner's variables, and no PostgreSQL or Redis (CI sets them).
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(clean))
    if (/^(npm_|VITEST|PARLEY_)/.test(k) || ['NODE_OPTIONS', 'DATABASE_URL', 'REDIS_URL', 'NODE_ENV'].includes(k))
      delete clean[k];
  Object.assign(clean, env);
  const p = spawn(process.execPath, cmd, { cwd, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let out = '';
  return new Promise((resolve, reject) => {
    const look = (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve({ out: () => out });
    };
    p.stdout.on('data', look);
    p.stderr.on('data', look);
    p.once('close', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`${cmd.join(' ')} not ready in 90 s:\n${out}`)), 90_000);
  });
}

/** Link every package of `from` (a node_modules folder) into `to`, but ours and those there already. */
function linkModules(from: string, to: string) {
  for (const entry of readdirSync(from)) {
    if (entry === '@parley' || entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      mkdirSync(path.join(to, entry), { recursive: true });
      for (const sub of readdirSync(path.join(from, entry)))
        if (!existsSync(path.join(to, entry, sub))) symlinkSync(path.join(from, entry, sub), path.join(to, entry, sub));
    } else if (!existsSync(path.join(to, entry))) {
      mkdirSync(to, { recursive: true });
      symlinkSync(path.join(from, entry), path.join(to, entry));
    }
  }
}

describe('the generator', () => {
  it('explains itself, and refuses what it cannot do with a clear reason', () => {
    const help = generate(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/npm create parley-app@latest/);
    expect(help.out).toMatch(/--template NAME/);
    expect(generate(['--version']).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const noDir = generate([]);
    expect(noDir.code).toBe(1);
    expect(noDir.err).toMatch(/say where to write the app/);
    const badTemplate = generate(['x', '--template', 'vue']);
    expect(badTemplate.code).toBe(1);
    expect(badTemplate.err).toMatch(/no template "vue"; there is: react/);
    const unknown = generate(['x', '--colour']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/Unknown option '--colour'/);
    mkdirSync(path.join(work, 'taken'));
    writeFileSync(path.join(work, 'taken/notes.txt'), 'mine');
    const taken = generate(['taken', '--no-install']);
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/is not an empty folder/);
    expect(readdirSync(path.join(work, 'taken'))).toEqual(['notes.txt']);
  });
});

describe.skipIf(!haveBrowser)('a generated app, installed from packed packages', () => {
  const app = path.join(work, 'My Chat');
  let parleyPort = 0;
  let appPort = 0;

  beforeAll(async () => {
    const made = generate(['My Chat', '--no-install']);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toMatch(/npx parley start/);
    expect(made.out).toMatch(/npm run dev/);

    // `npm install`, from this repository's packages as they would be published.
    const names = ['protocol', 'client', 'react', 'node', 'conformance', 'server', 'cli'].map((n) => `@parley/${n}`);
    const packed = JSON.parse(
      execFileSync(
        'npm',
        ['pack', ...names.flatMap((n) => ['-w', n]), '--ignore-scripts', '--json', '--pack-destination', work],
        {
          cwd: repo,
          encoding: 'utf8',
        },
      ),
    ) as { name: string; filename: string }[];
    expect(packed.map((p) => p.name).sort()).toEqual([...names].sort());
    const modules = path.join(app, 'node_modules');
    for (const p of packed) {
      const into = path.join(modules, p.name);
      mkdirSync(into, { recursive: true });
      execFileSync('tar', ['-xzf', path.join(work, p.filename), '-C', into, '--strip-components=1']);
    }
    // Everything else the packages need, as the registry would give it: the repository's own,
    // hoisted ones at the top and a package's own versions (npm nests those) inside it.
    linkModules(path.join(repo, 'node_modules'), modules);
    for (const p of packed) {
      const nested = path.join(repo, 'packages', p.name.replace('@parley/', ''), 'node_modules');
      if (existsSync(nested)) linkModules(nested, path.join(modules, p.name, 'node_modules'));
    }
    mkdirSync(path.join(modules, '.bin'), { recursive: true });
    symlinkSync('../@parley/cli/bin/parley.mjs', path.join(modules, '.bin/parley'));

    // `npm run build`.
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
    delete env.NODE_OPTIONS;
    execFileSync(process.execPath, [path.join(modules, 'vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: app,
      env,
      stdio: 'pipe',
    });
    expect(existsSync(path.join(app, 'dist/index.html'))).toBe(true);

    [parleyPort, appPort] = [await freePort(), await freePort()];
  }, 240_000);

  it('runs beside `npx parley start`: sign in, send a message, and Parley has it', { timeout: 180_000 }, async () => {
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: 'my-chat',
      scripts: { dev: expect.any(String), start: 'node server/index.mjs' },
    });
    expect(existsSync(path.join(app, '.gitignore'))).toBe(true);

    // `npx parley start`: the app's own CLI, its data in ./.parley.
    await start(
      [path.join(app, 'node_modules/.bin/parley'), 'start', '--port', String(parleyPort)],
      app,
      {},
      /Admin token \(kept in/,
    );
    // `npm start`: the backend makes a Parley app with the admin token Parley kept.
    const backend = await start(
      ['server/index.mjs'],
      app,
      { PORT: String(appPort), PARLEY_URL: `http://127.0.0.1:${parleyPort}` },
      /on http:\/\/localhost:\d+/,
    );
    expect(backend.out()).toMatch(/created a Parley app/);
    const creds = JSON.parse(readFileSync(path.join(app, '.parley-app.json'), 'utf8'));

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${appPort}/`);
      await page.getByLabel('Your name').fill('Ada Lovelace');
      await page.getByRole('button', { name: 'Start chatting' }).click();
      const input = page.getByRole('combobox', { name: /Message/ });
      await input.waitFor(WAIT);
      await input.fill('Hello from a generated app');
      await input.press('Enter');
      await page.locator('article.parley-message', { hasText: 'Hello from a generated app' }).waitFor(WAIT);
      await page.screenshot({ path: path.join(tmpdir(), 'create-parley-app.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    // `npm run dev`: the same backend with Vite in it, serving the sources, on the same Parley app.
    const devPort = await freePort();
    await start(
      ['server/index.mjs', '--dev'],
      app,
      { PORT: String(devPort), PARLEY_URL: `http://127.0.0.1:${parleyPort}` },
      /on http:\/\/localhost:\d+/,
    );
    const page = await (await fetch(`http://127.0.0.1:${devPort}/`)).text();
    expect(page).toContain('/@vite/client');
    const main = await fetch(`http://127.0.0.1:${devPort}/src/main.tsx`);
    expect(main.status).toBe(200);
    expect(await main.text()).toMatch(/createRoot/);

    // Parley has it, sent by the person who signed in.
    const parley = new Parley({
      url: `http://127.0.0.1:${parleyPort}`,
      apiKey: creds.apiKey,
      apiSecret: creds.apiSecret,
    });
    const history = await parley.messages.history('public:general').toArray();
    expect(history.find((m) => m.text === 'Hello from a generated app')).toMatchObject({ user_id: 'ada-lovelace' });
  });
});
