/**
 * Traces with OpenTelemetry, exported over OTLP/HTTP (JSON) when configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, docs/deploy.md). Off,
 * none of OpenTelemetry's modules is loaded — they are imported by `startTracing`, once per
 * process — and every helper here is one null check: a start and a send cost what they did.
 *
 * One trace holds a request (HTTP, or a socket frame), its action, the database statements it
 * ran, its publish after commit, and the webhook deliveries and before-send call it caused,
 * which get the trace's `traceparent` header.
 *
 * Plain sends are group-committed (features/messages/send-batch.ts): one batch writes the sends
 * of many requests with one statement. The batch's span is a child of its first send's action
 * (so a lone send, the common case below saturation, is one tree) and carries a span link to
 * every other send's action; its statements are its children. Each send still gets a `publish`
 * span of its own, parented to its own action, and its webhook deliveries continue its trace.
 *
 * A delivery is sent later by the pump (features/webhooks/pump.ts), from the delivery's row:
 * the trace of the event it carries is remembered in memory on the node that published it
 * (`rememberEvent`, the latest `MAX_REMEMBERED` events). A delivery sent by another node, or
 * after a restart, or a retry after those are forgotten, starts a trace of its own.
 *
 * OpenTelemetry's API is global (one tracer provider per process): servers built in one process
 * share the tracer of the first that started it.
 */
import type { Attributes, Context, Link, Span, SpanKind, Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

import type { TracingConfig } from './config.js';

type Api = typeof import('@opentelemetry/api');

interface On {
  api: Api;
  tracer: Tracer;
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
}

let on: On | null = null;
let starting: Promise<void> | null = null;
/** drizzle's statements are wrapped once per process (the wrapper does nothing while off). */
let statementsTraced = false;

/** An opaque trace context (OpenTelemetry's `Context`), captured where work is handed on. */
export type TraceContext = Context;

/**
 * Load OpenTelemetry and start exporting (once per process; later calls reuse the first start).
 * `service.instance.id` is the node id, `service.version` Parley's version.
 */
export function startTracing(cfg: TracingConfig, nodeId: string, version: string): Promise<void> {
  starting ??= (async () => {
    const [api, node, otlp, resources, pgCore] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('drizzle-orm/pg-core'),
    ]);
    const provider = new node.NodeTracerProvider({
      resource: resources.resourceFromAttributes({
        'service.name': cfg.serviceName,
        'service.version': version,
        'service.instance.id': nodeId,
      }),
      spanProcessors: [new node.BatchSpanProcessor(new otlp.OTLPTraceExporter({ url: cfg.url }))],
    });
    // The AsyncLocalStorage context manager and the W3C trace-context propagator.
    provider.register();
    on = { api, tracer: provider.getTracer('parley', version), provider };
    if (!statementsTraced) traceStatements(pgCore.PgPreparedQuery.prototype as unknown as QueryProto);
    statementsTraced = true;
  })();
  return starting;
}

/** Whether spans are recorded (tracing configured and started). */
export const tracingOn = (): boolean => on !== null;

/** Send every finished span now (tests; shutdown). */
export async function flushTracing(): Promise<void> {
  await on?.provider.forceFlush();
}

/** The context now, to hand on with work another context will run (a send to its batch). */
export function activeTrace(): TraceContext | undefined {
  return on ? on.api.context.active() : undefined;
}

const KIND = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const;

interface SpanOptions {
  kind?: keyof typeof KIND;
  attributes?: Attributes;
  /** Parent (default: the active context; null: none, a new trace). */
  parent?: TraceContext | null | undefined;
  /** Other contexts this span serves (a batch's other sends). */
  links?: readonly (TraceContext | undefined)[];
}

function open(o: On, name: string, opts: SpanOptions): { span: Span; ctx: Context } {
  const parent = opts.parent === null ? o.api.ROOT_CONTEXT : (opts.parent ?? o.api.context.active());
  const links: Link[] = [];
  for (const l of opts.links ?? []) {
    const sc = l && o.api.trace.getSpanContext(l);
    if (sc) links.push({ context: sc });
  }
  const span = o.tracer.startSpan(
    name,
    {
      kind: KIND[opts.kind ?? 'internal'] as SpanKind,
      ...(opts.attributes ? { attributes: opts.attributes } : {}),
      links,
    },
    parent,
  );
  return { span, ctx: o.api.trace.setSpan(parent, span) };
}

