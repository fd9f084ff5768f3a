/**
 * The backup archive: a tar file (tar-stream), read and written as a stream.
 *
 *   backup.json             what the archive is (the manifest without its entry list), first,
 *                           so a reader knows the database kind before anything else
 *   database/pgdata.tar.gz  PGlite: its data folder as PGlite's own `dumpDataDir` makes it, gzipped
 *   database/postgres.dump  PostgreSQL: `pg_dump --format=custom`
 *   objects/<key>           every object of the file store, by store key
 *   key/master-key.json     the master key, sealed with a passphrase (scrypt + AES-256-GCM),
 *                           only when one was given
 *   manifest.json           last: the same header, finished_at, and every entry above with
 *                           its size and SHA-256
 *
 * The manifest comes last because the entries' digests are known only once they are written;
 * `verifyArchive` reads the whole file, hashing each entry, and compares at the end.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar from 'tar-stream';

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const FORMAT = 'parley-backup';
export const FORMAT_VERSION = 1;
export const HEADER_ENTRY = 'backup.json';
export const MANIFEST_ENTRY = 'manifest.json';
export const KEY_ENTRY = 'key/master-key.json';
export const OBJECTS_PREFIX = 'objects/';
export const DATABASE_ENTRY = { pglite: 'database/pgdata.tar.gz', postgres: 'database/postgres.dump' } as const;

/** What a backup is: `backup.json`, and the head of `manifest.json`. */
export interface BackupHeader {
  format: typeof FORMAT;
  format_version: number;
  /** The @parley/server version that made it. */
  parley_version: string;
  backup_id: string;
  created_at: string;
  database: {
    kind: 'pglite' | 'postgres';
    entry: string;
    /** Migrations applied to the database when it was copied, and the newest one's timestamp. */
    migrations: number;
    last_migration: number | null;
    /** PostgreSQL's `server_version` (PGlite's PostgreSQL, or the server's). */
    server_version: string;
  };
  store: { kind: 'local' | 's3' };
  key: {
    included: boolean;
    /** A digest that tells whether a master key is this backup's (HMAC under the key itself). */
    fingerprint: string;
  };
}

