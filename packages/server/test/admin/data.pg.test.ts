/**
 * A user's data export (the archive unpacked and read), user deletion soft and hard, channel
 * deletion — with row counts of every table before and after, and a sweep of every table that
 * names a user, a channel or a message (found in information_schema, so a new table cannot be
 * missed) for rows pointing at nothing — and usage analytics against known, seeded activity.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type SQL, sql } from 'drizzle-orm';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleInstant, sampleUsage, utcDay } from '../../src/features/analytics/usage.js';
import { rows } from '../../src/platform/db/index.js';
import { type Actor, expectError, ok, world } from '../channels/helpers.js';
import { download, opaqueBytes, upload } from '../files/helpers.js';
import { type Harness, startHarness, TestSocket } from '../harness.js';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

const db = () => h.server.svc.db;

/** The app's tables and their columns, from the catalogue. */
async function tables(): Promise<Map<string, Set<string>>> {
  const got = await rows<{ table_name: string; column_name: string }>(
    db(),
    sql`select c.table_name, c.column_name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`,
  );
  const out = new Map<string, Set<string>>();
  for (const r of got) out.set(r.table_name, (out.get(r.table_name) ?? new Set()).add(r.column_name));
  return out;
}

/** Rows per table that belong to `appId` (every table with an app_id column). */
async function counts(appId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [t, cols] of await tables()) {
    if (!cols.has('app_id')) continue;
    const [r] = await rows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from ${sql.identifier(t)} where app_id = ${appId}`,
    );
    out[t] = r?.n ?? 0;
  }
  return out;
}

/** Rows that name alice in the tables of moderation, notifications and calls. */
async function aboutAlice(appId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const where: Record<string, SQL> = {
    moderation_flags: sql`user_id = 'alice' or reported_by = 'alice'`,
    notification_settings: sql`user_id = 'alice'`,
    channel_notification_settings: sql`user_id = 'alice'`,
    push_devices: sql`user_id = 'alice'`,
    bans: sql`user_id = 'alice'`,
    call_participants: sql`user_id = 'alice'`,
    invitations: sql`from_user_id = 'alice' or to_user_id = 'alice'`,
    reminders: sql`user_id = 'alice' or message_id in (select id from messages where user_id = 'alice')`,
    saved_items: sql`user_id = 'alice' or message_id in (select id from messages where user_id = 'alice')`,
    sidebar_sections: sql`user_id = 'alice'`,
  };
  for (const [t, w] of Object.entries(where)) {
    const [r] = await rows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from ${sql.identifier(t)} where app_id = ${appId} and (${w})`,
    );
    out[t] = r?.n ?? 0;
  }
  return out;
}

