/**
 * A Mattermost bulk export (issue 59), generated here, imported into a workspace and read back
 * field by field: a public, a private and an archived channel with their members, a DM, a group
 * DM, a DM with oneself (skipped), a deleted user (an author only), a bot, a thread with replies
 * in time order, reactions, mentions, pins, edits, an attachment with its bytes in `data/` and
 * one without. A re-run adds nothing; several teams need `team`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportInputError, importMattermostExport, mattermostMessageId } from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import { LocalStore } from '../../src/platform/storage/index.js';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
let store: LocalStore;
beforeAll(async () => {
  h = await startHarness();
  store = new LocalStore(path.join(h.config.dataDir, 'files'));
});
afterAll(async () => h?.close());

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0); // Mattermost times are milliseconds
const at = (s: number) => T0 + s * 1000;
const iso = (s: number) => new Date(at(s)).toISOString();
const jsonl = (lines: unknown[]) => Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);

const member = (channels: [string, string?][]) => [
  {
    name: 'acme',
    roles: 'team_user',
    channels: channels.map(([name, roles]) => ({ name, roles: roles ?? 'channel_user' })),
  },
];

/** The export's lines; `adaEmail`: the workspace owner's, so Ada is matched to them. */
function lines(adaEmail: string) {
  return [
    { type: 'version', version: 1, info: { generator: 'mattermost-server', version: '9.11.0', created: iso(0) } },
    { type: 'team', team: { name: 'acme', display_name: 'Acme', type: 'O', description: 'Acme Inc.' } },
    {
      type: 'channel',
      channel: {
        team: 'acme',
        name: 'town-square',
        display_name: 'Town Square',
        type: 'O',
        header: 'Welcome',
        purpose: 'Everyone',
        deleted_at: 0,
      },
    },
    { type: 'channel', channel: { team: 'acme', name: 'plans', display_name: 'Plans', type: 'P', header: '' } },
    { type: 'channel', channel: { team: 'acme', name: 'old', display_name: 'Old', type: 'O', deleted_at: at(900) } },
    {
      type: 'user',
      user: {
        username: 'ada',
        email: adaEmail,
        first_name: 'Ada',
        last_name: 'Lovelace',
        delete_at: 0,
        teams: member([['town-square', 'channel_user channel_admin'], ['plans'], ['old']]),
      },
    },
    {
      type: 'user',
      user: {
        username: 'bob',
        email: 'bob@example.com',
        first_name: 'Bob',
        last_name: 'Builder',
        position: 'Engineer',
        profile_image: 'users/bob/profile.png',
        custom_status: { emoji: 'hammer', text: 'Building', duration: '', expires_at: '0001-01-01T00:00:00Z' },
        teams: member([['town-square'], ['plans']]),
      },
    },
    {
      type: 'user',
      user: {
        username: 'cat',
        email: 'cat@example.com',
        nickname: 'Kitty',
        profile_image: 'users/cat/profile.png',
        teams: member([['town-square']]),
      },
    },
    {
      type: 'user',
      user: {
        username: 'gone',
        email: 'gone@example.com',
        first_name: 'Gone',
        last_name: 'Person',
        delete_at: at(1000),
        teams: member([['town-square']]),
      },
    },
    { type: 'bot', bot: { username: 'deploybot', display_name: 'Deploy Bot', owner: 'ada' } },
    {
      type: 'post',
      post: {
        team: 'acme',
        channel: 'town-square',
        user: 'ada',
        message: 'Hello @bob and @all: write to ada@example.com, not `@cat`',
        create_at: at(10),
        edit_at: 0,
        is_pinned: true,
        flagged_by: ['bob', 'cat'],
        props: {},
        reactions: [
          { user: 'bob', emoji_name: '+1', create_at: at(11) },
          { user: 'cat', emoji_name: '+1', create_at: at(12) },
          { user: 'cat', emoji_name: 'tada', create_at: at(13) },
        ],
        replies: [
          { user: 'cat', message: 'the last word', create_at: at(40), attachments: [{ path: 'missing/lost.pdf' }] },
          { user: 'bob', message: 'Hi @ada.', create_at: at(20), edit_at: at(21) },
        ],
      },
    },
    {
      type: 'post',
      post: { team: 'acme', channel: 'town-square', user: 'gone', message: 'I was here', create_at: at(15) },
    },
    {
      type: 'post',
      post: {
        team: 'acme',
        channel: 'town-square',
        user: 'ada',
        type: 'system_join_channel',
        message: 'ada joined the channel.',
        create_at: at(16),
      },
    },
    {
      type: 'post',
      post: {
        team: 'acme',
        channel: 'town-square',
        user: 'deploybot',
        message: 'shipped',
        create_at: at(30),
        attachments: [
          { path: '20240115/teams/t1/channels/c1/users/u1/f1/notes.txt' },
          { path: '20240115/teams/t1/channels/c1/users/u1/f2/chart.png' },
        ],
      },
    },
    { type: 'post', post: { team: 'acme', channel: 'plans', user: 'bob', message: 'the plan', create_at: at(50) } },
    {
      type: 'post',
      post: {
        team: 'acme',
        channel: 'plans',
        user: 'deploybot',
        message: '',
        create_at: at(55),
        props: {
          attachments: [
            {
              pretext: 'Build finished',
              title: 'CI #42',
              title_link: 'https://ci.example.com/42',
              text: 'passed for @bob',
              fields: [{ title: 'Branch', value: 'main', short: true }],
            },
          ],
        },
      },
    },
    {
      type: 'post',
      post: { team: 'acme', channel: 'old', user: 'ada', message: 'long ago, see ~town-square', create_at: at(5) },
    },
    { type: 'emoji', emoji: { name: 'partyparrot', image: 'data/emoji/e1/image' } },
    { type: 'emoji', emoji: { name: 'shipit', image: 'emoji/e2/image' } },
    { type: 'direct_channel', direct_channel: { participants: [{ username: 'ada' }, { username: 'bob' }] } },
    { type: 'direct_channel', direct_channel: { members: ['cat', 'cat'] } },
    {
      type: 'direct_post',
      direct_post: { channel_members: ['ada', 'bob'], user: 'bob', message: 'just us', create_at: at(60) },
    },
    {
      type: 'direct_post',
      direct_post: {
        channel_members: ['ada', 'bob', 'cat'],
        user: 'cat',
        message: 'all three',
        create_at: at(70),
        replies: [{ user: 'gone', message: 'bye', create_at: at(71) }],
      },
    },
    {
      type: 'direct_post',
      direct_post: { channel_members: ['cat', 'cat'], user: 'cat', message: 'note to self', create_at: at(80) },
    },
  ];
}

