/**
 * Who sees the members' emails: owners and admins always; every member too once an owner or
 * admin sets the workspace's `email_visibility` to `members`; guests never. The members list
 * and the people directory (its entries and its search) follow the setting, and the change
 * is audited.
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

type Session = { api_key: string; token: string; user_id: string };

async function crew() {
  const owner = await buildAccount(h, 'Olive');
  const admin = await buildAccount(h, 'Adam');
  const member = await buildAccount(h, 'Mia');
  const ws = await buildWorkspace(owner, 'Mailroom');
  await join(owner, ws.id, admin);
  await join(owner, ws.id, member);
  ok(await owner.setRole(ws.id, admin.account.id, 'admin'));
  const os: Session = ok(await owner.session(ws.id));
  const ms: Session = ok(await member.session(ws.id));
  // A guest who shares #general with everyone: it sees those people in the directory.
  const general = ok(
    await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: chatHeaders(os),
      payload: { type: 'public', id: 'general', name: 'general', members: [ms.user_id] },
    }),
  ).channel.cid as string;
  const inv = ok(
    await owner.invite(ws.id, {
      guest: { channels: [general], expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    }),
  );
  const guest = await buildAccount(h, 'Gus');
  ok(await guest.accept(inv.token));
  const gs: Session = ok(await guest.session(ws.id));
  return { ws, owner, admin, member, guest, os, ms, gs };
}

const people = async (s: Session, query = '') =>
  ok(await h.call({ method: 'GET', url: `/v1/people${query}`, headers: chatHeaders(s) })).people as any[];

const emailsOf = (list: any[]) => list.map((p) => p.email ?? null).sort();

const setVisibility = (who: Browser, wsId: string, value: unknown) =>
  who.patch(`/v1/workspaces/${wsId}`, { email_visibility: value });

describe('email visibility', () => {
  it('by default only owners and admins see emails', async () => {
    const { ws, owner, member, os, ms, gs } = await crew();
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.email_visibility).toBe('admins');
    for (const m of ok(await member.members(ws.id)).members) expect(m).not.toHaveProperty('email');
    for (const p of await people(ms)) expect(p).not.toHaveProperty('email');
    // A member's search does not match emails (it would tell them whose they are).
    expect(await people(ms, `?q=${encodeURIComponent(owner.account.email.slice(0, 8))}`)).toEqual([]);
    expect(emailsOf(await people(os))).toContain(member.account.email);
    for (const p of await people(gs)) expect(p).not.toHaveProperty('email');
  });

  it('set to members: every member sees them, searches by them; guests still never', async () => {
    const { ws, owner, admin, member, guest, ms, gs } = await crew();
    const changed = ok(await setVisibility(owner, ws.id, 'members')).workspace;
    expect(changed).toMatchObject({ email_visibility: 'members', role: 'owner' });
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.email_visibility).toBe('members');

    const listed = ok(await member.members(ws.id)).members;
    expect(listed.map((m: any) => m.email).sort()).toEqual(
      [owner.account.email, admin.account.email, member.account.email, guest.account.email].sort(),
    );
    const dir = await people(ms);
    expect(emailsOf(dir)).toEqual(
      [owner.account.email, admin.account.email, member.account.email, guest.account.email].sort(),
    );
    // Workspace roles and deactivation stay the admins' side.
    for (const p of dir) {
      expect(p).not.toHaveProperty('workspace_role');
      expect(p).not.toHaveProperty('deactivated');
    }
    const found = await people(ms, `?q=${encodeURIComponent(owner.account.email.slice(0, 12))}`);
    expect(found.map((p) => p.name)).toEqual(['Olive']);

    // The guest: the directory shows it the people of #general, without their emails; the
    // members list is refused as before.
    const seen = await people(gs);
    expect(seen.length).toBeGreaterThan(1);
    for (const p of seen) expect(p).not.toHaveProperty('email');
    expect(await people(gs, `?q=${encodeURIComponent(owner.account.email.slice(0, 12))}`)).toEqual([]);
    expectError(await guest.members(ws.id), 'FORBIDDEN');

    // The change is in the audit log, by whom and to what.
    const audit = ok(
      await h.call({
        method: 'GET',
        url: '/v1/audit?action=workspace.updated',
        headers: chatHeaders(ok(await owner.session(ws.id))),
      }),
    ).entries;
    expect(audit[0]).toMatchObject({
      action: 'workspace.updated',
      details: { email_visibility: 'members' },
    });

    // An admin may turn it back; members no longer see them.
    expect(ok(await setVisibility(admin, ws.id, 'admins')).workspace.email_visibility).toBe('admins');
    for (const m of ok(await member.members(ws.id)).members) expect(m).not.toHaveProperty('email');
    for (const p of await people(ms)) expect(p).not.toHaveProperty('email');
  });

  it('only owners and admins change it, to a known value; a refusal changes nothing', async () => {
    const { ws, owner, member } = await crew();
    expectError(await setVisibility(member, ws.id, 'members'), 'FORBIDDEN');
    expectError(await setVisibility(owner, ws.id, 'everyone'), 'VALIDATION_ERROR');
    expectError(await setVisibility(owner, ws.id, null), 'VALIDATION_ERROR');
    expectError(await setVisibility(await buildAccount(h, 'Stranger'), ws.id, 'members'), 'NOT_FOUND');
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}`)).workspace.email_visibility).toBe('admins');
    for (const m of ok(await member.members(ws.id)).members) expect(m).not.toHaveProperty('email');
  });

  it("is one workspace's: another workspace's members see nothing more", async () => {
    const { ws, owner } = await crew();
    ok(await setVisibility(owner, ws.id, 'members'));
    const other = await crew();
    for (const m of ok(await other.member.members(other.ws.id)).members) expect(m).not.toHaveProperty('email');
    for (const p of await people(other.ms)) expect(p).not.toHaveProperty('email');
  });
});
