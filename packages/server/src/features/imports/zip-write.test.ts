/**
 * The zip writer of workspace exports: its CRC-32 is the standard one, and what it writes the
 * import's reader (zip.ts) reads back byte for byte — deflated entries, stored ones (where
 * deflating does not pay), empty ones and UTF-8 names.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openExportZip } from './zip.js';
import { crc32, ZipWriter } from './zip-write.js';

const dir = mkdtempSync(path.join(tmpdir(), 'parley-zip-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ZipWriter', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('writes what the import reads back, byte for byte', async () => {
    const entries = new Map<string, Buffer>([
      ['manifest.json', Buffer.from('{"format":"parley-workspace"}\n')],
      ['messages.jsonl', Buffer.from('{"id":1}\n'.repeat(2000))],
      ['empty.jsonl', Buffer.alloc(0)],
      ['files/0190/grüße.bin', randomBytes(4096)],
    ]);
    const chunks: Buffer[] = [];
    const zip = new ZipWriter(async (c) => {
      chunks.push(c);
    });
    for (const [name, data] of entries) await zip.add(name, data);
    await zip.end();
    const file = path.join(dir, 'a.zip');
    writeFileSync(file, Buffer.concat(chunks));
    const archive = await openExportZip(file);
    try {
      expect(archive.problems).toEqual([]);
      const read = new Map<string, Buffer>();
      for (const [k, v] of archive.files) read.set(k, Buffer.from(v));
      for (const [k, b] of archive.blobs) read.set(k, await b.read());
      expect([...read.keys()].sort()).toEqual([...entries.keys()].sort());
      for (const [k, v] of entries) expect(Buffer.compare(read.get(k) as Buffer, v), k).toBe(0);
    } finally {
      await archive.close();
    }
  });
});
