/**
 * `GET /v1/channels`, the admin console's list of every channel of a workspace: owners, admins
 * and the server token read it, members get FORBIDDEN; it lists channels the admin is not in
 * (group and archived ones too) with their moderation settings, never DMs and never another
 * workspace's channels; it filters and pages without repeats; and an admin changes a channel
 * they are not a member of with the channel's own `PATCH`, which members then feel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from '../accounts/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

type Headers = Record<string, string>;
const call = (headers: Headers, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  h.call({ method, url, headers, ...(payload ? { payload } : {}) });
const list = (headers: Headers, query = '') => call(headers, 'GET', `/v1/channels${query ? `?${query}` : ''}`);
const cids = (r: { status: number; body: any }) => ok(r).channels.map((c: { cid: string }) => c.cid);

/** A workspace with an owner, an admin and two members, each with their chat headers and user id. */
async function crew(name: string) {
  const owner = await buildAccount(h, `${name}Owner`);
  const admin = await buildAccount(h, `${name}Admin`);
  const member = await buildAccount(h, `${name}Member`);
  const poster = await buildAccount(h, `${name}Poster`);
  const ws = await buildWorkspace(owner, name);
  for (const b of [admin, member, poster]) await join(owner, ws.id, b);
  ok(await owner.setRole(ws.id, admin.account.id, 'admin'));
  const chat = async (b: typeof owner) => {
    const s = ok(await b.session(ws.id));
    return { headers: chatHeaders(s) as Headers, id: s.user_id as string };
  };
  return {
    ws,
    owner: await chat(owner),
    admin: await chat(admin),
    member: await chat(member),
    poster: await chat(poster),
  };
}

describe('GET /v1/channels', () => {
  it('lists every channel of the workspace to owners and admins, with moderation settings; members are refused', async () => {
    const c = await crew('Listing');
    const other = await crew('Elsewhere');
    const m = c.member;
    // The member makes channels the admins are not in: a group, a public one, an archived one, a DM.
    ok(await call(m.headers, 'POST', '/v1/channels', { type: 'group', id: 'secret-plans', name: 'Secret plans' }));
    ok(await call(m.headers, 'POST', '/v1/channels', { type: 'public', id: 'zoo', name: 'zoo' }));
    ok(await call(m.headers, 'POST', '/v1/channels', { type: 'public', id: 'old', name: 'Old news' }));
    ok(await call(m.headers, 'PATCH', '/v1/channels/public:old', { archived: true }));
    ok(await call(m.headers, 'POST', '/v1/channels', { type: 'dm', members: [m.id, c.owner.id] }));
    ok(
      await call(other.member.headers, 'POST', '/v1/channels', { type: 'public', id: 'theirs', name: 'Alpha theirs' }),
    );

    const mine = await list(c.owner.headers);
    const got = cids(mine);
    expect(got).toEqual(expect.arrayContaining(['group:secret-plans', 'public:zoo', 'public:old']));
    expect(got.some((cid: string) => cid.startsWith('dm:'))).toBe(false);
    expect(got).not.toContain('public:theirs');
    // By name, case-insensitive.
    const names = ok(mine).channels.map((ch: { name: string | null; id: string }) => (ch.name ?? ch.id).toLowerCase());
    expect(names).toEqual([...names].sort());
    expect(ok(mine).channels.find((ch: { cid: string }) => ch.cid === 'group:secret-plans')).toMatchObject({
      name: 'Secret plans',
      type: 'group',
      member_count: 1,
      frozen: false,
      slow_mode_s: 0,
      reactions: 'members',
    });
    expect(ok(mine).channels.find((ch: { cid: string }) => ch.cid === 'public:old').archived).toBe(true);
    expect(cids(await list(c.admin.headers))).toEqual(got);
    expect(cids(await list(other.owner.headers))).toContain('public:theirs');
    expect(cids(await list(other.owner.headers))).not.toContain('public:zoo');

    // Members, and other workspaces' tokens with this key, are refused.
    expectError(await list(m.headers), 'FORBIDDEN');
    const crossed = { ...other.owner.headers, 'x-api-key': c.owner.headers['x-api-key'] as string };
    expect([401, 403]).toContain((await list(crossed)).status);
    expectError(await list(c.owner.headers, 'type=dm'), 'VALIDATION_ERROR');
    expectError(await list(c.owner.headers, 'cursor=nonsense'), 'VALIDATION_ERROR');
    expectError(await list(c.owner.headers, 'limit=201'), 'VALIDATION_ERROR');
  });

  it('an admin freezes a channel they are not in; filters by words, type and state; pages without repeats', async () => {
    const c = await crew('Paging');
    const m = c.member;
    for (const [type, id, name] of [
      ['public', 'support', 'Support desk'],
      ['group', 'support-leads', 'Support leads'],
      ['public', 'random', 'random'],
      ['announcement', 'news', 'News'],
    ] as const)
      ok(await call(m.headers, 'POST', '/v1/channels', { type, id, name }));

    // The admin is no member of public:support, yet changes its moderation settings; a plain
    // member of it (not its creator, who owns it and so posts anyway) can no longer post.
    ok(await call(c.poster.headers, 'POST', '/v1/channels/public:support/join', {}));
    ok(await call(c.poster.headers, 'POST', '/v1/channels/public:support/messages', { text: 'before' }));
    const frozen = ok(
      await call(c.admin.headers, 'PATCH', '/v1/channels/public:support', { frozen: true, slow_mode_s: 30 }),
    );
    expect(frozen.channel).toMatchObject({ frozen: true, slow_mode_s: 30 });
    const refused = await call(c.poster.headers, 'POST', '/v1/channels/public:support/messages', { text: 'hi' });
    expectError(refused, 'FORBIDDEN');
    expect(refused.body.error.message).toMatch(/frozen/);
    ok(await call(c.admin.headers, 'PATCH', '/v1/channels/group:support-leads', { reactions: 'open' }));

    expect(cids(await list(c.owner.headers, 'state=frozen'))).toEqual(['public:support']);
    expect(cids(await list(c.owner.headers, 'state=slow_mode'))).toEqual(['public:support']);
    expect(cids(await list(c.owner.headers, 'q=SUPPORT'))).toEqual(['public:support', 'group:support-leads']);
    expect(cids(await list(c.owner.headers, 'q=support%20leads'))).toEqual(['group:support-leads']);
    expect(cids(await list(c.owner.headers, 'q=support&type=group'))).toEqual(['group:support-leads']);
    expect(cids(await list(c.owner.headers, 'q=announcement:'))).toEqual(['announcement:news']);
    // `%` and `_` are letters, not patterns.
    expect(cids(await list(c.owner.headers, 'q=%25'))).toEqual([]);
    const leads = ok(await list(c.owner.headers, 'q=leads')).channels[0];
    expect(leads).toMatchObject({ reactions: 'open', frozen: false });

    // Pages of one cover the whole list once, in order.
    const all = cids(await list(c.owner.headers));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = ok(await list(c.owner.headers, `limit=1${cursor ? `&cursor=${cursor}` : ''}`));
      seen.push(...page.channels.map((ch: { cid: string }) => ch.cid));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(4);
  });
});
