/**
 * The moving parts of the chaos tests, all real and all on loopback: `parley start` node
 * processes, a private redis-server, a TCP proxy in front of PostgreSQL that can be cut, and a
 * round-robin TCP load balancer in front of the nodes. Everything started here is recorded, so
 * `closeAll()` leaves nothing behind even when a test fails half-way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../../server/test/free-port.js';

export { freePort } from '../../../server/test/free-port.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** This checkout's `parley` command. */
export const BIN = path.join(ROOT, 'packages/cli/bin/parley.mjs');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns truthy; throw after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, label: string, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await sleep(stepMs);
  }
}

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** What `closeAll()` has to stop. */
const cleanups: (() => Promise<void> | void)[] = [];

/** Stop everything started here, newest first; never throws. */
export async function closeAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort: the next one still runs
    }
  }
}

// ---- child processes --------------------------------------------------------------------------

interface Child {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The tail of stdout + stderr. */
  output(): string;
}

const LOG_TAIL = 256 * 1024;

function spawnChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Child {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const partial = { stdout: '', stderr: '' };
  const take = (which: 'stdout' | 'stderr') => (d: Buffer) => {
    const text = d.toString();
    out += text;
    if (out.length > LOG_TAIL * 2) out = out.slice(-LOG_TAIL);
    if (!onLine) return;
    const lines = (partial[which] + text).split('\n');
    partial[which] = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l);
  };
  child.stdout?.on('data', take('stdout'));
  child.stderr?.on('data', take('stderr'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
  };
  cleanups.push(kill);
  return { child, exited, output: () => out };
}

// ---- PostgreSQL -------------------------------------------------------------------------------

/** A fresh database on the server of `url`, and how to drop it. */
export async function scratchDatabase(url: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `parley_chaos_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  };
  cleanups.push(drop);
  return { url: u.toString(), name, drop };
}

/**
 * A TCP proxy the test can cut: `cut()` destroys every open connection and stops listening (new
 * connections are refused), `restore()` listens on the same port again.
 */
export class CutProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  accepted = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly label: string,
  ) {
    cleanups.push(() => this.close());
  }

  async start(): Promise<number> {
    this.port = await freePort();
    await this.listen();
    return this.port;
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  private async listen(): Promise<void> {
    const server = net.createServer((client) => {
      this.accepted++;
      const upstream = net.connect(this.target);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    // The port was ours a moment ago; retry briefly if the kernel still holds it.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        if (attempt >= 20) throw new Error(`${this.label}: cannot listen on ${this.port} again: ${e}`);
        await sleep(100);
      }
    }
    this.server = server;
  }

  /** Refuse new connections and drop the open ones (as a dead network or server would). */
  cut(): number {
    const server = this.server;
    this.server = null;
    server?.close();
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return n;
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  close(): void {
    this.cut();
  }
}

// ---- Redis ------------------------------------------------------------------------------------

export function redisServerBinary(): string | null {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/opt/homebrew/bin/redis-server'])
    if (existsSync(p)) return p;
  return null;
}

/** A redis-server of our own on a loopback port: no persistence, so a restart starts empty. */
export class PrivateRedis {
  private proc: Child | null = null;
  port = 0;
  starts = 0;

  constructor(private readonly binary: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    this.proc = spawnChild(
      this.binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { ...process.env },
    );
    this.starts++;
    const proc = this.proc;
    await until(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`redis-server exited:\n${proc.output()}`);
        return accepts(this.port);
      },
      10_000,
      'redis-server to accept connections',
    );
  }

  /** kill -9, and wait until it is gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

// ---- parley nodes -----------------------------------------------------------------------------

export interface NodeEnv {
  databaseUrl: string;
  redisUrl: string;
  masterKey: string;
  adminToken: string;
  /** More environment for the node (PARLEY_TRUST_PROXY behind a proxy…). */
  extra?: Record<string, string>;
}

/** One `parley start` process; `start()` again after a kill runs the same command. */
export class ParleyNode {
  private proc: Child | null = null;
  readonly dataDir: string;
  port = 0;
  starts = 0;
  /** The `parley` command its next `start()` runs: this checkout's, or another release's (upgrade test). */
  bin = BIN;

  constructor(
    readonly id: string,
    private readonly env: NodeEnv,
  ) {
    this.dataDir = mkdtempSync(path.join(tmpdir(), `parley-chaos-${id}-`));
    cleanups.push(() => rmSync(this.dataDir, { recursive: true, force: true }));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  get alive(): boolean {
    return !!this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Log lines printed so far, by `level msg` (pino JSON; other lines as `text`). */
  readonly logCounts = new Map<string, number>();

  private countLine(line: string): void {
    if (/^(Parley is running|API docs)/.test(line)) return;
    let key = `text ${line.slice(0, 100)}`;
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = j.level === 60 ? 'fatal' : j.level === 50 ? 'error' : j.level === 40 ? 'warn' : String(j.level);
      key = `${level} ${j.msg ?? ''}${j.err?.message ? ` (${j.err.message.slice(0, 80)})` : ''}`;
    } catch {
      // not JSON: a plain line (start-up banner, a crash trace)
    }
    this.logCounts.set(key, (this.logCounts.get(key) ?? 0) + 1);
  }

  /** Everything the process printed (its warn/error logs). */
  output(): string {
    return this.proc?.output() ?? '';
  }

  async start(timeoutMs: number): Promise<void> {
    if (!this.port) this.port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['PARLEY_TEST_DB', 'PARLEY_TEST_PG_URL', 'PARLEY_CHAOS_PG_URL', 'HOST', 'PORT', 'PARLEY_DATA_DIR'])
      delete env[k];
    Object.assign(env, {
      DATABASE_URL: this.env.databaseUrl,
      REDIS_URL: this.env.redisUrl,
      PARLEY_MASTER_KEY: this.env.masterKey,
      PARLEY_ADMIN_TOKEN: this.env.adminToken,
      PARLEY_NODE_ID: this.id,
      LOG_LEVEL: 'warn',
      // Rate limits stay on (they go through Redis, which scenario B restarts) but never bite.
      PARLEY_RATE_MESSAGES: '100000',
      PARLEY_HTTP_RATE_PER_IP: '1000000',
      PARLEY_HTTP_RATE_PER_USER: '1000000',
      PARLEY_HTTP_RATE_PER_SERVER: '1000000',
      ...this.env.extra,
    });
    this.proc = spawnChild(
      process.execPath,
      [this.bin, 'start', '--port', String(this.port), '--data', this.dataDir, '--workers', '1'],
      env,
      (line) => this.countLine(line),
    );
    this.starts++;
    const proc = this.proc;
    await until(
      async () => {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null)
          throw new Error(`${this.id} exited during start-up:\n${proc.output()}`);
        try {
          const r = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(1_000) });
          return r.status === 200;
        } catch {
          return false;
        }
      },
      timeoutMs,
      `${this.id} to answer /healthz`,
      100,
    );
  }

  /** SIGTERM, as a service manager stops it; resolves with how the process ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const proc = this.proc;
    if (!proc) return { code: null, signal: null };
    proc.child.kill('SIGTERM');
    return proc.exited;
  }

  /** `kill -9`; resolves once the process is gone. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  async readyz(): Promise<number> {
    try {
      const r = await fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return r.status;
    } catch {
      return 0;
    }
  }

  /** Open WebSocket connections, from the node's /metrics. */
  async openSockets(): Promise<number> {
    const r = await fetch(`${this.base}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const m = /^parley_ws_open_sockets(?:\{[^}]*\})? (\d+)/m.exec(await r.text());
    return Number(m?.[1] ?? 0);
  }
}

