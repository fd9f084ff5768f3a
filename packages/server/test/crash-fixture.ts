/**
 * What the crash tests share (jobs/crash, hooks/scheduled-crash, hooks/webhooks-crash): real
 * server processes spawned on one data folder and, on PostgreSQL, on a database of the file's
 * own, made before its tests and dropped after them; every process spawned is killed at the
 * end, whatever happened; when a test fails, each child's last output (its warnings and errors)
 * is printed. Call `crashFixture` at the top of a test file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { nodeArgs } from './child-command.js';
import { backend } from './harness.js';
import { createPgDatabase, dropPgDatabase } from './pg-template.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface CrashFixture {
  /** The data folder (PGlite's, and where the children keep their files). */
  readonly dataDir: string;
  /** The file's own PostgreSQL database, or undefined on PGlite. */
  readonly pgUrl: string | undefined;
  /**
   * Spawn `script` (a TypeScript file that imports the server as `@parley/server`: its build
   * when current, else its sources, child-command.ts) with the fixture's data folder
   * and database, the admin token, a short job poll and no web app, plus `env`.
   */
  spawn(script: string, env: Record<string, string>): { proc: ChildProcess; stderr(): string };
}

/** A process's exit, at once if it has already exited. */
export const exited = (p: ChildProcess): Promise<void> =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => p.once('exit', () => r()));

/** `label` names the data folder and the database; `admin` is the children's admin token. */
export function crashFixture(label: string, admin: string): CrashFixture {
  let dataDir = '';
  let pgUrl: string | undefined;
  let dbName: string | undefined;
  const children: ChildProcess[] = [];
  /** Each child's last output (its warnings and errors), printed when a test fails. */
  const outputs: { pid: number | undefined; tail: () => string }[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), `parley-${label}-`));
    if (backend === 'postgres') {
      dbName = `parley_${label.replace(/\W/g, '_')}_${process.pid}`;
      await dropPgDatabase(process.env.PARLEY_TEST_PG_URL as string, dbName);
      // Empty: the first child to start migrates it, as a new deployment's first node does.
      pgUrl = await createPgDatabase(process.env.PARLEY_TEST_PG_URL as string, dbName, { migrated: false });
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const o of outputs) console.error(`--- child ${o.pid}, last output ---\n${o.tail() || '(none)'}`);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    if (dbName) await dropPgDatabase(process.env.PARLEY_TEST_PG_URL as string, dbName);
    rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    get dataDir() {
      return dataDir;
    },
    get pgUrl() {
      return pgUrl;
    },
    spawn(script, env) {
      const proc = spawn(process.execPath, nodeArgs(script, ['server', 'protocol']), {
        cwd: ROOT,
        env: {
          ...process.env,
          PARLEY_DATA_DIR: dataDir,
          DATABASE_URL: pgUrl ?? '',
          PARLEY_ADMIN_TOKEN: admin,
          PARLEY_JOB_POLL_MS: '100',
          PARLEY_WEB_DIR: path.join(dataDir, 'no-web'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(proc);
      let err = '';
      let out = '';
      proc.stderr?.on('data', (d) => {
        err = (err + d).slice(-8000);
      });
      proc.stdout?.on('data', (d) => {
        out = (out + d).slice(-8000);
      });
      outputs.push({ pid: proc.pid, tail: () => (out + err).slice(-6000) });
      return { proc, stderr: () => err.slice(-2000) };
    },
  };
}

/** A child that prints `{"ready":"<base url>"}` once it listens: its process and that URL. */
export function readyChild(
  fixture: CrashFixture,
  script: string,
  env: Record<string, string>,
): { proc: ChildProcess; ready: Promise<string> } {
  const { proc, stderr } = fixture.spawn(script, env);
  const ready = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout?.on('data', (d) => {
      buf += d;
      const m = /\{"ready":"([^"]+)"\}/.exec(buf);
      if (m) resolve(m[1] as string);
    });
    proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}): ${stderr()}`)));
  });
  return { proc, ready };
}

/** One JSON request to a child's HTTP API: its status and parsed body. */
export async function call(
  base: string,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: object,
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: await r.json() };
}
