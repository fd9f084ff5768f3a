/**
 * Parley's own workspace format (issue 59): a workspace made through the API — channels public,
 * private and a DM with their members, a thread, a quote, an edit, reactions, a pin, a poll with
 * votes, a channel note and a personal note with their versions, an uploaded file, settings — is
 * exported (`POST /v1/admin/exports/parley`), imported into another workspace
 * (`POST /v1/admin/imports/parley`) and read back field by field from the tables. A re-import adds
 * nothing; a broken or malicious archive is refused with every problem and nothing written.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importParleyExport } from '../../src/features/imports/index.js';
import { KINDS, PARLEY_FORMAT_VERSION } from '../../src/features/imports/parley-format.js';
import { schema } from '../../src/platform/db/index.js';
import { LocalStore } from '../../src/platform/storage/index.js';
import { opaqueBytes, upload } from '../files/helpers.js';
import { ADMIN, eventually, type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let base: string;
let store: LocalStore;
let src: TestApp;
let zip: Buffer;
const bytes = opaqueBytes(5000);

beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
  store = new LocalStore(path.join(h.config.dataDir, 'files'));
  src = await workspace('Source');
  await fill(src);
  zip = await exportOf(src.id);
});
afterAll(async () => h?.close());

/** An app with its workspace row: what the messenger makes, without the accounts. */
async function workspace(name: string): Promise<TestApp> {
  const app = await h.createApp(name);
  await h.database.db.insert(schema.workspaces).values({ appId: app.id });
  return app;
}

