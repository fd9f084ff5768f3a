/**
 * Security headers: the web app's pages (`/`, `/invite/<token>`, any page) get the strict CSP
 * with the hashes of their inline scripts; API answers and files get the baseline headers and a
 * CSP that runs nothing; HSTS only over https (from a trusted proxy); and CSP reports are
 * logged, rate-limited, with secrets blanked.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';

const html = { accept: 'text/html,application/xhtml+xml' };
const INLINE = 'window.__boot = 1;';
let dir: string;
let h: Harness;
const lines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-headers-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html><script type="module" src="/assets/app-1.js"></script><script>${INLINE}</script><div id="root"></div>`,
  );
  writeFileSync(path.join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'sw.js'), 'self.addEventListener("fetch", () => {})');
  h = await startHarness(
    { webDir: dir, trustProxy: ['127.0.0.1'], logLevel: 'info' },
    { logStream: { write: (s: string) => void lines.push(s) } },
  );
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A CSP header as a map of directive → sources. */
function csp(header: unknown): Record<string, string[]> {
  expect(typeof header, 'a Content-Security-Policy header').toBe('string');
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name as string, sources]),
  );
}

function expectBaseline(headers: Record<string, unknown>, where: string): void {
  expect(headers['x-content-type-options'], where).toBe('nosniff');
  expect(headers['referrer-policy'], where).toBe('strict-origin-when-cross-origin');
  expect(headers['x-frame-options'], where).toBe('DENY');
  expect(headers['permissions-policy'], where).toBe(
    'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()',
  );
  expect(headers['strict-transport-security'], where).toBeUndefined();
}

