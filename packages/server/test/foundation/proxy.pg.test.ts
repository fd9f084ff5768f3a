/**
 * Whom the server believes about the client: `X-Forwarded-For`, `-Proto` and `-Host` only from
 * the proxies PARLEY_TRUST_PROXY names (off by default), which decides the client IP (logged
 * per request) and whether the session cookie is `Secure`. And which pages may write with the
 * session cookie: the server's own origin or a configured one — `Origin: null`, foreign
 * origins, and cookie writes without an Origin get 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOrigins, parseTrustProxy, type TrustProxy } from '../../src/platform/config.js';
import { buildAccount, email, expectError, ok, PASSWORD, send, setCookie } from '../accounts/helpers.js';
import { type Harness, startHarness, testDatabase } from '../harness.js';

// Several servers, one database.
let db: Awaited<ReturnType<typeof testDatabase>>;
const started: Harness[] = [];
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  for (const h of started) await h.close();
  await db?.drop();
});

async function server(trustProxy: TrustProxy, allowedOrigins: string[] = []) {
  const lines: string[] = [];
  const h = await startHarness(
    { trustProxy, allowedOrigins, logLevel: 'info' },
    { database: db.database, logStream: { write: (s: string) => void lines.push(s) } },
  );
  started.push(h);
  /** Sign up from `remoteAddress` with these headers: the client IP logged, and whether the cookie is Secure. */
  const probe = async (remoteAddress: string, headers: Record<string, string>) => {
    const id = `probe-${Math.random().toString(36).slice(2)}`;
    const r = await send(h, {
      method: 'POST',
      url: '/v1/auth/signup',
      remoteAddress,
      headers: { ...headers, 'x-request-id': id },
      payload: { email: email('proxy'), password: PASSWORD, name: 'Proxy' },
    });
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === id && l.msg === 'request');
    return { ip: line?.ip as string, secure: setCookie(r).split('; ').includes('Secure') };
  };
  return { h, probe };
}

const forwarded = { 'x-forwarded-for': '203.0.113.7, 198.51.100.2', 'x-forwarded-proto': 'https' };

describe('PARLEY_TRUST_PROXY', () => {
  it('parses off, hop counts and address lists, and refuses anything else', () => {
    for (const off of [undefined, '', 'off', 'false', '0']) expect(parseTrustProxy(off)).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, ::1,loopback')).toEqual(['10.0.0.0/8', '::1', 'loopback']);
    expect(() => parseTrustProxy('everyone')).toThrow(/PARLEY_TRUST_PROXY/);
    expect(() => parseTrustProxy('1.2.3.4; rm')).toThrow(/PARLEY_TRUST_PROXY/);
    expect(parseOrigins('https://chat.example.com, http://localhost:5173')).toEqual([
      'https://chat.example.com',
      'http://localhost:5173',
    ]);
    expect(() => parseOrigins('https://chat.example.com/')).toThrow(/PARLEY_ALLOWED_ORIGINS/);
    expect(() => parseOrigins('null')).toThrow(/PARLEY_ALLOWED_ORIGINS/);
  });

  it('off (the default): forwarded headers are ignored; the IP is the peer, the cookie follows our scheme', async () => {
    const { probe } = await server(false);
    expect(await probe('192.0.2.10', forwarded)).toEqual({ ip: '192.0.2.10', secure: false });
    expect(await probe('192.0.2.10', {})).toEqual({ ip: '192.0.2.10', secure: false });
  });

  it('a list: believed from a listed proxy only', async () => {
    const { probe } = await server(['192.0.2.0/24', '::1']);
    // From the proxy: the client is the last address the proxy did not add itself… which is
    // the right-most untrusted one.
    expect(await probe('192.0.2.10', forwarded)).toEqual({ ip: '198.51.100.2', secure: true });
    // From anyone else: ignored.
    expect(await probe('203.0.113.99', forwarded)).toEqual({ ip: '203.0.113.99', secure: false });
    // From the proxy, but over plain http: not Secure.
    expect(await probe('192.0.2.10', { 'x-forwarded-for': '203.0.113.7' })).toEqual({
      ip: '203.0.113.7',
      secure: false,
    });
  });

  it('a list naming the chain: the first untrusted address is the client', async () => {
    const { probe } = await server(['192.0.2.0/24', '198.51.100.2']);
    expect(await probe('192.0.2.10', forwarded)).toEqual({ ip: '203.0.113.7', secure: true });
  });

  it('a hop count: that many proxies are believed, whoever they are', async () => {
    const one = await server(1);
    expect(await one.probe('192.0.2.10', forwarded)).toEqual({ ip: '198.51.100.2', secure: true });
    const two = await server(2);
    expect(await two.probe('192.0.2.10', forwarded)).toEqual({ ip: '203.0.113.7', secure: true });
  });
});

