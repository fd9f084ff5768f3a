/**
 * A data folder's PGlite on a worker thread of its own (pglite-worker.ts), behind the part of
 * PGlite's interface the server uses: `query`, `exec`, `transaction`, `close` and a copy of the
 * folder for backups.
 *
 * Why: PGlite runs PostgreSQL as WebAssembly on the thread that calls it. On the main thread
 * its boot (about 0.4 s) waited behind the server's module loading at a first start, and every
 * statement since took the loop that serves clients. On its own thread the boot runs beside the
 * loading, and statements beside the serving. A statement's round trip between the threads
 * costs tens of microseconds.
 *
 * Order and transactions are PGlite's: the thread runs messages in the order sent, and PGlite
 * queues a statement sent outside a transaction until the open one ends, as in one thread. A
 * per-query `parsers` option is honoured here: the thread returns those types' text and the
 * parser runs on this side (drizzle's are functions, which do not cross threads).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';

/** What the thread boots: `copyFrom`, the template's data folder, is copied into `dataDir` first (a first start). */
export interface PgliteBoot {
  dataDir: string;
  /** PostgreSQL's settings beside PGlite's own start parameters (`-c name=value` pairs). */
  params: string[];
  copyFrom?: string | undefined;
}

/** What the main thread asks. Every message has an `id` its answer carries back. */
export type ToPglite =
  | {
      id: number;
      op: 'query';
      text: string;
      params?: unknown[];
      rowMode?: 'array' | 'object';
      /** Types whose text comes back unparsed. */
      raw?: number[];
      tx?: number;
    }
  | { id: number; op: 'exec'; text: string; rowMode?: 'array' | 'object'; tx?: number }
  /** Not answered: a transaction that cannot begin fails its statements and its end. */
  | { id: number; op: 'begin'; tx: number }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'dump' }
  | { id: number; op: 'close' };

/** An error as it crosses: PGlite's fields (code, detail, constraint…) in `props`. */
export interface WireError {
  message: string;
  name: string;
  stack?: string | undefined;
  props: Record<string, unknown>;
}

export type FromPglite = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: WireError };

type Parser = (value: string, typeId: number) => unknown;
type Options = { rowMode?: 'array' | 'object'; parsers?: Record<number, Parser> };

/** What runs statements: the database, or one of its transactions. */
export interface PgliteRunner {
  query<T>(text: string, params?: unknown[], options?: Options): Promise<Results<T>>;
  exec(text: string, options?: Options): Promise<Results[]>;
}

