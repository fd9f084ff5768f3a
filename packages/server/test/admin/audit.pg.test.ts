/**
 * The audit log: every admin action of a workspace leaves one entry with its actor, target,
 * IP and user agent, written in the action's own transaction; the log filters and pages;
 * only app admins and the server token read it, each only their own app's; old entries are
 * pruned by the retention job.
 */
import { sql } from 'drizzle-orm';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAudit } from '../../src/features/audit/jobs.js';
import { recordAudit } from '../../src/features/audit/record.js';
import { rows } from '../../src/platform/db/index.js';
import {
  type Browser,
  buildAccount,
  buildWorkspace,
  chatHeaders,
  expectError,
  join,
  ok,
  signInRaw,
} from '../accounts/helpers.js';
import { ADMIN, type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ auditRetentionDays: 30 });
});
afterAll(async () => {
  await h?.close();
});

async function crew(): Promise<{ ws: any; owner: Browser; admin: Browser; member: Browser; ownerChat: any }> {
  const owner = await buildAccount(h, 'Olive');
  const admin = await buildAccount(h, 'Adam');
  const member = await buildAccount(h, 'Mia');
  const ws = await buildWorkspace(owner, 'Crew');
  await join(owner, ws.id, admin);
  await join(owner, ws.id, member);
  ok(await owner.setRole(ws.id, admin.account.id, 'admin'));
  const ownerChat = chatHeaders(ok(await owner.session(ws.id)));
  return { ws, owner, admin, member, ownerChat };
}

const audit = async (headers: Record<string, string>, query = '') =>
  h.call({ method: 'GET', url: `/v1/audit${query ? `?${query}` : ''}`, headers });

describe('the trail of admin actions', () => {
  it('records role changes with actor, target, IP and user agent', async () => {
    const { ws, owner, member, ownerChat } = await crew();
    const r = await h.app.inject({
      method: 'PATCH',
      url: `/v1/workspaces/${ws.id}/members/${member.account.id}`,
      headers: { cookie: owner.cookie as string, origin: 'http://localhost', 'user-agent': 'AuditTest/1.0' },
      payload: { role: 'admin' },
    });
    expect(r.statusCode).toBe(200);
    const { entries } = ok(await audit(ownerChat, 'action=member.role_changed'));
    expect(entries[0]).toMatchObject({
      action: 'member.role_changed',
      actor: { kind: 'account', id: owner.account.id, name: 'Olive' },
      target: { kind: 'account', id: member.account.id, name: 'Mia' },
      ip: '127.0.0.1',
      user_agent: 'AuditTest/1.0',
      details: { from: 'member', to: 'admin' },
    });
    // The admin made at set-up is there too, older.
    expect(entries.map((e: any) => e.details.to)).toEqual(['admin', 'admin']);
    expect(Number(entries[0].id)).toBeGreaterThan(Number(entries[1].id));
  });

  it('records each admin action of a workspace, once', async () => {
    const { ws, owner, admin, member, ownerChat } = await crew();
    const before = ok(await audit(ownerChat)).entries.length;
    const inv = ok(await owner.invite(ws.id));
    ok(await owner.revoke(ws.id, inv.id));
    ok(await owner.post(`/v1/workspaces/${ws.id}/members/${member.account.id}/deactivate`, {}));
    ok(await owner.post(`/v1/workspaces/${ws.id}/members/${member.account.id}/reactivate`, {}));
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { name: 'Crew 2' }));
    ok(await owner.post(`/v1/workspaces/${ws.id}/transfer`, { account_id: admin.account.id }));
    const r = await admin.del(`/v1/workspaces/${ws.id}/members/${member.account.id}`);
    expect(r.status).toBe(200);
    const got = ok(await audit(ownerChat)).entries;
    expect(got.length - before).toBe(7);
    expect(
      got
        .slice(0, 7)
        .map((e: any) => [e.action, e.actor.id, e.target?.id])
        .reverse(),
    ).toEqual([
      ['invite.created', owner.account.id, inv.id],
      ['invite.revoked', owner.account.id, inv.id],
      ['member.deactivated', owner.account.id, member.account.id],
      ['member.reactivated', owner.account.id, member.account.id],
      ['workspace.updated', owner.account.id, ws.id],
      ['workspace.ownership_transferred', owner.account.id, admin.account.id],
      ['member.removed', admin.account.id, member.account.id],
    ]);
    // The invites accepted at set-up, by whoever accepted them.
    const accepted = ok(await audit(ownerChat, 'action=invite.accepted')).entries;
    expect(accepted.map((e: any) => e.actor.id).sort()).toEqual([admin.account.id, member.account.id].sort());
  });

  it("records a member's sign-ins and failures in the workspace's log", async () => {
    const { member, ownerChat } = await crew();
    expect((await signInRaw(h, { email: member.account.email, password: 'not the password at all' })).status).toBe(401);
    ok(await signInRaw(h, { email: member.account.email, password: 'correct horse battery' }));
    const got = ok(await audit(ownerChat, `actor=${member.account.id}&action=account.`)).entries;
    expect(got.slice(0, 2).map((e: any) => [e.action, e.details.method])).toEqual([
      ['account.signin', 'password'],
      ['account.signin_failed', 'password'],
    ]);
  });

  it('records app changes made through the admin API', async () => {
    const tapp = await h.createApp('audited');
    ok(
      await h.call({
        method: 'PATCH',
        url: `/v1/admin/apps/${tapp.id}`,
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: { name: 'renamed' },
      }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: `/v1/admin/apps/${tapp.id}/tokens`,
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: { user_id: 'u1' },
      }),
    );
    const got = ok(await audit(await tapp.server())).entries;
    expect(got.map((e: any) => [e.action, e.actor.kind])).toEqual([
      ['app.token_minted', 'admin'],
      ['app.updated', 'admin'],
      ['app.created', 'admin'],
    ]);
    expect(got[1].details).toEqual({ name: 'renamed' });
  });
});

