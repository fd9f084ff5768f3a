/**
 * Nothing an endpoint should have had is lost or silently dropped, on both databases, against
 * a real receiver on loopback: a paused endpoint keeps what it would have received and gets it
 * all, in order, when re-enabled; what waited past the retention is dropped and counted (the
 * hourly job and the re-enabling alike), visible on the endpoint; a deleted-and-recreated
 * endpoint gets a time range replayed from the event log, page by page; a test event answers
 * how the receiver took it (active or not); a secret rotation signs with both secrets during
 * its overlap and only the new one after it; and a target the outbound policy refuses is
 * refused at registration and on update with a typed error naming the setting that allows it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneWebhooks } from '../../src/features/webhooks/retention.js';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { rows } from '../../src/platform/db/index.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { until } from '../jobs/helpers.js';
import { appWithWebhook, type Received, type Receiver, startReceiver } from './helpers.js';

let h: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    webhookTimeoutMs: 1_500,
    webhookRetryBaseMs: 50,
    // The sweep would claim lanes this file plants; the tests wake what they need.
    webhookSweepSeconds: 3_600,
  });
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

const WAIT = 60_000;

type Sent = { id: string; seq: number; cid: string; created_at: string };

async function send(app: TestApp, cid: string, text: string): Promise<Sent> {
  const r = await h.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await app.user('alice'),
    payload: { text },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.message as Sent;
}

async function endpoint(app: TestApp, id: string) {
  const r = await h.call({ method: 'GET', url: `/v1/webhooks/${id}`, headers: await app.server() });
  expect(r.status).toBe(200);
  return r.body.webhook as {
    active: boolean;
    pending: number;
    dropped: number;
    dropped_at: string | null;
    previous_secret_expires_at: string | null;
  };
}

async function patch(app: TestApp, id: string, payload: object) {
  return h.call({ method: 'PATCH', url: `/v1/webhooks/${id}`, headers: await app.server(), payload });
}

/** First attempts on `path` (a retry repeats a delivery; these are the distinct ones, in arrival order). */
const firsts = (path: string) => rcv.on(path).filter((g) => g.headers['x-parley-attempt'] === '1');

/** The seqs each channel's message events arrived in. */
function seqsByChannel(got: Received[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const g of got)
    if (g.json.event.cid) m.set(g.json.event.cid, [...(m.get(g.json.event.cid) ?? []), g.json.event.seq]);
  return m;
}