/** Rows of `appId` in any table that point at a user, channel or message that does not exist. */
async function orphans(appId: string): Promise<string[]> {
  const found: string[] = [];
  const check = async (t: string, col: string, parent: string, key: string, extra = sql``) => {
    const [r] = await rows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from ${sql.identifier(t)} x where x.app_id = ${appId} and x.${sql.identifier(col)} is not null
          ${extra} and not exists (select 1 from ${sql.identifier(parent)} p
            where p.app_id = x.app_id and p.${sql.identifier(key)} = x.${sql.identifier(col)})`,
    );
    if ((r?.n ?? 0) > 0) found.push(`${t}.${col}: ${r?.n}`);
  };
  for (const [t, cols] of await tables()) {
    if (!cols.has('app_id')) continue;
    if (cols.has('user_id') && t !== 'users') await check(t, 'user_id', 'users', 'id');
    if (cols.has('cid') && t !== 'channels') await check(t, 'cid', 'channels', 'cid');
    if (cols.has('message_id')) await check(t, 'message_id', 'messages', 'id');
    for (const c of ['parent_id', 'quoted_message_id']) if (cols.has(c)) await check(t, c, 'messages', 'id');
  }
  return found;
}

async function untar(gz: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from(gz).pipe(createGunzip()).pipe(extract);
  await done;
  return files;
}

/**
 * A world with activity: alice writes in #general (one message with a file, one that bob
 * replies to, one that bob quotes), replies in bob's thread, reacts to bob; carol reacts to
 * alice; alice and bob have a DM.
 */
async function lively() {
  const w = await world(h, [{ id: 'boss', role: 'admin' }]);
  const cid = 'public:general';
  ok(await w.alice.create({ type: 'public', id: 'general', members: ['alice', 'bob', 'carol', 'boss'] }));
  const bytes = opaqueBytes(2048);
  const up = await upload(base, w.app, 'alice', cid, bytes, 'notes.bin');
  expect(up.status).toBe(200);
  const withFile = ok(await w.alice.send(cid, 'here is the file', { attachments: [up.json.attachment.id] })).message;
  const parent = ok(await w.alice.send(cid, 'alice secret thread start')).message;
  const quoted = ok(await w.alice.send(cid, 'alice secret quoted words')).message;
  const bobReply = ok(await w.bob.send(cid, 'bob answers', { parent_id: parent.id })).message;
  const bobMsg = ok(await w.bob.send(cid, 'bob thread of his own')).message;
  const aliceReply = ok(await w.alice.send(cid, 'alice secret reply', { parent_id: bobMsg.id })).message;
  const bobQuote = ok(await w.bob.send(cid, 'bob quotes alice', { quoted_message_id: quoted.id })).message;
  ok(await w.carol.react(quoted.id, 'love'));
  ok(await w.alice.react(bobMsg.id, 'like'));
  ok(await w.bob.react(bobMsg.id, 'like'));
  const dm = ok(await w.alice.create({ type: 'dm', members: ['alice', 'bob'] })).channel.cid;
  ok(await w.alice.send(dm, 'alice secret dm'));
  ok(await w.bob.send(dm, 'bob dm'));
  // What other features keep about alice and #general: reports by and about her, her
  // notification settings and a channel override, a push device, a ban, a call and its ring.
  ok(await w.carol.post('/v1/moderation/flags', { message_id: quoted.id, reason: 'rude' }));
  ok(await w.alice.post('/v1/moderation/flags', { user_id: 'carol', reason: 'spam' }));
  ok(await w.alice.patch('/v1/notifications/settings', { level: 'mentions' }));
  expect((await w.alice.post('/v1/reminders', { message_id: bobMsg.id, in: '1h' })).status).toBe(201);
  expect((await w.carol.post('/v1/reminders', { message_id: quoted.id, in: '1h' })).status).toBe(201);
  // Her saved message and her sidebar; carol's saved copy of alice's message.
  expect((await w.alice.post('/v1/saved', { message_id: bobMsg.id })).status).toBe(201);
  expect((await w.carol.post('/v1/saved', { message_id: quoted.id })).status).toBe(201);
  expect((await w.alice.post('/v1/me/sidebar/sections', { name: 'Mine' })).status).toBe(201);
  ok(
    await h.call({
      method: 'PUT',
      url: `/v1/channels/${cid}/notifications`,
      headers: await w.app.user('alice'),
      payload: { level: 'none' },
    }),
  );
  const app = w.app.id;
  await db().execute(sql`insert into push_devices (app_id, id, user_id, provider, token)
    values (${app}, gen_random_uuid(), 'alice', 'fcm', 'alice-device-token')`);
  await db().execute(sql`insert into bans (app_id, user_id, cid, reason) values (${app}, 'alice', ${cid}, 'test')`);
  const [call] = await rows<{ id: string }>(
    db(),
    sql`insert into calls (app_id, id, cid, created_by, kind, state, created_at, started_at, ended_at)
        values (${app}, gen_random_uuid(), ${cid}, 'alice', 'audio', 'ended', now(), now(), now()) returning id`,
  );
  await db().execute(sql`insert into call_participants (app_id, call_id, user_id, state, invited, invited_at)
    values (${app}, ${call!.id}, 'alice', 'left', false, now()), (${app}, ${call!.id}, 'bob', 'left', true, now())`);
  await db().execute(sql`insert into invitations (app_id, id, kind, subject_id, from_user_id, to_user_id, state, created_at, expires_at)
    values (${app}, gen_random_uuid(), 'call', ${call!.id}, 'alice', 'bob', 'accepted', now(), now())`);
  return {
    ...w,
    boss: w.as('boss'),
    cid,
    dm,
    bytes,
    fileId: up.json.attachment.id as string,
    msgs: { withFile, parent, quoted, bobReply, bobMsg, aliceReply, bobQuote },
  };
}

const waitJobsIdle = async () =>
  expect
    .poll(
      async () =>
        (
          await rows<{ n: number }>(
            db(),
            sql`select count(*)::int as n from pgboss.job
                where name like 'admin.%' and name <> 'admin.sweep' and state in ('created', 'retry', 'active')`,
          )
        )[0]?.n,
      { timeout: 60_000, interval: 100 },
    )
    .toBe(0);

describe('data export', () => {
  it("packs the user's profile, messages, reactions and uploads into an archive behind a signed link", async () => {
    const w = await lively();
    const sock = await TestSocket.connect(base, w.app, 'alice');
    const asked = await w.alice.post('/v1/users/alice/exports', {});
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.export).toMatchObject({ user_id: 'alice', status: 'pending', url: null });
    const id = asked.body.export.id;
    const ready = await sock.waitFor((f) => f.type === 'export.ready', 60_000);
    sock.close();
    const [row] = await rows<any>(db(), sql`select error from data_exports where id = ${id}`);
    expect(row?.error ?? null).toBeNull();
    expect(ready.export).toMatchObject({ id, status: 'ready', user_id: 'alice' });
    const got = ok(await w.alice.get(`/v1/users/alice/exports/${id}`)).export;
    expect(got.url).toMatch(/^\/v1\/exports\/.+\/download\?/);
    // No credentials needed: the link is the capability.
    const dl = await download(base, got.url);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/gzip');
    expect(dl.body.length).toBe(got.size);
    const files = await untar(dl.body);
    const root = 'parley-export-alice';
    expect([...files.keys()].sort()).toEqual(
      ['README.txt', 'messages.json', 'profile.json', 'reactions.json', 'uploads.json'].map((f) => `${root}/${f}`),
    );
    const profile = JSON.parse(files.get(`${root}/profile.json`) as string);
    expect(profile.user).toMatchObject({ id: 'alice', name: 'alice', username: 'alice' });
    expect(profile.channels.map((c: any) => c.cid).sort()).toEqual([w.cid, w.dm].sort());
    const messages = JSON.parse(files.get(`${root}/messages.json`) as string);
    expect(messages.map((m: any) => m.text).sort()).toEqual(
      [
        'alice secret dm',
        'alice secret quoted words',
        'alice secret reply',
        'alice secret thread start',
        'here is the file',
      ]
        .concat(messages.filter((m: any) => m.type === 'system').map((m: any) => m.text))
        .sort(),
    );
    const reply = messages.find((m: any) => m.text === 'alice secret reply');
    expect(reply).toMatchObject({ cid: w.cid, parent_id: w.msgs.bobMsg.id });
    const reactions = JSON.parse(files.get(`${root}/reactions.json`) as string);
    expect(reactions).toEqual([
      { message_id: w.msgs.bobMsg.id, cid: w.cid, type: 'like', created_at: expect.any(String) },
    ]);
    const uploads = JSON.parse(files.get(`${root}/uploads.json`) as string);
    expect(uploads).toEqual([
      expect.objectContaining({
        id: w.fileId,
        name: 'notes.bin',
        size: 2048,
        sha256: createHash('sha256').update(w.bytes).digest('hex'),
        cid: w.cid,
        message_id: w.msgs.withFile.id,
      }),
    ]);
    // A tampered or foreign link is refused; the download is in the audit log.
    expectError(await h.call({ method: 'GET', url: got.url.replace(/sig=[^&]+/, 'sig=AAAA') }), 'FORBIDDEN');
    const trail = ok(await w.boss.get('/v1/audit?action=export.')).entries.map((e: any) => e.action);
    expect(trail).toEqual(['export.downloaded', 'export.requested']);
  });

  it('lets admins export anyone, and nobody else', async () => {
    const w = await lively();
    expect((await w.boss.post('/v1/users/bob/exports', {})).status).toBe(202);
    await waitJobsIdle();
    expect((await w.server.post('/v1/users/bob/exports', {})).status).toBe(202);
    // While one is being made, asking again answers that one rather than making another.
    const making = '0193a000-0000-7000-8000-000000000001';
    await db().execute(
      sql`insert into data_exports (app_id, id, user_id, status) values (${w.app.id}, ${making}, 'carol', 'pending')`,
    );
    const again = await w.carol.post('/v1/users/carol/exports', {});
    expect(again.status).toBe(202);
    expect(again.body.export).toMatchObject({ id: making, status: 'pending' });
    expect(ok(await w.carol.get('/v1/users/carol/exports')).exports).toHaveLength(1);
    expectError(await w.carol.post('/v1/users/alice/exports', {}), 'FORBIDDEN');
    expectError(await w.carol.get('/v1/users/alice/exports'), 'FORBIDDEN');
    expectError(await w.boss.post('/v1/users/nobody/exports', {}), 'NOT_FOUND');
    expect(ok(await w.boss.get('/v1/users/bob/exports')).exports).toHaveLength(2);
    await waitJobsIdle();
  });
});

describe('deleting a user', () => {
  it('soft: "[deleted user]" with no personal data; the conversation reads on', async () => {
    const w = await lively();
    ok(await w.alice.patch('/v1/me', { image: 'https://example.com/a.png' }));
    const before = await counts(w.app.id);
    const r = await w.boss.del('/v1/users/alice');
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toEqual({ job_id: expect.any(String), target: { user_id: 'alice' } });
    await waitJobsIdle();
    const after = await counts(w.app.id);
    const [u] = await rows<any>(db(), sql`select * from users where app_id = ${w.app.id} and id = 'alice'`);
    expect(u).toMatchObject({ name: '[deleted user]', username: null, image: null, status_text: null });
    expect(u.deleted_at).not.toBeNull();
    // Messages, reactions and files stay; alice left #general (not the DM).
    expect(after.messages).toBe(before.messages);
    expect(after.reactions).toBe(before.reactions);
    expect(after.files).toBe(before.files);
    expect(after.members).toBe(before.members! - 1);
    const history = ok(await w.bob.history(w.cid)).messages;
    expect(history.map((m: any) => m.text)).toContain('alice secret quoted words');
    expect(
      ok(await w.bob.channel(w.dm))
        .members.map((m: any) => m.user_id)
        .sort(),
    ).toEqual(['alice', 'bob']);
    expect(await orphans(w.app.id)).toEqual([]);
    // She is gone: a second soft delete finds no one, her token is refused over REST (however
    // long it would still be valid) and opens no socket.
    expectError(await w.boss.del('/v1/users/alice'), 'NOT_FOUND');
    expectError(await w.alice.get('/v1/me'), 'UNAUTHORIZED');
    expectError(await w.alice.send(w.cid, 'still here?'), 'UNAUTHORIZED');
    const sock = await TestSocket.open(base, w.app.apiKey);
    sock.sendRaw(JSON.stringify({ type: 'auth', token: await w.app.token('alice') }));
    expect(await sock.waitClose(20_000)).toEqual({ code: 4001, reason: 'This user was deleted' });
    expect(ok(await w.boss.get('/v1/audit?action=user.deleted')).entries[0]).toMatchObject({
      actor: { kind: 'user', id: 'boss' },
      target: { kind: 'user', id: 'alice' },
      details: { mode: 'soft' },
    });
    // Her settings, devices, reports and ban go; the call history keeps "[deleted user]".
    expect(await aboutAlice(w.app.id)).toEqual({
      moderation_flags: 0,
      notification_settings: 0,
      channel_notification_settings: 0,
      push_devices: 0,
      bans: 0,
      call_participants: 1,
      invitations: 0,
      reminders: 1,
      saved_items: 1,
      sidebar_sections: 0,
    });
  });

  it('hard: their messages, reactions and files go; threads, quotes and counts stay right; no orphans', async () => {
    const w = await lively();
    const before = await counts(w.app.id);
    const unreadBefore = ok(await w.carol.query({})).channels.find((c: any) => c.cid === w.cid).unread_count;
    expect((await w.boss.del('/v1/users/alice?mode=hard')).status).toBe(202);
    await waitJobsIdle();
    // The files job removes the bytes and rows of her files.
    await expect.poll(async () => (await counts(w.app.id)).files, { timeout: 60_000 }).toBe(0);
    const after = await counts(w.app.id);
    // Gone: 5 of hers (with file, quoted, reply, DM, and system messages of hers); the thread
    // parent bob answered stays as a tombstone.
    const left = await rows<any>(db(), sql`select * from messages where app_id = ${w.app.id} and user_id = 'alice'`);
    expect(left.map((m) => [m.id, m.type, m.text])).toEqual([[w.msgs.parent.id, 'deleted', '']]);
    // Carol's on hers and hers on bob's go; bob's own on his message stays.
    expect(before.reactions).toBe(3);
    expect(after.reactions).toBe(1);
    expect(after.user_message_flags ?? 0).toBe(0);
    const bobMsg = ok(await w.bob.get(`/v1/messages/${w.msgs.bobMsg.id}`)).message;
    expect(bobMsg.reply_count).toBe(0);
    expect(bobMsg.thread_participants).not.toContain('alice');
    expect(bobMsg.reactions).toEqual({ like: 1 });
    const quote = ok(await w.bob.get(`/v1/messages/${w.msgs.bobQuote.id}`)).message;
    expect(quote.quoted_message_id).toBeNull();
    // Nothing she wrote can come back from the event log.
    const log = await rows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from channel_events where app_id = ${w.app.id} and payload::text like '%alice secret%'`,
    );
    expect(log[0]?.n).toBe(0);
    const events = ok(await w.bob.events(w.cid, 0)).events;
    expect(events.filter((e: any) => e.type === 'message.deleted').map((e: any) => e.message.id)).toEqual(
      expect.arrayContaining([w.msgs.withFile.id, w.msgs.quoted.id, w.msgs.aliceReply.id, w.msgs.parent.id]),
    );
    // Unread counts follow the messages that exist.
    const unreadAfter = ok(await w.carol.query({})).channels.find((c: any) => c.cid === w.cid).unread_count;
    expect(unreadAfter).toBeLessThan(unreadBefore);
    expect(await orphans(w.app.id)).toEqual([]);
    // Other features' rows about her are gone too; bob's side of the call stays.
    expect(await aboutAlice(w.app.id)).toEqual({
      moderation_flags: 0,
      notification_settings: 0,
      channel_notification_settings: 0,
      push_devices: 0,
      bans: 0,
      call_participants: 0,
      invitations: 0,
      reminders: 0,
      saved_items: 0,
      sidebar_sections: 0,
    });
    expect(after.call_participants).toBe(1);
  });
});

