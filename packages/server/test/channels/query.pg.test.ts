/**
 * POST /v1/channels/query: filters and their operators, privacy (never another user's private
 * channel), sorting, cursor pagination that visits every channel exactly once, the per-channel
 * extras (last_message, counts, membership, member_count), and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { type Actor, cids, expectError, ok, tick, world } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/**
 * Alice's world: a group with bob, a DM with bob, a public channel with bob, an archived public
 * channel; carol's own group and public channel that alice is not in; an announcement by dave.
 */
async function landscape() {
  const w = await world(h);
  ok(await w.alice.create({ type: 'group', id: 'team', name: 'Team', members: ['bob'] }));
  const dm = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid as string;
  ok(await w.alice.create({ type: 'public', id: 'general', name: 'General', members: ['bob'] }));
  ok(await w.alice.create({ type: 'public', id: 'old', name: 'Old stuff' }));
  ok(await w.alice.update('public:old', { archived: true }));
  ok(await w.carol.create({ type: 'group', id: 'carols', name: 'Gen secret', members: ['dave'] }));
  ok(await w.carol.create({ type: 'public', id: 'gardening', name: 'Gardening' }));
  ok(await w.dave.create({ type: 'announcement', id: 'news', name: 'News' }));
  return { ...w, dm };
}

const sorted = (r: any) => cids(r).sort();

describe('filters', () => {
  it('with an empty filter lists exactly my channels', async () => {
    const w = await landscape();
    expect(sorted(await w.alice.query())).toEqual([w.dm, 'group:team', 'public:general', 'public:old'].sort());
    expect(sorted(await w.alice.query({ filter: {} }))).toEqual(sorted(await w.alice.query()));
    expect(sorted(await w.carol.query())).toEqual(['group:carols', 'public:gardening']);
    expect(sorted(await w.erin.query())).toEqual([]);
  });

  it('filters by joined, type, cid, name, archived and members, with $eq and $in', async () => {
    const w = await landscape();
    const q = (filter: Record<string, unknown>) => w.alice.query({ filter });
    // joined
    expect(sorted(await q({ joined: true }))).toEqual([w.dm, 'group:team', 'public:general', 'public:old'].sort());
    expect(sorted(await q({ joined: false }))).toEqual(['announcement:news', 'public:gardening']);
    // type: my channels of the type plus (for open types) the ones I could join
    expect(sorted(await q({ type: 'group' }))).toEqual(['group:team']);
    expect(sorted(await q({ type: { $eq: 'dm' } }))).toEqual([w.dm]);
    expect(sorted(await q({ type: 'public' }))).toEqual(['public:gardening', 'public:general', 'public:old']);
    expect(sorted(await q({ type: 'public', joined: true }))).toEqual(['public:general', 'public:old']);
    expect(sorted(await q({ type: { $in: ['group', 'announcement'] } }))).toEqual(['announcement:news', 'group:team']);
    expect(sorted(await q({ type: { $in: [] } }))).toEqual([]);
    // cid
    expect(sorted(await q({ cid: 'group:team' }))).toEqual(['group:team']);
    expect(sorted(await q({ cid: { $in: ['group:team', 'public:general', 'public:nope'] } }))).toEqual([
      'group:team',
      'public:general',
    ]);
    expect(sorted(await q({ cid: { $eq: 'public:gardening' }, joined: false }))).toEqual(['public:gardening']);
    // name
    expect(sorted(await q({ name: 'General' }))).toEqual(['public:general']);
    expect(sorted(await q({ name: { $eq: 'Team' } }))).toEqual(['group:team']);
    expect(sorted(await q({ name: { $autocomplete: 'gEn' } }))).toEqual(['public:general']);
    expect(sorted(await q({ name: { $autocomplete: 'g' }, joined: false }))).toEqual(['public:gardening']);
    expect(sorted(await q({ name: { $autocomplete: 'zz' } }))).toEqual([]);
    // archived
    expect(sorted(await q({ archived: true }))).toEqual(['public:old']);
    expect(sorted(await q({ archived: false }))).toEqual([w.dm, 'group:team', 'public:general'].sort());
    // members: channels (I may see) that have these members
    expect(sorted(await q({ members: 'bob' }))).toEqual([w.dm, 'group:team', 'public:general'].sort());
    expect(sorted(await q({ members: { $in: ['carol'] } }))).toEqual(['public:gardening']);
    expect(sorted(await q({ members: { $eq: 'dave' } }))).toEqual(['announcement:news']);
    expect(sorted(await q({ members: { $in: ['bob', 'dave'] }, type: 'public' }))).toEqual(['public:general']);
    // combined
    expect(sorted(await q({ type: 'public', archived: false, members: 'alice' }))).toEqual(['public:general']);
  });

  it('treats LIKE wildcards in $autocomplete literally', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'a', name: 'a_b' }));
    ok(await w.alice.create({ type: 'public', id: 'b', name: 'axb' }));
    ok(await w.alice.create({ type: 'public', id: 'c', name: '100% done' }));
    expect(cids(await w.alice.query({ filter: { name: { $autocomplete: 'a_' } } }))).toEqual(['public:a']);
    expect(cids(await w.alice.query({ filter: { name: { $autocomplete: '100%' } } }))).toEqual(['public:c']);
    expect(cids(await w.alice.query({ filter: { name: { $autocomplete: '%' } } }))).toEqual([]);
  });

  it('never shows another user’s private channels, whatever the filter', async () => {
    const w = await landscape();
    const filters: Record<string, unknown>[] = [
      {},
      { joined: false },
      { joined: true },
      { type: 'group' },
      { type: { $in: ['group', 'dm'] } },
      { cid: 'group:carols' },
      { cid: { $in: ['group:carols', 'group:team'] } },
      { members: 'carol' },
      { members: { $in: ['dave'] } },
      { name: 'Gen secret' },
      { name: { $autocomplete: 'Gen' } },
      { archived: false },
    ];
    for (const filter of filters) {
      const found = cids(await w.alice.query({ filter }));
      expect(found, JSON.stringify(filter)).not.toContain('group:carols');
      // Erin is in nothing: only open channels can ever show up for her.
      for (const cid of cids(await w.erin.query({ filter })))
        expect(cid, JSON.stringify(filter)).toMatch(/^(public|announcement):/);
    }
    // An app admin (owner powers everywhere) sees others' groups by GET, not in query lists.
    await h.users(w.app, [{ id: 'erin', role: 'admin' }]);
    ok(await w.erin.channel('group:carols'));
    expect(cids(await w.erin.query({ filter: { joined: false } }))).not.toContain('group:carols');
    // The server token sees every channel of the app, private ones included.
    const all = sorted(await w.server.query({ limit: 100 }));
    expect(all).toEqual(
      [
        w.dm,
        'announcement:news',
        'group:carols',
        'group:team',
        'public:gardening',
        'public:general',
        'public:old',
      ].sort(),
    );
  });
});

