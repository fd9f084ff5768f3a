/**
 * Child processes for the benchmark: every server under test and every load generator runs
 * in its own process, started here with `node --import tsx`, spoken to over IPC (a small
 * request/answer protocol), measured from /proc, and killed when the run ends — normally,
 * on an error, on Ctrl-C or on the global deadline.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const children = new Set<ChildProcess>();
/** Processes a child started that are not Node children of ours (ejabberd's Erlang VM). */
const extraPids = new Set<number>();

/** Kill `pid` with the rest at the end of the run (a grandchild that outlives a SIGKILLed child). */
export function trackPid(pid: number): void {
  extraPids.add(pid);
}

/** Kill one tracked pid now (SIGKILL), if still running. */
export function killPid(pid: number): void {
  extraPids.delete(pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Kill every child this process started (by pid, SIGKILL), once. */
export function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
  for (const pid of [...extraPids]) killPid(pid);
}

const signalHooks: (() => Promise<void>)[] = [];
/** Run `fn` (bounded to 5 s) after the children are killed on Ctrl-C / SIGTERM. */
export function onSignal(fn: () => Promise<void>): void {
  signalHooks.push(fn);
}

let stopping = false;
/** True once a signal asked the run to stop: nothing new may start. */
export const isStopping = () => stopping;

let hooked = false;
export function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      stopping = true;
      process.stderr.write(`\n${sig}: stopping every bench process\n`);
      killAll();
      void Promise.race([
        Promise.allSettled(signalHooks.map((f) => f())),
        new Promise((r) => setTimeout(r, 5000)),
      ]).finally(() => process.exit(130));
    });
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One child process with a request/answer channel. */
export class Child {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: ((m: Record<string, unknown>) => boolean)[] = [];
  private stderrTail = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d}`);
    });
    proc.stdout?.on('data', (d: Buffer) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d}`);
    });
    // Writing to a child that just died (EPIPE) must not crash the orchestrator.
    proc.on('error', () => {});
    proc.on('message', (m: Record<string, unknown>) => {
      if (typeof m.id === 'number' && this.pending.has(m.id)) {
        const p = this.pending.get(m.id) as Pending;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`${name}: ${String(m.error)}`));
        return;
      }
      for (let i = 0; i < this.waiters.length; i++) {
        if ((this.waiters[i] as (m: Record<string, unknown>) => boolean)(m)) {
          this.waiters.splice(i, 1);
          return;
        }
      }
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        children.delete(proc);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(`${name} exited (${signal ?? code}) ${this.tail()}`));
        }
        this.pending.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Last lines the child wrote to stderr (for error messages). */
  tail(): string {
    const t = this.stderrTail.trim();
    return t ? `\n--- ${this.name} stderr ---\n${t.split('\n').slice(-15).join('\n')}` : '';
  }

  /** Send a command and wait for its answer (bounded by `timeoutMs`). */
  call<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: "${cmd}" took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      if (!this.proc.connected) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(`${this.name} is not running ${this.tail()}`));
        return;
      }
      this.proc.send({ id, cmd, args }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(`${this.name}: could not send "${cmd}": ${err.message}`));
      });
    });
  }

  /** Wait for an unsolicited message the predicate accepts. */
  waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs: number, what: string) {
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms ${this.tail()}`)),
        timeoutMs,
      );
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before ${what} ${this.tail()}`));
      });
      this.waiters.push((m) => {
        if (!pred(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  }

  /**
   * SIGKILL (servers are measured, not shut down politely) and wait for the exit. A server run
   * with `--cpu-prof` in BENCH_SERVER_NODE_ARGS is asked to exit first (its IPC channel closed),
   * so that its threads write their profiles.
   */
  async kill(): Promise<void> {
    if (this.proc.connected && process.env.BENCH_SERVER_NODE_ARGS?.includes('--cpu-prof')) {
      this.proc.disconnect();
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

/** Raise the soft limit on open files to the hard one, then become `$0 "$@"` (node). */
const RAISE_FDS = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

/** A process's soft limit on open files, from `/proc/<pid>/limits` (NaN if unreadable). */
export function openFilesLimit(pid: number): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1]);
  } catch {
    return Number.NaN;
  }
}

/** Start `script` (relative to bench/) in its own Node process with tsx and IPC. */
export async function spawnChild(
  name: string,
  script: string,
  opts: { env?: Record<string, string | undefined>; readyTimeoutMs?: number; heapMb?: number } = {},
): Promise<{ child: Child; ready: Record<string, unknown> }> {
  hookExit();
  if (stopping) throw new Error('the run is stopping');
  const execArgv = ['--conditions=@parley/source', '--import', 'tsx', '--expose-gc'];

  if (opts.heapMb) execArgv.push(`--max-old-space-size=${opts.heapMb}`);
  if (script.startsWith('servers/') && process.env.BENCH_SERVER_NODE_ARGS)
    execArgv.push(...process.env.BENCH_SERVER_NODE_ARGS.split(/\s+/).filter(Boolean));
  // Node is started through `sh -c 'ulimit -n <hard>; exec node …'`: a child's soft limit on
  // open files is raised to its hard limit in that child alone (a server holding 10,000 sockets
  // needs more than a common soft limit of 1,024), never on the machine or in this process.
  // Node on POSIX raises its own soft limit at startup too; the shell makes it the bench's
  // doing, whatever runtime it starts, and `openFilesLimit` shows the result. The IPC
  // descriptor survives the exec; the pid is the same before and after it.
  const proc = fork(path.join(BENCH_DIR, script), [], {
    execPath: '/bin/sh',
    execArgv: ['-c', RAISE_FDS, process.execPath, ...execArgv],
    env: { ...process.env, ...opts.env, BENCH_CHILD: name },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(proc);
  const child = new Child(name, proc);
  const ready = await child.waitFor((m) => m.event === 'ready', opts.readyTimeoutMs ?? 60_000, 'ready');
  return { child, ready };
}

/** A process's command name and CPU time (user + system, ms), from `/proc/<pid>/stat`. */
function statOf(pid: number): { comm: string; cpuMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: ticks * 10 };
}

/**
 * How long the main threads of `pids` have waited for a core while runnable (ms, from
 * `/proc/<pid>/schedstat`'s second field): time an event loop had work and no CPU to run it on.
 */
export function runQueueMs(pids: number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // gone, or a kernel without schedstats: counts nothing
    }
  }
  return ns / 1e6;
}

