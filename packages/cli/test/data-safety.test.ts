/**
 * Data safety of the embedded default: one process owns a PGlite data folder
 * (`<data>/owner.lock`); every other `parley` command talks to it, waits for it, or refuses —
 * never opens the folder beside it. Real `parley` processes (and `npx parley`), real ports.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { lastKnownMigration, openDatabase, PARLEY_VERSION, RELEASES, runMigrations } from '@parley/server';
import { afterAll, describe, expect, it } from 'vitest';
import { madeUpRelease, newerMigrations } from '../../server/test/newer-release.js';
import {
  answers,
  cleanUp,
  env,
  finish,
  freePort,
  JWT,
  pidAlive,
  ROOT,
  run,
  SLOW,
  spawnCommand,
  spawnParley,
  startServer,
  stop,
  tempDir,
  waitReady,
} from './spawn.js';

afterAll(cleanUp);

const lockOf = (data: string) => JSON.parse(readFileSync(path.join(data, 'owner.lock'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A lock record as a server would write it, for a process that is not a Parley server. */
function fakeLock(data: string, over: Record<string, unknown>) {
  writeFileSync(
    path.join(data, 'owner.lock'),
    JSON.stringify({
      kind: 'start',
      command: 'start',
      pid: process.pid,
      pid_start: null,
      host: hostname(),
      listen_host: '127.0.0.1',
      port: 1,
      state: 'ready',
      started_at: new Date().toISOString(),
      nonce: 'fake',
      ...over,
    }),
  );
}

describe('one owner per data folder', () => {
  it(
    'app create run while the server is starting waits for it and goes through its admin API (on the port in the lock, not PORT)',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const server = spawnParley(['start', '--port', String(port), '--data', data]);
      await until('the lock', () => existsSync(path.join(data, 'owner.lock')));
      expect(lockOf(data)).toMatchObject({ kind: 'start', pid: server.child.pid, port, state: 'starting' });

      // A wrong PORT: the lock says where the owner listens.
      const r = await run(['app', 'create', '--name', 'early', '--json', '--data', data], { PORT: '1' });
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/waiting for the server to finish starting/);
      const created = JSON.parse(r.out);
      expect(lockOf(data)).toMatchObject({ state: 'ready', port });

      await waitReady(server, port);
      const list = await run(['app', 'list', '--json', '--data', data]);
      expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id: created.id, name: 'early' })]);
      const token = await run(['token', '--app', created.id, '--user', 'u1', '--data', data]);
      expect(token.out.trim()).toMatch(JWT);

      expect(await stop(server)).toEqual({ code: 0, signal: null });
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false);
    },
    SLOW * 2,
  );

  it(
    'following docs/sdk.md literally — start in the background, app create at once — leaves both working',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const server = spawnParley(['start', '--port', String(port), '--data', data]);
      const r = await run(['app', 'create', '--name', 'at-once', '--json', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      await waitReady(server, port);
      const list = await run(['app', 'list', '--json', '--data', data]);
      expect(JSON.parse(list.out).map((a: { name: string }) => a.name)).toEqual(['at-once']);
      expect(await stop(server)).toEqual({ code: 0, signal: null });
    },
    SLOW * 2,
  );

  it(
    'a second start on the same folder, or on a port in use, exits 1 at once with one line and opens nothing',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const server = await startServer(port, data);
      try {
        const other = await freePort();
        const same = await run(['start', '--port', String(other), '--data', data]);
        expect(same.code).toBe(1);
        expect(same.err.trim()).toBe(
          `parley: ${data} is in use by a Parley server (pid ${server.child.pid} at http://127.0.0.1:${port}); ` +
            'stop it first, or give this one another --data folder',
        );

        const elsewhere = tempDir();
        const taken = await run(['start', '--port', String(port), '--data', elsewhere]);
        expect(taken.code).toBe(1);
        expect(taken.err.trim()).toMatch(new RegExp(`^parley: port ${port} on 127\\.0\\.0\\.1 is in use`));
        expect(existsSync(path.join(elsewhere, 'pgdata'))).toBe(false);
        expect(existsSync(path.join(elsewhere, 'owner.lock'))).toBe(false);

        // The owner never noticed.
        expect(await answers(port)).toBe(true);
        expect(lockOf(data)).toMatchObject({ pid: server.child.pid, state: 'ready' });
      } finally {
        await stop(server);
      }
    },
    SLOW * 2,
  );

  it(
    'a port held by another program fails the same way',
    async () => {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const port = (blocker.address() as { port: number }).port;
      try {
        const data = tempDir();
        const r = await run(['start', '--port', String(port), '--data', data]);
        expect(r.code).toBe(1);
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(r.err).toMatch(`port ${port} on 127.0.0.1 is in use`);
        expect(existsSync(path.join(data, 'owner.lock'))).toBe(false);
      } finally {
        blocker.close();
      }
    },
    SLOW,
  );

  it(
    'an owner that is alive but does not answer is refused, never opened beside; migrate refuses too',
    async () => {
      const data = tempDir();
      fakeLock(data, { port: await freePort() });
      const r = await run(['app', 'list', '--data', data], { PARLEY_ADMIN_TOKEN: 'padm_x' });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/does not answer at http:\/\/127\.0\.0\.1:\d+; not opening the data folder beside it/);
      const m = await run(['migrate', '--data', data]);
      expect(m.code).toBe(1);
      expect(m.err).toMatch(/stop it to run parley migrate/);
      expect(existsSync(path.join(data, 'pgdata'))).toBe(false);
    },
    SLOW,
  );

  it(
    'a lock left by a killed server is taken over: commands open the folder, and start again',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const server = await startServer(port, data);
      const created = JSON.parse((await run(['app', 'create', '--name', 'kept', '--json', '--data', data])).out);
      server.child.kill('SIGKILL');
      await server.exited;
      expect(lockOf(data).pid).toBe(server.child.pid); // left behind

      const list = await run(['app', 'list', '--json', '--data', data]);
      expect(list.code, list.err).toBe(0);
      expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id: created.id })]);
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false); // the command released its own

      fakeLock(data, { pid: server.child.pid }); // dead again, as after the kill
      const again = await startServer(port, data);
      expect(lockOf(data).pid).toBe(again.child.pid);
      expect(await stop(again)).toEqual({ code: 0, signal: null });
    },
    SLOW * 2,
  );
});

