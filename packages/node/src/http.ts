/**
 * One REST call with the app's key and a token, retried when retrying is safe.
 *
 * Every write carries an `Idempotency-Key` (one per logical call, the same on each retry), so
 * the server answers a retry of a write that did go through with the first answer instead of
 * doing it twice (docs/protocol/basics.md, "Idempotency keys"). A call is retried on no answer
 * (`NETWORK`, `TIMEOUT`) and on a retryable code (`RATE_LIMITED`, `UNAVAILABLE`, `INTERNAL`,
 * `REQUEST_IN_PROGRESS`, …), up to `retries` times, with jittered exponential backoff that
 * honours the server's `retry_after_ms`.
 */
import { randomUUID } from 'node:crypto';
import { ERRORS, type ErrorCode } from '@parley/protocol';
import { ParleyError } from './errors.js';

export interface HttpOptions {
  baseUrl: string;
  apiKey: string;
  /** Retries after the first attempt, for retryable failures (default 3). */
  retries: number;
  /** Per attempt, in milliseconds (default 15 000). */
  timeoutMs: number;
  /** First backoff in milliseconds, doubled per retry (default 200). */
  backoffMs: number;
  fetch: typeof fetch;
}

/** Query string values; an array repeats the name once per item (`field=a&field=b`). */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined | null>;

export interface CallOptions {
  token: string;
  query?: Query;
  body?: unknown;
  /** A key of the caller's own for this write; default: a new UUID per call. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export class Http {
  constructor(private readonly opts: HttpOptions) {}

  url(path: string, query?: Query): string {
    const u = new URL(path, this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`);
    for (const [k, v] of Object.entries(query ?? {}))
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, item);
      else if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async call<T>(method: string, path: string, o: CallOptions): Promise<T> {
    const headers: Record<string, string> = {
      'x-api-key': this.opts.apiKey,
      authorization: `Bearer ${o.token}`,
    };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (WRITES.has(method)) headers['idempotency-key'] = o.idempotencyKey ?? randomUUID();
    const url = this.url(path.replace(/^\//, ''), o.query);
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, url, headers, body, o.signal);
      } catch (e) {
        const err = e as ParleyError;
        if (!(err instanceof ParleyError) || !err.retryable || attempt >= this.opts.retries || o.signal?.aborted)
          throw err;
        const after = (err.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
        const backoff = this.opts.backoffMs * 2 ** attempt * (0.5 + Math.random());
        await sleep(typeof after === 'number' ? Math.max(after, backoff) : backoff, o.signal);
      }
    }
  }

  private async once<T>(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await this.opts.fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      if (timeout.aborted)
        throw new ParleyError('TIMEOUT', `${method} ${url}: no answer within ${this.opts.timeoutMs} ms`, { cause });
      throw new ParleyError('NETWORK', `${method} ${url}: ${(cause as Error).message}`, { cause });
    }
    const requestId = res.headers.get('x-request-id');
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const code = (
      e?.code && e.code in ERRORS ? e.code : res.status >= 500 ? 'INTERNAL' : 'VALIDATION_ERROR'
    ) as ErrorCode;
    throw new ParleyError(code, e?.message ?? `HTTP ${res.status}`, {
      status: res.status,
      details: e?.details,
      requestId,
    });
  }
}
