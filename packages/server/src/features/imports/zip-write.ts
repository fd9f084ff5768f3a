/**
 * Write a zip, one entry at a time, to a stream: what a workspace export is made of
 * (parley-export.ts), readable back by `openExportZip` (zip.ts) and by any unzip tool.
 *
 * Each entry is deflated in memory when that makes it smaller, stored otherwise; its sizes and
 * CRC are known before its local header is written, so there are no data descriptors. No Zip64:
 * an archive of more than 65,535 entries or 4 GiB is refused with a message (`ZipTooLargeError`)
 * rather than written broken. Names are marked UTF-8.
 */
import { deflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE), as zip wants it (node:zlib has none before Node 22). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;
/** 1980-01-01 00:00 in DOS format: entry times carry nothing (the manifest has the export's time). */
const DOS_DATE = 0x0021;
const UTF8_NAMES = 0x0800;

/** The archive would need Zip64 (more entries or bytes than a plain zip holds). */
export class ZipTooLargeError extends Error {}

export class ZipWriter {
  private offset = 0;
  private readonly central: Buffer[] = [];

  constructor(private readonly write: (chunk: Buffer) => Promise<void>) {}

  /** Add `name` with `data`. */
  async add(name: string, data: Uint8Array): Promise<void> {
    if (this.central.length >= MAX_ENTRIES)
      throw new ZipTooLargeError(`more than ${MAX_ENTRIES} entries: too many for a zip without Zip64`);
    const nameBytes = Buffer.from(name, 'utf8');
    const deflated = deflateRawSync(data);
    const deflate = deflated.length < data.length;
    const body = deflate ? deflated : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const crc = crc32(data);
    if (this.offset + 30 + nameBytes.length + body.length > MAX_OFFSET)
      throw new ZipTooLargeError('more than 4 GiB: too large for a zip without Zip64');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(UTF8_NAMES, 8);
    entry.writeUInt16LE(deflate ? 8 : 0, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(DOS_DATE, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk, internal and external attributes: 0
    entry.writeUInt32LE(this.offset, 42);
    this.central.push(entry, nameBytes);
    await this.write(Buffer.concat([local, nameBytes]));
    await this.write(body);
    this.offset += 30 + nameBytes.length + body.length;
  }

  /** Write the central directory: the archive is complete. */
  async end(): Promise<void> {
    const dir = Buffer.concat(this.central);
    if (this.offset + dir.length > MAX_OFFSET)
      throw new ZipTooLargeError('more than 4 GiB: too large for a zip without Zip64');
    const count = this.central.length / 2;
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(count, 8);
    eocd.writeUInt16LE(count, 10);
    eocd.writeUInt32LE(dir.length, 12);
    eocd.writeUInt32LE(this.offset, 16);
    await this.write(Buffer.concat([dir, eocd]));
  }
}
