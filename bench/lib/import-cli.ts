/**
 * What the import benchmarks (bench/slack-import.ts, bench/mattermost-import.ts) share: a
 * workspace made through a `parley start` on a fresh data folder (then stopped), and the real
 * CLI run on an export twice — `--dry-run` and the import — timed, with the CLI process's peak
 * RSS read at its exit through a preloaded hook (`process.resourceUsage().maxRSS`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../packages/server/test/free-port.js';

const BIN = path.resolve(import.meta.dirname, '../../packages/cli/bin/parley.mjs');

/** The `parley` command as a child process: its exit code and everything it printed. */
function parley(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err })),
  );
  return { child, done };
}

/** A scratch folder with a data folder holding one new workspace (its owner signed up), stopped. */
export async function workspaceToImportInto(prefix: string): Promise<{ dir: string; data: string; workspace: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const server = parley(['start', '--port', String(port), '--data', data]);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100)); // polls /healthz
  }
  const origin = { origin: base, 'content-type': 'application/json' };
  const signup = await fetch(`${base}/v1/auth/signup`, {
    method: 'POST',
    headers: origin,
    body: JSON.stringify({ email: 'owner@example.com', password: 'correct horse battery', name: 'Owner' }),
  });
  const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const ws = await fetch(`${base}/v1/workspaces`, {
    method: 'POST',
    headers: { ...origin, cookie },
    body: JSON.stringify({ name: 'Bench' }),
  });
  const workspace = ((await ws.json()) as { workspace: { id: string } }).workspace.id;
  server.child.kill('SIGTERM');
  await server.done;
  return { dir, data, workspace };
}

/**
 * `parley import <kind> <zip>` into `target`'s workspace, `--dry-run` then for real, printing
 * for each the messages imported, the wall time, messages/s and peak RSS; then removes `target.dir`.
 */
export async function timeImports(
  kind: 'slack' | 'mattermost',
  zip: string,
  target: { dir: string; data: string; workspace: string },
): Promise<void> {
  const rssFile = path.join(target.dir, 'rss');
  const preload = path.join(target.dir, 'rss.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
  );
  for (const mode of ['--dry-run', 'import']) {
    const t = performance.now();
    const args = ['import', kind, zip, '--workspace', target.workspace, '--data', target.data, '--json'];
    const r = await parley(mode === 'import' ? args : [...args, mode], { NODE_OPTIONS: `--require ${preload}` }).done;
    const s = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(`${mode}: exit ${r.code}: ${r.err}`);
    const imported = (JSON.parse(r.out) as { messages: { imported: number } }).messages.imported;
    const rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
    console.log(
      `${mode}: ${imported} messages in ${s.toFixed(1)} s (${Math.round(imported / s)} msg/s), peak RSS ${rss.toFixed(0)} MiB`,
    );
  }
  rmSync(target.dir, { recursive: true, force: true });
}
