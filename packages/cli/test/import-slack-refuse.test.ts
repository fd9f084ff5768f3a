/**
 * `parley import slack` refuses bad exports, whole and with every reason (issue 59): a zip bomb
 * (a day file inflating to 1 GiB, made here from a run of zeros: 1 MB on disk) within a bounded
 * memory, unsafe entry names, a `channels.json` of wrong types, a day file that is not JSON.
 * Each refusal exits 1 and writes nothing: the good import afterwards finds everything new.
 */
import { once } from 'node:events';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, createDeflateRaw } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from './chaos/infra.js';
import { type ImportTarget, importModes, startImportTarget } from './import-target.js';
import { cleanUp, run as runParley, SLOW, stop } from './spawn.js';

/**
 * The import process's peak memory may not pass this on the bomb (docs/cli.md): Node, the CLI
 * and the server's modules take ~150–200 MB; the bomb adds about a megabyte before its refusal.
 */
const BOMB_RSS_LIMIT_MB = 400;

const T0 = 1_700_000_000;
const ts = (s: number) => `${T0 + s}.000100`;
const json = (v: unknown) => strToU8(typeof v === 'string' ? v : JSON.stringify(v));

const good = {
  'users.json': json([
    { id: 'UADA', name: 'ada', real_name: 'Ada' },
    { id: 'UBOB', name: 'bob', real_name: 'Bob' },
  ]),
  'channels.json': json([
    { id: 'CGEN', name: 'general', created: T0, members: ['UADA', 'UBOB'] },
    { id: 'CRND', name: 'random', created: T0, members: ['UBOB'] },
  ]),
  'general/2023-11-14.json': json([
    { type: 'message', user: 'UADA', text: 'hello', ts: ts(10) },
    { type: 'message', user: 'UBOB', text: 'hi', ts: ts(20) },
  ]),
  'random/2023-11-14.json': json([{ type: 'message', user: 'UBOB', text: 'random', ts: ts(30) }]),
};

/**
 * A zip of the good export plus `general/2023-11-15.json`: `size` zero bytes deflated, streamed
 * to disk (the test never holds them), with honest headers (size and CRC).
 */
async function bombZip(file: string, size: number): Promise<void> {
  const head = Buffer.from(zipSync(good));
  // The good entries' central directory starts where the EOCD says; split it off to append one.
  const eocd = head.length - 22;
  const cdOffset = head.readUInt32LE(eocd + 16);
  const cdSize = head.readUInt32LE(eocd + 12);
  const count = head.readUInt16LE(eocd + 10);
  const out = createWriteStream(file);
  out.write(head.subarray(0, cdOffset));
  const name = Buffer.from('general/2023-11-15.json');
  const chunk = Buffer.alloc(1 << 20);
  let crc = 0;
  for (let n = 0; n < size; n += chunk.length) crc = crc32(chunk, crc);
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  for (let n = 0; n < size; n += chunk.length) if (!deflate.write(chunk)) await once(deflate, 'drain');
  deflate.end();
  await once(deflate, 'end');
  const data = Buffer.concat(parts);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  out.write(local);
  out.write(name);
  out.write(data);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(cdOffset, 42);
  out.write(head.subarray(cdOffset, cdOffset + cdSize));
  out.write(central);
  out.write(name);
  const end = Buffer.from(head.subarray(eocd));
  end.writeUInt16LE(count + 1, 8);
  end.writeUInt16LE(count + 1, 10);
  end.writeUInt32LE(cdSize + 46 + name.length, 12);
  end.writeUInt32LE(cdOffset + 30 + name.length + data.length, 16);
  out.write(end);
  out.end();
  await once(out, 'finish');
}

