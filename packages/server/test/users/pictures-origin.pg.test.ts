/**
 * Pictures follow the public URL (features/images/origin.ts): a profile picture uploaded while
 * the server was reached at one address, and a workspace logo, are moved onto
 * `PARLEY_PUBLIC_URL` when it is set or changes (TLS put in front, a new domain), once; a
 * picture elsewhere (a CDN), a URL of our shape naming no picture we hold, and another app's
 * pictures keep their URLs.
 */
import { uuidv7 } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followPublicUrl } from '../../src/features/images/index.js';
import { rows } from '../../src/platform/db/index.js';
import { ok } from '../accounts/helpers.js';
import { pngWithGps } from '../files/helpers.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

async function putAvatar(who: string, on: TestApp): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(await pngWithGps(300, 300))], { type: 'image/png' }), 'me.png');
  const r = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: await on.user(who), body: form });
  expect(r.status).toBe(200);
  return ((await r.json()) as { image: { url: string } }).image.url;
}
const imageOf = async (on: TestApp, id: string) =>
  (
    await rows<{ image: string | null }>(
      h.database.db,
      sql`select image from users where app_id = ${on.id} and id = ${id}`,
    )
  )[0]?.image;
const logoOf = async (on: TestApp) =>
  (await rows<{ logo: string | null }>(h.database.db, sql`select logo from workspaces where app_id = ${on.id}`))[0]
    ?.logo;
/** The server as it starts with `publicUrl` set. */
const startingWith = (publicUrl: string | undefined) => ({
  ...h.server.svc,
  config: { ...h.server.svc.config, publicUrl },
});

beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
  app = await h.createApp('pictures-origin');
  other = await h.createApp('pictures-origin-other');
  await h.users(app, [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob' },
    { id: 'cy', name: 'Cy' },
    { id: 'dee', name: 'Dee' },
  ]);
  await h.users(other, [{ id: 'ada', name: 'Other Ada' }]);
});
afterAll(async () => {
  await h?.close();
});

describe('pictures and the public URL', () => {
  it('move onto a new public URL once; pictures elsewhere stay where they are', async () => {
    const adaUrl = await putAvatar('ada', app);
    expect(adaUrl.startsWith(`${base}/v1/images/${app.id}/`)).toBe(true);
    const otherUrl = await putAvatar('ada', other);
    ok(
      await h.call({
        method: 'PATCH',
        url: '/v1/me',
        headers: await app.user('bob'),
        payload: { image: 'https://cdn.example.com/bob.png' },
      }),
    );
    // Our URL's shape, but no picture of ours by that id: not ours to move.
    const stray = `${base}/v1/images/${app.id}/${uuidv7()}`;
    await h.database.db.execute(sql`update users set image = ${stray} where app_id = ${app.id} and id = 'cy'`);
    // A workspace logo, as the logo upload leaves it.
    const logoId = uuidv7();
    await h.database.db.execute(sql`insert into images (app_id, id, owner_kind, owner_id, user_id, sizes, bytes)
      values (${app.id}, ${logoId}, 'workspace', '', 'ada', '{}'::jsonb, 1)`);
    await h.database.db.execute(sql`insert into workspaces (app_id, logo)
      values (${app.id}, ${`${base}/v1/images/${app.id}/${logoId}`})
      on conflict (app_id) do update set logo = excluded.logo`);

    // A picture of ours stored as a bare path.
    const pathId = uuidv7();
    await h.database.db.execute(sql`insert into images (app_id, id, owner_kind, owner_id, user_id, sizes, bytes)
      values (${app.id}, ${pathId}, 'user', 'dee', 'dee', '{}'::jsonb, 1)`);
    await h.database.db.execute(
      sql`update users set image = ${`/v1/images/${app.id}/${pathId}`} where app_id = ${app.id} and id = 'dee'`,
    );

    // No public URL set: nothing moves.
    expect(await followPublicUrl(startingWith(undefined))).toBe(0);
    expect(await imageOf(app, 'ada')).toBe(adaUrl);

    // TLS in front: https://chat.example.com.
    expect(await followPublicUrl(startingWith('https://chat.example.com/'))).toBe(4);
    const moved = await imageOf(app, 'ada');
    expect(moved).toBe(`https://chat.example.com${new URL(adaUrl).pathname}`);
    expect(await logoOf(app)).toBe(`https://chat.example.com/v1/images/${app.id}/${logoId}`);
    expect(await imageOf(other, 'ada')).toBe(`https://chat.example.com${new URL(otherUrl).pathname}`);
    expect(await imageOf(app, 'bob')).toBe('https://cdn.example.com/bob.png');
    expect(await imageOf(app, 'cy')).toBe(stray);
    expect(await imageOf(app, 'dee')).toBe(`https://chat.example.com/v1/images/${app.id}/${pathId}`);
    // The API answers with the moved URL, and the picture is still served at its path.
    const me = ok(await h.call({ method: 'GET', url: '/v1/me', headers: await app.user('ada') }));
    expect(me.user.image).toBe(moved);
    expect((await fetch(`${base}${new URL(moved as string).pathname}?size=48`)).status).toBe(200);

    // The next start at the same URL does nothing; a later move goes from there.
    expect(await followPublicUrl(startingWith('https://chat.example.com'))).toBe(0);
    expect(await followPublicUrl(startingWith('https://talk.example.org'))).toBe(4);
    expect(await imageOf(app, 'ada')).toBe(`https://talk.example.org${new URL(adaUrl).pathname}`);
  });
});