describe('deleting a channel', () => {
  it('removes every row of the channel in every table, tells its members, and leaves no orphans', async () => {
    const w = await lively();
    const sock = await TestSocket.connect(base, w.app, 'bob');
    const before = await counts(w.app.id);
    expectError(await w.bob.del(`/v1/channels/${w.cid}`), 'FORBIDDEN');
    expect((await w.boss.del(`/v1/channels/${w.cid}`)).status).toBe(202);
    await sock.waitFor((f) => f.type === 'channel.removed' && f.cid === w.cid, 60_000);
    sock.close();
    await waitJobsIdle();
    await expect.poll(async () => (await counts(w.app.id)).files, { timeout: 60_000 }).toBe(0);
    for (const [t, cols] of await tables()) {
      if (!cols.has('cid') || !cols.has('app_id')) continue;
      const [r] = await rows<{ n: number }>(
        db(),
        sql`select count(*)::int as n from ${sql.identifier(t)} where app_id = ${w.app.id} and cid = ${w.cid}`,
      );
      expect(r?.n, t).toBe(0);
    }
    const after = await counts(w.app.id);
    expect(after.channels).toBe(before.channels! - 1);
    expect(after.reactions).toBe(0);
    expect(after.messages).toBe(2); // the DM's two
    expect(await orphans(w.app.id)).toEqual([]);
    expectError(await w.bob.channel(w.cid), 'NOT_FOUND');
    expect(ok(await w.boss.get('/v1/audit?action=channel.deleted')).entries).toEqual([
      expect.objectContaining({
        actor: { kind: 'user', id: 'boss', name: 'boss' },
        target: { kind: 'channel', id: w.cid, name: null },
        details: expect.objectContaining({ name: null }),
      }),
    ]);
    expectError(await w.boss.del(`/v1/channels/${w.cid}`), 'NOT_FOUND');
  });
});

