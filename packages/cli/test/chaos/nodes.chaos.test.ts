/**
 * Chaos with real processes (issue: scale-out). Three `parley start` nodes share one PostgreSQL
 * (a scratch database, reached through a TCP proxy the test can cut) and one Redis (a private
 * redis-server the test can restart); six SDK clients connect through a round-robin TCP load
 * balancer, two per node, all members of a group channel and watching it.
 *
 *   A. `kill -9` one node during a send storm: its clients reconnect to the others and resync.
 *   B. Restart Redis during a storm: delivery resumes and clients fill their gaps.
 *   C. PostgreSQL unreachable for a few seconds: sends fail with a retryable error, the SDK
 *      retries, and the nodes recover by themselves.
 *
 * Each ends when everything has settled, then checks that the server holds every text exactly
 * once and that every client holds exactly the server's history (by id and seq, in order).
 *
 * Needs DATABASE_URL and REDIS_URL (the Redis it uses is its own redis-server; REDIS_URL says
 * Redis is meant to be tested here). Without them the file is skipped, unless
 * PARLEY_REQUIRE_PG=1 or PARLEY_REQUIRE_REDIS=1 (CI), which make that a failure. The `pglite`
 * vitest project blanks DATABASE_URL for its tests; vitest.config.ts passes the URL on as
 * PARLEY_CHAOS_PG_URL.
 */
import { ERRORS, type ErrorCode, uuidv7 } from '@parley/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Channel, ChatClient, type LocalMessage, type SocketFactory } from '../../../client/src/index.js';
import { signToken } from '../../../server/src/platform/auth.js';
import {
  Balancer,
  CutProxy,
  closeAll,
  ParleyNode,
  PrivateRedis,
  redisServerBinary,
  scratchDatabase,
  sleep,
  until,
} from './infra.js';

const PG_URL = process.env.PARLEY_CHAOS_PG_URL || process.env.DATABASE_URL || '';
const REDIS_URL = process.env.REDIS_URL || '';
const REDIS_BIN = redisServerBinary();
const required = process.env.PARLEY_REQUIRE_PG === '1' || process.env.PARLEY_REQUIRE_REDIS === '1';
const enabled = !!PG_URL && !!REDIS_URL && !!REDIS_BIN;
if (!enabled && required) {
  throw new Error(
    `chaos tests need PostgreSQL and Redis (PARLEY_REQUIRE_PG/PARLEY_REQUIRE_REDIS is set): ` +
      `DATABASE_URL ${PG_URL ? 'set' : 'missing'}, REDIS_URL ${REDIS_URL ? 'set' : 'missing'}, ` +
      `redis-server ${REDIS_BIN ?? 'not found'}`,
  );
}

/** Start-up of one node on a busy machine (tsx compiles the sources on the fly). */
const NODE_START_MS = 60_000;
/** How long one scenario may take to settle after its chaos. */
const SETTLE_MS = 45_000;
/** Each scenario's whole budget (vitest's timeout). */
const SCENARIO_MS = 90_000;

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'] as const;
const ADMIN_TOKEN = `chaos-admin-${uuidv7()}`;
const MASTER_KEY = 'c4'.repeat(32);

interface Member {
  id: string;
  client: ChatClient;
  /** message.send requests the server (or the socket) refused, with when. */
  sendErrors: { code: string; retryable: boolean; at: number }[];
  /** Gaps the SDK saw in a channel's events and filled from the server's log. */
  gapFills: number;
}

let proxy: CutProxy;
let redis: PrivateRedis;
let nodes: ParleyNode[] = [];
let lb: Balancer;
let app: { id: string; apiKey: string; secret: string };
const members: Member[] = [];

const token = (userId: string | null) => signToken(app.secret, userId);

/** `ws`, with the client's name added to the URL so the balancer can tell where it landed. */
function taggedSocket(tag: string): SocketFactory {
  return class extends WebSocket {
    constructor(url: string) {
      super(`${url}${url.includes('?') ? '&' : '?'}chaos_client=${tag}`);
    }
  } as unknown as SocketFactory;
}

