/**
 * The SDK's handshake against a real server: the token offered with the upgrade (no auth
 * frame), the auth frame when the option is off or the server did not select `parley`, and the
 * fallback when a socket offering the token fails before it opens (a proxy or an older server
 * that refuses the offer), and back.
 */
import { WS_AUTH_PREFIX, WS_PROTOCOL } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SocketFactory } from '../src/connection.js';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const open: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('handshake');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
});
afterAll(async () => {
  for (const c of open) await c.disconnectUser();
  await h.close();
});

interface Seen {
  protocols: (string[] | undefined)[];
  /** Types of the frames the SDK sent. */
  sent: string[];
}

/**
 * `ws`, recording what the SDK asks of it. `refuseOffers`: a socket offered subprotocols fails
 * before opening (it dials a port nobody listens on), as behind a proxy that refuses them.
 */
function recording(seen: Seen, opts: { refuseOffers?: boolean } = {}): SocketFactory {
  return class extends WebSocket {
    constructor(url: string, protocols?: string[]) {
      const refused = opts.refuseOffers && protocols !== undefined;
      super(refused ? url.replace(/\/\/[^/]+/, '//127.0.0.1:1') : url, protocols);
      seen.protocols.push(protocols);
    }
    override send(data: string): void {
      seen.sent.push(String(JSON.parse(data).type));
      super.send(data);
    }
  } as unknown as SocketFactory;
}

async function client(user: string, seen: Seen, opts: Parameters<typeof makeClient>[3] = {}) {
  const c = await makeClient(h, app, user, opts.WebSocket ? opts : { WebSocket: recording(seen), ...opts });
  open.push(c);
  return c;
}

describe('the SDK handshake', () => {
  it('offers the token with the upgrade and sends no auth frame', async () => {
    const seen: Seen = { protocols: [], sent: [] };
    const c = await client('alice', seen);
    expect(c.state.get().connection).toBe('online');
    expect(seen.protocols).toHaveLength(1);
    const [offer] = seen.protocols;
    expect(offer?.[0]).toBe(WS_PROTOCOL);
    expect(offer?.[1]?.startsWith(WS_AUTH_PREFIX)).toBe(true);
    expect(seen.sent).not.toContain('auth');
  });

  it('sends the auth frame with tokenInProtocol: false', async () => {
    const seen: Seen = { protocols: [], sent: [] };
    const c = await client('bob', seen, { tokenInProtocol: false });
    expect(c.state.get().connection).toBe('online');
    expect(seen.protocols).toEqual([undefined]);
    expect(seen.sent[0]).toBe('auth');
  });

  it('falls back to the auth frame when a socket offering the token fails before opening, and reconnects', async () => {
    const seen: Seen = { protocols: [], sent: [] };
    const c = await client('carol', seen, { WebSocket: recording(seen, { refuseOffers: true }) });
    expect(c.state.get().connection).toBe('online');
    // The offer failed, the next attempt framed the token.
    expect(seen.protocols[0]).toBeDefined();
    expect(seen.protocols.at(-1)).toBeUndefined();
    expect(seen.sent[0]).toBe('auth');
    // A drop: it comes back (offering first, failing, then framing again).
    const before = seen.sent.filter((t) => t === 'auth').length;
    c.dropConnection();
    await until(() => seen.sent.filter((t) => t === 'auth').length > before, 15_000, 'a second auth frame');
    await until(() => c.state.get().connection === 'online', 15_000, 'online again');
  });
});
