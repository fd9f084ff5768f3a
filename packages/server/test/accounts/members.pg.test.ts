/**
 * Workspace members: everyone sees who is in and with which role; only owners and admins see
 * emails; only owners change roles, the app-level role follows, and the last owner cannot be
 * demoted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function crew(): Promise<{ ws: any; owner: Browser; admin: Browser; member: Browser }> {
  const owner = await buildAccount(h, 'Olive');
  const admin = await buildAccount(h, 'Adam');
  const member = await buildAccount(h, 'Mia');
  const ws = await buildWorkspace(owner, 'Crew');
  await join(owner, ws.id, admin);
  await join(owner, ws.id, member);
  ok(await owner.setRole(ws.id, admin.account.id, 'admin'));
  return { ws, owner, admin, member };
}

/** The app-level role of an account's user, as the chat API shows it. */
async function appRole(who: Browser, wsId: string): Promise<string> {
  const s = ok(await who.session(wsId));
  return ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) })).user.role;
}

describe('list', () => {
  it('lists members with roles, by name; emails only for owners and admins', async () => {
    const { ws, owner, admin, member } = await crew();
    const asOwner = ok(await owner.members(ws.id)).members;
    expect(asOwner).toEqual([
      {
        account_id: admin.account.id,
        user_id: `a_${admin.account.id.replaceAll('-', '')}`,
        name: 'Adam',
        email: admin.account.email,
        role: 'admin',
        joined_at: expect.any(String),
        deactivated_at: null,
        guest_expires_at: null,
      },
      expect.objectContaining({
        account_id: member.account.id,
        name: 'Mia',
        email: member.account.email,
        role: 'member',
      }),
      expect.objectContaining({
        account_id: owner.account.id,
        name: 'Olive',
        email: owner.account.email,
        role: 'owner',
      }),
    ]);
    expect(ok(await admin.members(ws.id)).members).toEqual(asOwner);

    const asMember = ok(await member.members(ws.id)).members;
    expect(asMember.map((m: any) => [m.name, m.role])).toEqual([
      ['Adam', 'admin'],
      ['Mia', 'member'],
      ['Olive', 'owner'],
    ]);
    for (const m of asMember) expect(m).not.toHaveProperty('email');
    expect(JSON.stringify(asMember)).not.toContain('@example.com');

    expectError(await (await buildAccount(h, 'Stranger')).members(ws.id), 'NOT_FOUND');
  });
});

describe('roles', () => {
  it('owners change roles, and the app-level role follows', async () => {
    const { ws, owner, member } = await crew();
    expect(await appRole(member, ws.id)).toBe('user');
    const promoted = ok(await owner.setRole(ws.id, member.account.id, 'admin')).member;
    expect(promoted).toMatchObject({ account_id: member.account.id, role: 'admin', email: member.account.email });
    expect(await appRole(member, ws.id)).toBe('admin');
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.role).toBe('admin');
    // Now an admin, Mia may invite.
    ok(await member.invite(ws.id));
    ok(await owner.setRole(ws.id, member.account.id, 'member'));
    expect(await appRole(member, ws.id)).toBe('user');
    expectError(await member.invite(ws.id), 'FORBIDDEN');
    // Setting the same role again is a no-op.
    expect(ok(await owner.setRole(ws.id, member.account.id, 'member')).member.role).toBe('member');
  });

  it('admins and members cannot change roles', async () => {
    const { ws, admin, member } = await crew();
    expectError(await admin.setRole(ws.id, member.account.id, 'admin'), 'FORBIDDEN');
    expectError(await admin.setRole(ws.id, admin.account.id, 'owner'), 'FORBIDDEN');
    expectError(await member.setRole(ws.id, member.account.id, 'owner'), 'FORBIDDEN');
    expect(ok(await member.members(ws.id)).members.map((m: any) => m.role)).toEqual(['admin', 'member', 'owner']);
  });

  it('validates the role and the target', async () => {
    const { ws, owner } = await crew();
    const other = await buildAccount(h, 'NotHere');
    expectError(await owner.setRole(ws.id, other.account.id, 'admin'), 'NOT_FOUND');
    expectError(await owner.setRole(ws.id, other.account.id, 'guest'), 'VALIDATION_ERROR');
    expectError(await owner.setRole(ws.id, 'nope', 'admin'), 'VALIDATION_ERROR');
    const outsider = await buildAccount(h, 'Outsider');
    expectError(await outsider.setRole(ws.id, owner.account.id, 'member'), 'NOT_FOUND');
  });

  it('the last owner cannot be demoted; with two owners, one may step down', async () => {
    const { ws, owner, admin } = await crew();
    const r = await owner.setRole(ws.id, owner.account.id, 'admin');
    expectError(r, 'CONFLICT');
    expect(r.body.error.message).toMatch(/at least one owner/);
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}`)).workspace.role).toBe('owner');

    ok(await owner.setRole(ws.id, admin.account.id, 'owner'));
    expect(await appRole(admin, ws.id)).toBe('admin');
    // Two owners: the first may step down…
    expect(ok(await owner.setRole(ws.id, owner.account.id, 'member')).member.role).toBe('member');
    expect(await appRole(owner, ws.id)).toBe('user');
    // …and is no longer an owner, so may not change roles any more.
    expectError(await owner.setRole(ws.id, owner.account.id, 'owner'), 'FORBIDDEN');
    // The one owner left cannot step down.
    expectError(await admin.setRole(ws.id, admin.account.id, 'member'), 'CONFLICT');
  });

  it('two owners demoting each other at once leave one owner', async () => {
    const { ws, owner, admin } = await crew();
    ok(await owner.setRole(ws.id, admin.account.id, 'owner'));
    const [x, y] = await Promise.all([
      owner.setRole(ws.id, admin.account.id, 'member'),
      admin.setRole(ws.id, owner.account.id, 'member'),
    ]);
    const statuses = [x.status, y.status].sort();
    // Whichever ran second was either no longer an owner (403) or about to remove the last one (409).
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = ok(await owner.members(ws.id)).members.filter((m: any) => m.role === 'owner');
    expect(owners).toHaveLength(1);
  });
});