export interface ManifestEntry {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest extends BackupHeader {
  finished_at: string;
  objects: { count: number; bytes: number };
  entries: ManifestEntry[];
}

/** A problem found in an archive, written for the operator. */
export class BackupError extends Error {}

// ---- the master key, sealed with a passphrase -----------------------------------------------

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

interface SealedKey {
  kdf: 'scrypt';
  n: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** The master key sealed under `passphrase`: scrypt derives the AES-256-GCM key. */
export async function sealKey(key: Buffer, passphrase: string): Promise<Buffer> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const k = await scrypt(passphrase, salt, 32, SCRYPT);
  const c = createCipheriv('aes-256-gcm', k, iv);
  const body = Buffer.concat([c.update(key), c.final()]);
  const sealed: SealedKey = {
    kdf: 'scrypt',
    n: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
    ciphertext: body.toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(sealed, null, 2)}\n`);
}

/** The master key from `key/master-key.json`; a wrong passphrase is a BackupError. */
export async function openKey(sealedJson: Buffer, passphrase: string): Promise<Buffer> {
  let s: SealedKey;
  try {
    s = JSON.parse(sealedJson.toString('utf8')) as SealedKey;
  } catch {
    throw new BackupError(`${KEY_ENTRY} in the backup is not readable`);
  }
  if (s.kdf !== 'scrypt') throw new BackupError(`${KEY_ENTRY}: unknown key derivation ${String(s.kdf)}`);
  const k = await scrypt(passphrase, Buffer.from(s.salt, 'base64'), 32, {
    N: s.n,
    r: s.r,
    p: s.p,
    maxmem: SCRYPT.maxmem,
  });
  try {
    const d = createDecipheriv('aes-256-gcm', k, Buffer.from(s.iv, 'base64'));
    d.setAuthTag(Buffer.from(s.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(s.ciphertext, 'base64')), d.final()]);
  } catch {
    throw new BackupError('wrong passphrase: it does not open the master key in this backup');
  }
}

// ---- reading ---------------------------------------------------------------------------------

/** One entry as the reader meets it: its name, size, and its bytes as a stream. */
export interface ArchiveEntry {
  name: string;
  size: number;
  stream: Readable;
}

/**
 * Read the archive at `file` entry by entry. `onEntry` must consume (or drain) each stream.
 * A file that is not a tar archive, or ends early, fails with a BackupError.
 */
export async function readArchive(file: string, onEntry: (e: ArchiveEntry) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const source = createReadStream(file);
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const stream = entry as unknown as Readable;
      await onEntry({ name: entry.header.name, size: entry.header.size ?? 0, stream });
      // Whatever the callback left unread is skipped.
      stream.resume();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BackupError(`no such file: ${file}`);
    if (code === 'EISDIR') throw new BackupError(`${file} is a folder, not a backup archive`);
    if (e instanceof BackupError) throw e;
    if (/unexpected end of data/i.test((e as Error).message))
      throw new BackupError(
        `${file} ends before its ${MANIFEST_ENTRY}: the backup did not finish, or the file was cut`,
      );
    throw new BackupError(`${file} is not a readable backup archive (${(e as Error).message})`);
  } finally {
    source.destroy();
  }
}

async function drainHashing(stream: Readable, keep: boolean): Promise<{ sha256: string; size: number; body?: Buffer }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    hash.update(b);
    size += b.length;
    if (keep) chunks.push(b);
  }
  return { sha256: hash.digest('hex'), size, ...(keep ? { body: Buffer.concat(chunks) } : {}) };
}

/** What `verifyArchive` found. */
export interface Verified {
  manifest: Manifest;
  entries: number;
  /** The sealed master key (`key/master-key.json`), when the backup holds it. */
  sealedKey: Buffer | null;
}

/**
 * Check an archive without restoring it: it is a Parley backup of a known format, every entry
 * the manifest lists is there once with its size and SHA-256, and nothing else is. Throws a
 * BackupError naming the first entry that differs.
 */
export async function verifyArchive(file: string): Promise<Verified> {
  const seen = new Map<string, { sha256: string; size: number }>();
  let header: BackupHeader | null = null;
  let manifest: Manifest | null = null;
  let first = true;
  let sealedKey: Buffer | null = null;
  await readArchive(file, async (e) => {
    const isHeader = e.name === HEADER_ENTRY;
    if (first && !isHeader)
      throw new BackupError(`${file} is not a Parley backup (it does not start with ${HEADER_ENTRY})`);
    first = false;
    if (manifest) throw new BackupError(`entry ${e.name} follows ${MANIFEST_ENTRY}, which must be last`);
    const got = await drainHashing(e.stream, isHeader || e.name === MANIFEST_ENTRY || e.name === KEY_ENTRY);
    if (e.name === KEY_ENTRY) sealedKey = got.body as Buffer;
    if (isHeader) header = parseJson<BackupHeader>(got.body as Buffer, HEADER_ENTRY);
    else if (e.name === MANIFEST_ENTRY) manifest = parseJson<Manifest>(got.body as Buffer, MANIFEST_ENTRY);
    if (e.name === MANIFEST_ENTRY) return;
    if (seen.has(e.name)) throw new BackupError(`entry ${e.name} appears twice`);
    seen.set(e.name, { sha256: got.sha256, size: got.size });
  });
  const h = header as BackupHeader | null;
  const m = manifest as Manifest | null;
  if (!h) throw new BackupError(`${file} is empty or not a Parley backup`);
  checkFormat(h);
  if (!m)
    throw new BackupError(`${file} ends before its ${MANIFEST_ENTRY}: the backup did not finish, or the file was cut`);
  if (m.backup_id !== h.backup_id)
    throw new BackupError(`${MANIFEST_ENTRY} belongs to another backup than ${HEADER_ENTRY}`);
  for (const want of m.entries) {
    const got = seen.get(want.name);
    if (!got) throw new BackupError(`entry ${want.name} is missing`);
    if (got.size !== want.size)
      throw new BackupError(`entry ${want.name} is ${got.size} bytes, the manifest says ${want.size}`);
    if (got.sha256 !== want.sha256)
      throw new BackupError(`entry ${want.name} is corrupt: its SHA-256 differs from the manifest's`);
    seen.delete(want.name);
  }
  const extra = [...seen.keys()][0];
  if (extra) throw new BackupError(`entry ${extra} is not in the manifest`);
  return { manifest: m, entries: m.entries.length, sealedKey };
}

function parseJson<T>(body: Buffer, name: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new BackupError(`entry ${name} is corrupt: not JSON`);
  }
}

/** Refuse an archive of another format, or of a newer version of this one. */
export function checkFormat(h: BackupHeader): void {
  if (h.format !== FORMAT) throw new BackupError('not a Parley backup (unknown format)');
  if (h.format_version > FORMAT_VERSION)
    throw new BackupError(
      `this backup has format version ${h.format_version}, made by Parley ${h.parley_version}; this Parley reads version ${FORMAT_VERSION}: upgrade it first`,
    );
}
