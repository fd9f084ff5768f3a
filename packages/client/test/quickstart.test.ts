/**
 * docs/sdk.md's quick start must work as written: pack the SDK and the protocol as they would
 * be published (`npm pack`, from the dist/ that `npm ci` built), unpack them with `ws` into a
 * fresh project folder, run the documented script against a real server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './setup.js';

const repo = path.resolve(import.meta.dirname, '../../..');
let h: Harness;
let dir: string;

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(tmpdir(), 'parley-quickstart-'));
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the quick start in docs/sdk.md runs in a fresh project', async () => {
  const doc = readFileSync(path.join(repo, 'docs/sdk.md'), 'utf8');
  const block = /<!-- quickstart:begin -->\s*```js\n([\s\S]*?)```\s*<!-- quickstart:end -->/.exec(doc)?.[1];
  expect(block).toBeTruthy();
  // What `npm install <tarballs> ws` does, without the registry: unpack each package, link the rest.
  const packed = JSON.parse(
    execFileSync(
      'npm',
      [
        'pack',
        '-w',
        '@parley/protocol',
        '-w',
        '@parley/client',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        dir,
      ],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    ),
  ) as { name: string; filename: string }[];
  expect(packed.map((p) => p.name).sort()).toEqual(['@parley/client', '@parley/protocol']);
  for (const p of packed) {
    const target = path.join(dir, 'node_modules', p.name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(dir, p.filename), '-C', target, '--strip-components=1']);
  }
  for (const dep of ['ws', '@sinclair/typebox']) {
    mkdirSync(path.dirname(path.join(dir, 'node_modules', dep)), { recursive: true });
    symlinkSync(path.join(repo, 'node_modules', dep), path.join(dir, 'node_modules', dep));
  }
  writeFileSync(path.join(dir, 'package.json'), '{"name":"chat-demo","type":"module"}');
  writeFileSync(path.join(dir, 'quickstart.mjs'), block as string);

  const app = await h.createApp('quickstart');
  const url = await h.listen();
  const token = await app.token('alice');
  const { code, text } = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const p = spawn(process.execPath, ['quickstart.mjs'], {
      cwd: dir,
      env: { ...process.env, PARLEY_URL: url, PARLEY_API_KEY: app.apiKey, PARLEY_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    p.stdout.on('data', (d) => {
      text += d;
    });
    p.stderr.on('data', (d) => {
      text += d;
    });
    p.on('exit', (code) => resolve({ code, text }));
  });
  expect(text).toMatch(/alice: Hello from the SDK \[sending\]/);
  expect(text).toMatch(/stored with seq \d+/);
  expect(code).toBe(0);
}, 60_000);
