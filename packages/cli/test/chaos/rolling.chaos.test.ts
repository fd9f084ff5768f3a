/**
 * A rolling restart behind nginx, under load (issue: run it like every other service). Two
 * `parley start` nodes share one PostgreSQL and one Redis; Debian's nginx with the documented
 * configuration (deploy/nginx/parley.conf) serves them over TLS; six SDK clients connect through
 * it (four on WebSockets, two on the fallback stream) and keep sending. Node 1 is stopped with
 * SIGTERM, as a service manager stops it, and started again; then node 2. Each must drain (exit
 * 0 after closing its sockets with 4005 and a reconnect hint), and the clients must follow:
 * every client reconnected, and in the end every text is stored exactly once and every client
 * holds exactly the server's history. The send latency (issue to acknowledgement) of the sends
 * made during the restarts is printed, beside that of the sends before them: printed, not
 * asserted (timings stay out of tests).
 *
 * Needs DATABASE_URL, REDIS_URL (with redis-server) and nginx; skipped without them unless
 * PARLEY_REQUIRE_PG / PARLEY_REQUIRE_REDIS / PARLEY_REQUIRE_NGINX make that a failure (CI).
 */
import { CLOSE_CODES, reconnectWithinMs, uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import {
  type Channel,
  ChatClient,
  type LocalMessage,
  type SocketFactory,
  type Transport,
} from '../../../client/src/index.js';
import { signToken } from '../../../server/src/platform/auth.js';
import { haveNginx, type Nginx, startNginx } from '../../../server/test/nginx.js';
import { closeAll, ParleyNode, PrivateRedis, redisServerBinary, scratchDatabase, sleep, until } from './infra.js';

const PG_URL = process.env.PARLEY_CHAOS_PG_URL || process.env.DATABASE_URL || '';
const REDIS_URL = process.env.REDIS_URL || '';
const REDIS_BIN = redisServerBinary();
const required = process.env.PARLEY_REQUIRE_PG === '1' || process.env.PARLEY_REQUIRE_REDIS === '1';
const services = !!PG_URL && !!REDIS_URL && !!REDIS_BIN;
if (!services && required)
  throw new Error(
    `the rolling restart needs PostgreSQL and Redis: DATABASE_URL ${PG_URL ? 'set' : 'missing'}, ` +
      `REDIS_URL ${REDIS_URL ? 'set' : 'missing'}, redis-server ${REDIS_BIN ?? 'not found'}`,
  );

const NODE_START_MS = 60_000;
const USERS = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'] as const;
const TRANSPORTS: Transport[] = ['websocket', 'websocket', 'sse', 'websocket', 'websocket', 'sse'];
const ADMIN_TOKEN = `rolling-admin-${uuidv7()}`;
const CID = 'group:rolling';

interface Member {
  id: string;
  client: ChatClient;
  channel: Channel;
  /** Close codes and reasons its WebSockets saw (the stream's are the SDK's own). */
  closes: { code: number; reason: string }[];
  /** Hellos after the first: reconnections. */
  reconnects: number;
}

let redis: PrivateRedis;
let nodes: ParleyNode[] = [];
let nginx: Nginx;
let app: { id: string; apiKey: string; secret: string };
const members: Member[] = [];

async function admin<T>(method: string, path: string, body?: unknown, user?: string | null): Promise<T> {
  const live = nodes.find((n) => n.alive);
  if (!live) throw new Error('no node is running');
  const headers: Record<string, string> =
    user === undefined
      ? { authorization: `Bearer ${ADMIN_TOKEN}` }
      : { 'x-api-key': app.apiKey, authorization: `Bearer ${await signToken(app.secret, user)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${live.base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

type Stored = { id: string; seq: number; text: string; type: string };

async function serverHistory(): Promise<Stored[]> {
  const out: Stored[] = [];
  for (let after = 0; ; ) {
    const page = await admin<{ messages: Stored[] }>(
      'GET',
      `/v1/channels/${CID}/messages?after=${after}&limit=200`,
      undefined,
      'r0',
    );
    out.push(...page.messages);
    if (page.messages.length < 200) return out;
    after = (out.at(-1) as Stored).seq;
  }
}

const stored = (list: readonly LocalMessage[] | undefined) => (list ?? []).filter((m) => m.seq > 0);
const online = (m: Member) => m.client.state.get().connection === 'online';

/** Where each client stands, for a failure's message. */
function states(): string {
  return members
    .map((m, i) => {
      const msgs = m.channel?.state?.messages ?? [];
      const by = (st: string) => msgs.filter((x) => x.status === st).length;
      return `${m.id} (${TRANSPORTS[i]}): ${m.client.state.get().connection}, outbox ${m.client.outbox.length}, sent ${by('sent')}, pending ${by('pending')}, failed ${by('failed')}, reconnects ${m.reconnects}, closes ${JSON.stringify(m.closes.slice(-3))}`;
    })
    .join('\n  ');
}

/** `until`, failing with where every client stands and the nodes' and nginx's last words. */
async function settle(fn: () => boolean | Promise<boolean>, ms: number, label: string): Promise<void> {
  try {
    await until(fn, ms, label);
  } catch (e) {
    // What a stuck client answers now: a ping, and whether a flush kicked by hand moves its outbox.
    const probes = await Promise.all(
      members.map(async (m) => {
        const t = Date.now();
        const ping = await m.client.request('ping', {}).then(
          () => `ping ok ${Date.now() - t} ms`,
          (err: { code?: string }) => `ping ${err.code}`,
        );
        const before = m.client.outbox.length;
        await Promise.race([m.client.flush(), sleep(5_000)]); // a bound: a diagnosis, not a wait
        return `${m.id}: ${ping}, transport ${m.client.transport}, outbox ${before} -> ${m.client.outbox.length} after a flush`;
      }),
    );
    const tails = nodes.map((n) => `${n.id} (alive ${n.alive}):\n${n.output().slice(-1_500)}`).join('\n');
    throw new Error(
      `${(e as Error).message}\n  ${states()}\n  ${probes.join('\n  ')}\n${tails}\nnginx:\n${nginx.errors().slice(-1_500)}`,
    );
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe.runIf(services && haveNginx)('rolling restart of two nodes behind nginx, under load', () => {
  beforeAll(async () => {
    const db = await scratchDatabase(PG_URL);
    redis = new PrivateRedis(REDIS_BIN as string);
    await redis.start();
    const env = {
      databaseUrl: db.url,
      redisUrl: redis.url,
      masterKey: 'd4'.repeat(32),
      adminToken: ADMIN_TOKEN,
      // As deploy/nginx/parley.conf says: the nodes believe nginx, and only nginx.
      extra: { PARLEY_TRUST_PROXY: '127.0.0.1' },
    };
    nodes = ['n1', 'n2'].map((id) => new ParleyNode(id, env));
    await Promise.all(nodes.map((n) => n.start(NODE_START_MS)));
    nginx = await startNginx(nodes.map((n) => n.port) as [number, number]);

    const made = await admin<{ id: string; api_key: string; api_secret: string }>('POST', '/v1/admin/apps', {
      name: 'rolling',
    });
    app = { id: made.id, apiKey: made.api_key, secret: made.api_secret };
    await admin('POST', '/v1/users', { users: USERS.map((id) => ({ id, name: id })) }, null);

    for (const [i, id] of USERS.entries()) {
      const closes: Member['closes'] = [];
      const Recording = class extends nginx.WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          (this as unknown as WebSocket).on('close', (code, reason) =>
            closes.push({ code, reason: reason.toString() }),
          );
        }
      };
      const client = new ChatClient({
        url: nginx.url,
        apiKey: app.apiKey,
        WebSocket: Recording as unknown as SocketFactory,
        fetch: nginx.fetch as never,
        transport: TRANSPORTS[i] as Transport,
        pingIntervalMs: 2_000,
        pongTimeoutMs: 5_000,
      });
      const m = { id, client, closes, reconnects: 0 } as Member;
      await client.connectUser({ id }, () => signToken(app.secret, id));
      members.push(m);
    }
    await (members[0] as Member).client.channel('group', 'rolling').createChannel({
      members: USERS.filter((u) => u !== 'r0'),
      name: 'Rolling',
    });
    for (const m of members) {
      m.channel = m.client.channel('group', 'rolling');
      await m.channel.watch();
    }
  }, 180_000);

  afterAll(async () => {
    for (const m of members) await m.client.disconnectUser().catch(() => {});
    await nginx?.close();
    await closeAll();
  }, 30_000);

  it('loses and doubles nothing while each node in turn drains and restarts; every client follows', async () => {
    // Every client counts its reconnections (an `online` after another state).
    for (const m of members) {
      let was = m.client.state.get().connection;
      m.client.state.subscribe((s) => {
        if (s.connection === 'online' && was !== 'online') m.reconnects++;
        was = s.connection;
      });
    }
    const sends: { text: string; at: number; ms: number | null; error: string | null }[] = [];
    let sending = true;
    const loops = members.map(async (m, i) => {
      for (let n = 0; sending; n++) {
        const s = { text: `${m.id} #${n}`, at: Date.now(), ms: null as number | null, error: null as string | null };
        sends.push(s);
        m.channel.sendMessage({ text: s.text }).then(
          () => {
            s.ms = Date.now() - s.at;
          },
          (e: { code?: string }) => {
            s.error = e.code ?? String(e);
          },
        );
        // Each client's pace: one send every 200–300 ms, about 25 a second in all, well within
        // what the nodes and the stream transport carry, so the latency is the restarts', not a
        // queue's.
        await sleep(200 + ((i * 7 + n) % 5) * 25);
      }
    });

    await sleep(3_000); // load before the restarts, for comparison
    const restartsFrom = Date.now();
    const drains: string[] = [];
    for (const node of nodes) {
      const stoppedAt = Date.now();
      const exit = await node.stop();
      expect(exit, `${node.id} exit after SIGTERM:\n${node.output().slice(-3_000)}`).toEqual({ code: 0, signal: null });
      const drainMs = Date.now() - stoppedAt;
      await settle(() => members.every(online), 30_000, `every client online again after ${node.id} stopped`);
      const movedMs = Date.now() - stoppedAt;
      await node.start(NODE_START_MS);
      // As docs/deploy.md says: the next node only once nginx uses this one again (it leaves a
      // node that refused alone for its fail_timeout). Round robin: two asks reach both nodes.
      await settle(
        async () => {
          const seen = await Promise.all(
            [0, 1].map(
              async () => (await (await nginx.fetch(`${nginx.url}/metrics`)).text()).match(/node="(\w+)"/)?.[1],
            ),
          );
          return seen.includes(node.id);
        },
        30_000,
        `nginx to send requests to ${node.id} again`,
      );
      drains.push(`${node.id}: exited 0 in ${drainMs} ms, clients all online on the other ${movedMs} ms after SIGTERM`);
    }
    const restartsTo = Date.now();
    await sleep(2_000); // load after the restarts
    sending = false;
    await Promise.all(loops);

    // Settle: everyone online with an empty outbox; a send left failed is retried with its id.
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
    // Nothing lost, nothing doubled.
    expect(texts.length).toBe(new Set(texts).size);
    expect([...texts].sort()).toEqual(sends.map((s) => s.text).sort());
    // Every client holds exactly the server's history, in seq order.
    const serverList = history.map((x) => `${x.id}@${x.seq}`).join(',');
    await until(
      () =>
        members.every(
          (m) =>
            stored(m.channel.state?.messages)
              .map((x) => `${x.id}@${x.seq}`)
              .join(',') === serverList,
        ),
      20_000,
      "every client holding the server's history",
    );
    // Every client reconnected (everyone was on the second node when it stopped, if not before),
    // and the WebSockets were told why: 4005 with a hint.
    for (const m of members) expect(m.reconnects, `${m.id} reconnections`).toBeGreaterThan(0);
    for (const m of members.filter((_, i) => TRANSPORTS[i] === 'websocket')) {
      const drained = m.closes.filter((c) => c.code === CLOSE_CODES.SHUTTING_DOWN);
      expect(drained.length, `${m.id} closes: ${JSON.stringify(m.closes)}`).toBeGreaterThan(0);
      for (const c of drained) expect(reconnectWithinMs(c.reason)).not.toBeNull();
    }
    expect(sends.filter((s) => s.error !== null)).toEqual([]);

    const during = sends.filter((s) => s.at >= restartsFrom && s.at <= restartsTo).map((s) => s.ms as number);
    const before = sends.filter((s) => s.at < restartsFrom).map((s) => s.ms as number);
    console.log(
      `rolling restart: ${sends.length} sends from ${USERS.length} clients (${TRANSPORTS.join('/')}) through nginx; ` +
        `${drains.join('; ')}; reconnects per client ${members.map((m) => m.reconnects).join('/')}; ` +
        `send p50/p99/max before: ${percentile(before, 50)}/${percentile(before, 99)}/${percentile(before, 100)} ms ` +
        `(${before.length}); during the restarts (${restartsTo - restartsFrom} ms): ` +
        `${percentile(during, 50)}/${percentile(during, 99)}/${percentile(during, 100)} ms (${during.length})`,
    );
  }, 240_000);
});
