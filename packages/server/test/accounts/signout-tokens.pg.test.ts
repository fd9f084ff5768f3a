/**
 * Signing out ends the chat tokens it handed out, at once and on every node: the sockets
 * opened with them close (4001) and the tokens are refused at connect and on REST — on two
 * nodes sharing one database and one broker (Redis when REDIS_URL is set, else an in-process
 * network). Sign-out ends the tokens of its own session; sign-out everywhere ends them all;
 * tokens that no account session minted keep their stateless behaviour.
 */
import { CLOSE_CODES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/platform/auth.js';
import { ADMIN, clusterBrokers, type Harness, startHarness, TestSocket, testDatabase } from '../harness.js';
import {
  type Browser,
  browser,
  buildAccount,
  buildWorkspace,
  chatHeaders,
  expectError,
  join,
  ok,
  PASSWORD,
  signInAgain,
  signInRaw,
} from './helpers.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('so');

let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let url1: string;
let url2: string;
const masterKey = 'b'.repeat(64);

beforeAll(async () => {
  db = await testDatabase();
  n1 = await startHarness({ nodeId: 's1', masterKey }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ nodeId: 's2', masterKey }, { database: db.database, broker: await broker() });
  url1 = await n1.listen();
  url2 = await n2.listen();
});
afterAll(async () => {
  await n1?.close();
  await n2?.close();
  await db?.drop();
});

type Session = { api_key: string; token: string; user_id: string };

/** A socket authenticated with `s`'s token, open after hello. */
async function socket(url: string, s: Session): Promise<TestSocket> {
  const sock = await TestSocket.open(url, s.api_key);
  sock.sendRaw(JSON.stringify({ type: 'auth', token: s.token }));
  await sock.waitFor((f) => f.type === 'hello');
  return sock;
}

/** The close code a socket with `s`'s token gets at connect. */
async function refusedAtConnect(url: string, s: Session): Promise<number> {
  const sock = await TestSocket.open(url, s.api_key);
  sock.sendRaw(JSON.stringify({ type: 'auth', token: s.token }));
  return (await sock.waitClose()).code;
}

const rest = (h: Harness, s: Session) => h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) });

/** The same browser's cookie, talking to node 2. */
const on2 = (who: Browser): Browser => Object.assign(browser(n2, who.cookie), { account: who.account });

