/**
 * Everything a Slack export holds (issue 59): private channels (`groups.json`), group DMs
 * (`mpims.json`) and DMs (`dms.json`) are imported with their members, private — readable by
 * their members only — and a DM is the one those people get here (`POST /v1/channels` type `dm`).
 * People: deleted ones are authors only, a bot user and its `bot_message`s are one identity.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSlackExport } from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const T0 = 1_700_000_000;
const ts = (s: number) => `${T0 + s}.000100`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const msg = (user: string, text: string, s: number) => ({ type: 'message', user, text, ts: ts(s) });

describe('private conversations of a Slack export', () => {
  it('imports private channels, group DMs and DMs with their members, private', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Imported');
    // Cat has an account here, as a plain member (an admin reads every channel).
    const catAccount = await buildAccount(h, 'Cat', `cat.${Math.random().toString(36).slice(2)}@example.com`);
    await join(owner, ws.id, catAccount);
    const cat = ok(await catAccount.session(ws.id));
    const asCat = (url: string) => h.call({ method: 'GET', url, headers: chatHeaders(cat) });
    const session = ok(await owner.session(ws.id));
    const me = session.user_id as string;
    const headers = chatHeaders(session);
    const get = (url: string) => h.call({ method: 'GET', url, headers });
    const users = [
      { id: 'UADA', name: 'ada', real_name: 'Ada', profile: { email: owner.account.email } },
      { id: 'UBOB', name: 'bob', real_name: 'Bob' },
      { id: 'UCAT', name: 'cat', real_name: 'Cat', profile: { email: catAccount.account.email } },
    ];
    const files = new Map<string, Uint8Array>([
      ['users.json', json(users)],
      ['channels.json', json([])],
      [
        'groups.json',
        json([
          {
            id: 'GPLAN',
            name: 'plans',
            created: T0,
            creator: 'UADA',
            members: ['UADA', 'UBOB'],
            topic: { value: 'Q4' },
          },
          { id: 'GHUSH', name: 'hush', created: T0, creator: 'UBOB', members: ['UBOB', 'UCAT'] },
        ]),
      ],
      [
        'mpims.json',
        json([{ id: 'GMP', name: 'mpdm-ada--bob--cat-1', created: T0, members: ['UADA', 'UBOB', 'UCAT'] }]),
      ],
      [
        'dms.json',
        json([
          { id: 'DAB', created: T0, members: ['UADA', 'UBOB'] },
          { id: 'DSELF', created: T0, members: ['UCAT'] },
        ]),
      ],
      ['plans/2023-11-14.json', json([msg('UADA', 'the plan', 10), msg('UBOB', 'agreed', 20)])],
      ['hush/2023-11-14.json', json([msg('UBOB', 'secret', 10)])],
      ['mpdm-ada--bob--cat-1/2023-11-14.json', json([msg('UCAT', 'all three', 10)])],
      ['DAB/2023-11-14.json', json([msg('UBOB', 'just us', 10), msg('UADA', 'yes', 11)])],
      ['DSELF/2023-11-14.json', json([msg('UCAT', 'note to self', 10)])],
    ]);
    const report = await importSlackExport(h.database, ws.id, files);
    expect(report.channels).toEqual({ imported: 4, existing: 0, archived: 0, private: 2, group_dms: 1, dms: 1 });
    expect(report.messages.imported).toBe(6);
    expect(report.skipped.by_reason).toEqual({ 'conversation with fewer than two people': 1 });

    const channels = await rows<{ cid: string; type: string; name: string | null; members: string }>(
      h.database.db,
      sql`select c.cid, c.type, c.name, string_agg(m.user_id, ',' order by m.user_id) as members
          from channels c join members m on m.app_id = c.app_id and m.cid = c.cid
          where c.app_id = ${ws.id} group by c.cid, c.type, c.name order by c.type, c.name, 4`,
    );
    const sorted = (ids: string[]) => [...ids].sort().join(',');
    expect(channels.map((c) => [c.type, c.name, c.members])).toEqual([
      ...[sorted([me, 'slack-UBOB']), sorted([me, 'slack-UBOB', cat.user_id])].sort().map((m) => ['dm', null, m]),
      ['group', 'hush', sorted(['slack-UBOB', cat.user_id])],
      ['group', 'plans', sorted([me, 'slack-UBOB'])],
    ]);

    // Ada reads her private channel; Cat, not in it, does not even learn it exists.
    const plans = await get('/v1/channels/group:plans/messages');
    expect(plans.status).toBe(200);
    expect(plans.body.messages.map((m: any) => m.text)).toEqual(['the plan', 'agreed']);
    expect((await get('/v1/channels/group:plans')).body.channel).toMatchObject({ topic: 'Q4' });
    expect((await asCat('/v1/channels/group:plans/messages')).status).toBe(404);
    expect((await asCat('/v1/channels/group:hush/messages')).body.messages.map((m: any) => m.text)).toEqual(['secret']);

    // Opening a DM with Bob here finds the imported one, history included.
    const dm = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers,
      payload: { type: 'dm', members: ['slack-UBOB'] },
    });
    expect(dm.status, JSON.stringify(dm.body)).toBeLessThan(300);
    const cid = dm.body.channel.cid as string;
    expect(channels.some((c) => c.cid === cid)).toBe(true);
    const history = await get(`/v1/channels/${cid}/messages`);
    expect(history.body.messages.map((m: any) => [m.user_id, m.text])).toEqual([
      ['slack-UBOB', 'just us'],
      [me, 'yes'],
    ]);

    // A re-run imports nothing twice.
    const again = await importSlackExport(h.database, ws.id, files);
    expect(again.channels).toMatchObject({ imported: 0, existing: 4 });
    expect(again.messages).toMatchObject({ imported: 0, existing: 6 });
  });

  it('keeps people deleted in Slack as authors only, and merges a bot user with its bot_messages', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'People');
    const users = [
      {
        id: 'UADA',
        name: 'ada',
        real_name: 'Ada',
        tz: 'Europe/Paris',
        profile: { status_text: 'On holiday', status_emoji: ':palm_tree:', status_expiration: 0 },
      },
      {
        id: 'UGONE',
        name: 'gone',
        real_name: 'Gone',
        deleted: true,
        tz: 'Not/AZone',
        profile: { status_text: 'Back soon', status_expiration: 1_700_000_000 },
      },
      { id: 'UBOT', name: 'deploy', real_name: 'Deploy', is_bot: true, profile: { bot_id: 'BDEP' } },
    ];
    const files = new Map<string, Uint8Array>([
      ['users.json', json(users)],
      ['channels.json', json([{ id: 'CGEN', name: 'general', created: T0, members: ['UADA', 'UGONE', 'UBOT'] }])],
      ['dms.json', json([{ id: 'DAG', created: T0, members: ['UADA', 'UGONE'] }])],
      [
        'general/2023-11-14.json',
        json([
          msg('UGONE', 'I was here', 10),
          {
            type: 'message',
            subtype: 'bot_message',
            bot_id: 'BDEP',
            username: 'deploybot',
            text: 'shipped',
            ts: ts(20),
          },
          { type: 'message', subtype: 'bot_message', bot_id: 'BOTHER', username: 'other', text: 'hook', ts: ts(30) },
        ]),
      ],
      ['DAG/2023-11-14.json', json([msg('UGONE', 'bye', 10)])],
    ]);
    const report = await importSlackExport(h.database, ws.id, files);
    expect(report.users.deactivated).toEqual(['Gone (UGONE)']);
    const people = await rows<{ id: string; username: string | null; time_zone: string | null; status: string | null }>(
      h.database.db,
      sql`select id, username, time_zone, status_text || ' ' || status_emoji as status
          from users where app_id = ${ws.id} and id like 'slack-%' order by id`,
    );
    // A status that expires is left out (nothing would clear it).
    expect(people).toEqual([
      { id: 'slack-UADA', username: 'ada', time_zone: 'Europe/Paris', status: 'On holiday :palm_tree:' },
      { id: 'slack-UBOT', username: 'deploy', time_zone: null, status: null },
      { id: 'slack-UGONE', username: null, time_zone: null, status: null },
      { id: 'slack-bot-BOTHER', username: null, time_zone: null, status: null },
    ]);
    const members = await rows<{ cid: string; user_id: string }>(
      h.database.db,
      sql`select cid, user_id from members where app_id = ${ws.id} order by cid, user_id`,
    );
    // Not a member of the channel; the DM with Ada stays theirs.
    expect(members.filter((m) => m.cid === 'public:general').map((m) => m.user_id)).toEqual([
      'slack-UADA',
      'slack-UBOT',
    ]);
    expect(members.filter((m) => m.cid.startsWith('dm:')).map((m) => m.user_id)).toEqual(['slack-UADA', 'slack-UGONE']);
    const authors = await rows<{ user_id: string; text: string }>(
      h.database.db,
      sql`select user_id, text from messages where app_id = ${ws.id} and cid = 'public:general' order by seq`,
    );
    expect(authors).toEqual([
      { user_id: 'slack-UGONE', text: 'I was here' },
      { user_id: 'slack-UBOT', text: 'shipped' },
      { user_id: 'slack-bot-BOTHER', text: 'hook' },
    ]);
  });
});
