/**
 * The per-IP budget of socket connections reads the client's address by the same rule as
 * REST (`PARLEY_TRUST_PROXY`). Written after every client behind a trusted proxy shared the
 * proxy's own budget: the gateway read the peer's address, never `X-Forwarded-For`.
 */

import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NO_LIMITS, type TrustProxy } from '../../src/platform/config.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

const opened: TestSocket[] = [];
const servers: Harness[] = [];

async function node(trustProxy: TrustProxy): Promise<{ url: string; app: TestApp }> {
  const h = await startHarness({
    trustProxy,
    limits: { ...NO_LIMITS, connections: { user: 0, ip: 2, app: 0, windowMs: 60_000 } },
  });
  servers.push(h);
  const url = await h.listen();
  const app = await h.createApp('socket-ip');
  await h.users(app, [{ id: 'u', name: 'U' }]);
  return { url, app };
}

/** Open a socket as `u`, from behind a proxy that says the client is `forwardedFor`: hello, or the close. */
async function connect(url: string, app: TestApp, forwardedFor: string): Promise<'hello' | number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws?api_key=${app.apiKey}`, {
    headers: { 'x-forwarded-for': forwardedFor },
  });
  const s = new TestSocket(ws);
  opened.push(s);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  s.sendRaw(JSON.stringify({ type: 'auth', token: await app.token('u') }));
  return Promise.race([
    s.waitFor((f) => f.type === 'hello').then(() => 'hello' as const),
    s.waitClose().then((c) => c.code),
  ]);
}

afterAll(async () => {
  for (const s of opened) s.close();
  for (const h of servers) await h.close();
});

describe('socket connections per IP behind a proxy', () => {
  it('behind a trusted proxy, each forwarded client has its own budget', async () => {
    const { url, app } = await node(['loopback']);
    expect(await connect(url, app, '203.0.113.1')).toBe('hello');
    expect(await connect(url, app, '203.0.113.1')).toBe('hello');
    expect(await connect(url, app, '203.0.113.1')).toBe(4006);
    // Another client behind the same proxy is not held back by the first one's budget.
    expect(await connect(url, app, '203.0.113.2')).toBe('hello');
    expect(await connect(url, app, '198.51.100.9, 203.0.113.3')).toBe('hello');
  });

  it('with no trusted proxy, X-Forwarded-For is ignored: the peer is the client', async () => {
    const { url, app } = await node(false);
    expect(await connect(url, app, '203.0.113.1')).toBe('hello');
    expect(await connect(url, app, '203.0.113.2')).toBe('hello');
    expect(await connect(url, app, '203.0.113.3')).toBe(4006);
  });
});
