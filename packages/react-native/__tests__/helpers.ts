/**
 * What the tests share: the server the global setup started, an app (tenant) per test file,
 * users, tokens signed as the app's backend would sign them, and real clients on real sockets.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ChatClient, MemoryStorage, type StorageAdapter } from '@parley/client';
import WebSocket from 'ws';

export const URL_ = process.env.PARLEY_TEST_URL as string;
const ADMIN = process.env.PARLEY_TEST_ADMIN_TOKEN as string;

export interface TestApp {
  id: string;
  apiKey: string;
  secret: string;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An HS256 JWT signed with the app's secret: `{ sub }` for a user, `{ server: true }` for its backend. */
export function sign(app: TestApp, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ iat: Math.floor(Date.now() / 1000), ...claims }));
  const sig = createHmac('sha256', app.secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export const userToken = (app: TestApp, id: string) => sign(app, { sub: id });

/** A call to the server's REST API; throws on an error status with the server's answer. */
export async function api<T = unknown>(
  method: string,
  path: string,
  opts: { token?: string; apiKey?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(`${URL_}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.apiKey ? { 'x-api-key': opts.apiKey } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A new app on the test server, with these users. */
export async function createApp(users: { id: string; name: string; username: string }[]): Promise<TestApp> {
  const r = await api<{ id: string; api_key: string; api_secret: string }>('POST', '/v1/admin/apps', {
    token: ADMIN,
    body: { name: `rn-${randomBytes(4).toString('hex')}` },
  });
  const app = { id: r.id, apiKey: r.api_key, secret: r.api_secret };
  await api('POST', '/v1/users', { token: sign(app, { server: true }), apiKey: app.apiKey, body: { users } });
  return app;
}

/** The admin token of the test server (for app configuration such as push providers). */
export const adminToken = () => ADMIN;

/** A client as an app would make one, with Node's `ws` as the socket (the network is real). */
export function makeClient(app: TestApp, storage: StorageAdapter = new MemoryStorage()): ChatClient {
  return new ChatClient({
    url: URL_,
    apiKey: app.apiKey,
    storage,
    WebSocket: WebSocket as unknown as ConstructorParameters<typeof ChatClient>[0]['WebSocket'],
    transport: 'websocket',
    backoffMinMs: 20,
    backoffMaxMs: 200,
  });
}

/** Resolve when `read()` gives a truthy value: checked on every state change of `client`, and now. */
export function when<T>(
  client: ChatClient,
  read: () => T | undefined | null | false,
  what = 'a condition',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      try {
        const v = read();
        if (v) {
          stop();
          clearTimeout(timer);
          resolve(v);
        }
      } catch (e) {
        stop();
        clearTimeout(timer);
        reject(e);
      }
    };
    const stop = client.state.subscribe(check);
    // Bounded, so a broken promise fails the test with a message rather than at Jest's timeout.
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, 15_000);
    check();
  });
}
