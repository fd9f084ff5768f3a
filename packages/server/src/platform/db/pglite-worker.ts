/**
 * The thread that holds a data folder's PGlite (pglite-thread.ts is the other side). It boots
 * the database as soon as it starts (a first start's copy of the template beside PGlite's
 * loading), then runs what the main thread sends, in the order sent: PGlite's own queue orders
 * statements and transactions as it does in one thread.
 */
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { COPYING_MARK, copyFolder } from './copy-tree.js';
import type { FromPglite, PgliteBoot, ToPglite, WireError } from './pglite-thread.js';

const port = parentPort;
if (!port) throw new Error('pglite-worker runs as a worker thread');

const boot = workerData as PgliteBoot;

/**
 * A first start's copy of the template, begun before anything else (its files are copied on
 * libuv's threads while this one loads PGlite); the boot reads the folder once it is done. So
 * PGlite is imported below, not statically: a static import would load it before this line ran.
 */
const copied = boot.copyFrom ? copyFolder(boot.copyFrom, boot.dataDir) : null;
copied?.catch(() => {});
// A copy that did not finish, and no template to finish it from: PGlite starts anew.
if (!copied && existsSync(path.join(boot.dataDir, COPYING_MARK))) rmSync(boot.dataDir, { recursive: true });

/**
 * PGlite's WebAssembly compiled and its file system bundle read, from the thread's start, while
 * the template copies and the main thread loads the server. Nothing when its files are not
 * where this PGlite keeps them: PGlite then loads its own.
 */
const artifacts: Promise<{ pgliteWasmModule?: WebAssembly.Module; fsBundle?: Blob }> = (async () => {
  try {
    const dist = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [wasm, data] = await Promise.all([
      readFile(path.join(dist, 'pglite.wasm')),
      readFile(path.join(dist, 'pglite.data')),
    ]);
    return { pgliteWasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([data]) };
  } catch {
    return {};
  }
})();

/** PGlite, its file system on a folder, and its wire reader made to keep byte order marks. */
const modules = Promise.all([
  import('@electric-sql/pglite'),
  import('@electric-sql/pglite/nodefs'),
  import('./pglite-bom.js'),
  import('./pglite-query.js'),
]);
/** How statements run (pglite-query.ts), loaded with PGlite: the boot comes before any runs. */
let statements: typeof import('./pglite-query.js') | null = null;

/** The database once booted; until then what arrives waits in `backlog`, in order. */
let db: PGlite | null = null;
/** Why the boot failed, if it did: everything asked is answered with it. */
let bootError: unknown = null;
const backlog: ToPglite[] = [];

Promise.all([modules, artifacts])
  .then(([[{ PGlite, types }, { NodeFS }, { keepByteOrderMarks }, query], loaded]) => {
    keepByteOrderMarks();
    statements = query;
    /** The data folder, mounted before its copy ends: PostgreSQL reads it once the copy has. */
    class CopiedFS extends NodeFS {
      constructor(
        dir: string,
        private readonly copied: Promise<void>,
      ) {
        super(dir);
      }

      override async initialSyncFs(): Promise<void> {
        await this.copied;
        await super.initialSyncFs();
      }
    }
    return PGlite.create({
      dataDir: boot.dataDir,
      ...(copied ? { fs: new CopiedFS(boot.dataDir, copied) } : {}),
      startParams: [...PGlite.defaultStartParams, ...boot.params, ...query.PGLITE_PLANS],
      parsers: { [types.INT8]: (v: string) => Number(v) },
      ...loaded,
    });
  })
  .then(
    (d) => {
      db = d;
    },
    (e: unknown) => {
      bootError = e;
    },
  )
  .finally(() => {
    // What was sent during the boot runs now, in the order sent.
    for (const waiting of backlog.splice(0)) run(waiting);
  });

/**
 * Transactions by the id the main thread gave them: `started` once PGlite runs it (after what
 * was queued before it), `end` commits or rolls it back, `settled` is how it ended.
 */
interface Open {
  started: Promise<Transaction>;
  end: (commit: boolean) => void;
  settled: Promise<{ ok: true } | { ok: false; e: unknown }>;
}
const open = new Map<number, Open>();

const identity = (v: string) => v;

/** Types whose text comes back as it is, for the main thread's own parsers. */
function rawParsers(raw: number[] | undefined): Record<number, (v: string) => string> | undefined {
  if (!raw?.length) return undefined;
  return Object.fromEntries(raw.map((oid) => [oid, identity]));
}

function wireError(e: unknown): WireError {
  if (!(e instanceof Error)) return { message: String(e), name: 'Error', props: {} };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    // Only what survives a copy: PGlite's DatabaseError holds strings and numbers.
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) props[k] = v;
  }
  return { message: e.message, name: e.name, stack: e.stack, props };
}

