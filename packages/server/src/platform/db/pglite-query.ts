/**
 * A statement with parameters on PGlite in one trip into PostgreSQL, as node-postgres sends it.
 *
 * PGlite's own `query` makes six calls through its wire protocol for each statement: parse,
 * describe the statement (to learn its parameters' types), bind, describe the portal, execute
 * and sync, each a call into the WebAssembly backend with its own output to read.
 * The describe is there to pick a serializer per parameter type. Here the parameters are
 * serialized as node-postgres serializes them (`prepareValue`: text, arrays as array
 * literals, objects as JSON, bytes in binary), which is what the server sends PostgreSQL, so the
 * embedded database is given exactly what a PostgreSQL deployment is; parse, bind, describe,
 * execute and sync then go in one call, and PostgreSQL infers the parameters' types from the
 * statement, as it does for node-postgres.
 *
 * Each statement text is also parsed once: it is prepared under a name of its own the first time
 * (the last `STATEMENTS` texts are kept, the least recently used closed in the same call), and
 * bound by name after. Where the session plans every run afresh (`plan_cache_mode =
 * force_custom_plan`, which the server's PGlite starts with: `PGLITE_PLANS`), the plans are the
 * ones an unnamed statement gets, so only PostgreSQL's parsing and analysis are saved (a join of
 * two tables: 185 → 108 µs of CPU); on a session planned otherwise, statements stay unnamed.
 *
 * The locks are PGlite's own: a statement outside a transaction waits for the open one to end
 * and for the statement before it, and one in a transaction runs in the transaction's turn. A
 * statement with options this does not handle (a blob, parameter types, serializers) goes
 * through PGlite's `query` unchanged.
 */
import { type PGlite, parse, protocol, type QueryOptions, type Results } from '@electric-sql/pglite';
// node-postgres's own serializer, the one every statement on PostgreSQL goes through (untyped).
// @ts-expect-error: pg's lib/utils has no declarations
import pgUtils from 'pg/lib/utils.js';

const { prepareValue } = pgUtils as { prepareValue(v: unknown): string | Buffer | null };

/** The parts of PGlite's base class this uses (protected by convention, public in JavaScript). */
interface PgliteInside {
  readonly parsers: Record<number, (v: string, typeId?: number) => unknown>;
  _checkReady(): Promise<void>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
  execProtocolStream(
    message: Uint8Array,
    options: { syncToFs?: boolean; throwOnError?: boolean; onNotice?: QueryOptions['onNotice'] },
  ): Promise<Parameters<typeof parse.parseResults>[0]>;
  syncToFs(): Promise<void>;
}

/** Whether PGlite's own `query` must run the statement: options this path does not carry. */
function needsPgliteQuery(options: QueryOptions | undefined): boolean {
  return !!options && (options.blob !== undefined || !!options.paramTypes?.length || !!options.serializers);
}

/** What the server's PGlite starts with, so that a named statement is planned as an unnamed one is. */
export const PGLITE_PLANS = ['-c', 'plan_cache_mode=force_custom_plan'];

/** How many statement texts a database keeps prepared. */
export const STATEMENTS = 200;

/**
 * Per database, its prepared statements' names by text, least recently used first; null where
 * the session would plan a named statement otherwise than an unnamed one (statements unnamed).
 */
const prepared = new WeakMap<object, Map<string, string> | null>();
let lastName = 0;

/** The statement's parts before its bind: a parse, or nothing when it is prepared already. */
function statement(
  cache: Map<string, string> | null,
  text: string,
): { name: string; fresh: boolean; parts: Uint8Array[] } {
  const s = protocol.serialize;
  if (!cache) return { name: '', fresh: false, parts: [s.parse({ text })] };
  const have = cache.get(text);
  if (have !== undefined) {
    cache.delete(text);
    cache.set(text, have);
    return { name: have, fresh: false, parts: [] };
  }
  const parts: Uint8Array[] = [];
  if (cache.size >= STATEMENTS) {
    const [oldest, oldName] = cache.entries().next().value as [string, string];
    cache.delete(oldest);
    parts.push(s.close({ type: 'S', name: oldName }));
  }
  const name = `parley_${++lastName}`;
  parts.push(s.parse({ text, name }));
  return { name, fresh: true, parts };
}

