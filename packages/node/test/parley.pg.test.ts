/**
 * @parley/node against a real server on a loopback port, over real HTTP: tokens, users,
 * channels, messages as a user and as the app, paged iterators, moderation, webhooks verified
 * with `verifyWebhook` as a receiver would, the before-send hook, typed errors, and a retry
 * after a lost answer that does not do the write twice (the Idempotency-Key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { type Receiver, startReceiver } from '../../server/test/hooks/helpers.js';
import { isParleyError, Parley, ParleyError, verifyWebhook, type WebhookBody } from '../src/index.js';

let h: Harness;
let rcv: Receiver;
let base: string;
let app: TestApp;
let parley: Parley;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: rcv.host }),
    webhookSweepSeconds: 3_600,
  });
  base = await h.listen();
  app = await h.createApp('sdk');
  parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, backoffMs: 10 });
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

/** REST as a user, with a token the SDK signed: what the user's browser would do. */
async function asUser(token: string, path: string) {
  const r = await fetch(`${base}${path}`, { headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as any };
}

describe('@parley/node', () => {
  it('upserts users in batches, signs their tokens, and pages through them', async () => {
    const many = Array.from({ length: 130 }, (_, i) => ({ id: `u${String(i).padStart(3, '0')}`, name: `User ${i}` }));
    const stored = await parley.users.upsert([
      { id: 'ada', name: 'Ada Lovelace' },
      { id: 'bob', name: 'Bob' },
      ...many,
    ]);
    expect(stored).toHaveLength(132);
    expect(stored[0]).toMatchObject({ id: 'ada', name: 'Ada Lovelace' });

    const token = await parley.createToken('ada', { expiresIn: '1h' });
    expect((await asUser(token, '/v1/me')).body.user.id).toBe('ada');
    const expired = await parley.createToken('ada', { expiresIn: -60 });
    expect((await asUser(expired, '/v1/me')).body.error.code).toBe('UNAUTHORIZED');
    const server = await parley.createServerToken();
    expect((await asUser(server, '/v1/webhooks')).status).toBe(200);

    const found = await parley.users.search('User 1', { limit: 7 }).toArray();
    // "User 1", "User 10".."User 19", "User 100".."User 129": 1 + 10 + 30, over six pages.
    expect(found).toHaveLength(41);
    expect(new Set(found.map((u) => u.id)).size).toBe(41);
    expect(await parley.users.search(undefined, { limit: 50 }).toArray(60)).toHaveLength(60);
    expect((await parley.users.get('bob')).name).toBe('Bob');
  });

  it('creates channels as the app or a user, manages members, lists and queries them', async () => {
    const { channel, members } = await parley.channels.create({
      type: 'group',
      id: 'ops',
      name: 'Ops',
      members: ['ada', 'bob'],
      created_by: 'ada',
    });
    expect(channel.cid).toBe('group:ops');
    expect(members.map((m) => m.user_id).sort()).toEqual(['ada', 'bob']);
    // ensure: the existing one, not an error.
    expect((await parley.channels.ensure({ type: 'group', id: 'ops' })).channel.name).toBe('Ops');

    await parley.channels.addMembers('group:ops', ['u001', 'u002']);
    await parley.channels.removeMembers('group:ops', ['u002']);
    expect((await parley.channels.setRole('group:ops', 'bob', 'moderator')).role).toBe('moderator');
    expect((await parley.channels.update('group:ops', { topic: 'on call' })).topic).toBe('on call');
    const got = await parley.channels.get('group:ops');
    expect(got.members.map((m) => m.user_id).sort()).toEqual(['ada', 'bob', 'u001']);

    for (let i = 0; i < 5; i++) await parley.channels.create({ type: 'public', id: `room-${i}`, created_by: 'ada' });
    const listed = await parley.channels.list({ limit: 2 }).toArray();
    expect(listed.map((c) => c.cid)).toEqual(expect.arrayContaining(['group:ops', 'public:room-0', 'public:room-4']));
    const mine = await parley.channels.query({ type: 'public' }, { as: 'ada', limit: 2 }).toArray();
    expect(mine.map((c) => c.cid).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `public:room-${i}`));
  });

  it('sends as a user and as the app, and iterates history both ways across pages', async () => {
    const sent = [];
    for (let i = 1; i <= 23; i++) sent.push(await parley.messages.send('group:ops', { text: `m${i}` }, { as: 'ada' }));
    expect(sent[0]?.user_id).toBe('ada');
    const note = await parley.messages.sendSystem('group:ops', { text: 'Deploy finished' });
    expect(note.type).toBe('system');

    const newest = await parley.messages.history('group:ops', { pageSize: 5 }).toArray();
    // Below the sends are the member changes' own system notes.
    expect(newest.slice(0, 24).map((m) => m.text)).toEqual(['Deploy finished', ...sent.map((m) => m.text).reverse()]);
    expect(newest.map((m) => m.seq)).toEqual([...newest.map((m) => m.seq)].sort((a, b) => b - a));
    const oldest = await parley.messages.history('group:ops', { order: 'oldest', pageSize: 5 }).toArray();
    expect(oldest.map((m) => m.seq)).toEqual([...newest.map((m) => m.seq)].reverse());
    expect(await parley.messages.history('group:ops', { pageSize: 5 }).toArray(3)).toHaveLength(3);

    const parent = sent[0]!;
    for (const t of ['r1', 'r2', 'r3'])
      await parley.messages.send('group:ops', { text: t, parent_id: parent.id }, { as: 'bob' });
    expect((await parley.messages.replies(parent.id, { pageSize: 2 }).toArray()).map((m) => m.text)).toEqual([
      'r1',
      'r2',
      'r3',
    ]);
    expect((await parley.messages.update(parent.id, 'm1 (edited)', { as: 'ada' })).text).toBe('m1 (edited)');
    expect((await parley.messages.react(parent.id, 'like', { as: 'bob' })).reactions).toMatchObject({ like: 1 });
    expect((await parley.messages.delete(sent[1]!.id)).type).toBe('deleted');
    expect((await parley.messages.get(parent.id)).reply_count).toBe(3);
  });

  it('answers failures as typed errors with the server’s request id', async () => {
    const missing = await parley.channels.get('group:nowhere').catch((e) => e);
    expect(missing).toBeInstanceOf(ParleyError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
    expect(missing.requestId).toEqual(expect.any(String));
    // bob may not edit ada's message; u050 is in no channel.
    const [first] = await parley.messages.history('group:ops', { order: 'oldest', pageSize: 1 }).toArray(1);
    expect(await parley.messages.update(first!.id, 'no', { as: 'bob' }).catch((e) => e.code)).toBe('FORBIDDEN');
    const outsider = await parley.messages.send('group:ops', { text: 'hi' }, { as: 'u050' }).catch((e) => e);
    expect(isParleyError(outsider, 'NOT_FOUND') || isParleyError(outsider, 'FORBIDDEN')).toBe(true);
    const bad = await parley.channels.create({ type: 'nope' as 'group' }).catch((e) => e);
    expect(bad).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    // Nothing listens on port 9: a network error, after the retries.
    const dead = new Parley({ url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: 's', retries: 1, backoffMs: 1 });
    expect(await dead.users.get('ada').catch((e) => e)).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(() => new Parley({ url: 'ftp://x', apiKey: 'k', apiSecret: 's' })).toThrow(/http/);
  });

  it('retries a write whose answer was lost: the server answers the first result, nothing twice', async () => {
    const seen: { key: string | null; method: string }[] = [];
    let drop = 0;
    const lossy: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({ key: headers.get('idempotency-key'), method: init?.method ?? 'GET' });
      const res = await fetch(input, init);
      if (drop > 0) {
        drop--;
        await res.arrayBuffer(); // the server did the work; its answer is lost on the way back
        throw new TypeError('fetch failed: socket hang up');
      }
      return res;
    };
    const flaky = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, fetch: lossy, backoffMs: 1 });

    drop = 1;
    const created = await flaky.channels.create({ type: 'public', id: 'once', created_by: 'ada' });
    expect(created.channel.cid).toBe('public:once');
    expect(seen).toHaveLength(2);
    expect(seen[0]?.key).toEqual(expect.any(String));
    expect(seen[1]?.key).toBe(seen[0]?.key); // the same key on the retry

    drop = 2;
    const text = 'exactly once, no id given';
    await flaky.messages.send('public:once', { text }, { as: 'ada' });
    const history = await parley.messages.history('public:once').toArray();
    expect(history.filter((m) => m.text === text)).toHaveLength(1);

    // Reads are retried too, without a key; with retries off the loss is the caller's to see.
    seen.length = 0;
    drop = 1;
    expect((await flaky.users.get('ada')).id).toBe('ada');
    expect(seen.map((s) => s.key)).toEqual([null, null]);
    const once = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, fetch: lossy, retries: 0 });
    drop = 1;
    expect(await once.users.get('ada').catch((e) => e.code)).toBe('NETWORK');
  });

  it('bans and unbans, and works the moderation queue', async () => {
    const ban = await parley.moderation.ban({ user_id: 'u001', cid: 'group:ops', reason: 'spam' });
    expect(ban).toMatchObject({ user_id: 'u001', cid: 'group:ops', reason: 'spam' });
    expect((await parley.moderation.bans({ cid: 'group:ops' })).map((b) => b.user_id)).toEqual(['u001']);
    await parley.moderation.unban({ user_id: 'u001', cid: 'group:ops' });
    expect(await parley.moderation.bans({ cid: 'group:ops' })).toEqual([]);

    const m = await parley.messages.send('group:ops', { text: 'buy cheap watches' }, { as: 'ada' });
    await parley.request('POST', '/v1/moderation/flags', { as: 'bob', body: { message_id: m.id, reason: 'spam' } });
    const open = await parley.moderation.flags({ status: 'open', limit: 1 }).toArray();
    expect(open.map((f) => f.message_id)).toContain(m.id);
    const reviewed = await parley.moderation.review(open[0]!.id, { action: 'remove' });
    expect(reviewed.status).not.toBe('open');
    expect((await parley.messages.get(m.id)).type).toBe('deleted');
    // The transparency report counts the ban, its lifting, the report and the review, today.
    const today = new Date().toISOString().slice(0, 10);
    const report = await parley.moderation.report({ period: 'day', from: today, to: today });
    expect(report.periods).toHaveLength(1);
    expect(report.totals).toMatchObject({ bans: 1, unbans: 1, reports: 1, reviewed_removed: 1 });
  });

  it('adds a webhook whose deliveries verify with verifyWebhook, and pages its log', async () => {
    const { webhook, secret } = await parley.webhooks.create({ url: `${rcv.url}/hook`, events: ['message.new'] });
    expect((await parley.webhooks.list()).map((w) => w.id)).toContain(webhook.id);
    for (let i = 0; i < 3; i++) await parley.messages.send('group:ops', { text: `hooked ${i}` }, { as: 'bob' });
    await expect.poll(() => rcv.on('/hook').length, { timeout: 20_000 }).toBe(3);

    const [r] = rcv.on('/hook');
    const body = verifyWebhook<WebhookBody>(r!.body, r!.headers['x-parley-signature'], secret);
    expect(body).toMatchObject({ type: 'message.new', app_id: app.id });
    expect(body.event.type).toBe('message.new');
    expect(() => verifyWebhook(`${r!.body} `, r!.headers['x-parley-signature'], secret)).toThrow(/does not match/);
    expect(() => verifyWebhook(r!.body, r!.headers['x-parley-signature'], 'wrong-secret')).toThrow(/does not match/);

    await expect
      .poll(
        async () => (await parley.webhooks.deliveries(webhook.id, { status: 'delivered', limit: 2 }).toArray()).length,
        {
          timeout: 20_000,
        },
      )
      .toBe(3);
    expect((await parley.webhooks.update(webhook.id, { description: 'audit trail' })).description).toBe('audit trail');
    await parley.webhooks.delete(webhook.id);
    expect(await parley.webhooks.get(webhook.id).catch((e) => e.code)).toBe('NOT_FOUND');
  });

  it('tests a webhook, rotates its secret, pauses and resumes it, and replays a range', async () => {
    const { webhook, secret: old } = await parley.webhooks.create({
      url: `${rcv.url}/sdk-hook`,
      events: ['message.new'],
    });
    const test = await parley.webhooks.test(webhook.id);
    expect(test).toMatchObject({ event_type: 'webhook.test', status: 'delivered', response_status: 200 });
    const { secret: fresh, webhook: rotated } = await parley.webhooks.rotateSecret(webhook.id, { overlapSeconds: 600 });
    expect(fresh).not.toBe(old);
    expect(rotated.previous_secret_expires_at).not.toBeNull();
    // From now: this app's earlier tests sent messages a moment ago, which the range must not hold.
    const since = new Date();
    await parley.webhooks.update(webhook.id, { active: false });
    for (let i = 0; i < 3; i++) await parley.messages.send('group:ops', { text: `while paused ${i}` }, { as: 'bob' });
    expect((await parley.webhooks.get(webhook.id)).pending).toBe(3);
    await parley.webhooks.update(webhook.id, { active: true });
    const messages = () => rcv.on('/sdk-hook').filter((r) => r.json?.type === 'message.new');
    await expect.poll(() => messages().length, { timeout: 20_000 }).toBe(3);
    // During the overlap a receiver on either secret (or holding both) takes every delivery.
    for (const r of messages()) {
      const header = r.headers['x-parley-signature'];
      expect(verifyWebhook<WebhookBody>(r.body, header, old).type).toBe('message.new');
      expect(verifyWebhook<WebhookBody>(r.body, header, fresh).type).toBe('message.new');
      expect(verifyWebhook<WebhookBody>(r.body, header, [fresh, old]).type).toBe('message.new');
    }
    expect(await parley.webhooks.replay(webhook.id, { since, pageSize: 2 })).toBe(3);
    await expect.poll(() => messages().length, { timeout: 20_000 }).toBe(6);
    const ids = messages().map((r) => r.json.event_id);
    expect(ids.slice(3)).toEqual(ids.slice(0, 3));
    await parley.webhooks.delete(webhook.id);
  });

  it('sets a before-send hook whose calls verify, and whose answer changes the message', async () => {
    let secret = '';
    let verified = 0;
    rcv.answer = (req) => {
      if (req.path !== '/before-send') return { status: 200, body: '{}' };
      const call = verifyWebhook<{ message: { text: string } }>(req.body, req.headers['x-parley-signature'], secret);
      verified++;
      return { status: 200, body: JSON.stringify({ action: 'change', text: call.message.text.toUpperCase() }) };
    };
    const set = await parley.hooks.setBeforeSend({
      url: `${rcv.url}/before-send`,
      timeout_ms: 5_000,
      fail_open: false,
    });
    secret = set.secret ?? '';
    expect(secret).not.toBe('');
    expect((await parley.hooks.getBeforeSend())?.url).toBe(`${rcv.url}/before-send`);
    const m = await parley.messages.send('group:ops', { text: 'quiet please' }, { as: 'ada' });
    expect(m.text).toBe('QUIET PLEASE');
    expect(verified).toBe(1);
    await parley.hooks.removeBeforeSend();
    expect(await parley.hooks.getBeforeSend()).toBeNull();
    expect((await parley.messages.send('group:ops', { text: 'as written' }, { as: 'ada' })).text).toBe('as written');
  });

  it("updates a user's name and title as the app: webhooks hear user.updated, the audit log names the server", async () => {
    const { webhook } = await parley.webhooks.create({ url: `${rcv.url}/users-hook`, events: ['user.updated'] });
    const u = await parley.users.update('bob', { name: 'Robert', title: 'Site Foreman' });
    expect(u).toMatchObject({ id: 'bob', name: 'Robert', title: 'Site Foreman' });
    const hooked = () => rcv.on('/users-hook').filter((r) => r.json?.event?.user?.id === 'bob');
    await expect.poll(() => hooked().length, { timeout: 20_000 }).toBe(1);
    expect(hooked()[0]?.json.event.user).toMatchObject({ name: 'Robert', title: 'Site Foreman' });
    const [entry] = await parley.audit({ action: 'user.profile_updated', target: 'bob' }).toArray(1);
    expect(entry).toMatchObject({
      actor: { kind: 'server' },
      details: { name: { from: 'Bob', to: 'Robert' }, title: { from: null, to: 'Site Foreman' } },
    });
    // The same values again: no change, so no second delivery and no second entry.
    await parley.users.update('bob', { name: 'Robert', title: 'Site Foreman' });
    expect(await parley.audit({ action: 'user.profile_updated', target: 'bob' }).toArray(5)).toHaveLength(1);
    expect(await parley.users.update('nobody', { name: 'X' }).catch((e) => e.code)).toBe('NOT_FOUND');
    expect(await parley.users.update('bob', { name: ' ' }).catch((e) => e.code)).toBe('VALIDATION_ERROR');
    await parley.webhooks.delete(webhook.id);
  });

  it('reads the audit log a page at a time', async () => {
    const entries = await parley.audit({ limit: 2 }).toArray(6);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({ action: expect.any(String), at: expect.any(String) });
  });
});
