/**
 * Setting up what a scenario needs: a scratch PostgreSQL database (created and dropped), the
 * servers in their own processes, and — for Parley — an app, its users and channels, made
 * through the public REST API with a server token, exactly as an embedder would.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io as socketIoClient } from 'socket.io-client';
import { signToken } from '../../packages/server/src/platform/auth.js';
import { type Child, isStopping, killPid, spawnChild, trackPid } from './proc.js';

/** Every server the bench can run. `raw` coalesces a tick's frames per socket (the ceiling);
 * `raw-each` is the old one-`ws.send`-per-delivery baseline; `raw-pg` is `raw` that sends a
 * message only after PostgreSQL committed it (the durable floor; the chat mix only). */
export type Kind = 'parley' | 'raw' | 'raw-each' | 'raw-pg' | 'sio' | 'ejabberd';
export const KINDS: Kind[] = ['parley', 'raw', 'raw-each', 'raw-pg', 'sio', 'ejabberd'];
export const NAMES: Record<Kind, string> = {
  parley: 'Parley',
  raw: 'raw ws (coalescing ceiling)',
  'raw-each': 'raw ws (one send per delivery)',
  'raw-pg': 'raw ws + PostgreSQL commit (durable floor)',
  sio: 'Socket.IO 4',
  ejabberd: 'ejabberd 23.01 (MUC+MAM)',
};
/** The generator protocol each server speaks. */
export const protoOf = (k: Kind): 'parley' | 'raw' | 'sio' | 'xmpp' =>
  k === 'raw-each' || k === 'raw-pg' ? 'raw' : k === 'ejabberd' ? 'xmpp' : k;
/** The packaged schema ejabberd's scratch databases are copied from (bench/ejabberd/setup.sh). */
export const EJABBERD_TEMPLATE = process.env.BENCH_EJABBERD_DB || 'ejabberd_bench';
export const EJABBERD_PASSWORD = 'bench';

export const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
export const RUN_ID = randomBytes(3).toString('hex');

/** Cleanups to run at the end of the run, whatever happened. */
const cleanups: (() => Promise<void> | void)[] = [];
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}
export async function runCleanups(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`cleanup failed: ${(e as Error).message}\n`);
    }
  }
}

/** One statement on its own connection (the bench's admin work: never a hot path). */
async function runOnce(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

/** A fresh database on the PostgreSQL server, dropped at cleanup. */
export async function scratchDatabase(
  label: string,
  template?: string,
): Promise<{
  url: string;
  drop: () => Promise<void>;
  analyze: () => Promise<void>;
  setting: (name: string, value: string) => Promise<void>;
}> {
  const name = `parley_bench_${label}_${RUN_ID}_${randomBytes(2).toString('hex')}`;
  await runOnce(PG_URL, `create database ${name}${template ? ` template ${template}` : ''}`);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    // BENCH_KEEP_DB=1: left for inspection (EXPLAIN a statement on what the run stored).
    if (!process.env.BENCH_KEEP_DB) await dropDatabase(name);
  };
  onCleanup(drop);
  return {
    url,
    drop,
    // After a scenario's setup: statistics, as autovacuum keeps them in a running deployment.
    // A database filled a moment ago has none, and the planner then ties every index that
    // starts with app_id against the primary keys.
    analyze: async () => {
      await runOnce(url, 'analyze');
    },
    /** A default for this database's future sessions (`ALTER DATABASE … SET`). */
    setting: async (setting, value) => {
      if (!/^\w+$/.test(setting) || !/^\w+$/.test(value)) throw new Error(`bad setting ${setting}=${value}`);
      await runOnce(PG_URL, `alter database ${name} set ${setting} = ${value}`);
    },
  };
}

/** Drop a database by name if it exists (a scenario child killed before its own cleanup). */
export async function dropDatabase(name: string): Promise<void> {
  await runOnce(PG_URL, `drop database if exists ${name} with (force)`);
}

/** Rows in a table of a scratch database (what a server stored). */
export async function countRows(url: string, tableName: 'messages' | 'archive'): Promise<number> {
  return Number((await runOnce(url, `select count(*)::int as n from ${tableName}`)).rows[0].n);
}

export async function pgVersion(): Promise<string> {
  const r = await runOnce(PG_URL, 'show server_version');
  return String(r.rows[0].server_version).split(' ')[0] as string;
}

