/**
 * Deactivating workspace members: owners deactivate anyone, admins members; the member's chat
 * tokens end at once (open sockets close with 4001, REST refuses them), the workspace becomes
 * NOT_FOUND to them, an invite does not bring them back, their messages stay; reactivation
 * restores them with their role. The refusals: yourself, the last active owner, admins on
 * admins, members at all, unknown members, bad ids.
 */
import { CLOSE_CODES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from './helpers.js';

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness();
  url = await h.listen();
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

const deactivate = (by: Browser, ws: string, who: string) =>
  by.post(`/v1/workspaces/${ws}/members/${who}/deactivate`, {});
const reactivate = (by: Browser, ws: string, who: string) =>
  by.post(`/v1/workspaces/${ws}/members/${who}/reactivate`, {});

describe('deactivating a member', () => {
  it('ends their tokens and sockets at once, hides the workspace from them, and keeps their messages', async () => {
    const { ws, owner, member } = await crew();
    const s = ok(await member.session(ws.id));
    const ownerSession = ok(await owner.session(ws.id));
    // Mia writes to Olive.
    const dm = ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: chatHeaders(s),
        payload: { type: 'dm', members: [ownerSession.user_id] },
      }),
    ).channel;
    ok(
      await h.call({
        method: 'POST',
        url: `/v1/channels/${dm.cid}/messages`,
        headers: chatHeaders(s),
        payload: { text: 'before I go' },
      }),
    );
    const sock = await TestSocket.open(url, s.api_key);
    sock.sendRaw(JSON.stringify({ type: 'auth', token: s.token }));
    await sock.waitFor((f) => f.type === 'hello');

    const done = ok(await deactivate(owner, ws.id, member.account.id)).member;
    expect(done).toMatchObject({ account_id: member.account.id, role: 'member', deactivated_at: expect.any(String) });
    expect((await sock.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) }), 'UNAUTHORIZED');
    // The workspace is gone for them: no session, not listed, NOT_FOUND.
    expectError(await member.session(ws.id), 'NOT_FOUND');
    expectError(await member.get(`/v1/workspaces/${ws.id}`), 'NOT_FOUND');
    expect(ok(await member.workspaces()).workspaces).toEqual([]);
    // Their account is fine otherwise.
    ok(await member.me());
    // An invite does not bring them back.
    const inv = ok(await owner.invite(ws.id));
    const again = await member.accept(inv.token);
    expectError(again, 'FORBIDDEN');
    expect(again.body.error.details).toEqual({ reason: 'deactivated' });
    // Members still list them, marked; their message stays.
    const listed = ok(await owner.members(ws.id)).members.find((m: any) => m.account_id === member.account.id);
    expect(listed.deactivated_at).toEqual(done.deactivated_at);
    const history = ok(
      await h.call({ method: 'GET', url: `/v1/channels/${dm.cid}/messages`, headers: chatHeaders(ownerSession) }),
    );
    expect(history.messages.map((m: any) => m.text)).toContain('before I go');
    // Twice is fine and changes nothing.
    expect(ok(await deactivate(owner, ws.id, member.account.id)).member.deactivated_at).toEqual(done.deactivated_at);

    // Reactivated: back, with their role and a working token.
    expect(ok(await reactivate(owner, ws.id, member.account.id)).member.deactivated_at).toBeNull();
    const back = ok(await member.session(ws.id));
    ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(back) }));
    expect(ok(await member.workspaces()).workspaces.map((w: any) => w.id)).toEqual([ws.id]);
  });

  it('an admin is a plain chat user while deactivated, and an admin again after', async () => {
    const { ws, owner, admin } = await crew();
    ok(await deactivate(owner, ws.id, admin.account.id));
    ok(await reactivate(owner, ws.id, admin.account.id));
    const s = ok(await admin.session(ws.id));
    expect(ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) })).user.role).toBe('admin');
  });

  it('refuses: yourself, admins on admins and owners, members at all, the last active owner', async () => {
    const { ws, owner, admin, member } = await crew();
    expectError(await deactivate(owner, ws.id, owner.account.id), 'FORBIDDEN');
    expectError(await deactivate(admin, ws.id, owner.account.id), 'FORBIDDEN');
    expectError(await deactivate(member, ws.id, admin.account.id), 'FORBIDDEN');
    // A second owner is deactivated; the first can no longer be left alone without one.
    ok(await owner.setRole(ws.id, admin.account.id, 'owner'));
    ok(await deactivate(owner, ws.id, admin.account.id));
    // Olive is the only active owner: she cannot be demoted or leave.
    expectError(await owner.setRole(ws.id, owner.account.id, 'member'), 'CONFLICT');
    expectError(await owner.del(`/v1/workspaces/${ws.id}/members/${owner.account.id}`), 'CONFLICT');
    // An admin may deactivate a member; but an admin cannot reactivate an owner.
    ok(await owner.setRole(ws.id, member.account.id, 'admin'));
    const other = await buildAccount(h, 'Ned');
    await join(owner, ws.id, other);
    ok(await deactivate(member, ws.id, other.account.id));
    expectError(await reactivate(member, ws.id, admin.account.id), 'FORBIDDEN');
    ok(await reactivate(member, ws.id, other.account.id));
  });

  it('answers NOT_FOUND for unknown members and outsiders, VALIDATION_ERROR for bad ids', async () => {
    const { ws, owner } = await crew();
    const outsider = await buildAccount(h, 'Out');
    expectError(await deactivate(owner, ws.id, outsider.account.id), 'NOT_FOUND');
    expectError(await deactivate(outsider, ws.id, owner.account.id), 'NOT_FOUND');
    expectError(await deactivate(owner, ws.id, 'nope'), 'VALIDATION_ERROR');
    expectError(
      await owner.post(`/v1/workspaces/${ws.id}/members/${owner.account.id}/deactivate`, { x: 1 }),
      'VALIDATION_ERROR',
    );
  });

  it('a deactivated member can still be removed', async () => {
    const { ws, owner, member } = await crew();
    ok(await deactivate(owner, ws.id, member.account.id));
    ok(await owner.del(`/v1/workspaces/${ws.id}/members/${member.account.id}`));
    expect(ok(await owner.members(ws.id)).members.map((m: any) => m.account_id)).not.toContain(member.account.id);
  });
});