const rest = async (app: TestApp, user: string, method: string, url: string, payload?: unknown) => {
  const r = await h.call({ method: method as 'POST', url, headers: await app.user(user), payload: payload as object });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

async function fill(app: TestApp) {
  await h.users(app, [
    { id: 'ada', name: 'Ada Lovelace', username: 'ada' },
    { id: 'bob', name: 'Bob Builder', username: 'bob' },
    { id: 'cat', name: 'Cat', username: 'cat' },
  ]);
  await rest(app, 'ada', 'POST', '/v1/channels', {
    type: 'public',
    id: 'general',
    name: 'General',
    members: ['ada', 'bob', 'cat'],
  });
  await rest(app, 'ada', 'POST', '/v1/channels', {
    type: 'group',
    id: 'plans',
    name: 'Plans',
    members: ['ada', 'bob'],
  });
  const dm = (await rest(app, 'ada', 'POST', '/v1/channels', { type: 'dm', members: ['ada', 'cat'] })).channel.cid;
  const send = (user: string, cid: string, body: Record<string, unknown>) =>
    rest(app, user, 'POST', `/v1/channels/${cid}/messages`, body).then((b) => b.message);
  const hello = await send('ada', 'public:general', { text: 'Hello @bob' });
  await send('bob', 'public:general', { text: 'in the thread', parent_id: hello.id });
  await send('cat', 'public:general', { text: 'me too', parent_id: hello.id });
  await send('bob', 'public:general', { text: 'quoting', quoted_message_id: hello.id });
  const edited = await send('bob', 'group:plans', { text: 'first draft' });
  await rest(app, 'bob', 'PATCH', `/v1/messages/${edited.id}`, { text: 'second draft' });
  await rest(app, 'bob', 'POST', `/v1/messages/${hello.id}/reactions`, { type: 'like' });
  await rest(app, 'cat', 'POST', `/v1/messages/${hello.id}/reactions`, { type: 'like' });
  await rest(app, 'cat', 'POST', `/v1/messages/${hello.id}/reactions`, { type: 'tada' });
  await rest(app, 'ada', 'POST', `/v1/messages/${hello.id}/pin`);
  const poll = await send('ada', 'public:general', { text: 'Lunch?', poll: { options: ['Pizza', 'Sushi'] } });
  await rest(app, 'bob', 'POST', `/v1/messages/${poll.id}/poll/votes`, { option_ids: ['0'] });
  await rest(app, 'cat', 'POST', `/v1/messages/${poll.id}/poll/votes`, { option_ids: ['1'] });
  const gone = await send('cat', dm, { text: 'oops' });
  await rest(app, 'cat', 'DELETE', `/v1/messages/${gone.id}`);
  await send('ada', dm, { text: 'hi cat' });
  const up = await upload(base, app, 'ada', 'public:general', bytes, 'data.bin');
  if (up.status !== 200) throw new Error(`upload: ${up.status}`);
  await send('ada', 'public:general', { text: 'the data', attachments: [up.json.attachment.id] });
  // Bob saves Ada's hello; Cat saved the poll and is done with it.
  await h.call({ method: 'POST', url: '/v1/saved', headers: await app.user('bob'), payload: { message_id: hello.id } });
  const saved = await h.call({
    method: 'POST',
    url: '/v1/saved',
    headers: await app.user('cat'),
    payload: { message_id: poll.id },
  });
  await rest(app, 'cat', 'PATCH', `/v1/saved/${saved.body.saved_item.id}`, { status: 'completed' });
  // A task made of the quote, for Cat, done; one of the plans' draft for Bob, open.
  const quoting = (await rest(app, 'ada', 'GET', '/v1/channels/public:general/messages?limit=50')).messages.find(
    (m: { text: string }) => m.text === 'quoting',
  );
  const task = (await rest(app, 'ada', 'POST', '/v1/tasks', { message_id: quoting.id, assignee_id: 'cat' })).task;
  await rest(app, 'cat', 'PATCH', `/v1/tasks/${task.id}`, { status: 'done' });
  await rest(app, 'bob', 'POST', '/v1/tasks', { message_id: edited.id, assignee_id: 'bob' });
  // Bob's sidebar: #general starred, the plans in a section of his own.
  await rest(app, 'bob', 'PUT', '/v1/me/starred/public:general');
  const sidebar = (await rest(app, 'bob', 'POST', '/v1/me/sidebar/sections', { name: 'Work' })).sidebar;
  const section = sidebar.sections.find((x: { name: string }) => x.name === 'Work');
  await rest(app, 'bob', 'PUT', '/v1/me/sidebar/channels/group:plans', { section_id: section.id });
  // Two bookmarks of #general: a link, and the file.
  await rest(app, 'ada', 'POST', '/v1/channels/public:general/bookmarks', {
    url: 'https://example.org/handbook',
    title: 'Handbook',
  });
  await rest(app, 'ada', 'POST', '/v1/channels/public:general/bookmarks', { file_id: up.json.attachment.id });
  const note = (await rest(app, 'ada', 'POST', '/v1/notes', { cid: 'public:general', title: 'Rules', text: 'be kind' }))
    .note;
  await rest(app, 'bob', 'PATCH', `/v1/notes/${note.id}`, { base_version: 1, text: 'be kind\nbe brief' });
  await rest(app, 'cat', 'POST', '/v1/notes', { title: 'Mine', text: 'private' });
  await rest(app, 'ada', 'POST', '/v1/channels/public:general/read', { seq: 3 });
  // A custom emoji with an alias (the server's token: an app admin's act).
  const form = new FormData();
  form.append('shortcode', 'party');
  form.append('aliases', 'hooray');
  const png = await sharp({ create: { width: 300, height: 150, channels: 4, background: '#ff8800' } })
    .png()
    .toBuffer();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'e.png');
  const emoji = await fetch(`${base}/v1/emoji`, { method: 'POST', headers: await app.server(), body: form });
  if (emoji.status !== 200) throw new Error(`emoji: ${emoji.status} ${await emoji.text()}`);
  // Ada's profile picture, uploaded here; and the workspace's logo (a copy of its renditions,
  // as the logo upload of a workspace owner stores them).
  const avatar = new FormData();
  avatar.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'me.png');
  const put = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: await app.user('ada'), body: avatar });
  if (put.status !== 200) throw new Error(`avatar: ${put.status} ${await put.text()}`);
  const [pic] = await h.database.db.select().from(schema.images).where(eq(schema.images.appId, app.id));
  const logoId = '01890000-0000-7000-8000-00000000106f';
  const logoSizes: Record<string, string> = {};
  for (const [size, key] of Object.entries(pic?.sizes ?? {})) {
    logoSizes[size] = `${app.id}/${logoId}.a${size}`;
    await store.putBytes(logoSizes[size] as string, await store.readAll(key));
  }
  await h.database.db.insert(schema.images).values({
    appId: app.id,
    id: logoId,
    ownerKind: 'workspace',
    ownerId: '',
    userId: 'ada',
    sizes: logoSizes,
    bytes: pic?.bytes ?? 0,
    blurhash: null,
  });
  // Two custom profile fields, and Ada's values of them.
  const field = async (body: object) =>
    (await h.call({ method: 'POST', url: '/v1/profile-fields', headers: await app.server(), payload: body })).body
      .field;
  const team = await field({ name: 'Team', kind: 'choice', options: ['core', 'web'] });
  const site = await field({ name: 'Site', kind: 'link', visibility: 'admins' });
  const values = await h.call({
    method: 'PUT',
    url: '/v1/users/ada/fields',
    headers: await app.server(),
    payload: { fields: { [team.id]: 'core', [site.id]: 'https://ada.example' } },
  });
  if (values.status !== 200) throw new Error(`fields: ${values.status} ${JSON.stringify(values.body)}`);
  // A user group, with two members.
  const group = await h.call({
    method: 'POST',
    url: '/v1/user-groups',
    headers: await app.server(),
    payload: { handle: 'eng', name: 'Engineering', description: 'builders', members: ['ada', 'bob'] },
  });
  if (group.status >= 300) throw new Error(`group: ${group.status} ${JSON.stringify(group.body)}`);
  // Cat came from an earlier import and has not claimed her history yet: she still may, there.
  await h.database.db
    .insert(schema.importClaims)
    .values({ appId: app.id, email: 'cat@example.com', userId: 'cat', source: 'slack' });
  await h.database.db
    .update(schema.workspaces)
    .set({
      joinPolicy: 'domain',
      joinDomain: 'example.com',
      emailVisibility: 'members',
      logo: `http://old.example/v1/images/${app.id}/${logoId}`,
    })
    .where(eq(schema.workspaces.appId, app.id));
}