export interface ServerProc {
  kind: Kind;
  nodes: Child[];
  /** The processes whose CPU and RSS are the server's (Node: the child; ejabberd: its VM). */
  pids: number[];
  urls: string[];
  info: Record<string, unknown>;
  /** Parley: SQL statements issued so far, summed over the nodes. */
  queries(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Start a server under test: `nodes` processes (several only with Redis). Parley: with
 * `databaseUrl` on PostgreSQL, else embedded PGlite in a temporary folder.
 */
export async function startServer(
  kind: Kind,
  opts: {
    nodes?: number;
    databaseUrl?: string;
    redis?: boolean;
    env?: Record<string, string>;
    /** More environment for node `i` alone (a worker node's, say). */
    nodeEnv?: (i: number) => Record<string, string>;
  } = {},
): Promise<ServerProc> {
  if (isStopping()) throw new Error('the run is stopping');
  const n = opts.nodes ?? 1;
  const script =
    kind === 'parley'
      ? 'servers/parley.ts'
      : kind === 'raw' || kind === 'raw-each' || kind === 'raw-pg'
        ? 'baselines/raw-ws.ts'
        : kind === 'ejabberd'
          ? 'servers/ejabberd.ts'
          : 'baselines/socketio.ts';
  const pids: number[] = [];
  const masterKey = randomBytes(32).toString('hex');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  const nodes: Child[] = [];
  const urls: string[] = [];
  let info: Record<string, unknown> = {};
  const stop = async () => {
    const killed = Promise.all(nodes.map((c) => c.kill()));
    if (kind === 'ejabberd') {
      for (const pid of pids) killPid(pid);
      if (typeof info.dir === 'string' && info.dir.includes('parley-bench-ejabberd-'))
        rmSync(info.dir, { recursive: true, force: true });
    }
    rmSync(dataDir, { recursive: true, force: true });
    await killed;
  };
  onCleanup(stop);
  for (let i = 0; i < n; i++) {
    const { child, ready } = await spawnChild(`${kind}${n > 1 ? `-${i + 1}` : ''}`, script, {
      env: {
        BENCH_DATA_DIR: dataDir,
        BENCH_DATABASE_URL: opts.databaseUrl,
        BENCH_REDIS_URL: opts.redis ? REDIS_URL : undefined,
        BENCH_MIGRATE: i === 0 ? '1' : '0',
        BENCH_MASTER_KEY: masterKey,
        BENCH_RUN_ID: RUN_ID,
        ...(kind === 'raw-each' ? { BENCH_RAW_MODE: 'each' } : kind === 'raw-pg' ? { BENCH_RAW_MODE: 'durable' } : {}),
        ...opts.env,
        ...opts.nodeEnv?.(i),
      },
      readyTimeoutMs: 90_000,
    });
    nodes.push(child);
    urls.push(String(ready.url));
    if (kind === 'ejabberd') {
      trackPid(Number(ready.pid));
      pids.push(Number(ready.pid));
    } else pids.push(child.pid);
    if (i === 0) info = ready;
  }
  // The load generator speaks Socket.IO's framing itself (lighter than the client library);
  // the official client checks once that the baseline answers it like any Socket.IO server.
  if (kind === 'sio') await socketIoCheck(urls[0] as string);
  const queries = async () =>
    kind === 'parley' ? (await Promise.all(nodes.map((c) => c.call<number>('queries')))).reduce((a, b) => a + b, 0) : 0;
  return { kind, nodes, urls, pids, info, queries, stop };
}

/** Parley's REST API as the embedder's backend uses it. */
export class ParleyApi {
  apiKey = '';
  secret = '';
  private serverToken = '';

  constructor(private readonly base: string) {}

  /** A request to the API as the app's backend (server token), or as `user` with theirs. */
  async call<T>(method: string, p: string, body?: unknown, user?: string): Promise<T> {
    return this.req<T>(method, p, body, user ? await signToken(this.secret, user) : this.serverToken);
  }

  private async req<T>(method: string, p: string, body: unknown, auth: string): Promise<T> {
    const r = await fetch(`${this.base}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${auth}`,
        ...(this.apiKey ? { 'x-api-key': this.apiKey } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  async createApp(): Promise<void> {
    const a = await this.req<{ api_key: string; api_secret: string }>(
      'POST',
      '/v1/admin/apps',
      { name: `bench-${RUN_ID}` },
      'bench-admin-token',
    );
    this.apiKey = a.api_key;
    this.secret = a.api_secret;
    this.serverToken = await signToken(this.secret, null);
  }

  /** Users in batches of 100 (the API's batch limit), a few batches at a time. */
  async createUsers(ids: string[], parallel = 4): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < batches.length) {
          const b = batches[next++] as string[];
          await this.req('POST', '/v1/users', { users: b.map((id) => ({ id, name: id })) }, this.serverToken);
        }
      }),
    );
  }