describe('the web app pages', () => {
  it('/, /invite/<token> and other pages carry the strict CSP', async () => {
    const hash = `'sha256-${createHash('sha256').update(INLINE).digest('base64')}'`;
    for (const url of ['/', '/invite/abc123token', '/w/x/c/public:general', '/signin']) {
      const r = await h.app.inject({ method: 'GET', url, headers: { ...html, host: 'chat.example.com:3000' } });
      expect(r.statusCode, url).toBe(200);
      expectBaseline(r.headers, url);
      const p = csp(r.headers['content-security-policy']);
      expect(p['script-src'], url).toEqual(["'self'", hash]);
      expect(p['script-src-attr']).toEqual(["'none'"]);
      expect(p['style-src']).toEqual(["'self'"]);
      expect(p['connect-src']).toEqual(["'self'", 'wss://chat.example.com:3000', 'ws://chat.example.com:3000']);
      expect(p['frame-ancestors']).toEqual(["'none'"]);
      expect(p['object-src']).toEqual(["'none'"]);
      expect(p['base-uri']).toEqual(["'none'"]);
      expect(p['default-src']).toEqual(["'self'"]);
      expect(p['report-uri']).toEqual(['/v1/csp-report']);
      expect(JSON.stringify(p)).not.toContain('unsafe');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
  });

  it('the service worker gets the page CSP (it fetches the shell), assets the API one', async () => {
    const sw = await h.app.inject({ method: 'GET', url: '/sw.js' });
    expect(csp(sw.headers['content-security-policy'])['connect-src']).toContain("'self'");
    const asset = await h.app.inject({ method: 'GET', url: '/assets/app-1.js' });
    expectBaseline(asset.headers, 'asset');
    expect(asset.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('a 304 revalidating a cached page carries no CSP, so the page keeps its own (regression)', async () => {
    // The API's CSP on a 304 replaced the cached page's: on its next load every script was blocked.
    const first = await h.app.inject({ method: 'GET', url: '/', headers: html });
    const validators = {
      ...(first.headers.etag ? { 'if-none-match': String(first.headers.etag) } : {}),
      ...(first.headers['last-modified'] ? { 'if-modified-since': String(first.headers['last-modified']) } : {}),
    };
    expect(Object.keys(validators).length).toBeGreaterThan(0);
    const again = await h.app.inject({ method: 'GET', url: '/', headers: { ...html, ...validators } });
    expect(again.statusCode).toBe(304);
    expect(again.headers['content-security-policy']).toBeUndefined();
  });

  it('leaves out a Host that could not be a host', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/', headers: { ...html, host: 'evil.com; script-src *' } });
    expect(csp(r.headers['content-security-policy'])['connect-src']).toEqual(["'self'"]);
  });
});

describe('API answers', () => {
  it('carry the baseline headers and a CSP that runs nothing, errors included', async () => {
    for (const [method, url] of [
      ['GET', '/healthz'],
      ['GET', '/v1/nothing'],
      ['POST', '/v1/channels'],
      ['GET', '/v1/openapi.json'],
      ['GET', '/v1/invites/abc123token'],
    ] as const) {
      const r = await h.app.inject({ method, url });
      expectBaseline(r.headers, url);
      expect(r.headers['content-security-policy'], url).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it("/docs/api/ keeps swagger-ui's own CSP, never framed and without an upgrade to https", async () => {
    const r = await h.app.inject({ method: 'GET', url: '/docs/api/' });
    expect(r.statusCode).toBe(200);
    const p = csp(r.headers['content-security-policy']);
    expect(p['frame-ancestors']).toEqual(["'none'"]);
    expect(p['upgrade-insecure-requests']).toBeUndefined();
  });

  it('HSTS only over https, as a trusted proxy reports it', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    const page = await h.app.inject({ method: 'GET', url: '/', headers: { ...html, 'x-forwarded-proto': 'https' } });
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    // Over https the page may only open wss:.
    expect(csp(page.headers['content-security-policy'])['connect-src']).toEqual(["'self'", 'wss://localhost:80']);
    const untrusted = await h.app.inject({
      method: 'GET',
      url: '/healthz',
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(untrusted.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('CSP reports', () => {
  const violation = (n: number) => ({
    'csp-report': {
      'document-uri': `https://chat.example.com/invite/secret-invite-token-${n}?x=1`,
      'violated-directive': 'script-src-elem',
      'effective-directive': 'script-src-elem',
      'blocked-uri': 'https://evil.example/x.js?token=abc',
      disposition: 'enforce',
    },
  });

  it('logs each violation (both formats), without the secrets of the page URL', async () => {
    lines.length = 0;
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/csp-report',
      remoteAddress: '198.51.100.1',
      headers: { 'content-type': 'application/csp-report' },
      payload: JSON.stringify(violation(1)),
    });
    expect(r.statusCode).toBe(204);
    const api = await h.app.inject({
      method: 'POST',
      url: '/v1/csp-report',
      remoteAddress: '198.51.100.1',
      headers: { 'content-type': 'application/reports+json' },
      payload: JSON.stringify([
        {
          type: 'csp-violation',
          body: { documentURL: 'https://chat.example.com/', effectiveDirective: 'connect-src', blockedURL: 'wss://x' },
        },
      ]),
    });
    expect(api.statusCode).toBe(204);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'csp violation');
    expect(logged.map((l) => l.csp.directive)).toEqual(['script-src-elem', 'connect-src']);
    expect(logged[0].csp.document).toBe('https://chat.example.com/invite/[redacted]');
    expect(logged[0].csp.blocked).toBe('https://evil.example/x.js');
    expect(lines.join('')).not.toContain('secret-invite-token');
  });

  it('logs at most 10 per client IP per minute, and answers 204 to garbage', async () => {
    lines.length = 0;
    for (let i = 0; i < 30; i++) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/v1/csp-report',
        remoteAddress: '198.51.100.2',
        headers: { 'content-type': 'application/csp-report' },
        payload: JSON.stringify(violation(i)),
      });
      expect(r.statusCode).toBe(204);
    }
    expect(lines.filter((l) => l.includes('csp violation'))).toHaveLength(10);
    const junk = await h.app.inject({
      method: 'POST',
      url: '/v1/csp-report',
      headers: { 'content-type': 'application/csp-report' },
      payload: '{nope',
    });
    expect(junk.statusCode).toBe(204);
  });
});
