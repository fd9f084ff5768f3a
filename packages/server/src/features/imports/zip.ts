/**
 * Read an export zip as a stream, with limits, never the whole archive in memory.
 *
 * yauzl reads the central directory (names, sizes, offsets) and gives one entry at a time; each
 * entry is read *raw* (`decompress: false`) and inflated here with zlib, so every limit is
 * counted on bytes actually read and inflated, never on the sizes the headers claim (a zip
 * bomb's headers lie, or tell the truth about 1 GiB of zeros):
 *
 * - entries: at most `maxEntries` (the central directory's count, and the entries read);
 * - each entry inflates to at most `maxEntryBytes`;
 * - all entries together inflate to at most `maxTotalBytes`;
 * - an entry's inflated bytes over the compressed bytes read so far stay under `maxRatio`,
 *   checked once it has inflated `RATIO_FLOOR` (small files compress unevenly).
 *
 * The first limit crossed stops the reading at once (`ExportLimitError`): a 1 GiB bomb is
 * refused after about a megabyte. JSON entries are kept in memory (they are parsed anyway);
 * every other entry is inflated and counted, then dropped, and read again when the import
 * needs its bytes. Unsafe names (`..`, absolute, backslash, NUL) are not read and reported.
 */
import { open as openFile } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { type ExportProblem, ImportInputError } from './errors.js';

/** The limits of one export's zip; every figure counts inflated bytes as they come. */
export interface ExportLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxRatio: number;
}

const MiB = 1024 * 1024;

/** Defaults: far above any real Slack export's day file, far below what hurts the machine. */
export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 256 * MiB,
  maxTotalBytes: 16 * 1024 * MiB,
  maxRatio: 100,
};

/** The ratio is checked once an entry has inflated this much. */
export const RATIO_FLOOR = MiB;

/** A limit of `ExportLimits` crossed: the export is refused, nothing was written. */
export class ExportLimitError extends ImportInputError {
  constructor(
    readonly limit: 'entries' | 'entry size' | 'total size' | 'ratio',
    readonly entry: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'ExportLimitError';
  }
}

/** An entry whose bytes the import reads when it needs them. */
export interface ExportBlob {
  /** Its inflated size (counted while reading, or the header's when it was not read). */
  size: number;
  read(): Promise<Buffer>;
}

/** An export: JSON entries in memory, other entries to read on demand, problems of the zip itself. */
export interface ExportArchive {
  files: Map<string, Uint8Array>;
  blobs: Map<string, ExportBlob>;
  problems: ExportProblem[];
  close(): Promise<void>;
}

/** An archive from entries already in memory (tests, and exports not read from a zip). */
export function archiveFromEntries(entries: ReadonlyMap<string, Uint8Array>): ExportArchive {
  const files = new Map<string, Uint8Array>();
  const blobs = new Map<string, ExportBlob>();
  for (const [k, v] of normalizeExportPaths(entries)) {
    if (isJsonEntry(k)) files.set(k, v);
    else blobs.set(k, { size: v.length, read: async () => Buffer.from(v) });
  }
  return { files, blobs, problems: [], close: async () => {} };
}

const isJsonEntry = (name: string) => name.endsWith('.json') && !name.startsWith('__uploads/');

/** Why an entry's name is unsafe to use as a path, or null. */
export function unsafeName(name: string): string | null {
  if (name.includes('\0')) return 'a NUL character in the name';
  if (name.includes('\\')) return 'a backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split('/').includes('..')) return "a '..' in the path";
  return null;
}

/** The paths of the export, with a single top folder (a zipped folder) taken off. */
export function normalizeExportPaths<T>(entries: ReadonlyMap<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of entries) if (!k.endsWith('/')) out.set(k, v);
  if (out.has('users.json')) return out;
  const tops = new Set([...out.keys()].map((k) => k.split('/')[0]));
  if (tops.size !== 1) return out;
  const top = `${[...tops][0]}/`;
  return new Map([...out].map(([k, v]) => [k.startsWith(top) ? k.slice(top.length) : k, v]));
}

function decodeName(raw: Buffer, flags: number): string {
  // Bit 11: the name is UTF-8. Without it, it is CP437 in theory and UTF-8 in most tools' practice.
  if (flags & 0x800) return raw.toString('utf8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return raw.toString('latin1');
  }
}

const mib = (n: number) => `${Math.round((n / MiB) * 10) / 10} MiB`;

/** Counts the bytes through it; `check` throws to stop the reading. */
class Counter extends Transform {
  bytes = 0;
  constructor(private readonly check: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    try {
      this.check(this.bytes);
    } catch (e) {
      done(e as Error);
      return;
    }
    done(null, chunk);
  }
}

/**
 * Cuts the compressed stream into pieces of at most `size` bytes before zlib. zlib inflates each
 * write whole, whatever its readers wait for: one 64 KiB read of a bomb made 64 MiB at once, and a
 * few such reads queued up on a busy machine made hundreds (516 MB peak RSS seen in CI). A 1 KiB
 * write makes at most about 1 MiB, and zlib takes the next one only once that is read.
 */
class Rechunk extends Transform {
  constructor(private readonly size: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    for (let i = 0; i < chunk.length; i += this.size) this.push(chunk.subarray(i, i + this.size));
    done();
  }
}

/**
 * Open `file` and read every entry within `limits`. Throws `ImportInputError` for a file that is
 * no readable zip, `ExportLimitError` at the first limit crossed.
 */
