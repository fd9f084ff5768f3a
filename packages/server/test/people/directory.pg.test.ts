/**
 * The people directory (`GET /v1/people`): keyset pages in a stable order, prefix search over
 * name words, usernames and (admins) emails, role filters, deactivated accounts for admins only,
 * guests limited to the people they share a channel with, presence and time zone on each
 * person, never another app's users, and typed errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';
import { expectError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Barbara Liskov', 'Edsger Dijkstra', 'Donald Knuth'];

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [
    ...names.map((name, i) => ({ id: `u${i}`, name, username: name.split(' ')[1]?.toLowerCase() })),
    { id: 'boss', name: 'Zoe Admin', role: 'admin' as const },
    { id: 'mod', name: 'Max Mod', role: 'moderator' as const },
  ]);
  // Many more, for paging: 'Person 000' … 'Person 119'.
  const many = Array.from({ length: 120 }, (_, i) => ({ id: `p${i}`, name: `Person ${String(i).padStart(3, '0')}` }));
  await h.users(w.app, many.slice(0, 60));
  await h.users(w.app, many.slice(60));
  await h.users(w.app, [{ id: 'gus', name: 'Gus Guest', role: 'guest' }]);
  await w.channel('u0', 'group', 'with-gus', ['gus', 'u1']);
});
afterAll(async () => {
  await h.close();
});

const people = (viewer: string | null, qs = '') => w.rest(viewer, 'GET', `/v1/people${qs}`);

describe('the people directory', () => {
  it('walks every user in name order, a page at a time, each once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await people('u0', `?limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.people.length).toBeLessThanOrEqual(25);
      seen.push(...r.body.people.map((p: any) => p.name));
      cursor = r.body.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen.length).toBe(names.length + 2 + 120 + 1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase(), 'en')));
  });

  it('finds by the start of any word of the name and by username, case-insensitive', async () => {
    const byWord = await people('u0', '?q=LOVE');
    expect(byWord.body.people.map((p: any) => p.id)).toEqual(['u0']);
    const byFirst = await people('u0', '?q=al');
    expect(byFirst.body.people.map((p: any) => p.id)).toEqual(['u1']);
    const byUsername = await people('u0', '?q=knu');
    expect(byUsername.body.people.map((p: any) => p.name)).toEqual(['Donald Knuth']);
    // LIKE wildcards are plain characters.
    expect((await people('u0', '?q=%25')).body.people).toEqual([]);
    expect((await people('u0', '?q=_')).body.people).toEqual([]);
    // A page of a search: cursor and q together.
    const first = await people('u0', '?q=person&limit=100');
    expect(first.body.people).toHaveLength(100);
    const rest = await people('u0', `?q=person&limit=100&cursor=${first.body.next}`);
    expect(rest.body.people).toHaveLength(20);
    expect(rest.body.next).toBeNull();
  });

  it('filters by role, guests included', async () => {
    expect((await people('u0', '?role=admin')).body.people.map((p: any) => p.id)).toEqual(['boss']);
    expect((await people('u0', '?role=moderator')).body.people.map((p: any) => p.id)).toEqual(['mod']);
    expect((await people('u0', '?role=guest')).body.people.map((p: any) => p.id)).toEqual(['gus']);
  });

  it('carries presence, busy included, and the time zone people chose', async () => {
    await w.rest('u2', 'PATCH', '/v1/notifications/settings', { time_zone: 'Asia/Tokyo', dnd_minutes: 30 });
    await w.socket('u2');
    const r = await people('u0', '?q=grace');
    expect(r.body.people[0]).toMatchObject({ id: 'u2', presence: 'busy', time_zone: 'Asia/Tokyo' });
    const other = await people('u0', '?q=alan');
    expect(other.body.people[0]).toMatchObject({ id: 'u1', presence: 'offline', time_zone: null });
    // No admin-only fields for members.
    expect(other.body.people[0]).not.toHaveProperty('email');
    expect(other.body.people[0]).not.toHaveProperty('deactivated');
    await w.closeSockets();
  });

  it('shows a guest only itself and the people who share a channel with it', async () => {
    const r = await people('gus', '?limit=100');
    expect(r.status).toBe(200);
    expect(r.body.people.map((p: any) => p.id).sort()).toEqual(['gus', 'u0', 'u1']);
    expect((await people('gus', '?q=grace')).body.people).toEqual([]);
    expect((await people('gus', '?role=admin')).body.people).toEqual([]);
  });

  it("never lists another app's users", async () => {
    const other = await makeWorld(h, [
      { id: 'u0', name: 'Other Ada' },
      { id: 'stranger', name: 'Ada Stranger' },
    ]);
    const r = await other.rest('u0', 'GET', '/v1/people?q=ada');
    expect(r.body.people.map((p: any) => p.name).sort()).toEqual(['Ada Stranger', 'Other Ada']);
    expect((await people('u0', '?q=stranger')).body.people).toEqual([]);
  });

  it('refuses bad input with typed errors', async () => {
    expectError(await people('u0', '?limit=0'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?limit=101'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?limit=ten'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?role=owner'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?cursor=not-a-cursor'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', `?cursor=${Buffer.from('{"n":1}').toString('base64url')}`), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?sort=name'), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', `?q=${'a'.repeat(101)}`), 400, 'VALIDATION_ERROR');
    expectError(await people('u0', '?deactivated=true'), 403, 'FORBIDDEN');
    const anon = await h.call({ method: 'GET', url: '/v1/people', headers: { 'x-api-key': w.app.apiKey } });
    expectError(anon, 401, 'UNAUTHORIZED');
  });
});

describe('the directory of a workspace', () => {
  it('shows admins emails, roles and deactivated accounts; members none of it', async () => {
    const owner = await buildAccount(h, 'Olive');
    const mia = await buildAccount(h, 'Mia');
    const dan = await buildAccount(h, 'Dan');
    const ws = await buildWorkspace(owner, 'Dir');
    await join(owner, ws.id, mia);
    await join(owner, ws.id, dan);
    const os = ok(await owner.session(ws.id));
    const ms = ok(await mia.session(ws.id));
    const ds = ok(await dan.session(ws.id));
    ok(await owner.post(`/v1/workspaces/${ws.id}/members/${dan.account.id}/deactivate`, {}));
    const get = (s: any, qs = '') => h.call({ method: 'GET', url: `/v1/people${qs}`, headers: chatHeaders(s) });

    const asOwner = ok(await get(os));
    expect(asOwner.people.map((p: any) => p.name)).toEqual(['Mia', 'Olive']);
    expect(asOwner.people.find((p: any) => p.name === 'Mia')).toMatchObject({
      email: mia.account.email,
      workspace_role: 'member',
      deactivated: false,
    });
    // Admins find by email, and list the deactivated.
    const local = mia.account.email.split('@')[0] as string;
    expect(ok(await get(os, `?q=${encodeURIComponent(local)}`)).people.map((p: any) => p.name)).toEqual(['Mia']);
    const gone = ok(await get(os, '?deactivated=true'));
    expect(gone.people.map((p: any) => [p.name, p.deactivated])).toEqual([['Dan', true]]);

    const asMia = ok(await get(ms));
    expect(asMia.people.map((p: any) => p.name)).toEqual(['Mia', 'Olive']);
    for (const p of asMia.people) {
      expect(p).not.toHaveProperty('email');
      expect(p).not.toHaveProperty('workspace_role');
    }
    // Members do not find people by email.
    expect(ok(await get(ms, `?q=${encodeURIComponent(local)}`)).people).toEqual([]);
    expectError(await get(ms, '?deactivated=true'), 403, 'FORBIDDEN');
    // The deactivated member's own token is refused.
    expect((await get(ds)).status).toBe(401);
  });
});