/** Parse (or not), bind with the values, describe the portal, execute and sync: one buffer. */
function message(head: Uint8Array[], name: string, params: readonly unknown[]): Uint8Array {
  const s = protocol.serialize;
  const values = params.map((v) => prepareValue(v));
  const parts = [
    ...head,
    s.bind({ statement: name, values: values as (string | null)[] }),
    s.describe({ type: 'P' }),
    s.execute({}),
    s.sync(),
  ];
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function run<T>(
  db: PgliteInside,
  text: string,
  params: readonly unknown[],
  options: QueryOptions | undefined,
  inTransaction: boolean,
  retried = false,
): Promise<Results<T>> {
  const cache = await statementsOf(db);
  const { name, fresh, parts } = statement(cache, text);
  const messages = await db.execProtocolStream(message(parts, name, params), {
    syncToFs: false,
    throwOnError: false,
    ...(options?.onNotice ? { onNotice: options.onNotice } : {}),
  });
  // Prepared once PostgreSQL says so, whatever the bind or the run did after.
  if (fresh && messages.some((m) => m.name === 'parseComplete')) cache?.set(text, name);
  const failed = messages.find((m) => m.name === 'error');
  if (failed) {
    const code = (failed as { code?: string }).code;
    // Someone deallocated it, or a table changed under a `select *`: forget, and run it anew.
    // (In a transaction, which the failure has aborted, the next run parses it anew.)
    if (name && !fresh && (code === '26000' || code === '0A000')) {
      cache?.delete(text);
      if (!inTransaction && !retried) return run(db, text, params, options, inTransaction, true);
    }
    // As PGlite's own query does: the failed statement and its parameters on the error.
    throw Object.assign(failed, { query: text, params, queryOptions: options });
  }
  if (!inTransaction) await db.syncToFs();
  return parse.parseResults(messages, db.parsers, options)[0] as Results<T>;
}

/** The database's prepared statements, asked of its session once. */
async function statementsOf(db: PgliteInside): Promise<Map<string, string> | null> {
  let cache = prepared.get(db);
  if (cache === undefined) {
    const messages = await db.execProtocolStream(protocol.serialize.query('show plan_cache_mode'), {
      syncToFs: false,
      throwOnError: false,
    });
    // Not answered (a transaction that has failed): unnamed this time, asked again next time.
    if (messages.some((m) => m.name === 'error')) return null;
    const mode = parse.parseResults(messages, db.parsers)[0]?.rows[0] as { plan_cache_mode?: string } | undefined;
    cache = mode?.plan_cache_mode === 'force_custom_plan' ? new Map() : null;
    prepared.set(db, cache);
  }
  return cache;
}

/** `db.query(text, params, options)`, in one trip (outside a transaction). */
export async function queryOnce<T>(
  db: PGlite,
  text: string,
  params: readonly unknown[] = [],
  options?: QueryOptions,
): Promise<Results<T>> {
  if (needsPgliteQuery(options)) return db.query<T>(text, params as unknown[], options);
  const inside = db as unknown as PgliteInside;
  await inside._checkReady();
  return inside._runExclusiveTransaction(() =>
    inside._runExclusiveQuery(() => run<T>(inside, text, params, options, false)),
  );
}

/** A transaction's `query`, in one trip: `tx` is the transaction PGlite gave `db.transaction`'s callback. */
export async function queryOnceIn<T>(
  db: PGlite,
  tx: { closed: boolean; query: PGlite['query'] },
  text: string,
  params: readonly unknown[] = [],
  options?: QueryOptions,
): Promise<Results<T>> {
  if (needsPgliteQuery(options)) return tx.query<T>(text, params as unknown[], options);
  if (tx.closed) throw new Error('Transaction is closed');
  const inside = db as unknown as PgliteInside;
  return inside._runExclusiveQuery(() => run<T>(inside, text, params, options, true));
}

/**
 * `db` as drizzle and the server's statements see it: `query`, and each transaction's `query`,
 * in one trip; everything else is PGlite's own.
 */
export function oneTripClient(db: PGlite): PGlite {
  return new Proxy(db, {
    get(target, key) {
      if (key === 'query')
        return (text: string, params?: unknown[], options?: QueryOptions) => queryOnce(target, text, params, options);
      if (key === 'transaction')
        return <T>(fn: (tx: Parameters<Parameters<PGlite['transaction']>[0]>[0]) => Promise<T>) =>
          target.transaction((tx) =>
            fn(
              new Proxy(tx, {
                get(t, k) {
                  if (k === 'query')
                    return (text: string, params?: unknown[], options?: QueryOptions) =>
                      queryOnceIn(target, t, text, params, options);
                  const v = Reflect.get(t, k, t);
                  return typeof v === 'function' ? v.bind(t) : v;
                },
              }),
            ),
          );
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
