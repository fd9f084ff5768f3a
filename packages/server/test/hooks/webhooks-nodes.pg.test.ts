/**
 * Webhooks under concurrency, on two nodes sharing one database and one broker (Redis when
 * REDIS_URL is set, else an in-process network): both nodes send into the same channels at
 * once, so each lane's claim is raced and lost over and over, and the node that holds a lane
 * must hear of deliveries the other node committed into it. The receiver checks what a real
 * one would: every event arrives, signed, each channel's in seq order, none twice. And an
 * endpoint in trouble (answering 500 to everything, for longer than the test) does not hold
 * back another app's deliveries on the same nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOKS_TOPIC } from '../../src/features/webhooks/pump.js';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { clusterBrokers, type Harness, startHarness, type TestApp, testDatabase } from '../harness.js';
import { until } from '../jobs/helpers.js';
import { appWithWebhook, type Receiver, startReceiver } from './helpers.js';

const broker = clusterBrokers('webhooks');
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
/** An API node: it runs no jobs and sends no webhooks, it only wakes the nodes that do. */
let api: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  db = await testDatabase();
  const config = {
    masterKey: 'e'.repeat(64),
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    webhookRetryBaseMs: 200,
  };
  n1 = await startHarness({ ...config, nodeId: 'w1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...config, nodeId: 'w2' }, { database: db.database, broker: await broker() });
  api = await startHarness(
    { ...config, nodeId: 'w3', jobWorkers: false },
    { database: db.database, broker: await broker() },
  );
}, 60_000);

afterAll(async () => {
  await api?.close();
  await n1?.close();
  await n2?.close();
  await db?.drop();
  await rcv?.close();
});

async function send(node: Harness, app: TestApp, cid: string, text: string) {
  const r = await node.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await app.user('alice'),
    payload: { text },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.message as { id: string; seq: number; cid: string };
}

describe('webhooks on two nodes', { timeout: 120_000 }, () => {
  it('two nodes sending into the same channels at once: every event once, signed, in order per channel', async () => {
    const channels = ['a', 'b', 'c'];
    const { app, secret } = await appWithWebhook(n1, `${rcv.url}/both`, ['message.new'], channels);
    // Slow enough answers that lanes stay busy while the other node commits into them.
    const was = rcv.answer;
    rcv.answer = (r, nth) => (r.path === '/both' ? { status: 200, delayMs: 3 } : was(r, nth));
    try {
      const sent = (
        await Promise.all(
          [n1, n2].map(async (node, k) => {
            const out = [];
            for (let i = 0; i < 40; i++)
              out.push(
                ...(await Promise.all(
                  channels.map((c) => send(node, app, `group:${c}`, `node ${k + 1} message ${i}`)),
                )),
              );
            return out;
          }),
        )
      ).flat();
      expect(sent).toHaveLength(240);
      await until(
        'all 240 deliveries',
        async () => new Set(rcv.on('/both').map((g) => g.headers['x-parley-delivery'])).size,
        (n) => n >= 240,
        90_000,
      );
      const got = rcv.on('/both');
      // Nothing failed, so nothing was sent twice.
      expect(got).toHaveLength(240);
      for (const g of got)
        expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
      for (const c of channels) {
        const seqs = got.filter((g) => g.json.event.cid === `group:${c}`).map((g) => g.json.event.seq as number);
        const want = sent
          .filter((m) => m.cid === `group:${c}`)
          .map((m) => m.seq)
          .sort((x, y) => x - y);
        expect(seqs).toEqual(want);
      }
    } finally {
      rcv.answer = was;
    }
  });

  it('a node that sends nothing announces its wakes together, and the nodes that send deliver each in order', async () => {
    const channels = ['p', 'q', 'r'];
    const { app } = await appWithWebhook(n1, `${rcv.url}/from-api`, ['message.new'], channels);
    const spy = await broker();
    const announced: { lanes: { lane: string }[] }[] = [];
    spy.onMessage((topic, m) => {
      const f = JSON.parse(m.frame) as { from: string; claim: boolean; lanes: { lane: string }[] };
      // The sending nodes announce only claims they lost (claim: false); the API node, wakes.
      if (topic === WEBHOOKS_TOPIC && f.claim) announced.push(f);
    });
    spy.subscribe(WEBHOOKS_TOPIC);
    await spy.settled();
    try {
      const began = Date.now();
      const sent = [];
      for (let i = 0; i < 36; i++) sent.push(await send(api, app, `group:${channels[i % 3]}`, `via the API node ${i}`));
      const took = Date.now() - began;
      await until(
        'the 36 deliveries',
        async () => rcv.on('/from-api').length,
        (n) => n >= 36,
        30_000,
      );
      const got = rcv.on('/from-api');
      for (const c of channels)
        expect(got.filter((g) => g.json.event.cid === `group:${c}`).map((g) => g.json.event.seq)).toEqual(
          sent.filter((m) => m.cid === `group:${c}`).map((m) => m.seq),
        );
      // 36 commits, one wake each; announced at most once per 25 ms, each lane once a message.
      expect(announced.length).toBeGreaterThanOrEqual(1);
      expect(announced.length).toBeLessThanOrEqual(Math.floor(took / 25) + 2);
      for (const a of announced) expect(new Set(a.lanes.map((l) => l.lane)).size).toBe(a.lanes.length);
    } finally {
      await spy.close();
    }
  });

  it('an endpoint failing every attempt does not hold back another app’s deliveries', async () => {
    const lanes = Array.from({ length: 40 }, (_, i) => `bad${i}`);
    const bad = await appWithWebhook(n1, `${rcv.url}/failing`, ['message.new'], lanes);
    const good = await appWithWebhook(n1, `${rcv.url}/healthy`, ['message.new'], ['one', 'two']);
    const was = rcv.answer;
    rcv.answer = (r, nth) => (r.path === '/failing' ? { status: 503 } : was(r, nth));
    try {
      // The failing app's lanes all fail and wait out their backoffs, on both nodes.
      await Promise.all(lanes.map((id, i) => send(i % 2 ? n1 : n2, bad.app, `group:${id}`, 'into the void')));
      await until(
        'a first attempt in every failing lane',
        async () => new Set(rcv.on('/failing').map((g) => g.json.event.cid)).size,
        (n) => n >= 40,
      );
      for (let i = 0; i < 30; i++)
        await send(i % 2 ? n1 : n2, good.app, i % 3 ? 'group:one' : 'group:two', `fine ${i}`);
      await until(
        'the healthy app’s 30 deliveries',
        async () => rcv.on('/healthy').length,
        (n) => n >= 30,
      );
      // Every one arrived on its first attempt, while the failing endpoint still failed.
      expect(rcv.on('/healthy').map((g) => g.headers['x-parley-attempt'])).toEqual(Array(30).fill('1'));
      const failing = rcv.on('/failing');
      expect(failing.length).toBeGreaterThanOrEqual(40);
      // Its lanes retry with backoff, not in a loop: a few attempts each so far.
      expect(failing.length).toBeLessThan(40 * 8);
    } finally {
      rcv.answer = was;
    }
  });
});
