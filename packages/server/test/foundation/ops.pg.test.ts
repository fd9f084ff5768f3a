/** Operations: health, readiness, metrics, request ids, the OpenAPI document and the docs page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { ownDatabase } from './helpers.js';

let h: Harness;
let app: TestApp;

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('ops');
});
afterAll(async () => {
  await h?.close();
});

describe('health and readiness', () => {
  it('GET /healthz answers 200 without credentials', async () => {
    const r = await h.call({ method: 'GET', url: '/healthz' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('GET /readyz answers 200 with the database, and 503 once it is gone', async () => {
    expect((await h.call({ method: 'GET', url: '/readyz' })).status).toBe(200);

    const own = await ownDatabase();
    const h2 = await startHarness({}, { database: own.database });
    try {
      const up = await h2.call({ method: 'GET', url: '/readyz' });
      expect(up.status).toBe(200);
      expect(up.body).toMatchObject({ ok: true, database: own.database.kind });
      await own.database.close();
      const down = await h2.call({ method: 'GET', url: '/readyz' });
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String) } });
      // Liveness does not depend on the database: the process is up.
      expect((await h2.call({ method: 'GET', url: '/healthz' })).status).toBe(200);
    } finally {
      await h2.close();
      await own.drop();
    }
  });
});

describe('metrics', () => {
  it('GET /metrics is Prometheus text with the HTTP and WebSocket series', async () => {
    await h.call({ method: 'GET', url: '/healthz' });
    await h.call({ method: 'GET', url: '/v1/nowhere' });
    const url = await h.listen();
    const s = await TestSocket.connect(url, app, 'metric-user');
    try {
      expect((await s.request('ping')).ok).toBe(true);
      s.sendRaw('garbage');
      await s.waitFor((f) => f.type === 'reply' && f.ok === false);

      const r = await h.app.inject({ method: 'GET', url: '/metrics' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      const text = r.body;
      for (const name of [
        'parley_http_requests_total',
        'parley_http_request_duration_seconds',
        'parley_ws_open_sockets',
        'parley_ws_frames_in_total',
        'parley_ws_frames_out_total',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      // Every non-comment line is `name{labels} value`.
      for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
        expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfa]+$/);
      }
      const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
      expect(
        value(/^parley_http_requests_total\{[^}]*method="GET"[^}]*route="\/healthz"[^}]*status="200"[^}]*\} (\d+)/m),
      ).toBeGreaterThanOrEqual(1);
      expect(value(/^parley_http_requests_total\{[^}]*status="404"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^parley_http_request_duration_seconds_bucket\{/m);
      expect(value(/^parley_ws_open_sockets(?:\{[^}]*\})? (\d+)/m)).toBe(1);
      expect(value(/^parley_ws_frames_in_total\{[^}]*type="ping"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
      expect(value(/^parley_ws_frames_in_total\{[^}]*type="invalid"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
      // hello and two replies at least.
      expect(value(/^parley_ws_frames_out_total(?:\{[^}]*\})? (\d+)/m)).toBeGreaterThanOrEqual(3);
    } finally {
      s.close();
    }
    await s.waitClose();
    // The gauge goes back down when the socket closes.
    await expect
      .poll(async () => /^parley_ws_open_sockets(?:\{[^}]*\})? (\d+)/m.exec((await h.app.inject('/metrics')).body)?.[1])
      .toBe('0');
  });
});

describe('request ids', () => {
  it('generates an x-request-id, keeps a given one, and replaces a malformed one', async () => {
    const fresh = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const other = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(other.headers['x-request-id']).not.toBe(fresh.headers['x-request-id']);

    const given = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers['x-request-id']).toBe('trace-abc.123');

    // Echoed on errors too.
    const err = await h.app.inject({ method: 'GET', url: '/v1/users', headers: { 'x-request-id': 'err-req-1' } });
    expect(err.statusCode).toBe(401);
    expect(err.headers['x-request-id']).toBe('err-req-1');

    for (const bad of ['has space', 'x'.repeat(200), 'inject\r\nnope', '<script>']) {
      const r = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('API documents', () => {
  it('GET /v1/openapi.json is an OpenAPI 3 document listing the API.md paths', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    const doc = JSON.parse(r.body);
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });

    const want: Record<string, string[]> = {
      '/v1/users': ['get', 'post'],
      '/v1/channels': ['post'],
      '/v1/channels/query': ['post'],
      '/v1/channels/{cid}': ['get'],
      '/v1/channels/{cid}/members': ['post'],
      '/v1/channels/{cid}/messages': ['get', 'post'],
      '/v1/messages/{id}': ['patch', 'delete'],
      '/v1/messages/{id}/reactions': ['post'],
      '/v1/messages/{id}/reactions/{type}': ['delete'],
      '/v1/messages/{id}/replies': ['get'],
      '/v1/channels/{cid}/read': ['post'],
      '/v1/channels/{cid}/events': ['get'],
      '/v1/admin/apps': ['post'],
    };
    for (const [path, methods] of Object.entries(want)) {
      expect(doc.paths, path).toHaveProperty([path]);
      for (const m of methods) expect(doc.paths[path], `${m} ${path}`).toHaveProperty(m);
    }
    // Operational routes stay out of the API document.
    for (const hidden of ['/healthz', '/readyz', '/metrics', '/v1/openapi.json'])
      expect(doc.paths).not.toHaveProperty([hidden]);

    // Structurally valid: every path template parameter is declared, every operation answers
    // something, and every $ref resolves inside the document.
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    for (const ref of refs) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<any>((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect(target, ref).toBeDefined();
    }
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries<any>(ops)) {
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path');
        for (const n of names) {
          expect(
            declared.some((p: any) => p.name === n && p.required === true),
            `${method} ${path} declares {${n}}`,
          ).toBe(true);
        }
      }
    }
    expect(doc.components?.securitySchemes).toMatchObject({
      apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
  });

  it('GET /docs/api/ serves the API docs page', async () => {
    let r = await h.app.inject({ method: 'GET', url: '/docs/api/' });
    if (r.statusCode >= 300 && r.statusCode < 400 && r.headers.location) {
      r = await h.app.inject({
        method: 'GET',
        url: new URL(String(r.headers.location), 'http://x/docs/api/').pathname,
      });
    }
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body).toMatch(/swagger/i);
    const spec = await h.app.inject({ method: 'GET', url: '/docs/api/json' });
    expect(spec.statusCode).toBe(200);
    expect(JSON.parse(spec.body).openapi).toMatch(/^3\./);
  });
});
