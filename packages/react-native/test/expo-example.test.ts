/**
 * The Expo example (examples/expo) builds: its own dependencies installed from its own lockfile
 * (`npm ci`: Expo SDK 57, React Native 0.86.3, React 19.2.3 — apart from the workspace, which is
 * on React 19.3), its TypeScript checked, and its JavaScript bundle for Android and iOS built
 * by `expo export` as a release build would — inside a network namespace with nothing but
 * loopback where this machine can make one (root, `unshare`), so the bundle provably needs no
 * network. The native build (Xcode, Gradle) cannot run here: examples/expo/README.md says so.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const APP = path.resolve(import.meta.dirname, '../../../examples/expo');
const out = mkdtempSync(path.join(tmpdir(), 'parley-expo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; text: string }> {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e))
    if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k.startsWith('npm_')) delete e[k];
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: APP, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (d) => {
      text += d;
    });
    p.stderr.on('data', (d) => {
      text += d;
    });
    p.on('exit', (code) => resolve({ code, text }));
  });
}

/** Whether commands can run in a network namespace of their own (root with util-linux's unshare). */
const canIsolate = process.getuid?.() === 0 && existsSync('/usr/bin/unshare') && existsSync('/usr/sbin/ip');

it('installs from its own lockfile, type-checks, and bundles for Android and iOS with no network', async () => {
  // npm's own record of the last install: what it installed is what the lockfile pins.
  const marker = path.join(APP, 'node_modules/.package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(path.join(APP, 'package-lock.json')).mtimeMs) {
    const ci = await run('npm', ['ci', '--no-audit', '--no-fund']);
    expect(ci.code, ci.text).toBe(0);
    expect(ci.text).not.toMatch(/EBADENGINE|ERESOLVE/);
  }
  const tsc = await run(process.execPath, [path.join(APP, 'node_modules/typescript/bin/tsc'), '--noEmit']);
  expect(tsc.code, tsc.text).toBe(0);

  const expo = [path.join(APP, 'node_modules/expo/bin/cli'), 'export', '--platform', 'android', '--platform', 'ios'];
  const env = { EXPO_OFFLINE: '1', CI: '1', EXPO_NO_TELEMETRY: '1' };
  const built = canIsolate
    ? await run(
        '/usr/bin/unshare',
        ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...expo, '--output-dir', out],
        env,
      )
    : await run(process.execPath, [...expo, '--output-dir', out], env);
  expect(built.code, built.text).toBe(0);

  const meta = JSON.parse(readFileSync(path.join(out, 'metadata.json'), 'utf8')) as {
    fileMetadata: Record<string, { bundle: string }>;
  };
  expect(Object.keys(meta.fileMetadata).sort()).toEqual(['android', 'ios']);
  for (const platform of ['android', 'ios']) {
    const bundle = readFileSync(path.join(out, meta.fileMetadata[platform]?.bundle as string));
    // Hermes bytecode: the strings are still there. One React, the app's, and the kit in it.
    expect(bundle.includes('19.2.3')).toBe(true);
    expect(bundle.includes('19.3.1')).toBe(false);
    expect(bundle.includes('Could not load your conversations')).toBe(true);
    expect(bundle.includes('parley:push-device:')).toBe(true);
  }
  expect(readdirSync(out)).toContain('_expo');
}, 600_000);
