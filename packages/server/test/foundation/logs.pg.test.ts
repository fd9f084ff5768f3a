/**
 * What the logs hold: one line per request with its status and time, and never a secret —
 * not when a database write fails on the accounts, apps or messages routes (the failing
 * statement's parameters and PostgreSQL's "Failing row contains (…)" detail carry password
 * hashes, session ids, sealed secrets and message text), and not in the request lines
 * (cookies, bearer tokens, invite tokens in URLs).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, email, ok, PASSWORD, send, signUpRaw } from '../accounts/helpers.js';
import { ADMIN, type Harness, startHarness, type TestApp } from '../harness.js';

const lines: string[] = [];
const logStream = { write: (s: string) => void lines.push(s) };
const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

let h: Harness;
let app: TestApp;
beforeAll(async () => {
  h = await startHarness({ logLevel: 'info' }, { logStream });
  app = await h.createApp('logs');
  await h.users(app, [{ id: 'alice' }]);
  // Writes that fail inside the database, as a NUL byte or a full disk would: each check
  // rejects one marked value, so the rest of the suite's writes go through.
  await h.database.db.execute(sql`alter table accounts add constraint t_fail check (name <> 'Boom')`);
  await h.database.db.execute(
    sql`alter table account_sessions add constraint t_fail check (coalesce(user_agent, '') <> 'boom-agent')`,
  );
  await h.database.db.execute(
    sql`alter table account_sessions add constraint t_fail2 check (revoked_at is null or coalesce(user_agent, '') <> 'boom-later')`,
  );
  await h.database.db.execute(sql`alter table apps add constraint t_fail check (name <> 'boom-app')`);
  await h.database.db.execute(sql`alter table messages add constraint t_fail check (text not like '%zz-secret%')`);
});
afterAll(async () => {
  await h?.close();
});

/** Every secret-shaped thing that must never be logged. */
function expectClean(text: string, secrets: string[]): void {
  expect(text).not.toMatch(/\$argon2/);
  expect(text).not.toMatch(/\bparams\b"?\s*:\s*\[/); // an array of SQL parameters
  expect(text).not.toMatch(/Failing row contains/);
  expect(text).not.toMatch(/\bsk_[\w-]{16,}/); // an API secret
  expect(text).not.toMatch(/\bv1\.[\w-]{10,}\.[\w-]{10,}\.[\w-]+/); // a sealed secret
  expect(text).not.toMatch(/\beyJ[\w-]+\.[\w-]+\.[\w-]+/); // a JWT
  expect(text).not.toMatch(/\b[0-9a-f]{64}\b/); // a session or invite token's SHA-256
  expect(text).not.toContain(ADMIN);
  for (const s of secrets) expect(text, `the log holds ${s}`).not.toContain(s);
}

describe('database errors leave no secret in the log', () => {
  it('sign-up, sign-in and sign-out failing in the database', async () => {
    lines.length = 0;
    const mail = email('boom');
    const r = await signUpRaw(h, { email: mail, password: PASSWORD, name: 'Boom' });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('INTERNAL');

    const a = await buildAccount(h, 'Agent');
    const signin = await send(h, {
      method: 'POST',
      url: '/v1/auth/signin',
      headers: { 'user-agent': 'boom-agent' },
      payload: { email: a.account.email, password: PASSWORD },
    });
    expect(signin.status).toBe(500);

    // A session whose sign-out fails: the request carries the cookie.
    const later = await send(h, {
      method: 'POST',
      url: '/v1/auth/signin',
      headers: { 'user-agent': 'boom-later' },
      payload: { email: a.account.email, password: PASSWORD },
    });
    const cookie = String(later.headers['set-cookie']).split(';')[0] as string;
    const out = await send(h, {
      method: 'POST',
      url: '/v1/auth/signout',
      headers: { cookie, origin: 'http://localhost', 'user-agent': 'boom-later' },
      payload: {},
    });
    expect(out.status).toBe(500);

    const text = lines.join('');
    // The failures were logged, with what is needed to debug them.
    const failures = logged().filter((l) => l.msg === 'request failed');
    expect(failures.length).toBe(3);
    expect(text).toContain('t_fail');
    expectClean(text, [PASSWORD, mail, cookie.split('=')[1] as string, 'boom-agent']);
  });

  it('creating an app failing in the database', async () => {
    lines.length = 0;
    const r = await h.call({
      method: 'POST',
      url: '/v1/admin/apps',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { name: 'boom-app' },
    });
    expect(r.status).toBe(500);
    const text = lines.join('');
    expect(logged().some((l) => l.msg === 'request failed')).toBe(true);
    expectClean(text, ['pk_']);
  });

  it('sending a message failing in the database', async () => {
    lines.length = 0;
    const headers = await app.user('alice');
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers,
        payload: { type: 'public', id: 'logs' },
      }),
    );
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels/public:logs/messages',
      headers: { ...headers, 'x-request-id': 'failing-send' },
      payload: { text: 'hello zz-secret-4711' },
    });
    expect(r.status).toBe(500);
    // Still one line for the request: the failure, with its status, time and error.
    const mine = logged().filter((l) => l.reqId === 'failing-send');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 50, msg: 'request failed', status: 500 });
    expect(JSON.stringify(mine[0]?.err)).toContain('"code":"23514"'); // the check violation, on the error or its cause
    expect(typeof mine[0]?.ms).toBe('number');
    const text = lines.join('');
    expect(text).toContain('t_fail');
    expectClean(text, ['zz-secret-4711', headers.authorization?.slice(7) as string]);
  });
});

