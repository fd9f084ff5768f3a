/**
 * Invites: owners and admins make links (shown once, hashed at rest); anyone may preview one;
 * a signed-in account accepts one to join as a member. Unknown and revoked invites are
 * NOT_FOUND; expired and used-up ones are FORBIDDEN with a reason. The join policy decides how
 * often a link without max_uses works: once (`invite_only`) or until it expires (`link`).
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness } from '../harness.js';
import { type Browser, browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const preview = (token: string) => browser(h, null).get(`/v1/invites/${encodeURIComponent(token)}`);

/** Move an invite's expiry into the past. */
const expire = (id: string) =>
  h.database.db.execute(sql`update invites set expires_at = now() - interval '1 minute' where id = ${id}`);

async function team(): Promise<{ owner: Browser; ws: any }> {
  const owner = await buildAccount(h, 'Owner');
  return { owner, ws: await buildWorkspace(owner, 'Team') };
}

describe('create and list', () => {
  it('creates an invite with a one-time link, default 7 days, hashed at rest', async () => {
    const { owner, ws } = await team();
    const before = Date.now();
    const inv = ok(await owner.invite(ws.id));
    expect(inv).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      url_path: `/invite/${inv.token}`,
      expires_at: expect.any(String),
      max_uses: null,
    });
    const hours = (Date.parse(inv.expires_at) - before) / 3600_000;
    expect(hours).toBeGreaterThan(167.99);
    expect(hours).toBeLessThan(168.01);
    const stored = await rows<{ token_hash: string }>(
      h.database.db,
      sql`select token_hash from invites where id = ${inv.id}`,
    );
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(inv.token).digest('hex') }]);

    const custom = ok(await owner.invite(ws.id, { expires_in_hours: 720, max_uses: 5 }));
    expect((Date.parse(custom.expires_at) - Date.now()) / 3600_000).toBeGreaterThan(719.9);
    expect(custom.max_uses).toBe(5);
  });

  it('validates expires_in_hours (1–720) and max_uses', async () => {
    const { owner, ws } = await team();
    for (const body of [
      { expires_in_hours: 0 },
      { expires_in_hours: 721 },
      { expires_in_hours: 1.5 },
      { max_uses: 0 },
      { max_uses: 'many' },
      { role: 'admin' },
    ])
      expectError(await owner.invite(ws.id, body), 'VALIDATION_ERROR');
    expect(ok(await owner.invites(ws.id)).invites).toEqual([]);
  });

  it('only owners and admins invite and list; outsiders get 404', async () => {
    const { owner, ws } = await team();
    const member = await buildAccount(h, 'Member');
    const admin = await buildAccount(h, 'Admin');
    await join(owner, ws.id, member);
    await join(owner, ws.id, admin);
    ok(await owner.setRole(ws.id, admin.account.id, 'admin'));

    expectError(await member.invite(ws.id), 'FORBIDDEN');
    expectError(await member.invites(ws.id), 'FORBIDDEN');
    const byAdmin = ok(await admin.invite(ws.id));
    const outsider = await buildAccount(h, 'Outsider');
    expectError(await outsider.invite(ws.id), 'NOT_FOUND');
    expectError(await outsider.invites(ws.id), 'NOT_FOUND');
    expectError(await browser(h, null).invite(ws.id), 'UNAUTHORIZED');

    const listed = ok(await owner.invites(ws.id)).invites;
    expect(listed).toEqual([
      {
        id: byAdmin.id,
        created_by: { account_id: admin.account.id, name: 'Admin' },
        expires_at: byAdmin.expires_at,
        max_uses: null,
        uses: 0,
        created_at: expect.any(String),
        guest_channels: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(byAdmin.token);
  });

  it('lists only invites that can still be accepted', async () => {
    const { owner, ws } = await team();
    const live = ok(await owner.invite(ws.id));
    const used = ok(await owner.invite(ws.id));
    const expired = ok(await owner.invite(ws.id));
    const revoked = ok(await owner.invite(ws.id));
    const multi = ok(await owner.invite(ws.id, { max_uses: 2 }));
    ok(await (await buildAccount(h, 'Joiner')).accept(used.token));
    ok(await (await buildAccount(h, 'Joiner2')).accept(multi.token));
    await expire(expired.id);
    ok(await owner.revoke(ws.id, revoked.id));
    const ids = ok(await owner.invites(ws.id)).invites.map((i: any) => [i.id, i.uses]);
    expect(ids.sort()).toEqual(
      [
        [live.id, 0],
        [multi.id, 1],
      ].sort(),
    );
  });
});

describe('preview', () => {
  it('shows the workspace and inviter names to anyone, and nothing secret', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id));
    const r = ok(await preview(inv.token));
    expect(r).toEqual({
      invite: {
        workspace_name: 'Team',
        workspace_logo: null,
        inviter_name: 'Owner',
        valid: true,
        reason: null,
        expires_at: inv.expires_at,
      },
    });
    const text = JSON.stringify(r);
    expect(text).not.toContain(ws.id);
    expect(text).not.toContain(owner.account.email);
    expect(text).not.toMatch(/pk_|sk_/);
  });

  it('says an expired or used-up invite is not valid, and why; unknown and revoked are 404', async () => {
    const { owner, ws } = await team();
    const old = ok(await owner.invite(ws.id));
    await expire(old.id);
    expect(ok(await preview(old.token)).invite).toMatchObject({ valid: false, reason: 'expired' });

    const once = ok(await owner.invite(ws.id));
    ok(await (await buildAccount(h, 'First')).accept(once.token));
    expect(ok(await preview(once.token)).invite).toMatchObject({ valid: false, reason: 'used_up' });

    const gone = ok(await owner.invite(ws.id));
    ok(await owner.revoke(ws.id, gone.id));
    expectError(await preview(gone.token), 'NOT_FOUND');
    expectError(await preview('no-such-invite-token-at-all'), 'NOT_FOUND');
    expectError(await preview('x'.repeat(100)), 'NOT_FOUND');
  });
});

