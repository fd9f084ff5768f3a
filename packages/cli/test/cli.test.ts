/**
 * The `parley` command as an operator runs it: real child processes of
 * `node packages/cli/bin/parley.mjs`, a temporary data folder, a free loopback port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'packages/cli/bin/parley.mjs');
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/**
 * How long `start` may take to answer /healthz. It is ready in a few seconds on an idle
 * machine (10 s is the target); the wait is generous so a busy shared CI box does not flake.
 */
const STARTUP_WAIT_MS = 30_000;
/** Each test spawns one or two Node processes (tsx, PGlite): allow for a slow machine. */
const SLOW = 60_000;

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** The environment of an operator with nothing configured: embedded PGlite, generated secrets. */
function env(): NodeJS.ProcessEnv {
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
  ])
    delete e[k];
  return e;
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnParley(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, out: () => out, err: () => err, exited };
}

/** Run a command to completion (killed after `timeoutMs`). */
async function run(args: string[], timeoutMs = 45_000): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnParley(args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, out: p.out(), err: p.err() };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Start a server and wait until /healthz answers. */
async function startServer(port: number, data: string): Promise<Proc> {
  const p = spawnParley(['start', '--port', String(port), '--data', data]);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_WAIT_MS;
  let exitedEarly = false;
  void p.exited.then(() => {
    exitedEarly = true;
  });
  for (;;) {
    if (exitedEarly) throw new Error(`parley start exited early:\n${p.out()}\n${p.err()}`);
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(500) });
      if (r.status === 200 && p.out().includes('Parley is running at')) return p;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no /healthz in ${STARTUP_WAIT_MS} ms:\n${p.out()}\n${p.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(p: Proc): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const r = await p.exited;
  clearTimeout(timer);
  return r;
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('parley start / app / token, across a restart', () => {
  let port: number;
  let data: string;
  let base: string;
  let server: Proc | null = null;
  let adminToken: string;
  let created: { id: string; api_key: string; api_secret: string };
  let offlineToken = '';

  beforeAll(async () => {
    port = await freePort();
    data = tempDir();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (server) await stop(server);
  });

  const admin = (method: string, p: string) =>
    fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${adminToken}` } });

  it(
    'start answers /healthz and prints the URL and, on first start, the admin token',
    async () => {
      server = await startServer(port, data);
      const out = server.out();
      expect(out).toContain(`Parley is running at ${base}`);
      const m = /Admin token \(kept in (.+)\/admin-token\): (\S+)/.exec(out);
      expect(m, out).not.toBeNull();
      adminToken = m![2]!;
      expect(readFileSync(path.join(data, 'admin-token'), 'utf8').trim()).toBe(adminToken);
      // Loopback only by default.
      expect(out).not.toMatch(/0\.0\.0\.0/);
      const r = await admin('GET', '/v1/admin/apps');
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ apps: [] });
    },
    SLOW,
  );

  it(
    'app create --json prints {id, api_key, api_secret}, made by the running server',
    async () => {
      const r = await run(['app', 'create', '--name', 'x', '--json', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      created = JSON.parse(r.out.trim());
      expect(Object.keys(created).sort()).toEqual(['api_key', 'api_secret', 'id']);
      // The running server knows it at once: it went through its admin API.
      const list = (await (await admin('GET', '/v1/admin/apps')).json()) as { apps: { id: string; name: string }[] };
      expect(list.apps).toEqual([expect.objectContaining({ id: created.id, name: 'x' })]);
    },
    SLOW,
  );

  it(
    'token --app --user prints a JWT the server accepts',
    async () => {
      const r = await run(['token', '--app', created.id, '--user', 'u1', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      const token = r.out.trim();
      expect(token).toMatch(JWT);
      const me = await fetch(`${base}/v1/me`, {
        headers: { 'x-api-key': created.api_key, authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { id: string } }).user.id).toBe('u1');
    },
    SLOW,
  );

  it(
    'SIGTERM closes sockets with 4005 and exits 0',
    async () => {
      const minted = await fetch(`${base}/v1/admin/apps/${created.id}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'u2' }),
      });
      const { token } = (await minted.json()) as { token: string };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?api_key=${created.api_key}`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const hello = new Promise((resolve) => ws.once('message', resolve));
      ws.send(JSON.stringify({ type: 'auth', token }));
      await hello;
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

      const exit = await stop(server!);
      server = null;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await closed).toBe(4005);
    },
    SLOW,
  );

  it(
    'token works without a running server (straight from the data folder)',
    async () => {
      const r = await run(['token', '--app', created.id, '--user', 'u3', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toMatch(JWT);
      offlineToken = r.out.trim(); // checked against the restarted server below
    },
    SLOW,
  );

  it(
    'a second start on the same data folder keeps apps, admin token and secrets',
    async () => {
      server = await startServer(port, data);
      expect(server.out()).not.toContain('Admin token');
      const fromFile = readFileSync(path.join(data, 'admin-token'), 'utf8').trim();
      expect(fromFile).toBe(adminToken);
      const r = await admin('GET', '/v1/admin/apps');
      expect(r.status).toBe(200);
      const body = (await r.json()) as { apps: { id: string; api_key: string }[] };
      expect(body.apps).toEqual([expect.objectContaining({ id: created.id, api_key: created.api_key })]);
      // The token minted offline is signed with the same (unsealed) secret.
      const me = await fetch(`${base}/v1/me`, {
        headers: { 'x-api-key': created.api_key, authorization: `Bearer ${offlineToken}` },
      });
      expect(me.status).toBe(200);
      expect((await stop(server)).code).toBe(0);
      server = null;
    },
    SLOW,
  );
});

describe('parley migrate', () => {
  it(
    'brings a fresh data folder up to every migration, then applies none',
    async () => {
      const data = tempDir();
      const first = await run(['migrate', '--data', data]);
      expect(first.code, first.err).toBe(0);
      const m = /(\d+) migration\(s\) applied; (\d+) in all/.exec(first.out);
      expect(m, first.out).not.toBeNull();
      expect(Number(m![2])).toBeGreaterThan(0);
      // A fresh folder starts as a copy of the migrated template (packages/server/src/platform/db/
      // template.ts), which may already hold all of them: the migrator applies only the newer ones.
      expect(Number(m![1])).toBeLessThanOrEqual(Number(m![2]));

      const second = await run(['migrate', '--data', data]);
      expect(second.code, second.err).toBe(0);
      expect(second.out).toMatch(new RegExp(`^0 migration\\(s\\) applied; ${m![2]} in all`, 'm'));
    },
    SLOW,
  );

  it(
    'fails with a usage message and exit 1 on an unknown command',
    async () => {
      const r = await run(['frobnicate']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('Usage');
    },
    SLOW,
  );
});
