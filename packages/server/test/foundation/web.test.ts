/**
 * The bundled web app at `/`: its files with cache headers, its page for any browser
 * navigation no route answers, and nothing taken from the API: API paths keep their JSON
 * 404s, other methods keep 404 (not 405), and without a build nothing is served.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';

const html = { accept: 'text/html,application/xhtml+xml' };
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-webdir-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(path.join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'manifest.webmanifest'), '{"name":"Parley"}');
  h = await startHarness({ webDir: dir });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the web app', () => {
  it('serves index.html at / and its files, hashed assets as immutable', async () => {
    const root = await h.app.inject({ method: 'GET', url: '/', headers: html });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('<div id="root">');
    expect(root.headers['cache-control']).toBe('no-cache');
    const asset = await h.app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const manifest = await h.app.inject({ method: 'GET', url: '/manifest.webmanifest' });
    expect(manifest.statusCode).toBe(200);
    expect(manifest.headers['content-type']).toMatch(/manifest\+json/);
  });

  it('answers browser navigations of the app with index.html', async () => {
    for (const url of ['/signin', '/w/abc/c/public:general', '/invite/some-token?x=1']) {
      const r = await h.app.inject({ method: 'GET', url, headers: html });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('<div id="root">');
    }
  });

  it('leaves the API, scripts and other methods alone', async () => {
    for (const url of ['/v1/nothing', '/docs/nothing', '/healthz/x']) {
      const r = await h.app.inject({ method: 'GET', url, headers: html });
      expect(r.statusCode, url).toBe(404);
      expect(r.headers['content-type'], url).toMatch(/json/);
    }
    const script = await h.app.inject({ method: 'GET', url: '/w/abc', headers: { accept: 'application/json' } });
    expect(script.statusCode).toBe(404);
    expect(script.json().error.code).toBe('NOT_FOUND');
    const post = await h.app.inject({ method: 'POST', url: '/w/abc', headers: html, payload: {} });
    expect(post.statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ ok: true });
  });
});

describe('without a build', () => {
  it('serves no page', async () => {
    const bare = await startHarness({ webDir: path.join(dir, 'missing') });
    try {
      const r = await bare.app.inject({ method: 'GET', url: '/', headers: html });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('NOT_FOUND');
    } finally {
      await bare.close();
    }
  });
});
