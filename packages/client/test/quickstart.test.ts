/**
 * docs/sdk.md's quick start must work as written: build the SDK bundle, put it with `ws` into
 * a fresh project folder, run the documented script against a real server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  execFileSync(process.execPath, [path.join(repo, 'packages/client/scripts/build.mjs')], { stdio: 'pipe' });
  const doc = readFileSync(path.join(repo, 'docs/sdk.md'), 'utf8');
  const block = /<!-- quickstart:begin -->\s*```js\n([\s\S]*?)```\s*<!-- quickstart:end -->/.exec(doc)?.[1];
  expect(block).toBeTruthy();
  mkdirSync(path.join(dir, 'node_modules/@parley'), { recursive: true });
  cpSync(path.join(repo, 'packages/client/dist'), path.join(dir, 'node_modules/@parley/client'), { recursive: true });
  symlinkSync(path.join(repo, 'node_modules/ws'), path.join(dir, 'node_modules/ws'));
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