describe('finding public channels', () => {
  it('finds public channels the caller has not joined with filter {type:"public"}', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'open', name: 'Open', members: ['bob'] }));
    ok(await w.alice.create({ type: 'group', id: 'closed', members: ['bob'] }));
    const found = ok(await w.dave.query({ filter: { type: 'public' } })).channels;
    expect(found.map((c: any) => c.cid)).toEqual(['public:open']);
    expect(found[0]).toMatchObject({ member_count: 2, membership: null });
    // With joined:true it is only the ones they are in; the empty filter still means "mine".
    expect(cids(await w.dave.query({ filter: { type: 'public', joined: true } }))).toEqual([]);
    expect(cids(await w.dave.query())).toEqual([]);
  });
});

describe('channel extras', () => {
  it('carries last_message, unread_count, mention_count, membership and member_count', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', name: 'G', members: ['bob', 'carol'] }));
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    ok(await w.bob.send('group:g', 'hi @alice'));
    const last = ok(await w.carol.send('group:g', 'second')).message;
    ok(await w.alice.setMember('group:g', 'alice', { muted: true }));

    const list = ok(await w.alice.query()).channels;
    expect(list.map((c: any) => c.cid)).toEqual(['group:g', 'public:p']);
    const [g, p] = list;
    expect(g).toMatchObject({
      cid: 'group:g',
      type: 'group',
      name: 'G',
      member_count: 3,
      last_seq: 2,
      unread_count: 2,
      mention_count: 1,
      last_message: { id: last.id, text: 'second', user_id: 'carol', seq: 2 },
      membership: { role: 'owner', last_read_seq: 0, muted: true },
    });
    expect(Date.parse(g.membership.joined_at)).not.toBeNaN();
    expect(Date.parse(g.last_message_at)).not.toBeNaN();
    expect(p).toMatchObject({
      member_count: 2,
      unread_count: 0,
      mention_count: 0,
      last_message: null,
      last_message_at: null,
      membership: { role: 'owner', muted: false },
    });

    // An outsider sees open channels with member_count, no membership and no counts of their own.
    const found = ok(await w.dave.query({ filter: { joined: false } })).channels;
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ cid: 'public:p', member_count: 2, membership: null, unread_count: 0 });
  });

  it('shows as last_message the latest message in the channel view, skipping hidden replies and deletions', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'group', id: 'g', members: ['bob'] }));
    const root = ok(await w.alice.send('group:g', 'root')).message;
    const tail = ok(await w.bob.send('group:g', 'tail')).message;
    ok(await w.bob.send('group:g', 'hidden reply', { parent_id: root.id }));
    const lastOf = async () => ok(await w.alice.query()).channels[0].last_message;
    expect(await lastOf()).toMatchObject({ id: tail.id });
    const shown = ok(await w.bob.send('group:g', 'shown reply', { parent_id: root.id, show_in_channel: true })).message;
    expect(await lastOf()).toMatchObject({ id: shown.id, text: 'shown reply' });
    ok(await w.bob.deleteMessage(shown.id));
    ok(await w.bob.deleteMessage(tail.id));
    expect(await lastOf()).toMatchObject({ id: root.id, text: 'root' });
  });
});