/**
 * The office: alice sits at the Desk and bob in the Lounge (each a member of its space's room).
 * Spaces are the app's, not a user's: deleting a user takes their place (announced, the space
 * settled) and room membership, and leaves the spaces; deleting a room leaves its space without one until someone enters.
 */
async function office() {
  const w = await world(h, [{ id: 'boss', role: 'admin' }]);
  const boss = w.as('boss');
  const desk = ok(await boss.post('/v1/spaces', { name: 'Desk', kind: 'desk' })).space;
  const lounge = ok(await boss.post('/v1/spaces', { name: 'Lounge', kind: 'lounge' })).space;
  const deskRoom = ok(await w.alice.post(`/v1/spaces/${desk.id}/enter`)).space.cid as string;
  const loungeRoom = ok(await w.bob.post(`/v1/spaces/${lounge.id}/enter`)).space.cid as string;
  ok(await w.alice.send(deskRoom, 'alice secret at her desk'));
  return { ...w, boss, desk, lounge, deskRoom, loungeRoom };
}

const occupants = async (appId: string) =>
  (
    await rows<{ user_id: string; space_id: string }>(
      db(),
      sql`select user_id, space_id from space_occupants where app_id = ${appId} order by user_id`,
    )
  ).map((r) => `${r.user_id}@${r.space_id}`);

