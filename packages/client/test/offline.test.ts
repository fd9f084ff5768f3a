/**
 * Offline: sends made while the server is down show as pending, survive a client restart
 * through the IndexedDB adapter (fake-indexeddb here), and flush in order, each exactly once,
 * when a server comes back on the same port and database.
 */
import { randomBytes } from 'node:crypto';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { testDatabase } from '../../server/test/harness.js';
import type { SocketFactory } from '../src/connection.js';
import { ChatClient, IndexedDBStorage, type LocalMessage } from '../src/index.js';
import { type Harness, serverHistory, startHarness, type TestApp, until } from './setup.js';

const CID = 'group:offline';
const masterKey = randomBytes(32).toString('hex'); // both servers must read the same app secrets
let db: Awaited<ReturnType<typeof testDatabase>>;
/** The server now up (or last up), and every one started, for teardown. */
let h: Harness;
const servers: Harness[] = [];
let app: TestApp;
let url: string;
const clients: ChatClient[] = [];

/** Take the server down; its database stays. */
async function serverDown(): Promise<void> {
  await h.app.close();
}

/** A new server on the same database and the same port. */
async function serverUp(): Promise<void> {
  h = await startHarness({ masterKey }, { database: db.database });
  servers.push(h);
  await h.listen(Number(new URL(url).port));
}

function newClient(factory: IDBFactory): ChatClient {
  const c = new ChatClient({
    url,
    apiKey: app.apiKey,
    WebSocket: WebSocket as unknown as SocketFactory,
    storage: new IndexedDBStorage('parley-test', factory),
    backoffMinMs: 20,
    backoffMaxMs: 300,
    pingIntervalMs: 2_000,
    pongTimeoutMs: 2_000,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  // The database outlives the first server, so a second one can take over on the same port.
  db = await testDatabase();
  h = await startHarness({ masterKey }, { database: db.database });
  servers.push(h);
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ]);
  url = await h.listen();
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  // Servers taken down were closed already; close() also removes their data folders.
  for (const s of servers) await s.close().catch(() => {});
  await db.drop();
});

const pending = (list: readonly LocalMessage[] | undefined) => (list ?? []).filter((m) => m.seq === 0);

describe('offline', () => {
  it('sends made offline show as pending and flush in order on reconnect, each once', async () => {
    const alice = newClient(new IDBFactory());
    await alice.connectUser({ id: 'alice' }, () => app.token('alice'));
    const ch = alice.channel('group', 'reconnect');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();

    await serverDown();
    await until(() => alice.state.get().connection !== 'online', 5_000, 'alice notices');
    const texts = ['a', 'b', 'c', 'd'].map((x) => `queued ${x}`);
    const sends = texts.map((text) => ch.sendMessage({ text }));
    const shown = pending(ch.state?.messages);
    expect(shown.map((m) => [m.text, m.status])).toEqual(texts.map((t) => [t, 'sending']));

    await serverUp();
    const sent = await Promise.all(sends);
    expect(sent.map((m) => m.id)).toEqual(shown.map((m) => m.id)); // same ids, nothing re-made
    expect(sent.map((m) => m.status)).toEqual(texts.map(() => 'sent'));
    const seqs = sent.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y)); // stored in send order
    const server = await serverHistory(h, app, 'group:reconnect', 'bob');
    expect(server.map((m) => [m.id, m.seq, m.text])).toEqual(sent.map((m) => [m.id, m.seq, m.text]));
    await until(() => pending(ch.state?.messages).length === 0 && ch.state?.messages.length === 4, 5_000, 'settled');
    expect(ch.state?.messages.map((m) => [m.id, m.seq, m.status])).toEqual(sent.map((m) => [m.id, m.seq, 'sent']));
    await alice.disconnectUser();
  });

  it('pending sends survive a restart with IndexedDB and flush in order when the server is back', async () => {
    const factory = new IDBFactory();
    const alice = newClient(factory);
    await alice.connectUser({ id: 'alice' }, () => app.token('alice'));
    const ch = alice.channel('group', 'offline');
    await ch.createChannel({ members: ['bob'], name: 'Offline' });
    await ch.watch();
    const before = await ch.sendMessage({ text: 'while online' });
    expect(before.status).toBe('sent');

    // The server goes down (its database stays).
    await serverDown();
    await until(() => alice.state.get().connection !== 'online', 5_000, 'alice notices');

    const texts = ['off 1', 'off 2', 'off 3', 'off 4', 'off 5'];
    const sends = texts.map((text) => ch.sendMessage({ text }).catch((e) => e));
    const shown = pending(ch.state?.messages);
    expect(shown.map((m) => [m.text, m.status])).toEqual(texts.map((t) => [t, 'sending']));
    expect(alice.outbox.map((o) => o.message.text)).toEqual(texts);
    const ids = shown.map((m) => m.id);
    // The outbox is in IndexedDB (what a restart reads).
    const peek = new IndexedDBStorage('parley-test', factory);
    await until(async () => (await peek.get<unknown[]>(`parley:${app.apiKey}:alice:outbox`))?.length === 5);
    await peek.close();

    // Restart the client: a new ChatClient on the same IndexedDB, while the server is still down.
    await alice.disconnectUser();
    for (const s of await Promise.all(sends)) expect(s).toMatchObject({ code: 'DISCONNECTED' });
    const alice2 = newClient(factory);
    let helloed = false;
    const connecting = alice2
      .connectUser({ id: 'alice' }, () => app.token('alice'))
      .then((u) => {
        helloed = true;
        return u;
      });
    await until(() => pending(alice2.state.get().channels[CID]?.messages).length === 5, 5_000, 'restored outbox');
    const restored = alice2.state.get().channels[CID];
    expect(helloed).toBe(false); // the network has not answered
    expect(alice2.state.get().connection).not.toBe('online');
    expect(pending(restored?.messages).map((m) => [m.id, m.text, m.status])).toEqual(
      texts.map((t, i) => [ids[i], t, 'sending']),
    );
    // What was stored before the outage is there too, before the pending ones.
    expect(restored?.messages[0]?.id).toBe(before.id);
    expect(alice2.outbox.map((o) => o.message.id)).toEqual(ids);

    // A new server on the same port and database.
    await serverUp();
    await connecting;
    await until(
      () => alice2.outbox.length === 0 && pending(alice2.state.get().channels[CID]?.messages).length === 0,
      15_000,
      'outbox flushed',
    );

    // On the server: each once, seqs ascending in send order.
    const server = await serverHistory(h, app, CID, 'bob');
    expect(server.map((m) => m.text)).toEqual(['while online', ...texts]);
    expect(server.slice(1).map((m) => m.id)).toEqual(ids);
    const seqs = server.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(server.map((m) => m.id)).size).toBe(server.length);

    // In the client: sent with the server's seqs, in order, each once.
    await until(() => alice2.state.get().channels[CID]?.messages.length === 6, 5_000, 'client history');
    const mine = alice2.state.get().channels[CID]?.messages ?? [];
    expect(mine.map((m) => [m.id, m.seq, m.status])).toEqual(server.map((m) => [m.id, m.seq, 'sent']));
    expect(alice2.state.get().connection).toBe('online');
  });
});
