/**
 * A graceful drain, on a real port: `startDraining()` fails `/readyz` while the node still serves;
 * then the close stops taking connections first, lets a REST request and a socket request that
 * are in flight finish (their answers arrive), and only then closes every socket with
 * SHUTTING_DOWN (4005) and a `reconnect_within_ms` hint. The socket request is held in flight by
 * the app's before-send hook, a real HTTP server that answers when the test says.
 */
import http from 'node:http';
import net from 'node:net';
import { CLOSE_CODES, reconnectWithinMs } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { type Receiver, startReceiver } from '../hooks/helpers.js';

let h: Harness;
let rcv: Receiver;
let app: TestApp;
let base: string;
let closed = false;
let release: () => void = () => {};
const gate = new Promise<void>((r) => {
  release = r;
});

beforeAll(async () => {
  rcv = await startReceiver();
  // A send whose text starts with "held" waits in the hook until the test releases it.
  rcv.answer = (r) => ({
    status: 200,
    body: JSON.stringify({ action: 'allow' }),
    ...(String(r.json?.message?.text).startsWith('held') ? { until: gate } : {}),
  });
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_BEFORE_SEND: rcv.host }) });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  const c = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'drain', members: ['bob'] },
  });
  expect(c.status).toBe(200);
  const hook = await h.call({
    method: 'PUT',
    url: '/v1/hooks/before-send',
    headers: await app.server(),
    payload: { url: `${rcv.url}/before-send`, timeout_ms: 10_000, fail_open: false },
  });
  expect(hook.status).toBe(200);
  base = await h.listen();
}, 60_000);

afterAll(async () => {
  release();
  if (!closed) await h?.close();
  await rcv?.close();
});

/** Whether a TCP connection to the node's port is accepted now. */
function accepts(): Promise<boolean> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect({ port: Number(port), host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('draining', () => {
  it('fails /readyz once draining, while everything else is still served', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    h.server.startDraining();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const sent = await fetch(`${base}/v1/channels/group:drain/messages`, {
      method: 'POST',
      headers: { ...(await app.user('alice')), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'still served' }),
    });
    expect(sent.status).toBe(200);
    const s = await TestSocket.connect(base, app, 'bob');
    s.close();
  });

  it('stops taking connections, finishes what is in flight, then closes sockets with 4005 and a hint', async () => {
    const alice = await TestSocket.connect(base, app, 'alice');
    const bob = await TestSocket.connect(base, app, 'bob');
    // A socket request in flight: held in the before-send hook.
    const reply = alice.request('message.send', { cid: 'group:drain', message: { text: 'held by the hook' } });
    await eventually(() => rcv.on('/before-send').some((r) => r.json?.message?.text === 'held by the hook'));
    // A REST request in flight: its head sent, half of its body not yet.
    const body = JSON.stringify({ text: 'a REST send finished during the drain' });
    const headers = await app.user('bob');
    const restOfBody: (() => void)[] = [];
    let arrived = false;
    const onRequest = (req: http.IncomingMessage) => {
      if (req.method === 'POST' && req.url === '/v1/channels/group:drain/messages') arrived = true;
    };
    h.app.server.on('request', onRequest);
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/v1/channels/group:drain/messages`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.flushHeaders();
      req.write(body.slice(0, 10));
      restOfBody.push(() => req.end(body.slice(10)));
    });
    // Its head reached the server (a connection without a request would be closed at once).
    await eventually(() => arrived);
    h.app.server.off('request', onRequest);

    closed = true;
    const closing = h.close();
    // First: no new connection is taken.
    await eventually(async () => !(await accepts()));
    // The sockets stay open while a request on them is being handled.
    expect(alice.closed).toBeNull();
    expect(bob.closed).toBeNull();
    // The REST request finishes, answered.
    (restOfBody[0] as () => void)();
    const rest = await answered;
    expect(rest.status, rest.body).toBe(200);
    // The socket request finishes: its reply comes before the close.
    release();
    const r = await reply;
    expect(r.ok, JSON.stringify(r)).toBe(true);
    for (const s of [alice, bob]) {
      const c = await s.waitClose();
      expect(c.code).toBe(CLOSE_CODES.SHUTTING_DOWN);
      expect(reconnectWithinMs(c.reason)).toBe(250);
    }
    expect(r.message?.text).toBe('held by the hook');
    await closing;
  });
});
