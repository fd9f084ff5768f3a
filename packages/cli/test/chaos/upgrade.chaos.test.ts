/**
 * A rolling upgrade from the previous release to this code, under load (docs/upgrading.md). The
 * previous release (the last in packages/server/src/platform/db/releases.ts) is built from its
 * commit (release.ts; cached in the temp folder). Two `parley start` nodes of it share a fresh
 * PostgreSQL database and one Redis, behind a round-robin TCP balancer; SDK clients send through
 * it throughout — four on this code's SDK, two on the previous release's — and a raw REST sender
 * posts to the nodes directly, retrying with the same id where a node is gone. Node 1 gets
 * SIGTERM (the old release drains as it drained then) and is started on this code, which
 * migrates the database under node 2, still old: for a while both versions serve writes. Then
 * node 2 likewise. Nothing may be lost or doubled, every client must reconnect and hold exactly
 * the server's history, and the node list must show both nodes on this version.
 *
 * Needs DATABASE_URL, REDIS_URL and redis-server; skipped without them unless PARLEY_REQUIRE_PG /
 * PARLEY_REQUIRE_REDIS make that a failure (CI).
 */
import { pathToFileURL } from 'node:url';
import { uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type * as Sdk from '../../../client/src/index.js';
import { ChatClient, type SocketFactory } from '../../../client/src/index.js';
import { signToken } from '../../../server/src/platform/auth.js';
import { lastKnownMigration } from '../../../server/src/platform/db/migrate.js';
import { PARLEY_VERSION } from '../../../server/src/platform/package-version.js';
import {
  Balancer,
  BIN,
  closeAll,
  ParleyNode,
  PrivateRedis,
  redisServerBinary,
  scratchDatabase,
  sleep,
  until,
} from './infra.js';
import { type BuiltRelease, previousRelease } from './release.js';

const PG_URL = process.env.PARLEY_CHAOS_PG_URL || process.env.DATABASE_URL || '';
const REDIS_URL = process.env.REDIS_URL || '';
const REDIS_BIN = redisServerBinary();
const required = process.env.PARLEY_REQUIRE_PG === '1' || process.env.PARLEY_REQUIRE_REDIS === '1';
const services = !!PG_URL && !!REDIS_URL && !!REDIS_BIN;
if (!services && required)
  throw new Error(
    `the upgrade test needs PostgreSQL and Redis: DATABASE_URL ${PG_URL ? 'set' : 'missing'}, ` +
      `REDIS_URL ${REDIS_URL ? 'set' : 'missing'}, redis-server ${REDIS_BIN ?? 'not found'}`,
  );

/** A start that migrates a database on a busy machine. */
const NODE_START_MS = 120_000;
/** Which SDK each client runs: this code's, or the previous release's. */
const CLIENTS = [
  { id: 'u0', sdk: 'head' },
  { id: 'u1', sdk: 'head' },
  { id: 'u2', sdk: 'head' },
  { id: 'u3', sdk: 'head' },
  { id: 'o0', sdk: 'old' },
  { id: 'o1', sdk: 'old' },
] as const;
const RAW = 'raw';
const ADMIN_TOKEN = `upgrade-admin-${uuidv7()}`;
const CID = 'group:upgrade';

interface Member {
  id: string;
  sdk: 'head' | 'old';
  client: ChatClient;
  channel: Sdk.Channel;
  reconnects: number;
}

interface RawSend {
  id: string;
  text: string;
  /** The node that stored it, and what ran there then. */
  node: string | null;
  phase: string;
}

let release: BuiltRelease;
let redis: PrivateRedis;
let nodes: ParleyNode[] = [];
let lb: Balancer;
let app: { id: string; apiKey: string; secret: string };
const members: Member[] = [];
/** What runs where now: 'old/old', 'head/old' (mixed), 'head/head'. */
let phase = 'old/old';

async function call<T>(node: ParleyNode, method: string, path: string, body?: unknown, user?: string | null) {
  const headers: Record<string, string> =
    user === undefined
      ? { authorization: `Bearer ${ADMIN_TOKEN}` }
      : { 'x-api-key': app.apiKey, authorization: `Bearer ${await signToken(app.secret, user)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${node.base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (r.status !== 200) throw new Error(`${method} ${path} on ${node.id}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

function live(): ParleyNode {
  const n = nodes.find((x) => x.alive);
  if (!n) throw new Error('no node is running');
  return n;
}

type Stored = { id: string; seq: number; text: string; type: string };

async function serverHistory(): Promise<Stored[]> {
  const out: Stored[] = [];
  for (let after = 0; ; ) {
    const page = await call<{ messages: Stored[] }>(
      live(),
      'GET',
      `/v1/channels/${CID}/messages?after=${after}&limit=200`,
      undefined,
      'u0',
    );
    out.push(...page.messages);
    if (page.messages.length < 200) return out;
    after = (out.at(-1) as Stored).seq;
  }
}

const stored = (list: readonly Sdk.LocalMessage[] | undefined) => (list ?? []).filter((m) => m.seq > 0);
const online = (m: Member) => m.client.state.get().connection === 'online';

/** `until`, failing with where every client stands and the nodes' last words. */
async function settle(fn: () => boolean | Promise<boolean>, ms: number, label: string): Promise<void> {
  try {
    await until(fn, ms, label);
  } catch (e) {
    const states = members.map(
      (m) =>
        `${m.id} (${m.sdk} SDK): ${m.client.state.get().connection}, outbox ${m.client.outbox.length}, reconnects ${m.reconnects}`,
    );
    const tails = nodes.map((n) => `${n.id} (alive ${n.alive}):\n${n.output().slice(-1_500)}`).join('\n');
    throw new Error(`${(e as Error).message}\n  ${states.join('\n  ')}\n${tails}`);
  }
}

/** A WebSocket that tells the balancer which client it is. */
function taggedSocket(tag: string): SocketFactory {
  return class extends WebSocket {
    constructor(url: string) {
      super(`${url}${url.includes('?') ? '&' : '?'}chaos_client=${tag}`);
    }
  } as unknown as SocketFactory;
}

/** Gap fills of the old SDK that failed (a node answering 503 as it drains): see below. */
let oldGapFillsFailed = 0;

/**
 * The previous release's SDK started a gap fill without waiting for it (`void fillGap(…)` in its
 * ingest.ts), so a fill refused by a draining node was an unhandled rejection in the app; this
 * code catches it (the fill runs again at the next hello). That release cannot change: its
 * clients' fills are caught here, through the client's `fillGap` (which its parts call), and
 * counted. The old client still fills its gaps, and the test still checks it ends complete.
 */
function oldGapFillsCaught(client: ChatClient): void {
  const fill = client.fillGap.bind(client);
  client.fillGap = (cid: string) => {
    const p = fill(cid);
    p.catch(() => {
      oldGapFillsFailed++;
    });
    return p;
  };
}

describe.runIf(services)('a rolling upgrade of two nodes from the previous release, under load', () => {
  beforeAll(async () => {
    release = await previousRelease();
    console.log(
      `previous release ${release.version} (${release.commit.slice(0, 12)}): ${
        release.buildMs === null ? 'built before, from the cache' : `built in ${release.buildMs} ms`
      } in ${release.dir}`,
    );
    const OldSdk = (await import(pathToFileURL(release.client).href)) as typeof Sdk;

    const db = await scratchDatabase(PG_URL);
    redis = new PrivateRedis(REDIS_BIN as string);
    await redis.start();
    const env = { databaseUrl: db.url, redisUrl: redis.url, masterKey: 'e5'.repeat(32), adminToken: ADMIN_TOKEN };
    nodes = ['n1', 'n2'].map((id) => new ParleyNode(id, env));
    for (const n of nodes) n.bin = release.bin;
    // One after the other: the first migrates the fresh database to the old release's schema.
    for (const n of nodes) await n.start(NODE_START_MS);
    lb = new Balancer(() => nodes.map((n) => n.port));
    await lb.start();

    const made = await call<{ id: string; api_key: string; api_secret: string }>(live(), 'POST', '/v1/admin/apps', {
      name: 'upgrade',
    });
    app = { id: made.id, apiKey: made.api_key, secret: made.api_secret };
    const everyone = [...CLIENTS.map((c) => c.id), RAW];
    await call(live(), 'POST', '/v1/users', { users: everyone.map((id) => ({ id, name: id })) }, null);

    for (const { id, sdk } of CLIENTS) {
      const Client = (sdk === 'old' ? OldSdk.ChatClient : ChatClient) as typeof ChatClient;
      const client = new Client({
        url: lb.url,
        apiKey: app.apiKey,
        WebSocket: taggedSocket(id),
        backoffMinMs: 20,
        backoffMaxMs: 300,
        pingIntervalMs: 2_000,
        pongTimeoutMs: 5_000,
      });
      if (sdk === 'old') oldGapFillsCaught(client);
      await client.connectUser({ id }, () => signToken(app.secret, id));
      members.push({ id, sdk, client, reconnects: 0 } as Member);
    }
    await (members[0] as Member).client.channel('group', 'upgrade').createChannel({
      members: everyone.filter((u) => u !== 'u0'),
      name: 'Upgrade',
    });
    for (const m of members) {
      m.channel = m.client.channel('group', 'upgrade');
      await m.channel.watch();
    }
  }, 900_000);

  afterAll(async () => {
    for (const m of members) await m.client.disconnectUser().catch(() => {});
    lb?.close();
    await closeAll();
  }, 30_000);

  it('loses and doubles nothing while each node in turn moves to this code; every client follows', async () => {
    for (const m of members) {
      let was = m.client.state.get().connection;
      m.client.state.subscribe((s) => {
        if (s.connection === 'online' && was !== 'online') m.reconnects++;
        was = s.connection;
      });
    }
    const sends: { text: string; error: string | null }[] = [];
    const raws: RawSend[] = [];
    let sending = true;
    const loops = members.map(async (m, i) => {
      for (let n = 0; sending; n++) {
        const s = { text: `${m.id} #${n}`, error: null as string | null };
        sends.push(s);
        // Through a promise: the old SDK throws at once, not in its promise, when not connected.
        Promise.resolve()
          .then(() => m.channel.sendMessage({ text: s.text }))
          .catch((e: { code?: string }) => {
            s.error = e.code ?? String(e);
          });
        // About 25 sends a second in all: load, not a queue.
        await sleep(200 + ((i * 7 + n) % 5) * 25);
      }
    });
    // The raw sender: REST to each node in turn, the same id again (on the other node) until
    // one stores it. Which node answered, and in which phase, shows both versions writing.
    const rawLoop = (async () => {
      for (let n = 0; sending; n++) {
        const s: RawSend = { id: uuidv7(), text: `${RAW} #${n}`, node: null, phase };
        raws.push(s);
        for (let attempt = 0; s.node === null; attempt++) {
          const node = nodes[(n + attempt) % nodes.length] as ParleyNode;
          try {
            await call(node, 'POST', `/v1/channels/${CID}/messages`, { id: s.id, text: s.text }, RAW);
            s.node = node.id;
            s.phase = phase;
          } catch (e) {
            if (attempt > 200) throw e;
            await sleep(50); // the node is down or restarting: try the other one
          }
        }
        await sleep(100); // its pace: ten a second
      }
    })();
    const acked = (node: string, inPhase: string) => raws.filter((r) => r.node === node && r.phase === inPhase).length;

    /** Each node in turn: SIGTERM to the old release, then this code on its port. */
    const upgradeEachNode = async (steps: string[]) => {
      for (const [i, node] of nodes.entries()) {
        const stoppedAt = Date.now();
        const exit = await node.stop();
        const stopMs = Date.now() - stoppedAt;
        await settle(() => members.every(online), 60_000, `every client online again after ${node.id} stopped`);
        node.bin = BIN; // this code, from here on
        const startAt = Date.now();
        await node.start(NODE_START_MS);
        const startMs = Date.now() - startAt;
        phase = i === 0 ? 'head/old' : 'head/head';
        // Both nodes store the raw sender's messages in this phase before the next step.
        await settle(
          () => acked('n1', phase) >= 5 && acked('n2', phase) >= 5,
          60_000,
          `both nodes storing sends in phase ${phase}`,
        );
        steps.push(
          `${node.id}: old release exited ${JSON.stringify(exit)} ${stopMs} ms after SIGTERM; this code up in ${startMs} ms`,
        );
      }
    };
    const steps: string[] = [];
    try {
      await settle(() => acked('n1', 'old/old') >= 5 && acked('n2', 'old/old') >= 5, 30_000, 'load on the old release');
      await upgradeEachNode(steps);
    } finally {
      sending = false;
      await Promise.allSettled([...loops, rawLoop]);
    }
    await Promise.all([...loops, rawLoop]);

    await settle(
      () => {
        for (const m of members)
          for (const msg of m.channel.state?.messages ?? [])
            if (msg.status === 'failed') m.channel.retry(msg.id).catch(() => {});
        return members.every(
          (m) =>
            online(m) && m.client.outbox.length === 0 && !m.channel.state?.messages.some((x) => x.status !== 'sent'),
        );
      },
      60_000,
      'every client online, every send acknowledged',
    );
    const history = await serverHistory();
    const texts = history.filter((x) => x.type === 'regular').map((x) => x.text);
    // Nothing lost, nothing doubled: every client's send and every raw send, each once.
    expect(texts.length).toBe(new Set(texts).size);
    expect([...texts].sort()).toEqual([...sends.map((s) => s.text), ...raws.map((r) => r.text)].sort());
    // Every client holds exactly the server's history, in seq order.
    const serverList = history.map((x) => `${x.id}@${x.seq}`).join(',');
    await settle(
      () =>
        members.every(
          (m) =>
            stored(m.channel.state?.messages)
              .map((x) => `${x.id}@${x.seq}`)
              .join(',') === serverList,
        ),
      30_000,
      "every client holding the server's history",
    );
    // Every client reconnected: all were on node 2 when it stopped, if not before.
    for (const m of members) expect(m.reconnects, `${m.id} reconnections`).toBeGreaterThan(0);
    // The old node served writes on the new schema while this code ran beside it.
    expect(acked('n2', 'head/old')).toBeGreaterThan(0);
    expect(acked('n1', 'head/old')).toBeGreaterThan(0);

    // Both nodes now run this code, on the schema this code migrated to.
    const listed = await call<{
      nodes: { id: string; version: string; schema: string; live: boolean }[];
      database: { migration: string | null; version: string | null };
    }>(live(), 'GET', '/v1/admin/nodes');
    const head = { version: PARLEY_VERSION, schema: lastKnownMigration(), live: true };
    expect(listed.nodes.find((n) => n.id === 'n1')).toMatchObject(head);
    expect(listed.nodes.find((n) => n.id === 'n2')).toMatchObject(head);
    expect(listed.database).toEqual({ migration: lastKnownMigration(), version: PARLEY_VERSION });

    console.log(
      `upgrade ${release.version} (${release.lastMigration}) → ${PARLEY_VERSION} (${lastKnownMigration()}): ` +
        `${sends.length} SDK sends (${members.filter((m) => m.sdk === 'old').length} clients on the old SDK; ` +
        `${sends.filter((s) => s.error !== null).length} failed once and were retried) and ${raws.length} raw sends; ` +
        `${oldGapFillsFailed} gap fills of the old SDK refused; ` +
        `${steps.join('; ')}; reconnects per client ${members.map((m) => m.reconnects).join('/')}; raw sends stored ` +
        `by phase: ${['old/old', 'head/old', 'head/head'].map((p) => `${p} n1 ${acked('n1', p)} n2 ${acked('n2', p)}`).join(', ')}`,
    );
  }, 600_000);
});