/** Fail at once, with its last words, if a node that should be running has died. */
function noneDied(expectAlive: readonly ParleyNode[]): void {
  for (const n of expectAlive)
    if (!n.alive) throw new Error(`${n.id} (pid ${n.pid}) died; its last output:\n${n.output().slice(-4_000)}`);
}

/** A node that answers, for the test's own REST calls. */
function liveNode(): ParleyNode {
  const n = nodes.find((x) => x.alive);
  if (!n) throw new Error('no node is running');
  return n;
}

async function rest<T>(
  method: string,
  path: string,
  opts: { user?: string | null; body?: unknown; node?: ParleyNode },
) {
  const headers: Record<string, string> =
    opts.user === undefined
      ? { authorization: `Bearer ${ADMIN_TOKEN}` }
      : { 'x-api-key': app.apiKey, authorization: `Bearer ${await token(opts.user)}` };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${(opts.node ?? liveNode()).base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await r.json().catch(() => undefined)) as T;
  return { status: r.status, body };
}

type Stored = { id: string; seq: number; text: string; type: string; user_id: string };

/** The channel's whole history on the server, in seq order (paged). */
async function serverHistory(cid: string): Promise<Stored[]> {
  const out: Stored[] = [];
  let after = 0;
  for (;;) {
    const r = await rest<{ messages: Stored[] }>('GET', `/v1/channels/${cid}/messages?after=${after}&limit=200`, {
      user: 'u0',
    });
    if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.messages);
    if (r.body.messages.length < 200) return out;
    after = (out.at(-1) as Stored).seq;
  }
}

const gapFills = () => members.reduce((n, m) => n + m.gapFills, 0);
const stored = (list: readonly LocalMessage[] | undefined) => (list ?? []).filter((m) => m.seq > 0);
const online = (m: Member) => m.client.state.get().connection === 'online';
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** Where each client's socket is: node index → user ids. */
function spread(): string {
  const place = lb.placement();
  return nodes.map((n, i) => `${n.id}:[${USERS.filter((u) => place.get(u) === i).join(',')}]`).join(' ');
}

/** Log lines of every node since `before` (a snapshot from `logSnapshot()`), by kind. */
function logSnapshot(): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of nodes) for (const [k, v] of n.logCounts) m.set(`${n.id} ${k}`, v);
  return m;
}
function logsSince(before: Map<string, number>): string {
  const now = logSnapshot();
  const lines: string[] = [];
  for (const [k, v] of now) if (v > (before.get(k) ?? 0)) lines.push(`    ${v - (before.get(k) ?? 0)}× ${k}`);
  return lines.length ? `\n  node logs:\n${lines.join('\n')}` : '';
}

/**
 * A send storm: `total` sends spread over the clients in bursts, never awaited one by one
 * (each client's outbox sends them in order, one at a time).
 */
class Storm {
  readonly texts: string[] = [];
  acked = 0;
  readonly refused: { user: string; code: string }[] = [];
  private readonly acks: Promise<unknown>[] = [];
  readonly issued: Promise<void>;
  issuedMs = 0;

  constructor(label: string, chans: Channel[], total: number, burst: [number, number], gapMs: [number, number]) {
    this.issued = (async () => {
      const started = Date.now();
      const next = chans.map(() => 0);
      let n = 0;
      while (n < total) {
        for (let i = 0; i < chans.length && n < total; i++) {
          const b = rand(burst[0], burst[1]);
          for (let k = 0; k < b && n < total; k++, n++) {
            const text = `${label} ${USERS[i]} #${next[i]}`;
            next[i] = (next[i] as number) + 1;
            this.texts.push(text);
            this.acks.push(
              (chans[i] as Channel).sendMessage({ text }).then(
                () => {
                  this.acked++;
                },
                (e: { code?: string }) => {
                  this.refused.push({ user: USERS[i] as string, code: e.code ?? String(e) });
                },
              ),
            );
          }
        }
        await sleep(rand(gapMs[0], gapMs[1])); // the pace of the sends (a random gap is the point)
      }
      this.issuedMs = Date.now() - started;
    })();
  }

  settled(): Promise<unknown> {
    return Promise.allSettled(this.acks);
  }
}