describe('sort', () => {
  it('defaults to last message time, newest first, and a new message moves a channel to the top', async () => {
    const w = await world(h);
    // Each write below lands on a later millisecond than the one before (tick).
    for (const id of ['a', 'b', 'c']) {
      ok(await w.alice.create({ type: 'group', id, members: ['bob'] }));
      await tick();
    }
    for (const id of ['a', 'b', 'c']) {
      ok(await w.bob.send(`group:${id}`, `${id}1`));
      await tick();
    }
    expect(cids(await w.alice.query())).toEqual(['group:c', 'group:b', 'group:a']);
    ok(await w.bob.send('group:a', 'a2'));
    await tick();
    expect(cids(await w.alice.query())).toEqual(['group:a', 'group:c', 'group:b']);
    // A channel without messages sorts by its creation time among them.
    ok(await w.alice.create({ type: 'group', id: 'd', members: ['bob'] }));
    await tick();
    expect(cids(await w.alice.query())).toEqual(['group:d', 'group:a', 'group:c', 'group:b']);
    expect(cids(await w.alice.query({ sort: [{ field: 'last_message_at', direction: -1 }] }))).toEqual([
      'group:d',
      'group:a',
      'group:c',
      'group:b',
    ]);
    expect(cids(await w.alice.query({ sort: [{ field: 'last_message_at', direction: 1 }] }))).toEqual([
      'group:b',
      'group:c',
      'group:a',
      'group:d',
    ]);
    expect(cids(await w.alice.query({ sort: [{ field: 'created_at', direction: 1 }] }))).toEqual([
      'group:a',
      'group:b',
      'group:c',
      'group:d',
    ]);
    expect(cids(await w.alice.query({ sort: [{ field: 'created_at', direction: -1 }] }))).toEqual([
      'group:d',
      'group:c',
      'group:b',
      'group:a',
    ]);
    // Thread replies that stay in the thread do not move the channel.
    const root = ok(await w.bob.send('group:b', 'b2')).message;
    await tick();
    ok(await w.bob.send('group:c', 'c2'));
    await tick();
    ok(await w.bob.send('group:b', 'in thread', { parent_id: root.id }));
    expect(cids(await w.alice.query()).slice(0, 2)).toEqual(['group:c', 'group:b']);
  });
});

describe('pagination', () => {
  async function pages(actor: Actor, body: Record<string, unknown>) {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const r = ok(await actor.query({ ...body, ...(cursor ? { cursor } : {}) }));
      seen.push(...r.channels.map((c: any) => c.cid));
      sizes.push(r.channels.length);
      if (!r.next) break;
      cursor = r.next;
    }
    return { seen, sizes };
  }

  it('visits each of 25 channels exactly once with limit 7, in every sort', async () => {
    const w = await world(h);
    const ids = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    // Created back to back: several share a timestamp, so the cid tie-break matters.
    for (const id of ids) ok(await w.alice.create({ type: 'group', id, members: ['bob'] }));
    // Messages in a few, so last-message order differs from creation order.
    for (const id of ['c03', 'c17', 'c09', 'c03']) {
      await tick();
      ok(await w.bob.send(`group:${id}`, `in ${id}`));
    }
    const all = cids(await w.alice.query({ limit: 100 }));
    expect(all).toHaveLength(25);

    for (const sort of [
      undefined,
      [{ field: 'last_message_at', direction: 1 }],
      [{ field: 'created_at', direction: -1 }],
      [{ field: 'created_at', direction: 1 }],
    ]) {
      const { seen, sizes } = await pages(w.alice, { limit: 7, ...(sort ? { sort } : {}) });
      expect(sizes, JSON.stringify(sort)).toEqual([7, 7, 7, 4]);
      expect(new Set(seen).size).toBe(25);
      expect([...seen].sort()).toEqual(ids.map((id) => `group:${id}`));
      // The pages, put together, are the same order as one big page.
      expect(seen).toEqual(cids(await w.alice.query({ limit: 100, ...(sort ? { sort } : {}) })));
    }
    // Default order starts with the channels that have messages, most recent first.
    expect(all.slice(0, 3)).toEqual(['group:c03', 'group:c09', 'group:c17']);
    // An exact multiple: 21 with limit 7 gives three full pages (the last may say next: null).
    const { seen } = await pages(w.alice, { limit: 7, filter: { cid: { $in: all.slice(0, 21) } } });
    expect(seen).toEqual(all.slice(0, 21));
  });

  it('pages through the public channels an outsider can join', async () => {
    const w = await world(h);
    for (let i = 0; i < 10; i++) ok(await w.alice.create({ type: 'public', id: `p${i}` }));
    ok(await w.alice.create({ type: 'group', id: 'hidden' }));
    const { seen, sizes } = await pages(w.dave, { limit: 3, filter: { joined: false } });
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect([...seen].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `public:p${i}`));
  });
});