const ENTRY = new URL(`./pglite-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/** Run from the TypeScript sources, the thread registers the loader itself (see background.ts). */
const BOOT = ENTRY.pathname.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY.href)}); })`
  : null;

/** A question before its `id` is given. */
type Question = ToPglite extends infer U ? (U extends ToPglite ? Omit<U, 'id'> : never) : never;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class PgliteThread implements PgliteRunner {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextTx = 0;
  /** Why the thread is gone, once it is. */
  private gone: Error | null = null;
  private shut = false;

  /**
   * Starts the thread, which boots PostgreSQL in `boot.dataDir` at once. Not waited for:
   * statements asked meanwhile run once it is up, or fail with its error.
   */
  constructor(boot: PgliteBoot) {
    const options = { name: 'parley-pglite', workerData: boot };
    this.worker = BOOT ? new Worker(BOOT, { ...options, eval: true }) : new Worker(ENTRY, options);
    // Only a question waiting for its answer keeps the process alive (see `ask`).
    this.worker.unref();
    this.worker.on('message', (m: FromPglite) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settled(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWire(m.error));
    });
    this.worker.on('error', (e) => this.stop(e));
    this.worker.on('exit', (code) =>
      this.stop(new Error(`the embedded database's thread ended (code ${code}); restart Parley`)),
    );
  }

  get closed(): boolean {
    return this.shut || this.gone !== null;
  }

  query<T>(text: string, params?: unknown[], options?: Options, tx?: number): Promise<Results<T>> {
    const parsers = options?.parsers;
    const raw = parsers ? Object.keys(parsers).map(Number) : undefined;
    const asked = this.ask({
      op: 'query',
      text,
      ...(params?.length ? { params } : {}),
      ...(options?.rowMode ? { rowMode: options.rowMode } : {}),
      ...(raw?.length ? { raw } : {}),
      ...(tx !== undefined ? { tx } : {}),
    }) as Promise<Results<T>>;
    return parsers && raw?.length ? asked.then((r) => parse(r, parsers)) : asked;
  }

  exec(text: string, options?: Options, tx?: number): Promise<Results[]> {
    return this.ask({
      op: 'exec',
      text,
      ...(options?.rowMode ? { rowMode: options.rowMode } : {}),
      ...(tx !== undefined ? { tx } : {}),
    }) as Promise<Results[]>;
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws (its
   * error rethrown). Statements sent outside it meanwhile wait for its end.
   */
  async transaction<T>(fn: (tx: PgliteRunner & { readonly closed: boolean }) => Promise<T>): Promise<T> {
    // Begun without a round trip of its own: its first statement follows it on the thread.
    const id = ++this.nextTx;
    this.post({ op: 'begin', tx: id });
    let ended = false;
    const tx = {
      query: <R>(text: string, params?: unknown[], options?: Options) => this.query<R>(text, params, options, id),
      exec: (text: string, options?: Options) => this.exec(text, options, id),
      get closed() {
        return ended;
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (e) {
      ended = true;
      await this.ask({ op: 'end', tx: id, commit: false }).catch(() => {});
      throw e;
    }
    ended = true;
    await this.ask({ op: 'end', tx: id, commit: true });
    return result;
  }

  /**
   * The data folder's files, taken after a checkpoint and between transactions (backups), as
   * an uncompressed tarball.
   */
  async dumpDataDir(): Promise<Blob> {
    return new Blob([(await this.ask({ op: 'dump' })) as ArrayBuffer]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.ask({ op: 'close' });
    this.shut = true;
    await this.worker.terminate();
  }

  /** End the thread at once, as a crash in it would (tests). */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  private ask(m: Question): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.shut) return Promise.reject(new Error('the embedded database is closed'));
    const id = ++this.nextId;
    // A question in flight holds the process open, as a pending statement would in one thread.
    if (this.pending.size === 0) this.worker.ref();
    const answer = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ ...m, id });
    return answer;
  }

  /** A message that needs no answer. */
  private post(m: Question): void {
    if (!this.gone && !this.shut) this.worker.postMessage({ ...m, id: 0 });
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  /** The thread is gone: every question waiting fails, and every later one. */
  private stop(e: Error): void {
    this.gone ??= e;
    for (const [id, p] of this.pending) {
      this.settled(id);
      p.reject(this.gone);
    }
  }
}

function fromWire(w: WireError): Error {
  const e = Object.assign(new Error(w.message), w.props);
  e.name = w.name;
  return e;
}

/** Apply the caller's parsers to the fields of their types (whose text the thread kept). */
function parse<T>(r: Results<T>, parsers: Record<number, Parser>): Results<T> {
  const at: [key: string | number, parser: Parser, typeId: number][] = [];
  r.fields.forEach((f, i) => {
    const p = parsers[f.dataTypeID];
    if (p) at.push([i, p, f.dataTypeID]);
  });
  if (at.length === 0 || r.rows.length === 0) return r;
  const byName = !Array.isArray(r.rows[0]);
  if (byName) for (const a of at) a[0] = r.fields[a[0] as number]?.name ?? '';
  for (const row of r.rows as unknown as Record<string | number, unknown>[]) {
    for (const [k, p, t] of at) {
      const v = row[k];
      if (typeof v === 'string') row[k] = p(v, t);
    }
  }
  return r;
}
