/**
 * The people directory's filters (`GET /v1/people?title=…&field=<id>:<value>`): the title by a
 * word's start, `q` over titles too, custom fields (a choice exactly, text by prefix), every
 * filter ANDed with the others and with q and role, keyset pages that stay inside the filter,
 * guests still limited to their channels, and fields a caller may not see or that are not the
 * app's refused as unknown, by id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { expectError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
let team: string;
let office: string;
let salary: string;

const people = (viewer: string | null, qs: string) => w.rest(viewer, 'GET', `/v1/people?${qs}`);
const ids = async (viewer: string | null, qs: string) => {
  const r = await people(viewer, qs);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.people.map((p: any) => p.id);
};
/** A PUT as the app's server token (the world's `rest` has no PUT). */
const put = async (world: World, url: string, payload: object) =>
  h.call({ method: 'PUT', url, headers: await world.app.server(), payload });
const f = (id: string, value: string) => `field=${id}:${encodeURIComponent(value)}`;

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [
    { id: 'u0', name: 'Ada Lovelace' },
    { id: 'u1', name: 'Alan Turing' },
    { id: 'u2', name: 'Grace Hopper' },
    { id: 'u3', name: 'Barbara Liskov' },
    { id: 'boss', name: 'Zoe Admin', role: 'admin' as const },
  ]);
  await h.users(w.app, [{ id: 'gus', name: 'Gus Guest', role: 'guest' }]);
  const titles = { u0: 'Senior Engineer', u1: 'Engineering Manager', u2: 'Rear Admiral', u3: 'Designer' };
  const up = await w.rest(null, 'POST', '/v1/users', {
    users: Object.entries(titles).map(([id, title]) => ({ id, title })),
  });
  expect(up.status, JSON.stringify(up.body)).toBe(200);
  const field = async (body: object) => {
    const r = await w.rest(null, 'POST', '/v1/profile-fields', body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.field.id as string;
  };
  team = await field({ name: 'Team', kind: 'choice', options: ['Platform', 'Design', 'Sales'] });
  office = await field({ name: 'Office', kind: 'text' });
  salary = await field({ name: 'Salary band', kind: 'choice', options: ['A', 'B'], visibility: 'admins' });
  const set = async (user: string, fields: Record<string, string>) => {
    const r = await put(w, `/v1/users/${user}/fields`, { fields });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  await set('u0', { [team]: 'Platform', [office]: 'Berlin HQ', [salary]: 'B' });
  await set('u1', { [team]: 'Platform', [office]: 'London' });
  await set('u2', { [team]: 'Design', [office]: 'berlin east', [salary]: 'A' });
  await set('u3', { [team]: 'Design' });
  // For paging: 'Person 00' … 'Person 29', every other one in Sales.
  await h.users(
    w.app,
    Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, name: `Person ${String(i).padStart(2, '0')}` })),
  );
  for (let i = 0; i < 30; i += 2) await set(`p${i}`, { [team]: 'Sales' });
  await w.channel('u0', 'group', 'with-gus', ['gus']);
});
afterAll(async () => {
  await h.close();
});

