/**
 * A workspace that requires two-factor sign-in: only owners and admins who have it on may
 * require it; once required, members without it get no workspace session (FORBIDDEN,
 * `two_factor_required`) and their open sockets close at once; turning it on lets them in;
 * turning it off again shuts them out of that workspace, and of no other.
 */
import { CLOSE_CODES } from '@parley/protocol';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok, PASSWORD } from './helpers.js';

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness();
  url = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

/** Turn two-factor sign-in on for `who`; returns the secret. */
async function turnOn(who: Browser): Promise<string> {
  const setup = ok(await who.post('/v1/auth/2fa/setup', { password: PASSWORD }));
  ok(await who.post('/v1/auth/2fa/enable', { code: await generate({ secret: setup.secret }) }));
  return setup.secret;
}

async function socket(who: Browser, id: string): Promise<TestSocket> {
  const s = ok(await who.session(id));
  const sock = await TestSocket.open(url, s.api_key);
  sock.sendRaw(JSON.stringify({ type: 'auth', token: s.token }));
  await sock.waitFor((f) => f.type === 'hello');
  return sock;
}

const requireIt = (who: Browser, id: string, on = true) =>
  who.patch(`/v1/workspaces/${id}`, { require_two_factor: on });

describe('requiring two-factor sign-in', () => {
  it('needs it on the caller first, and a manager', async () => {
    const owner = await buildAccount(h, 'Olive');
    const member = await buildAccount(h, 'Mia');
    const ws = await buildWorkspace(owner, 'Safe');
    expect(ws.require_two_factor).toBe(false);
    await join(owner, ws.id, member);
    const r = await requireIt(owner, ws.id);
    expectError(r, 'FORBIDDEN');
    expect(r.body.error.details).toEqual({ reason: 'two_factor_required' });
    await turnOn(member);
    expectError(await requireIt(member, ws.id), 'FORBIDDEN'); // a member may not
    expectError(await owner.patch(`/v1/workspaces/${ws.id}`, { require_two_factor: 'yes' }), 'VALIDATION_ERROR');
    await turnOn(owner);
    expect(ok(await requireIt(owner, ws.id)).workspace.require_two_factor).toBe(true);
  });

  it('shuts out members without it at once, lets them in once they have it, and only here', async () => {
    const owner = await buildAccount(h, 'Olive');
    const member = await buildAccount(h, 'Mia');
    const ws = await buildWorkspace(owner, 'Safe');
    const other = await buildWorkspace(owner, 'Open');
    await join(owner, ws.id, member);
    await join(owner, other.id, member);
    await turnOn(owner);
    const sock = await socket(member, ws.id);
    const elsewhere = await socket(member, other.id);
    const token = ok(await member.session(ws.id));
    const mine = await socket(owner, ws.id);

    ok(await requireIt(owner, ws.id));
    expect((await sock.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(token) }), 'UNAUTHORIZED');
    const refused = await member.session(ws.id);
    expectError(refused, 'FORBIDDEN');
    expect(refused.body.error.details).toEqual({ reason: 'two_factor_required' });
    // The workspace is still listed: the web app can say why it does not open.
    expect(ok(await member.workspaces()).workspaces.find((w: any) => w.id === ws.id)?.require_two_factor).toBe(true);
    // Other workspaces, and the owner who has it, are untouched.
    expect(elsewhere.closed).toBeNull();
    expect(mine.closed).toBeNull();

    // With it on, Mia gets in; turning it off shuts her out of this workspace again.
    await turnOn(member);
    const back = await socket(member, ws.id);
    ok(await member.post('/v1/auth/2fa/disable', { password: PASSWORD }));
    expect((await back.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await member.session(ws.id), 'FORBIDDEN');
    expect(elsewhere.closed).toBeNull();

    // No longer required: she is let in without it.
    ok(await requireIt(owner, ws.id, false));
    ok(await member.session(ws.id));
    for (const s of [elsewhere, mine]) s.close();
  });
});