  /** A group channel with these members (created with 100, the rest added 100 at a time). */
  async createChannel(id: string, members: string[]): Promise<string> {
    await this.req(
      'POST',
      '/v1/channels',
      { type: 'group', id, members: members.slice(0, 100), created_by: members[0] },
      this.serverToken,
    );
    const cid = `group:${id}`;
    for (let i = 100; i < members.length; i += 100)
      await this.req(
        'POST',
        `/v1/channels/${encodeURIComponent(cid)}/members`,
        { add: members.slice(i, i + 100) },
        this.serverToken,
      );
    return cid;
  }

  /** Add members to a channel, 100 per request. */
  async addMembers(cid: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 100)
      await this.req(
        'POST',
        `/v1/channels/${encodeURIComponent(cid)}/members`,
        { add: ids.slice(i, i + 100) },
        this.serverToken,
      );
  }

  /** Many channels, a few requests at a time. */
  async createChannels(list: { id: string; members: string[] }[], parallel = 4): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < list.length) {
          const c = list[next++] as { id: string; members: string[] };
          await this.createChannel(c.id, c.members);
        }
      }),
    );
  }

  /** `last_seq` of each channel (the server's word on what every member should have received). */
  async lastSeqs(cids: string[], parallel = 8): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < cids.length) {
          const cid = cids[next++] as string;
          const r = await this.req<{ channel: { last_seq: number } }>(
            'GET',
            `/v1/channels/${encodeURIComponent(cid)}`,
            undefined,
            this.serverToken,
          );
          out[cid] = r.channel.last_seq;
        }
      }),
    );
    return out;
  }
}

/** Join a room with the official socket.io-client, publish, expect the broadcast back. */
async function socketIoCheck(url: string): Promise<void> {
  const s = socketIoClient(url, {
    transports: ['websocket'],
    query: { rooms: 'bench-check' },
    reconnection: false,
    timeout: 10_000,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('Socket.IO baseline: no broadcast within 10 s')), 10_000);
      s.once('connect_error', reject);
      s.once('m', (payload: unknown) =>
        payload === 'check' ? resolve() : reject(new Error(`Socket.IO baseline echoed ${String(payload)}`)),
      );
      s.once('connect', () => s.emit('pub', 'bench-check', 'check'));
    });
  } finally {
    clearTimeout(timer);
    s.close();
  }
}

/** ejabberd's setup, as its admin would do it: users as rows (one statement), rooms over its API. */
export class EjabberdSetup {
  constructor(
    private readonly server: ServerProc,
    private readonly dbUrl: string,
  ) {}

  /** Users with the bench password (SASL PLAIN against `users`), inserted in one statement. */
  async createUsers(ids: string[]): Promise<void> {
    const c = new pg.Client({ connectionString: this.dbUrl });
    await c.connect();
    try {
      await c.query('insert into users (username, password) select u, $2 from unnest($1::text[]) u', [
        ids,
        EJABBERD_PASSWORD,
      ]);
    } finally {
      await c.end();
    }
  }

  /**
   * Persistent MUC rooms (MAM on, by the config's default room options). Diagnostic only:
   * BENCH_EJABBERD_MAM=0 makes them without the archive (not durable: never a peer row).
   */
  async createRooms(names: string[]): Promise<void> {
    const options = process.env.BENCH_EJABBERD_MAM === '0' ? [{ name: 'mam', value: 'false' }] : [];
    await this.server.nodes[0]?.call('rooms', { names, parallel: 8, options }, 300_000);
  }

  /** Rows in the message archive (what ejabberd stored durably). */
  async archived(): Promise<number> {
    return countRows(this.dbUrl, 'archive');
  }
}

/** The generator target for a server (ejabberd: its XMPP host names and the bench password). */
export function targetOf(server: ServerProc): {
  proto: 'parley' | 'raw' | 'sio' | 'xmpp';
  urls: string[];
  apiKey?: string;
  secret?: string;
  xmppHost?: string;
  mucHost?: string;
  password?: string;
} {
  return {
    proto: protoOf(server.kind),
    urls: server.urls,
    ...(server.kind === 'ejabberd'
      ? {
          xmppHost: String(server.info.xmppHost),
          mucHost: String(server.info.mucHost),
          password: EJABBERD_PASSWORD,
        }
      : {}),
  };
}