describe('filtering the people directory', () => {
  it('by the start of any word of the title, case-insensitive', async () => {
    expect(await ids('u3', 'title=eng')).toEqual(['u0', 'u1']);
    expect(await ids('u3', 'title=ENGINEER')).toEqual(['u0', 'u1']);
    expect(await ids('u3', 'title=senior')).toEqual(['u0']);
    expect(await ids('u3', 'title=admiral')).toEqual(['u2']);
    // A word's start, not any part of it; LIKE wildcards are plain characters.
    expect(await ids('u3', 'title=gineer')).toEqual([]);
    expect(await ids('u3', 'title=%25')).toEqual([]);
    // Blank is no filter.
    expect((await ids('u3', 'title=%20&limit=100')).length).toBe(36);
  });

  it('q matches the title too, beside the name and username', async () => {
    expect(await ids('u3', 'q=admiral')).toEqual(['u2']);
    expect(await ids('u3', 'q=eng')).toEqual(['u0', 'u1']);
    expect(await ids('u3', 'q=ada')).toEqual(['u0']);
  });

  it('by a choice field exactly, a text field by prefix, case-insensitive', async () => {
    expect(await ids('u3', f(team, 'Platform'))).toEqual(['u0', 'u1']);
    expect(await ids('u3', f(team, 'Design'))).toEqual(['u3', 'u2']);
    expect(await ids('u3', f(office, 'ber'))).toEqual(['u0', 'u2']);
    expect(await ids('u3', f(office, 'BERLIN H'))).toEqual(['u0']);
    expect(await ids('u3', f(office, 'erlin'))).toEqual([]);
    expect(await ids('u3', f(office, '%'))).toEqual([]);
    // A choice is matched as the option is spelled: another spelling is not an option.
    const r = await people('u3', f(team, 'platform'));
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.error.message).toContain('Team');
    expect(r.body.error.details).toEqual({ field: team });
  });

  it('ANDs every filter, with q and role too', async () => {
    expect(await ids('u3', `${f(team, 'Design')}&${f(office, 'berlin')}`)).toEqual(['u2']);
    expect(await ids('u3', `title=eng&${f(office, 'berlin')}`)).toEqual(['u0']);
    expect(await ids('u3', `title=eng&${f(team, 'Design')}`)).toEqual([]);
    expect(await ids('u3', `q=alan&${f(team, 'Platform')}`)).toEqual(['u1']);
    expect(await ids('u3', `q=grace&${f(team, 'Platform')}`)).toEqual([]);
    expect(await ids('u3', `role=admin&${f(team, 'Platform')}`)).toEqual([]);
    expect(await ids('u3', `role=user&title=eng&${f(team, 'Platform')}`)).toEqual(['u0', 'u1']);
    // The same field twice: both must hold.
    expect(await ids('u3', `${f(team, 'Design')}&${f(team, 'Platform')}`)).toEqual([]);
  });

  it('pages through a filtered list with its cursor, each one once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await people('u3', `${f(team, 'Sales')}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.people).toHaveLength(5);
      seen.push(...r.body.people.map((p: any) => p.id));
      cursor = r.body.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => `p${i * 2}`));
  });

  it('lets admins and the server filter by an admins-only field; a member learns nothing of it', async () => {
    expect(await ids('boss', f(salary, 'B'))).toEqual(['u0']);
    expect(await ids(null, f(salary, 'A'))).toEqual(['u2']);
    for (const member of ['u3', 'gus']) {
      const r = await people(member, f(salary, 'B'));
      expectError(r, 400, 'VALIDATION_ERROR');
      // The same answer as for a field that does not exist: by id, never by name.
      expect(r.body.error.message).toBe(`Unknown profile field: ${salary}`);
      expect(r.body.error.details).toEqual({ field: salary });
    }
  });

  it("refuses an unknown field and another app's, naming the id", async () => {
    const unknown = '0190a5f0-0000-7000-8000-000000000000';
    const r = await people('u3', f(unknown, 'x'));
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.error.message).toBe(`Unknown profile field: ${unknown}`);
    expect(r.body.error.details).toEqual({ field: unknown });

    const other = await makeWorld(h, [{ id: 'u0', name: 'Other Ada' }]);
    const theirs = await other.rest(null, 'POST', '/v1/profile-fields', { name: 'Team', kind: 'text' });
    const theirId = theirs.body.field.id as string;
    await put(other, '/v1/users/u0/fields', { fields: { [theirId]: 'Platform' } });
    expect(await other.rest('u0', 'GET', `/v1/people?${f(theirId, 'plat')}`)).toMatchObject({ status: 200 });
    for (const viewer of ['u3', 'boss', null]) {
      const x = await people(viewer, f(theirId, 'Platform'));
      expectError(x, 400, 'VALIDATION_ERROR');
      expect(x.body.error.details).toEqual({ field: theirId });
    }
  });

  it('still shows a guest only the people who share a channel with it', async () => {
    expect(await ids('gus', 'title=eng')).toEqual(['u0']);
    expect(await ids('gus', f(team, 'Platform'))).toEqual(['u0']);
    expect(await ids('gus', f(team, 'Design'))).toEqual([]);
  });

  it('refuses bad filters with typed errors', async () => {
    const six = Array.from({ length: 6 }, () => f(team, 'Sales')).join('&');
    expectError(await people('u3', six), 400, 'VALIDATION_ERROR');
    expect(await ids('u3', six.split('&').slice(0, 5).join('&'))).toHaveLength(15);
    expectError(await people('u3', f(office, 'x'.repeat(101))), 400, 'VALIDATION_ERROR');
    expect(await ids('u3', f(office, 'x'.repeat(100)))).toEqual([]);
    expectError(await people('u3', `title=${'e'.repeat(101)}`), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', `field=${team}`), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', `field=${team}:`), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', `field=${team}:%20%20`), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', 'field=team:Platform'), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', `field=${team}:%00`), 400, 'VALIDATION_ERROR');
    expectError(await people('u3', `${f(team, 'Sales')}&cursor=nope`), 400, 'VALIDATION_ERROR');
  });
});
