/**
 * Webhook requests on pooled, kept-alive connections: an undici `Pool` per endpoint and target,
 * so one endpoint takes many deliveries at once (one per lane in flight), each on a connection
 * that is already open. Endpoints never share a pool, even when they point at the same host: a
 * slow endpoint fills only its own pool's connections, and another endpoint's (another app's)
 * requests on that host do not queue behind them.
 *
 * - Every target is checked by the link previews' SSRF rules (`checkTarget`: public addresses
 *   only, unless PARLEY_OUTBOUND_ALLOW lets a private one through), and a pool connects only to
 *   the address that was checked: its origin *is* that address, the `Host` header and TLS
 *   server name carry the endpoint's name. A name's check is kept for `RESOLVE_TTL_MS`, then
 *   done again; a name that now resolves elsewhere gets the pool of its new address.
 * - No redirects (a 3xx is a failed attempt), the answer read up to 64 KiB and thrown away
 *   (past that the connection is dropped), the whole attempt bounded by the webhook timeout.
 * - Requests go through undici's `dispatch` with a handler that collects the answer
 *   (`exchange`), not `request`: the caller's CPU per call on a kept-alive connection went from
 *   0.106 to 0.061 ms (bench/micro-hook.ts, 4 in flight, three rounds each way).
 * - A connection the receiver closed while it idled, found dead as the request went out, is
 *   tried once more on a new one: the receiver never had the request.
 * - Pools idle for `IDLE_POOL_MS` are closed; at most `MAX_POOLS` are kept.
 * - The before-send hook calls through one too (settings.ts), reading the answer (`read`) under
 *   its own time limit (`timeoutMs`), with no cap on a pool's connections.
 */
import { type Dispatcher, Pool } from 'undici';
import type { AllowList } from '../../platform/outbound.js';
import { checkTarget, FetchRefused, type Lookup } from '../links/index.js';

const RESOLVE_TTL_MS = 30_000;
const IDLE_POOL_MS = 5 * 60_000;
const MAX_POOLS = 1_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** The outcome of one attempt: `error` is null when the receiver answered 2xx. */
export interface Attempt {
  status: number | null;
  error: string | null;
  latencyMs: number;
  /** The answer's body, when the call asked to read it (`read`); else undefined. */
  body?: Buffer;
}

/** Per call: a shorter time limit than the sender's, and whether to keep the answer (up to `read` bytes). */
export interface PostOptions {
  timeoutMs?: number;
  read?: number;
}

export interface SenderOptions {
  /** Private targets webhooks may reach (the operator's allow-list). */
  allow: AllowList;
  /** The allow-list's setting, named in the error of an attempt the policy refused. */
  setting?: string;
  timeoutMs: number;
  /** Connections one endpoint target may have open at once (null: as many as requests in flight). */
  connections: number | null;
  lookup?: Lookup;
}

interface Target {
  /** Where the pool connects: the checked address. */
  origin: string;
  /** Pool key: origin plus the name it serves (TLS and Host). */
  key: string;
  servername: string | undefined;
}

