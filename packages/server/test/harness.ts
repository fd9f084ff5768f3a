/**
 * Test harness: a real server on a real database — PGlite (a fresh copy of the migrated
 * template per test file, `src/platform/db/template.ts`) or, in the `postgres` project, a fresh database per test file on the server named by
 * DATABASE_URL. Never a mock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import WebSocket from 'ws';
import { buildServer, type ParleyServer } from '../src/app.js';
import { signToken } from '../src/platform/auth.js';
import { type Config, defaultConfig, NO_HTTP_LIMITS, NO_LIMITS } from '../src/platform/config.js';
import { type Database, openDatabase } from '../src/platform/db/index.js';
import { runMigrations } from '../src/platform/db/migrate.js';
import { type Broker, MemoryBroker, MemoryNetwork } from '../src/realtime/broker.js';
import { RedisBroker } from '../src/realtime/redis-broker.js';
import { createPgDatabase, dropPgDatabase } from './pg-template.js';

export const ADMIN = 'test-admin-token';
/**
 * Config for tests that count the database statements an action makes: the server's background
 * work (notification jobs, inbox items, the search index's merges, usage samples, the busy sweep,
 * unread pushes) off, so
 * every counted statement is the action's own. Add `jobWorkers: false` where no test of the file
 * needs a job: the recurring jobs' sweeps run on their own timers too.
 */