describe('deleting in the office', () => {
  for (const mode of ['soft', 'hard'] as const)
    it(`a ${mode}-deleted user leaves their space and its room; the spaces stay; no orphans`, async () => {
      const w = await office();
      expect(await occupants(w.app.id)).toEqual([`alice@${w.desk.id}`, `bob@${w.lounge.id}`]);
      const watcher = await TestSocket.connect(base, w.app, 'carol');
      expect((await watcher.request('spaces.watch')).ok).toBe(true);
      expect((await w.boss.del(`/v1/users/alice${mode === 'hard' ? '?mode=hard' : ''}`)).status).toBe(202);
      await waitJobsIdle();
      // The office hears she is gone and the Desk is free, as after any move out.
      await watcher.waitFor((f) => f.type === 'space.updated' && f.change === 'left' && f.user_id === 'alice');
      await watcher.waitFor((f) => f.type === 'space.updated' && f.change === 'status' && f.space.status === 'free');
      watcher.close();
      expect(await occupants(w.app.id)).toEqual([`bob@${w.lounge.id}`]);
      const spaces = ok(await w.bob.get('/v1/spaces')).spaces;
      expect(spaces.map((s: any) => [s.name, s.occupants.map((o: any) => o.user_id)])).toEqual([
        ['Desk', []],
        ['Lounge', ['bob']],
      ]);
      expect(spaces[0].status).toBe('free');
      const members = await rows<{ user_id: string }>(
        db(),
        sql`select user_id from members where app_id = ${w.app.id} and cid = ${w.deskRoom}`,
      );
      expect(members).toEqual([]);
      const texts = await rows<{ text: string }>(
        db(),
        sql`select text from messages where app_id = ${w.app.id} and cid = ${w.deskRoom} and type = 'regular'`,
      );
      expect(texts.map((t) => t.text)).toEqual(mode === 'hard' ? [] : ['alice secret at her desk']);
      expect(await orphans(w.app.id)).toEqual([]);
    });

  it("deleting a space's room leaves the space without one; the next entry makes a new room", async () => {
    const w = await office();
    expect((await w.boss.del(`/v1/channels/${w.loungeRoom}`)).status).toBe(202);
    await waitJobsIdle();
    const [row] = await rows<{ cid: string | null }>(
      db(),
      sql`select cid from spaces where app_id = ${w.app.id} and id = ${w.lounge.id}`,
    );
    expect(row?.cid).toBeNull();
    for (const [t, cols] of await tables()) {
      if (!cols.has('cid') || !cols.has('app_id')) continue;
      const [r] = await rows<{ n: number }>(
        db(),
        sql`select count(*)::int as n from ${sql.identifier(t)} where app_id = ${w.app.id} and cid = ${w.loungeRoom}`,
      );
      expect(r?.n, t).toBe(0);
    }
    // Bob is still in the Lounge (the space, not the room); the other space is untouched.
    expect(await occupants(w.app.id)).toEqual([`alice@${w.desk.id}`, `bob@${w.lounge.id}`]);
    expect(await orphans(w.app.id)).toEqual([]);
    expectError(await w.bob.channel(w.loungeRoom), 'NOT_FOUND');
    const again = ok(await w.carol.post(`/v1/spaces/${w.lounge.id}/enter`)).space;
    expect(again.cid).toBe(w.loungeRoom);
    expect(
      ok(await w.carol.channel(again.cid))
        .members.map((m: any) => m.user_id)
        .sort(),
    ).toEqual(['carol']);
  });
});

