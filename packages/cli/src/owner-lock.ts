/**
 * One owner per data folder.
 *
 * An embedded PGlite database is a folder of files that exactly one process may have open: a
 * second opener corrupts it (a server once died on a half-applied migration because
 * `parley app create` opened the folder while it was still starting). So whoever opens the
 * folder — `parley start`, or a command that works on the database directly — first takes
 * `<data>/owner.lock`, a small JSON file saying who holds it (pid, host name, and for a
 * server its port and whether it is ready). Everyone else reads it and talks to the owner's
 * admin API, waits, or refuses; nobody opens the folder beside it.
 *
 * - Taking it is atomic: the full record is written to a private temporary file and then
 *   hard-linked to `owner.lock`, which fails if the name exists. A reader never sees a
 *   half-written record.
 * - It is released on exit (normal exit, and SIGTERM/SIGINT, which end in `process.exit`).
 * - A record left by a dead process (SIGKILL, power loss) is stale: its pid no longer runs,
 *   or runs a different program (Linux: another start time in /proc). Stale records are
 *   removed under a second, short-lived lock (`owner.lock.takeover`) after reading them
 *   again, so two starters racing over one stale record cannot both win: the loser finds
 *   the winner's fresh record and sees a live owner.
 * - A record written on another host (a data folder on a network share, or a volume that a
 *   new container mounts after the old one was killed) cannot be checked by pid. Its holder
 *   touches the file every 10 s, so one untouched for a minute is stale there.
 *
 * Why not `proper-lockfile`: it decides staleness by an mtime it refreshes on a timer, so a
 * live server whose event loop is busy for a few seconds (PGlite's WASM start-up, a long
 * migration) would have its lock declared stale and taken; and it keeps no pid or port, which
 * is what the other commands need to find the owner. A pid check is exact on one machine.
 *
 * This module imports only node built-ins: the commands that just read it must start fast.
 */
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'owner.lock';

/** What `owner.lock` holds. */
export interface LockRecord {
  /** `start`: a server; `command`: a CLI command working on the database directly. */
  kind: 'start' | 'command';
  /** The command line's verb, for messages: `start`, `migrate`, `app create` … */
  command: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  pid_start: string | null;
  host: string;
  /** Where a server listens (`kind: 'start'`); port 0 until it knows its real one. */
  listen_host: string | null;
  port: number | null;
  state: 'starting' | 'ready';
  started_at: string;
  /** Random: identifies this very record when it is re-read. */
  nonce: string;
  /** When the file was last touched (read from the file system, not stored in it). */
  mtimeMs?: number;
}

/** How often a holder touches its lock file, and after how long one on another host is stale. */
const TOUCH_MS = 10_000;
const FOREIGN_STALE_MS = 60_000;

/** The lock this process holds, so it can update and release it. */
export interface HeldLock {
  file: string;
  record: LockRecord;
  /** Rewrite the record (same nonce), e.g. `starting` → `ready` with the real port. */
  update(patch: Partial<Pick<LockRecord, 'state' | 'port' | 'listen_host'>>): void;
  release(): void;
}

export type Acquired = { held: HeldLock } | { owner: LockRecord };

/** The start time of a process (Linux only; null elsewhere or when it is gone). */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `r` still runs (true when that cannot be known). */
export function isAlive(r: LockRecord): boolean {
  if (r.host !== hostname()) return r.mtimeMs === undefined || Date.now() - r.mtimeMs < FOREIGN_STALE_MS;
  // Our own pid, in a record we did not write in this process: a previous run in a container
  // that got the same pid. Held locks of this process never reach here.
  if (r.pid === process.pid) return false;
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (r.pid_start) {
    const now = processStart(r.pid);
    if (now !== null && now !== r.pid_start) return false;
  }
  return true;
}

/**
 * The record in the data folder: null when there is none (or it is being written, see
 * createExclusive), 'invalid' when the file holds something else.
 */
export function readLock(dataDir: string): LockRecord | null | 'invalid' {
  let text: string;
  let mtimeMs: number | undefined;
  try {
    const file = path.join(dataDir, LOCK_FILE);
    text = readFileSync(file, 'utf8');
    mtimeMs = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return null;
  }
  if (text === '' && mtimeMs !== undefined && Date.now() - mtimeMs < 2_000) return null;
  try {
    const r = JSON.parse(text) as LockRecord;
    if (typeof r.pid !== 'number' || typeof r.nonce !== 'string') return 'invalid';
    if (mtimeMs !== undefined) r.mtimeMs = mtimeMs;
    return r;
  } catch {
    return 'invalid';
  }
}

