/**
 * A job survives a SIGKILL of the server mid-job and runs to completion exactly once after a
 * restart — real child processes on the real database (a PGlite data folder, or PostgreSQL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/platform/db/index.js';
import { backend } from '../harness.js';
import { jobState, runsOf } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../../..');
let dataDir: string;
let pgUrl: string | undefined;
let dbName: string | undefined;
const children: ChildProcess[] = [];

function child(env: Record<string, string>): { proc: ChildProcess; next(pred: (o: any) => boolean): Promise<any> } {
  const proc = spawn(
    process.execPath,
    ['--conditions=@parley/source', '--import', 'tsx', path.join(here, 'crash-child.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dataDir,
        DATABASE_URL: pgUrl ?? '',
        PARLEY_ADMIN_TOKEN: 'crash-admin',
        PARLEY_JOB_POLL_MS: '100',
        PARLEY_JOB_MAINTENANCE_SECONDS: '1',
        PARLEY_WEB_DIR: path.join(dataDir, 'no-web'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(proc);
  const seen: any[] = [];
  const waiters: { pred: (o: any) => boolean; resolve: (o: any) => void }[] = [];
  let buf = '';
  let err = '';
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  proc.stdout?.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let o: any;
      try {
        o = JSON.parse(line);
      } catch {
        continue;
      }
      seen.push(o);
      for (const w of waiters.splice(0)) w.pred(o) ? w.resolve(o) : waiters.push(w);
    }
  });
  return {
    proc,
    next: (pred) =>
      new Promise((resolve, reject) => {
        const found = seen.find(pred);
        if (found) return resolve(found);
        waiters.push({ pred, resolve });
        proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}): ${err.slice(-2000)}`)));
      }),
  };
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => p.once('exit', () => r()));

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'parley-crash-'));
  if (backend === 'postgres') {
    const url = process.env.PARLEY_TEST_PG_URL as string;
    dbName = `parley_crash_${process.pid}`;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.query(`create database ${dbName}`);
    await c.end();
    const u = new URL(url);
    u.pathname = `/${dbName}`;
    pgUrl = u.toString();
  }
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dbName) {
    const c = new pg.Client({ connectionString: process.env.PARLEY_TEST_PG_URL as string });
    await c.connect();
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.end();
  }
  rmSync(dataDir, { recursive: true, force: true });
});

// Two spawned servers (start, SIGKILL, restart): the 30 s default was too short under load.
describe('a job and a crash', { timeout: 180_000 }, () => {
  it('survives a SIGKILL mid-job and runs to completion exactly once after the restart', async () => {
    const first = child({ CRASH_MODE: 'hang', CRASH_ENQUEUE: '1' });
    const { enqueued: id } = await first.next((o) => 'enqueued' in o);
    await first.next((o) => o.started === id);
    first.proc.kill('SIGKILL');
    await exited(first.proc);

    const second = child({ CRASH_MODE: 'finish' });
    await second.next((o) => 'ready' in o);
    await second.next((o) => o.done === id);
    // Let the restarted node run a little longer: a second completion would show now.
    await new Promise((r) => setTimeout(r, 1500));
    second.proc.kill('SIGTERM');
    await exited(second.proc);
    expect(second.proc.exitCode).toBe(0);

    let database: Database | undefined;
    try {
      database = await openDatabase(pgUrl ? { url: pgUrl } : { dataDir, template: false });
      const runs = await runsOf(database, id);
      // Two starts (the killed one and the retry), one completion, by different processes.
      expect(runs.map((r) => r.note)).toEqual(['start', 'start', 'done']);
      expect(runs[0]?.node).toBe(String(first.proc.pid));
      expect(runs[2]?.node).toBe(String(second.proc.pid));
      expect(await jobState(database, id)).toBe('completed');
    } finally {
      await database?.close();
    }
  });
});
