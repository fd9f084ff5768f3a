/**
 * The Slack import refuses a bad export as a whole and never half-imports (issue 59): every
 * problem of the export is found before anything is written, the writes are one transaction,
 * and a later export that fills a gap in the past puts it in time order. Each case compares the
 * row count of every table before and after.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportRefusedError, importSlackExport } from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import type { BlobStore } from '../../src/platform/storage/index.js';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY = 86_400;
const ts = (s: number) => `${T0 + s}.000100`;
const json = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

const users = [
  { id: 'UADA', name: 'ada', real_name: 'Ada', profile: { email: 'ada@example.com' } },
  { id: 'UBOB', name: 'bob', real_name: 'Bob' },
];
const channels = [
  { id: 'CGEN', name: 'general', created: T0, creator: 'UADA', members: ['UADA', 'UBOB'] },
  { id: 'CRND', name: 'random', created: T0, creator: 'UBOB', members: ['UBOB'] },
];
/** Messages of day `d` (0, 1, 2) in `general`: two a day. */
const day = (d: number) => [
  { type: 'message', user: 'UADA', text: `day ${d} first`, ts: ts(d * DAY + 10) },
  { type: 'message', user: 'UBOB', text: `day ${d} second`, ts: ts(d * DAY + 20) },
];
const date = (d: number) => new Date((T0 + d * DAY) * 1000).toISOString().slice(0, 10);

function slackExport(days: number[], extra: Record<string, Buffer> = {}): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([
    ['users.json', json(users)],
    ['channels.json', json(channels)],
    ['random/2023-11-14.json', json([{ type: 'message', user: 'UBOB', text: 'random', ts: ts(5) }])],
  ]);
  for (const d of days) m.set(`general/${date(d)}.json`, json(day(d)));
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

/** The row count of every table of the database. */
async function counts(): Promise<Record<string, number>> {
  const tables = await rows<{ name: string }>(
    h.database.db,
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [r] = await rows<{ n: number }>(h.database.db, sql`select count(*)::int as n from ${sql.identifier(t.name)}`);
    out[t.name] = r?.n ?? -1;
  }
  return out;
}

async function workspace() {
  const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
  const ws = await buildWorkspace(owner, 'Imported');
  return {
    owner,
    ws,
    users: users.map((u) => (u.id === 'UADA' ? { ...u, profile: { email: owner.account.email } } : u)),
  };
}

async function refused(p: Promise<unknown>): Promise<ExportRefusedError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ExportRefusedError);
  return e as ExportRefusedError;
}

describe('a bad export is refused with every problem, and nothing is written', () => {
  it('channels.json with wrong types: each bad channel named, no users and no channels created', async () => {
    const { ws } = await workspace();
    const before = await counts();
    const bad = slackExport([0, 1], {
      'channels.json': json([
        { id: 'CGEN', name: 42, members: 'everyone' },
        { id: 7, name: 'random' },
        { name: 'nameless' },
        { id: 'COK', name: 'fine', created: 'yesterday' },
      ]),
    });
    for (const dryRun of [true, false]) {
      const e = await refused(importSlackExport(h.database, ws.id, bad, { dryRun }));
      expect(e.problems).toEqual([
        { file: 'channels.json', reason: expect.stringMatching(/^\[0\]\.name: Expected string \(got 42\)$/) },
        { file: 'channels.json', reason: expect.stringMatching(/^\[1\]\.id: Expected string/) },
        { file: 'channels.json', reason: expect.stringMatching(/^\[2\]\.id: Expected required property/) },
        { file: 'channels.json', reason: expect.stringMatching(/^\[3\]\.created: /) },
      ]);
    }
    expect(await counts()).toEqual(before);
  });

  it('a day file that is not JSON, a message without ts, a missing users.json: all listed at once', async () => {
    const { ws } = await workspace();
    const before = await counts();
    const bad = slackExport([0, 1, 2], {
      [`general/${date(1)}.json`]: json('[{"ts": "1700000000.1", "text": "cut off'),
      [`general/${date(2)}.json`]: json([{ type: 'message', user: 'UBOB', text: 'no time' }, ...day(2)]),
      'dms.json': json({ not: 'a list' }),
    });
    bad.delete('users.json');
    const e = await refused(importSlackExport(h.database, ws.id, bad));
    expect(e.problems).toEqual([
      { file: 'users.json', reason: 'missing (is it a Slack workspace export?)' },
      { file: 'dms.json', reason: 'not a list of conversations' },
      { file: `general/${date(1)}.json`, reason: expect.stringMatching(/^not valid JSON/) },
      { file: `general/${date(2)}.json`, reason: expect.stringMatching(/^\[0\]\.ts: Expected required property/) },
    ]);
    expect(e.message).toContain(`general/${date(1)}.json: not valid JSON`);
    expect(await counts()).toEqual(before);
  });

  it('a failure part-way through the writes leaves nothing of the export (one transaction)', async () => {
    const { ws, users: us } = await workspace();
    const withFile = slackExport([0], {
      'users.json': json(us),
      'random/2023-11-14.json': json([
        { type: 'message', user: 'UBOB', text: 'a file', ts: ts(5), files: [{ id: 'F1', name: 'a.txt' }] },
      ]),
      '__uploads/F1/a.txt': json('hello'),
    });
    const broken = {
      putBytes: async () => {
        throw new Error('disk full');
      },
    } as unknown as BlobStore;
    const before = await counts();
    // `general` is written first, then `random` fails on its file: general must not stay.
    await expect(importSlackExport(h.database, ws.id, withFile, { store: broken })).rejects.toThrow('disk full');
    expect(await counts()).toEqual(before);
  });
});