describe('bad input', () => {
  it('answers 400 for bad limits, cursors, filters and sorts', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p' }));
    const bad = [
      { limit: 0 },
      { limit: 1000 },
      { limit: -1 },
      { limit: 'ten' },
      { cursor: 'not-a-cursor' },
      { cursor: Buffer.from('{"t":"yesterday","c":"x"}').toString('base64url') },
      { cursor: Buffer.from('[1,2]').toString('base64url') },
      { cursor: Buffer.from('{"t":"2024-02-30T99:00:00Z","c":"public:p"}').toString('base64url') },
      { filter: { colour: 'red' } },
      { filter: { name: { $regex: '.*' } } },
      { filter: { type: 'secret' } },
      { filter: { type: { $nin: ['dm'] } } },
      { filter: { cid: 'not a cid' } },
      { filter: { archived: 'yes' } },
      { filter: { members: { $in: ['bad id!'] } } },
      { filter: 'everything' },
      { sort: [{ field: 'name', direction: 1 }] },
      { sort: [{ field: 'created_at', direction: 2 }] },
      { sort: { field: 'created_at' } },
      { page: 2 },
    ];
    for (const body of bad) {
      const r = await w.alice.query(body);
      expect(r.status, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`).toBe(400);
      expectError(r, 'VALIDATION_ERROR');
    }
    // The limits themselves are fine.
    ok(await w.alice.query({ limit: 1 }));
    ok(await w.alice.query({ limit: 200 }));
  });

  it('answers 400, not 500, for a cursor whose time PostgreSQL cannot parse', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p' }));
    // Each of these passes Date.parse in JavaScript but is not a timestamp PostgreSQL accepts.
    for (const t of ['1', '12', 'May 5', 'Tue 2024', '2024-01-01T00:00:00.000Z garbage']) {
      const cursor = Buffer.from(JSON.stringify({ t, c: 'public:p' })).toString('base64url');
      expectError(await w.alice.query({ cursor }), 'VALIDATION_ERROR');
    }
    // A real cursor still works.
    ok(await w.alice.create({ type: 'public', id: 'q' }));
    const first = ok(await w.alice.query({ limit: 1 }));
    expect(first.next).toEqual(expect.any(String));
    expect(ok(await w.alice.query({ limit: 1, cursor: first.next })).channels).toHaveLength(1);
  });

  it('answers 400 for an invalid cid and 404 for an unknown one on the channel routes', async () => {
    const w = await world(h);
    for (const cid of ['general', 'secret:x', 'public:', 'public:has%20space', `public:${'x'.repeat(65)}`]) {
      expectError(await w.alice.channel(cid), 'VALIDATION_ERROR');
      expectError(await w.alice.history(cid), 'VALIDATION_ERROR');
      expectError(await w.alice.update(cid, { topic: 't' }), 'VALIDATION_ERROR');
      expectError(await w.alice.members(cid, { add: ['bob'] }), 'VALIDATION_ERROR');
      expectError(await w.alice.read(cid, 1), 'VALIDATION_ERROR');
    }
    for (const cid of ['public:nope', 'group:nope', 'dm:nope', 'announcement:nope']) {
      expectError(await w.alice.channel(cid), 'NOT_FOUND');
      expectError(await w.alice.history(cid), 'NOT_FOUND');
      expectError(await w.alice.events(cid), 'NOT_FOUND');
      expectError(await w.alice.update(cid, { topic: 't' }), 'NOT_FOUND');
      expectError(await w.alice.members(cid, { add: ['bob'] }), 'NOT_FOUND');
      expectError(await w.alice.join(cid), 'NOT_FOUND');
      expectError(await w.alice.leave(cid), 'NOT_FOUND');
      expectError(await w.alice.read(cid, 1), 'NOT_FOUND');
      expectError(await w.alice.setMember(cid, 'alice', { muted: true }), 'NOT_FOUND');
    }
  });
});
