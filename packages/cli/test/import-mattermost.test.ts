/**
 * `parley import mattermost` end to end (issue 59): a Mattermost bulk export built here (the zip
 * of `mmctl export create --attachments`, and a bare `.jsonl`), imported by the real CLI process
 * into a workspace made through the API. The same flags, output and exit codes as `parley import
 * slack`: a dry run first, the report, a re-run that adds nothing, a bad export refused with
 * `file:line: reason`, several teams refused without `--team`, a zip bomb refused by the limits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from './chaos/infra.js';
import { type ImportTarget, importModes, startImportTarget } from './import-target.js';
import { cleanUp, run as runParley, SLOW, stop } from './spawn.js';

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const at = (s: number) => T0 + s * 1000;
const jsonl = (lines: unknown[]) =>
  strToU8(`${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);

const FILE = '20240115/teams/t1/channels/c1/users/u1/f1/notes.txt';
const lines = [
  { type: 'version', version: 1 },
  { type: 'team', team: { name: 'acme', display_name: 'Acme', type: 'O' } },
  { type: 'channel', channel: { team: 'acme', name: 'town-square', display_name: 'Town Square', type: 'O' } },
  { type: 'channel', channel: { team: 'acme', name: 'plans', display_name: 'Plans', type: 'P' } },
  {
    type: 'user',
    user: {
      username: 'ada',
      email: 'ada@example.com',
      first_name: 'Ada',
      teams: [{ name: 'acme', channels: [{ name: 'town-square' }, { name: 'plans' }] }],
    },
  },
  {
    type: 'user',
    user: { username: 'bob', email: 'bob@example.com', teams: [{ name: 'acme', channels: [{ name: 'town-square' }] }] },
  },
  {
    type: 'post',
    post: {
      team: 'acme',
      channel: 'town-square',
      user: 'ada',
      message: 'hello @bob',
      create_at: at(10),
      reactions: [{ user: 'bob', emoji_name: 'wave', create_at: at(11) }],
      replies: [{ user: 'bob', message: 'hi', create_at: at(20), attachments: [{ path: FILE }] }],
    },
  },
  { type: 'post', post: { team: 'acme', channel: 'plans', user: 'ada', message: 'secret', create_at: at(30) } },
  { type: 'direct_channel', direct_channel: { members: ['ada', 'bob'] } },
  {
    type: 'direct_post',
    direct_post: { channel_members: ['ada', 'bob'], user: 'bob', message: 'dm', create_at: at(40) },
  },
];

describe.each(importModes(import.meta.url))('parley import mattermost (%s)', (mode) => {
  let t: ImportTarget;
  const zip = (name: string, entries: Record<string, Uint8Array>) => t.zip(name, entries);
  const imp = (file: string, ...more: string[]) => t.importFile('mattermost', file, ...more);

  beforeAll(async () => {
    t = await startImportTarget(mode, { email: 'owner@example.com', name: 'Owner' });
    await stop(t.server);
  }, SLOW);
  afterAll(async () => {
    await cleanUp();
    await closeAll();
  });

  it(
    'refuses a bad export with file:line and reason, and several teams without --team; writes nothing',
    async () => {
      const bad = zip('bad.zip', {
        'import.jsonl': jsonl([
          ...lines.slice(0, 6),
          '{"type": "post", "post": {',
          { type: 'post', post: { team: 'acme', channel: 'nowhere', user: 'ada', message: 'x', create_at: at(50) } },
        ]),
      });
      let r = await imp(bad, '--dry-run');
      expect(r.code, r.err).toBe(1);
      expect(r.out.trim().split('\n')).toEqual([
        'Dry run: the export has 2 problems; it would be refused:',
        expect.stringMatching(/^ {2}import\.jsonl:7: not valid JSON \(/),
        '  import.jsonl:8: post.channel: no channel nowhere in team acme',
      ]);
      r = await imp(bad, '--dry-run', '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out)).toEqual({
        dry_run: true,
        problems: [
          { file: 'import.jsonl:7', reason: expect.stringMatching(/^not valid JSON/) },
          { file: 'import.jsonl:8', reason: 'post.channel: no channel nowhere in team acme' },
        ],
      });
      r = await imp(bad);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^parley: the export has 2 problems; nothing was imported:\n {2}import\.jsonl:7: /);

      const two = zip('two.zip', {
        'import.jsonl': jsonl([...lines, { type: 'team', team: { name: 'beta', display_name: 'Beta', type: 'O' } }]),
      });
      r = await imp(two);
      expect([r.code, r.err.trim()]).toEqual([
        1,
        'parley: the export has 2 teams (acme, beta): choose the one to import with --team NAME',
      ]);
      r = await imp(two, '--team', 'gamma', '--dry-run');
      expect([r.code, r.err.trim()]).toEqual([1, 'parley: the export has no team gamma; its teams: acme, beta']);
      r = await runParley(['import', 'mattermost', two, '--data', t.data], t.dbEnv);
      expect([r.code, r.err.trim()]).toEqual([2, 'parley: parley import mattermost needs --workspace WORKSPACE_ID']);
    },
    SLOW * 2,
  );

  it(
    'refuses a zip bomb by its limits before opening the database',
    async () => {
      const bomb = zip('bomb.zip', {
        'import.jsonl': jsonl(lines),
        [`data/${FILE}`]: new Uint8Array(32 * 1024 * 1024),
      });
      const r = await imp(bomb);
      expect([r.code, r.err.trim()]).toEqual([
        1,
        `parley: data/${FILE} inflates more than 100 times its compressed size (--max-ratio): refused as a possible zip bomb`,
      ]);
    },
    SLOW,
  );

  it(
    'imports the zip after a dry run, then a re-run adds nothing',
    async () => {
      const file = zip('export.zip', { 'import.jsonl': jsonl(lines), [`data/${FILE}`]: strToU8('notes\n') });
      let r = await imp(file, '--dry-run');
      expect(r.code, r.err).toBe(0);
      expect(r.out.split('\n')[0]).toBe('Dry run: nothing was written. It would import team acme:');
      r = await imp(file, '--json');
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out);
      expect(report).toMatchObject({
        dry_run: false,
        team: 'acme',
        users: { matched: 0, created: 2, existing: 0 },
        channels: { imported: 3, existing: 0, private: 1, dms: 1, group_dms: 0 },
        messages: { imported: 4, existing: 0, replies: 1 },
        reactions: 1,
        files: { attached: 1, skipped: 0 },
      });
      r = await imp(file);
      expect(r.code, r.err).toBe(0);
      expect(r.out.split('\n').slice(0, 5)).toEqual([
        'Imported team acme:',
        '  users:     0 matched by email, 0 created, 2 already there, 0 bots',
        '  channels:  0 new, 3 already there (0 archived; 1 private, 0 group DMs, 1 DMs)',
        '  messages:  0 (0 thread replies, 0 system notes); 4 already imported',
        '  reactions: 0   pins: 0   files: 0 attached, 0 skipped',
      ]);
    },
    SLOW,
  );

  it(
    'reads a bare .jsonl, its attachments from the data/ folder beside it',
    async () => {
      const bare = path.join(t.dir, 'bare');
      mkdirSync(path.join(bare, 'data', path.dirname(FILE)), { recursive: true });
      // As exported later: one post more.
      const more = [
        ...lines,
        { type: 'post', post: { team: 'acme', channel: 'plans', user: 'ada', message: 'later', create_at: at(60) } },
      ];
      writeFileSync(path.join(bare, 'import.jsonl'), jsonl(more));
      writeFileSync(path.join(bare, 'data', FILE), 'notes\n');
      const r = await imp(path.join(bare, 'import.jsonl'), '--json');
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({
        channels: { imported: 0, existing: 3 },
        messages: { imported: 1, existing: 4 },
      });
    },
    SLOW,
  );
});