describe('a later export that fills a gap in the past', () => {
  it('puts the gap in time order: seqs, history and the event log follow time, clients reload', async () => {
    const { ws, users: us } = await workspace();
    const first = await importSlackExport(h.database, ws.id, slackExport([0, 2], { 'users.json': json(us) }));
    expect(first.messages.imported).toBe(5);
    const epoch = async () =>
      (await rows<{ value: string }>(h.database.db, sql`select value from server_state where name = 'data_epoch'`))[0]
        ?.value;
    const before = await epoch();
    const second = await importSlackExport(h.database, ws.id, slackExport([0, 1, 2], { 'users.json': json(us) }));
    expect(second.messages).toMatchObject({ imported: 2, existing: 5 });
    expect(second.reordered).toEqual(['public:general']);
    expect(await epoch()).not.toBe(before);

    const msgs = await rows<{ seq: number; text: string }>(
      h.database.db,
      sql`select seq, text from messages where app_id = ${ws.id} and cid = 'public:general' order by seq`,
    );
    expect(msgs).toEqual(
      [0, 1, 2].flatMap((d) => [`day ${d} first`, `day ${d} second`]).map((text, i) => ({ seq: i + 1, text })),
    );
    const events = await rows<{ seq: number; text: string; mseq: number }>(
      h.database.db,
      sql`select seq, payload->'message'->>'text' as text, (payload->'message'->>'seq')::int as mseq
          from channel_events where app_id = ${ws.id} and cid = 'public:general' order by seq`,
    );
    expect(events).toEqual(msgs.map((m) => ({ seq: m.seq, text: m.text, mseq: m.seq })));
    const [ch] = await rows<{ last_seq: number }>(
      h.database.db,
      sql`select last_seq from channels where app_id = ${ws.id} and cid = 'public:general'`,
    );
    expect(ch?.last_seq).toBe(6);
    // A re-run of the same export changes nothing more.
    const third = await importSlackExport(h.database, ws.id, slackExport([0, 1, 2], { 'users.json': json(us) }));
    expect([third.messages.imported, third.reordered]).toEqual([0, []]);
  });

  it('is refused when the channel has had live traffic since the import, writing nothing', async () => {
    const { owner, ws, users: us } = await workspace();
    await importSlackExport(h.database, ws.id, slackExport([0, 2], { 'users.json': json(us) }));
    const session = ok(await owner.session(ws.id));
    const sent = await h.call({
      method: 'POST',
      url: '/v1/channels/public:general/messages',
      headers: chatHeaders(session),
      payload: { text: 'live' },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const before = await counts();
    const e = await refused(importSlackExport(h.database, ws.id, slackExport([0, 1, 2], { 'users.json': json(us) })));
    expect(e.problems).toEqual([
      {
        file: 'general/',
        reason: expect.stringMatching(/^2 message\(s\) of the export fall before .* activity since it was imported/),
      },
    ]);
    expect(await counts()).toEqual(before);
  });
});