describe('an endpoint at rest', { timeout: 120_000 }, () => {
  it('keeps what a paused endpoint would have received and sends it all in order when re-enabled', async () => {
    const { app, webhook, secret } = await appWithWebhook(h, `${rcv.url}/paused`, ['message.new', 'user.*']);
    await send(app, 'group:one', 'before the pause');
    await until(
      'the first delivery',
      async () => firsts('/paused').length,
      (n) => n === 1,
      WAIT,
    );
    // Its outcome is recorded a tick after the answer: until then it still counts as pending.
    await until(
      'the first delivery recorded',
      async () => (await endpoint(app, webhook.id)).pending,
      (n) => n === 0,
      WAIT,
    );
    const paused = await patch(app, webhook.id, { active: false });
    expect(paused.body.webhook).toMatchObject({ active: false, disabled_reason: 'Paused by an admin' });
    const sent: Sent[] = [];
    // Two channels at once (the group commit's statement writes their rows) and a user event.
    await Promise.all(
      ['group:one', 'group:two'].map(async (cid) => {
        for (let i = 0; i < 6; i++) sent.push(await send(app, cid, `${cid} while paused ${i}`));
      }),
    );
    const profile = await h.call({
      method: 'PATCH',
      url: '/v1/me',
      headers: await app.user('alice'),
      payload: { name: 'Alice, while paused' },
    });
    expect(profile.status).toBe(200);
    // Every one is kept, none is sent: 12 messages and the profile change wait.
    expect((await endpoint(app, webhook.id)).pending).toBe(13);
    // A window in which a delivery to a paused endpoint would have arrived, had it been sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(rcv.on('/paused')).toHaveLength(1);
    // Its lanes were not woken: no lease was taken for the lanes it only had events in while paused
    // (the pump claims, reads and lets go nothing for it; its only cost per send is the row).
    const leased = await rows<{ lane: string }>(
      h.server.svc.db,
      sql`select lane from webhook_lanes where endpoint_id = ${webhook.id} order by lane`,
    );
    expect(leased.map((r) => r.lane)).toEqual(['group:one']);

    const on = await patch(app, webhook.id, { active: true });
    expect(on.body.webhook).toMatchObject({ active: true, disabled_reason: null, dropped: 0 });
    const got = await until(
      'what waited',
      async () => firsts('/paused'),
      (g) => g.length >= 14,
      WAIT,
    );
    expect(got).toHaveLength(14);
    for (const g of got) expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
    const seqs = seqsByChannel(got.filter((g) => g.json.type === 'message.new'));
    for (const cid of ['group:one', 'group:two']) {
      const want = sent.filter((m) => m.cid === cid).map((m) => m.seq);
      // In commit order, each exactly once (group:one's first came before the pause).
      expect(seqs.get(cid)?.slice(cid === 'group:one' ? 1 : 0)).toEqual(want.sort((a, b) => a - b));
    }
    expect(got.find((g) => g.json.type === 'user.updated')?.json.event.user.name).toBe('Alice, while paused');
    await until(
      'the backlog drained',
      async () => (await endpoint(app, webhook.id)).pending,
      (n) => n === 0,
      WAIT,
    );
  });

  it('drops what waited past the retention, counts it on the endpoint, and sends the rest', async () => {
    const { app, webhook } = await appWithWebhook(h, `${rcv.url}/retained`, ['message.new']);
    await patch(app, webhook.id, { active: false });
    const sent: Sent[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(app, 'group:one', `kept or not ${i}`));
    const db = h.server.svc.db;
    // The first three as if committed 8 days ago (the retention is 7).
    const old = sent.slice(0, 3).map((m) => `group:one:${m.seq}`);
    await db.execute(sql`update webhook_deliveries set created_at = now() - interval '8 days'
      where endpoint_id = ${webhook.id} and body::jsonb->>'event_id' = any(${`{${old.join(',')}}`}::text[])`);
    const run = await pruneWebhooks(h.server.svc);
    expect(run.dropped).toBeGreaterThanOrEqual(3);
    const w = await endpoint(app, webhook.id);
    expect(w).toMatchObject({ active: false, pending: 2, dropped: 3 });
    expect(w.dropped_at).not.toBeNull();
    // And what the job has not reached yet is dropped by the re-enabling itself.
    const late = await send(app, 'group:one', 'kept or not 5');
    await db.execute(sql`update webhook_deliveries set created_at = now() - interval '8 days'
      where endpoint_id = ${webhook.id} and body::jsonb->>'event_id' = ${`group:one:${sent[3]?.seq}`}`);
    const on = await patch(app, webhook.id, { active: true });
    // (pending is not asserted here: the pump may already be sending what was woken.)
    expect(on.body.webhook).toMatchObject({ active: true, dropped: 4 });
    const got = await until(
      'the rest',
      async () => firsts('/retained'),
      (g) => g.length >= 2,
      WAIT,
    );
    expect(got.map((g) => g.json.event.seq)).toEqual([sent[4]?.seq, late.seq]);
    // A window for a dropped one to arrive, had it not been dropped.
    await new Promise((r) => setTimeout(r, 300));
    expect(rcv.on('/retained')).toHaveLength(2);
    // The admin list shows the same counts.
    const list = await h.call({ method: 'GET', url: '/v1/webhooks', headers: await app.server() });
    expect(list.body.webhooks[0]).toMatchObject({ id: webhook.id, dropped: 4 });
  });

  it('replays a time range from the event log to an endpoint deleted and made again, page by page', async () => {
    const { app, webhook } = await appWithWebhook(h, `${rcv.url}/gone`, ['message.new']);
    const since = new Date(Date.now() - 1000).toISOString();
    const sent: Sent[] = [];
    for (let i = 0; i < 3; i++) sent.push(await send(app, 'group:one', `replayed ${i}`));
    for (let i = 0; i < 2; i++) sent.push(await send(app, 'group:two', `replayed two ${i}`));
    const react = await h.call({
      method: 'POST',
      url: `/v1/messages/${sent[0]?.id}/reactions`,
      headers: await app.user('bob'),
      payload: { type: 'like' },
    });
    expect(react.status).toBe(200);
    await until(
      'the originals',
      async () => firsts('/gone').length,
      (n) => n === 5,
      WAIT,
    );
    const del = await h.call({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}`, headers: await app.server() });
    expect(del.status).toBe(200);
    const made = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: `${rcv.url}/again`, events: ['message.new'] },
    });
    expect(made.status).toBe(201);
    const id = made.body.webhook.id as string;
    // The range ends now: a message sent after it is created at this millisecond or later, and
    // `until` is exclusive.
    const until_ = new Date().toISOString();
    await send(app, 'group:one', 'after the range');
    let next: string | null = null;
    const pages: number[] = [];
    do {
      const r: { status: number; body: any } = await h.call({
        method: 'POST',
        url: `/v1/webhooks/${id}/replay`,
        headers: await app.server(),
        payload: { since, until: until_, limit: 2, ...(next ? { after: next } : {}) },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      pages.push(r.body.queued);
      next = r.body.next;
    } while (next && pages.length < 10);
    // 5 message.new in the range, in pages of 2 (the reaction is not wanted; the message after the range is not in it).
    expect(pages).toEqual([2, 2, 1]);
    const got = await until(
      'the replay',
      async () => firsts('/again'),
      (g) => g.length >= 6,
      WAIT,
    );
    const originals = firsts('/gone').map((g) => g.body);
    const replayed = got.filter((g) => g.json.event.message.text !== 'after the range');
    expect(replayed.map((g) => g.json.event_id).sort()).toEqual(originals.map((b) => JSON.parse(b).event_id).sort());
    for (const g of replayed) {
      const orig = JSON.parse(originals.find((b) => JSON.parse(b).event_id === g.json.event_id) as string);
      expect(g.json).toEqual(orig);
    }
    const seqs = seqsByChannel(replayed);
    expect(seqs.get('group:one')).toEqual(sent.filter((m) => m.cid === 'group:one').map((m) => m.seq));
    expect(seqs.get('group:two')).toEqual(sent.filter((m) => m.cid === 'group:two').map((m) => m.seq));
    // Bad input: an empty range, and an `after` that is not a replay's `next`.
    for (const payload of [
      { since: until_, until: since },
      { since, after: 'not-a-cursor' },
    ]) {
      const bad = await h.call({
        method: 'POST',
        url: `/v1/webhooks/${id}/replay`,
        headers: await app.server(),
        payload,
      });
      expect(bad.status, JSON.stringify(payload)).toBe(400);
    }
    const other = await h.createApp();
    const cross = await h.call({
      method: 'POST',
      url: `/v1/webhooks/${id}/replay`,
      headers: await other.server(),
      payload: { since },
    });
    expect(cross.status).toBe(404);
  });

  it('sends a signed test event on request, active or paused, and answers how the receiver took it', async () => {
    const { app, webhook, secret } = await appWithWebhook(h, `${rcv.url}/test`, ['message.new']);
    const test = async () =>
      h.call({ method: 'POST', url: `/v1/webhooks/${webhook.id}/test`, headers: await app.server() });
    const ok = await test();
    expect(ok.status).toBe(200);
    expect(ok.body.delivery).toMatchObject({
      event_type: 'webhook.test',
      status: 'delivered',
      attempts: 1,
      response_status: 200,
      cid: null,
    });
    const [got] = rcv.on('/test');
    expect(got?.json).toMatchObject({ type: 'webhook.test', app_id: app.id, event: { webhook_id: webhook.id } });
    expect(got?.headers['x-parley-event']).toBe('webhook.test');
    expect(got?.headers['x-parley-delivery']).toBe(ok.body.delivery.id);
    expect(verifySignature(secret, got?.headers['x-parley-signature'] as string, got?.body ?? '')).toBe(true);
    // Paused, and the receiver failing: the answer says so (a test is how one checks a fix before re-enabling).
    await patch(app, webhook.id, { active: false });
    rcv.answer = (r) => (r.path === '/test' ? { status: 503 } : { status: 200 });
    try {
      const failed = await test();
      expect(failed.body.delivery).toMatchObject({ status: 'failed', response_status: 503, error: 'HTTP 503' });
    } finally {
      rcv.answer = () => ({ status: 200 });
    }
    expect(rcv.on('/test')).toHaveLength(2);
    const log = await h.call({
      method: 'GET',
      url: `/v1/webhooks/${webhook.id}/deliveries`,
      headers: await app.server(),
    });
    expect(log.body.deliveries.map((d: { status: string }) => d.status)).toEqual(['failed', 'delivered']);
    // A target the policy refuses (the allow-list changed since it was registered): the error names the setting.
    await h.server.svc.db.execute(
      sql`update webhook_endpoints set url = 'http://127.0.0.1:1/nothing' where id = ${webhook.id}`,
    );
    h.server.svc.hooks.changed(app.id);
    const refused = await test();
    expect(refused.body.delivery.status).toBe('failed');
    expect(refused.body.delivery.error).toMatch(/^port: .*PARLEY_OUTBOUND_ALLOW_WEBHOOKS/);
    const missing = await h.call({
      method: 'POST',
      url: `/v1/webhooks/${randomUUID()}/test`,
      headers: await app.server(),
    });
    expect(missing.status).toBe(404);
  });

  it('rotates the secret: both sign during the overlap, only the new one after it', async () => {
    const { app, webhook, secret: old } = await appWithWebhook(h, `${rcv.url}/rotated`, ['message.new']);
    const rotate = async (payload: object) =>
      h.call({ method: 'POST', url: `/v1/webhooks/${webhook.id}/rotate-secret`, headers: await app.server(), payload });
    const r = await rotate({ overlap_seconds: 3600 });
    expect(r.status).toBe(200);
    const fresh = r.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(Date.parse(r.body.webhook.previous_secret_expires_at) - Date.now()).toBeGreaterThan(3500_000);
    await send(app, 'group:one', 'during the overlap');
    const [during] = await until(
      'a delivery',
      async () => rcv.on('/rotated'),
      (g) => g.length === 1,
      WAIT,
    );
    const header = during?.headers['x-parley-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifySignature(fresh, header, during?.body ?? '')).toBe(true);
    expect(verifySignature(old, header, during?.body ?? '')).toBe(true);
    // The overlap ends (as if an hour had passed); the retention job forgets the old secret.
    await h.server.svc.db.execute(
      sql`update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${webhook.id}`,
    );
    expect((await pruneWebhooks(h.server.svc)).secrets).toBeGreaterThanOrEqual(1);
    expect((await endpoint(app, webhook.id)).previous_secret_expires_at).toBeNull();
    await send(app, 'group:one', 'after the overlap');
    const [, after] = await until(
      'the next delivery',
      async () => rcv.on('/rotated'),
      (g) => g.length === 2,
      WAIT,
    );
    const single = after?.headers['x-parley-signature'] as string;
    expect(single).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(fresh, single, after?.body ?? '')).toBe(true);
    expect(verifySignature(old, single, after?.body ?? '')).toBe(false);
    // No overlap: the old secret stops at once; a bad overlap is refused.
    const now = await rotate({ overlap_seconds: 0 });
    expect(now.body.webhook.previous_secret_expires_at).toBeNull();
    const test = await h.call({ method: 'POST', url: `/v1/webhooks/${webhook.id}/test`, headers: await app.server() });
    expect(test.body.delivery.status).toBe('delivered');
    const last = rcv.on('/rotated').at(-1);
    expect(verifySignature(now.body.secret, last?.headers['x-parley-signature'] as string, last?.body ?? '')).toBe(
      true,
    );
    expect(verifySignature(fresh, last?.headers['x-parley-signature'] as string, last?.body ?? '')).toBe(false);
    expect((await rotate({ overlap_seconds: 8 * 86_400 })).status).toBe(400);
  });

  it('refuses a target the outbound policy refuses, at registration and on update, naming the setting', async () => {
    const { app, webhook } = await appWithWebhook(h, `${rcv.url}/policy`, ['message.new']);
    const refused = async (r: { status: number; body: any }, setting: string, reason: string) => {
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.code).toBe('OUTBOUND_NOT_ALLOWED');
      expect(r.body.error.details).toMatchObject({ setting, reason });
      expect(r.body.error.message).toContain(setting);
    };
    // The allow-list names the receiver's port only: another port on loopback is refused.
    const other = 'http://127.0.0.1:1/hook';
    const create = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: other, events: ['*'] },
    });
    await refused(create, 'PARLEY_OUTBOUND_ALLOW_WEBHOOKS', 'port');
    expect(create.body.error.details.entry).toBe('127.0.0.1:1');
    await refused(await patch(app, webhook.id, { url: other }), 'PARLEY_OUTBOUND_ALLOW_WEBHOOKS', 'port');
    // A private address on a standard port, and a name that resolves to loopback.
    for (const url of ['http://10.1.2.3/hook', 'http://localhost/hook'])
      await refused(await patch(app, webhook.id, { url }), 'PARLEY_OUTBOUND_ALLOW_WEBHOOKS', 'blocked-address');
    expect(
      (await h.call({ method: 'GET', url: `/v1/webhooks/${webhook.id}`, headers: await app.server() })).body.webhook
        .url,
    ).toBe(`${rcv.url}/policy`);
    // A name that does not resolve (yet) is accepted: its deliveries retry until it does.
    const later = await patch(app, webhook.id, { url: 'https://hooks.parley-test.invalid/x' });
    expect(later.status).toBe(200);
    // Every kind of registered target: the before-send hook and a slash command have settings of their own.
    await refused(
      await h.call({
        method: 'PUT',
        url: '/v1/hooks/before-send',
        headers: await app.server(),
        payload: { url: `${rcv.url}/before-send` },
      }),
      'PARLEY_OUTBOUND_ALLOW_BEFORE_SEND',
      'port',
    );
    await refused(
      await h.call({
        method: 'POST',
        url: '/v1/commands',
        headers: await app.server(),
        payload: { name: 'deploy', description: 'Deploy', url: `${rcv.url}/cmd` },
      }),
      'PARLEY_OUTBOUND_ALLOW_COMMANDS',
      'port',
    );
  });
  it('the new calls are in the OpenAPI document, with their bodies and answers', async () => {
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    for (const path of ['/v1/webhooks/{id}/test', '/v1/webhooks/{id}/rotate-secret', '/v1/webhooks/{id}/replay'])
      expect(Object.keys(doc.paths[path]?.post?.responses ?? {}), path).toEqual(
        expect.arrayContaining(['200', '400', '404']),
      );
    expect(doc.paths['/v1/webhooks/{id}/replay'].post.requestBody.content['application/json'].schema.required).toEqual([
      'since',
    ]);
    const endpoint = doc.paths['/v1/webhooks/{id}'].get.responses['200'].content['application/json'].schema;
    expect(JSON.stringify(endpoint)).toContain('previous_secret_expires_at');
  });
});