/**
 * Wait until the scenario has settled: every client online with an empty outbox (a send left
 * `failed` is retried through `channel.retry`), the server holding every expected text, and
 * every client holding exactly the server's history. If the clients are idle but not yet equal
 * to the server, a gap may be waiting for a next event to show it: a "nudge" message is sent
 * (it joins the expected texts). Returns what it took.
 */
async function converge(
  cid: string,
  chans: Channel[],
  expected: string[],
  label: string,
  alive: readonly ParleyNode[],
) {
  const started = Date.now();
  const end = started + SETTLE_MS;
  let nudges = 0;
  let retried = 0;
  let idleSince = 0;
  let lastProblem = '';
  for (;;) {
    noneDied(alive);
    if (Date.now() > end) {
      const detail = members
        .map((m, i) => {
          const s = chans[i]?.state;
          return `${m.id}: ${m.client.state.get().connection}, outbox ${m.client.outbox.length}, stored ${stored(s?.messages).length}, lastSeq ${s?.lastSeq}`;
        })
        .join('\n  ');
      throw new Error(
        `${label}: not converged in ${SETTLE_MS} ms (${lastProblem})\n  ${detail}\n  ${spread()}${logsSince(new Map())}`,
      );
    }
    // Sends refused for good are retried with the same id.
    for (const ch of chans)
      for (const m of ch.state?.messages ?? [])
        if (m.status === 'failed') {
          retried++;
          ch.retry(m.id).catch(() => {});
        }
    const idle = members.every((m) => online(m) && m.client.outbox.length === 0);
    const pending = chans.some((ch) => ch.state?.messages.some((m) => m.status !== 'sent'));
    if (!idle || pending) {
      idleSince = 0;
      lastProblem = idle ? 'messages still pending' : 'clients offline or outboxes not empty';
      await sleep(100); // poll: the loop asks again
      continue;
    }
    idleSince ||= Date.now();
    const server = await serverHistory(cid).catch((e: Error) => e);
    if (server instanceof Error) {
      lastProblem = server.message;
      await sleep(200); // poll: the loop asks again
      continue;
    }
    const texts = server.filter((m) => m.type === 'regular').map((m) => m.text);
    const counts = new Map<string, number>();
    for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
    const dupes = [...counts].filter(([, n]) => n > 1);
    // A text stored twice never heals: fail at once.
    expect(dupes, `${label}: texts stored more than once`).toEqual([]);
    const missing = expected.filter((t) => !counts.has(t));
    const serverIds = server.map((m) => `${m.id}@${m.seq}`).join(',');
    const behind = chans.filter(
      (ch) =>
        stored(ch.state?.messages)
          .map((m) => `${m.id}@${m.seq}`)
          .join(',') !== serverIds,
    );
    if (missing.length === 0 && behind.length === 0)
      return { ms: Date.now() - started, nudges, retried, history: server };
    lastProblem = `${missing.length} expected texts not on the server, ${behind.length} clients differ from it`;
    // Idle, yet not equal: let a next event show any gap.
    if (Date.now() - idleSince > 2_000 && missing.length === 0) {
      nudges++;
      const text = `${label} nudge #${nudges}`;
      expected.push(text);
      chans[0]?.sendMessage({ text }).catch(() => {});
      idleSince = 0;
    }
    await sleep(200); // the pace of the nudges while waiting to settle
  }
}

