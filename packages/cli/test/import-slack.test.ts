/**
 * `parley import slack` end to end: a synthetic Slack export built here, imported by the real
 * CLI process into a workspace made through the API, then read back through the REST API of a
 * server started on the data folder afterwards.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from './chaos/infra.js';
import { importModes, startImportTarget } from './import-target.js';
import { cleanUp, type Proc, run as runParley, SLOW, startServer, stop } from './spawn.js';

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const ts = (s: number, micro = 0) => `${T0 + s}.${String(micro).padStart(6, '0')}`;
const iso = (s: number) => new Date((T0 + s) * 1000).toISOString();

const ADA_EMAIL = 'ada@example.com';

/** The export; `later`: as exported a day later, with one more channel and a late thread reply. */
function slackExport(later = false): Uint8Array {
  const users = [
    { id: 'UADA', name: 'ada.slack', real_name: 'Ada Lovelace', profile: { email: ADA_EMAIL, real_name: 'Ada L.' } },
    {
      id: 'UBOB',
      name: 'bob',
      real_name: 'Bob Builder',
      profile: { email: 'bob@example.com', real_name: 'Bob Builder' },
    },
    { id: 'UGONE', name: 'gone', deleted: true, profile: { email: 'gone@example.com', real_name: 'Gone Person' } },
  ];
  const channels = [
    {
      id: 'CGEN',
      name: 'general',
      created: T0,
      creator: 'UADA',
      members: ['UADA', 'UBOB', 'UGONE'],
      topic: { value: 'Company-wide' },
      purpose: { value: 'Talk about anything' },
    },
    { id: 'COLD', name: 'old-stuff', created: T0 + 5, creator: 'UBOB', is_archived: true, members: ['UADA', 'UBOB'] },
  ];
  const general1 = [
    { type: 'message', subtype: 'channel_join', user: 'UBOB', text: '<@UBOB> has joined the channel', ts: ts(1) },
    {
      type: 'message',
      user: 'UADA',
      text: 'Hello <@UBOB> &amp; <!here>: see <https://example.com/doc|the doc> and <#COLD|old-stuff> &lt;3',
      ts: ts(10),
      thread_ts: ts(10),
      reply_count: 2,
      reactions: [
        { name: 'thumbsup', users: ['UBOB', 'UADA'], count: 2 },
        { name: 'tada', users: ['UNOBODY'], count: 1 },
      ],
      pinned_to: ['CGEN'],
    },
    { type: 'message', user: 'UBOB', text: 'first reply zebra', ts: ts(20), thread_ts: ts(10), parent_user_id: 'UADA' },
    {
      type: 'message',
      user: 'UGONE',
      text: 'second reply, edited',
      ts: ts(30),
      thread_ts: ts(10),
      edited: { user: 'UGONE', ts: ts(40) },
    },
  ];
  const general2 = [
    {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'BDEPLOY',
      username: 'deploybot',
      text: 'Deployed v1.2 quokka',
      ts: ts(86_400 + 1),
      bot_profile: { name: 'Deploy Bot' },
    },
    {
      type: 'message',
      subtype: 'channel_name',
      user: 'UADA',
      name: 'general',
      old_name: 'lobby',
      text: '<@UADA> has renamed the channel from "lobby" to "general"',
      ts: ts(86_400 + 2),
    },
    {
      type: 'message',
      subtype: 'channel_leave',
      user: 'UGONE',
      text: '<@UGONE> has left the channel',
      ts: ts(86_400 + 3),
    },
    {
      type: 'message',
      user: 'UADA',
      text: 'two files',
      ts: ts(86_400 + 4),
      files: [
        { id: 'FWITH', name: 'notes.txt', mimetype: 'text/plain', size: 5 },
        { id: 'FGONE', name: 'lost.png', mimetype: 'image/png', size: 100 },
      ],
    },
    { type: 'message', user: 'USTRANGER', text: 'who am I', ts: ts(86_400 + 5) },
    { type: 'message', subtype: 'weird_thing', user: 'UADA', text: 'odd', ts: ts(86_400 + 6) },
  ];
  const old = [{ type: 'message', user: 'UBOB', text: 'archived but kept', ts: ts(100) }];
  const json = (v: unknown) => strToU8(JSON.stringify(v));
  return zipSync({
    'users.json': json(users),
    'channels.json': json(channels),
    'general/2023-11-14.json': json(general1),
    'general/2023-11-15.json': json(general2),
    'old-stuff/2023-11-14.json': json(old),
    '__uploads/FWITH/notes.txt': strToU8('notes'),
    'dms.json': json([{ id: 'D1', members: ['UADA', 'UBOB'] }]),
    ...(later
      ? {
          'channels.json': json([...channels, { id: 'CLATE', name: 'later', created: T0 + 90_000, members: ['UBOB'] }]),
          'general/2023-11-16.json': json([
            { type: 'message', user: 'UBOB', text: 'late reply', ts: ts(2 * 86_400), thread_ts: ts(10) },
          ]),
          'later/2023-11-16.json': json([
            { type: 'message', user: 'UBOB', text: 'new channel', ts: ts(2 * 86_400 + 1) },
          ]),
        }
      : {}),
  });
}