/** CPU time (user + system, ms) and RSS (bytes) of a process, read from /proc. */
export function procStats(pid: number): { cpuMs: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuMs: statOf(pid).cpuMs, rss: Number(m?.[1] ?? 0) * 1024 };
}

/**
 * CPU of the whole machine since boot, split as the bench needs it: `pids`' own (utime + stime,
 * ms), every PostgreSQL process's, and the machine's busy time (all cores, from /proc/stat). Two
 * readings subtracted give who used the CPU over a window: the server alone is not the cost of a
 * connect when the load generators and the database share its two cores.
 */
export function machineCpu(pids: number[]): { pids: number; postgres: number; busy: number } {
  const own = (pid: number) => {
    try {
      return statOf(pid);
    } catch {
      return { comm: '', cpuMs: 0 }; // gone between the listing and the read
    }
  };
  let postgres = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = own(Number(name));
    if (p.comm === 'postgres') postgres += p.cpuMs;
  }
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = cpu.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + v), 0) * 10;
  return { pids: pids.reduce((a, pid) => a + own(pid).cpuMs, 0), postgres, busy };
}

// ---- the child side ----

type Handler = (args: never) => unknown;

/**
 * In a child: answer commands from the parent and exit when the parent goes away (so an
 * orchestrator that dies cannot leave servers or generators behind).
 */
