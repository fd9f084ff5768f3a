/**
 * The documentation site at `/docs/` (platform/docs-site.ts): its pages with a CSP that allows
 * exactly their inline scripts, its hashed assets immutable, `/docs` leading to it, paths with
 * no file the API's JSON 404, and the Swagger UI beside it at `/docs/api/`. Without a build,
 * `/docs` leads to the Swagger UI.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';

const INLINE = 'window.__VP_SITE_DATA__ = {};';
const GUIDE = 'window.__GUIDE__ = 1;';
const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-docsdir-'));
  mkdirSync(path.join(dir, 'assets'));
  mkdirSync(path.join(dir, 'protocol'));
  mkdirSync(path.join(dir, 'guide'));
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><script>${INLINE}</script><h1>Parley</h1>`);
  writeFileSync(path.join(dir, 'protocol', 'webhooks.html'), '<!doctype html><h1>Webhooks</h1>');
  writeFileSync(path.join(dir, 'assets', 'app.Ab12.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'guide', 'index.html'), `<!doctype html><script>${GUIDE}</script><h1>Guide</h1>`);
  h = await startHarness({ docsDir: dir });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const policy = (header: unknown) =>
  Object.fromEntries(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values]),
  );

describe('the documentation site', () => {
  it('serves its pages at /docs/ with a CSP allowing exactly their inline scripts', async () => {
    const home = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<h1>Parley</h1>');
    expect(home.headers['cache-control']).toBe('no-cache');
    const p = policy(home.headers['content-security-policy']);
    expect(p['script-src']).toEqual(["'self'", sha(INLINE)]);
    expect(p['frame-ancestors']).toEqual(["'none'"]);
    expect(home.headers['x-frame-options']).toBe('DENY');
    const page = await h.app.inject({ method: 'GET', url: '/docs/protocol/webhooks.html' });
    expect(page.statusCode).toBe(200);
    expect(policy(page.headers['content-security-policy'])['script-src']).toEqual(["'self'"]);
  });

  it('serves hashed assets as immutable, with the CSP that runs nothing', async () => {
    const asset = await h.app.inject({ method: 'GET', url: '/docs/assets/app.Ab12.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('leads /docs to the site, and answers a path with no file with the JSON 404', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/docs' });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/docs/');
    for (const url of ['/docs/nothing.html', '/docs/protocol/', '/docs/assets/']) {
      const missing = await h.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.headers['content-type'], url).toMatch(/json/);
    }
  });

  it("serves a folder's index.html at the folder's path, HEAD as GET, and only the files listed at start", async () => {
    const guide = await h.app.inject({ method: 'GET', url: '/docs/guide/?from=search' });
    expect(guide.statusCode).toBe(200);
    expect(guide.body).toContain('<h1>Guide</h1>');
    expect(policy(guide.headers['content-security-policy'])['script-src']).toEqual(["'self'", sha(GUIDE)]);
    const head = await h.app.inject({ method: 'HEAD', url: '/docs/protocol/webhooks.html' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['cache-control']).toBe('no-cache');
    // Written after the start: not served (a rebuild needs a restart), nor is anything outside.
    writeFileSync(path.join(dir, 'late.html'), '<h1>Late</h1>');
    for (const url of [
      '/docs/late.html',
      '/docs/guide',
      '/docs/assets',
      '/docs/../package.json',
      '/docs/%2e%2e/package.json',
    ]) {
      const r = await h.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error.code, url).toBe('NOT_FOUND');
    }
    // A path that is not percent-encoding: the router's typed 400, as anywhere else.
    const bad = await h.app.inject({ method: 'GET', url: '/docs/%E0%A4%A' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
  });

  it('answers another method with the JSON 404: the site is not the API', async () => {
    for (const url of ['/docs/index.html', '/docs/nothing']) {
      const r = await h.app.inject({ method: 'POST', url, payload: {} });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error.code, url).toBe('NOT_FOUND');
    }
  });

  it('keeps the Swagger UI and the OpenAPI document at /docs/api/', async () => {
    let r = await h.app.inject({ method: 'GET', url: '/docs/api/' });
    if (r.statusCode >= 300 && r.statusCode < 400 && r.headers.location)
      r = await h.app.inject({
        method: 'GET',
        url: new URL(String(r.headers.location), 'http://x/docs/api/').pathname,
      });
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/swagger/i);
    const spec = await h.app.inject({ method: 'GET', url: '/docs/api/json' });
    expect(spec.statusCode).toBe(200);
    expect(JSON.parse(spec.body).openapi).toMatch(/^3\./);
  });
});

describe('without a built site', () => {
  it('leads /docs and /docs/ to the Swagger UI', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'parley-nodocs-'));
    const bare = await startHarness({ docsDir: empty });
    try {
      for (const url of ['/docs', '/docs/']) {
        const r = await bare.app.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBe(302);
        expect(r.headers.location, url).toBe('/docs/api/');
      }
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
