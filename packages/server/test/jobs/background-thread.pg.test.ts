/**
 * PARLEY_BACKGROUND=thread (src/background.ts): the node's jobs and webhook deliveries run on a
 * worker thread of its process, and the loop that serves clients only enqueues them. On
 * PostgreSQL, with the job probe slowed to a minute so that only a wake across the broker can
 * start work in time: every message reaches the webhook endpoint, signed and in order; each
 * send's notification job runs; the deliveries are counted in /metrics under the thread's node
 * label and none under the main thread's; an event a job publishes on the thread reaches a
 * socket on the main thread; a thread that dies is started again; closing the server ends the
 * thread and what it held. On PGlite, whose database only the main thread can open, the setting runs the jobs inline,
 * and the same deliveries arrive.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { rows } from '../../src/platform/db/index.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { backend, type Harness, startHarness, TestSocket, testDatabase } from '../harness.js';
import { appWithWebhook, type Receiver, startReceiver } from '../hooks/helpers.js';
import { channel, send } from '../notifications/helpers.js';
import { startPushService } from '../notifications/push-service.js';
import { selfSignedCert } from '../notifications/tls.js';
import { onPostgres } from '../pg-template.js';
import { until } from './helpers.js';

let db: Awaited<ReturnType<typeof testDatabase>>;
/** Connections open to this file's PostgreSQL database. */
let connectionsOf: () => Promise<number>;
let h: Harness;
let rcv: Receiver;
let push: Awaited<ReturnType<typeof startPushService>>;

beforeAll(async () => {
  rcv = await startReceiver();
  const tls = selfSignedCert();
  push = await startPushService(tls);
  db = await testDatabase();
  // The thread opens the database itself, from the configuration: on PostgreSQL it needs its URL.
  const dbName = db.url ? new URL(db.url).pathname.slice(1) : '';
  h = await startHarness(
    {
      nodeId: 'bgtest',
      databaseUrl: db.url,
      background: 'thread',
      masterKey: 'b'.repeat(64),
      // Far longer than the test waits: a job starts in time only when the enqueuer wakes it.
      jobPollMs: 60_000,
      outboundAllow: outboundAllowFromEnv({
        PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host,
        PARLEY_OUTBOUND_ALLOW_PUSH: new URL(push.origin).host,
      }),
      webPushCa: tls.cert,
      // Every message pushes (no one-per-burst collapsing): the push test counts them.
      pushBurstSeconds: 0,
    },
    { database: db.database },
  );
  connectionsOf = async () => {
    const [r] = await onPostgres(
      process.env.PARLEY_TEST_PG_URL as string,
      'select count(*)::int as n from pg_stat_activity where datname = $1',
      [dbName],
    );
    return r?.n as number;
  };
}, 60_000);

afterAll(async () => {
  await h?.close();
  await db?.drop();
  await rcv?.close();
  await push?.close();
});

/** The sum of a counter's samples in /metrics whose labels include `labels`. */
async function counted(name: string, labels: string[]): Promise<number> {
  const r = await h.app.inject({ method: 'GET', url: '/metrics' });
  let sum = 0;
  for (const line of r.body.split('\n'))
    if (line.startsWith(`${name}{`) && labels.every((l) => line.includes(l))) sum += Number(line.split(' ').pop());
  return sum;
}