describe('accept', () => {
  it('joins the workspace as a member, who can then open a session and chat', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id));
    const bob = await buildAccount(h, 'Bob');
    const joined = ok(await bob.accept(inv.token)).workspace;
    expect(joined).toMatchObject({ id: ws.id, name: 'Team', role: 'member' });
    expect(ok(await bob.workspaces()).workspaces.map((w: any) => w.id)).toEqual([ws.id]);

    const s = ok(await bob.session(ws.id));
    const me = ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) }));
    expect(me.user).toMatchObject({ id: s.user_id, name: 'Bob', role: 'user' });
    // The owner sees Bob among the app's users.
    const os = ok(await owner.session(ws.id));
    const found = ok(await h.call({ method: 'GET', url: '/v1/users?q=bo', headers: chatHeaders(os) }));
    expect(found.users.map((u: any) => u.id)).toContain(s.user_id);
  });

  it('accepting again as a member returns the workspace and uses nothing', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id, { max_uses: 3 }));
    const bob = await buildAccount(h, 'Bob');
    ok(await bob.accept(inv.token));
    expect(ok(await bob.accept(inv.token)).workspace).toMatchObject({ id: ws.id, role: 'member' });
    // The owner accepting their own invite neither uses it nor changes their role.
    expect(ok(await owner.accept(inv.token)).workspace).toMatchObject({ id: ws.id, role: 'owner' });
    expect(ok(await owner.invites(ws.id)).invites[0].uses).toBe(1);
  });

  it('refuses an expired invite with 403 FORBIDDEN, reason expired', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id, { expires_in_hours: 1 }));
    await expire(inv.id);
    const r = await (await buildAccount(h, 'Late')).accept(inv.token);
    expectError(r, 'FORBIDDEN');
    expect(r.body.error).toMatchObject({ message: 'This invite has expired', details: { reason: 'expired' } });
  });

  it('refuses a revoked or unknown invite with 404; revoking is for owners and admins of that workspace', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id));
    const bob = await buildAccount(h, 'Bob');
    const other = await team();
    // Another workspace's owner cannot revoke it (it is not in their workspace)…
    expectError(await other.owner.revoke(other.ws.id, inv.id), 'NOT_FOUND');
    expectError(await other.owner.revoke(ws.id, inv.id), 'NOT_FOUND');
    // …nor can a member.
    const member = await buildAccount(h, 'Member');
    await join(owner, ws.id, member);
    expectError(await member.revoke(ws.id, inv.id), 'FORBIDDEN');

    expect(ok(await owner.revoke(ws.id, inv.id))).toEqual({ ok: true });
    ok(await owner.revoke(ws.id, inv.id)); // twice is fine
    expectError(await owner.revoke(ws.id, '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND');
    expectError(await bob.accept(inv.token), 'NOT_FOUND');
    expectError(await bob.accept('made-up-token-made-up-token'), 'NOT_FOUND');
    expect(ok(await bob.workspaces()).workspaces).toEqual([]);
    expectError(await browser(h, null).accept(inv.token), 'UNAUTHORIZED');
  });

  it('invite_only: an invite without max_uses admits one person; max_uses admits that many', async () => {
    const { owner, ws } = await team();
    const once = ok(await owner.invite(ws.id));
    ok(await (await buildAccount(h, 'One')).accept(once.token));
    const second = await (await buildAccount(h, 'Two')).accept(once.token);
    expectError(second, 'FORBIDDEN');
    expect(second.body.error).toMatchObject({
      message: 'This invite has been used up',
      details: { reason: 'used_up' },
    });

    const twice = ok(await owner.invite(ws.id, { max_uses: 2 }));
    ok(await (await buildAccount(h, 'A')).accept(twice.token));
    ok(await (await buildAccount(h, 'B')).accept(twice.token));
    expectError(await (await buildAccount(h, 'C')).accept(twice.token), 'FORBIDDEN');
    expect(ok(await owner.members(ws.id)).members).toHaveLength(1 + 1 + 2);
  });

  it('link: an invite without max_uses admits anyone until it expires or is revoked', async () => {
    const { owner, ws } = await team();
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'link' }));
    const link = ok(await owner.invite(ws.id));
    for (const name of ['L1', 'L2', 'L3', 'L4']) ok(await (await buildAccount(h, name)).accept(link.token));
    expect(ok(await preview(link.token)).invite).toMatchObject({ valid: true });
    // max_uses still caps a link invite when it was given.
    const capped = ok(await owner.invite(ws.id, { max_uses: 1 }));
    ok(await (await buildAccount(h, 'Cap1')).accept(capped.token));
    expectError(await (await buildAccount(h, 'Cap2')).accept(capped.token), 'FORBIDDEN');
    // Revoked: gone for everyone.
    ok(await owner.revoke(ws.id, link.id));
    expectError(await (await buildAccount(h, 'L5')).accept(link.token), 'NOT_FOUND');

    // Back to invite_only: a used link without max_uses is used up.
    const again = ok(await owner.invite(ws.id));
    ok(await (await buildAccount(h, 'M1')).accept(again.token));
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'invite_only' }));
    expectError(await (await buildAccount(h, 'M2')).accept(again.token), 'FORBIDDEN');
  });

  it('one account accepting two invites at once joins once and uses one', async () => {
    const { owner, ws } = await team();
    const [i1, i2] = [ok(await owner.invite(ws.id, { max_uses: 5 })), ok(await owner.invite(ws.id, { max_uses: 5 }))];
    const bob = await buildAccount(h, 'Twice');
    const [r1, r2] = await Promise.all([bob.accept(i1.token), bob.accept(i2.token)]);
    expect(ok(r1).workspace).toMatchObject({ id: ws.id, role: 'member' });
    expect(ok(r2).workspace).toMatchObject({ id: ws.id, role: 'member' });
    expect(ok(await owner.members(ws.id)).members).toHaveLength(2);
    const uses = ok(await owner.invites(ws.id)).invites.map((i: any) => i.uses);
    expect(uses.reduce((p: number, q: number) => p + q, 0)).toBe(1);
  });

  it('two people racing for the last use: exactly one gets in', async () => {
    const { owner, ws } = await team();
    const inv = ok(await owner.invite(ws.id));
    const racers = await Promise.all(['R1', 'R2', 'R3'].map((n) => buildAccount(h, n)));
    const results = await Promise.all(racers.map((r) => r.accept(inv.token)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 403, 403]);
    expect(ok(await owner.members(ws.id)).members).toHaveLength(2);
  });
});