export const QUIET = {
  notifications: false,
  inbox: false,
  searchFlushMs: 0,
  usageSampleSeconds: 86_400,
  busyCheckMs: 86_400_000,
  unreadPushMs: 0,
} as const;
export const backend = (process.env.PARLEY_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';

/**
 * A fresh, migrated database for one test file, and how to drop it; on PostgreSQL its URL too
 * (for a server that opens it itself, as the background thread does).
 */
export async function testDatabase(): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  if (backend === 'postgres') {
    const url = process.env.PARLEY_TEST_PG_URL as string;
    const name = `parley_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    // A copy of the migrated template (pg-template.ts), then the migrator, as on every start.
    const own = await createPgDatabase(url, name, { migrated: true });
    const database = await openDatabase({ url: own, poolSize: 8 });
    await runMigrations(database);
    return {
      database,
      url: own,
      async drop() {
        await database.close();
        await dropPgDatabase(url, name);
      },
    };
  }
  // A copy of the migrated template (what a first `parley start` uses too), then the migrator,
  // which applies anything newer than the template, as it does on every start.
  const database = await openDatabase({ template: true });
  await runMigrations(database);
  return { database, drop: () => database.close() };
}

export interface TestApp {
  id: string;
  apiKey: string;
  secret: string;
  /** Headers for a user token of this app. */
  user(userId: string): Promise<Record<string, string>>;
  server(): Promise<Record<string, string>>;
  token(userId: string | null, opts?: { expiresIn?: string | number }): Promise<string>;
}

export interface Harness {
  server: ParleyServer;
  app: FastifyInstance;
  database: Database;
  config: Config;
  /** `inject` that returns parsed JSON with the status. */
  call<T = any>(opts: InjectOptions): Promise<{ status: number; body: T }>;
  createApp(name?: string): Promise<TestApp>;
  /** Upsert users through the API (server token). */
  users(app: TestApp, users: { id: string; name?: string; username?: string; role?: string }[]): Promise<void>;
  /**
   * Listen on a loopback port (for sockets); returns the base URL. `port` picks the port
   * (e.g. a restarted server on the port the previous one used); default: a free one.
   */
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(
  overrides: Partial<Config> = {},
  opts: {
    broker?: Broker;
    database?: Database;
    logStream?: DestinationStream;
    clock?: () => number;
    eagerSchemas?: boolean;
  } = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-test-'));
  const own = opts.database ? null : await testDatabase();
  const database = opts.database ?? own!.database;
  const config = defaultConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    adminToken: ADMIN,
    logLevel: 'silent',
    presenceGraceMs: 200,
    rateMessages: 0,
    rateBlockSeconds: 0,
    // Rate limits (platform/limits.ts, platform/http-limits.ts) are tested with
    // their own config.
    limits: NO_LIMITS,
    httpLimits: NO_HTTP_LIMITS,
    // Many sign-ins, wrong passwords and mails from one loopback address: the limits and the
    // lockout are tested with their own config (test/accounts/recovery.pg.test.ts).
    signin: {
      ...defaultConfig().signin,
      perIp: 100_000,
      perAccount: 100_000,
      lockAfter: 0,
      mailPerWindow: 100_000,
      signupPerIp: 100_000,
      signupPerAddress: 100_000,
    },
    // A vacuum pass at every start (about 0.3 s on a fresh PGlite) would add up over the suite's
    // many short-lived servers and move the planner's statistics under tests that count
    // statements: tested with its own config (test/foundation/vacuum.pg.test.ts).
    vacuumMinutes: 0,
    ...overrides,
  });
  const server = await buildServer(config, {
    database,
    migrate: false,
    logger: false,
    ...(opts.broker ? { broker: opts.broker } : {}),
    ...(opts.logStream ? { logStream: opts.logStream } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.eagerSchemas ? { eagerSchemas: true } : {}),
  });
  const app = server.app;
  let url: string | null = null;
  const openSockets = new Map<Socket, string>();

  const call: Harness['call'] = async (o) => {
    const r = await app.inject(o);
    let body: any;
    try {
      body = r.body ? JSON.parse(r.body) : undefined;
    } catch {
      body = r.body;
    }
    return { status: r.statusCode, body };
  };

  return {
    server,
    app,
    database,
    config,
    call,
    async createApp(name = 'test') {
      const r = await call({
        method: 'POST',
        url: '/v1/admin/apps',
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: { name },
      });
      if (r.status !== 200) throw new Error(`createApp: ${r.status} ${JSON.stringify(r.body)}`);
      const { id, api_key: apiKey, api_secret: secret } = r.body;
      const token = (userId: string | null, o: { expiresIn?: string | number } = {}) => signToken(secret, userId, o);
      return {
        id,
        apiKey,
        secret,
        token,
        user: async (userId: string) => ({ 'x-api-key': apiKey, authorization: `Bearer ${await token(userId)}` }),
        server: async () => ({ 'x-api-key': apiKey, authorization: `Bearer ${await token(null)}` }),
      };
    },
    async users(tapp, users) {
      const r = await call({ method: 'POST', url: '/v1/users', headers: await tapp.server(), payload: { users } });
      if (r.status !== 200) throw new Error(`users: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async listen(port = 0) {
      if (url) return url;
      // Each socket the server holds, with the last request on it: a close that hangs names them.
      app.server.on('connection', (socket: Socket) => {
        // Until a request: who connected and the first bytes they sent, to tell a stray client.
        let first = '';
        const peek = (d: Buffer) => {
          first += d.toString('latin1').slice(0, 120 - first.length);
          openSockets.set(socket, `no request yet from port ${socket.remotePort}: ${JSON.stringify(first)}`);
          if (first.length >= 120) socket.off('data', peek);
        };
        openSockets.set(socket, `no request yet from port ${socket.remotePort}, nothing sent`);
        socket.on('data', peek);
        socket.once('close', () => openSockets.delete(socket));
      });
      app.server.on('request', (req: IncomingMessage) =>
        openSockets.set(req.socket, `${req.method} ${req.url} from port ${req.socket.remotePort}`),
      );
      app.server.on('upgrade', (req: IncomingMessage) => openSockets.set(req.socket, `upgrade ${req.url}`));
      const address = await app.listen({ port, host: '127.0.0.1' });
      url = address;
      return url;
    },
    async close() {
      // A close that hangs fails the file by its hook timeout; say first where it waits.
      const slow = setTimeout(() => {
        const at = server.shutdownStep();
        console.error(
          `harness: close still waiting after 20 s at shutdown step "${at}"` +
            ` (after a preClose step, the HTTP server waits for its connections);` +
            ` sockets still open: ${[...openSockets.values()].map((l) => l.split('?')[0]).join('; ') || 'none'}`,
        );
      }, 20_000);
      slow.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(slow);
      }
      if (own) await own.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw WebSocket client that collects frames, for gateway tests. */
export class TestSocket {
  readonly frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  private nextReq = 1;
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(f)) {
          w.resolve(f);
          return false;
        }
        return true;
      });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  static async open(baseUrl: string, apiKey: string): Promise<TestSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws?api_key=${encodeURIComponent(apiKey)}`);
    const s = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return s;
  }

  /** Open, authenticate, and wait for hello. */
  static async connect(baseUrl: string, app: TestApp, userId: string): Promise<TestSocket> {
    const s = await TestSocket.open(baseUrl, app.apiKey);
    s.sendRaw(JSON.stringify({ type: 'auth', token: await app.token(userId) }));
    await s.waitFor((f) => f.type === 'hello');
    return s;
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  /** Send a request and wait for its reply. */
  async request(type: string, fields: Record<string, unknown> = {}): Promise<any> {
    const req_id = this.nextReq++;
    const p = this.waitFor((f) => f.type === 'reply' && f.req_id === req_id);
    this.ws.send(JSON.stringify({ type, req_id, ...fields }));
    return p;
  }

  waitFor(pred: (f: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`timed out waiting for frame; got ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  waitClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  }

  events(type?: string): any[] {
    return this.frames.filter((f) => f.type !== 'reply' && f.type !== 'hello' && (!type || f.type === type));
  }

  close(): void {
    this.ws.close();
  }
}

/** Wait until `fn` returns truthy (polling), for eventual conditions across sockets. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * The brokers of one test file's nodes: each call makes a node's broker, on Redis when
 * `REDIS_URL` is set (under a prefix of this file's own, so files running side by side never
 * hear each other), else on one in-process network shared by the file's nodes.
 */
export function clusterBrokers(name: string): () => Promise<Broker> {
  const redisUrl = process.env.REDIS_URL;
  const net = new MemoryNetwork();
  const prefix = `parley-${name}-${process.pid}-${Date.now()}:`;
  return async () => {
    if (!redisUrl) return new MemoryBroker(net);
    const b = new RedisBroker(redisUrl, prefix);
    await b.ready();
    return b;
  };
}
