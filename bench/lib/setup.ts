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
import { type Child, isStopping, spawnChild } from './proc.js';

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
export async function scratchDatabase(label: string): Promise<{
  url: string;
  drop: () => Promise<void>;
  analyze: () => Promise<void>;
  setting: (name: string, value: string) => Promise<void>;
}> {
  const name = `parley_bench_${label}_${RUN_ID}_${randomBytes(2).toString('hex')}`;
  await runOnce(PG_URL, `create database ${name}`);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(name);
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

export async function pgVersion(): Promise<string> {
  const r = await runOnce(PG_URL, 'show server_version');
  return String(r.rows[0].server_version).split(' ')[0] as string;
}

export interface ServerProc {
  kind: 'parley' | 'raw' | 'sio';
  nodes: Child[];
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
  kind: 'parley' | 'raw' | 'sio',
  opts: { nodes?: number; databaseUrl?: string; redis?: boolean; env?: Record<string, string> } = {},
): Promise<ServerProc> {
  if (isStopping()) throw new Error('the run is stopping');
  const n = opts.nodes ?? 1;
  const script =
    kind === 'parley' ? 'servers/parley.ts' : kind === 'raw' ? 'baselines/raw-ws.ts' : 'baselines/socketio.ts';
  const masterKey = randomBytes(32).toString('hex');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  const nodes: Child[] = [];
  const urls: string[] = [];
  let info: Record<string, unknown> = {};
  const stop = async () => {
    const killed = Promise.all(nodes.map((c) => c.kill()));
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
        ...opts.env,
      },
      readyTimeoutMs: 90_000,
    });
    nodes.push(child);
    urls.push(String(ready.url));
    if (i === 0) info = ready;
  }
  // The load generator speaks Socket.IO's framing itself (lighter than the client library);
  // the official client checks once that the baseline answers it like any Socket.IO server.
  if (kind === 'sio') await socketIoCheck(urls[0] as string);
  const queries = async () =>
    kind === 'parley' ? (await Promise.all(nodes.map((c) => c.call<number>('queries')))).reduce((a, b) => a + b, 0) : 0;
  return { kind, nodes, urls, info, queries, stop };
}

/** Parley's REST API as the embedder's backend uses it. */
export class ParleyApi {
  apiKey = '';
  secret = '';
  private serverToken = '';

  constructor(private readonly base: string) {}

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
