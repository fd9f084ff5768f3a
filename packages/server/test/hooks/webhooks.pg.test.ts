import { randomUUID } from 'node:crypto';
/**
 * Webhooks end to end, on both databases: a real receiver on loopback checks the signatures,
 * the order per channel, retries after 500s and after timeouts, redelivery, and that an
 * endpoint that keeps failing is disabled with the reason — while sends never wait for it; and
 * user-level events (`user.updated`, `user.banned`, `user.unbanned`, `user.deleted`) reach the
 * endpoints that asked for them, in order per user, and never another app's.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { until as untilSoon } from '../jobs/helpers.js';

/** Waits on a condition, generously: the machine these run on may be heavily shared. */
const until = <T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, ms = 60_000) =>
  untilSoon(what, fn, pred, ms);

import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { appWithWebhook, type Receiver, startReceiver } from './helpers.js';

let h: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    // The operator's setting, as `parley start` reads it: the receiver on loopback is let through.
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    webhookTimeoutMs: 1_500,
    webhookRetryBaseMs: 50,
    // Long enough for a flaky endpoint's deliveries (which wait behind each other) under load,
    // short enough that the dead one is disabled within the test.
    webhookMaxAgeMs: 12_000,
    // The sweep test calls the sweep itself; the recurring one would race it for the lane it
    // planted (a 15 s timer firing inside that test's window).
    webhookSweepSeconds: 3_600,
  });
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

/** A fresh app with alice (a member of two channels) and a webhook on `path`. */
async function setup(path: string, events: string[]) {
  const made = await appWithWebhook(h, `${rcv.url}${path}`, events);
  expect(made.secret).toMatch(/^whsec_/);
  return made;
}

async function send(app: TestApp, cid: string, text: string) {
  const r = await h.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await app.user('alice'),
    payload: { text },
  });
  expect(r.status).toBe(200);
  return r.body.message as { id: string; seq: number; cid: string; created_at: string; text: string };
}

async function deliveries(app: TestApp, id: string, query = '') {
  const r = await h.call({ method: 'GET', url: `/v1/webhooks/${id}/deliveries${query}`, headers: await app.server() });
  expect(r.status).toBe(200);
  return r.body.deliveries as any[];
}

