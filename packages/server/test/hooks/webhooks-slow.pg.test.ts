/**
 * A slow endpoint does not hold up another app's endpoint on the same host: its requests fill
 * only its own share of the node's slots and its own pool of connections. Its own harness: the
 * slow answers are held for as long as the test needs, with no delivery timeout in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PER_ENDPOINT } from '../../src/features/webhooks/pump.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { until as untilSoon } from '../jobs/helpers.js';
import { appWithWebhook, type Receiver, startReceiver } from './helpers.js';

const until = <T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean) => untilSoon(what, fn, pred, 60_000);

let h: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    // Held answers are never cut short: every attempt here is a first one.
    webhookTimeoutMs: 120_000,
  });
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

async function send(app: TestApp, cid: string, text: string) {
  const r = await h.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await app.user('alice'),
    payload: { text },
  });
  expect(r.status).toBe(200);
}

describe('a slow endpoint', { timeout: 120_000 }, () => {
  it('a slow endpoint holds at most its share of requests; another app on the same host is delivered meanwhile', async () => {
    // More busy lanes than the endpoint's share, and their answers held back until the other
    // app's delivery has landed: that delivery must not wait for a slot or a connection of the
    // slow endpoint, though both endpoints are on the same host and port.
    const lanes = Array.from({ length: PER_ENDPOINT + 4 }, (_, i) => `slow${i}`);
    const slow = await appWithWebhook(h, `${rcv.url}/slow`, ['message.new'], lanes);
    const fast = await appWithWebhook(h, `${rcv.url}/fast`, ['message.new']);
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const was = rcv.answer;
    rcv.answer = (r, nth) => (r.path === '/slow' ? { status: 200, until: held } : was(r, nth));
    try {
      await Promise.all(lanes.map((id) => send(slow.app, `group:${id}`, 'slow')));
      await until(
        'the slow endpoint at its share',
        async () => rcv.on('/slow').length,
        (n) => n >= PER_ENDPOINT,
      );
      await send(fast.app, 'group:one', 'not held up');
      await until(
        'the other app’s delivery',
        async () => rcv.on('/fast').length,
        (n) => n >= 1,
      );
      // Still none of the slow ones answered, and never more than the share in flight.
      expect(rcv.on('/slow')).toHaveLength(PER_ENDPOINT);
      release();
      await until(
        'the slow deliveries',
        async () => rcv.on('/slow').length,
        (n) => n >= lanes.length,
      );
      expect(rcv.mostAtOnce.get('/slow')).toBe(PER_ENDPOINT);
    } finally {
      release();
      rcv.answer = was;
    }
  });
});