/** The end state every scenario must reach, as assertions. */
async function assertConverged(cid: string, chans: Channel[], expected: string[], history: Stored[]) {
  const regular = history.filter((m) => m.type === 'regular');
  expect(regular.map((m) => m.text).sort()).toEqual([...expected].sort());
  expect(new Set(history.map((m) => m.id)).size).toBe(history.length);
  const seqs = history.map((m) => m.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  const serverList = history.map((m) => [m.id, m.seq]);
  const { body } = await rest<{ channel: { last_seq: number } }>('GET', `/v1/channels/${cid}`, { user: 'u0' });
  for (const ch of chans) {
    const list = stored(ch.state?.messages);
    expect(list.map((m) => [m.id, m.seq])).toEqual(serverList);
    expect(new Set(list.map((m) => m.id)).size).toBe(list.length);
    expect(ch.state?.messages.length).toBe(list.length); // nothing pending or failed left
    expect(ch.state?.lastSeq).toBe(body.channel.last_seq);
  }
}

/** A new group channel with every user in it, watched by every client. */
async function groupChannel(id: string): Promise<Channel[]> {
  const [first] = members as [Member];
  await first.client
    .channel('group', id)
    .createChannel({ members: USERS.filter((u) => u !== first.id), name: `Chaos ${id}` });
  const chans: Channel[] = [];
  for (const m of members) {
    const ch = m.client.channel('group', id);
    await ch.watch();
    chans.push(ch);
  }
  return chans;
}

/** Every node up (restarting any that is down) and every client online. */
async function allUp(): Promise<void> {
  await Promise.all(nodes.map((n) => (n.alive ? null : n.start(NODE_START_MS))));
  await until(() => members.every(online), 20_000, 'every client online');
}

/**
 * Move clients until each node holds two sockets: drop the socket of a client on a crowded
 * node, and the balancer's rotation puts it somewhere else. Best effort, bounded.
 */
async function rebalance(): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const place = lb.placement();
    const counts = nodes.map((_, i) => USERS.filter((u) => place.get(u) === i).length);
    if (counts.every((c) => c === 2) && members.every(online)) return;
    const crowded = counts.findIndex((c) => c > 2);
    const tag = crowded < 0 ? undefined : USERS.find((u) => place.get(u) === crowded);
    const m = members.find((x) => x.id === tag);
    if (!m) {
      await sleep(100);
      continue;
    }
    const before = lb.routed.length;
    m.client.dropConnection();
    await until(() => lb.routed.length > before && online(m), 10_000, `${m.id} back online`).catch(() => {});
  }
}