export function serve(handlers: Record<string, Handler>, ready: Record<string, unknown> = {}): void {
  process.on('message', async (m: { id: number; cmd: string; args: unknown }) => {
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args as never);
      process.send?.({ id: m.id, ok: true, result: result ?? null });
    } catch (err) {
      process.send?.({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ event: 'ready', ...ready });
}

/**
 * This process's longest event-loop stall since the last `reset`, ms: GC, a burst of frames or
 * no free core. A child measuring latency (a load generator, the receiver) holds up everything
 * it handles for as long, which is the bench's own delay, not the server's.
 */
export function stallMonitor(): { reset(): void; stallMs(): number } {
  // Sampled every SAMPLE_MS: the stall is what the longest gap had beyond that.
  const SAMPLE_MS = 20;
  const h = monitorEventLoopDelay({ resolution: SAMPLE_MS });
  h.enable();
  return { reset: () => h.reset(), stallMs: () => Math.max(0, h.max / 1e6 - SAMPLE_MS) };
}

/** Commands every server child answers. */
export const serverCommon = {
  gc: async () => {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) {
      g();
      await new Promise((r) => setTimeout(r, 50));
      g();
    }
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  },
  stats: () => ({ rss: process.memoryUsage().rss, cpu: process.cpuUsage() }),
  /** A V8 heap snapshot to `file` (BENCH_HEAP_DIR in the idle scenario), for DevTools' Memory tab. */
  heapSnapshot: (a: { file: string }) => writeHeapSnapshot(a.file),
  exit: () => {
    setTimeout(() => process.exit(0), 20);
    return null;
  },
};

/** Run a plain script (no IPC) in its own process; killed with the rest on exit or on timeout. */
export async function runScript(
  script: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs: number; onStderr?: (line: string) => void },
): Promise<{ code: number | null; stdout: string; timedOut: boolean }> {
  hookExit();
  const proc = fork(path.join(BENCH_DIR, script), args, {
    execArgv: ['--conditions=@parley/source', '--import', 'tsx'],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(proc);
  let stdout = '';
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      opts.onStderr?.(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (proc.pid) process.kill(proc.pid, 'SIGKILL');
  }, opts.timeoutMs);
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  clearTimeout(timer);
  children.delete(proc);
  return { code, stdout, timedOut };
}

/** Machine-wide TCP counters that tell a late acknowledgement from a lost segment. */
export interface TcpCounters {
  /** Segments sent again (`Tcp: RetransSegs`), whatever the reason. */
  retransmits: number;
  /**
   * Tail-loss probes (`TcpExt: TCPLossProbes`), nearly all of the retransmits on loopback: a
   * segment sent again (or a new one) when its ACK is later than about two round trips. On
   * loopback the round trip is microseconds and the receiver of a push that it does not answer
   * delays its ACK (up to 40 ms), so a probe fires for data that arrived; the receiver reports
   * the duplicate (DSACK) and nothing waits on it.
   */
  probes: number;
  /** Retransmission timeouts (`TcpExt: TCPTimeouts`): the 200 ms minimum RTO, a real stall. */
  timeouts: number;
}

function counters(file: string, prefix: string): Map<string, number> {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix));
  const out = new Map<string, number>();
  // Each prefix has a header line and a values line, in pairs.
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = (lines[i] as string).split(/\s+/);
    const vals = (lines[i + 1] as string).split(/\s+/);
    for (const [j, k] of head.entries()) if (j > 0) out.set(k, Number(vals[j] ?? 0));
  }
  return out;
}

/** The machine's TCP counters now (/proc/net/snmp and /proc/net/netstat); zeros if unreadable. */
export function tcpCounters(): TcpCounters {
  try {
    const tcp = counters('/proc/net/snmp', 'Tcp:');
    const ext = counters('/proc/net/netstat', 'TcpExt:');
    return {
      retransmits: tcp.get('RetransSegs') ?? 0,
      probes: ext.get('TCPLossProbes') ?? 0,
      timeouts: ext.get('TCPTimeouts') ?? 0,
    };
  } catch {
    return { retransmits: 0, probes: 0, timeouts: 0 };
  }
}
