/**
 * A job survives a SIGKILL of the server mid-job and runs to completion exactly once after a
 * restart — real child processes on the real database (a PGlite data folder, or PostgreSQL).
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/platform/db/index.js';
import { crashFixture, exited } from '../crash-fixture.js';
import { jobState, runsOf } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = crashFixture('crash', 'crash-admin');

/** A child that prints a JSON line per step: `next` waits for the first line `pred` accepts. */
function child(env: Record<string, string>): { proc: ChildProcess; next(pred: (o: any) => boolean): Promise<any> } {
  const { proc, stderr } = fixture.spawn(path.join(here, 'crash-child.ts'), {
    PARLEY_JOB_MAINTENANCE_SECONDS: '1',
    // The child defines its test kind on the server it started, after the start: the jobs run
    // there, not on a background thread (which knows the server's own kinds only). The thread
    // under SIGKILL is the scheduled-message and webhook crash tests' (hooks/*-crash).
    PARLEY_BACKGROUND: 'inline',
    ...env,
  });
  const seen: any[] = [];
  const waiters: { pred: (o: any) => boolean; resolve: (o: any) => void }[] = [];
  let buf = '';
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
        proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}): ${stderr()}`)));
      }),
  };
}

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
      database = await openDatabase(
        fixture.pgUrl ? { url: fixture.pgUrl } : { dataDir: fixture.dataDir, template: false },
      );
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