describe('Origin on cookie-authenticated writes', () => {
  it('refuses foreign and null origins and cookie writes without one; takes our own and configured ones', async () => {
    const { h } = await server(false, ['https://app.example.com']);
    const a = await buildAccount(h, 'Origin');
    const cookie = a.cookie as string;
    const post = (origin: string | null, url = '/v1/workspaces', payload: object = { name: 'W' }) =>
      send(h, { method: 'POST', url, headers: { cookie, ...(origin === null ? {} : { origin }) }, payload });

    for (const bad of ['https://evil.example', 'null', 'http://localhost.evil.example', 'http://localhost:8080', ''])
      expectError(await post(bad), 'FORBIDDEN');
    expectError(await post(null), 'FORBIDDEN');
    expectError(await post('https://evil.example', '/v1/auth/signout', {}), 'FORBIDDEN');
    expectError(
      await send(h, {
        method: 'PATCH',
        url: '/v1/workspaces/00000000-0000-7000-8000-000000000000',
        headers: { cookie, origin: 'null' },
        payload: { name: 'x' },
      }),
      'FORBIDDEN',
    );
    expect(ok(await a.workspaces()).workspaces).toEqual([]);
    ok(await a.me()); // still signed in: the refused sign-out did nothing

    ok(await post('http://localhost'));
    // TLS ended at a proxy we do not know of: the host decides.
    const viaTls = await send(h, {
      method: 'POST',
      url: '/v1/workspaces',
      headers: { cookie, origin: 'https://chat.example.com', host: 'chat.example.com' },
      payload: { name: 'W' },
    });
    ok(viaTls);
    ok(await post('https://app.example.com'));
    expect(ok(await a.workspaces()).workspaces).toHaveLength(3);

    // Sign-in from a foreign page is refused too (no logging someone into our own account).
    const foreign = await send(h, {
      method: 'POST',
      url: '/v1/auth/signin',
      headers: { origin: 'https://evil.example' },
      payload: { email: a.account.email, password: PASSWORD },
    });
    expectError(foreign, 'FORBIDDEN');
    // Without cookie or Origin (a script, not a browser): allowed.
    ok(
      await send(h, {
        method: 'POST',
        url: '/v1/auth/signin',
        payload: { email: a.account.email, password: PASSWORD },
      }),
    );
  });

  it('over https (a trusted proxy says so), only https://<host> is ours', async () => {
    const { h } = await server(['127.0.0.1']);
    const a = await buildAccount(h, 'Tls');
    const post = (origin: string) =>
      send(h, {
        method: 'POST',
        url: '/v1/workspaces',
        headers: {
          cookie: a.cookie as string,
          origin,
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'chat.example.com',
        },
        payload: { name: 'T' },
      });
    expectError(await post('http://chat.example.com'), 'FORBIDDEN');
    expectError(await post('https://localhost'), 'FORBIDDEN');
    ok(await post('https://chat.example.com'));
  });
});
