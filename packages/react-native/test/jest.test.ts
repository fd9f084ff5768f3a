/**
 * @parley/react-native is tested as React Native projects test themselves: Jest with React
 * Native's preset and Testing Library (packages/react-native/__tests__, against a real server
 * that Jest's global setup starts). This runs that Jest, so `npm test` (and CI) runs it too.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '..');
const jest = path.resolve(dir, '../../node_modules/jest/bin/jest.js');

it('the Jest suite of @parley/react-native passes', async () => {
  const env = { ...process.env };
  // Vitest's own variables would make Jest's environment think it is inside Vitest.
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, [jest, '--ci', '--colors=false'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('exit', (c) => resolve({ code: c, out }));
  });
  const summary = /Tests:\s+(?:(\d+) failed, )?(?:\d+ skipped, )?(\d+) passed, (\d+) total/.exec(out);
  expect(code, out).toBe(0);
  expect(summary, out).not.toBeNull();
  expect(Number(summary?.[2])).toBeGreaterThanOrEqual(16);
}, 300_000);