describe(`jobs on a background thread (${backend})`, { timeout: 90_000 }, () => {
  it('runs the jobs on the thread where the database allows it, inline on PGlite', () => {
    // The main thread's server enqueues only; on PGlite it works itself.
    expect(h.server.svc.config.jobWorkers).toBe(backend === 'pglite');
  });

  it('delivers every webhook, signed and in order, and runs each send’s notification job', async () => {
    const { app, secret } = await appWithWebhook(h, `${rcv.url}/bg`, ['message.new'], ['one', 'two']);
    const sent: { cid: string; seq: number; id: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const cid = i % 2 ? 'group:one' : 'group:two';
      const r = await h.call({
        method: 'POST',
        url: `/v1/channels/${cid}/messages`,
        headers: await app.user('alice'),
        payload: { text: `message ${i}` },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      sent.push(r.body.message);
    }
    // Well within the probe's minute: the wake crossed from the main thread to the thread.
    await until(
      'the 30 deliveries',
      async () => rcv.on('/bg').length,
      (n) => n >= 30,
      15_000,
    );
    const got = rcv.on('/bg');
    expect(new Set(got.map((g) => g.headers['x-parley-delivery'])).size).toBe(30);
    for (const g of got) expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
    for (const cid of ['group:one', 'group:two']) {
      const seqs = got.filter((g) => g.json.event.cid === cid).map((g) => g.json.event.seq as number);
      expect(seqs).toEqual(sent.filter((m) => m.cid === cid).map((m) => m.seq));
    }
    // Each send was handed to a notification job, and every such job completed.
    const jobs = await until(
      'the notification jobs to complete',
      () =>
        rows<{ state: string; n: number }>(
          h.database.db,
          sql`select state::text as state, count(*)::int as n from pgboss.job
            where name = 'notifications.message' group by state`,
        ),
      (r) => r.length > 0 && r.every((s) => s.state === 'completed'),
      15_000,
    );
    expect(jobs.reduce((a, s) => a + s.n, 0)).toBeGreaterThan(0);
    // Which thread sent them: /metrics has both threads' series, by node label. A delivery is
    // counted once its answer is read, which can be a moment after the receiver has it: waited for.
    const sender = backend === 'postgres' ? 'bgtest/bg' : 'bgtest';
    const delivered = await until(
      'the 30 deliveries counted',
      () => counted('parley_webhook_attempts_total', [`node="${sender}"`, 'outcome="delivered"']),
      (n) => n >= 30,
      15_000,
    );
    expect(delivered).toBe(30);
    if (backend === 'postgres')
      expect(await counted('parley_webhook_attempts_total', ['node="bgtest"', 'outcome="delivered"'])).toBe(0);
  });

  it('an event the thread’s job publishes reaches a socket on the main thread', async () => {
    // Deleting a channel answers 202 and a job removes it, then tells its members: the job runs
    // on the thread, whose broker is bridged into the main thread's, where bob's socket is.
    const app = await h.createApp();
    await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'doomed', members: ['bob'] },
    });
    expect(ch.status).toBe(200);
    const bob = await TestSocket.connect(await h.listen(), app, 'bob');
    try {
      const del = await h.call({ method: 'DELETE', url: '/v1/channels/group:doomed', headers: await app.server() });
      expect(del.status, JSON.stringify(del.body)).toBe(202);
      await bob.waitFor((f) => f.type === 'channel.removed' && f.cid === 'group:doomed', 15_000);
    } finally {
      bob.close();
    }
  });

  it('pushes from the thread, each encrypted there to its subscription and signed', async () => {
    // The thread encrypts Web Push bodies on its own loop (platform/push/encrypt.ts): every push
    // must still decrypt with its own subscription's keys, and no other's.
    const app = await h.createApp();
    await h.users(app, [
      { id: 'alice', username: 'alice' },
      { id: 'bob', username: 'bob' },
      { id: 'carol', username: 'carol' },
    ]);
    const subs = { bob: push.subscribe(), carol: push.subscribe() };
    for (const [user, s] of Object.entries(subs)) {
      const r = await h.call({
        method: 'POST',
        url: '/v1/push/web/subscriptions',
        headers: await app.user(user),
        payload: { endpoint: s.endpoint, keys: s.keys },
      });
      expect(r.status).toBe(200);
    }
    const cid = await channel(h, app, 'alice', 'pushed', ['alice', 'bob', 'carol']);
    const sent = [];
    for (let i = 0; i < 6; i++) sent.push(await send(h, app, 'alice', cid, `@bob @carol ping ${i}`));
    const ids = new Set(sent.map((m) => m.id));
    const got = await until(
      'a push per message to each of bob and carol',
      async () => push.received.filter((p) => ids.has(p.payload.message_id)),
      (r) => r.length >= 12,
      15_000,
    );
    expect(push.errors).toEqual([]);
    for (const [, s] of Object.entries(subs))
      expect(new Set(got.filter((p) => p.subscription === s.id).map((p) => p.payload.message_id))).toEqual(ids);
    // On PostgreSQL the notification jobs that pushed ran on the thread (on PGlite, inline).
    if (backend === 'postgres')
      expect(
        await counted('parley_jobs_finished_total', [
          'node="bgtest/bg"',
          'queue="notifications.message"',
          'outcome="completed"',
        ]),
      ).toBeGreaterThan(0);
  });

  it('a thread that dies is started again, and the work goes on', async () => {
    const bg = h.server.background;
    if (backend !== 'postgres' || !bg) {
      expect(bg).toBeNull();
      return;
    }
    const first = bg.threadId;
    await bg.kill();
    await until(
      'a new thread',
      async () => bg.threadId,
      (id) => id > 0 && id !== first,
      15_000,
    );
    // A new endpoint's lanes (the dead thread's own stay leased until their lease runs out).
    const { app } = await appWithWebhook(h, `${rcv.url}/after`, ['message.new'], ['three']);
    for (let i = 0; i < 5; i++) {
      const r = await h.call({
        method: 'POST',
        url: '/v1/channels/group:three/messages',
        headers: await app.user('alice'),
        payload: { text: `after ${i}` },
      });
      expect(r.status).toBe(200);
    }
    await until(
      'the deliveries after the restart',
      async () => rcv.on('/after').length,
      (n) => n >= 5,
      15_000,
    );
    expect(await counted('parley_webhook_attempts_total', ['node="bgtest/bg"', 'outcome="delivered"'])).toBe(5);
  });

  it('closing the server stops the thread: its database connections are gone', async () => {
    if (backend !== 'postgres') return;
    const before = await connectionsOf();
    await h.close();
    // The test's own pool (the harness's `database`) stays; the thread's pools closed with it.
    const after = await connectionsOf();
    expect(after).toBeLessThan(before);
    h = null as unknown as Harness;
  });
});