describe.each(importModes(import.meta.url))('parley import slack refuses bad exports (%s)', (mode) => {
  let t: ImportTarget;
  const zip = (name: string, entries: Record<string, Uint8Array>) => t.zip(name, entries);
  const imp = (file: string, ...more: string[]) => t.importFile('slack', file, ...more);

  beforeAll(async () => {
    t = await startImportTarget(mode, { email: 'owner@example.com', name: 'Owner' });
    await stop(t.server);
  }, SLOW);
  afterAll(async () => {
    await cleanUp();
    await closeAll();
  });

  it(
    'refuses a day file inflating to 1 GiB, in bounded memory, before touching the database',
    async () => {
      const bomb = path.join(t.dir, 'bomb.zip');
      await bombZip(bomb, 1024 * 1024 * 1024);
      const rssFile = path.join(t.dir, 'rss');
      const preload = path.join(t.dir, 'rss.cjs');
      writeFileSync(
        preload,
        // VmHWM: this process's own peak since its exec. Not `resourceUsage().maxRSS`: Linux
        // carries the forked copy of the parent into it, so in a full test run it reported the
        // test worker's 500–600 MB rather than the import's ~130 MB.
        `process.on('exit', () => { const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(rssFile)}, /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); });`,
      );
      const measured = async (...more: string[]) => {
        const r = await runParley(['import', 'slack', bomb, '--workspace', t.workspace, '--data', t.data, ...more], {
          ...t.dbEnv,
          NODE_OPTIONS: `--require ${preload}`,
        });
        return { ...r, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
      };
      let r = await measured();
      expect(r.code, r.err).toBe(1);
      expect(r.err.trim()).toBe(
        'parley: general/2023-11-15.json inflates more than 100 times its compressed size (--max-ratio): refused as a possible zip bomb',
      );
      expect(r.rssMb).toBeLessThan(BOMB_RSS_LIMIT_MB);
      console.log(`bomb refused by ratio: peak RSS ${r.rssMb.toFixed(0)} MB`);
      // Past the ratio, the size of one entry stops it.
      r = await measured('--max-ratio', '5000', '--max-entry-size', '64MiB');
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/general\/2023-11-15\.json inflates to more than 64 MiB \(--max-entry-size\)/);
      expect(r.rssMb).toBeLessThan(BOMB_RSS_LIMIT_MB);
      console.log(`bomb refused by entry size (64 MiB): peak RSS ${r.rssMb.toFixed(0)} MB`);
      r = await measured('--max-ratio', '5000', '--max-total-size', '32MiB');
      expect(r.err).toMatch(
        /the export inflates to more than 32 MiB \(--max-total-size\), at general\/2023-11-15\.json/,
      );
      let plain = await imp(bomb, '--max-entries', '3');
      expect([plain.code, plain.err.trim()]).toEqual([
        1,
        'parley: the export has 5 entries, more than the limit of 3 (--max-entries)',
      ]);
      plain = await imp(bomb, '--max-ratio', 'lots');
      expect([plain.code, plain.err.trim()]).toEqual([
        2,
        'parley: --max-ratio takes a positive whole number, got "lots"',
      ]);
    },
    SLOW * 2,
  );

  it(
    'refuses unsafe entry names, naming each',
    async () => {
      const file = zip('names.zip', {
        ...good,
        '../../evil.json': json([]),
        '/etc/abs.json': json([]),
        'general\\back.json': json([]),
        'nul\0.json': json([]),
      });
      let r = await imp(file);
      expect(r.code).toBe(1);
      expect(r.err).toContain('parley: the export has 4 problems; nothing was imported:');
      for (const line of [
        "../../evil.json: unsafe entry name: a '..' in the path; not read",
        '/etc/abs.json: unsafe entry name: an absolute path; not read',
        'general\\back.json: unsafe entry name: a backslash in the name; not read',
        'nul\0.json: unsafe entry name: a NUL character in the name; not read',
      ])
        expect(r.err).toContain(`  ${line}`);
      r = await imp(file, '--dry-run', '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).problems).toHaveLength(4);
    },
    SLOW,
  );

  it(
    'refuses channels.json of wrong types and a day file that is not JSON; --dry-run lists every problem',
    async () => {
      const file = zip('types.zip', {
        ...good,
        'channels.json': json([
          { id: 'CGEN', name: 42, members: 'everyone' },
          { id: 'CRND', name: 'random', created: 'yesterday' },
        ]),
        'random/2023-11-15.json': json('[{"ts": "1700000000.000200", "text": "cut'),
      });
      let r = await imp(file, '--dry-run');
      expect(r.code, r.err).toBe(1);
      expect(r.out.trim().split('\n')).toEqual([
        'Dry run: the export has 2 problems; it would be refused:',
        '  channels.json: [0].name: Expected string (got 42)',
        '  channels.json: [1].created: Expected union value (got "yesterday")',
      ]);
      const day = zip('day.zip', {
        ...good,
        'random/2023-11-15.json': json('[{"ts": "1700000000.000200", "text": "cut'),
      });
      r = await imp(day);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /^parley: the export has 1 problem; nothing was imported:\n {2}random\/2023-11-15\.json: not valid JSON/,
      );
      r = await imp(day, '--dry-run', '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out)).toEqual({
        dry_run: true,
        problems: [{ file: 'random/2023-11-15.json', reason: expect.stringMatching(/^not valid JSON/) }],
      });
    },
    SLOW,
  );

  it(
    'wrote nothing: the good export then imports everything as new',
    async () => {
      const r = await imp(zip('good.zip', good), '--json');
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.users).toMatchObject({ created: 2, existing: 0 });
      expect(report.channels).toMatchObject({ imported: 2, existing: 0, archived: 0 });
      expect(report.messages).toMatchObject({ imported: 3, existing: 0 });
    },
    SLOW,
  );
});