describe('the lock itself, with real processes racing', () => {
  /**
   * Four processes try to take one lock at once; each prints `held` or `owner <pid>`, and keeps
   * what it got until all four have answered (a release file appears). A fixed hold was not
   * enough: under load one process can start after the winner has exited and find the lock free.
   */
  async function race(data: string): Promise<string[]> {
    const release = path.join(tempDir(), 'release');
    const script = `
      import { existsSync } from 'node:fs';
      import { acquireLock } from ${JSON.stringify(path.join(ROOT, 'packages/cli/src/owner-lock.ts'))};
      const r = acquireLock(process.argv[1], { kind: 'command', command: 'race' });
      console.log('held' in r ? 'held' : 'owner ' + r.owner.pid);
      const wait = setInterval(() => existsSync(process.argv[2]) && clearInterval(wait), 20);
    `;
    const procs = Array.from({ length: 4 }, () =>
      spawnCommand(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, data, release]),
    );
    const answered = () => procs.every((p) => p.out().includes('\n') || p.child.exitCode !== null);
    while (!answered()) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(release, '');
    const results = await Promise.all(procs.map((p) => finish(p)));
    for (const r of results) expect(r.code, r.err).toBe(0);
    return results.map((r) => r.out.trim());
  }

  it(
    'exactly one of four wins a free lock, and exactly one wins a stale one',
    async () => {
      const data = tempDir();
      let outcome = await race(data);
      expect(outcome.filter((o) => o === 'held')).toHaveLength(1);
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false); // released on exit

      // A stale record: a pid that has exited.
      const dead = spawn(process.execPath, ['-e', '0'], { env: env() });
      await new Promise((r) => dead.once('exit', r));
      expect(pidAlive(dead.pid as number)).toBe(false);
      fakeLock(data, { kind: 'command', command: 'crashed', pid: dead.pid });
      outcome = await race(data);
      expect(outcome.filter((o) => o === 'held')).toHaveLength(1);
      expect(outcome.filter((o) => o.startsWith('owner'))).toHaveLength(3);
      expect(outcome).not.toContain(`owner ${dead.pid}`);
    },
    SLOW,
  );

  it(
    'a lock written on another host counts while its holder touches it, and is stale a minute after',
    async () => {
      const data = tempDir();
      fakeLock(data, { kind: 'command', command: 'elsewhere', host: 'another-host', pid: 1 });
      const script = `
        import { acquireLock } from ${JSON.stringify(path.join(ROOT, 'packages/cli/src/owner-lock.ts'))};
        const r = acquireLock(process.argv[1], { kind: 'command', command: 'probe' });
        console.log('held' in r ? 'held' : 'owner ' + r.owner.host);
      `;
      const probe = () =>
        finish(spawnCommand(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, data]));
      expect((await probe()).out.trim()).toBe('owner another-host');
      const r = await run(['app', 'list', '--data', data], { PARLEY_ADMIN_TOKEN: 'padm_x' });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /in use by `parley elsewhere` \(pid 1 on host another-host\); run this command on that host/,
      );

      const old = new Date(Date.now() - 120_000);
      utimesSync(path.join(data, 'owner.lock'), old, old);
      expect((await probe()).out.trim()).toBe('held');
    },
    SLOW,
  );
});

