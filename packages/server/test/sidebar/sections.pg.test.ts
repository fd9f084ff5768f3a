/**
 * Sidebar sections through the public API: made, renamed, collapsed, sorted, reordered and
 * removed; channels moved between them and starred; every change live on each of the user's
 * sockets and on no one else's; a channel the user left is not shown; bad input and another
 * user's or another app's section get typed errors and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

const as = async (
  user: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
  on = app,
) => h.call({ method, url, headers: await on.user(user), ...(payload ? { payload } : {}) });

type Section = {
  id: string;
  kind: string;
  name: string;
  position: number;
  collapsed: boolean;
  sort: string;
  cids: string[];
};
const names = (sb: { sections: Section[] }) => sb.sections.map((s) => s.name);
const byName = (sb: { sections: Section[] }, name: string) => sb.sections.find((s) => s.name === name) as Section;

beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  await h.users(other, [{ id: 'alice' }]);
  for (const id of ['design', 'ops', 'random', 'bobs'])
    expect(
      (
        await as(id === 'bobs' ? 'bob' : 'alice', 'POST', '/v1/channels', {
          type: 'group',
          id,
          name: id,
          members: id === 'bobs' ? [] : ['bob'],
        })
      ).status,
    ).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('sidebar sections', () => {
  it('are made, moved into, reordered and live on both of the user’s sockets only', async () => {
    const phone = await TestSocket.connect(base, app, 'alice');
    const laptop = await TestSocket.connect(base, app, 'alice');
    const bob = await TestSocket.connect(base, app, 'bob');
    const empty = await as('alice', 'GET', '/v1/me/sidebar');
    expect(empty.body).toEqual({ sidebar: { sections: [] } });

    const a = await as('alice', 'POST', '/v1/me/sidebar/sections', { name: ' Work ' });
    expect(a.status).toBe(201);
    expect(names(a.body.sidebar)).toEqual(['Work']);
    const b = await as('alice', 'POST', '/v1/me/sidebar/sections', { name: 'Fun', position: 0 });
    expect(names(b.body.sidebar)).toEqual(['Fun', 'Work']);
    const work = byName(b.body.sidebar, 'Work');
    const fun = byName(b.body.sidebar, 'Fun');

    await as('alice', 'PUT', '/v1/me/sidebar/channels/group:design', { section_id: work.id });
    await as('alice', 'PUT', '/v1/me/sidebar/channels/group:ops', { section_id: work.id, position: 0 });
    let sb = (await as('alice', 'PUT', '/v1/me/sidebar/channels/group:random', { section_id: fun.id })).body.sidebar;
    expect(byName(sb, 'Work').cids).toEqual(['group:ops', 'group:design']);
    // A move takes the channel out of where it was: a channel is in one section at most.
    sb = (await as('alice', 'PUT', '/v1/me/sidebar/channels/group:design', { section_id: fun.id, position: 0 })).body
      .sidebar;
    expect(byName(sb, 'Fun').cids).toEqual(['group:design', 'group:random']);
    expect(byName(sb, 'Work').cids).toEqual(['group:ops']);
    // Reorder within a section, and past its end (clamped to last).
    sb = (await as('alice', 'PUT', '/v1/me/sidebar/channels/group:design', { section_id: fun.id, position: 99 })).body
      .sidebar;
    expect(byName(sb, 'Fun').cids).toEqual(['group:random', 'group:design']);

    sb = (await as('alice', 'PUT', '/v1/me/sidebar/order', { section_ids: [work.id, fun.id] })).body.sidebar;
    expect(names(sb)).toEqual(['Work', 'Fun']);
    expect(sb.sections.map((s: Section) => s.position)).toEqual([0, 1]);
    sb = (
      await as('alice', 'PATCH', `/v1/me/sidebar/sections/${fun.id}`, { name: 'Play', collapsed: true, sort: 'name' })
    ).body.sidebar;
    expect(byName(sb, 'Play')).toMatchObject({ collapsed: true, sort: 'name' });

    // Both sockets see the last state; Bob sees none of it.
    const last = (s: TestSocket) => s.events('sidebar.updated').at(-1)?.sidebar;
    for (const s of [phone, laptop])
      await s.waitFor(
        (f) => f.type === 'sidebar.updated' && f.sidebar.sections.some((x: Section) => x.name === 'Play'),
      );
    expect(last(phone)).toEqual(sb);
    expect(last(laptop)).toEqual(sb);
    expect(bob.events('sidebar.updated')).toEqual([]);
    expect((await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar).toEqual(sb);
    expect((await as('bob', 'GET', '/v1/me/sidebar')).body.sidebar).toEqual({ sections: [] });

    // Back to the default group; removing a section puts its channels back too.
    sb = (await as('alice', 'PUT', '/v1/me/sidebar/channels/group:ops', { section_id: null })).body.sidebar;
    expect(byName(sb, 'Work').cids).toEqual([]);
    sb = (await as('alice', 'DELETE', `/v1/me/sidebar/sections/${fun.id}`)).body.sidebar;
    expect(names(sb)).toEqual(['Work']);
    expect(sb.sections[0].position).toBe(0);
    for (const s of [phone, laptop, bob]) s.close();
  });

  it('star and unstar: a built-in Starred section, first, made once', async () => {
    const s1 = (await as('bob', 'PUT', '/v1/me/starred/group:design')).body.sidebar;
    expect(s1.sections).toHaveLength(1);
    expect(s1.sections[0]).toMatchObject({ kind: 'starred', name: 'Starred', position: 0, cids: ['group:design'] });
    await as('bob', 'POST', '/v1/me/sidebar/sections', { name: 'Mine' });
    const s2 = (await as('bob', 'PUT', '/v1/me/starred/group:ops')).body.sidebar;
    expect(s2.sections.filter((s: Section) => s.kind === 'starred')).toHaveLength(1);
    expect(s2.sections[0].cids).toEqual(['group:design', 'group:ops']);
    // Starring again changes nothing; the Starred section keeps its name.
    expect((await as('bob', 'PUT', '/v1/me/starred/group:ops')).body.sidebar).toEqual(s2);
    const rename = await as('bob', 'PATCH', `/v1/me/sidebar/sections/${s2.sections[0].id}`, { name: 'Faves' });
    expect(rename.status).toBe(400);
    const s3 = (await as('bob', 'DELETE', '/v1/me/starred/group:design')).body.sidebar;
    expect(s3.sections[0].cids).toEqual(['group:ops']);
    // Unstarring a channel placed elsewhere leaves it where it is.
    const mine = byName(s3, 'Mine');
    await as('bob', 'PUT', '/v1/me/sidebar/channels/group:bobs', { section_id: mine.id });
    expect(byName((await as('bob', 'DELETE', '/v1/me/starred/group:bobs')).body.sidebar, 'Mine').cids).toEqual([
      'group:bobs',
    ]);
  });

  it('does not show a channel the user left, nor place one they are not in', async () => {
    const made = (await as('alice', 'POST', '/v1/me/sidebar/sections', { name: 'Temp' })).body.sidebar;
    const temp = byName(made, 'Temp');
    await as('alice', 'PUT', '/v1/me/sidebar/channels/group:random', { section_id: temp.id });
    await as('alice', 'PUT', '/v1/me/starred/group:ops');
    // Alice is removed from group:random (bob is no admin there; alice removes herself).
    const left = await as('alice', 'POST', '/v1/channels/group:random/members', { remove: ['alice'] });
    expect(left.status).toBe(200);
    const sb = (await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar;
    expect(byName(sb, 'Temp').cids).toEqual([]);
    expect(JSON.stringify(sb)).not.toContain('group:random');
    // Not a member: not hers to place or star (and no word on whether it exists).
    for (const [m, url, body] of [
      ['PUT', '/v1/me/sidebar/channels/group:random', { section_id: temp.id }],
      ['PUT', '/v1/me/sidebar/channels/group:bobs', { section_id: temp.id }],
      ['PUT', '/v1/me/sidebar/channels/group:nope', { section_id: temp.id }],
      ['PUT', '/v1/me/starred/group:bobs', undefined],
    ] as const)
      expect((await as('alice', m, url, body)).status, url).toBe(404);
  });

  it('answers bad input and other people’s sections with typed errors, writing nothing', async () => {
    const before = (await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar;
    const ids = before.sections.map((s: Section) => s.id);
    const bobs = (await as('bob', 'GET', '/v1/me/sidebar')).body.sidebar.sections[0].id;
    const cases: [string, 'POST' | 'PATCH' | 'PUT' | 'DELETE', string, object | undefined, number, string][] = [
      ['blank name', 'POST', '/v1/me/sidebar/sections', { name: '   ' }, 400, 'VALIDATION_ERROR'],
      ['long name', 'POST', '/v1/me/sidebar/sections', { name: 'x'.repeat(81) }, 400, 'VALIDATION_ERROR'],
      ['extra field', 'POST', '/v1/me/sidebar/sections', { name: 'ok', color: 'red' }, 400, 'VALIDATION_ERROR'],
      ['empty patch', 'PATCH', `/v1/me/sidebar/sections/${ids[0]}`, {}, 400, 'VALIDATION_ERROR'],
      ['bad sort', 'PATCH', `/v1/me/sidebar/sections/${ids[0]}`, { sort: 'size' }, 400, 'VALIDATION_ERROR'],
      ['bob’s section', 'PATCH', `/v1/me/sidebar/sections/${bobs}`, { name: 'mine now' }, 404, 'NOT_FOUND'],
      ['bob’s section', 'DELETE', `/v1/me/sidebar/sections/${bobs}`, undefined, 404, 'NOT_FOUND'],
      ['not a uuid', 'DELETE', '/v1/me/sidebar/sections/12', undefined, 400, 'VALIDATION_ERROR'],
      ['into bob’s', 'PUT', '/v1/me/sidebar/channels/group:design', { section_id: bobs }, 404, 'NOT_FOUND'],
      ['bad cid', 'PUT', '/v1/me/sidebar/channels/nope', { section_id: null }, 400, 'VALIDATION_ERROR'],
      [
        'negative',
        'PUT',
        '/v1/me/sidebar/channels/group:design',
        { section_id: ids[0], position: -1 },
        400,
        'VALIDATION_ERROR',
      ],
      ['missing one', 'PUT', '/v1/me/sidebar/order', { section_ids: ids.slice(1) }, 400, 'VALIDATION_ERROR'],
      ['bob’s in order', 'PUT', '/v1/me/sidebar/order', { section_ids: [...ids, bobs] }, 400, 'VALIDATION_ERROR'],
      ['twice', 'PUT', '/v1/me/sidebar/order', { section_ids: [ids[0], ids[0]] }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [what, method, url, body, status, code] of cases) {
      const r = await as('alice', method, url, body);
      expect([r.status, r.body.error?.code], what).toEqual([status, code]);
    }
    expect((await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar).toEqual(before);
    // At most 50 sections.
    for (let i = before.sections.length; i < 50; i++)
      await as('alice', 'POST', '/v1/me/sidebar/sections', { name: `s${i}` });
    const over = await as('alice', 'POST', '/v1/me/sidebar/sections', { name: 'one too many' });
    expect([over.status, over.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
  });

  it('keeps apps apart: the same user id in another app has its own (empty) sidebar', async () => {
    expect((await as('alice', 'GET', '/v1/me/sidebar', undefined, other)).body.sidebar).toEqual({ sections: [] });
    const aliceSection = (await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar.sections[0].id;
    const r = await as('alice', 'DELETE', `/v1/me/sidebar/sections/${aliceSection}`, undefined, other);
    expect(r.status).toBe(404);
    const s = await as('alice', 'POST', '/v1/me/sidebar/sections', { name: 'Elsewhere' }, other);
    expect(s.body.sidebar.sections.map((x: Section) => x.name)).toEqual(['Elsewhere']);
    expect(names((await as('alice', 'GET', '/v1/me/sidebar')).body.sidebar)).not.toContain('Elsewhere');
    // A server token has no sidebar.
    const srv = await h.call({ method: 'GET', url: '/v1/me/sidebar', headers: await app.server() });
    expect(srv.status).toBe(403);
  });
});

describe('sidebar requests over the socket', () => {
  it('run the REST routes’ actions: the same answer, live on the user’s other socket; bad input typed', async () => {
    const phone = await TestSocket.connect(base, app, 'bob');
    const laptop = await TestSocket.connect(base, app, 'bob');
    const made = await phone.request('sidebar.section.create', { name: 'Over the socket' });
    expect(made.ok).toBe(true);
    const section = byName(made.sidebar, 'Over the socket');
    const placed = await phone.request('sidebar.place', { cid: 'group:design', section_id: section.id });
    expect(byName(placed.sidebar, 'Over the socket').cids).toEqual(['group:design']);
    // The other device hears it as from REST, and REST reads the same sidebar.
    const seen = await laptop.waitFor(
      (f) =>
        f.type === 'sidebar.updated' &&
        f.sidebar.sections.some((s: Section) => s.id === section.id && s.cids.includes('group:design')),
    );
    const rest = await as('bob', 'GET', '/v1/me/sidebar');
    expect(rest.body.sidebar).toEqual(seen.sidebar);
    expect((await phone.request('sidebar.get')).sidebar).toEqual(rest.body.sidebar);
    // Bad input: nothing to change, an unknown field, another user's section.
    const empty = await phone.request('sidebar.section.update', { id: section.id });
    expect(empty).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    const extra = await phone.request('sidebar.reorder', { section_ids: [section.id], extra: 1 });
    expect(extra).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    await h.users(app, [{ id: 'carol' }]);
    const carols = await as('carol', 'POST', '/v1/me/sidebar/sections', { name: 'Carol only' });
    expect(carols.status, JSON.stringify(carols.body)).toBe(201);
    const theirs = byName(carols.body.sidebar, 'Carol only');
    const r = await phone.request('sidebar.section.delete', { id: theirs.id });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(names((await as('carol', 'GET', '/v1/me/sidebar')).body.sidebar)).toContain('Carol only');
    // Unstar over the socket is the DELETE route's action.
    await phone.request('sidebar.star', { cid: 'group:ops' });
    const un = await phone.request('sidebar.star', { cid: 'group:ops', starred: false });
    expect(un.sidebar.sections.some((s: Section) => s.cids.includes('group:ops'))).toBe(false);
    expect((await phone.request('sidebar.section.delete', { id: section.id })).ok).toBe(true);
    phone.close();
    laptop.close();
  });
});