describe.each(importModes(import.meta.url))('parley import slack (%s)', (mode) => {
  // Made in beforeAll: cleanUp() of the suite before removes every folder made before it.
  let dir = '';
  let data = '';
  let zip = '';
  let dbEnv: NodeJS.ProcessEnv = {};
  const run = (args: string[]) => runParley(args, dbEnv);
  let port = 0;
  let server: Proc | null = null;
  let workspace = '';
  let adaId = '';
  let auth: Record<string, string> = {};
  const base = () => `http://127.0.0.1:${port}`;
  const get = async (url: string) => {
    const r = await fetch(`${base()}${url}`, { headers: auth });
    const body = (await r.json()) as any;
    expect(r.status, JSON.stringify(body)).toBe(200);
    return body;
  };

  beforeAll(async () => {
    const t = await startImportTarget(mode, { email: ADA_EMAIL, name: 'Ada' });
    ({ dir, data, dbEnv, port, server, workspace } = t);
    adaId = t.ownerId;
    auth = t.auth;
    zip = path.join(dir, 'export.zip');
    writeFileSync(zip, slackExport());
  }, SLOW);
  afterAll(async () => {
    await cleanUp();
    await closeAll();
  });

  it(
    'goes through the server that owns the data folder (PGlite)',
    async () => {
      // On PostgreSQL the import runs beside servers, on its own; here the server just stops.
      if (mode === 'pglite') {
        const r = await run(['import', 'slack', zip, '--workspace', workspace, '--data', data, '--dry-run', '--json']);
        expect(r.code, r.err).toBe(0);
        expect(JSON.parse(r.out)).toMatchObject({ dry_run: true, messages: { imported: expect.any(Number) } });
        // The server's progress, drawn here.
        expect(r.err).toMatch(/parley: channel 1\/\d+ #/);
        const unknown = ['--workspace', '0190a000-0000-7000-8000-000000000000', '--data', data];
        const u = await run(['import', 'slack', zip, ...unknown]);
        expect([u.code, u.err.trim()]).toEqual([
          1,
          'parley: no workspace with id 0190a000-0000-7000-8000-000000000000',
        ]);
      }
      await stop(server as Proc);
      server = null;
    },
    SLOW,
  );

  it(
    'rejects bad inputs with a clear error and writes nothing',
    async () => {
      const notZip = path.join(dir, 'not.zip');
      writeFileSync(notZip, 'hello');
      const noUsers = path.join(dir, 'nousers.zip');
      writeFileSync(noUsers, zipSync({ 'channels.json': strToU8('[]') }));
      let r = await run(['import', 'slack', notZip, '--workspace', workspace, '--data', data]);
      expect([r.code, r.err.trim()]).toEqual([1, `parley: ${notZip} is not a zip file`]);
      r = await run(['import', 'slack', noUsers, '--workspace', workspace, '--data', data]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/ {2}users\.json: missing \(is it a Slack workspace export\?\)/);
      r = await run(['import', 'slack', zip, '--workspace', '0190a000-0000-7000-8000-000000000000', '--data', data]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/no workspace with id 0190a000-0000-7000-8000-000000000000/);
      r = await run(['import', 'slack', zip, '--data', data]);
      expect(r.code).toBe(2);
      // A dry run reports and writes nothing either (checked with the server below).
      r = await run(['import', 'slack', zip, '--workspace', workspace, '--data', data, '--dry-run', '--json']);
      expect(r.code, r.err).toBe(0);
      const dry = JSON.parse(r.out);
      expect(dry.dry_run).toBe(true);
      expect(dry.messages.imported).toBe(7);
    },
    SLOW,
  );

  it(
    'imports the export, and a re-run imports nothing',
    async () => {
      const first = await run(['import', 'slack', zip, '--workspace', workspace, '--data', data, '--json']);
      expect(first.code, first.err).toBe(0);
      const report = JSON.parse(first.out);
      // Everything is new: the bad inputs and the dry run before wrote nothing.
      expect(report.users).toMatchObject({ matched: 1, created: 2, bots: 1, deactivated: ['Gone Person (UGONE)'] });
      // The DM of dms.json too (no days): dm:<id of Ada and Bob>.
      expect(report.channels).toEqual({ imported: 3, existing: 0, archived: 1, private: 0, group_dms: 0, dms: 1 });
      // general: parent, 2 replies, bot, rename note, "two files"; old-stuff: 1.
      expect(report.messages).toEqual({ imported: 7, existing: 0, replies: 2, system: 1 });
      expect(report.reactions).toBe(2);
      expect(report.pins).toBe(1);
      expect(report.files).toEqual({ attached: 1, skipped: 1 });
      expect(report.skipped.by_reason).toEqual({
        'join/leave message': 2,
        'unknown user': 2,
        'unsupported subtype': 1,
        'file not in export': 1,
      });
      expect(first.err).toMatch(/channel 3\/3/);

      const again = await run(['import', 'slack', zip, '--workspace', workspace, '--data', data, '--json']);
      expect(again.code, again.err).toBe(0);
      const second = JSON.parse(again.out);
      expect(second.messages).toEqual({ imported: 0, existing: 7, replies: 0, system: 0 });
      expect(second.channels).toEqual({ imported: 0, existing: 3, archived: 1, private: 0, group_dms: 0, dms: 1 });
      expect(second.users.created).toBe(0);
      expect(second.reactions).toBe(0);

      const text = await run(['import', 'slack', zip, '--workspace', workspace, '--data', data]);
      expect(text.out).toMatch(/Deactivated in Slack \(kept as authors, not claimable\): .*Gone Person/);
    },
    SLOW * 3,
  );

  it(
    'serves the imported workspace through the API',
    async () => {
      server = await startServer(port, data, dbEnv);
      const { channel, members } = await get('/v1/channels/public:general');
      expect(channel).toMatchObject({ name: 'general', topic: 'Company-wide', description: 'Talk about anything' });
      expect(channel.archived).toBe(false);
      // Gone (deleted in Slack) is no member: kept as an author only.
      expect(members.map((m: any) => m.user_id).sort()).toEqual([adaId, 'slack-UBOB'].sort());
      const old = await get('/v1/channels/public:old-stuff');
      expect(old.channel.archived).toBe(true);

      const bob = await get('/v1/users/slack-UBOB');
      expect(bob.user ?? bob).toMatchObject({ name: 'Bob Builder', username: 'bob' });

      const { messages } = await get('/v1/channels/public:general/messages');
      const top = messages.filter((m: any) => !m.parent_id);
      expect(top.map((m: any) => m.created_at)).toEqual([iso(10), iso(86_401), iso(86_402), iso(86_404)]);
      const [parent, bot, note, files] = top;
      expect(parent.text).toBe('Hello @bob & @here: see [the doc](https://example.com/doc) and #old-stuff <3');
      expect(parent).toMatchObject({
        user_id: adaId,
        mentioned_users: ['slack-UBOB'],
        mentioned_here: true,
        reply_count: 2,
        reactions: { thumbsup: 2 },
        pinned: true,
      });
      expect(bot).toMatchObject({ user_id: 'slack-bot-BDEPLOY', text: 'Deployed v1.2 quokka' });
      expect(note).toMatchObject({ type: 'system', text: 'Ada renamed the channel from #lobby to #general' });
      // The file the export lacks leaves a clear trace in the message.
      expect(files.text).toBe('two files\n📎 lost.png (image/png, 100 B) — not in the export');
      expect(files.attachments).toMatchObject([{ name: 'notes.txt', size: 5, mime_type: 'text/plain' }]);
      const bytes = await fetch(`${base()}${files.attachments[0].url}`, { headers: auth });
      expect([bytes.status, await bytes.text()]).toEqual([200, 'notes']);

      const replies = (await get(`/v1/messages/${parent.id}/replies`)).messages;
      expect(replies.map((m: any) => [m.user_id, m.created_at])).toEqual([
        ['slack-UBOB', iso(20)],
        ['slack-UGONE', iso(30)],
      ]);
      expect(replies[1].edited_at).toBe(iso(40));

      const pinned = (await get('/v1/channels/public:general/pinned')).messages;
      expect(pinned.map((m: any) => m.id)).toEqual([parent.id]);

      // The event log: one event a seq, from 1 to last_seq, with no hole.
      const events = (await get('/v1/channels/public:general/events?after=0')).events;
      expect(events.map((e: any) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(channel.last_seq).toBe(6);
      expect(events.find((e: any) => e.message?.id === parent.id).message.reply_count).toBe(2);

      // Nothing unread for the members: imported history is read.
      expect(channel.membership.last_read_seq).toBe(6);
      const q = await fetch(`${base()}/v1/channels/query`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{}',
      });
      const listed = ((await q.json()) as any).channels.find((c: any) => c.cid === 'public:general');
      expect(listed).toMatchObject({ unread_count: 0 });

      const hits =
        (await get('/v1/search/messages?q=zebra')).results ?? (await get('/v1/search/messages?q=zebra')).hits;
      expect(JSON.stringify(hits)).toContain('first reply zebra');
    },
    SLOW,
  );

  it(
    'a later export adds only what is new, threads included',
    async () => {
      await stop(server as Proc);
      server = null;
      const laterZip = path.join(dir, 'later.zip');
      writeFileSync(laterZip, slackExport(true));
      const r = await run(['import', 'slack', laterZip, '--workspace', workspace, '--data', data, '--json']);
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.messages).toEqual({ imported: 2, existing: 7, replies: 1, system: 0 });
      expect(report.channels).toEqual({ imported: 1, existing: 3, archived: 1, private: 0, group_dms: 0, dms: 1 });

      server = await startServer(port, data, dbEnv);
      const { events } = await get('/v1/channels/public:general/events?after=6');
      expect(events.map((e: any) => [e.seq, e.message.text])).toEqual([[7, 'late reply']]);
      expect(events[0].parent).toMatchObject({ reply_count: 3, last_reply_at: iso(2 * 86_400) });
      expect((await get(`/v1/messages/${events[0].parent.id}`)).message).toMatchObject({ reply_count: 3 });
      const later = await get('/v1/channels/public:later/messages');
      expect(later.messages.map((m: any) => m.text)).toEqual(['new channel']);
    },
    SLOW,
  );
});