describe('started through npm', () => {
  it(
    'killing `npx parley start` (npm exec and a shell in between) stops the server and frees the port',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const npx = spawnCommand('npx', ['parley', 'start', '--port', String(port), '--data', data]);
      await waitReady(npx, port);
      const serverPid = lockOf(data).pid as number;
      expect(serverPid).not.toBe(npx.child.pid);

      npx.child.kill('SIGTERM');
      await npx.exited;
      await until('the port to be freed', async () => !(await answers(port)));
      await until('the server process to end', () => !pidAlive(serverPid));
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false);
    },
    SLOW * 2,
  );
});

describe('master key check', () => {
  it(
    'a restart with another PARLEY_MASTER_KEY refuses to start with one line naming it; the right key starts',
    async () => {
      const data = tempDir();
      const port = await freePort();
      const keyA = 'a1'.repeat(32);
      const keyB = 'b2'.repeat(32);
      const first = await startServer(port, data, { PARLEY_MASTER_KEY: keyA });
      expect((await run(['app', 'create', '--name', 'sealed', '--data', data])).code).toBe(0);
      await stop(first);

      const wrong = await run(['start', '--port', String(port), '--data', data], { PARLEY_MASTER_KEY: keyB });
      expect(wrong.code).toBe(1);
      expect(wrong.out).not.toContain('Parley is running');
      expect(wrong.err).not.toMatch(/\n\s+at /);
      const errLines = wrong.err.trim().split('\n');
      expect(errLines.at(-1)).toMatch(/^parley: the master key does not match this database.*PARLEY_MASTER_KEY/);
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false);
      // Commands that open the folder themselves check it too.
      const direct = await run(['app', 'list', '--data', data], { PARLEY_MASTER_KEY: keyB });
      expect(direct.code).toBe(1);
      expect(direct.err).toMatch(/master key does not match/);

      const right = await startServer(port, data, { PARLEY_MASTER_KEY: keyA });
      expect(await stop(right)).toEqual({ code: 0, signal: null });
    },
    SLOW * 3,
  );
});

describe('a database migrated by a newer Parley', () => {
  it(
    'start and migrate refuse it with exit 3 and one line naming both versions and what to do',
    async () => {
      const data = tempDir();
      // Parley 9.2.0 migrated this folder: 9.1.0 expanded, 9.2.0 contracted what only code
      // older than 9.1.0 read, so this code may not run on it.
      const ours = lastKnownMigration();
      const later = newerMigrations([
        ['9001_expand_more', 'CREATE TABLE "later_things" ("id" integer PRIMARY KEY, "old" text);'],
        ['9002_contract', 'ALTER TABLE "later_things" DROP COLUMN "old";'],
      ]);
      const database = await openDatabase({ dataDir: data });
      try {
        await runMigrations(database, {
          folder: later.folder,
          version: '9.2.0',
          releases: [...RELEASES, madeUpRelease('9.0.0', ours), madeUpRelease('9.1.0', '9001_expand_more')],
        });
      } finally {
        await database.close();
        later.remove();
      }
      const port = await freePort();
      for (const args of [
        ['start', '--port', String(port), '--data', data],
        ['migrate', '--data', data],
      ]) {
        const r = await run(args);
        expect(r.code, `${args[0]}: ${r.err}`).toBe(3);
        expect(r.out).not.toContain('Parley is running');
        expect(r.err).not.toMatch(/\n\s+at /);
        const lines = r.err.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^parley: this database was migrated by Parley 9\.2\.0 \(up to migration 9002_contract\)/,
        );
        expect(lines[0]).toContain(`Parley ${PARLEY_VERSION} (migrations up to ${ours})`);
        expect(lines[0]).toContain('or restore the backup taken before the upgrade');
      }
      expect(existsSync(path.join(data, 'owner.lock'))).toBe(false);
    },
    SLOW * 2,
  );
});
