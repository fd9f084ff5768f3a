/**
 * The pictures of a Slack export (slackdump's extensions of the format): people's avatars from
 * `__avatars/<user id>/<file>` become their avatars here, served as uploaded ones are; custom
 * emoji from `emojis/<name>.png` become the workspace's, with their aliases from `index.json`.
 * What cannot be imported is reported with its reason; a re-run adds nothing twice; a malformed
 * index refuses the export before anything is written.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportRefusedError, importSlackExport } from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import { LocalStore } from '../../src/platform/storage/index.js';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
let store: LocalStore;
let FACE: Buffer;
let SHIPIT: Buffer;
beforeAll(async () => {
  h = await startHarness();
  store = new LocalStore(path.join(h.config.dataDir, 'files'));
  FACE = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#e76f51' } })
    .jpeg()
    .toBuffer();
  SHIPIT = await sharp({ create: { width: 200, height: 100, channels: 4, background: '#2a9d8f' } })
    .png()
    .toBuffer();
});
afterAll(async () => h?.close());

const T0 = 1_700_000_000;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const PUBLIC_URL = 'https://chat.example.com/';

function exportOf(
  adaEmail: string,
  index: unknown = {
    shipit: 'https://emoji.slack-edge.com/T1/shipit/1.png',
    ship_it: 'alias:shipit',
    sq: 'alias:shipit',
  },
) {
  const users = [
    { id: 'UADA', name: 'ada', real_name: 'Ada', profile: { email: adaEmail } },
    {
      id: 'UBOB',
      name: 'bob',
      real_name: 'Bob',
      profile: { image_original: 'https://avatars.slack-edge.com/2023-11-14/111_bob_original.jpg' },
    },
    // Cat's picture is named but not in the export.
    {
      id: 'UCAT',
      name: 'cat',
      real_name: 'Cat',
      profile: { image_original: 'https://avatars.slack-edge.com/cat.jpg' },
    },
  ];
  return new Map<string, Uint8Array>([
    ['users.json', json(users)],
    ['channels.json', json([{ id: 'CGEN', name: 'general', created: T0, members: ['UADA', 'UBOB', 'UCAT'] }])],
    [
      'general/2023-11-14.json',
      json([{ type: 'message', user: 'UBOB', text: 'ship it :shipit:', ts: `${T0 + 10}.000100` }]),
    ],
    ['__avatars/UBOB/111_bob_original.jpg', FACE],
    ['emojis/shipit.png', SHIPIT],
    // Not an image, and a standard emoji's name: both reported.
    ['emojis/broken.png', Buffer.from('not a picture')],
    ['emojis/smile.png', SHIPIT],
    ['index.json', json(index)],
  ]);
}

describe('pictures of a Slack export', () => {
  it('imports avatars and custom emoji with their aliases, and reports what it cannot', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Pictures');
    const headers = chatHeaders(ok(await owner.session(ws.id)));
    const get = (url: string) => h.call({ method: 'GET', url, headers });

    // A dry run reads everything and writes nothing.
    const dry = await importSlackExport(h.database, ws.id, exportOf(owner.account.email), {
      dryRun: true,
      store,
      publicUrl: PUBLIC_URL,
    });
    expect(dry.users.pictures).toBe(1);
    expect(ok(await get('/v1/emoji')).emoji).toEqual([]);

    const report = await importSlackExport(h.database, ws.id, exportOf(owner.account.email), {
      store,
      publicUrl: PUBLIC_URL,
    });
    expect(report.users).toMatchObject({ matched: 1, created: 2, pictures: 1 });
    expect(report.emoji).toEqual({ imported: 1, existing: 0 });
    expect(report.skipped.items).toEqual(
      expect.arrayContaining([
        { channel: '', reason: 'profile picture not imported', detail: 'Cat (UCAT) (not in the export)' },
        { channel: '', reason: 'custom emoji not imported', detail: expect.stringMatching(/^:broken: \(/) },
        { channel: '', reason: 'custom emoji not imported', detail: ":smile: (a standard emoji's name)" },
      ]),
    );

    // Bob's avatar is served as an uploaded one.
    const [pic] = await rows<{ image: string; image_blurhash: string }>(
      h.database.db,
      sql`select image, image_blurhash from users where app_id = ${ws.id} and id = 'slack-UBOB'`,
    );
    expect(pic?.image).toMatch(new RegExp(`^https://chat\\.example\\.com/v1/images/${ws.id}/[0-9a-f-]{36}$`));
    expect(pic?.image_blurhash).toEqual(expect.any(String));
    const served = await h.call({ method: 'GET', url: new URL(pic?.image as string).pathname });
    expect(served.status).toBe(200);

    // The emoji is the workspace's, re-encoded as an upload's is, with both aliases.
    const emoji = ok(await get('/v1/emoji')).emoji;
    expect(emoji).toEqual([
      expect.objectContaining({
        shortcode: 'shipit',
        aliases: ['ship_it', 'sq'],
        content_type: 'image/png',
        width: 128,
        height: 64,
      }),
    ]);

    // Again: nothing twice.
    const again = await importSlackExport(h.database, ws.id, exportOf(owner.account.email), {
      store,
      publicUrl: PUBLIC_URL,
    });
    expect(again.emoji).toEqual({ imported: 0, existing: 1 });
    expect(again.users).toMatchObject({ created: 0, existing: 2, pictures: 0 });
    expect(ok(await get('/v1/emoji')).emoji).toHaveLength(1);
  });

  it('without a public URL the pictures are reported, not imported; a malformed index refuses the export', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'No URL');
    const report = await importSlackExport(h.database, ws.id, exportOf(owner.account.email), { store });
    expect(report.users.pictures).toBe(0);
    expect(report.skipped.items).toContainEqual({
      channel: '',
      reason: 'profile picture not imported',
      detail: 'Bob (UBOB) (no public URL (PARLEY_PUBLIC_URL) to serve it at)',
    });

    const other = await buildWorkspace(owner, 'Bad index');
    const refused = await importSlackExport(
      h.database,
      other.id,
      exportOf(owner.account.email, ['not', 'an', 'index']),
      {
        store,
        publicUrl: PUBLIC_URL,
      },
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ExportRefusedError);
    expect((refused as ExportRefusedError).problems).toContainEqual({
      file: 'index.json',
      reason: expect.stringContaining('not an emoji index'),
    });
    const [n] = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from users where app_id = ${other.id} and id like 'slack-%'`,
    );
    expect(n?.n).toBe(0);
  });
});
