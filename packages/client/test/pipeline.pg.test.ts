/**
 * The outbox keeps several sends in flight (outbox.ts); the server stores one connection's
 * sends to a channel in frame order (server features/messages/send-order.ts). Sent without
 * awaiting each, with sockets killed on either side in the middle, with typed refusals and
 * sends of their own transaction (quotes) among them, and with the rate limit hit: the channel
 * ends with every send once, in send order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ChatClient, LocalMessage } from '../src/index.js';
import { type Harness, makeClient, serverHistory, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let limited: Harness;
let limitedApp: TestApp;
const open: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ]);
  // 40 sends a second at most: a burst of 150 meets RATE_LIMITED in the middle.
  limited = await startHarness({ rateMessages: 40, rateWindowMs: 1_000 });
  limitedApp = await limited.createApp();
  await limited.users(limitedApp, [{ id: 'alice', name: 'Alice' }]);
}, 60_000);
afterAll(async () => {
  for (const c of open) await c.disconnectUser();
  await h?.close();
  await limited?.close();
});

let n = 0;
async function channelOf(
  harness: Harness,
  a: TestApp,
  userId = 'alice',
): Promise<{ client: ChatClient; ch: Channel; cid: string }> {
  const client = await makeClient(harness, a, userId);
  open.push(client);
  const id = `pipe${++n}`;
  const ch = client.channel('group', id);
  await ch.createChannel({ members: [], name: id });
  await ch.watch();
  return { client, ch, cid: `group:${id}` };
}

const texts = (list: readonly { text: string; type: string }[]) =>
  list.filter((m) => m.type === 'regular').map((m) => m.text);

describe('a pipelined outbox', () => {
  it('stores 500 sends made without awaiting each, in order and once, across a socket killed on each side', async () => {
    const { client, ch, cid } = await channelOf(h, app);
    const want = Array.from({ length: 500 }, (_, i) => `m${i}`);
    const sends: Promise<LocalMessage>[] = [];
    let killedClient = false;
    let killedServer = false;
    for (const [i, text] of want.entries()) {
      sends.push(ch.sendMessage({ text }));
      if (i % 25 === 24) await new Promise((r) => setImmediate(r));
      if (i === 150) {
        // Mid-flight: sends are on the wire, others queued behind them.
        await until(() => stored(ch).length > 20, 15_000, 'some sends stored');
        client.dropConnection();
        killedClient = true;
      }
      if (i === 350) {
        await until(() => client.state.get().connection === 'online', 15_000, 'back online');
        await until(() => client.outbox.length < 100, 30_000, 'the outbox draining');
        for (const conn of h.server.svc.hub.allConnections()) conn.ws.terminate();
        killedServer = true;
      }
    }
    expect(killedClient && killedServer).toBe(true);
    const settled = await Promise.allSettled(sends);
    // A send whose socket died under it rejects nothing: it stays queued and goes again.
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    await until(() => client.outbox.length === 0, 60_000, 'outbox empty');
    const server = await serverHistory(h, app, cid, 'alice');
    expect(texts(server)).toEqual(want);
    expect(new Set(server.map((m) => m.id)).size).toBe(server.length);
    await until(() => stored(ch).length === server.length, 15_000, 'the client holds them all');
    expect(stored(ch).map((m) => m.text)).toEqual(texts(server));
  }, 120_000);

  it('marks a send refused for good failed, and stores the others around it in order, with quotes among them', async () => {
    const { ch, cid, client } = await channelOf(h, app);
    const first = await ch.sendMessage({ text: 'first' });
    const want: string[] = ['first'];
    const sends: Promise<LocalMessage | null>[] = [];
    for (let i = 0; i < 120; i++) {
      if (i % 30 === 7) {
        // Quotes a message of no channel: VALIDATION_ERROR, a typed refusal.
        sends.push(
          ch.sendMessage({ text: `bad${i}`, quoted_message_id: '01900000-0000-7000-8000-000000000000' }).then(
            () => {
              throw new Error('a bad quote was stored');
            },
            (e: { code?: string }) => {
              expect(e.code).toBe('VALIDATION_ERROR');
              return null;
            },
          ),
        );
        continue;
      }
      // Every tenth a quote: its own transaction, beside the batched plain sends.
      const text = `m${i}`;
      want.push(text);
      sends.push(ch.sendMessage(i % 10 === 3 ? { text, quoted_message_id: first.id } : { text }));
    }
    await Promise.all(sends);
    expect(client.outbox).toEqual([]);
    const server = await serverHistory(h, app, cid, 'alice');
    expect(texts(server)).toEqual(want);
    expect((ch.state?.messages ?? []).filter((m) => m.status === 'failed').map((m) => m.text)).toEqual([
      'bad7',
      'bad37',
      'bad67',
      'bad97',
    ]);
  }, 60_000);

  it('keeps send order when the rate limit refuses a send in the middle of the window', async () => {
    const { ch, cid, client } = await channelOf(limited, limitedApp);
    const want = Array.from({ length: 150 }, (_, i) => `r${i}`);
    const sends = want.map((text) => ch.sendMessage({ text }));
    await Promise.all(sends);
    expect(client.outbox).toEqual([]);
    const server = await serverHistory(limited, limitedApp, cid, 'alice');
    expect(texts(server)).toEqual(want);
    expect(new Set(server.map((m) => m.id)).size).toBe(server.length);
  }, 60_000);
});

function stored(ch: Channel): LocalMessage[] {
  return (ch.state?.messages ?? []).filter((m) => m.seq > 0);
}
