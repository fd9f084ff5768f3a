/**
 * The SSRF rules of link previews (features/links/safe-fetch.ts), against real HTTP servers on
 * loopback. With the test allow-list off (empty, the default): 127.0.0.1, ::1,
 * 169.254.169.254, a redirect to a private address and a DNS name resolving to 10.x are all
 * refused. The DNS answer for the name is given through the fetcher's `lookup` option (the
 * tests reach no real DNS); the refusal is the code under test.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRefused, isPublicAddress, safeFetch } from '../../src/features/links/safe-fetch.js';

let v4: http.Server;
let v6: http.Server | null = null;
let hits = 0;
const port = (s: http.Server) => (s.address() as AddressInfo).port;

function serve(host: string): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    hits++;
    if (req.url === '/to-private') {
      res.writeHead(302, { location: 'http://10.0.0.7/admin' });
      return res.end();
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('x'.repeat(50_000));
    }
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'a=b' });
    res.end(`<title>hello</title> cookie=${req.headers.cookie ?? 'none'}`);
  });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, () => resolve(s));
  });
}

const refused = async (p: Promise<unknown>, reason: FetchRefused['reason']) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FetchRefused);
  expect((err as FetchRefused).reason).toBe(reason);
};

beforeAll(async () => {
  v4 = await serve('127.0.0.1');
  v6 = await serve('::1').catch(() => null);
});
afterAll(async () => {
  await new Promise((r) => v4.close(r));
  if (v6) await new Promise((r) => v6?.close(r));
});

describe('link preview fetches (SSRF)', () => {
  it('refuses 127.0.0.1, ::1 and 169.254.169.254 with the allow-list off, before connecting', async () => {
    const before = hits;
    await refused(safeFetch(`http://127.0.0.1:${port(v4)}/page`), 'port');
    await refused(safeFetch('http://127.0.0.1/page'), 'blocked-address');
    if (v6) await refused(safeFetch(`http://[::1]:${port(v6)}/page`), 'port');
    await refused(safeFetch('http://[::1]/page'), 'blocked-address');
    await refused(safeFetch('http://169.254.169.254/latest/meta-data/'), 'blocked-address');
    await refused(safeFetch('http://[::ffff:169.254.169.254]/latest/meta-data/'), 'blocked-address');
    await refused(safeFetch('http://[::ffff:7f00:1]/'), 'blocked-address');
    await refused(safeFetch('http://0.0.0.0/'), 'blocked-address');
    await refused(safeFetch('file:///etc/passwd'), 'scheme');
    await refused(safeFetch('gopher://127.0.0.1/'), 'scheme');
    expect(hits).toBe(before); // nothing reached a server
  });

  it('refuses a DNS name that resolves to 10.x, or to any private address among public ones', async () => {
    const lookup = async (host: string) =>
      host === 'intranet.example'
        ? [{ address: '10.1.2.3', family: 4 }]
        : host === 'mixed.example'
          ? [
              { address: '93.184.216.34', family: 4 },
              { address: '192.168.1.1', family: 4 },
            ]
          : [];
    await refused(safeFetch('http://intranet.example/', { lookup }), 'blocked-address');
    await refused(safeFetch('https://mixed.example/', { lookup }), 'blocked-address');
    await refused(safeFetch('http://nowhere.example/', { lookup }), 'dns');
  });

  it('refuses a redirect to a private address (the first hop allow-listed, the target not)', async () => {
    const allowHosts = [`127.0.0.1:${port(v4)}`];
    const before = hits;
    await refused(safeFetch(`http://127.0.0.1:${port(v4)}/to-private`, { allowHosts }), 'blocked-address');
    expect(hits).toBe(before + 1); // the first hop was fetched; the private target never was
  });

  it('fetches an allow-listed test host, sends no cookies, and caps the size', async () => {
    const allowHosts = [`127.0.0.1:${port(v4)}`];
    const ok = await safeFetch(`http://127.0.0.1:${port(v4)}/page`, { allowHosts });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('<title>hello</title> cookie=none');
    const again = await safeFetch(`http://127.0.0.1:${port(v4)}/page`, { allowHosts });
    expect(again.body.toString()).toContain('cookie=none'); // the set-cookie was not kept
    await refused(safeFetch(`http://127.0.0.1:${port(v4)}/big`, { allowHosts, maxBytes: 10_000 }), 'too-large');
  });

  it('classifies addresses', () => {
    for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '127.0.0.53',
      '169.254.169.254',
      '100.64.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      'ff02::1',
      '::ffff:10.0.0.1',
      '::127.0.0.1',
      'not an ip',
    ])
      expect(isPublicAddress(ip), ip).toBe(false);
  });
});
