/**
 * Taking a backup: one archive (format.ts) of the database, every object of the file store, and
 * (sealed with a passphrase, when given one) the master key, with a manifest of sizes and
 * digests. It runs while the server serves traffic:
 *
 * 1. record the backup as running (runs.ts): from then on object removals are held;
 * 2. copy the database as one snapshot — PostgreSQL: `pg_dump` (one transaction, one
 *    snapshot); PGlite: its data folder between two transactions, after a CHECKPOINT, which
 *    PGlite opens again as PostgreSQL opens a data folder after a crash, at that instant;
 * 3. copy every object in the store: those the snapshot names are all there (runs.ts says
 *    why), and objects written since are harmless extras;
 * 4. write the manifest, record the result, and do the removals held meanwhile.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { sql } from 'drizzle-orm';
import tar from 'tar-stream';
import { type Database, rows } from '../db/index.js';
import { PgliteThread } from '../db/pglite-thread.js';
import { installedVersion } from '../package-version.js';
import { createSealer } from '../secrets.js';
import type { BlobStore } from '../storage/store.js';
import {
  type BackupHeader,
  DATABASE_ENTRY,
  FORMAT,
  FORMAT_VERSION,
  HEADER_ENTRY,
  KEY_ENTRY,
  MANIFEST_ENTRY,
  type Manifest,
  type ManifestEntry,
  OBJECTS_PREFIX,
  sealKey,
} from './format.js';
import { startRun, sweepHeldDeletions } from './runs.js';

const gzip = promisify(gzipCb);

export interface BackupSource {
  database: Database;
  /** PostgreSQL: the URL `pg_dump` connects to. */
  databaseUrl?: string | undefined;
  /** The store itself (not the one that holds removals: the sweep at the end removes for real). */
  store: BlobStore;
  masterKey: Buffer;
  /** Where `pg_dump` writes before the dump goes into the archive (default: the OS's). */
  tmpDir?: string;
}

export interface BackupOptions {
  /** Seal the master key into the archive with this passphrase; without one it is left out. */
  passphrase?: string | undefined;
}

export interface BackupResult {
  manifest: Manifest;
  bytes: number;
}

/** The fingerprint of a master key, as manifests carry it. */
export function keyFingerprint(key: Buffer): string {
  return createSealer(key).mac('backup key fingerprint').subarray(0, 16).toString('hex');
}

/** Write a backup of `src` to `out` (a file, an HTTP answer); resolves once it is all written. */
export async function createBackup(src: BackupSource, out: Writable, opts: BackupOptions = {}): Promise<BackupResult> {
  const { database, store } = src;
  const run = await startRun(database.db, database.kind);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const pack = tar.pack();
  const written = pipeline(pack, counter, out);
  // A failed write (the reader went away) must end the backup, not leave it waiting.
  written.catch((err: unknown) => pack.destroy(err as Error));
  const entries: ManifestEntry[] = [];
  const tmp = await mkdtemp(path.join(src.tmpDir ?? tmpdir(), 'parley-backup-'));
  try {
    const level = await migrationLevel(database);
    const [{ server_version } = { server_version: '' }] = await rows<{ server_version: string }>(
      database.db,
      sql`select current_setting('server_version') as server_version`,
    );
    const header: BackupHeader = {
      format: FORMAT,
      format_version: FORMAT_VERSION,
      parley_version: installedVersion('@parley/server'),
      backup_id: run.id,
      created_at: new Date().toISOString(),
      database: { kind: database.kind, entry: DATABASE_ENTRY[database.kind], ...level, server_version },
      store: { kind: store.kind },
      key: { included: !!opts.passphrase, fingerprint: keyFingerprint(src.masterKey) },
    };
    entries.push(await addBuffer(pack, HEADER_ENTRY, Buffer.from(`${JSON.stringify(header, null, 2)}\n`)));

    if (database.driver.kind === 'pglite') {
      const client = database.driver.client;
      // A CHECKPOINT (after the run was recorded: every removal not held is of a row whose
      // deletion it writes out), then the folder copied between transactions — PGlite's own
      // statements outside one take the same lock — so it holds no half of one. A data
      // folder's PGlite does both on its thread (pglite-thread.ts).
      let blob: Blob;
      if (client instanceof PgliteThread) blob = await client.dumpDataDir();
      else {
        await client.exec('CHECKPOINT');
        const exclusive = (
          client as unknown as { _runExclusiveTransaction?: <T>(fn: () => Promise<T>) => Promise<T> }
        )._runExclusiveTransaction?.bind(client);
        const dump = () => client.dumpDataDir('none');
        blob = exclusive ? await exclusive(dump) : await dump();
      }
      // Compressed after the lock is let go (on libuv's threads): a fresh folder is ~64 MB, mostly
      // empty WAL, that gzip takes to a few.
      const gz = await gzip(new Uint8Array(await blob.arrayBuffer()));
      entries.push(await addBuffer(pack, DATABASE_ENTRY.pglite, gz));
    } else {
      // The URL the server's own pool connects with, when the caller does not give one.
      const url =
        src.databaseUrl ??
        (database.driver.pool as unknown as { options?: { connectionString?: string } }).options?.connectionString;
      if (!url) throw new Error('a PostgreSQL backup needs the database URL for pg_dump');
      const file = path.join(tmp, 'postgres.dump');
      await pgDump(url, file);
      const size = (await stat(file)).size;
      entries.push(await addStream(pack, DATABASE_ENTRY.postgres, size, createReadStream(file)));
      await rm(file, { force: true });
    }

    let objects = 0;
    let objectBytes = 0;
    for await (const o of store.list()) {
      let body: AsyncIterable<Uint8Array>;
      try {
        body = await store.read(o.key);
      } catch {
        // Removed before this backup began holding removals: no snapshot taken since names it.
        continue;
      }
      entries.push(await addStream(pack, `${OBJECTS_PREFIX}${o.key}`, o.size, body));
      objects++;
      objectBytes += o.size;
    }

    if (opts.passphrase) {
      const sealed = await sealKey(src.masterKey, opts.passphrase);
      entries.push(await addBuffer(pack, KEY_ENTRY, sealed));
    }

    const manifest: Manifest = {
      ...header,
      finished_at: new Date().toISOString(),
      objects: { count: objects, bytes: objectBytes },
      entries,
    };
    await addBuffer(pack, MANIFEST_ENTRY, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    pack.finalize();
    await written;
    await run.finish({ bytes, objects, keyIncluded: !!opts.passphrase });
    return { manifest, bytes };
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => {});
    await run.fail((err as Error).message ?? String(err)).catch(() => {});
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await sweepHeldDeletions(database.db, store, run.id).catch(() => {});
  }
}