function fail(o: On, span: Span, err: unknown): void {
  span.recordException(err as Error);
  span.setStatus({ code: o.api.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
}

/**
 * Run `fn` in a span named `name` (off: just `fn()`). A throw marks the span failed and is
 * rethrown.
 */
export function inSpan<T>(name: string, fn: () => Promise<T>, opts: SpanOptions = {}): Promise<T> {
  const o = on;
  if (!o) return fn();
  const { span, ctx } = open(o, name, opts);
  return o.api.context.with(ctx, async () => {
    try {
      return await fn();
    } catch (err) {
      fail(o, span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span to end by hand, with its context (null when off). */
export function startSpan(name: string, opts: SpanOptions = {}): { span: Span; ctx: TraceContext } | null {
  return on ? open(on, name, opts) : null;
}

/**
 * Run `fn` in a client span with the W3C `traceparent` (and `tracestate`) of that span in
 * `headers`: the receiver's work joins the trace. Off: `fn(headers)`.
 */
export function outbound<T>(
  name: string,
  headers: Record<string, string>,
  fn: (headers: Record<string, string>) => Promise<T>,
  opts: SpanOptions & { failed?: (r: T) => string | null } = {},
): Promise<T> {
  const o = on;
  if (!o) return fn(headers);
  const { span, ctx } = open(o, name, { ...opts, kind: 'client' });
  const carrier = { ...headers };
  o.api.propagation.inject(ctx, carrier);
  return o.api.context.with(ctx, async () => {
    try {
      const r = await fn(carrier);
      const why = opts.failed?.(r);
      if (why) span.setStatus({ code: o.api.SpanStatusCode.ERROR, message: why });
      return r;
    } catch (err) {
      fail(o, span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Run `fn` outside any trace: work it starts that outlives the caller (a webhook lane's sender
 * woken after a commit) must not hang its statements under a span that has ended.
 */
export function untraced<T>(fn: () => T): T {
  return on ? on.api.context.with(on.api.ROOT_CONTEXT, fn) : fn();
}

// What published each event: `appId cid:seq` → the publish's context (see the header comment).
const MAX_REMEMBERED = 10_000;
const remembered = new Map<string, Context>();

/** Remember that the event `cid:seq` of `appId` was published in `ctx` (first one wins). */
export function rememberEvent(appId: string, eventId: string, ctx: TraceContext): void {
  const key = `${appId} ${eventId}`;
  if (remembered.has(key)) return;
  if (remembered.size >= MAX_REMEMBERED) {
    const oldest = remembered.keys().next().value;
    if (oldest !== undefined) remembered.delete(oldest);
  }
  remembered.set(key, ctx);
}

/** The context an event was published in, if this node remembers it. */
export function eventTrace(appId: string, eventId: string): TraceContext | undefined {
  return remembered.get(`${appId} ${eventId}`);
}

/**
 * A span per HTTP request, continuing the caller's `traceparent` when it sent one: named
 * `METHOD /route/pattern`, ended when the answer is sent. Registered only when tracing is on.
 */
export function registerHttpTracing(app: FastifyInstance): void {
  const o = on;
  if (!o) return;
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', (req, _reply, done) => {
    const parent = o.api.propagation.extract(o.api.ROOT_CONTEXT, req.headers);
    const route = req.routeOptions.url ?? 'unmatched';
    const { span, ctx } = open(o, `${req.method} ${route}`, {
      kind: 'server',
      parent,
      attributes: { 'http.request.method': req.method, 'http.route': route, 'parley.request_id': req.id },
    });
    spans.set(req, span);
    o.api.context.with(ctx, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: o.api.SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}

/** Shut the exporter down (sends what is left). */
export async function stopTracing(): Promise<void> {
  const o = on;
  if (!o) return;
  on = null;
  starting = null;
  await o.provider.shutdown();
  // The globals `register` set, so a later start in this process can set them again.
  o.api.trace.disable();
  o.api.context.disable();
  o.api.propagation.disable();
}

interface QueryProto {
  queryWithCache(queryString: string, params: unknown[], query: () => Promise<unknown>): Promise<unknown>;
}

/**
 * A span for every statement drizzle runs (inside transactions too: each goes through
 * `PgPreparedQuery.queryWithCache` with its SQL), when a traced request or job is active; the
 * hot statements get theirs in `Database.prepared` (db/index.ts, `statementSpan`).
 */
function traceStatements(proto: QueryProto): void {
  const original = proto.queryWithCache;
  proto.queryWithCache = function (this: unknown, queryString, params, query) {
    return statementSpan(queryString, () => original.call(this, queryString, params, query));
  };
}

/** Run a statement in a `db` span when a traced context is active (else just run it). */
export function statementSpan<T>(text: string, run: () => Promise<T>, name?: string): Promise<T> {
  const o = on;
  if (!o?.api.trace.getSpan(o.api.context.active())) return run();
  const first = text.trimStart().split(/\s/, 1)[0]?.toLowerCase() ?? 'sql';
  return inSpan(`db ${name ?? first}`, run, {
    kind: 'client',
    attributes: { 'db.system.name': 'postgresql', 'db.query.text': text.length > 2000 ? text.slice(0, 2000) : text },
  });
}