export async function openExportZip(
  file: string,
  limits: ExportLimits = DEFAULT_EXPORT_LIMITS,
  opts: { maxFileBytes?: number } = {},
): Promise<ExportArchive> {
  // "PK\x03\x04" (or an empty archive's "PK\x05\x06"): a clear word for anything else.
  let head: Buffer;
  try {
    const fh = await openFile(file, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImportInputError(code === 'ENOENT' ? `no file ${file}` : `cannot read ${file} (${code ?? 'error'})`);
  }
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b) throw new ImportInputError(`${file} is not a zip file`);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false },
      (err, z) => (err || !z ? reject(err) : resolve(z)),
    ),
  ).catch((e: Error) => {
    throw new ImportInputError(`${file} is not a readable zip file (${e.message})`);
  });
  const close = async () => zip.close();
  try {
    if (zip.entryCount > limits.maxEntries)
      throw new ExportLimitError(
        'entries',
        null,
        `the export has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries} (--max-entries)`,
      );
    const entries: { name: string; entry: yauzl.Entry }[] = [];
    const problems: ExportProblem[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = decodeName(entry.fileName as unknown as Buffer, entry.generalPurposeBitFlag);
        if (entries.length + problems.length >= limits.maxEntries) {
          reject(
            new ExportLimitError(
              'entries',
              null,
              `the export has more than ${limits.maxEntries} entries (--max-entries)`,
            ),
          );
          return;
        }
        const unsafe = unsafeName(name);
        if (unsafe) problems.push({ file: name, reason: `unsafe entry name: ${unsafe}; not read` });
        else if (entry.isEncrypted()) problems.push({ file: name, reason: 'the entry is encrypted' });
        else if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
          problems.push({ file: name, reason: `unsupported compression method ${entry.compressionMethod}` });
        else if (!name.endsWith('/')) entries.push({ name, entry });
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', (e: Error) => reject(new ImportInputError(`${file} is not a readable zip file (${e.message})`)));
      zip.readEntry();
    });
    const paths = normalizeExportPaths(new Map(entries.map((e) => [e.name, e.entry])));
    let total = 0;
    /** Inflate one entry through the limits, to `sink` (kept) or to nowhere. */
    const inflate = async (name: string, entry: yauzl.Entry, max: number, keep: boolean, counted = true) => {
      const raw = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
        // yauzl refuses `decompress: false` for a stored entry (method 0), which is read as it is anyway.
        zip.openReadStream(
          entry,
          (entry.compressionMethod === 8 ? { decompress: false } : {}) as yauzl.ZipFileOptions,
          (err, s) => (err || !s ? reject(err) : resolve(s)),
        ),
      ).catch((e: Error) => {
        throw new ImportInputError(`${name}: cannot read the entry (${e.message})`);
      });
      const compressed = new Counter(() => {});
      const inflated = new Counter((n) => {
        if (n > max)
          throw new ExportLimitError(
            'entry size',
            name,
            `${name} inflates to more than ${mib(max)} (--max-entry-size): refused as a possible zip bomb`,
          );
        if (counted && total + n > limits.maxTotalBytes)
          throw new ExportLimitError(
            'total size',
            name,
            `the export inflates to more than ${mib(limits.maxTotalBytes)} (--max-total-size), at ${name}`,
          );
        if (n >= RATIO_FLOOR && n / Math.max(1, compressed.bytes) > limits.maxRatio)
          throw new ExportLimitError(
            'ratio',
            name,
            `${name} inflates more than ${limits.maxRatio} times its compressed size (--max-ratio): refused as a possible zip bomb`,
          );
      });
      const chunks: Buffer[] = [];
      const sink = new Transform({
        transform(chunk: Buffer, _e, done) {
          if (keep) chunks.push(chunk);
          done();
        },
      });
      try {
        if (entry.compressionMethod === 8)
          await pipeline(
            raw,
            compressed,
            new Rechunk(1024),
            createInflateRaw({ chunkSize: 64 * 1024 }),
            inflated,
            sink,
          );
        else await pipeline(raw, compressed, inflated, sink);
      } catch (e) {
        if (e instanceof ImportInputError) throw e;
        throw new ImportInputError(`${name}: the entry is damaged (${(e as Error).message})`);
      }
      if (inflated.bytes !== entry.uncompressedSize)
        throw new ImportInputError(
          `${name}: inflates to ${inflated.bytes} bytes, its header says ${entry.uncompressedSize}: the zip is damaged`,
        );
      return { bytes: inflated.bytes, data: keep ? Buffer.concat(chunks) : null };
    };
    const files = new Map<string, Uint8Array>();
    const blobs = new Map<string, ExportBlob>();
    for (const [name, entry] of paths) {
      if (isJsonEntry(name)) {
        const got = await inflate(name, entry, limits.maxEntryBytes, true);
        total += got.bytes;
        files.set(name, got.data as Buffer);
        continue;
      }
      // A file the server would not take anyway is not inflated: the import skips it as too large.
      const tooLarge = opts.maxFileBytes !== undefined && entry.uncompressedSize > opts.maxFileBytes;
      const max = Math.min(limits.maxEntryBytes, opts.maxFileBytes ?? Number.POSITIVE_INFINITY);
      let size = entry.uncompressedSize;
      if (!tooLarge) {
        size = (await inflate(name, entry, limits.maxEntryBytes, false)).bytes;
        total += size;
      }
      blobs.set(name, {
        size,
        read: async () => {
          if (size > max) throw new ImportInputError(`${name} is larger than ${mib(max)}`);
          return (await inflate(name, entry, max, true, false)).data as Buffer;
        },
      });
    }
    return { files, blobs, problems, close };
  } catch (e) {
    await close();
    throw e;
  }
}
