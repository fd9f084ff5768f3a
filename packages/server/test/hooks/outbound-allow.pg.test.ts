/**
 * `PARLEY_OUTBOUND_ALLOW` end to end, as an operator sets it (`configFromEnv`): a backend on the
 * same private network (here, loopback) receives webhooks once it is allowed, and never before.
 * The receiver is what an integrator writes from docs/protocol/webhooks.md: it checks the signature with
 * the documented snippet over the raw body and answers 401 to anything else (a tampered body
 * included); it checks the order per channel itself, under 200 quick sends and under 5xx
 * answers that make the server retry. Duplicates may only be retries of one delivery (same
 * `X-Parley-Delivery`, same `event_id`), which the receiver drops as the docs say.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/platform/config.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { until } from '../jobs/helpers.js';
import { appWithWebhook } from './helpers.js';

/** The snippet of docs/protocol/webhooks.md ("Verifying"), as an integrator copies it. */
function verifyParley(secret: string, header: string | undefined, rawBody: string, toleranceSeconds = 300): boolean {
  const parts = (header ?? '').split(',').map((p) => p.split('=', 2));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const want = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return parts.some(([k, v]) => {
    if (k !== 'v1') return false;
    const got = Buffer.from(v ?? '', 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

interface Backend {
  url: string;
  host: string;
  secret: string;
  /** Events taken (verified, first time their event_id was seen), in arrival order. */
  taken: any[];
  /** Requests refused for a bad signature. */
  refused: number;
  /** Requests that repeated an event already taken (a retry whose first answer was lost). */
  repeats: { delivery: string; eventId: string }[];
  /** Out-of-order arrivals the receiver saw per channel (must stay empty). */
  disorder: string[];
  /** Answer 503 to the first attempt of every n-th delivery (0: never). */
  failEvery: number;
  close(): Promise<void>;
}

async function backend(): Promise<Backend> {
  const seen = new Map<string, string>();
  const lastSeq = new Map<string, number>();
  let n = 0;
  const b: Backend = {
    url: '',
    host: '',
    secret: '',
    taken: [],
    refused: 0,
    repeats: [],
    disorder: [],
    failEvery: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!verifyParley(b.secret, req.headers['x-parley-signature'] as string | undefined, raw)) {
        b.refused++;
        res.writeHead(401).end();
        return;
      }
      const body = JSON.parse(raw);
      const delivery = String(req.headers['x-parley-delivery']);
      n++;
      if (b.failEvery > 0 && req.headers['x-parley-attempt'] === '1' && n % b.failEvery === 0) {
        res.writeHead(503).end();
        return;
      }
      // event_id is unique within an app (cid:seq); this backend serves several apps.
      const key = `${body.app_id} ${body.event_id}`;
      if (seen.has(key)) {
        b.repeats.push({ delivery, eventId: body.event_id });
        if (seen.get(key) !== delivery) b.disorder.push(`${key} came again under another delivery id`);
      } else {
        seen.set(key, delivery);
        const chan = `${body.app_id} ${body.event.cid}`;
        const seq = body.event.seq;
        if (seq <= (lastSeq.get(chan) ?? 0)) b.disorder.push(`${chan} ${seq} after ${lastSeq.get(chan)}`);
        lastSeq.set(chan, seq);
        b.taken.push(body);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  b.host = `127.0.0.1:${port}`;
  b.url = `http://127.0.0.1:${port}`;
  return b;
}

const hookConfig = { jobPollMs: 100, webhookTimeoutMs: 2_000, webhookRetryBaseMs: 50 };
let rcv: Backend;
let allowed: Harness;
let closed: Harness;

beforeAll(async () => {
  rcv = await backend();
  // As the operator writes it: the whole loopback network, for every kind of call.
  const env = configFromEnv({ PARLEY_OUTBOUND_ALLOW: '127.0.0.0/8' });
  allowed = await startHarness({ ...hookConfig, outboundAllow: env.outboundAllow });
  closed = await startHarness(hookConfig);
}, 60_000);
afterAll(async () => {
  await rcv?.close();
  await allowed?.close();
  await closed?.close();
});

async function appWithHook(h: Harness): Promise<{ app: TestApp; webhook: string; secret: string }> {
  const { app, webhook, secret } = await appWithWebhook(h, `${rcv.url}/hook`, ['message.new'], ['a', 'b']);
  return { app, webhook: webhook.id, secret };
}

async function sendMany(h: Harness, app: TestApp, cids: string[], each: number): Promise<void> {
  const headers = await app.user('alice');
  // Quick: every channel's sends in flight together, in waves of 20.
  for (let i = 0; i < each; i += 20) {
    await Promise.all(
      cids.flatMap((cid) =>
        Array.from({ length: Math.min(20, each - i) }, (_, k) =>
          h
            .call({
              method: 'POST',
              url: `/v1/channels/${cid}/messages`,
              headers,
              payload: { text: `${cid} ${i + k}` },
            })
            .then((r) => expect(r.status).toBe(200)),
        ),
      ),
    );
  }
}

describe('outbound calls to a private backend', () => {
  it('are refused by default: at registration, naming the setting, and at delivery if the target changed since', async () => {
    const app = await closed.createApp();
    await closed.users(app, [{ id: 'alice' }, { id: 'bob' }]);
    const made = await closed.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: `${rcv.url}/hook`, events: ['message.new'] },
    });
    expect(made.status).toBe(400);
    expect(made.body.error).toMatchObject({
      code: 'OUTBOUND_NOT_ALLOWED',
      details: { setting: 'PARLEY_OUTBOUND_ALLOW_WEBHOOKS', entry: rcv.host, reason: 'port' },
    });
    expect(made.body.error.message).toContain(`add ${rcv.host} to PARLEY_OUTBOUND_ALLOW_WEBHOOKS`);
    // An endpoint registered while it was allowed (a name that resolved elsewhere, a setting
    // since removed): each attempt is checked again, fails, and says which setting allows it.
    const ok = await closed.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: 'https://hooks.parley-test.invalid/hook', events: ['message.new'] },
    });
    expect(ok.status).toBe(201);
    const webhook = ok.body.webhook.id as string;
    await closed.server.svc.db.execute(
      sql`update webhook_endpoints set url = ${`${rcv.url}/hook`} where id = ${webhook}`,
    );
    closed.server.svc.hooks.changed(app.id);
    const ch = await closed.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'a', members: ['bob'] },
    });
    expect(ch.status).toBe(200);
    const before = rcv.taken.length;
    await sendMany(closed, app, ['group:a'], 1);
    const log = await until(
      'a failed attempt',
      async () =>
        (await closed.call({ method: 'GET', url: `/v1/webhooks/${webhook}/deliveries`, headers: await app.server() }))
          .body.deliveries as any[],
      (d) => d.length === 1 && d[0].attempts >= 1,
    );
    expect(log[0].status, JSON.stringify(log[0])).not.toBe('delivered');
    expect(log[0].error).toMatch(/^port: Port \d+ is not fetched \(not allowed by PARLEY_OUTBOUND_ALLOW_WEBHOOKS/);
    expect(rcv.taken.length).toBe(before);
  });

  it('once allowed, deliver 200 quick sends signed, in order per channel, none lost', async () => {
    const { app, secret } = await appWithHook(allowed);
    rcv.secret = secret;
    rcv.taken.length = 0;
    await sendMany(allowed, app, ['group:a', 'group:b'], 100);
    await until(
      '200 events',
      async () => rcv.taken.length,
      (n) => n >= 200,
      90_000,
    );
    expect(rcv.taken.length).toBe(200);
    expect(rcv.disorder).toEqual([]);
    for (const cid of ['group:a', 'group:b']) {
      const seqs = rcv.taken.filter((e) => e.event.cid === cid).map((e) => e.event.seq);
      expect(seqs.length).toBe(100);
      expect(new Set(seqs).size).toBe(100);
    }
    // A body changed on the way is refused by the same check that took the real ones.
    const genuine = rcv.taken[0];
    const tampered = JSON.stringify({ ...genuine, event: { ...genuine.event, message: { text: 'forged' } } });
    const t = Math.floor(Date.now() / 1000);
    const sig = `t=${t},v1=${createHmac('sha256', secret)
      .update(`${t}.${JSON.stringify(genuine)}`)
      .digest('hex')}`;
    const forged = await fetch(`${rcv.url}/hook`, {
      method: 'POST',
      body: tampered,
      headers: { 'x-parley-signature': sig },
    });
    expect(forged.status).toBe(401);
    expect(rcv.refused).toBe(1);
  });

  it('retry after 5xx until delivered: nothing lost, duplicates only as retries of one delivery, order kept', async () => {
    const { app, webhook, secret } = await appWithHook(allowed);
    rcv.secret = secret;
    rcv.taken.length = 0;
    rcv.failEvery = 3;
    try {
      await sendMany(allowed, app, ['group:a', 'group:b'], 30);
      await until(
        '60 events',
        async () => rcv.taken.length,
        (n) => n >= 60,
        90_000,
      );
    } finally {
      rcv.failEvery = 0;
    }
    expect(rcv.taken.length).toBe(60);
    expect(rcv.disorder).toEqual([]);
    // The log records a run of landed deliveries after their answers (one statement a run), so
    // it may trail the receiver by the last few: wait for it to say all 60.
    const readLog = async () =>
      (
        await allowed.call({
          method: 'GET',
          url: `/v1/webhooks/${webhook}/deliveries?limit=100`,
          headers: await app.server(),
        })
      ).body.deliveries as any[];
    const log = await until(
      'the log to record 60 delivered',
      readLog,
      (l) => l.filter((d) => d.status === 'delivered').length === 60,
      30_000,
    );
    expect(log.some((d) => d.attempts >= 2)).toBe(true);
    for (const r of rcv.repeats) expect(rcv.taken.some((e) => e.event_id === r.eventId)).toBe(true);
  });
});
