/**
 * Notes (issue #36) through the REST API and the socket, on both databases: personal notes
 * are their owner's alone, channel notes follow the channel's read permission and
 * `edit-channel-notes`, every edit is a kept version with its author, concurrent edits merge
 * when they touch different lines and answer CONFLICT (writing nothing) when they collide,
 * search finds only readable notes, another tenant sees nothing, and bad input gets typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let url: string;
const sockets: TestSocket[] = [];

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const as = async (user: string, method: Method, path: string, payload?: object, on: TestApp = app) =>
  h.call({ method, url: path, headers: await on.user(user), ...(payload ? { payload } : {}) });

beforeAll(async () => {
  h = await startHarness();
  url = await h.listen();
  app = await h.createApp();
  other = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dave' }]);
  await h.users(other, [{ id: 'alice' }]);
  // public:plaza — alice, bob (carol and dave are not members); group:secret — alice, bob;
  // announcement:news — alice (owner), bob; dm — alice, bob.
  for (const [type, id, members] of [
    ['public', 'plaza', ['alice', 'bob']],
    ['group', 'secret', ['alice', 'bob']],
    ['announcement', 'news', ['alice', 'bob']],
  ] as const) {
    const r = await as('alice', 'POST', '/v1/channels', { type, id, members: [...members] });
    expect(r.status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.ws.close();
  await h?.close();
});

describe('personal notes', () => {
  it('are created, listed, read and edited by their owner only', async () => {
    const c = await as('alice', 'POST', '/v1/notes', { title: 'Groceries', text: '- milk\n- eggs' });
    expect(c.status).toBe(201);
    const note = c.body.note;
    expect(note).toMatchObject({ title: 'Groceries', cid: null, owner_id: 'alice', version: 1, created_by: 'alice' });
    expect((await as('alice', 'GET', '/v1/notes')).body.notes.map((n: { id: string }) => n.id)).toContain(note.id);
    expect((await as('bob', 'GET', '/v1/notes')).body.notes).toEqual([]);
    expect((await as('bob', 'GET', `/v1/notes/${note.id}`)).status).toBe(404);
    expect((await as('bob', 'PATCH', `/v1/notes/${note.id}`, { base_version: 1, text: 'x' })).status).toBe(404);
    expect((await as('bob', 'DELETE', `/v1/notes/${note.id}`)).status).toBe(404);
    expect((await as('bob', 'GET', `/v1/notes/${note.id}/versions`)).status).toBe(404);
    const u = await as('alice', 'PATCH', `/v1/notes/${note.id}`, { base_version: 1, text: '- milk\n- eggs\n- bread' });
    expect(u.status).toBe(200);
    expect(u.body).toMatchObject({ merged: false, note: { version: 2, text: '- milk\n- eggs\n- bread' } });
  });

  it('follow the owner to their other devices', async () => {
    const phone = await TestSocket.connect(url, app, 'alice');
    const bobs = await TestSocket.connect(url, app, 'bob');
    sockets.push(phone, bobs);
    const c = await as('alice', 'POST', '/v1/notes', { title: 'Ideas', text: 'one' });
    const ev = await phone.waitFor((f) => f.type === 'personal_note.updated' && f.note.id === c.body.note.id);
    expect(ev.note.text).toBe('one');
    await as('alice', 'DELETE', `/v1/notes/${c.body.note.id}`);
    const gone = await phone.waitFor((f) => f.type === 'personal_note.deleted' && f.note.id === c.body.note.id);
    expect(gone.note.deleted_at).not.toBeNull();
    expect(bobs.frames.some((f) => String(f.type).includes('note'))).toBe(false);
    expect((await as('alice', 'GET', `/v1/notes/${c.body.note.id}`)).status).toBe(404);
  });

  it('are idempotent by id, and an id taken by someone else is a CONFLICT', async () => {
    const id = '01935c8e-0000-7000-8000-00000000a001';
    const a = await as('alice', 'POST', '/v1/notes', { id, title: 'Once' });
    const b = await as('alice', 'POST', '/v1/notes', { id, title: 'Once' });
    expect(b.status).toBe(201);
    expect(b.body.note).toEqual(a.body.note);
    const c = await as('bob', 'POST', '/v1/notes', { id, title: 'Mine?' });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('CONFLICT');
  });
});

describe('channel notes: permissions per channel type', () => {
  it('public: members edit; a non-member reads but may not edit', async () => {
    const c = await as('bob', 'POST', '/v1/notes', { cid: 'public:plaza', title: 'Rules', text: 'be kind' });
    expect(c.status).toBe(201);
    const id = c.body.note.id;
    expect((await as('carol', 'GET', `/v1/notes/${id}`)).body.note.text).toBe('be kind');
    expect((await as('carol', 'GET', '/v1/notes?cid=public:plaza')).body.notes).toHaveLength(1);
    const e = await as('carol', 'PATCH', `/v1/notes/${id}`, { base_version: 1, text: 'anything goes' });
    expect(e.status).toBe(403);
    expect(e.body.error.code).toBe('FORBIDDEN');
    expect((await as('carol', 'POST', '/v1/notes', { cid: 'public:plaza', title: 'Mine' })).status).toBe(403);
    expect((await as('carol', 'DELETE', `/v1/notes/${id}`)).status).toBe(403);
    const ok = await as('alice', 'PATCH', `/v1/notes/${id}`, { base_version: 1, text: 'be kind\nbe brief' });
    expect(ok.body.note).toMatchObject({ version: 2, updated_by: 'alice', created_by: 'bob' });
  });

  it('group: a non-member can neither read nor find nor learn of its notes', async () => {
    const c = await as('alice', 'POST', '/v1/notes', {
      cid: 'group:secret',
      title: 'Launch plan',
      text: 'codename zebra',
    });
    expect(c.status).toBe(201);
    const id = c.body.note.id;
    for (const path of [`/v1/notes/${id}`, `/v1/notes/${id}/versions`, `/v1/notes/${id}/versions/1`])
      expect((await as('carol', 'GET', path)).status).toBe(404);
    const list = await as('carol', 'GET', '/v1/notes?cid=group:secret');
    expect(list.status).toBe(404);
    expect((await as('carol', 'PATCH', `/v1/notes/${id}`, { base_version: 1, text: 'x' })).status).toBe(404);
    expect((await as('carol', 'POST', '/v1/notes', { cid: 'group:secret', title: 'x' })).status).toBe(404);
    expect((await as('carol', 'GET', '/v1/notes/search?q=zebra')).body.notes).toEqual([]);
    expect((await as('bob', 'GET', '/v1/notes/search?q=zebra')).body.notes.map((n: { id: string }) => n.id)).toEqual([
      id,
    ]);
  });

  it('announcement: members edit notes (edit-channel-notes is member everywhere by default)', async () => {
    const c = await as('bob', 'POST', '/v1/notes', { cid: 'announcement:news', title: 'Schedule' });
    expect(c.status).toBe(201);
    expect((await as('carol', 'GET', `/v1/notes/${c.body.note.id}`)).status).toBe(200);
    expect((await as('carol', 'POST', '/v1/notes', { cid: 'announcement:news', title: 'x' })).status).toBe(403);
  });

  it('dm: only its two members', async () => {
    const dm = await as('alice', 'POST', '/v1/channels', { type: 'dm', members: ['alice', 'bob'] });
    const cid = dm.body.channel.cid as string;
    const c = await as('bob', 'POST', '/v1/notes', { cid, title: 'Between us' });
    expect(c.status).toBe(201);
    expect((await as('alice', 'GET', `/v1/notes/${c.body.note.id}`)).status).toBe(200);
    expect((await as('carol', 'GET', `/v1/notes/${c.body.note.id}`)).status).toBe(404);
  });

  it('an app override can lift edit-channel-notes to moderators', async () => {
    const o = await h.createApp();
    await h.users(o, [{ id: 'ann' }, { id: 'ben' }]);
    const r = await h.call({
      method: 'PUT',
      url: `/v1/admin/apps/${o.id}/permissions`,
      headers: { authorization: `Bearer ${h.config.adminToken}` },
      payload: { overrides: { public: { 'edit-channel-notes': 'moderator' } } },
    });
    expect(r.status).toBe(200);
    await as('ann', 'POST', '/v1/channels', { type: 'public', id: 'p', members: ['ann', 'ben'] }, o);
    expect((await as('ben', 'POST', '/v1/notes', { cid: 'public:p', title: 'x' }, o)).status).toBe(403);
  });
});

describe('channel notes: live, history, concurrent edits', () => {
  it('reach the members live', async () => {
    const bobs = await TestSocket.connect(url, app, 'bob');
    sockets.push(bobs);
    const c = await as('alice', 'POST', '/v1/notes', { cid: 'group:secret', title: 'Live', text: 'a' });
    const ev = await bobs.waitFor((f) => f.type === 'note.updated' && f.note.id === c.body.note.id);
    expect(ev).toMatchObject({ cid: 'group:secret', note: { text: 'a', version: 1 } });
  });

  it('merge edits to different lines, refuse colliding ones with CONFLICT, and keep every version', async () => {
    const base = 'Agenda\n1. budget\n2. hiring\n3. offsite\n4. AOB';
    const c = await as('alice', 'POST', '/v1/notes', { cid: 'public:plaza', title: 'Meeting', text: base });
    const id = c.body.note.id;
    // Both start from version 1.
    const a = await as('alice', 'PATCH', `/v1/notes/${id}`, {
      base_version: 1,
      text: base.replace('1. budget', '1. budget (Q3)'),
    });
    expect(a.body).toMatchObject({ merged: false, note: { version: 2 } });
    const b = await as('bob', 'PATCH', `/v1/notes/${id}`, {
      base_version: 1,
      text: base.replace('4. AOB', '4. any other business'),
    });
    expect(b.status).toBe(200);
    expect(b.body.merged).toBe(true);
    expect(b.body.note).toMatchObject({
      version: 3,
      text: 'Agenda\n1. budget (Q3)\n2. hiring\n3. offsite\n4. any other business',
    });

    // Carol joins the channel; she and bob both change line 3 from version 3.
    await as('alice', 'POST', '/v1/channels/public:plaza/members', { add: ['carol'] });
    const from3 = b.body.note.text as string;
    expect(
      (
        await as('bob', 'PATCH', `/v1/notes/${id}`, {
          base_version: 3,
          text: from3.replace('offsite', 'offsite (May)'),
        })
      ).status,
    ).toBe(200);
    const clash = await as('carol', 'PATCH', `/v1/notes/${id}`, {
      base_version: 3,
      text: from3.replace('offsite', 'offsite (June)'),
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('CONFLICT');
    expect(clash.body.error.details).toMatchObject({
      base_version: 3,
      text: from3.replace('offsite', 'offsite (June)'),
      note: { version: 4, text: from3.replace('offsite', 'offsite (May)') },
    });
    // Nothing was written.
    expect((await as('carol', 'GET', `/v1/notes/${id}`)).body.note.version).toBe(4);
    // Carol resolves from version 4.
    const resolved = await as('carol', 'PATCH', `/v1/notes/${id}`, {
      base_version: 4,
      text: from3.replace('offsite', 'offsite (May or June)'),
    });
    expect(resolved.body.note.version).toBe(5);

    const v = await as('bob', 'GET', `/v1/notes/${id}/versions`);
    expect(
      v.body.versions.map((x: { version: number; user_id: string; merged: boolean }) => [
        x.version,
        x.user_id,
        x.merged,
      ]),
    ).toEqual([
      [5, 'carol', false],
      [4, 'bob', false],
      [3, 'bob', true],
      [2, 'alice', false],
      [1, 'alice', false],
    ]);
    const one = await as('bob', 'GET', `/v1/notes/${id}/versions/1`);
    expect(one.body.version).toMatchObject({ version: 1, text: base, user_id: 'alice', title: 'Meeting' });
    expect((await as('bob', 'GET', `/v1/notes/${id}/versions/99`)).status).toBe(404);
  });

  it('over the socket: the same actions, the same CONFLICT', async () => {
    const a = await TestSocket.connect(url, app, 'alice');
    const b = await TestSocket.connect(url, app, 'bob');
    sockets.push(a, b);
    const made = await a.request('note.create', { cid: 'group:secret', title: 'Socket', text: 'x\ny\nz' });
    expect(made.ok).toBe(true);
    const id = made.note.id;
    expect((await a.request('note.update', { id, base_version: 1, text: 'X\ny\nz' })).note.version).toBe(2);
    const merged = await b.request('note.update', { id, base_version: 1, text: 'x\ny\nZ' });
    expect(merged).toMatchObject({ ok: true, merged: true, note: { version: 3, text: 'X\ny\nZ' } });
    const clash = await b.request('note.update', { id, base_version: 1, text: 'x!\ny\nz' });
    expect(clash).toMatchObject({ ok: false, error: { code: 'CONFLICT', details: { note: { version: 3 } } } });
    const carol = await TestSocket.connect(url, app, 'carol');
    sockets.push(carol);
    expect((await carol.request('note.delete', { id })).error.code).toBe('NOT_FOUND');
    expect((await carol.request('note.update', { id, base_version: 'one' })).error.code).toBe('VALIDATION_ERROR');
  });

  it('an unchanged edit makes no version', async () => {
    const c = await as('alice', 'POST', '/v1/notes', { title: 'Same', text: 'x' });
    const u = await as('alice', 'PATCH', `/v1/notes/${c.body.note.id}`, { base_version: 1, text: 'x' });
    expect(u.body.note.version).toBe(1);
  });

  it('titles: one side changing wins, both changing differently clash', async () => {
    const c = await as('alice', 'POST', '/v1/notes', { title: 'T', text: 'a\nb\nc' });
    const id = c.body.note.id;
    await as('alice', 'PATCH', `/v1/notes/${id}`, { base_version: 1, title: 'T1' });
    const keep = await as('alice', 'PATCH', `/v1/notes/${id}`, { base_version: 1, text: 'a\nb\nC' });
    expect(keep.body.note).toMatchObject({ title: 'T1', text: 'a\nb\nC', version: 3 });
    const clash = await as('alice', 'PATCH', `/v1/notes/${id}`, { base_version: 1, title: 'T2' });
    expect(clash.status).toBe(409);
  });
});

describe('search and tenancy', () => {
  it('finds own personal notes and readable channel notes only', async () => {
    await as('carol', 'POST', '/v1/notes', { title: 'carol private walrus' });
    await as('alice', 'POST', '/v1/notes', { title: 'alice private walrus' });
    await as('alice', 'POST', '/v1/notes', { cid: 'group:secret', title: 'secret walrus' });
    await as('alice', 'POST', '/v1/notes', { cid: 'public:plaza', title: 'plaza walrus' });
    const titles = async (u: string) =>
      ((await as(u, 'GET', '/v1/notes/search?q=walrus')).body.notes as { title: string }[]).map((n) => n.title).sort();
    expect(await titles('alice')).toEqual(['alice private walrus', 'plaza walrus', 'secret walrus']);
    expect(await titles('carol')).toEqual(['carol private walrus', 'plaza walrus']);
    expect(await titles('dave')).toEqual(['plaza walrus']);
    // LIKE wildcards match as typed.
    expect((await as('alice', 'GET', '/v1/notes/search?q=%25')).body.notes).toEqual([]);
  });

  it('another tenant sees none of it, even with the same user id', async () => {
    const c = await as('alice', 'POST', '/v1/notes', { title: 'tenant walrus' });
    expect((await as('alice', 'GET', `/v1/notes/${c.body.note.id}`, undefined, other)).status).toBe(404);
    expect((await as('alice', 'GET', '/v1/notes', undefined, other)).body.notes).toEqual([]);
    expect((await as('alice', 'GET', '/v1/notes/search?q=walrus', undefined, other)).body.notes).toEqual([]);
    expect(
      (await as('alice', 'PATCH', `/v1/notes/${c.body.note.id}`, { base_version: 1, text: 'x' }, other)).status,
    ).toBe(404);
  });
});

describe('bad input', () => {
  it('answers typed errors and writes nothing', async () => {
    const c = await as('alice', 'POST', '/v1/notes', { title: 'Bad', text: 'a' });
    const id = c.body.note.id;
    const cases: [Method, string, object | undefined, number, string][] = [
      ['POST', '/v1/notes', {}, 400, 'VALIDATION_ERROR'],
      ['POST', '/v1/notes', { title: '   ' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/v1/notes', { title: 'x'.repeat(201) }, 400, 'VALIDATION_ERROR'],
      ['POST', '/v1/notes', { title: 'x', text: 'x'.repeat(100_001) }, 400, 'VALIDATION_ERROR'],
      ['POST', '/v1/notes', { title: 'x', cid: 'nope' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/v1/notes', { title: 'x', cid: 'group:ghost' }, 404, 'NOT_FOUND'],
      ['POST', '/v1/notes', { title: 'x', extra: 1 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', `/v1/notes/${id}`, { text: 'no base' }, 400, 'VALIDATION_ERROR'],
      ['PATCH', `/v1/notes/${id}`, { base_version: 1 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', `/v1/notes/${id}`, { base_version: 0, text: 'x' }, 400, 'VALIDATION_ERROR'],
      ['PATCH', `/v1/notes/${id}`, { base_version: 7, text: 'x' }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/v1/notes/not-a-uuid', { base_version: 1, text: 'x' }, 400, 'VALIDATION_ERROR'],
      ['GET', '/v1/notes/01935c8e-0000-7000-8000-0000000000ff', undefined, 404, 'NOT_FOUND'],
      ['GET', `/v1/notes/${id}/versions/0`, undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/v1/notes/search', undefined, 400, 'VALIDATION_ERROR'],
      // Found by the REST fuzzer: a NUL in the query reached PostgreSQL (500) before it was refused here.
      ['GET', '/v1/notes/search?q=%00', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/v1/notes?q=%00', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/v1/notes?limit=1000', undefined, 400, 'VALIDATION_ERROR'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await as('alice', method, path, body);
      expect([path, body, r.status, r.body.error?.code]).toEqual([path, body, status, code]);
    }
    expect((await as('alice', 'GET', `/v1/notes/${id}`)).body.note).toMatchObject({ version: 1, text: 'a' });
    const server = await h.call({ method: 'GET', url: '/v1/notes', headers: await app.server() });
    expect(server.status).toBe(403);
  });

  it('an archived channel keeps its notes readable but read-only', async () => {
    await as('alice', 'POST', '/v1/channels', { type: 'group', id: 'old', members: ['alice', 'bob'] });
    const c = await as('alice', 'POST', '/v1/notes', { cid: 'group:old', title: 'Old' });
    const arch = await as('alice', 'PATCH', '/v1/channels/group:old', { archived: true });
    expect(arch.status).toBe(200);
    expect((await as('bob', 'GET', `/v1/notes/${c.body.note.id}`)).status).toBe(200);
    const e = await as('bob', 'PATCH', `/v1/notes/${c.body.note.id}`, { base_version: 1, text: 'x' });
    expect([e.status, e.body.error.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    for (const p of [
      '/v1/notes',
      '/v1/notes/search',
      '/v1/notes/{id}',
      '/v1/notes/{id}/versions',
      '/v1/notes/{id}/versions/{version}',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
  });
});