/** Ask for the workspace's export, wait for its job, download it. */
async function exportOf(workspaceId: string): Promise<Buffer> {
  const admin = { authorization: `Bearer ${ADMIN}` };
  const asked = await h.call({
    method: 'POST',
    url: '/v1/admin/exports/parley',
    headers: admin,
    payload: { workspace: workspaceId },
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  expect(asked.body.export).toMatchObject({ workspace_id: workspaceId, status: 'pending', size: null });
  const id = asked.body.export.id;
  const done = await eventually(async () => {
    const got = (await h.call({ method: 'GET', url: `/v1/admin/exports/parley/${id}`, headers: admin })).body.export;
    return got.status === 'pending' ? null : got;
  }, 60_000);
  expect(done).toMatchObject({ status: 'ready', error: null, progress: { step: 'done' } });
  expect(done.progress.done).toBe(done.progress.total);
  const r = await h.app.inject({ method: 'GET', url: `/v1/admin/exports/parley/${id}/download`, headers: admin });
  expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
  expect(r.headers['content-type']).toBe('application/zip');
  expect(r.rawPayload.length).toBe(done.size);
  return r.rawPayload;
}

/** Import `body` into `workspaceId` through the API; the NDJSON answer's lines. */
async function importInto(workspaceId: string, body: Buffer): Promise<any[]> {
  const r = await h.app.inject({
    method: 'POST',
    url: `/v1/admin/imports/parley?workspace=${workspaceId}`,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/zip' },
    payload: body,
  });
  expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
  return r.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** Every row of every kind of the workspace, without its app and what is not carried. */
async function snapshot(appId: string) {
  const out: Record<string, unknown[]> = {};
  for (const k of KINDS) {
    const table = k.table as typeof schema.users;
    const got = (await h.database.db.select().from(table).where(eq(table.appId, appId))) as Record<string, unknown>[];
    out[k.kind] = got
      .filter((r) => k.kind !== 'files' || r.messageId !== null)
      // An emoji's image id and key are the target's own (image ids are unique on a server).
      // A bookmark's icon is the source's cached preview (not carried).
      .map(({ appId: _a, readRev: _r, storageKey: _s, imageId: _i, iconUrl: _c, ...rest }) => ({
        ...rest,
        // A picture's renditions are under the target's keys (compared by their bytes below).
        ...(k.kind === 'images' ? { sizes: Object.keys(rest.sizes as object).sort() } : {}),
        // A person's picture is served by the target: its URL is the target's (the picture's id kept).
        ...(k.kind === 'users' && rest.image
          ? { image: String(rest.image).replace(/^.*\/v1\/images\/[^/]+\//, '/v1/images/<app>/') }
          : {}),
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  const [ws] = await h.database.db.select().from(schema.workspaces).where(eq(schema.workspaces.appId, appId));
  const [app] = await h.database.db.select().from(schema.apps).where(eq(schema.apps.id, appId));
  out.settings = [
    ws?.joinPolicy,
    ws?.joinDomain,
    ws?.requireTwoFactor,
    ws?.emailVisibility,
    app?.permissions,
    app?.automod,
    app?.uploadRules,
  ];
  return out;
}

async function total(appId: string) {
  const s = await snapshot(appId);
  return Object.fromEntries(KINDS.map((k) => [k.kind, s[k.kind]?.length]));
}

describe('a workspace in Parley’s own format', () => {
  it('round-trips: every channel, member, message, reaction, vote, note, file and setting equal, ids kept', async () => {
    const dst = await workspace('Target');
    const lines = await importInto(dst.id, zip);
    const end = lines.at(-1);
    expect(end.type, JSON.stringify(end)).toBe('report');
    expect(lines.filter((l) => l.type === 'progress').length).toBeGreaterThan(1);
    const before = await snapshot(src.id);
    const after = await snapshot(dst.id);
    // What there is to compare: every kind is there.
    expect(before.users).toHaveLength(3);
    expect(before.channels).toHaveLength(3);
    expect(before.members).toHaveLength(7);
    expect(before.messages).toHaveLength(9);
    expect(before.message_versions?.length).toBeGreaterThan(0);
    expect(before.reactions).toHaveLength(3);
    expect(before.poll_votes).toHaveLength(2);
    expect(before.files).toHaveLength(1);
    expect(before.notes).toHaveLength(2);
    expect(before.note_versions?.length).toBeGreaterThanOrEqual(3);
    expect(before.custom_emoji).toHaveLength(1);
    expect(before.user_groups).toHaveLength(1);
    expect(before.user_group_members).toHaveLength(2);
    expect(before.images).toHaveLength(2);
    expect(before.profile_fields).toHaveLength(2);
    expect(before.profile_field_values).toHaveLength(2);
    expect(before.channel_bookmarks).toHaveLength(2);
    expect(before.saved_items).toHaveLength(2);
    expect(before.tasks).toHaveLength(2);
    expect(before.sidebar_sections).toHaveLength(2);
    expect(before.sidebar_placements).toHaveLength(2);
    for (const k of [...KINDS.map((x) => x.kind), 'settings']) expect(after[k], k).toEqual(before[k]);
    expect(end.report.imported.messages).toBe(9);
    expect(end.report.existing.messages).toBe(0);
    const claims = await h.database.db.select().from(schema.importClaims).where(eq(schema.importClaims.appId, dst.id));
    expect(claims.map((c) => [c.email, c.userId, c.source, c.claimedAt])).toEqual([
      ['cat@example.com', 'cat', 'parley', null],
    ]);
    expect(end.report.claims).toBe(1);

    // The file's bytes, under the target's key, served by the API.
    const [f] = await h.database.db.select().from(schema.files).where(eq(schema.files.appId, dst.id));
    expect(Buffer.compare(await store.readAll(f?.storageKey as string), bytes)).toBe(0);
    // Ada's picture and the logo, served by the target at the target's URLs.
    const [adaThere] = await h.database.db
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, dst.id), eq(schema.users.id, 'ada')));
    // At the address the import was asked at (the public URL when one is set).
    expect(adaThere?.image).toMatch(new RegExp(`^http://localhost(:80)?/v1/images/${dst.id}/[0-9a-f-]{36}$`));
    const [wsThere] = await h.database.db.select().from(schema.workspaces).where(eq(schema.workspaces.appId, dst.id));
    expect(new URL(wsThere?.logo as string).pathname).toBe(
      `/v1/images/${dst.id}/${'01890000-0000-7000-8000-00000000106f'}`,
    );
    for (const url of [adaThere?.image, wsThere?.logo]) {
      const got = await fetch(new URL(`${new URL(url as string).pathname}?size=96`, base));
      expect(got.status, url ?? '').toBe(200);
      expect(got.headers.get('content-type')).toBe('image/webp');
    }
    // The emoji, with its alias, its image served from the target.
    const listed = async (app: TestApp) => (await rest(app, 'ada', 'GET', '/v1/emoji')).emoji;
    const [party] = await listed(dst);
    expect(party).toMatchObject({ shortcode: 'party', aliases: ['hooray'] });
    const [was] = await listed(src);
    expect(party.url).not.toBe(was.url);
    const image = await fetch(new URL(party.url, base));
    expect(image.status).toBe(200);
    const original = await fetch(new URL(was.url, base));
    expect(Buffer.compare(Buffer.from(await image.arrayBuffer()), Buffer.from(await original.arrayBuffer()))).toBe(0);
    // The messages read through the API as they were, seqs and threads included (a picture's
    // URL is the server's that serves it).
    const picture = (u: any) =>
      u?.image ? { ...u, image: u.image.replace(/^.*\/v1\/images\/[^/]+\//, '/v1/images/<app>/') } : u;
    const read = async (app: TestApp) =>
      (await rest(app, 'ada', 'GET', '/v1/channels/public:general/messages?limit=50')).messages.map(
        ({ attachments, user, ...m }: any) => ({
          ...m,
          user: picture(user),
          attachments: attachments.map((a: any) => a.id),
        }),
      );
    expect(await read(dst)).toEqual(await read(src));
    const replies = async (app: TestApp, id: string) =>
      (await rest(app, 'bob', 'GET', `/v1/messages/${id}/replies`)).messages.map((m: any) => m.text);
    const hello = (await read(src)).find((m: any) => m.text === 'Hello @bob');
    expect(await replies(dst, hello.id)).toEqual(['in the thread', 'me too']);
    // The event log has the imported messages: a client resyncing from 0 sees them.
    const events = (await rest(dst, 'ada', 'GET', '/v1/channels/public:general/events?after=0')).events;
    expect(events.filter((e: any) => e.type === 'message.new')).toHaveLength(
      before.messages?.filter((m: any) => m.cid === 'public:general').length ?? -1,
    );

    // Again: nothing is added, every row is reported as there already.
    const again = (await importInto(dst.id, zip)).at(-1);
    expect(again.type).toBe('report');
    expect(Object.values(again.report.imported).every((n) => n === 0)).toBe(true);
    expect(again.report.existing.messages).toBe(9);
    expect(await snapshot(dst.id)).toEqual(after);
  });

  it('renames a username the target holds, and keeps the id', async () => {
    const dst = await workspace('Taken');
    await h.users(dst, [
      { id: 'someone', name: 'Someone', username: 'bob' },
      { id: 'engineer', name: 'Engineer', username: 'eng' },
      // Ada is here already, without a picture: she keeps her row as it is, and gets none.
      { id: 'ada', name: 'Ada Here' },
    ]);
    const end = (await importInto(dst.id, zip)).at(-1);
    expect(end.report.renamed).toEqual([
      { user_id: 'bob', wanted: 'bob', username: 'bob-2', reason: 'taken', held_by: 'user' },
    ]);
    // A group's handle is an @name too: the group is renamed, its id and members kept.
    expect(end.report.renamed_groups).toMatchObject([{ wanted: 'eng', handle: 'eng-2', reason: 'taken' }]);
    const groups = await h.database.db.select().from(schema.userGroups).where(eq(schema.userGroups.appId, dst.id));
    expect(groups.map((g) => g.handle)).toEqual(['eng-2']);
    const pictures = await h.database.db.select().from(schema.images).where(eq(schema.images.appId, dst.id));
    expect(pictures.map((p) => p.ownerKind)).toEqual(['workspace']);
    expect(end.report.existing.images).toBe(1);
    const [bob] = await h.database.db
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, dst.id), eq(schema.users.id, 'bob')));
    expect(bob?.username).toBe('bob-2');
  });

  it('refuses a broken or malicious archive whole, every problem named, nothing written', async () => {
    const dst = await workspace('Refused');
    const before = await total(dst.id);
    const { openExportZip } = await import('../../src/features/imports/index.js');
    const tmp = path.join(h.config.dataDir, 'src.zip');
    await (await import('node:fs/promises')).writeFile(tmp, zip);
    const archive = await openExportZip(tmp);
    const entries = new Map<string, Uint8Array>();
    for (const [k, v] of archive.files) entries.set(k, v);
    for (const [k, b] of archive.blobs) entries.set(k, await b.read());
    await archive.close();
    const edit = (name: string, f: (lines: any[]) => any[]) => {
      const lines = Buffer.from(entries.get(name) as Uint8Array)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return Buffer.from(
        `${f(lines)
          .map((l) => JSON.stringify(l))
          .join('\n')}\n`,
      );
    };
    const bad = new Map(entries);
    // A member of a channel that is not there; a reply whose parent is not; a user with a field
    // the format lacks; a file whose bytes were swapped; a message with a forged attachment list.
    bad.set(
      'members.jsonl',
      edit('members.jsonl', (l) => [...l, { ...l[0], cid: 'public:nowhere' }, { ...l[1], role: 'emperor' }]),
    );
    bad.set(
      'messages.jsonl',
      edit('messages.jsonl', (l) =>
        l.map((m, i) =>
          i === 0
            ? { ...m, parent_id: '01890000-0000-7000-8000-000000000000' }
            : i === 1
              ? { ...m, attachments: 'x' }
              : m,
        ),
      ),
    );
    bad.set(
      'users.jsonl',
      edit('users.jsonl', (l) =>
        l.map((u, i) => (i === 0 ? { ...u, is_admin: true } : i === 1 ? { ...u, username: 'not a name!' } : u)),
      ),
    );
    const fileKey = [...bad.keys()].find((k) => k.startsWith('files/')) as string;
    bad.set(fileKey, Buffer.from('not the bytes'));
    // An emoji named as a standard one, one whose image is no image, one without its image.
    bad.set(
      'custom_emoji.jsonl',
      edit('custom_emoji.jsonl', (l) => [
        { ...l[0], shortcode: 'smile' },
        { ...l[0], shortcode: 'broken', aliases: [] },
        { ...l[0], shortcode: 'lost', aliases: ['Not A Name'] },
      ]),
    );
    bad.set('emoji/smile', entries.get('emoji/party') as Uint8Array);
    // A group member of a group that is not there; a handle that is none.
    bad.set(
      'user_group_members.jsonl',
      edit('user_group_members.jsonl', (l) => [...l, { ...l[0], group_id: '01890000-0000-7000-8000-0000000000bb' }]),
    );
    bad.set(
      'user_groups.jsonl',
      edit('user_groups.jsonl', (l) => [{ ...l[0], handle: '-no-' }]),
    );
    bad.set('emoji/broken', Buffer.from('GIF89a but not really'));
    // A picture of someone not in the archive, without its renditions; a rendition that is no WebP.
    const stray = '01890000-0000-7000-8000-0000000000cc';
    bad.set(
      'images.jsonl',
      edit('images.jsonl', (l) => [...l, { ...l[0], id: stray, owner_kind: 'user', owner_id: 'nobody' }]),
    );
    // A value of a choice field that is none of its options.
    bad.set(
      'profile_field_values.jsonl',
      edit('profile_field_values.jsonl', (l) => l.map((v) => ({ ...v, value: 'nope' }))),
    );
    // A bookmark of a channel not there; one that is neither a link nor a file.
    bad.set(
      'channel_bookmarks.jsonl',
      edit('channel_bookmarks.jsonl', (l) => [
        { ...l[0], cid: 'public:nowhere' },
        { ...l[1], kind: 'link', url: 'javascript:alert(1)', file_id: null },
      ]),
    );
    // A saved item in another channel than its message's.
    bad.set(
      'saved_items.jsonl',
      edit('saved_items.jsonl', (l) => [{ ...l[0], cid: 'group:plans' }]),
    );
    // A task of a message that is not there.
    bad.set(
      'tasks.jsonl',
      edit('tasks.jsonl', (l) => [{ ...l[0], message_id: '01890000-0000-7000-8000-0000000000dd' }]),
    );
    // Bob's channel placed in a section, but as Cat's.
    bad.set(
      'sidebar_placements.jsonl',
      edit('sidebar_placements.jsonl', (l) => [{ ...l[0], user_id: 'cat' }]),
    );
    const rendition = [...bad.keys()].find((k) => k.startsWith('pictures/')) as string;
    bad.set(rendition, Buffer.from('<svg onload="alert(1)"/>'));
    const refused = await importParleyExport(h.database, dst.id, bad, { store }).catch((e) => e);
    expect(refused.name).toBe('ExportRefusedError');
    const reasons = refused.problems.map((p: { file: string; reason: string }) => `${p.file}: ${p.reason}`).join('\n');
    expect(reasons).toMatch(/members\.jsonl:\d+: member of a channel not in the archive \(public:nowhere\)/);
    expect(reasons).toMatch(/messages\.jsonl:1: thread parent not in the archive/);
    expect(reasons).toMatch(/messages\.jsonl:2: "attachments" must be a list/);
    expect(reasons).toMatch(/users\.jsonl:1: unknown field "is_admin"/);
    expect(reasons).toMatch(/users\.jsonl:2: username "not a name!" is not a username/);
    expect(reasons).toMatch(/members\.jsonl:\d+: role "emperor" is not a member role/);
    expect(reasons).toMatch(/files\/.*: its bytes are not the size and SHA-256 its row says/);
    expect(reasons).toMatch(/custom_emoji\.jsonl:1: :smile: is a standard emoji's name/);
    expect(reasons).toMatch(/emoji\/broken: not an emoji image/);
    expect(reasons).toMatch(/custom_emoji\.jsonl:3: :Not A Name: is not a shortcode/);
    expect(reasons).toMatch(
      /user_group_members\.jsonl:3: "group_id" names a row not in user_groups\.jsonl \(01890000-0000-7000-8000-0000000000bb\)/,
    );
    expect(reasons).toMatch(/user_groups\.jsonl:1: handle "-no-" is not a group handle/);
    expect(reasons).toMatch(/images\.jsonl:3: a picture must be a person's of users\.jsonl/);
    expect(reasons).toMatch(new RegExp(`images\\.jsonl:3: its picture is not in the archive \\(pictures/${stray}/`));
    expect(reasons).toMatch(/pictures\/.*: not a WebP picture/);
    expect(reasons).toMatch(/channel_bookmarks\.jsonl:1: "cid" names a row not in channels\.jsonl \(public:nowhere\)/);
    expect(reasons).toMatch(/channel_bookmarks\.jsonl:2: a bookmark is a link/);
    expect(reasons).toMatch(/saved_items\.jsonl:1: cid is not its message's channel/);
    expect(reasons).toMatch(
      /tasks\.jsonl:1: "message_id" names a row not in messages\.jsonl \(01890000-0000-7000-8000-0000000000dd\)/,
    );
    expect(reasons).toMatch(/sidebar_placements\.jsonl:1: a place in another person's section/);
    expect(reasons).toMatch(/profile_field_values\.jsonl:\d: "nope" is not one of the field's options/);
    expect(await total(dst.id)).toEqual(before);

    // A newer version, or not this format at all: refused before anything else is read.
    const manifest = JSON.parse(Buffer.from(entries.get('manifest.json') as Uint8Array).toString('utf8'));
    const next = PARLEY_FORMAT_VERSION + 1;
    const newer = new Map(entries).set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, version: next })));
    await expect(importParleyExport(h.database, dst.id, newer, { store })).rejects.toThrow(
      new RegExp(`version ${next} is newer`),
    );
    const other = new Map(entries).set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, format: 'x' })));
    await expect(importParleyExport(h.database, dst.id, other, { store })).rejects.toThrow(
      /not a Parley workspace export/,
    );
    // Through the API: no zip at all is a 400 before anything is read.
    const r = await h.call({
      method: 'POST',
      url: `/v1/admin/imports/parley?workspace=${dst.id}`,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/zip' },
      payload: Buffer.from('PK\x03\x04 not really a zip'),
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    expect(await total(dst.id)).toEqual(before);
  });

  it('reads a version 1 archive: the kinds of later versions are none', async () => {
    const dst = await workspace('Version one');
    const entries = await entriesOf(zip);
    const manifest = JSON.parse(Buffer.from(entries.get('manifest.json') as Uint8Array).toString('utf8'));
    const v1 = new Map(
      [...entries].filter(([name]) => {
        const kind = KINDS.find((k) => name === `${k.kind}.jsonl`) as { since?: number } | undefined;
        return !(kind?.since && kind.since > 1) && !name.startsWith('emoji/');
      }),
    );
    const counts = Object.fromEntries(
      Object.entries(manifest.counts).filter(
        ([k]) => !KINDS.some((x) => x.kind === k && (x as { since?: number }).since),
      ),
    );
    v1.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, version: 1, counts })));
    const report = await importParleyExport(h.database, dst.id, v1, { store });
    expect(report.version).toBe(1);
    expect(report.imported.messages).toBe(9);
    expect(report.imported.custom_emoji).toBe(0);
  });

  it('a dry run reports what it would import and writes nothing', async () => {
    const dst = await workspace('Dry');
    const report = await importParleyExport(h.database, dst.id, await entriesOf(zip), { store, dryRun: true });
    expect(report.imported.messages).toBe(9);
    expect((await total(dst.id)).messages).toBe(0);
  });

  it('a quote of a message not in the archive (its channel deleted) points nowhere', async () => {
    const dst = await workspace('Quotes');
    const entries = await entriesOf(zip);
    const elsewhere = '01890000-0000-7000-8000-0000000000aa';
    const lines = Buffer.from(entries.get('messages.jsonl') as Uint8Array)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((m) => (m.quoted_message_id ? { ...m, quoted_message_id: elsewhere } : m));
    entries.set('messages.jsonl', Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`));
    await importParleyExport(h.database, dst.id, entries, { store });
    const [quoting] = await h.database.db
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, dst.id), eq(schema.messages.text, 'quoting')));
    expect(quoting?.quotedMessageId).toBeNull();
  });

  it('answers 404 for a workspace that is not there', async () => {
    const r = await h.call({
      method: 'POST',
      url: '/v1/admin/exports/parley',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { workspace: '01890000-0000-7000-8000-000000000000' },
    });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    const none = await h.call({
      method: 'GET',
      url: '/v1/admin/exports/parley/01890000-0000-7000-8000-000000000000/download',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(none.status).toBe(404);
  });
});

async function entriesOf(body: Buffer): Promise<Map<string, Uint8Array>> {
  const { openExportZip } = await import('../../src/features/imports/index.js');
  const tmp = path.join(h.config.dataDir, `e-${Math.random()}.zip`);
  await (await import('node:fs/promises')).writeFile(tmp, body);
  const archive = await openExportZip(tmp);
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of archive.files) out.set(k, v);
  for (const [k, b] of archive.blobs) out.set(k, await b.read());
  await archive.close();
  await readFile(tmp);
  return out;
}