/** The live owner of the data folder, or null. */
export function liveOwner(dataDir: string): LockRecord | null {
  const r = readLock(dataDir);
  if (r === null) return null;
  if (r === 'invalid') throw new InvalidLockError(path.join(dataDir, LOCK_FILE));
  return isAlive(r) ? r : null;
}

export class InvalidLockError extends Error {
  constructor(file: string) {
    super(`${file} is not a Parley lock file; remove it if no Parley process uses this data folder`);
  }
}

const held = new Set<HeldLock>();
let exitHookInstalled = false;

function writeAtomically(file: string, body: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, body, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Take the data folder's lock, or learn who holds it. Never waits: callers decide whether
 * to wait for a starting server or a finishing command.
 */
export function acquireLock(
  dataDir: string,
  who: Pick<LockRecord, 'kind' | 'command'> & Partial<Pick<LockRecord, 'listen_host' | 'port'>>,
): Acquired {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const record: LockRecord = {
    kind: who.kind,
    command: who.command,
    pid: process.pid,
    pid_start: processStart(process.pid),
    host: hostname(),
    listen_host: who.listen_host ?? null,
    port: who.port ?? null,
    state: 'starting',
    started_at: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const tmp = `${file}.${process.pid}.${record.nonce}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  try {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        createExclusive(tmp, file, record);
        return { held: hold(file, record) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = readLock(dataDir);
      if (current === null) continue; // released just now: try again
      if (current === 'invalid') throw new InvalidLockError(file);
      if (isAlive(current)) return { owner: current };
      removeStale(file, current);
    }
    throw new Error(`could not take ${file}: it keeps changing`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/**
 * Create `file` with the record, failing with EEXIST if it exists: a hard link from the
 * complete temporary file, or — on a file system without hard links — an exclusive create,
 * whose reader may then briefly see an empty file (and retries, see readLock's callers).
 */
function createExclusive(tmp: string, file: string, record: LockRecord): void {
  try {
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    writeFileSync(file, `${JSON.stringify(record)}\n`, { flag: 'wx', mode: 0o600 });
  }
}

/** Remove a stale record under the takeover lock, after checking it is still the same one. */
function removeStale(file: string, stale: LockRecord): void {
  const guard = `${file}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Someone else is taking over. A guard older than 2 s was left by a crash mid-takeover
    // (the takeover itself is a read and an unlink, done without yielding).
    try {
      if (Date.now() - statSync(guard).mtimeMs > 2_000) unlinkSync(guard);
    } catch {
      // gone meanwhile
    }
    sleepSync(20);
    return;
  }
  try {
    const again = readLock(path.dirname(file));
    if (again !== null && again !== 'invalid' && again.nonce === stale.nonce) unlinkSync(file);
  } finally {
    unlinkSync(guard);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function hold(file: string, record: LockRecord): HeldLock {
  // Keeps the file fresh for readers on other hosts (see isAlive); unref'd, so it never keeps
  // the process alive.
  const touch = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // gone: released, or removed by hand
    }
  }, TOUCH_MS);
  touch.unref();
  const lock: HeldLock = {
    file,
    record,
    update(patch) {
      Object.assign(record, patch);
      writeAtomically(file, `${JSON.stringify(record)}\n`);
    },
    release() {
      if (!held.delete(lock)) return;
      clearInterval(touch);
      // Only remove the file if it is still ours (it always should be).
      const r = readLock(path.dirname(file));
      if (r !== null && r !== 'invalid' && r.nonce === record.nonce) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
  held.add(lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Every way out of a Node process that runs JavaScript passes here: return from main,
    // process.exit (the server's SIGTERM/SIGINT handler ends in it), an uncaught exception.
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}

/** How a holder is named in messages. */
export function describeOwner(r: LockRecord): string {
  const where = r.host === hostname() ? `pid ${r.pid}` : `pid ${r.pid} on host ${r.host}`;
  if (r.kind === 'start') {
    const url = r.port ? ` at ${ownerUrl(r)}` : '';
    return `a Parley server (${where}${url}${r.state === 'starting' ? ', still starting' : ''})`;
  }
  return `\`parley ${r.command}\` (${where})`;
}

/** The URL to reach a server owner on from this machine. */
export function ownerUrl(r: LockRecord): string {
  const h = r.listen_host;
  const host = !h || h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${r.port}`;
}
