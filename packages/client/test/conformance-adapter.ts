/**
 * The reference SDK adapter of the conformance kit (packages/conformance/README.md, "SDK
 * adapters"): drives @parley/client for `parley-conformance --adapter` (or `parley conformance`),
 * one JSON request per line on stdin, one answer per line on stdout. An adapter for another SDK
 * does what this file does.
 *
 *   npx parley-conformance --url http://127.0.0.1:3000 \
 *     --adapter "node --conditions=@parley/source --import tsx packages/client/test/conformance-adapter.ts"
 *
 * PARLEY_ADAPTER_BREAK makes it deliberately wrong, for the kit's own tests (a runner must catch
 * each): `outbox` drops sends made while offline, `gap` hides what a reconnect fetched (others'
 * messages it missed), `early-ack` answers a send as stored before the server has it.
 */
import { createInterface } from 'node:readline';
import { type Channel, ChatClient, type SocketFactory, type SocketLike } from '@parley/client';
import WebSocket from 'ws';

const BREAK = process.env.PARLEY_ADAPTER_BREAK ?? '';

/** A WebSocket the adapter can cut and restore (`cut`, `restore`): the network, not the SDK. */
function gatedSockets() {
  let blocked = false;
  const live = new Set<WebSocket>();
  class Gated implements SocketLike {
    private ws: WebSocket | null = null;
    readyState = 0;
    protocol = '';
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(url: string, protocols?: string[]) {
      if (blocked) {
        // No network: the attempt fails as a refused connection does.
        setTimeout(() => {
          this.readyState = 3;
          this.onerror?.(new Error('network is down'));
          this.onclose?.({ code: 1006, reason: '' });
        }, 5);
        return;
      }
      const ws = new WebSocket(url, protocols);
      this.ws = ws;
      live.add(ws);
      ws.onopen = (e) => {
        this.readyState = 1;
        this.protocol = ws.protocol;
        this.onopen?.(e);
      };
      ws.onmessage = (e) => this.onmessage?.({ data: e.data });
      ws.onerror = (e) => this.onerror?.(e);
      ws.onclose = (e) => {
        live.delete(ws);
        this.readyState = 3;
        this.onclose?.({ code: e.code, reason: String(e.reason) });
      };
    }
    send(data: string) {
      this.ws?.send(data);
    }
    close(code?: number, reason?: string) {
      this.readyState = 2;
      this.ws?.close(code, reason);
    }
  }
  return {
    Factory: Gated as unknown as SocketFactory,
    cut() {
      blocked = true;
      for (const ws of live) ws.terminate();
    },
    restore() {
      blocked = false;
    },
  };
}

interface Client {
  client: ChatClient;
  net: ReturnType<typeof gatedSockets>;
  offline: boolean;
  /** `gap`: when the connection was cut and when it was let back (ms since the epoch). */
  gap: { from: number; to: number } | null;
  user: string;
}
const clients = new Map<string, Client>();

function clientOf(name: string): Client {
  const c = clients.get(name);
  if (!c) throw Object.assign(new Error(`no client named ${name}`), { code: 'ADAPTER' });
  return c;
}
const channelOf = (name: string, cid: string): Channel => {
  const [type, id] = cid.split(':') as [string, string];
  return clientOf(name).client.channel(type, id);
};

type Req = Record<string, any>;

async function handle(req: Req): Promise<Record<string, unknown>> {
  switch (req.op) {
    case 'connect': {
      const net = gatedSockets();
      const client = new ChatClient({
        url: req.url,
        apiKey: req.api_key,
        WebSocket: net.Factory,
        transport: 'websocket',
        backoffMinMs: 20,
        backoffMaxMs: 300,
        pingIntervalMs: 2_000,
        pongTimeoutMs: 2_000,
      });
      const c: Client = {
        client,
        net,
        offline: false,
        gap: null,
        user: req.user,
      };
      await client.connectUser({ id: req.user }, async () => req.token);
      clients.set(req.client, c);
      return {};
    }
    case 'watch':
      await channelOf(req.client, req.cid).watch();
      return {};
    case 'send': {
      const c = clientOf(req.client);
      if (BREAK === 'outbox' && c.offline) return {}; // dropped: never queued
      if (BREAK === 'early-ack') {
        void channelOf(req.client, req.cid)
          .sendMessage({ text: req.text })
          .catch(() => {});
        return { seq: 1 }; // "stored", before the server said so
      }
      const sent = channelOf(req.client, req.cid).sendMessage({ text: req.text });
      if (req.wait === false) {
        sent.catch(() => {});
        return {};
      }
      return { seq: (await sent).seq };
    }
    case 'cut': {
      const c = clientOf(req.client);
      c.offline = true;
      c.gap = { from: Date.now(), to: Number.POSITIVE_INFINITY };
      c.net.cut();
      const until = Date.now() + 10_000;
      while (c.client.state.get().connection === 'online' && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      return {};
    }
    case 'restore': {
      const c = clientOf(req.client);
      c.offline = false;
      if (c.gap) c.gap.to = Date.now();
      c.net.restore();
      return {};
    }
    case 'mark_read':
      await channelOf(req.client, req.cid).markRead();
      return {};
    case 'view': {
      const c = clientOf(req.client);
      let messages = channelOf(req.client, req.cid).state?.messages ?? [];
      const gap = c.gap;
      if (BREAK === 'gap' && gap)
        // What others sent while it was cut off (which only the reconnect's catch-up brings) is not shown.
        messages = messages.filter((m) => {
          const at = Date.parse(m.created_at);
          return m.user_id === c.user || at < gap.from || at > gap.to;
        });
      return {
        messages: messages.map((m) => ({ id: m.id, seq: m.seq, text: m.text, status: m.status, user_id: m.user_id })),
      };
    }
    case 'unread':
      return { count: channelOf(req.client, req.cid).state?.unreadCount ?? null };
    case 'quit':
      for (const { client } of clients.values()) await client.disconnectUser();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw Object.assign(new Error(`an operation this adapter does not know: ${req.op}`), { code: 'ADAPTER' });
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const req = JSON.parse(line) as Req;
  handle(req).then(
    (answer) => process.stdout.write(`${JSON.stringify({ id: req.id, ok: true, ...answer })}\n`),
    (err: { code?: string; message?: string }) =>
      process.stdout.write(
        `${JSON.stringify({ id: req.id, ok: false, error: { code: err.code ?? 'ERROR', message: err.message ?? String(err) } })}\n`,
      ),
  );
});
lines.on('close', () => process.exit(0));