describe('request lines', () => {
  it('one line per request, with its status and time', async () => {
    lines.length = 0;
    const r = await h.call({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'one-line' } });
    expect(r.status).toBe(200);
    const mine = logged().filter((l) => l.reqId === 'one-line');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ msg: 'request', method: 'GET', url: '/healthz', status: 200 });
    expect(typeof mine[0]?.ms).toBe('number');
  });

  it('carry no cookie, bearer token or invite token', async () => {
    const owner = await buildAccount(h, 'Owner');
    const ws = await buildWorkspace(owner, 'Logs');
    const invite = ok(await owner.invite(ws.id));
    lines.length = 0;
    ok(await send(h, { method: 'GET', url: `/v1/invites/${invite.token}` }));
    ok(await owner.me());
    const s = ok(await owner.session(ws.id));
    const text = lines.join('');
    expect(text).toContain('/v1/invites/[redacted]');
    expectClean(text, [invite.token, owner.cookie?.split('=')[1] as string, s.token]);
  });
});

describe('empty bodies', () => {
  it('an empty body with Content-Type: application/json is no body, on every route', async () => {
    const headers = { ...(await app.user('alice')), 'content-type': 'application/json' };
    // A route without a body…
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: await app.user('alice'),
        payload: { type: 'public', id: 'empty' },
      }),
    );
    const join = await h.call({ method: 'POST', url: '/v1/channels/public:empty/join', headers, payload: '' });
    expect(join.status).toBe(200);
    // …a route whose body has no required field (whitespace counts as empty)…
    const owner = await buildAccount(h, 'Empty');
    const out = await send(h, {
      method: 'POST',
      url: '/v1/auth/signout',
      headers: { cookie: owner.cookie as string, origin: 'http://localhost', 'content-type': 'application/json' },
      payload: ' \n',
    });
    expect(out.status).toBe(200);
    // …and one that needs fields, which says which.
    const send1 = await h.call({ method: 'POST', url: '/v1/channels/public:empty/messages', headers, payload: '' });
    expect(send1.status).toBe(400);
    expect(send1.body.error.code).toBe('VALIDATION_ERROR');
    expect(send1.body.error.message).toContain('text');
    // Bodies that are not JSON are still BAD_JSON.
    const bad = await h.call({ method: 'POST', url: '/v1/channels/public:empty/join', headers, payload: '{' });
    expect(bad.body.error.code).toBe('BAD_JSON');
  });
});