/** How many migrations the database has applied, and the newest one's timestamp. */
export async function migrationLevel(
  database: Database,
): Promise<{ migrations: number; last_migration: number | null }> {
  const [r] = await rows<{ n: number; last: string | number | null }>(
    database.db,
    sql`select count(*)::int as n, max(created_at) as last from drizzle.__drizzle_migrations`,
  );
  return { migrations: Number(r?.n ?? 0), last_migration: r?.last == null ? null : Number(r.last) };
}

function addBuffer(pack: tar.Pack, name: string, body: Buffer): Promise<ManifestEntry> {
  return addStream(pack, name, body.length, [body]);
}

/** Add one entry of `size` bytes from `source`, hashing it on the way. */
function addStream(
  pack: tar.Pack,
  name: string,
  size: number,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<ManifestEntry> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const entry = pack.entry({ name, size, mode: 0o600, mtime: new Date() }, (err) =>
      err ? reject(err) : resolve({ name, size, sha256: hash.digest('hex') }),
    ) as unknown as NodeJS.WritableStream & { destroy(err?: Error): void };
    (async () => {
      let n = 0;
      for await (const c of source) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        n += b.length;
        if (n > size) break;
        hash.update(b);
        if (!entry.write(b)) await new Promise<void>((r) => entry.once('drain', () => r()));
      }
      // Objects never change once written: another size means the store changed under us.
      if (n !== size) throw new Error(`${name} changed while it was copied (${n} bytes, expected ${size})`);
      entry.end();
    })().catch((err: unknown) => {
      entry.destroy(err as Error);
      reject(err);
    });
  });
}

/** `pg_dump --format=custom` of the whole database into `file`; its own message on failure. */
function pgDump(url: string, file: string): Promise<void> {
  return runPgTool('pg_dump', ['--format=custom', '--no-owner', '--no-acl', `--file=${file}`], url);
}

/**
 * Run a PostgreSQL client tool against `url`. The password goes in the environment
 * (PGPASSWORD), not on the command line, where every user of the machine could read it.
 */
export function runPgTool(tool: 'pg_dump' | 'pg_restore', args: string[], url: string): Promise<void> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...args, `--dbname=${u.toString()}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new Error(
              `${tool} is not installed: install PostgreSQL’s client tools (Debian: apt install postgresql-client)`,
            )
          : e,
      ),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${tool} failed: ${err.trim().split('\n').slice(-2).join(' ') || `exit ${code}`}`)),
    );
  });
}
