/**
 * The before-send hook on both databases: the app's backend (a real HTTP server here) allows,
 * changes or rejects a message; when it does not answer in time the app's choice decides —
 * fail open sends as is, fail closed refuses with HOOK_UNAVAILABLE and stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, QUIET, startHarness, type TestApp } from '../harness.js';
import { type Receiver, startReceiver } from './helpers.js';

let h: Harness;
let rcv: Receiver;
let app: TestApp;
let secret: string;

beforeAll(async () => {
  rcv = await startReceiver();
  rcv.answer = (r) => {
    const text = r.json?.message?.text as string;
    if (text.startsWith('hang')) return 'hang';
    if (text.startsWith('garbage')) return { status: 200, body: 'not json' };
    if (text.startsWith('broken')) return { status: 500 };
    // Past the 256 KiB an answer may have: not read to the end, a failed call.
    if (text.startsWith('huge'))
      return { status: 200, body: JSON.stringify({ action: 'change', text: 'NOT THIS', pad: 'x'.repeat(300_000) }) };
    if (text.startsWith('reject'))
      return { status: 200, body: JSON.stringify({ action: 'reject', reason: 'no swearing' }) };
    if (text.startsWith('change'))
      return { status: 200, body: JSON.stringify({ action: 'change', text: text.toUpperCase() }) };
    return { status: 200, body: JSON.stringify({ action: 'allow' }) };
  };
  // QUIET: a test here counts the statements of the hook registry's read; background work
  // (the search index's merge every second) must not land among them.
  h = await startHarness({
    ...QUIET,
    jobWorkers: false,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_BEFORE_SEND: rcv.host }),
  });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }]);
  const c = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'hooked', members: [] },
  });
  expect(c.status).toBe(200);
  const set = await h.call({
    method: 'PUT',
    url: '/v1/hooks/before-send',
    headers: await app.server(),
    // Long enough that an answering backend is never cut off on a loaded machine (300 ms was, with
    // six suites at once); the backends that hang wait it out.
    payload: { url: `${rcv.url}/before-send`, timeout_ms: 2000, fail_open: true },
  });
  expect(set.status).toBe(200);
  secret = set.body.secret;
  expect(secret).toMatch(/^hksec_/);
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

const send = async (text: string) =>
  h.call({
    method: 'POST',
    url: '/v1/channels/group:hooked/messages',
    headers: await app.user('alice'),
    payload: { text },
  });

const stored = async () =>
  (
    await h.call({
      method: 'GET',
      url: '/v1/channels/group:hooked/messages?limit=100',
      headers: await app.user('alice'),
    })
  ).body.messages.map((m: { text: string }) => m.text) as string[];

const failMode = async (fail_open: boolean) => {
  const r = await h.call({
    method: 'PUT',
    url: '/v1/hooks/before-send',
    headers: await app.server(),
    payload: { url: `${rcv.url}/before-send`, fail_open },
  });
  expect(r.status).toBe(200);
  expect(r.body.hook.fail_open).toBe(fail_open);
  expect(r.body).not.toHaveProperty('secret');
};

describe('the before-send hook', { timeout: 120_000 }, () => {
  it('is asked, signed, and an allow sends the message as written', async () => {
    const r = await send('hello there');
    expect(r.status).toBe(200);
    expect(r.body.message.text).toBe('hello there');
    const call = rcv.on('/before-send').at(-1);
    expect(call?.json).toMatchObject({
      type: 'message.before_send',
      app_id: app.id,
      cid: 'group:hooked',
      user_id: 'alice',
      message: { id: r.body.message.id, text: 'hello there' },
    });
    expect(verifySignature(secret, call?.headers['x-parley-signature'] as string, call?.body as string)).toBe(true);
  });

  it('sends the changed text when the backend changes it', async () => {
    const r = await send('change me');
    expect(r.status).toBe(200);
    expect(r.body.message.text).toBe('CHANGE ME');
    expect(await stored()).toContain('CHANGE ME');
  });

  it('refuses a rejected message with MESSAGE_REJECTED and the reason, storing nothing', async () => {
    const r = await send('reject this');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('MESSAGE_REJECTED');
    expect(r.body.error.details.reason).toBe('no swearing');
    expect(await stored()).not.toContain('reject this');
  });

  it('fails open: a backend that hangs, errs or answers nonsense lets the message through', async () => {
    await failMode(true);
    for (const text of ['hang open', 'broken open', 'garbage open', 'huge open']) {
      const r = await send(text);
      expect(r.status, text).toBe(200);
      expect(r.body.message.text).toBe(text);
    }
  });

  it('fails closed: the same refuse with HOOK_UNAVAILABLE and nothing is stored', async () => {
    await failMode(false);
    for (const text of ['hang closed', 'broken closed', 'garbage closed', 'huge closed']) {
      const r = await send(text);
      expect(r.status, text).toBe(503);
      expect(r.body.error.code).toBe('HOOK_UNAVAILABLE');
    }
    const texts = await stored();
    for (const text of ['hang closed', 'broken closed', 'garbage closed']) expect(texts).not.toContain(text);
  });

  it('is read once by a burst of sends that finds it cold, and a change during that read is not lost', async () => {
    const hooks = h.server.svc.hooks;
    hooks.changed(app.id);
    // Ten sends arriving together after a change: one read of the endpoints and the hook.
    let before = h.database.queryCount();
    const all = await Promise.all(Array.from({ length: 10 }, () => hooks.get(app.id)));
    expect(h.database.queryCount() - before).toBe(2);
    for (const s of all) expect(s).toBe(all[0]);
    expect(all[0]?.beforeSend?.url).toBe(`${rcv.url}/before-send`);
    // A change while a read is under way: later callers do not take that read's answer.
    hooks.changed(app.id);
    before = h.database.queryCount();
    const early = hooks.get(app.id);
    hooks.changed(app.id);
    const late = hooks.get(app.id);
    const again = hooks.get(app.id);
    await Promise.all([early, late, again]);
    expect(h.database.queryCount() - before).toBe(4);
    expect(await again).toBe(await late);
    // The read begun after the change is the one kept: the next get costs no query.
    before = h.database.queryCount();
    expect(await hooks.get(app.id)).toBe(await late);
    expect(h.database.queryCount() - before).toBe(0);
  });

  it('keeps its connections alive, and one the backend closed while idle is replaced without failing a send', async () => {
    await failMode(false);
    expect((await send('change warm')).body.message.text).toBe('CHANGE WARM');
    const before = rcv.connections;
    for (let i = 0; i < 5; i++) {
      const r = await send(`change kept ${i}`);
      expect(r.status).toBe(200);
      expect(r.body.message.text).toBe(`CHANGE KEPT ${i}`);
    }
    // One connection for all five (a new one only if the backend's idle timeout ran out between two).
    expect(rcv.connections - before).toBeLessThanOrEqual(1);
    // The backend closes its idle connections: the next call goes out on a new one and is answered.
    rcv.dropIdle();
    const r = await send('change after the close');
    expect(r.status).toBe(200);
    expect(r.body.message.text).toBe('CHANGE AFTER THE CLOSE');
  });

  it('asks for a burst of sends at once: no call waits for a connection another holds', async () => {
    // Fail closed with a long limit: a call left waiting behind the held ones would time out as a 503.
    const set = await h.call({
      method: 'PUT',
      url: '/v1/hooks/before-send',
      headers: await app.server(),
      payload: { url: `${rcv.url}/before-send`, timeout_ms: 10_000, fail_open: false },
    });
    expect(set.status).toBe(200);
    const N = 40;
    let release: () => void = () => {};
    const all = new Promise<void>((r) => {
      release = r;
    });
    let asked = 0;
    const usual = rcv.answer;
    // Every answer is held until all N calls have arrived: they must all be open at once.
    rcv.answer = (req, nth) => {
      const text = req.json?.message?.text as string;
      if (!text.startsWith('burst')) return usual(req, nth);
      if (++asked === N) release();
      return { status: 200, body: JSON.stringify({ action: 'change', text: text.toUpperCase() }), until: all };
    };
    try {
      const rs = await Promise.all(Array.from({ length: N }, (_, i) => send(`burst ${i}`)));
      expect(rs.map((r) => r.status)).toEqual(rs.map(() => 200));
      expect(rs.map((r) => r.body.message.text).sort()).toEqual(
        Array.from({ length: N }, (_, i) => `BURST ${i}`).sort(),
      );
      expect(rcv.mostAtOnce.get('/before-send')).toBeGreaterThanOrEqual(N);
    } finally {
      rcv.answer = usual;
      release();
    }
  });

  it('is not asked once removed, and other apps never see it', async () => {
    const other = await h.createApp();
    const none = await h.call({ method: 'GET', url: '/v1/hooks/before-send', headers: await other.server() });
    expect(none.body.hook).toBeNull();
    const del = await h.call({ method: 'DELETE', url: '/v1/hooks/before-send', headers: await app.server() });
    expect(del.status).toBe(200);
    const before = rcv.on('/before-send').length;
    const r = await send('reject but no hook');
    expect(r.status).toBe(200);
    expect(rcv.on('/before-send').length).toBe(before);
  });
});