describe('usage analytics', () => {
  it('counts active users, messages, peak connections and storage from known activity', async () => {
    const w = await world(h, [{ id: 'boss', role: 'admin' }]);
    const boss = w.as('boss');
    const appId = w.app.id;
    const today = utcDay(Date.now());
    const day = (n: number) => utcDay(Date.now() - n * 86_400_000);
    ok(await w.alice.create({ type: 'public', id: 'stats', members: ['alice', 'bob'] }));
    for (let i = 0; i < 4; i++) ok(await w.alice.send('public:stats', `m${i}`));
    ok(await w.bob.send('public:stats', 'b'));
    const up = await upload(base, w.app, 'bob', 'public:stats', opaqueBytes(1000), 'a.bin');
    expect(up.status).toBe(200);
    // Two messages moved to yesterday; activity seeded for the days before.
    await db().execute(
      sql`update messages set created_at = now() - interval '1 day'
          where app_id = ${appId} and cid = 'public:stats' and text in ('m0', 'm1')`,
    );
    await db().execute(
      sql`insert into user_activity (app_id, user_id, day) values
            (${appId}, 'carol', ${day(1)}), (${appId}, 'dave', ${day(1)}), (${appId}, 'dave', ${day(40)})`,
    );
    // Two nodes sampled at the same instant, and this node with one real socket later.
    const at = sampleInstant(Date.now() - 3600_000, 60);
    await sampleUsage(h.server.svc, at, new Map([[appId, 3]]));
    await db().execute(
      sql`insert into usage_samples (app_id, node_id, at, connections) values (${appId}, 'other-node', ${at.toISOString()}::timestamptz, 4)`,
    );
    // The office: two spaces added today, one of them entered (its room made), one entered yesterday.
    const lounge = ok(await boss.post('/v1/spaces', { name: 'Lounge', kind: 'lounge' })).space;
    ok(await boss.post('/v1/spaces', { name: 'Booth', kind: 'meeting_room' }));
    ok(await w.alice.post(`/v1/spaces/${lounge.id}/enter`, {}));
    const old = ok(await boss.post('/v1/spaces', { name: 'Old', kind: 'lounge' })).space;
    ok(await w.bob.post(`/v1/spaces/${old.id}/enter`, {}));
    await db().execute(
      sql`update spaces set created_at = now() - interval '1 day' where app_id = ${appId} and id = ${old.id}`,
    );
    await db().execute(
      sql`update channels set created_at = now() - interval '1 day' where app_id = ${appId} and cid = ${`group:space-${old.id}`}`,
    );
    const sock = await TestSocket.connect(base, w.app, 'carol');
    // A socket's first sight is written after its hello, not before.
    await h.server.svc.activity.settled();
    await sampleUsage(h.server.svc, sampleInstant(Date.now(), 60));
    const r = ok(await boss.get(`/v1/analytics?from=${day(2)}&to=${today}`));
    sock.close();
    expect(r.days.map((d: any) => d.day)).toEqual([day(2), day(1), today]);
    const [d2, d1, d0] = r.days;
    // Today: alice, bob (REST), boss (this call), carol (socket).
    expect(d0).toMatchObject({ dau: 4, mau: 5, messages: 3, office_spaces_created: 2, office_rooms_opened: 1 });
    expect(d1).toMatchObject({ dau: 2, mau: 2, messages: 2, office_spaces_created: 1, office_rooms_opened: 1 });
    expect(d2).toMatchObject({
      dau: 0,
      mau: 0,
      messages: 0,
      peak_connections: 0,
      connection_hours: 0,
      reconnects: 0,
      reconnects_per_connection_hour: null,
      resyncs: 0,
      resync_ms_avg: null,
      resync_ms_max: null,
      office_spaces_created: 0,
      office_rooms_opened: 0,
    });
    const peakDay = utcDay(at.getTime());
    expect(r.days.find((d: any) => d.day === peakDay).peak_connections).toBe(7);
    expect(r.totals).toEqual({
      users: 6,
      channels: 3, // public:stats and the two rooms
      messages: 5, // system messages (the channel made, members added) are not counted
      storage_bytes: 1000,
      files: 1,
      connections_now: 1,
    });
    expectError(await w.alice.get('/v1/analytics'), 'FORBIDDEN');
    expectError(await boss.get('/v1/analytics?from=2026-02-30'), 'VALIDATION_ERROR');
    expectError(await boss.get(`/v1/analytics?from=${today}&to=${day(3)}`), 'VALIDATION_ERROR');
  });
});

export type { Actor };