describe('webhook endpoints', { timeout: 120_000 }, () => {
  it('are managed with a server token; bad input is 400, strangers 403, other apps 404', async () => {
    const { app, webhook } = await setup('/crud', ['message.new']);
    const list = await h.call({ method: 'GET', url: '/v1/webhooks', headers: await app.server() });
    expect(list.body.webhooks.map((w: any) => w.id)).toEqual([webhook.id]);
    expect(list.body.webhooks[0]).not.toHaveProperty('secret');
    for (const payload of [
      { url: 'ftp://x.example/', events: ['message.new'] },
      { url: `${rcv.url}/x`, events: ['Message New'] },
      { url: `${rcv.url}/x`, events: [] },
      { url: 'http://user:pw@x.example/', events: ['*'] },
    ]) {
      const r = await h.call({ method: 'POST', url: '/v1/webhooks', headers: await app.server(), payload });
      expect(r.status, JSON.stringify(payload)).toBe(400);
    }
    const asUser = await h.call({ method: 'GET', url: '/v1/webhooks', headers: await app.user('alice') });
    expect(asUser.status).toBe(403);
    const other = await h.createApp();
    const cross = await h.call({ method: 'GET', url: `/v1/webhooks/${webhook.id}`, headers: await other.server() });
    expect(cross.status).toBe(404);
    const crossDel = await h.call({
      method: 'DELETE',
      url: `/v1/webhooks/${webhook.id}`,
      headers: await other.server(),
    });
    expect(crossDel.status).toBe(404);
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/webhooks/${webhook.id}`,
      headers: await app.server(),
      payload: { events: ['reaction.*', 'member.*'] },
    });
    expect(patched.body.webhook.events).toEqual(['reaction.*', 'member.*']);
    const del = await h.call({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}`, headers: await app.server() });
    expect(del.status).toBe(200);
    const gone = await h.call({ method: 'GET', url: `/v1/webhooks/${webhook.id}`, headers: await app.server() });
    expect(gone.status).toBe(404);
  });

  it('delivers signed events, in seq order per channel, only the types asked for (wildcards too)', async () => {
    const { app, secret } = await setup('/ordered', ['message.new', 'reaction.*']);
    const sent: { cid: string; seq: number }[] = [];
    // Two channels written at once, each channel in order.
    await Promise.all(
      ['group:one', 'group:two'].map(async (cid) => {
        for (let i = 0; i < 12; i++) sent.push({ cid, seq: (await send(app, cid, `${cid} #${i}`)).seq });
      }),
    );
    const last = await send(app, 'group:one', 'to react to');
    const react = await h.call({
      method: 'POST',
      url: `/v1/messages/${last.id}/reactions`,
      headers: await app.user('bob'),
      payload: { type: 'like' },
    });
    expect(react.status).toBe(200);
    const edit = await h.call({
      method: 'PATCH',
      url: `/v1/messages/${last.id}`,
      headers: await app.user('alice'),
      payload: { text: 'edited: not asked for' },
    });
    expect(edit.status).toBe(200);
    // At least once: a delivery whose answer came late is sent again, under the same id.
    const firsts = () => rcv.on('/ordered').filter((g) => g.headers['x-parley-attempt'] === '1');
    await until(
      'all deliveries',
      async () => firsts().length,
      (n) => n >= 26,
    );
    const got = firsts();
    expect(new Set(got.map((g) => g.headers['x-parley-delivery'])).size).toBe(26);
    for (const g of got) {
      expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
      expect(verifySignature('whsec_wrong', g.headers['x-parley-signature'] as string, g.body)).toBe(false);
      expect(g.json.app_id).toBe(app.id);
      expect(g.headers['x-parley-event']).toBe(g.json.type);
    }
    expect(got.map((g) => g.json.type).sort()).toEqual([...Array(25).fill('message.new'), 'reaction.new'].sort());
    for (const cid of ['group:one', 'group:two']) {
      const seqs = got.filter((g) => g.json.event.cid === cid).map((g) => g.json.event.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(got.find((g) => g.json.type === 'reaction.new')?.json.event.reaction.type).toBe('like');
  });

  it('a burst in an app with an endpoint keeps the group commit; its deliveries are written with it', async () => {
    const { app, secret } = await setup('/batched', ['message.new']);
    const svc = h.server.svc;
    const batched = async () =>
      (await svc.metrics.sendBatchSize.get()).values.find((x) => x.metricName === 'parley_send_batch_size_sum')
        ?.value ?? 0;
    const before = await batched();
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => send(app, i % 2 ? 'group:one' : 'group:two', `batched ${i}`)),
    );
    // Every send went through the batch statement (none took a transaction of its own).
    expect((await batched()) - before).toBe(30);
    const firsts = () => rcv.on('/batched').filter((g) => g.headers['x-parley-attempt'] === '1');
    await until(
      '30 deliveries',
      async () => firsts().length,
      (n) => n >= 30,
    );
    const got = firsts();
    for (const g of got) {
      expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
      const m = sent.find((x) => x.id === g.json.event.message.id);
      expect(g.json).toMatchObject({
        event_id: `${m?.cid}:${m?.seq}`,
        type: 'message.new',
        app_id: app.id,
        created_at: m?.created_at,
        event: { type: 'message.new', cid: m?.cid, seq: m?.seq, message: { id: m?.id, seq: m?.seq, text: m?.text } },
      });
    }
    for (const cid of ['group:one', 'group:two']) {
      const seqs = got.filter((g) => g.json.event.cid === cid).map((g) => g.json.event.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(15);
    }
  });

  it('the sweep hands a lane with due deliveries and no live sender (a crash) to this node, and it is delivered', async () => {
    const { app, webhook } = await setup('/swept', ['message.new']);
    const m = await send(app, 'group:one', 'committed, then the node died');
    await until(
      'the delivery',
      async () => rcv.on('/swept').length,
      (n) => n >= 1,
    );
    // As a crash leaves them: in group:two, a due delivery whose node died holding the lane (its
    // lease has lapsed) and was never woken; in group:three, one whose lane another node holds
    // and keeps renewing — the sweep must leave that one to its holder.
    const pending = (lane: string, seq: number) =>
      sql`insert into webhook_deliveries (app_id, id, endpoint_id, lane, event_type, body, next_attempt_at)
        values (${app.id}, ${randomUUID()}, ${webhook.id}, ${lane}, 'message.new',
          ${JSON.stringify({ event_id: `${lane}:${seq}`, type: 'message.new', app_id: app.id, event: { cid: lane, seq } })},
          now() - interval '1 minute')`;
    const db = h.server.svc.db;
    await db.execute(sql`insert into webhook_lanes (endpoint_id, lane, owner, leased_until)
      values (${webhook.id}, 'group:two', ${randomUUID()}, now() - interval '1 second'),
        (${webhook.id}, 'group:three', ${randomUUID()}, now() + interval '1 minute')`);
    await db.execute(pending('group:two', m.seq));
    await db.execute(pending('group:three', 1));
    await new Promise((r) => setTimeout(r, 300)); // a window for a delivery that must wait for the sweep
    expect(rcv.on('/swept')).toHaveLength(1);
    expect(await h.server.svc.webhooks.sweep(30)).toBe(1);
    await until(
      'the swept delivery',
      async () => rcv.on('/swept').length,
      (n) => n >= 2,
    );
    expect(rcv.on('/swept')[1]?.json.event_id).toBe(`group:two:${m.seq}`);
    await new Promise((r) => setTimeout(r, 300)); // a window for group:three's delivery, which its holder keeps
    expect(rcv.on('/swept')).toHaveLength(2);
  });

  it('keeps its connection to an endpoint open across deliveries, and a closed idle one costs no retry', async () => {
    const { app } = await setup('/kept', ['message.new']);
    const before = rcv.connections;
    for (let i = 0; i < 20; i++) await send(app, 'group:one', `kept ${i}`);
    const firsts = () => rcv.on('/kept').filter((g) => g.headers['x-parley-attempt'] === '1');
    await until(
      '20 deliveries',
      async () => firsts().length,
      (n) => n >= 20,
    );
    // One lane, one connection at a time: a handful at most, not one per delivery.
    expect(rcv.connections - before).toBeLessThanOrEqual(3);
    // The receiver drops its idle connections; the next delivery goes out on a new one, first try.
    rcv.dropIdle();
    await new Promise((r) => setTimeout(r, 100)); // for the FIN of the dropped connections to reach the pool (same process, loopback)
    await send(app, 'group:one', 'after the drop');
    await until(
      'the next delivery',
      async () => rcv.on('/kept').length,
      (n) => n >= 21,
    );
    expect(rcv.on('/kept').map((g) => g.headers['x-parley-attempt'])).toEqual(Array(21).fill('1'));
  });

  it('retries after 500s and after a timeout, keeping the order, and logs attempts and latency', async () => {
    const { app, webhook } = await setup('/flaky', ['message.new']);
    rcv.answer = (r, nth) => {
      if (r.path === '/flaky' && nth <= 2) return r.json?.event?.message?.text === 'slow' ? 'hang' : { status: 500 };
      return { status: 200 };
    };
    const texts = ['a', 'slow', 'b', 'c'];
    for (const t of texts) await send(app, 'group:one', t);
    await until(
      'delivered',
      async () => (await deliveries(app, webhook.id)).filter((d) => d.status === 'delivered').length,
      (n) => n === 4,
      90_000,
    );
    const ok = rcv.on('/flaky').filter((_g, i, all) => {
      // the receipt each delivery was answered 200 on: its third
      const id = all[i]?.headers['x-parley-delivery'];
      return all.slice(0, i + 1).filter((x) => x.headers['x-parley-delivery'] === id).length === 3;
    });
    expect(ok.map((g) => g.json.event.message.text)).toEqual(texts);
    const log = await deliveries(app, webhook.id);
    for (const d of log) {
      expect(d.attempts).toBeGreaterThanOrEqual(3);
      expect(d.response_status).toBe(200);
      expect(d.latency_ms).toBeGreaterThanOrEqual(0);
    }
    const detail = await h.call({
      method: 'GET',
      url: `/v1/webhooks/${webhook.id}/deliveries/${log[0].id}`,
      headers: await app.server(),
    });
    expect(JSON.parse(detail.body.delivery.body).event.message.text).toBe('c');
    rcv.answer = () => ({ status: 200 });
  });

  it('never makes a send wait for a receiver that hangs', async () => {
    const { app } = await setup('/hang', ['*']);
    rcv.answer = (r) => (r.path === '/hang' ? 'hang' : { status: 200 });
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await send(app, 'group:two', `while hanging ${i}`));
    expect(sent).toHaveLength(10);
    await until(
      'the receiver was called',
      async () => rcv.on('/hang').length,
      (n) => n >= 1,
    );
    rcv.answer = () => ({ status: 200 });
  });

  it('redelivers an event as a new delivery that says which one it repeats', async () => {
    const { app, webhook } = await setup('/again', ['message.new']);
    await send(app, 'group:one', 'once more');
    const [first] = await until(
      'delivered',
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'delivered',
    );
    const r = await h.call({
      method: 'POST',
      url: `/v1/webhooks/${webhook.id}/deliveries/${first.id}/redeliver`,
      headers: await app.server(),
    });
    expect(r.status).toBe(201);
    expect(r.body.delivery.redelivery_of).toBe(first.id);
    await until(
      'received twice',
      async () => rcv.on('/again').length,
      (n) => n === 2,
    );
    const [a, b] = rcv.on('/again');
    expect(b?.body).toBe(a?.body);
    expect(b?.headers['x-parley-delivery']).not.toBe(a?.headers['x-parley-delivery']);
    const missing = await h.call({
      method: 'POST',
      url: `/v1/webhooks/${webhook.id}/deliveries/${webhook.id}/redeliver`,
      headers: await app.server(),
    });
    expect(missing.status).toBe(404);
  });

  it('disables an endpoint that keeps failing, with the reason; re-enabling sends what waited, in order', async () => {
    const { app, webhook } = await setup('/dead', ['message.new']);
    rcv.answer = (r) => (r.path === '/dead' ? { status: 500 } : { status: 200 });
    const first = await send(app, 'group:one', 'fails for a day');
    const second = await send(app, 'group:one', 'waits behind it');
    const w = await until(
      'disabled',
      async () =>
        (await h.call({ method: 'GET', url: `/v1/webhooks/${webhook.id}`, headers: await app.server() })).body,
      (b) => b.webhook.active === false,
      90_000,
    );
    expect(w.webhook.disabled_reason).toMatch(/HTTP 500/);
    // The one that failed waits at the head of its lane, with its attempts and error; nothing is dropped.
    const log = await deliveries(app, webhook.id);
    expect(log.map((d) => d.status)).toEqual(['pending', 'pending']);
    expect(log[1].attempts).toBeGreaterThan(2);
    expect(log[1].error).toBe('HTTP 500');
    // While disabled, what the endpoint would receive is kept for it (and sent nowhere yet).
    const before = rcv.on('/dead').length;
    const third = await send(app, 'group:two', 'while disabled');
    const fourth = await send(app, 'group:one', 'also while disabled');
    expect((await deliveries(app, webhook.id)).map((d) => d.status)).toEqual(Array(4).fill('pending'));
    expect(w.webhook.pending).toBe(2);
    // A window in which a delivery to the disabled endpoint would have arrived, had it been sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(rcv.on('/dead').length).toBe(before);
    rcv.answer = () => ({ status: 200 });
    const on = await h.call({
      method: 'PATCH',
      url: `/v1/webhooks/${webhook.id}`,
      headers: await app.server(),
      payload: { active: true },
    });
    expect(on.body.webhook.active).toBe(true);
    expect(on.body.webhook.disabled_reason).toBeNull();
    await until(
      'all four delivered',
      async () => (await deliveries(app, webhook.id)).filter((d) => d.status === 'delivered').length,
      (n) => n === 4,
    );
    // Each channel's events in order, the one that had failed first.
    const landed = rcv.on('/dead').slice(before);
    const seqs = (cid: string) => landed.filter((g) => g.json.event.cid === cid).map((g) => g.json.event.seq);
    expect(seqs('group:one')).toEqual([first.seq, second.seq, fourth.seq]);
    expect(seqs('group:two')).toEqual([third.seq]);
  });

  it('delivers user.* events in order per user, signed, only to endpoints that asked, never another app’s', async () => {
    const { app, webhook, secret } = await setup('/users', ['user.*']);
    await h.users(app, [{ id: 'carol', name: 'Carol' }]);
    const msgOnly = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: `${rcv.url}/users-msg`, events: ['message.new', 'member.*'] },
    });
    expect(msgOnly.status).toBe(201);
    const exact = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await app.server(),
      payload: { url: `${rcv.url}/users-exact`, events: ['user.banned'] },
    });
    expect(exact.status).toBe(201);
    // Another app, with the same user ids, its own endpoint, and its own changes.
    const other = await setup('/users-other', ['*']);
    const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).toBe(200);

    ok(
      await h.call({ method: 'PATCH', url: '/v1/me', headers: await app.user('alice'), payload: { name: 'Alice A' } }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/me/status',
        headers: await app.user('alice'),
        payload: { text: 'In a meeting', emoji: '📅' },
      }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/users',
        headers: await app.server(),
        payload: { users: [{ id: 'bob', name: 'Bob B', role: 'moderator' }] },
      }),
    );
    // The same profile again is no change: nothing is sent for it.
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/users',
        headers: await app.server(),
        payload: { users: [{ id: 'bob', name: 'Bob B', role: 'moderator' }] },
      }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/moderation/bans',
        headers: await app.server(),
        payload: { user_id: 'bob', reason: 'spam' },
      }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/moderation/unban',
        headers: await app.server(),
        payload: { user_id: 'bob' },
      }),
    );
    const del = await h.call({ method: 'DELETE', url: '/v1/users/carol', headers: await app.server() });
    expect(del.status).toBe(202);
    // The other app's alice changes too: none of it may reach this app's endpoints.
    ok(
      await h.call({
        method: 'PATCH',
        url: '/v1/me',
        headers: await other.app.user('alice'),
        payload: { name: 'Other Alice' },
      }),
    );

    const got = await until(
      'user events',
      async () => rcv.on('/users').filter((g) => g.headers['x-parley-attempt'] === '1'),
      (g) => g.length >= 6,
    );
    const of = (user: string) =>
      got.filter((g) => (g.json.event.user?.id ?? g.json.event.user_id) === user).map((g) => g.json.type as string);
    expect(of('alice')).toEqual(['user.updated', 'user.updated']);
    expect(of('bob')).toEqual(['user.updated', 'user.banned', 'user.unbanned']);
    expect(of('carol')).toEqual(['user.deleted']);
    for (const g of got) {
      expect(verifySignature(secret, g.headers['x-parley-signature'] as string, g.body)).toBe(true);
      expect(g.json.app_id).toBe(app.id);
      expect(g.headers['x-parley-event']).toBe(g.json.type);
      expect(g.json.event_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const alice = got.filter((g) => g.json.event.user?.id === 'alice').map((g) => g.json.event.user);
    expect(alice[0]).toMatchObject({ name: 'Alice A', status: null });
    expect(alice[1]).toMatchObject({ name: 'Alice A', status: { text: 'In a meeting', emoji: '📅' } });
    expect(
      got.find((g) => g.json.type === 'user.updated' && g.json.event.user.id === 'bob')?.json.event.user,
    ).toMatchObject({ name: 'Bob B', role: 'moderator' });
    expect(got.find((g) => g.json.type === 'user.banned')?.json.event.ban).toMatchObject({
      user_id: 'bob',
      reason: 'spam',
      cid: null,
    });
    expect(got.find((g) => g.json.type === 'user.deleted')?.json.event.mode).toBe('soft');

    // The delivery log says whose events they were; an endpoint asking for one type got just that.
    const log = await deliveries(app, webhook.id);
    expect(log.filter((d) => d.user_id === 'bob').map((d) => d.event_type)).toEqual([
      'user.unbanned',
      'user.banned',
      'user.updated',
    ]);
    expect(log.every((d) => d.cid === null)).toBe(true);
    expect((await deliveries(app, exact.body.webhook.id)).map((d) => d.event_type)).toEqual(['user.banned']);
    // Rows are written in the transaction of each change (all committed by now): an endpoint
    // that did not ask for user.* has none of them, only the message sent after.
    await send(app, 'group:one', 'after the user events');
    const msgLog = await until(
      'the message delivery row',
      () => deliveries(app, msgOnly.body.webhook.id),
      (d) => d.length > 0,
    );
    expect(msgLog.map((d) => d.event_type)).toEqual(['message.new']);
    // The other app's endpoint got its own alice, and this app's endpoints nothing of it.
    const theirs = await until(
      'the other app’s user event',
      async () => rcv.on('/users-other').filter((g) => g.json.type === 'user.updated'),
      (g) => g.length === 1,
    );
    expect(theirs[0]?.json.app_id).toBe(other.app.id);
    expect(theirs[0]?.json.event.user.name).toBe('Other Alice');
    expect(
      verifySignature(other.secret, theirs[0]?.headers['x-parley-signature'] as string, theirs[0]?.body ?? ''),
    ).toBe(true);
    expect(rcv.got.filter((g) => g.json?.app_id === app.id && JSON.stringify(g.json).includes('Other Alice'))).toEqual(
      [],
    );
    expect(rcv.on('/users-other').every((g) => g.json.app_id === other.app.id)).toBe(true);
  });
});