describe(`sign-out ends chat tokens on every node (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('sign-out: this session’s sockets close on both nodes and its tokens are refused; other sessions go on', async () => {
    const ada = await buildAccount(n1, 'Ada');
    const ws = await buildWorkspace(ada, 'Nodes');
    const laptop = ok(await ada.session(ws.id)) as Session;
    const laptop2 = ok(await on2(ada).session(ws.id)) as Session; // a second token of the same session
    const phoneBrowser = await signInAgain(n1, ada);
    const phone = ok(await phoneBrowser.session(ws.id)) as Session;

    ok(await rest(n1, laptop));
    ok(await rest(n2, laptop)); // cached as good on node 2
    const a1 = await socket(url1, laptop);
    const a2 = await socket(url2, laptop2);
    const p2 = await socket(url2, phone);

    ok(await ada.signOut()); // on node 1
    expect((await a1.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect((await a2.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    for (const h of [n1, n2]) {
      expectError(await rest(h, laptop), 'UNAUTHORIZED');
      expectError(await rest(h, laptop2), 'UNAUTHORIZED');
    }
    expect(await refusedAtConnect(url1, laptop)).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect(await refusedAtConnect(url2, laptop2)).toBe(CLOSE_CODES.UNAUTHORIZED);

    // The phone signed in on its own: its socket and token go on.
    expect(p2.closed).toBeNull();
    ok(await rest(n2, phone));
    expect((await p2.request('ping')).ok).toBe(true);
    p2.close();
  });

  it('sign-out everywhere: every session’s sockets close and every token is refused, in every workspace', async () => {
    const bea = await buildAccount(n1, 'Bea');
    const owner = await buildAccount(n1, 'Owner');
    const mine = await buildWorkspace(bea, 'Mine');
    const theirs = await buildWorkspace(owner, 'Theirs');
    await join(owner, theirs.id, bea);
    const tablet = await signInAgain(n1, bea);
    const sessions = [
      ok(await bea.session(mine.id)),
      ok(await bea.session(theirs.id)),
      ok(await on2(tablet).session(theirs.id)),
    ] as Session[];
    const sockets = [
      await socket(url1, sessions[0] as Session),
      await socket(url2, sessions[1] as Session),
      await socket(url2, sessions[2] as Session),
    ];
    const ownerSession = ok(await owner.session(theirs.id)) as Session;
    const ownerSocket = await socket(url2, ownerSession);

    ok(await on2(tablet).signOutEverywhere()); // on node 2
    for (const s of sockets) expect((await s.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    for (const s of sessions) {
      expectError(await rest(n1, s), 'UNAUTHORIZED');
      expectError(await rest(n2, s), 'UNAUTHORIZED');
      expect(await refusedAtConnect(url1, s)).toBe(CLOSE_CODES.UNAUTHORIZED);
    }
    expectError(await bea.session(mine.id), 'UNAUTHORIZED'); // and no new token without signing in
    // Nobody else is touched.
    expect(ownerSocket.closed).toBeNull();
    ok(await rest(n1, ownerSession));
    ownerSocket.close();

    // Signing in again gives working tokens.
    const back = await signInAgain(n1, bea);
    const fresh = ok(await back.session(mine.id)) as Session;
    ok(await rest(n2, fresh));
    (await socket(url2, fresh)).close();
  });

  it('a password change ends every other session and its tokens; this one goes on', async () => {
    const dee = await buildAccount(n1, 'Dee');
    const ws = await buildWorkspace(dee, 'Pw');
    const other = await signInAgain(n1, dee);
    const mine = ok(await dee.session(ws.id)) as Session;
    const theirs = ok(await on2(other).session(ws.id)) as Session;
    const mySocket = await socket(url2, mine);
    const theirSocket = await socket(url1, theirs);

    expectError(
      await dee.post('/v1/auth/password', { current_password: 'wrong password!', new_password: 'a new password' }),
      'FORBIDDEN',
    );
    expectError(
      await dee.post('/v1/auth/password', { current_password: PASSWORD, new_password: 'short' }),
      'VALIDATION_ERROR',
    );
    expect(theirSocket.closed).toBeNull();

    ok(await on2(dee).post('/v1/auth/password', { current_password: PASSWORD, new_password: 'a new password' }));
    expect((await theirSocket.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await rest(n2, theirs), 'UNAUTHORIZED');
    expectError(await other.me(), 'UNAUTHORIZED');
    // This session, its token and socket go on.
    ok(await dee.me());
    ok(await rest(n1, mine));
    expect((await mySocket.request('ping')).ok).toBe(true);
    mySocket.close();
    // The new password signs in; the old one does not.
    expectError(await signInRaw(n1, { email: dee.account.email, password: PASSWORD }), 'UNAUTHORIZED');
    ok(await signInRaw(n1, { email: dee.account.email, password: 'a new password' }));
  });

  it('removal from a workspace, and leaving it, end that workspace’s tokens and sockets only', async () => {
    const owner = await buildAccount(n1, 'Boss');
    const admin = await buildAccount(n1, 'Admin');
    const eve = await buildAccount(n1, 'Eve');
    const ws = await buildWorkspace(owner, 'Team');
    const elsewhere = await buildWorkspace(eve, 'Elsewhere');
    await join(owner, ws.id, admin);
    await join(owner, ws.id, eve);
    ok(await owner.setRole(ws.id, admin.account.id, 'admin'));

    const eveHere = ok(await eve.session(ws.id)) as Session;
    const eveThere = ok(await eve.session(elsewhere.id)) as Session;
    const here1 = await socket(url1, eveHere);
    const here2 = await socket(url2, eveHere);
    const there = await socket(url2, eveThere);
    const ownerSession = ok(await owner.session(ws.id)) as Session;

    // Members cannot remove anyone; admins cannot remove admins or owners.
    const memberOf = ok(await eve.members(ws.id)).members as { account_id: string; role: string }[];
    expect(memberOf).toHaveLength(3);
    expectError(await eve.del(`/v1/workspaces/${ws.id}/members/${admin.account.id}`), 'FORBIDDEN');
    expectError(await admin.del(`/v1/workspaces/${ws.id}/members/${owner.account.id}`), 'FORBIDDEN');
    // The last owner can neither leave nor be removed.
    expectError(await owner.del(`/v1/workspaces/${ws.id}/members/${owner.account.id}`), 'CONFLICT');

    ok(await on2(admin).del(`/v1/workspaces/${ws.id}/members/${eve.account.id}`));
    expect((await here1.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expect((await here2.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    for (const h of [n1, n2]) expectError(await rest(h, eveHere), 'UNAUTHORIZED');
    expect(await refusedAtConnect(url1, eveHere)).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await eve.session(ws.id), 'NOT_FOUND'); // and no new token
    expectError(await eve.members(ws.id), 'NOT_FOUND');
    // Her other workspace, and everyone else, go on.
    expect(there.closed).toBeNull();
    ok(await rest(n1, eveThere));
    ok(await rest(n2, ownerSession));
    there.close();

    // Leaving is removing oneself.
    const adminSession = ok(await admin.session(ws.id)) as Session;
    const adminSocket = await socket(url1, adminSession);
    ok(await admin.del(`/v1/workspaces/${ws.id}/members/${admin.account.id}`));
    expect((await adminSocket.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await rest(n2, adminSession), 'UNAUTHORIZED');
    const left = ok(await owner.members(ws.id)).members as { account_id: string }[];
    expect(left.map((m) => m.account_id)).toEqual([owner.account.id]);
  });

  it('tokens no account session minted stay stateless', async () => {
    const cy = await buildAccount(n1, 'Cy');
    const ws = await buildWorkspace(cy, 'Stateless');
    const s = ok(await cy.session(ws.id)) as Session;
    // The operator mints a token for the same user through the admin API: no session in it.
    const minted = await n1.call({
      method: 'POST',
      url: `/v1/admin/apps/${ws.id}/tokens`,
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { user_id: s.user_id },
    });
    const admin = { ...s, token: ok(minted).token as string };
    const sock = await socket(url2, admin);
    ok(await cy.signOutEverywhere());
    ok(await rest(n1, admin));
    ok(await rest(n2, admin));
    expect((await sock.request('ping')).ok).toBe(true);
    sock.close();
    expectError(await rest(n1, s), 'UNAUTHORIZED');
  });

  it('a token whose psid is not a session id is refused', async () => {
    const app = await n1.createApp('psid');
    const forged = await signToken(app.secret, 'alice');
    ok(
      await n1.call({
        method: 'GET',
        url: '/v1/me',
        headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${forged}` },
      }),
    );
    const { SignJWT } = await import('jose');
    const odd = await new SignJWT({ psid: 'not-a-session' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode(app.secret));
    expectError(
      await n1.call({
        method: 'GET',
        url: '/v1/me',
        headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${odd}` },
      }),
      'UNAUTHORIZED',
    );
    // A well-formed psid that names no session of a member: refused too (the app is no workspace).
    const none = await signToken(app.secret, 'alice', { sessionId: '00000000-0000-4000-8000-000000000000' });
    expectError(
      await n1.call({
        method: 'GET',
        url: '/v1/me',
        headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${none}` },
      }),
      'UNAUTHORIZED',
    );
  });
});
