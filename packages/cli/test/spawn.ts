/**
 * Running the `parley` command as an operator does, for the CLI's tests: real child
 * processes of `node packages/cli/bin/parley.mjs` (or `npx parley`), temporary data folders,
 * free loopback ports. Every process and folder made here is cleaned up by `cleanUp()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../server/test/free-port.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(ROOT, 'packages/cli/bin/parley.mjs');
export const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/**
 * How long `start` may take to answer /healthz. It is ready in a few seconds on an idle
 * machine (10 s is the target); the wait is generous so a busy shared CI box does not flake.
 */
export const STARTUP_WAIT_MS = 30_000;
/** Each test spawns one or two Node processes (tsx, PGlite): allow for a slow machine. */
export const SLOW = 60_000;

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** The environment of an operator with nothing configured: embedded PGlite, generated secrets. */
export function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const k of [
    'DATABASE_URL',
    'REDIS_URL',
    'PARLEY_ADMIN_TOKEN',
    'PARLEY_MASTER_KEY',
    'PARLEY_DATA_DIR',
    'PORT',
    'HOST',
    'PARLEY_TEST_DB',
    'PARLEY_TEST_PG_URL',
    'PARLEY_DEBUG',
    'PARLEY_BACKUP_PASSPHRASE',
  ])
    delete e[k];
  // Not run by npm, as far as `parley start` can tell, unless a test says so.
  for (const k of Object.keys(e)) if (k.startsWith('npm_')) delete e[k];
  return { ...e, ...extra };
}

export interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Both output pipes read to their end. `exit` can come before the last of the output has been
   * read (seen under load: an empty stdout from a command that printed its help); a grandchild
   * that inherited the pipes can hold them open past the exit, so waits on this are bounded.
   */
  drained: Promise<void>;
}

/** Spawn any command with the operator's environment. */
export function spawnCommand(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const ended = (stream: NodeJS.ReadableStream | null) =>
    new Promise<void>((resolve) => (stream ? stream.once('close', () => resolve()) : resolve()));
  const drained = Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, out: () => out, err: () => err, exited, drained };
}

export function spawnParley(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Proc {
  return spawnCommand(process.execPath, [BIN, ...args], extraEnv);
}

export interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Run a command to completion (killed after `timeoutMs`). */
export async function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 45_000): Promise<Ran> {
  return finish(spawnParley(args, extraEnv), timeoutMs);
}

export async function finish(p: Proc, timeoutMs = 45_000): Promise<Ran> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  await Promise.race([p.drained, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  return { code, out: p.out(), err: p.err() };
}

/** Whether something answers /healthz on the port. */
export async function answers(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

/** Wait until `p` answers /healthz on `port` and has printed its banner. */
export async function waitReady(p: Proc, port: number, waitMs = STARTUP_WAIT_MS): Promise<Proc> {
  const deadline = Date.now() + waitMs;
  let exitedEarly = false;
  void p.exited.then(() => {
    exitedEarly = true;
  });
  for (;;) {
    if (exitedEarly) throw new Error(`parley start exited early:\n${p.out()}\n${p.err()}`);
    if ((await answers(port)) && p.out().includes('Parley is running at')) return p;
    if (Date.now() > deadline) throw new Error(`no /healthz in ${waitMs} ms:\n${p.out()}\n${p.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start a server and wait until /healthz answers. */
export async function startServer(
  port: number,
  data: string,
  extraEnv: NodeJS.ProcessEnv = {},
  waitMs = STARTUP_WAIT_MS,
): Promise<Proc> {
  return waitReady(spawnParley(['start', '--port', String(port), '--data', data], extraEnv), port, waitMs);
}

export async function stop(p: Proc): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const r = await p.exited;
  clearTimeout(timer);
  return r;
}

export function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
  dirs.push(d);
  return d;
}

/** Whether a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kill what is left and remove the folders (afterAll). */
export async function cleanUp(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