describe.runIf(enabled)('chaos: 3 parley nodes, one PostgreSQL, one Redis, clients behind a balancer', () => {
  beforeAll(async () => {
    const db = await scratchDatabase(PG_URL);
    const upstream = new URL(db.url);
    proxy = new CutProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) }, 'postgres proxy');
    await proxy.start();
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);

    redis = new PrivateRedis(REDIS_BIN as string);
    await redis.start();

    const env = {
      databaseUrl: viaProxy.toString(),
      redisUrl: redis.url,
      masterKey: MASTER_KEY,
      adminToken: ADMIN_TOKEN,
    };
    nodes = ['n1', 'n2', 'n3'].map((id) => new ParleyNode(id, env));
    await Promise.all(nodes.map((n) => n.start(NODE_START_MS)));

    lb = new Balancer(() => nodes.map((n) => n.port));
    await lb.start();

    const created = await rest<{ id: string; api_key: string; api_secret: string }>('POST', '/v1/admin/apps', {
      body: { name: 'chaos' },
    });
    expect(created.status).toBe(200);
    app = { id: created.body.id, apiKey: created.body.api_key, secret: created.body.api_secret };
    const users = await rest('POST', '/v1/users', {
      user: null,
      body: { users: USERS.map((id) => ({ id, name: id })) },
    });
    expect(users.status).toBe(200);

    // One at a time, so the balancer's rotation puts two on each node.
    for (const id of USERS) {
      const client = new ChatClient({
        url: lb.url,
        apiKey: app.apiKey,
        WebSocket: taggedSocket(id),
        backoffMinMs: 20,
        backoffMaxMs: 300,
        pingIntervalMs: 2_000,
        pongTimeoutMs: 5_000,
      });
      const m: Member = { id, client, sendErrors: [], gapFills: 0 };
      const fillGap = client.fillGap.bind(client);
      client.fillGap = (cid) => {
        m.gapFills++;
        return fillGap(cid);
      };
      // Record what message.send answers when it fails (the outbox retries it by itself).
      const request = client.request.bind(client);
      client.request = (type, fields) =>
        request(type, fields).catch((e: { code: string; retryable: boolean }) => {
          if (type === 'message.send') m.sendErrors.push({ code: e.code, retryable: e.retryable, at: Date.now() });
          throw e;
        });
      await client.connectUser({ id }, () => token(id));
      members.push(m);
    }
  }, 150_000);

  afterAll(async () => {
    for (const m of members) await m.client.disconnectUser().catch(() => {});
    await closeAll();
  }, 30_000);

  it('spreads the clients over the nodes', async () => {
    await rebalance(); // a no-op unless a client already had to reconnect
    const place = lb.placement();
    const counts = nodes.map((_, i) => USERS.filter((u) => place.get(u) === i).length);
    expect(counts).toEqual([2, 2, 2]);
    // The nodes agree: two open sockets each.
    await until(
      async () => (await Promise.all(nodes.map((n) => n.openSockets()))).every((c) => c === 2),
      5_000,
      'two open sockets on each node',
    );
    console.log(`chaos: clients ${spread()}`);
  });

  it(
    'A: kill -9 one node mid-storm; its clients move to the others and resync, nothing lost or doubled',
    async () => {
      await allUp();
      const logs = logSnapshot();
      const fillsBefore = gapFills();
      const chans = await groupChannel('chaos-a');
      const victim = nodes[1] as ParleyNode;
      const victimIndex = 1;
      const storm = new Storm('A', chans, 600, [5, 25], [10, 40]);
      const started = Date.now();
      // Mid-storm: once a third of it is stored.
      await until(() => storm.acked >= 200, 30_000, 'a third of the storm acked', 5);
      const moved = USERS.filter((u) => lb.placement().get(u) === victimIndex);
      expect(moved.length).toBeGreaterThan(0);
      const ackedAtKill = storm.acked;
      const killedAt = Date.now();
      await victim.kill9();
      await storm.issued;
      // Its clients come back through the balancer, on the other nodes.
      await until(
        () => {
          const place = lb.placement();
          return moved.every((u) => place.has(u) && place.get(u) !== victimIndex) && members.every(online);
        },
        20_000,
        "the killed node's clients back online elsewhere",
      );
      const reconnectMs = Date.now() - killedAt;
      const spreadAfterKill = spread();
      const expected = [...storm.texts];
      const settle = await converge(
        'group:chaos-a',
        chans,
        expected,
        'A',
        nodes.filter((n) => n !== victim),
      );
      await storm.settled();
      await assertConverged('group:chaos-a', chans, expected, settle.history);
      // The survivors hold every socket.
      await until(
        async () =>
          (await Promise.all(nodes.filter((n) => n.alive).map((n) => n.openSockets()))).reduce((a, b) => a + b, 0) ===
          USERS.length,
        5_000,
        `the surviving nodes to hold all ${USERS.length} sockets`,
      );

      const sendErrors = members.flatMap((m) => m.sendErrors.filter((e) => e.at >= killedAt));
      console.log(
        `chaos A (kill -9): ${storm.texts.length} sends (+${settle.nudges} nudges) from ${USERS.length} clients; ` +
          `${victim.id} (pid ${victim.pid}) killed with ${ackedAtKill} acked; clients [${moved.join(',')}] moved, ` +
          `all online again ${reconnectMs} ms after the kill, now ${spreadAfterKill}; ` +
          `converged ${settle.ms} ms after that (${Date.now() - started} ms from the storm's start); ` +
          `${sendErrors.length} socket send failures after the kill (${summarize(sendErrors)}), ` +
          `${storm.refused.length} refused, ${settle.retried} retried, ${gapFills() - fillsBefore} SDK gap fills${logsSince(logs)}`,
      );
      expect(storm.refused).toEqual([]);

      // Back to three nodes for what follows: the same command again.
      const restartStart = Date.now();
      await victim.start(NODE_START_MS);
      await rebalance();
      console.log(`chaos A: ${victim.id} restarted in ${Date.now() - restartStart} ms; clients now ${spread()}`);
    },
    SCENARIO_MS,
  );

  it(
    'B: restart Redis mid-storm; delivery resumes and clients fill their gaps',
    async () => {
      await allUp();
      const logs = logSnapshot();
      const fillsBefore = gapFills();
      const pids = nodes.map((n) => n.pid);
      const chans = await groupChannel('chaos-b');
      const storm = new Storm('B', chans, 300, [2, 4], [150, 250]);
      const started = Date.now();
      await until(() => storm.acked >= 60, 30_000, 'the storm under way', 5);
      const ackedAtKill = storm.acked;
      const killedAt = Date.now();
      await redis.kill();
      await sleep(1_500); // Redis stays down this long: the outage is the point
      await redis.start();
      const outageMs = Date.now() - killedAt;
      await storm.issued;
      const expected = [...storm.texts];
      const settle = await converge('group:chaos-b', chans, expected, 'B', nodes);
      await storm.settled();
      await assertConverged('group:chaos-b', chans, expected, settle.history);
      // No node died or restarted over it.
      expect(nodes.map((n) => n.alive)).toEqual([true, true, true]);
      expect(nodes.map((n) => n.pid)).toEqual(pids);

      // Every node's subscriber is back on its topics (ioredis re-subscribes after a reconnect):
      // the channel on each node that holds one of its watchers, each user on the node holding
      // their socket.
      const place = lb.placement();
      const topics = [`parley:c:${app.id}:group:chaos-b`, ...USERS.map((u) => `parley:u:${app.id}:${u}`)];
      const check = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      let numsub: unknown[];
      try {
        await check.connect();
        numsub = (await check.call('PUBSUB', 'NUMSUB', ...topics)) as unknown[];
      } finally {
        check.disconnect();
      }
      const counts = topics.map((_, i) => Number(numsub[2 * i + 1]));
      expect(counts).toEqual([new Set(place.values()).size, ...USERS.map(() => 1)]);

      // Live delivery works again across nodes: one more message reaches every client.
      const probeAt = Date.now();
      const probe = `B after ${uuidv7()}`;
      expected.push(probe);
      await (chans[0] as Channel).sendMessage({ text: probe });
      await until(
        () => chans.every((ch) => ch.state?.messages.some((m) => m.text === probe && m.seq > 0)),
        10_000,
        'a message after the restart to reach every client',
      );
      const liveMs = Date.now() - probeAt;

      const sendErrors = members.flatMap((m) => m.sendErrors.filter((e) => e.at >= killedAt));
      console.log(
        `chaos B (redis restart): ${storm.texts.length} sends (+${settle.nudges} nudges), issued over ${storm.issuedMs} ms; ` +
          `redis killed with ${ackedAtKill} acked, back after ${outageMs} ms; converged ${Date.now() - started - liveMs} ms ` +
          `from the storm's start (${settle.ms} ms settling); a later message reached all clients in ${liveMs} ms; ` +
          `${sendErrors.length} socket send failures (${summarize(sendErrors)}), ${storm.refused.length} refused, ` +
          `${settle.retried} retried, ${gapFills() - fillsBefore} SDK gap fills${logsSince(logs)}`,
      );
      expect(storm.refused).toEqual([]);
      expect(redis.starts).toBe(2);
    },
    SCENARIO_MS,
  );

  it(
    'C: PostgreSQL unreachable for 3 s; sends fail retryably, the SDK retries, the nodes recover by themselves',
    async () => {
      await allUp();
      const logs = logSnapshot();
      const fillsBefore = gapFills();
      const pids = nodes.map((n) => n.pid);
      const chans = await groupChannel('chaos-c');
      const storm = new Storm('C', chans, 300, [3, 6], [150, 250]);
      const started = Date.now();
      // Cut while every client has sends queued, so transactions are open on every node.
      await until(
        () => storm.acked >= 40 && members.every((m) => m.client.outbox.length > 1),
        30_000,
        'the storm under way',
        5,
      );
      const ackedAtCut = storm.acked;

      const cutAt = Date.now();
      const dropped = proxy.cut();
      // While it is down: REST sends (each with its own id, kept for the retry), and /readyz.
      const probes: { id: string; text: string; statuses: string[] }[] = [];
      const readyDuring = new Set<number>();
      while (Date.now() - cutAt < 3_000) {
        const probe = { id: uuidv7(), text: `C rest ${probes.length}`, statuses: [] as string[] };
        probes.push(probe);
        const r = await rest<{ error?: { code: string } }>('POST', '/v1/channels/group:chaos-c/messages', {
          user: 'u1',
          body: { id: probe.id, text: probe.text },
          node: nodes[probes.length % 3],
        }).catch((e: Error) => ({ status: 0, body: { error: { code: e.name } } }));
        probe.statuses.push(`${r.status} ${r.body?.error?.code ?? ''}`.trim());
        for (const n of nodes) readyDuring.add(await n.readyz());
        await sleep(200);
      }
      await proxy.restore();
      const outageMs = Date.now() - cutAt;

      // The nodes recover by themselves: /readyz answers 200 again, without a restart.
      await until(
        async () => {
          noneDied(nodes);
          return (await Promise.all(nodes.map((n) => n.readyz()))).every((s) => s === 200);
        },
        20_000,
        '/readyz 200 on every node',
        100,
      );
      const readyMs = Date.now() - cutAt - outageMs;
      // REST sends refused during the outage go through when repeated with the same id.
      for (const p of probes) {
        if (p.statuses[0]?.startsWith('200')) continue;
        await until(
          async () => {
            const r = await rest<{ error?: { code: string } }>('POST', '/v1/channels/group:chaos-c/messages', {
              user: 'u1',
              body: { id: p.id, text: p.text },
            });
            p.statuses.push(`${r.status} ${r.body?.error?.code ?? ''}`.trim());
            return r.status === 200;
          },
          15_000,
          `REST send ${p.text} after the outage`,
          250,
        );
      }
      await storm.issued;
      const expected = [...storm.texts, ...probes.map((p) => p.text)];
      const settle = await converge('group:chaos-c', chans, expected, 'C', nodes);
      await storm.settled();
      await assertConverged('group:chaos-c', chans, expected, settle.history);

      const sendErrors = members.flatMap((m) => m.sendErrors.filter((e) => e.at >= cutAt));
      const restFailures = probes.flatMap((p) => p.statuses.filter((s) => !s.startsWith('200')));
      console.log(
        `chaos C (postgres cut): ${storm.texts.length} socket sends + ${probes.length} REST sends (+${settle.nudges} nudges); ` +
          `proxy cut with ${ackedAtCut} acked (${dropped} connections dropped), down ${outageMs} ms; ` +
          `/readyz during: ${[...readyDuring].sort().join(',')}; all 200 again ${readyMs} ms after; ` +
          `REST answers during: ${summarize(restFailures.map((code) => ({ code })))}; ` +
          `socket send failures: ${sendErrors.length} (${summarize(sendErrors)}); ` +
          `converged ${Date.now() - started} ms from the storm's start (${settle.ms} ms settling); ` +
          `${storm.refused.length} refused, ${settle.retried} retried, ${gapFills() - fillsBefore} SDK gap fills${logsSince(logs)}`,
      );

      // The outage was felt, and every failure it caused said "retry": the server answers
      // UNAVAILABLE (503); the SDK's own DISCONNECTED or TIMEOUT would be retryable too.
      expect(restFailures.length).toBeGreaterThan(0);
      for (const s of restFailures) {
        expect(ERRORS[s.split(' ')[1] as ErrorCode]?.retryable, `REST answer during the outage: ${s}`).toBe(true);
        expect(s).toBe('503 UNAVAILABLE');
      }
      expect(sendErrors.length).toBeGreaterThan(0);
      for (const e of sendErrors) {
        expect(e.retryable, `socket send failure ${e.code}`).toBe(true);
        expect(['UNAVAILABLE', 'DISCONNECTED', 'TIMEOUT']).toContain(e.code);
      }
      expect(readyDuring.has(503)).toBe(true);
      expect(storm.refused).toEqual([]);
      // Recovered in place: the same processes.
      expect(nodes.map((n) => n.alive)).toEqual([true, true, true]);
      expect(nodes.map((n) => n.pid)).toEqual(pids);
    },
    SCENARIO_MS,
  );
});

function summarize(list: readonly { code: string }[]): string {
  const m = new Map<string, number>();
  for (const e of list) m.set(e.code, (m.get(e.code) ?? 0) + 1);
  return [...m].map(([k, v]) => `${v}× ${k}`).join(', ') || 'none';
}