export class WebhookSender {
  private readonly pools = new Map<string, { pool: Pool; used: number }>();
  private readonly targets = new Map<string, { at: number; target: Target }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: SenderOptions) {
    this.sweeper = setInterval(() => this.closeIdle(), 60_000);
    this.sweeper.unref();
  }

  /** POST `body` to `url` with `headers`, on `endpoint`'s own pool; never throws. */
  async post(
    endpoint: string,
    url: string,
    headers: Record<string, string>,
    body: string,
    opts: PostOptions = {},
  ): Promise<Attempt> {
    const started = performance.now();
    const done = (status: number | null, error: string | null, answer?: Buffer): Attempt => ({
      status,
      error,
      latencyMs: Math.round(performance.now() - started),
      ...(answer ? { body: answer } : {}),
    });
    let u: URL;
    let target: Target;
    try {
      u = new URL(url);
      target = await this.target(u);
    } catch (err) {
      return done(null, describe(err, this.opts.setting));
    }
    const pool = this.pool(endpoint, target);
    const options: Dispatcher.DispatchOptions = {
      origin: target.origin,
      path: `${u.pathname}${u.search}`,
      method: 'POST',
      headers: { ...headers, host: u.host, 'content-length': String(Buffer.byteLength(body)) },
      body,
    };
    const read = opts.read;
    // One time limit for the attempt, the retry on a new connection included.
    const until = started + (opts.timeoutMs ?? this.opts.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      const r = await exchange(pool, options, until - performance.now(), read ?? MAX_ANSWER_BYTES, read !== undefined);
      if ('error' in r) {
        // A kept-alive connection the receiver had closed: once more, on a new one.
        if (attempt === 0 && isDeadSocket(r.error)) continue;
        return done(null, r.error === TIMEOUT ? 'timeout: The delivery took too long' : describe(r.error));
      }
      const ok = r.status >= 200 && r.status < 300;
      if (read === undefined) return done(r.status, ok ? null : `HTTP ${r.status}`);
      if (r.answer === null) return done(r.status, `too-large: The answer is larger than ${read} bytes`);
      return done(r.status, ok ? null : `HTTP ${r.status}`, r.answer);
    }
  }

  private async target(u: URL): Promise<Target> {
    const hit = this.targets.get(u.href);
    if (hit && Date.now() - hit.at < RESOLVE_TTL_MS) return hit.target;
    const checked = await checkTarget(u, this.opts.allow, this.opts.lookup ? { lookup: this.opts.lookup } : {});
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    const host = checked.family === 6 ? `[${checked.address}]` : checked.address;
    const origin = `${u.protocol}//${host}:${port}`;
    const name = u.hostname.replace(/^\[|\]$/g, '');
    const servername = u.protocol === 'https:' && !/^[\d.]+$|:/.test(name) ? name : undefined;
    const target = { origin, key: `${origin}/${name}`, servername };
    if (this.targets.size >= MAX_POOLS * 4) this.targets.clear();
    this.targets.set(u.href, { at: Date.now(), target });
    return target;
  }

  private pool(endpoint: string, t: Target): Pool {
    const key = `${endpoint} ${t.key}`;
    let p = this.pools.get(key);
    if (!p) {
      if (this.pools.size >= MAX_POOLS) this.closeOldest();
      p = {
        pool: new Pool(t.origin, {
          connections: this.opts.connections,
          pipelining: 1,
          connect: { timeout: this.opts.timeoutMs, ...(t.servername ? { servername: t.servername } : {}) },
        }),
        used: Date.now(),
      };
      this.pools.set(key, p);
    }
    p.used = Date.now();
    return p.pool;
  }

  private closeOldest(): void {
    let oldest: string | undefined;
    let at = Number.POSITIVE_INFINITY;
    for (const [k, p] of this.pools)
      if (p.used < at) {
        at = p.used;
        oldest = k;
      }
    if (oldest === undefined) return;
    void this.pools
      .get(oldest)
      ?.pool.close()
      .catch(() => {});
    this.pools.delete(oldest);
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [k, p] of this.pools)
      if (now - p.used > IDLE_POOL_MS) {
        void p.pool.close().catch(() => {});
        this.pools.delete(k);
      }
  }

  /** Close every pool (their open connections end). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.pool.destroy()));
  }
}

const EMPTY = Buffer.alloc(0);

/** What a request that ran out of time settles with. */
const TIMEOUT = new Error('timeout');

/** What one request ended with: the status and the answer (null when it was over the cap), or the error. */
type Exchanged = { status: number; answer: Buffer | null } | { error: unknown };

/**
 * One request through undici's `dispatch`, its answer collected by a handler: no body stream,
 * `AbortSignal` or async iterator per call, which `request` builds (about two fifths of the
 * caller's CPU per call on a kept-alive connection, bench/micro-hook.ts). Settles by
 * `timeoutMs` whatever the request is doing (waiting for a connection included): the timer
 * aborts it. An answer over `max` bytes ends the request (its connection is dropped, not
 * reused) and comes back as `answer: null`; an answer not kept (`keep` false) is counted, not
 * stored, and comes back empty.
 */
function exchange(
  pool: Pool,
  options: Dispatcher.DispatchOptions,
  timeoutMs: number,
  max: number,
  keep: boolean,
): Promise<Exchanged> {
  return new Promise((resolve) => {
    let status = 0;
    let size = 0;
    const chunks: Buffer[] | null = keep ? [] : null;
    let abort: ((err: Error) => void) | null = null;
    let settled = false;
    const settle = (r: Exchanged) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(
      () => {
        settle({ error: TIMEOUT });
        abort?.(new Error('timeout'));
      },
      Math.max(0, timeoutMs),
    );
    timer.unref();
    const handler: Dispatcher.DispatchHandlers = {
      onConnect(a) {
        // Timed out while waiting for a connection: never sent.
        if (settled) a(new Error('timeout'));
        else abort = a;
      },
      onHeaders(code) {
        // 1xx answers are not the answer.
        if (code >= 200) status = code;
        return true;
      },
      onData(chunk) {
        size += chunk.length;
        if (size > max) {
          settle({ status, answer: null });
          abort?.(new Error('too large'));
          return false;
        }
        chunks?.push(chunk);
        return true;
      },
      onComplete() {
        settle({
          status,
          answer: chunks === null ? EMPTY : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
        });
      },
      onError(error) {
        settle({ error });
      },
    };
    try {
      pool.dispatch(options, handler);
    } catch (error) {
      settle({ error });
    }
  });
}

function isDeadSocket(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

function describe(err: unknown, setting?: string): string {
  if (err instanceof FetchRefused)
    return setting && (err.reason === 'port' || err.reason === 'blocked-address')
      ? `${err.reason}: ${err.message} (not allowed by ${setting} or PARLEY_OUTBOUND_ALLOW)`
      : `${err.reason}: ${err.message}`;
  const e = err as { message?: string; code?: string };
  return e.code && e.message && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : String(e.message ?? err);
}