const NOTES = Buffer.from('release notes\n');
let SHIPIT: Buffer;
let CHART: Buffer;
beforeAll(async () => {
  CHART = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#264653' } })
    .png()
    .toBuffer();
  SHIPIT = await sharp({ create: { width: 200, height: 100, channels: 4, background: '#2a9d8f' } })
    .png()
    .toBuffer();
});

function exportOf(adaEmail: string): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['import.jsonl', jsonl(lines(adaEmail))],
    ['data/20240115/teams/t1/channels/c1/users/u1/f1/notes.txt', NOTES],
    ['data/emoji/e2/image', SHIPIT],
    ['data/users/bob/profile.png', CHART],
    ['data/20240115/teams/t1/channels/c1/users/u1/f2/chart.png', CHART],
  ]);
}

describe('a Mattermost bulk export', () => {
  it('imports channels, DMs, people, threads, reactions and attachments, field by field; a re-run adds nothing', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Imported');
    const session = ok(await owner.session(ws.id));
    const me = session.user_id as string;
    const headers = chatHeaders(session);
    const get = (url: string) => h.call({ method: 'GET', url, headers });
    const files = exportOf(owner.account.email);

    const report = await importMattermostExport(h.database, ws.id, files, {
      store,
      publicUrl: 'https://chat.example.com/',
    });
    expect(report).toEqual({
      dry_run: false,
      team: 'acme',
      users: {
        matched: 1,
        created: 4,
        existing: 0,
        deactivated: ['Gone Person (@gone)'],
        bots: 1,
        pictures: 1,
        renamed: [],
      },
      channels: { imported: 5, existing: 0, archived: 1, private: 1, group_dms: 1, dms: 1 },
      messages: { imported: 11, existing: 0, replies: 3, system: 0 },
      reactions: 3,
      pins: 1,
      saved: 2,
      files: { attached: 2, skipped: 1 },
      skipped: {
        total: 5,
        by_reason: {
          'profile picture not imported': 1,
          'custom emoji not imported': 1,
          'join/leave message': 1,
          'file not in export': 1,
          'conversation with fewer than two people': 1,
        },
        items: expect.any(Array),
      },
      reordered: [],
      emoji: { imported: 1, existing: 0 },
    });
    // The emoji is the workspace's, its image re-encoded as an upload's is (at most 128 px a side).
    const emoji = ok(await get('/v1/emoji')).emoji;
    expect(emoji).toEqual([
      expect.objectContaining({ shortcode: 'shipit', content_type: 'image/png', width: 128, height: 64 }),
    ]);

    // People: Ada is the owner (matched by email); the others are created, Gone without a name.
    const people = await rows<{
      id: string;
      name: string;
      username: string | null;
      title: string | null;
      status_text: string | null;
      status_emoji: string | null;
    }>(
      h.database.db,
      sql`select id, name, username, title, status_text, status_emoji from users
          where app_id = ${ws.id} and id like 'mm-%' order by id`,
    );
    expect(people).toEqual([
      {
        id: 'mm-bob',
        name: 'Bob Builder',
        username: 'bob',
        title: 'Engineer',
        status_text: 'Building',
        status_emoji: 'hammer',
      },
      { id: 'mm-cat', name: 'Kitty', username: 'cat', title: null, status_text: null, status_emoji: null },
      {
        id: 'mm-deploybot',
        name: 'Deploy Bot',
        username: 'deploybot',
        title: null,
        status_text: null,
        status_emoji: null,
      },
      { id: 'mm-gone', name: 'Gone Person', username: null, title: null, status_text: null, status_emoji: null },
    ]);

    // Bob's picture is his avatar, served as an uploaded one; Cat's is not in the export.
    const [pic] = await rows<{ image: string; image_blurhash: string }>(
      h.database.db,
      sql`select image, image_blurhash from users where app_id = ${ws.id} and id = 'mm-bob'`,
    );
    expect(pic?.image).toMatch(new RegExp(`^https://chat\\.example\\.com/v1/images/${ws.id}/[0-9a-f-]{36}$`));
    expect(pic?.image_blurhash).toEqual(expect.any(String));
    const served = await h.call({ method: 'GET', url: new URL(pic?.image as string).pathname });
    expect(served.status).toBe(200);
    expect(report.skipped.items).toContainEqual({
      channel: '',
      reason: 'profile picture not imported',
      detail: '@cat (not in the export)',
    });

    // Bob and Cat may be claimed by accounts with their verified emails (accounts/claims.ts);
    // Gone (deleted), the bot and Ada (matched) are not.
    const claims = await rows<{ email: string; user_id: string; source: string }>(
      h.database.db,
      sql`select email, user_id, source from import_claims where app_id = ${ws.id} order by email`,
    );
    expect(claims).toEqual([
      { email: 'bob@example.com', user_id: 'mm-bob', source: 'mattermost' },
      { email: 'cat@example.com', user_id: 'mm-cat', source: 'mattermost' },
    ]);

    // Channels with their members (Gone, deleted, is in none but the DM's).
    const channels = await rows<{
      cid: string;
      type: string;
      name: string | null;
      topic: string | null;
      description: string | null;
      archived: boolean;
      members: string;
    }>(
      h.database.db,
      sql`select c.cid, c.type, c.name, c.topic, c.description, c.archived_at is not null as archived,
                 string_agg(m.user_id || ':' || m.role, ',' order by m.user_id) as members
          from channels c join members m on m.app_id = c.app_id and m.cid = c.cid
          where c.app_id = ${ws.id} and c.cid not like 'dm:%' and c.cid in ('public:town-square', 'group:plans', 'public:old')
          group by 1, 2, 3, 4, 5, 6 order by 1`,
    );
    expect(channels).toEqual([
      {
        cid: 'group:plans',
        type: 'group',
        name: 'Plans',
        topic: null,
        description: null,
        archived: false,
        members: [`${me}:member`, 'mm-bob:member'].sort().join(','),
      },
      {
        cid: 'public:old',
        type: 'public',
        name: 'Old',
        topic: null,
        description: null,
        archived: true,
        members: `${me}:member`,
      },
      {
        cid: 'public:town-square',
        type: 'public',
        name: 'Town Square',
        topic: 'Welcome',
        description: 'Everyone',
        archived: false,
        members: [`${me}:admin`, 'mm-bob:member', 'mm-cat:member'].sort().join(','),
      },
    ]);

    // The public channel's history through the API: in time order, replies in their thread.
    const town = ok(await get('/v1/channels/public:town-square/messages?limit=50'));
    const byText = new Map<string, any>(town.messages.map((m: any) => [m.text, m]));
    expect(town.messages.filter((m: any) => !m.parent_id).map((m: any) => [m.user_id, m.text, m.created_at])).toEqual([
      [me, `Hello @bob and @channel: write to ada@example.com, not \`@cat\``, iso(10)],
      ['mm-gone', 'I was here', iso(15)],
      ['mm-deploybot', 'shipped', iso(30)],
    ]);
    const hello = byText.get('Hello @bob and @channel: write to ada@example.com, not `@cat`');
    expect(hello).toMatchObject({
      id: mattermostMessageId(ws.id, 'public:town-square', at(10), 'ada'),
      mentioned_users: ['mm-bob'],
      reply_count: 2,
      last_reply_at: iso(40),
      thread_participants: [me, 'mm-bob', 'mm-cat'],
      reactions: { '+1': 2, tada: 1 },
      pinned: true,
    });
    // Ada is the owner here: a mention of her is written with her handle here.
    const [self] = await rows<{ username: string | null; name: string }>(
      h.database.db,
      sql`select username, name from users where app_id = ${ws.id} and id = ${me}`,
    );
    const hiAda = `Hi @${self?.username ?? self?.name}.`;
    const replies = ok(await get(`/v1/messages/${hello.id}/replies`));
    expect(replies.messages.map((m: any) => [m.user_id, m.text, m.created_at, m.edited_at ?? null])).toEqual([
      ['mm-bob', hiAda, iso(20), iso(21)],
      ['mm-cat', 'the last word\n📎 lost.pdf — not in the export', iso(40), null],
    ]);
    // Seqs follow time across threads and channel messages alike.
    const seqs = await rows<{ text: string; seq: number }>(
      h.database.db,
      sql`select text, seq from messages where app_id = ${ws.id} and cid = 'public:town-square' order by seq`,
    );
    expect(seqs.map((s) => s.text.split('\n')[0])).toEqual([
      hello.text,
      'I was here',
      hiAda,
      'shipped',
      'the last word',
    ]);

    // Flagged in Mattermost: saved for Bob and Cat here.
    const saved = await rows<{ user_id: string; message_id: string; status: string }>(
      h.database.db,
      sql`select user_id, message_id, status from saved_items where app_id = ${ws.id} order by user_id`,
    );
    expect(saved).toEqual([
      { user_id: 'mm-bob', message_id: hello.id, status: 'saved' },
      { user_id: 'mm-cat', message_id: hello.id, status: 'saved' },
    ]);

    // Resync replays the history as it reads: one message.new a message, each in its final state.
    const events = ok(await get('/v1/channels/public:town-square/events?after=0')).events;
    expect(events.map((e: any) => [e.type, e.seq, e.message.text.split('\n')[0]])).toEqual(
      seqs.map((m) => ['message.new', m.seq, m.text.split('\n')[0]]),
    );
    expect(events[0].message).toMatchObject({ reply_count: 2, reactions: { '+1': 2, tada: 1 }, pinned: true });

    // The attachment's bytes are in the file store, its row attached to the bot's message.
    const shipped = byText.get('shipped');
    expect(shipped.attachments).toHaveLength(2);
    expect(shipped.attachments[0]).toMatchObject({ name: 'notes.txt', size: NOTES.length, kind: 'file' });
    // The picture has its size, blurhash and thumbnails, as an upload's after its media job.
    expect(shipped.attachments[1]).toMatchObject({
      name: 'chart.png',
      kind: 'image',
      mime_type: 'image/png',
      width: 600,
      height: 400,
      blurhash: expect.any(String),
      processing: 'ready',
      thumbs: { '360': `/v1/files/${shipped.attachments[1].id}?v=360` },
    });
    const thumb = await h.call({ method: 'GET', url: `/v1/files/${shipped.attachments[1].id}?v=360`, headers });
    expect(thumb.status).toBe(200);
    const [file] = await rows<{ storage_key: string; message_id: string; user_id: string; mime_type: string }>(
      h.database.db,
      sql`select storage_key, message_id, user_id, mime_type from files where app_id = ${ws.id} and name = 'notes.txt'`,
    );
    expect(file).toMatchObject({ message_id: shipped.id, user_id: 'mm-deploybot', mime_type: 'text/plain' });
    expect(await buffer(await store.read(file?.storage_key as string))).toEqual(NOTES);

    // Private: Cat is not in it.
    // An integration's message attachment keeps its text, quoted; a channel link is a #link here.
    const plans = ok(await get('/v1/channels/group:plans/messages')).messages;
    expect(plans.map((m: any) => [m.user_id, m.text, m.mentioned_users])).toEqual([
      ['mm-bob', 'the plan', []],
      [
        'mm-deploybot',
        '> Build finished\n> **[CI #42](https://ci.example.com/42)**\n> passed for @bob\n> **Branch**: main',
        ['mm-bob'],
      ],
    ]);
    expect(ok(await get('/v1/channels/public:old/messages')).messages.map((m: any) => m.text)).toEqual([
      'long ago, see #town-square',
    ]);

    // The DM is the one Ada gets when she opens a DM with Bob here.
    const dm = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers,
      payload: { type: 'dm', members: ['mm-bob'] },
    });
    expect(dm.status, JSON.stringify(dm.body)).toBeLessThan(300);
    expect(ok(await get(`/v1/channels/${dm.body.channel.cid}/messages`)).messages.map((m: any) => m.text)).toEqual([
      'just us',
    ]);
    const group = await rows<{ members: string; texts: string }>(
      h.database.db,
      sql`select (select string_agg(user_id, ',' order by user_id) from members m where m.app_id = c.app_id and m.cid = c.cid) as members,
                 (select string_agg(text, '|' order by seq) from messages x where x.app_id = c.app_id and x.cid = c.cid) as texts
          from channels c where c.app_id = ${ws.id} and c.type = 'dm' order by 1`,
    );
    expect(group).toEqual(
      [
        { members: [me, 'mm-bob'].sort().join(','), texts: 'just us' },
        { members: [me, 'mm-bob', 'mm-cat'].sort().join(','), texts: 'all three|bye' },
      ].sort((a, b) => a.members.localeCompare(b.members)),
    );

    // Reactions with their own times; imported history is read.
    const reactions = await rows<{ user_id: string; type: string; created_at: Date }>(
      h.database.db,
      sql`select user_id, type, created_at from reactions where app_id = ${ws.id} order by created_at`,
    );
    expect(reactions.map((r) => [r.user_id, r.type, new Date(r.created_at).toISOString()])).toEqual([
      ['mm-bob', '+1', iso(11)],
      ['mm-cat', '+1', iso(12)],
      ['mm-cat', 'tada', iso(13)],
    ]);
    const unread = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from members m join channels c on c.app_id = m.app_id and c.cid = m.cid
          where m.app_id = ${ws.id} and m.last_read_seq < c.last_seq`,
    );
    expect(unread[0]?.n).toBe(0);

    // A re-run imports nothing twice.
    const count = async () =>
      (
        await rows<{ n: string }>(
          h.database.db,
          sql`select (select count(*) from messages where app_id = ${ws.id}) || '/' ||
                     (select count(*) from channels where app_id = ${ws.id}) || '/' ||
                     (select count(*) from users where app_id = ${ws.id}) || '/' ||
                     (select count(*) from reactions where app_id = ${ws.id}) || '/' ||
                     (select count(*) from files where app_id = ${ws.id}) || '/' ||
                     (select count(*) from channel_events where app_id = ${ws.id}) as n`,
        )
      )[0]?.n;
    const before = await count();
    const again = await importMattermostExport(h.database, ws.id, exportOf(owner.account.email), { store });
    expect(again.channels).toMatchObject({ imported: 0, existing: 5 });
    expect(again.messages).toMatchObject({ imported: 0, existing: 11 });
    expect(again.users).toMatchObject({ created: 0, existing: 4, matched: 1 });
    expect([again.reactions, again.files.attached]).toEqual([0, 0]);
    expect(again.emoji).toEqual({ imported: 0, existing: 1 });
    expect(await count()).toBe(before);
  });

  it('a later export adds only what is new, and a reply to a stored thread moves its parent', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Later');
    await importMattermostExport(h.database, ws.id, exportOf(owner.account.email));
    const later = lines(owner.account.email).map((l: any) =>
      l.type === 'post' && l.post.create_at === at(10)
        ? {
            ...l,
            post: { ...l.post, replies: [...l.post.replies, { user: 'bob', message: 'one more', create_at: at(100) }] },
          }
        : l,
    );
    later.push({
      type: 'post',
      post: { team: 'acme', channel: 'plans', user: 'ada', message: 'agreed', create_at: at(110) },
    } as any);
    const report = await importMattermostExport(h.database, ws.id, new Map([['import.jsonl', jsonl(later)]]));
    expect(report.messages).toEqual({ imported: 2, existing: 11, replies: 1, system: 0 });
    expect(report.reordered).toEqual([]);
    const [parent] = await rows<{ reply_count: number; last_reply_at: Date }>(
      h.database.db,
      sql`select reply_count, last_reply_at from messages where app_id = ${ws.id}
          and id = ${mattermostMessageId(ws.id, 'public:town-square', at(10), 'ada')}`,
    );
    expect([parent?.reply_count, new Date(parent?.last_reply_at as Date).toISOString()]).toEqual([3, iso(100)]);
  });

  it("keeps off a channel of the workspace's own of the same name, and knows its own on every run", async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Taken');
    const session = ok(await owner.session(ws.id));
    const headers = chatHeaders(session);
    const made = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers,
      payload: { type: 'public', id: 'town-square', name: 'Ours', members: [session.user_id] },
    });
    expect(made.status, JSON.stringify(made.body)).toBeLessThan(300);
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels/public:town-square/messages',
        headers,
        payload: { text: 'live' },
      }),
    );
    const first = await importMattermostExport(h.database, ws.id, exportOf(owner.account.email));
    expect(first.channels).toMatchObject({ imported: 5, existing: 0 });
    const texts = async (cid: string) =>
      (
        await rows<{ text: string }>(
          h.database.db,
          sql`select text from messages where app_id = ${ws.id} and cid = ${cid} and parent_id is null order by seq`,
        )
      ).map((r) => r.text);
    expect(await texts('public:town-square')).toEqual(['live']);
    expect(await texts('public:town-square-acme')).toHaveLength(3);
    // Again, and as exported later with one more post: the same channel, nothing twice.
    const later = [
      ...lines(owner.account.email),
      {
        type: 'post',
        post: { team: 'acme', channel: 'town-square', user: 'bob', message: 'later', create_at: at(500) },
      },
    ];
    const again = await importMattermostExport(h.database, ws.id, new Map([['import.jsonl', jsonl(later)]]));
    expect(again.channels).toMatchObject({ imported: 0, existing: 5 });
    expect(again.messages).toMatchObject({ imported: 1 });
    expect((await texts('public:town-square-acme')).at(-1)).toBe('later');
    expect(await texts('public:town-square')).toEqual(['live']);
  });

  it('with several teams, imports the one named and refuses to guess', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Two');
    const two = [
      ...lines(owner.account.email),
      { type: 'team', team: { name: 'beta', display_name: 'Beta', type: 'I' } },
      { type: 'channel', channel: { team: 'beta', name: 'lab', type: 'O' } },
      {
        type: 'user',
        user: { username: 'dan', email: 'dan@example.com', teams: [{ name: 'beta', channels: [{ name: 'lab' }] }] },
      },
      { type: 'post', post: { team: 'beta', channel: 'lab', user: 'dan', message: 'beta only', create_at: at(5) } },
      { type: 'direct_channel', direct_channel: { members: ['dan', 'dan'] } },
    ];
    const file = new Map([['import.jsonl', jsonl(two)]]);
    const e = await importMattermostExport(h.database, ws.id, file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImportInputError);
    expect((e as Error).message).toBe('the export has 2 teams (acme, beta): choose the one to import with --team NAME');
    await expect(importMattermostExport(h.database, ws.id, file, { team: 'gamma' })).rejects.toThrow(
      'the export has no team gamma; its teams: acme, beta',
    );
    const report = await importMattermostExport(h.database, ws.id, file, { team: 'beta' });
    expect(report.team).toBe('beta');
    expect(report.channels).toMatchObject({ imported: 1, dms: 0 });
    expect(report.users).toMatchObject({ created: 1, matched: 0 });
    expect(report.skipped.by_reason).toMatchObject({
      'conversation of another team': 3,
      'conversation with fewer than two people': 1,
    });
    const texts = await rows<{ cid: string; text: string }>(
      h.database.db,
      sql`select cid, text from messages where app_id = ${ws.id}`,
    );
    expect(texts).toEqual([{ cid: 'public:lab', text: 'beta only' }]);
  });

  it('reads a bare import.jsonl with its data/ folder beside it', async () => {
    const { openMattermostExport } = await import('../../src/features/imports/index.js');
    const dir = path.join(h.config.dataDir, 'bare');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(path.join(dir, 'data/20240115/teams/t1/channels/c1/users/u1/f1'), { recursive: true });
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Bare');
    await writeFile(path.join(dir, 'export.jsonl'), jsonl(lines(owner.account.email)));
    await writeFile(path.join(dir, 'data/20240115/teams/t1/channels/c1/users/u1/f1/notes.txt'), NOTES);
    const archive = await openMattermostExport(path.join(dir, 'export.jsonl'));
    const report = await importMattermostExport(h.database, ws.id, archive, { store });
    expect(report.files).toEqual({ attached: 1, skipped: 2 });
    expect(report.messages.imported).toBe(11);
    expect(await readFile(path.join(dir, 'export.jsonl'))).toBeTruthy();
  });
});