describe('the trail of join requests and two-factor sign-in', () => {
  it('records approvals and denials of requests to join', async () => {
    const { ws, owner, ownerChat } = await crew();
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'request' }));
    const yes = await buildAccount(h, 'Yara');
    const no = await buildAccount(h, 'Nils');
    const a = ok(await yes.post(`/v1/join/${ws.id}`)).request;
    const b = ok(await no.post(`/v1/join/${ws.id}`)).request;
    ok(await owner.post(`/v1/workspaces/${ws.id}/join-requests/${a.id}/approve`));
    ok(await owner.post(`/v1/workspaces/${ws.id}/join-requests/${b.id}/deny`));
    const got = ok(await audit(ownerChat, 'action=join_request.')).entries;
    expect(got.map((e: any) => [e.action, e.actor.id, e.target.id, e.details.request_id])).toEqual([
      ['join_request.denied', owner.account.id, no.account.id, b.id],
      ['join_request.approved', owner.account.id, yes.account.id, a.id],
    ]);
  });

  it("records a member turning two-factor sign-in on and off, in their workspace's log", async () => {
    const { member, ownerChat } = await crew();
    const setup = ok(await member.post('/v1/auth/2fa/setup', { password: 'correct horse battery' }));
    ok(
      await member.post('/v1/auth/2fa/enable', {
        code: await generate({ secret: setup.secret, epoch: Math.floor(Date.now() / 1000) }),
      }),
    );
    ok(await member.post('/v1/auth/2fa/disable', { password: 'correct horse battery' }));
    const got = ok(await audit(ownerChat, `actor=${member.account.id}&action=account.`)).entries;
    expect(got.map((e: any) => e.action).filter((a: string) => a.includes('two_factor'))).toEqual([
      'account.two_factor_disabled',
      'account.two_factor_enabled',
    ]);
  });
});

describe('the trail of the chat API', () => {
  it('records a role set through POST /v1/users, and not an upsert that keeps it', async () => {
    const tapp = await h.createApp('roles');
    await h.users(tapp, [{ id: 'u1', role: 'user' }, { id: 'u2' }]);
    await h.users(tapp, [
      { id: 'u1', role: 'admin' },
      { id: 'u2', role: 'user', name: 'same role' },
    ]);
    const got = ok(await audit(await tapp.server(), 'action=user.role_changed')).entries;
    expect(got).toEqual([
      expect.objectContaining({
        actor: { kind: 'server', id: null, name: null },
        target: { kind: 'user', id: 'u1', name: 'u1' },
        details: { from: 'user', to: 'admin' },
      }),
    ]);
    // u1 is an app admin now: its own token reads the log.
    expect((await audit(await tapp.user('u1'))).status).toBe(200);
    expectError(await audit(await tapp.user('u2')), 'FORBIDDEN');
  });
});