// ---- load balancer ----------------------------------------------------------------------------

interface Routed {
  tag: string | null;
  backend: number;
  websocket: boolean;
  open: boolean;
}

/**
 * A TCP load balancer on one loopback port: each new connection goes to the next backend in
 * round-robin order, skipping backends that refuse it. WebSocket upgrades and plain HTTP keep
 * their own rotation, so sockets spread evenly whatever the REST traffic does. A `chaos_client`
 * query parameter on the upgrade names the client, so the test can see where each one landed.
 * When a backend connection ends, the client's connection is dropped with it.
 */
export class Balancer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly rr = { ws: 0, http: 0 };
  /** Every WebSocket connection routed so far. */
  readonly routed: Routed[] = [];
  httpConnections = 0;
  port = 0;

  constructor(private readonly backends: () => number[]) {
    cleanups.push(() => this.close());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Where each client's open WebSocket is, by tag: backend index (0-based). */
  placement(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.routed) if (r.open && r.websocket && r.tag) m.set(r.tag, r.backend);
    return m;
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => this.sockets.delete(client));
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const nl = head.indexOf('\r\n\r\n');
      if (nl < 0 && head.length < 16 * 1024) return;
      client.off('data', onData);
      client.pause();
      const text = head.subarray(0, nl < 0 ? head.length : nl).toString('latin1');
      const websocket = /^upgrade:\s*websocket/im.test(text);
      const tag = /[?&]chaos_client=([\w-]+)/.exec(text.split('\r\n', 1)[0] ?? '')?.[1] ?? null;
      this.route(client, head, websocket, tag);
    };
    client.on('data', onData);
  }

  private route(client: net.Socket, head: Buffer, websocket: boolean, tag: string | null): void {
    const ports = this.backends();
    const kind = websocket ? 'ws' : 'http';
    const first = this.rr[kind]++ % ports.length;
    const attempt = (i: number) => {
      if (client.destroyed) return;
      if (i >= ports.length) {
        client.destroy(); // every backend refused
        return;
      }
      const backend = (first + i) % ports.length;
      const upstream = net.connect({ port: ports[backend] as number, host: '127.0.0.1' });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        this.sockets.add(upstream);
        const entry: Routed = { tag, backend, websocket, open: true };
        if (websocket) this.routed.push(entry);
        else this.httpConnections++;
        const end = () => {
          entry.open = false;
          client.destroy();
          upstream.destroy();
          this.sockets.delete(upstream);
        };
        upstream.on('close', end);
        client.on('close', end);
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (!connected)
          attempt(i + 1); // refused: skip this backend
        else upstream.destroy();
      });
    };
    attempt(0);
  }

  close(): void {
    this.server?.close();
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
