/**
 * The Mattermost import refuses a bad export as a whole and never half-imports (issue 59): every
 * problem is found before anything is written, each named by file, line and reason as
 * `mmctl import validate` names them, and the writes are one transaction. Each case compares the
 * row count of every table before and after.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExportLimitError,
  ExportRefusedError,
  importMattermostExport,
  openMattermostExport,
} from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import type { BlobStore } from '../../src/platform/storage/index.js';
import { buildAccount, buildWorkspace } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(tmpdir(), 'parley-mm-'));
});
afterAll(async () => h?.close());

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const at = (s: number) => T0 + s * 1000;
const line = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const jsonl = (lines: unknown[]) => Buffer.from(`${lines.map(line).join('\n')}\n`);

const good = [
  { type: 'version', version: 1 },
  { type: 'team', team: { name: 'acme', display_name: 'Acme', type: 'O' } },
  { type: 'channel', channel: { team: 'acme', name: 'town-square', display_name: 'Town Square', type: 'O' } },
  {
    type: 'user',
    user: { username: 'ada', email: 'ada@example.com', teams: [{ name: 'acme', channels: [{ name: 'town-square' }] }] },
  },
  { type: 'user', user: { username: 'bob', email: 'bob@example.com', teams: [{ name: 'acme' }] } },
  {
    type: 'post',
    post: {
      team: 'acme',
      channel: 'town-square',
      user: 'ada',
      message: 'hello',
      create_at: at(10),
      replies: [{ user: 'bob', message: 'hi', create_at: at(20) }],
      attachments: [{ path: 'f1/a.txt' }],
    },
  },
];

/** A zip of `entries` (deflated), written the way any zip tool writes one. */
function zipFile(name: string, entries: [string, Buffer][]): string {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [entry, data] of entries) {
    const packed = deflateRawSync(data);
    const fileName = Buffer.from(entry);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, packed);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([...locals, cd, end]));
  return file;
}

/** The row count of every table of the database. */
async function counts(): Promise<Record<string, number>> {
  const tables = await rows<{ name: string }>(
    h.database.db,
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [r] = await rows<{ n: number }>(h.database.db, sql`select count(*)::int as n from ${sql.identifier(t.name)}`);
    out[t.name] = r?.n ?? -1;
  }
  return out;
}

async function workspace() {
  const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
  return buildWorkspace(owner, 'Imported');
}

async function refused(p: Promise<unknown>): Promise<ExportRefusedError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ExportRefusedError);
  return e as ExportRefusedError;
}