describe('reading the log', () => {
  it('pages with a cursor and filters by action prefix, target and time', async () => {
    const { ws, owner, member, ownerChat } = await crew();
    for (let i = 0; i < 3; i++) ok(await owner.invite(ws.id));
    const all = ok(await audit(ownerChat)).entries;
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: any = ok(await audit(ownerChat, `limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e: any) => e.id));
      cursor = page.next;
    }
    expect(seen).toEqual(all.map((e: any) => e.id));
    expect(new Set(ok(await audit(ownerChat, 'action=invite.')).entries.map((e: any) => e.action))).toEqual(
      new Set(['invite.created', 'invite.accepted']),
    );
    const aboutMia = ok(await audit(ownerChat, `target=${member.account.id}`)).entries;
    expect(aboutMia).toEqual([]);
    ok(await owner.setRole(ws.id, member.account.id, 'admin'));
    const nowAboutMia = ok(await audit(ownerChat, `target=${member.account.id}`)).entries;
    expect(nowAboutMia.map((e: any) => [e.action, e.target.id])).toEqual([['member.role_changed', member.account.id]]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(ok(await audit(ownerChat, `after=${encodeURIComponent(future)}`)).entries).toEqual([]);
    expect(ok(await audit(ownerChat, `before=${encodeURIComponent(future)}`)).entries.length).toBe(all.length + 1);
  });

  it('refuses members, bad cursors and other apps', async () => {
    const { ws, member, ownerChat } = await crew();
    const memberChat = chatHeaders(ok(await member.session(ws.id)));
    expectError(await audit(memberChat), 'FORBIDDEN');
    expectError(await audit(ownerChat, 'cursor=zzz'), 'VALIDATION_ERROR');
    expectError(await audit(ownerChat, 'limit=0'), 'VALIDATION_ERROR');
    expectError(await audit({}), 'UNAUTHORIZED');
    // Another app's server token sees its own (empty but for its creation) log only.
    const other = await h.createApp('other');
    const theirs = ok(await audit(await other.server())).entries;
    expect(theirs.map((e: any) => e.action)).toEqual(['app.created']);
  });
});

describe('retention', () => {
  it('prunes entries older than the retention, and keeps the rest', async () => {
    const tapp = await h.createApp('old');
    const db = h.server.svc.db;
    await recordAudit(db, { appId: tapp.id, actor: { kind: 'system', id: null }, action: 'app.updated' });
    await db.execute(
      sql`update audit_log set at = now() - interval '31 days' where app_id = ${tapp.id} and action = 'app.updated'`,
    );
    const count = async () =>
      (await rows<{ n: number }>(db, sql`select count(*)::int as n from audit_log where app_id = ${tapp.id}`))[0]?.n;
    expect(await count()).toBe(2);
    expect(await pruneAudit(h.server.svc)).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(1);
    const left = ok(await audit(await tapp.server())).entries;
    expect(left.map((e: any) => e.action)).toEqual(['app.created']);
  });

  it('runs the prune as a recurring job on the durable queue, once per period across offers', async () => {
    const count = async () =>
      (
        await rows<{ n: number }>(
          h.server.svc.db,
          sql`select count(*)::int as n from pgboss.job where name = 'audit.prune'`,
        )
      )[0]?.n;
    const windows = async () =>
      (
        await rows<{ n: number }>(
          h.server.svc.db,
          sql`select count(distinct singleton_on)::int as n from pgboss.job where name = 'audit.prune'`,
        )
      )[0]?.n;
    await expect.poll(count, { timeout: 30_000 }).toBe(1);
    // Another node offering the same period's job adds nothing. A period is a window of the
    // clock (whole hours here, pg-boss's `singletonSeconds`): an offer made after the hour
    // turned since the server's own is the next period's and goes in (a CI run at 20:00:00
    // met that), so then the test offers once more, inside that new period.
    const offer = () =>
      h.server.svc.jobs.enqueue(
        h.server.svc.db,
        { name: 'audit.prune' },
        {},
        { singletonKey: 'recurring', singletonSeconds: 3600 },
      );
    let again = await offer();
    if (again !== null) {
      expect(await windows()).toBe(2);
      again = await offer();
    }
    expect(again).toBeNull();
    expect(await count()).toBe(await windows());
  });
});
