/**
 * ejabberd under test (the Debian package, 23.01): a real chat server as the bench's peer.
 * This child writes bench/ejabberd/ejabberd.yml.in out with a free port, the scratch database
 * (BENCH_DATABASE_URL, made by the orchestrator from the `ejabberd_bench` template that
 * bench/ejabberd/setup.sh loads with the packaged pg.sql) and a spool folder of its own, and
 * starts `erl -s ejabberd` directly (no ejabberdctl, no Erlang distribution, no epmd): the
 * Erlang VM (beam.smp) is a process of its own, whose pid goes back to the orchestrator in
 * the ready message, so its CPU and RSS are read from /proc exactly as Node servers' are.
 *
 * Listens on 127.0.0.1 only: ejabberd_http with `/ws` (XMPP over WebSocket, RFC 7395) and
 * `/api` (mod_http_api, used for setup: rooms). Storage: users, rooms and the MUC archive
 * (mod_mam, every groupchat message) on PostgreSQL. The VM is killed with its wrapper: on
 * `exit`, on the parent's disconnect, and by the orchestrator (by pid) at the end of the run.
 *
 * Commands beside the common ones: `sockets` (the VM's connected sessions, via the API),
 * `api` (one mod_http_api call), `rooms` (create rooms, a few at a time).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCH_DIR, serve } from '../lib/proc.js';

const env = process.env;
const ERL = env.BENCH_ERL || '/usr/bin/erl';
const ERL_LIBS = env.BENCH_EJABBERD_LIBS || '/usr/lib/x86_64-linux-gnu';
if (!existsSync(ERL) || !existsSync(path.join(ERL_LIBS, 'ejabberd-23.01-1')))
  throw new Error('ejabberd is not installed: run bench/ejabberd/setup.sh (apt-get install ejabberd erlang-p1-pgsql)');
const dbUrl = new URL(env.BENCH_DATABASE_URL as string);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const t0 = performance.now();
const port = await freePort();
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-ejabberd-'));
const config = readFileSync(path.join(BENCH_DIR, 'ejabberd', 'ejabberd.yml.in'), 'utf8')
  .replaceAll('@PORT@', String(port))
  .replaceAll('@DB@', dbUrl.pathname.slice(1))
  .replaceAll('@SPOOL@', dir);
writeFileSync(path.join(dir, 'ejabberd.yml'), config);

// The same VM flags as ejabberdctl (kernel poll, enough processes and ports), minus distribution.
const vm: ChildProcess = spawn(
  ERL,
  [
    '-noinput',
    '-noshell',
    '+K',
    'true',
    '+P',
    '1000000',
    '+Q',
    '100000',
    '-mnesia',
    'dir',
    `"${dir}"`,
    '-s',
    'ejabberd',
  ],
  {
    cwd: dir,
    env: {
      ...env,
      EJABBERD_CONFIG_PATH: path.join(dir, 'ejabberd.yml'),
      EJABBERD_LOG_PATH: path.join(dir, 'ejabberd.log'),
      ERL_LIBS,
      ERL_MAX_PORTS: '100000',
      ERL_CRASH_DUMP_BYTES: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let vmOut = '';
vm.stdout?.on('data', (d: Buffer) => {
  vmOut = (vmOut + d.toString()).slice(-4000);
});
vm.stderr?.on('data', (d: Buffer) => {
  vmOut = (vmOut + d.toString()).slice(-4000);
});
const killVm = () => {
  if (vm.pid && vm.exitCode === null && vm.signalCode === null) {
    try {
      process.kill(vm.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', killVm);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    killVm();
    process.exit(130);
  });
vm.once('exit', (code) => {
  process.stderr.write(`ejabberd VM exited (${code}):\n${vmOut}\n`);
  process.exit(1);
});

const base = `http://127.0.0.1:${port}`;
async function api<T = unknown>(cmd: string, body: unknown, timeoutMs = 30_000): Promise<T> {
  const r = await fetch(`${base}/api/${cmd}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`ejabberd api ${cmd}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

// Up when the API answers (bounded: 60 s).
const deadline = performance.now() + 60_000;
for (;;) {
  try {
    await api('status', {}, 2000);
    break;
  } catch (e) {
    if (performance.now() > deadline)
      throw new Error(`ejabberd did not start within 60 s: ${(e as Error).message}\n${vmOut}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

serve(
  {
    gc: () => null,
    stats: () => null,
    exit: () => {
      setTimeout(() => process.exit(0), 20);
      return null;
    },
    sockets: async () => (await api<{ num_sessions: number }>('connected_users_number', {})).num_sessions,
    api: (a: { cmd: string; body: unknown }) => api(a.cmd, a.body),
    /** Persistent MUC rooms with the configured defaults (MAM on), `parallel` requests at a time. */
    rooms: async (a: { names: string[]; parallel?: number; options?: { name: string; value: string }[] }) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: a.parallel ?? 8 }, async () => {
          while (next < a.names.length) {
            const name = a.names[next++] as string;
            const r = await api<number>('create_room_with_opts', {
              name,
              service: 'conference.localhost',
              host: 'localhost',
              options: a.options ?? [],
            });
            if (r !== 0) throw new Error(`create_room_with_opts ${name}: ${JSON.stringify(r)}`);
          }
        }),
      );
      return a.names.length;
    },
  },
  {
    url: base,
    pid: vm.pid,
    /** Config, spool and log: removed by the orchestrator too (this wrapper dies by SIGKILL). */
    dir,
    startMs: performance.now() - t0,
    database: 'postgresql',
    xmppHost: 'localhost',
    mucHost: 'conference.localhost',
  },
);