function reply(m: FromPglite, transfer?: ArrayBuffer[]): void {
  port?.postMessage(m, transfer);
}

/** The database, or a clear refusal when it failed to boot or has closed. */
function database(): PGlite {
  if (bootError) throw bootError;
  if (!db || db.closed) throw new Error('the embedded database is closed');
  return db;
}

/** Transaction `tx`, once it has begun. */
function inTransaction(tx: number): Promise<Transaction> {
  const t = open.get(tx);
  if (!t) throw new Error(`no open transaction ${tx}`);
  return t.started;
}

/** Begin transaction `id` in PGlite's queue, in the order its message came. */
function begin(id: number): void {
  let started!: (tx: Transaction) => void;
  let end!: (commit: boolean) => void;
  const begun = new Promise<Transaction>((resolve) => {
    started = resolve;
  });
  const done = database().transaction(
    (tx) =>
      new Promise<void>((resolve, reject) => {
        end = (commit) => (commit ? resolve() : reject(new RolledBack()));
        started(tx);
      }),
  );
  const settled = done.then(
    () => ({ ok: true as const }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  // A transaction that could not begin fails the statements sent in it, with its reason.
  const failedToBegin = settled.then((r) => Promise.reject(r.ok ? new Error('the transaction ended') : r.e));
  failedToBegin.catch(() => {});
  open.set(id, {
    started: Promise.race([begun, failedToBegin]),
    end: (commit) => end?.(commit),
    settled,
  });
}

async function handle(m: ToPglite): Promise<void> {
  switch (m.op) {
    case 'query': {
      const parsers = rawParsers(m.raw);
      const options = { ...(m.rowMode ? { rowMode: m.rowMode } : {}), ...(parsers ? { parsers } : {}) };
      const on = database(); // first: a failed boot answers with its reason
      const run = statements as typeof import('./pglite-query.js');
      const r =
        m.tx === undefined
          ? await run.queryOnce(on, m.text, m.params, options)
          : await run.queryOnceIn(on, await inTransaction(m.tx), m.text, m.params, options);
      return reply({ id: m.id, ok: true, value: r });
    }
    case 'exec': {
      const on = m.tx === undefined ? database() : await inTransaction(m.tx);
      const r = await on.exec(m.text, m.rowMode ? { rowMode: m.rowMode } : undefined);
      return reply({ id: m.id, ok: true, value: r });
    }
    case 'end': {
      const t = open.get(m.tx);
      if (!t) throw new Error(`no open transaction ${m.tx}`);
      open.delete(m.tx);
      // Ended once begun: after the statements sent in it, which awaited the same start.
      await t.started.then(
        () => t.end(m.commit),
        () => {},
      );
      const r = await t.settled;
      if (!r.ok && !(r.e instanceof RolledBack)) throw r.e;
      return reply({ id: m.id, ok: true });
    }
    case 'dump': {
      // A checkpoint, then the folder copied between transactions: PGlite's statements outside
      // one take the same lock, so the copy holds no half of one.
      const d = database();
      await d.exec('CHECKPOINT');
      const exclusive = (d as unknown as { _runExclusiveTransaction: <T>(fn: () => Promise<T>) => Promise<T> })
        ._runExclusiveTransaction;
      const blob = await (exclusive.call(d, () => d.dumpDataDir('none')) as Promise<Blob>);
      const bytes = await blob.arrayBuffer();
      return reply({ id: m.id, ok: true, value: bytes }, [bytes]);
    }
    case 'close': {
      if (db && !db.closed) await db.close();
      reply({ id: m.id, ok: true });
      port?.close();
      return;
    }
  }
}

/** The rejection that rolls a transaction back when the main thread's work failed. */
class RolledBack extends Error {}

/**
 * Each message's statement reaches PGlite in the order sent (`handle` calls PGlite before its
 * first await), so PGlite's queue orders them as it would calls made on one thread.
 */
function run(m: ToPglite): void {
  if (m.op === 'begin') {
    try {
      begin(m.tx);
    } catch (e) {
      // Not open (a failed boot, a close): the transaction's statements and end say why.
      const failed = Promise.reject(e);
      failed.catch(() => {});
      open.set(m.tx, { started: failed, end: () => {}, settled: Promise.resolve({ ok: false, e }) });
    }
    return;
  }
  handle(m).catch((e: unknown) => reply({ id: m.id, ok: false, error: wireError(e) }));
}

port.on('message', (m: ToPglite) => {
  if (!db && !bootError) backlog.push(m);
  else run(m);
});
