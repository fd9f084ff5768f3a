/**
 * The SDK's `transport` option through a real proxy: `auto` falls back to the stream by itself
 * where upgrades are refused, and goes back to a WebSocket on a later reconnect once they pass;
 * `sse` never tries an upgrade. Delivery across the two transports, both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RefusingProxy, startRefusingProxy } from '../../server/test/refusing-proxy.js';
import { type ChatClient, WS_RETRY_AFTER } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let proxy: RefusingProxy;
const clients: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [{ id: 'ann' }, { id: 'ben' }, { id: 'cy' }]);
  proxy = await startRefusingProxy(await h.listen());
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await proxy.close();
  h.app.server.closeAllConnections();
  await h.close();
});

/** Cut `client`'s connection on the server's side, as a network failure would. */
function cut(client: ChatClient): void {
  const conn = [...h.server.svc.hub.allConnections()].find((c) => c.id === client.connectionId);
  conn?.ws.terminate();
}

describe('transport', () => {
  it('auto falls back behind a proxy that refuses upgrades, then returns to WebSocket when they pass', async () => {
    const refused = proxy.refused;
    const ann = await makeClient(h, app, 'ann', { url: proxy.url });
    clients.push(ann);
    expect(ann.transport).toBe('sse');
    expect(proxy.refused).toBeGreaterThan(refused);
    // Live both ways with a WebSocket client.
    const ben = await makeClient(h, app, 'ben');
    clients.push(ben);
    expect(ben.transport).toBe('websocket');
    await ann.channel('group', 'both').createChannel({ members: ['ben'] });
    const annCh = ann.channel('group', 'both');
    const benCh = ben.channel('group', 'both');
    await annCh.watch();
    await benCh.watch();
    await annCh.sendMessage({ text: 'over the stream' });
    await until(() => benCh.state?.messages.some((m) => m.text === 'over the stream'), 10_000, 'ben has it');
    await benCh.sendMessage({ text: 'over the socket' });
    await until(() => annCh.state?.messages.some((m) => m.text === 'over the socket'), 10_000, 'ann has it');

    // The proxy lets upgrades through now: within a few reconnects ann is on a WebSocket again.
    proxy.allowUpgrades = true;
    for (let i = 0; i <= WS_RETRY_AFTER + 1 && ann.transport !== 'websocket'; i++) {
      const before = ann.connectionId;
      cut(ann);
      await until(() => ann.transport !== null && ann.connectionId !== before, 10_000, 'ann back online');
    }
    expect(ann.transport).toBe('websocket');
    await benCh.sendMessage({ text: 'after the move' });
    await until(() => annCh.state?.messages.some((m) => m.text === 'after the move'), 10_000, 'ann has it');
    proxy.allowUpgrades = false;
  });

  it('sse never tries an upgrade', async () => {
    const refused = proxy.refused;
    const cy = await makeClient(h, app, 'cy', { url: proxy.url, transport: 'sse' });
    clients.push(cy);
    expect(cy.transport).toBe('sse');
    cut(cy);
    await until(() => cy.transport === 'sse', 10_000, 'cy back online');
    expect(proxy.refused).toBe(refused);
  });

  it("sse streams and posts through the client's own fetch (a proxy's CA, a custom agent)", async () => {
    const seen: string[] = [];
    const counting = ((url: string, init?: RequestInit) => {
      seen.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`);
      return fetch(url, init);
    }) as never;
    const dee = await makeClient(h, app, 'cy', { transport: 'sse', fetch: counting });
    clients.push(dee);
    await dee.request('ping', {});
    expect(seen).toContain('GET /v1/sse');
    expect(seen.some((s) => s.startsWith('POST /v1/sse/'))).toBe(true);
  });
});
