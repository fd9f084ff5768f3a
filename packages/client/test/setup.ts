/** Client tests run against a real server in this process (never a mock). */
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { clusterBrokers, type Harness, startHarness, type TestApp, testDatabase } from '../../server/test/harness.js';
import type { SocketFactory } from '../src/connection.js';
import { ChatClient, type ChatClientOptions } from '../src/index.js';

export { clusterBrokers, type Harness, startHarness, type TestApp, testDatabase };

export async function makeClient(h: Harness, app: TestApp, userId: string, opts: Partial<ChatClientOptions> = {}) {
  const url = await h.listen();
  const client = new ChatClient({
    url,
    apiKey: app.apiKey,
    WebSocket: WebSocket as unknown as SocketFactory,
    backoffMinMs: 20,
    backoffMaxMs: 300,
    pingIntervalMs: 2_000,
    pongTimeoutMs: 2_000,
    ...opts,
  });
  await client.connectUser({ id: userId }, () => app.token(userId));
  return client;
}

/** A test file's world: one server, one app with these users, and the clients it opened. */
export interface Testbed {
  /** Set in the file's `beforeAll`. */
  h: Harness;
  app: TestApp;
  /** A connected client for `userId`, disconnected in the file's `afterAll`. */
  connect(userId: string, opts?: Partial<ChatClientOptions>): Promise<ChatClient>;
}

/**
 * Start a server with one app and `users` before the file's tests, and close the clients it
 * connected and the server after them. Call it at the top of a test file.
 */
export function testbed(
  users: Parameters<Harness['users']>[1],
  config: Parameters<typeof startHarness>[0] = {},
): Testbed {
  const clients: ChatClient[] = [];
  const bed = {
    async connect(userId: string, opts: Partial<ChatClientOptions> = {}) {
      const c = await makeClient(bed.h, bed.app, userId, opts);
      clients.push(c);
      return c;
    },
  } as Testbed;
  beforeAll(async () => {
    bed.h = await startHarness(config);
    bed.app = await bed.h.createApp();
    await bed.h.users(bed.app, users);
  });
  afterAll(async () => {
    for (const c of clients) await c.disconnectUser();
    await bed.h?.close();
  });
  return bed;
}

export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, label = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The server's whole channel history as `userId` sees it, in seq order (paged through the REST API). */
export async function serverHistory(h: Harness, app: TestApp, cid: string, userId: string) {
  const out: { id: string; seq: number; text: string; type: string; user_id: string }[] = [];
  let after = 0;
  for (;;) {
    const r = await h.call({
      method: 'GET',
      url: `/v1/channels/${cid}/messages?after=${after}&limit=200`,
      headers: await app.user(userId),
    });
    if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
    const page = r.body.messages as typeof out;
    out.push(...page);
    if (page.length < 200) return out;
    after = (page.at(-1) as (typeof out)[number]).seq;
  }
}

/** The server's unread totals of one user (`GET /v1/me`'s `unread`). */
export async function serverUnread(h: Harness, app: TestApp, userId: string) {
  const r = await h.call({ method: 'GET', url: '/v1/me', headers: await app.user(userId) });
  if (r.status !== 200) throw new Error(`me: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.unread as { total: number; mentions: number; channels: number; rev: number };
}

/** The server's view of one channel for one user (`unread_count`, `last_message`, …), from POST /v1/channels/query. */
export async function serverChannel(h: Harness, app: TestApp, cid: string, userId: string) {
  const r = await h.call({
    method: 'POST',
    url: '/v1/channels/query',
    headers: await app.user(userId),
    payload: { filter: { cid } },
  });
  if (r.status !== 200) throw new Error(`query: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.channels[0] as {
    cid: string;
    unread_count: number;
    mention_count: number;
    last_seq: number;
    last_message: { id: string } | null;
  };
}