describe('a bad Mattermost export is refused with every problem, and nothing is written', () => {
  it('names each bad line with its number and reason: not JSON, unknown channel and user, a reply before its post, wrong types', async () => {
    const ws = await workspace();
    const before = await counts();
    const bad = jsonl([
      ...good, // lines 1–6
      '{"type": "post", "post": {"team": "acme", "channel": "town-square", "user": "ada", "message": "cut', // 7
      { type: 'post', post: { team: 'acme', channel: 'nowhere', user: 'ada', message: 'lost', create_at: at(30) } }, // 8
      {
        type: 'post',
        post: {
          team: 'acme',
          channel: 'town-square',
          user: 'ada',
          message: 'answered before asked',
          create_at: at(50),
          replies: [{ user: 'bob', message: 'reply to nothing', create_at: at(40) }],
        },
      }, // 9
      { type: 'post', post: { team: 'acme', channel: 'town-square', user: 'ada', message: 42, create_at: at(60) } }, // 10
      { type: 'user', user: { username: 'cat', teams: 'acme' } }, // 11
      { type: 'channel', channel: { team: 'acme', name: 'side', type: 'X' } }, // 12
      { type: 'post', post: { team: 'acme', channel: 'town-square', user: 'zed', message: 'who?', create_at: at(70) } }, // 13
      {
        type: 'post',
        post: {
          team: 'acme',
          channel: 'town-square',
          user: 'ada',
          message: 'r',
          create_at: at(80),
          reactions: [{ user: 'nobody', emoji_name: 'smile', create_at: at(81) }],
          flagged_by: ['ghost'],
        },
      }, // 14
      { type: 'thread', thread: {} }, // 15
      { type: 'post', post: { team: 'acme', channel: 'town-square', user: 'ada', message: 'no time' } }, // 16
    ]);
    for (const dryRun of [true, false]) {
      const e = await refused(importMattermostExport(h.database, ws.id, new Map([['import.jsonl', bad]]), { dryRun }));
      expect(e.problems).toEqual([
        { file: 'import.jsonl:7', reason: expect.stringMatching(/^not valid JSON \(/) },
        { file: 'import.jsonl:10', reason: 'post.message: Expected string (got 42)' },
        { file: 'import.jsonl:11', reason: 'user.teams: Expected union value (got "acme")' },
        { file: 'import.jsonl:12', reason: expect.stringMatching(/^channel\.type: Expected union value \(got "X"\)$/) },
        { file: 'import.jsonl:15', reason: 'unknown line type "thread"' },
        { file: 'import.jsonl:16', reason: 'post.create_at: Expected required property' },
        { file: 'import.jsonl:8', reason: 'post.channel: no channel nowhere in team acme' },
        {
          file: 'import.jsonl:9',
          reason:
            "post.replies[0].create_at: 2024-01-15T09:00:40.000Z is before its post's 2024-01-15T09:00:50.000Z: a reply to a message not yet written",
        },
        { file: 'import.jsonl:13', reason: 'post.user: no user zed in the export' },
        { file: 'import.jsonl:14', reason: 'post.reactions[0].user: no user nobody in the export' },
        { file: 'import.jsonl:14', reason: 'post.flagged_by[0]: no user ghost in the export' },
      ]);
      expect(e.message).toContain('import.jsonl:8: post.channel: no channel nowhere in team acme');
    }
    expect(await counts()).toEqual(before);
  });

  it('needs the version line first, and a .jsonl at all', async () => {
    const ws = await workspace();
    const before = await counts();
    let e = await refused(importMattermostExport(h.database, ws.id, new Map([['import.jsonl', jsonl(good.slice(1))]])));
    expect(e.problems).toEqual([
      {
        file: 'import.jsonl:1',
        reason: 'the first line must be the version line, {"type":"version","version":1}',
      },
    ]);
    e = await refused(
      importMattermostExport(
        h.database,
        ws.id,
        new Map([['import.jsonl', jsonl([{ type: 'version', version: 2 }, ...good.slice(1)])]]),
      ),
    );
    expect(e.problems).toEqual([
      { file: 'import.jsonl:1', reason: "version: Mattermost's bulk format version 1 is supported (got 2)" },
    ]);
    // A line of bytes that are not UTF-8 is named, and the lines around it still read.
    const mangled = Buffer.concat([
      jsonl(good.slice(0, 2)),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      jsonl(good.slice(2)),
    ]);
    e = await refused(importMattermostExport(h.database, ws.id, new Map([['import.jsonl', mangled]])));
    expect(e.problems).toEqual([{ file: 'import.jsonl:3', reason: 'not UTF-8 text' }]);
    e = await refused(importMattermostExport(h.database, ws.id, new Map([['import.jsonl', Buffer.from('\n \n')]])));
    expect(e.problems).toEqual([{ file: 'import.jsonl', reason: 'empty: no lines' }]);
    e = await refused(importMattermostExport(h.database, ws.id, new Map([['users.json', Buffer.from('[]')]])));
    expect(e.problems).toEqual([
      { file: 'import.jsonl', reason: 'missing: the export holds no .jsonl file (is it a Mattermost bulk export?)' },
    ]);
    expect(await counts()).toEqual(before);
  });

  it('refuses unsafe entry names and attachment paths, naming each', async () => {
    const ws = await workspace();
    const before = await counts();
    const file = zipFile('names.zip', [
      ['import.jsonl', jsonl(good)],
      ['data/f1/a.txt', Buffer.from('a')],
      ['../../evil.txt', Buffer.from('x')],
      ['/etc/abs.txt', Buffer.from('x')],
    ]);
    const archive = await openMattermostExport(file);
    try {
      const e = await refused(importMattermostExport(h.database, ws.id, archive));
      expect(e.problems).toEqual([
        { file: '../../evil.txt', reason: "unsafe entry name: a '..' in the path; not read" },
        { file: '/etc/abs.txt', reason: 'unsafe entry name: an absolute path; not read' },
      ]);
    } finally {
      await archive.close();
    }
    const sneaky = good.map((l: any) =>
      l.type === 'post'
        ? { ...l, post: { ...l.post, attachments: [{ path: '../../../etc/passwd' }] } }
        : l.type === 'user' && l.user.username === 'bob'
          ? { ...l, user: { ...l.user, profile_image: '/etc/shadow' } }
          : l,
    );
    const e = await refused(importMattermostExport(h.database, ws.id, new Map([['import.jsonl', jsonl(sneaky)]])));
    expect(e.problems).toEqual([
      { file: 'import.jsonl:5', reason: 'profile_image: unsafe (an absolute path): /etc/shadow' },
      { file: 'import.jsonl:6', reason: "post.attachments[0].path: unsafe (a '..' in the path): ../../../etc/passwd" },
    ]);
    expect(await counts()).toEqual(before);
  });

  it('refuses a zip bomb by the zip limits, before anything is read into the database', async () => {
    const before = await counts();
    // 64 MiB of zeros deflate to about 64 KiB: a ratio of about 1000.
    const file = zipFile('bomb.zip', [
      ['import.jsonl', jsonl(good)],
      ['data/f1/a.txt', Buffer.alloc(64 * 1024 * 1024)],
    ]);
    const e = await openMattermostExport(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExportLimitError);
    expect((e as ExportLimitError).limit).toBe('ratio');
    expect((e as Error).message).toBe(
      'data/f1/a.txt inflates more than 100 times its compressed size (--max-ratio): refused as a possible zip bomb',
    );
    const bySize = await openMattermostExport(file, {
      maxEntries: 100,
      maxEntryBytes: 8 * 1024 * 1024,
      maxTotalBytes: 1024 ** 3,
      maxRatio: 10_000,
    }).catch((x: unknown) => x);
    expect(bySize).toBeInstanceOf(ExportLimitError);
    expect((bySize as ExportLimitError).limit).toBe('entry size');
    expect(await counts()).toEqual(before);
  });

  it('a failure part-way through the writes leaves nothing of the export (one transaction)', async () => {
    const ws = await workspace();
    const export_ = new Map<string, Uint8Array>([
      ['import.jsonl', jsonl(good)],
      ['data/f1/a.txt', Buffer.from('hello')],
    ]);
    const broken = {
      putBytes: async () => {
        throw new Error('disk full');
      },
    } as unknown as BlobStore;
    const before = await counts();
    await expect(importMattermostExport(h.database, ws.id, export_, { store: broken })).rejects.toThrow('disk full');
    expect(await counts()).toEqual(before);
  });
});
