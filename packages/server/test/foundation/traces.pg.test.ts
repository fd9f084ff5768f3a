/**
 * Traces (platform/tracing.ts): a send over REST and one over a socket frame are each one trace —
 * request, action, the batch with its statements, publish — exported over OTLP/HTTP to a
 * collector this test runs on loopback (a plain HTTP server reading the exporter's JSON); the
 * before-send hook and the webhook delivery carry a `traceparent` of the same trace.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { flushTracing, stopTracing } from '../../src/platform/tracing.js';
import { eventually, type Harness, startHarness, type TestApp } from '../harness.js';
import { appWithWebhook, type Received, type Receiver, startReceiver } from '../hooks/helpers.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** A collector: every span of every OTLP/HTTP JSON export it is sent. */
async function startCollector() {
  const spans: OtlpSpan[] = [];
  const resources: Record<string, unknown>[] = [];
  const contentTypes: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        resources.push(Object.fromEntries(attrs(rs.resource.attributes as OtlpSpan['attributes'])));
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return {
    url,
    spans,
    resources,
    contentTypes,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const attrs = (a: OtlpSpan['attributes']) =>
  (a ?? []).map(({ key, value }) => [key, Object.values(value)[0]] as [string, unknown]);
const attr = (s: OtlpSpan, key: string) => Object.fromEntries(attrs(s.attributes))[key];

let collector: Awaited<ReturnType<typeof startCollector>>;
let rcv: Receiver;
let h: Harness;
let app: TestApp;

beforeAll(async () => {
  collector = await startCollector();
  rcv = await startReceiver();
  h = await startHarness({
    tracing: { url: collector.url, serviceName: 'parley-test' },
    nodeId: 'traced-node',
    outboundAllow: outboundAllowFromEnv({
      PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host,
      PARLEY_OUTBOUND_ALLOW_BEFORE_SEND: rcv.host,
    }),
  });
  ({ app } = await appWithWebhook(h, `${rcv.url}/hook`, ['message.new']));
  rcv.answer = (r) =>
    r.path === '/before-send' ? { status: 200, body: JSON.stringify({ action: 'allow' }) } : { status: 200 };
  const set = await h.call({
    method: 'PUT',
    url: '/v1/hooks/before-send',
    headers: await app.server(),
    payload: { url: `${rcv.url}/before-send`, timeout_ms: 5000, fail_open: false },
  });
  expect(set.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await h?.close();
  // The exporter is the process's: off again for the files this worker runs next.
  await stopTracing();
  await rcv?.close();
  await collector?.close();
});

/** The trace with a delivery of `messageId`, once its webhook was received and its spans exported. */
async function traceOf(messageId: string) {
  const hook = (await eventually(() =>
    rcv.on('/hook').find((g) => g.json?.event?.message?.id === messageId),
  )) as Received;
  const beforeSend = rcv.on('/before-send').find((g) => g.json?.message?.id === messageId);
  const [, traceId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(hook.headers.traceparent)) ?? [];
  expect(traceId, `traceparent: ${hook.headers.traceparent}`).toBeDefined();
  // The delivery's span ends once the receiver's answer is read, just after it was received.
  const spans = (await eventually(async () => {
    await flushTracing();
    const inTrace = collector.spans.filter((s) => s.traceId === traceId);
    return inTrace.some((s) => s.name === 'webhook.deliver') ? inTrace : null;
  })) as OtlpSpan[];
  const byName = (name: string) => spans.filter((s) => s.name === name);
  const one = (name: string) => {
    const found = byName(name);
    expect(
      found.map((s) => s.name),
      `spans named ${name} in ${spans.map((s) => s.name).join(', ')}`,
    ).toHaveLength(1);
    return found[0] as OtlpSpan;
  };
  const parentOf = (s: OtlpSpan) => spans.find((p) => p.spanId === s.parentSpanId);
  return { traceId, spans, byName, one, parentOf, hook, beforeSend };
}

describe('traces', { timeout: 60_000 }, () => {
  it('a REST send is one trace: request, action, hook call, batch with its statements, publish, delivery', async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels/group:one/messages',
      headers: await app.user('alice'),
      payload: { text: 'traced over REST' },
    });
    expect(r.status).toBe(200);
    const t = await traceOf(r.body.message.id);
    const request = t.one('POST /v1/channels/:cid/messages');
    expect(request.parentSpanId ?? '').toBe('');
    expect(request.kind).toBe(2); // SERVER
    expect(attr(request, 'http.response.status_code')).toBe(200);
    const action = t.one('message.send');
    expect(action.parentSpanId).toBe(request.spanId);
    const hookCall = t.one('hook.before_send');
    expect(hookCall.parentSpanId).toBe(action.spanId);
    // The before-send call carried this trace, and its own span as the parent.
    expect(t.beforeSend?.headers.traceparent).toBe(`00-${t.traceId}-${hookCall.spanId}-01`);
    const batch = t.one('message.send.batch');
    expect(batch.parentSpanId).toBe(action.spanId);
    // The batch's statement (the group commit's write, a hot statement) is its child.
    const statements = t.spans.filter((s) => s.name.startsWith('db '));
    expect(statements.map((s) => s.name)).toContain('db parley_send_batch');
    const write = statements.find((s) => s.name === 'db parley_send_batch') as OtlpSpan;
    expect(write.parentSpanId).toBe(batch.spanId);
    expect(attr(write, 'db.system.name')).toBe('postgresql');
    expect(String(attr(write, 'db.query.text'))).toMatch(/^with input as materialized/);
    const publish = t.one('publish');
    expect(publish.parentSpanId).toBe(action.spanId);
    expect(attr(publish, 'parley.seq')).toBe(r.body.message.seq);
    const deliver = t.one('webhook.deliver');
    expect(deliver.parentSpanId).toBe(publish.spanId);
    expect(t.hook.headers.traceparent).toBe(`00-${t.traceId}-${deliver.spanId}-01`);
    // Statements the request ran itself (its auth's reads, say) hang under the request.
    for (const s of statements) expect(t.parentOf(s), `parent of ${s.name}`).toBeDefined();
    // Who sent them.
    expect(collector.resources).toContainEqual(
      expect.objectContaining({ 'service.name': 'parley-test', 'service.instance.id': 'traced-node' }),
    );
    expect(collector.contentTypes[0]).toMatch(/^application\/json/);
  });

  it('a caller’s traceparent is continued', async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels/group:one/messages',
      headers: { ...(await app.user('alice')), traceparent: parent },
      payload: { text: 'traced from outside' },
    });
    expect(r.status).toBe(200);
    const t = await traceOf(r.body.message.id);
    expect(t.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(t.one('POST /v1/channels/:cid/messages').parentSpanId).toBe('b7ad6b7169203331');
  });

  it('a socket frame is one trace: frame, action, batch, publish, delivery', async () => {
    const base = await h.listen();
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws?api_key=${app.apiKey}`);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: await app.token('alice') }));
    await eventually(() => frames.some((f) => f.type === 'hello'));
    ws.send(
      JSON.stringify({ type: 'message.send', req_id: 7, cid: 'group:two', message: { text: 'traced over a socket' } }),
    );
    const reply = await eventually(() => frames.find((x) => x.type === 'reply' && x.req_id === 7));
    ws.close();
    expect(reply.ok).toBe(true);
    const t = await traceOf(reply.message.id);
    const frame = t.one('ws message.send');
    expect(frame.parentSpanId ?? '').toBe('');
    const action = t.one('message.send');
    expect(action.parentSpanId).toBe(frame.spanId);
    expect(t.one('message.send.batch').parentSpanId).toBe(action.spanId);
    const publish = t.one('publish');
    expect(publish.parentSpanId).toBe(action.spanId);
    expect(t.one('webhook.deliver').parentSpanId).toBe(publish.spanId);
  });

  it('sends batched together: the batch links to every send it wrote, each send keeps its own publish', async () => {
    const sends = await Promise.all(
      ['a', 'b', 'c'].map(async (x) =>
        h.call({
          method: 'POST',
          url: `/v1/channels/group:${x === 'a' ? 'one' : 'two'}/messages`,
          headers: await app.user(x === 'b' ? 'bob' : 'alice'),
          payload: { text: `together ${x}` },
        }),
      ),
    );
    for (const s of sends) expect(s.status).toBe(200);
    const traces = [];
    for (const s of sends) traces.push(await traceOf(s.body.message.id));
    expect(new Set(traces.map((t) => t.traceId)).size).toBe(3);
    for (const t of traces) {
      const action = t.one('message.send');
      expect(t.one('publish').parentSpanId).toBe(action.spanId);
      // Its batch: in its own trace, or (written with an earlier send's) linked to its action.
      const own = t.byName('message.send.batch');
      if (own.length === 0) {
        const linked = collector.spans.find(
          (s) => s.name === 'message.send.batch' && s.links?.some((l) => l.spanId === action.spanId),
        );
        expect(linked, 'a batch that links to this send').toBeDefined();
        expect(linked?.links?.find((l) => l.spanId === action.spanId)?.traceId).toBe(t.traceId);
      } else expect(own[0]?.parentSpanId).toBe(action.spanId);
    }
  });
});
