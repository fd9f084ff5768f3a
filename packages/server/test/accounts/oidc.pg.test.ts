/**
 * Sign-in with an OpenID Connect provider, against a real one (oidc-provider on a loopback
 * port, its login and consent forms submitted over HTTP): a new account, linking by verified
 * email, the refusals (unverified email at the provider or here, forged or missing state, a
 * replayed code), a second sign-in by subject after the email changed at the provider,
 * two-factor sign-in after the provider, and a provider that is down.
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountForClaims } from '../../src/features/accounts/oidc.js';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness } from '../harness.js';
import {
  browser,
  buildAccount,
  cookiePair,
  email,
  expectError,
  ORIGIN,
  ok,
  PASSWORD,
  type Res,
  send,
  signInRaw,
} from './helpers.js';
import { signInAt, startProvider, type TestProvider } from './oidc-provider.js';

const PUBLIC = 'http://parley.test';
const CALLBACK = `${PUBLIC}/v1/auth/oidc/callback`;

let offset = 0;
const clock = () => Date.now() + offset;

let idp: TestProvider;
let h: Harness;
beforeAll(async () => {
  idp = await startProvider([CALLBACK]);
  h = await startHarness(
    {
      publicUrl: PUBLIC,
      oidc: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        name: 'Test IdP',
        signup: true,
        timeoutMs: 10_000,
      },
    },
    { clock },
  );
});
afterAll(async () => {
  await h?.close();
  await idp?.stop();
});

/** The `parley_oidc` / `parley_session` cookie pair of a response, if it set one with a value. */
function cookieOf(r: Res, name: string): string | null {
  const v = r.headers['set-cookie'];
  for (const line of Array.isArray(v) ? v : v ? [String(v)] : []) {
    const pair = cookiePair(line);
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair;
  }
  return null;
}

const start = (payload: unknown = {}, server = h) =>
  send(server, { method: 'POST', url: '/v1/auth/oidc/start', payload: payload as object, headers: { origin: ORIGIN } });

/** Start, sign in at the provider as `subject`: the callback URL and this browser's flow cookie. */
async function toCallback(subject: string, returnTo?: string): Promise<{ url: string; flow: string }> {
  const r = await start(returnTo ? { return_to: returnTo } : {});
  const { authorization_url } = ok(r);
  const flow = cookieOf(r, 'parley_oidc');
  expect(flow).not.toBeNull();
  return { url: await signInAt(authorization_url, subject, CALLBACK), flow: flow as string };
}

/** The browser arriving at the callback (inject: path and query of the URL), with `cookie`. */
const arrive = (url: string, cookie: string | null, server = h) => {
  const u = new URL(url);
  return send(server, { method: 'GET', url: u.pathname + u.search, headers: cookie ? { cookie } : {} });
};

/** The whole flow as `subject`: the callback's answer. */
async function oidcSignIn(subject: string, returnTo?: string): Promise<Res> {
  const { url, flow } = await toCallback(subject, returnTo);
  return arrive(url, flow);
}

/** A refusal: 303 to the sign-in page with the error code and reason, no session. */
function expectRefused(r: Res, code: string, reason: string): void {
  expect(r.status).toBe(303);
  const loc = new URL(String(r.headers.location));
  expect(loc.origin + loc.pathname).toBe(`${PUBLIC}/signin`);
  expect({ code: loc.searchParams.get('oidc_error'), reason: loc.searchParams.get('oidc_reason') }).toEqual({
    code,
    reason: reason || null,
  });
  expect(cookieOf(r, 'parley_session')).toBeNull();
}

/** Signed in: 303 to the return path with a session cookie; a browser holding it. */
function signedIn(r: Res, returnTo = '/') {
  expect(r.status, JSON.stringify(r.headers)).toBe(303);
  expect(r.headers.location).toBe(`${PUBLIC}${returnTo}`);
  const session = cookieOf(r, 'parley_session');
  expect(session).not.toBeNull();
  return browser(h, session);
}

const identities = (accountId: string) =>
  rows<{ issuer: string; subject: string }>(
    h.database.db,
    sql`select issuer, subject from account_identities where account_id = ${accountId}`,
  );
const markVerified = (accountId: string) =>
  h.database.db.execute(sql`update accounts set email_verified_at = now() where id = ${accountId}`);

describe('sign-in with an OpenID Connect provider', () => {
  it('is offered in the auth options, with its name', async () => {
    expect(ok(await send(h, { method: 'GET', url: '/v1/auth/options' })).oidc).toEqual({ name: 'Test IdP' });
  });

  it('makes a new account for a new verified email, marked verified, with a listed session', async () => {
    const mail = email('newcomer');
    idp.people.set('sub-new', { email: mail, email_verified: true, name: 'New Comer' });
    const r = await oidcSignIn('sub-new', '/w/abc?x=1');
    const who = signedIn(r, '/w/abc?x=1');
    // The flow's cookie is cleared in the same answer that sets the session's.
    expect(String(r.headers['set-cookie'])).toContain('parley_oidc=; Max-Age=0');
    const { account } = ok(await who.me());
    expect(account).toMatchObject({ email: mail, name: 'New Comer', email_verified: true, two_factor_enabled: false });
    expect(await identities(account.id)).toEqual([{ issuer: idp.issuer, subject: 'sub-new' }]);
    const { sessions } = ok(await who.get('/v1/auth/sessions'));
    expect(sessions).toHaveLength(1);
    expect(sessions[0].current).toBe(true);
    // An ordinary account from here on: it makes a workspace and gets a chat token.
    const ws = ok(await who.createWorkspace('From OIDC')).workspace;
    ok(await who.session(ws.id));
  });

  it('signs in again by subject after the email changed at the provider', async () => {
    const first = email('mover');
    idp.people.set('sub-mover', { email: first, email_verified: true, name: 'Mover' });
    const a = ok(await signedIn(await oidcSignIn('sub-mover')).me()).account;
    idp.people.set('sub-mover', { email: email('moved'), email_verified: false, name: 'Mover' });
    const b = ok(await signedIn(await oidcSignIn('sub-mover')).me()).account;
    expect(b.id).toBe(a.id);
    expect(b.email).toBe(first); // the account's own email is not rewritten by the provider
    // Two sessions now, both in the list.
    const who = signedIn(await oidcSignIn('sub-mover'));
    expect(ok(await who.get('/v1/auth/sessions')).sessions).toHaveLength(3);
  });

  it('links an existing verified account by verified email (any case); the password still works', async () => {
    const owner = await buildAccount(h, 'Linda');
    await markVerified(owner.account.id);
    idp.people.set('sub-linda', { email: owner.account.email.toUpperCase(), email_verified: true, name: 'L at IdP' });
    const via = signedIn(await oidcSignIn('sub-linda'));
    const { account } = ok(await via.me());
    expect(account.id).toBe(owner.account.id);
    expect(account.name).toBe('Linda');
    expect(await identities(owner.account.id)).toEqual([{ issuer: idp.issuer, subject: 'sub-linda' }]);
    ok(await signInRaw(h, { email: owner.account.email, password: PASSWORD }));
    expect(ok(await via.get('/v1/auth/sessions')).sessions.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses to link when the provider does not say the email is verified', async () => {
    const owner = await buildAccount(h, 'Vera');
    await markVerified(owner.account.id);
    idp.people.set('sub-vera', { email: owner.account.email, email_verified: false });
    const r = await oidcSignIn('sub-vera', '/w/x');
    expectRefused(r, 'FORBIDDEN', 'email_unverified');
    // Where the person was going is kept, for signing in another way.
    expect(new URL(String(r.headers.location)).searchParams.get('next')).toBe('/w/x');
    idp.people.set('sub-vera', { email: owner.account.email }); // no claim at all: the same
    expectRefused(await oidcSignIn('sub-vera'), 'FORBIDDEN', 'email_unverified');
    expect(await identities(owner.account.id)).toEqual([]);
    // Nor does an unverified email make a new account.
    idp.people.set('sub-unverified-new', { email: email('nobody'), email_verified: false });
    expectRefused(await oidcSignIn('sub-unverified-new'), 'FORBIDDEN', 'email_unverified');
  });

  it('refuses to link an account whose own email was never verified here (a possible squat)', async () => {
    const squat = await buildAccount(h, 'Squatter');
    idp.people.set('sub-real-owner', { email: squat.account.email, email_verified: true });
    expectRefused(await oidcSignIn('sub-real-owner'), 'FORBIDDEN', 'account_unverified');
    expect(await identities(squat.account.id)).toEqual([]);
  });

  it('refuses a second identity at the same provider for a linked account', async () => {
    const mail = email('twice');
    idp.people.set('sub-twice-1', { email: mail, email_verified: true });
    signedIn(await oidcSignIn('sub-twice-1'));
    idp.people.set('sub-twice-2', { email: mail, email_verified: true });
    expectRefused(await oidcSignIn('sub-twice-2'), 'CONFLICT', 'already_linked');
  });

  it('refuses a missing email for an unlinked identity', async () => {
    idp.people.set('sub-no-mail', { name: 'No Mail' });
    expectRefused(await oidcSignIn('sub-no-mail'), 'FORBIDDEN', 'email_missing');
  });

  it('refuses a forged or missing state, and a callback this browser did not start', async () => {
    idp.people.set('sub-state', { email: email('state'), email_verified: true });
    const { url, flow } = await toCallback('sub-state');
    const forged = new URL(url);
    forged.searchParams.set('state', 'forged-state-value');
    expectRefused(await arrive(forged.href, flow), 'FORBIDDEN', 'invalid_state');
    const none = new URL(url);
    none.searchParams.delete('state');
    expectRefused(await arrive(none.href, flow), 'FORBIDDEN', 'invalid_state');
    // Login CSRF: the right URL, but another browser (no flow cookie, or a tampered one).
    expectRefused(await arrive(url, null), 'FORBIDDEN', 'invalid_state');
    const i = flow.length - 10; // inside the sealed value: one character changed
    const tampered = flow.slice(0, i) + (flow[i] === 'A' ? 'B' : 'A') + flow.slice(i + 1);
    expectRefused(await arrive(url, tampered), 'FORBIDDEN', 'invalid_state');
    // The flow of another start in another browser does not fit this callback either.
    const other = cookieOf(await start(), 'parley_oidc');
    expectRefused(await arrive(url, other), 'FORBIDDEN', 'invalid_state');
    // Garbage in the query is a refusal too, never a 500.
    expectRefused(await arrive(`${CALLBACK}?code=%00&state=%ff&iss=x`, flow), 'FORBIDDEN', 'invalid_state');
  });

  it('refuses an error answered by the provider (the person declined)', async () => {
    const r = await start();
    const state = new URL(ok(r).authorization_url).searchParams.get('state') as string;
    const url = `${CALLBACK}?${new URLSearchParams({ error: 'access_denied', state, iss: idp.issuer })}`;
    expectRefused(await arrive(url, cookieOf(r, 'parley_oidc')), 'FORBIDDEN', 'provider_error');
  });

  it('refuses a replayed code: the first use signs in, the second does not', async () => {
    idp.people.set('sub-replay', { email: email('replay'), email_verified: true });
    const { url, flow } = await toCallback('sub-replay');
    const first = await arrive(url, flow);
    expect(first.headers['set-cookie']).toBeDefined();
    signedIn(first);
    expectRefused(await arrive(url, flow), 'FORBIDDEN', 'provider_error');
  });

  it('asks for the second step when the account has two-factor sign-in on', async () => {
    const who = await buildAccount(h, 'Tess');
    await markVerified(who.account.id);
    const setup = ok(await who.post('/v1/auth/2fa/setup', { password: PASSWORD }));
    const at = () => Math.floor(clock() / 1000);
    ok(await who.post('/v1/auth/2fa/enable', { code: await generate({ secret: setup.secret, epoch: at() }) }));
    idp.people.set('sub-tess', { email: who.account.email, email_verified: true });
    const r = await oidcSignIn('sub-tess', '/after');
    expect(r.status).toBe(303);
    expect(cookieOf(r, 'parley_session')).toBeNull();
    const loc = new URL(String(r.headers.location));
    expect(loc.pathname).toBe('/signin');
    expect(loc.searchParams.get('next')).toBe('/after');
    const challenge = new URLSearchParams(loc.hash.slice(1)).get('oidc_challenge');
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    offset += 60_000; // a later TOTP step than the one that turned it on
    const done = await send(h, {
      method: 'POST',
      url: '/v1/auth/signin/2fa',
      payload: { challenge, code: await generate({ secret: setup.secret, epoch: at() }) },
    });
    expect(ok(done).account.id).toBe(who.account.id);
    expect(cookieOf(done, 'parley_session')).not.toBeNull();
  });

  it('refuses a return path that is not on this server, and a start that is not JSON', async () => {
    for (const return_to of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'relative'])
      expectError(await start({ return_to }), 'VALIDATION_ERROR');
    const r = await send(h, {
      method: 'POST',
      url: '/v1/auth/oidc/start',
      payload: 'return_to=/',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(r, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('an ordinary sign-in after the provider', () => {
  it('is refused while the account is locked', async () => {
    const mail = email('locked');
    idp.people.set('sub-locked', { email: mail, email_verified: true });
    const who = signedIn(await oidcSignIn('sub-locked'));
    const { account } = ok(await who.me());
    await h.database.db.execute(
      sql`update accounts set locked_until = now() + interval '1 hour' where id = ${account.id}`,
    );
    expectRefused(await oidcSignIn('sub-locked'), 'ACCOUNT_LOCKED', '');
    await h.database.db.execute(sql`update accounts set locked_until = null where id = ${account.id}`);
    signedIn(await oidcSignIn('sub-locked'));
  });

  it('makes one account when two first sign-ins of one person race', async () => {
    const mail = email('racer');
    const claims = { issuer: idp.issuer, subject: 'sub-racer', email: mail, emailVerified: true, name: 'Racer' };
    const cfg = h.config.oidc as NonNullable<typeof h.config.oidc>;
    const svc = h.server.svc;
    const made = await Promise.all([1, 2, 3].map(() => accountForClaims(svc, cfg, claims)));
    expect(new Set(made.map((a) => a.id)).size).toBe(1);
    const count = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from accounts where lower(email) = lower(${mail})`,
    );
    expect(count[0]?.n).toBe(1);
    expect(await identities(made[0]?.id as string)).toEqual([{ issuer: idp.issuer, subject: 'sub-racer' }]);
  });
});

describe('the OpenAPI document', () => {
  it('documents start and the callback', async () => {
    const doc = ok(await send(h, { method: 'GET', url: '/v1/openapi.json' }));
    const startOp = doc.paths['/v1/auth/oidc/start']?.post;
    expect(Object.keys(startOp?.responses ?? {}).sort()).toEqual(['200', '400', '403', '404', '415', '429', '503']);
    expect(startOp.security).toEqual([]);
    const callback = doc.paths['/v1/auth/oidc/callback']?.get;
    expect(Object.keys(callback?.responses ?? {})).toEqual(['303']);
    expect(callback.description).toContain('oidc_error');
  });
});

describe('a server without a provider, and a provider that is down', () => {
  let down: Harness | undefined;
  let none: Harness | undefined;
  let back: TestProvider | undefined;
  afterAll(async () => {
    await down?.close();
    await none?.close();
    await back?.stop();
  });

  it('makes no new account with sign-up off, but still signs existing ones in', async () => {
    const closed = await startHarness(
      { publicUrl: PUBLIC, oidc: { ...(h.config.oidc as NonNullable<typeof h.config.oidc>), signup: false } },
      { database: h.database },
    );
    try {
      const via = async (subject: string) => {
        const r = await start({}, closed);
        const url = await signInAt(ok(r).authorization_url, subject, CALLBACK);
        return arrive(url, cookieOf(r, 'parley_oidc'), closed);
      };
      idp.people.set('sub-closed-new', { email: email('closednew'), email_verified: true });
      expectRefused(await via('sub-closed-new'), 'FORBIDDEN', 'signup_closed');
      const owner = await buildAccount(closed, 'Olga');
      await markVerified(owner.account.id);
      idp.people.set('sub-closed-olga', { email: owner.account.email, email_verified: true });
      const r = await via('sub-closed-olga');
      expect(r.status).toBe(303);
      expect(cookieOf(r, 'parley_session')).not.toBeNull();
    } finally {
      await closed.close();
    }
  });

  it('offers none without configuration: options say null, start is NOT_FOUND, the callback refuses', async () => {
    none = await startHarness({ publicUrl: PUBLIC }, { database: h.database });
    expect(ok(await send(none, { method: 'GET', url: '/v1/auth/options' })).oidc).toBeNull();
    expectError(await start({}, none), 'NOT_FOUND');
    const r = await send(none, { method: 'GET', url: '/v1/auth/oidc/callback?code=x&state=y' });
    expect(r.status).toBe(303);
    expect(new URL(String(r.headers.location)).searchParams.get('oidc_error')).toBe('NOT_FOUND');
  });

  it('does not stop the server; starting answers UNAVAILABLE until it is back, then works', async () => {
    // A free port with nothing listening on it.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const issuer = `http://127.0.0.1:${port}`;
    down = await startHarness(
      {
        publicUrl: PUBLIC,
        oidc: { issuer, clientId: 'parley-test', clientSecret: 'x', name: 'Down IdP', signup: true, timeoutMs: 5_000 },
      },
      { database: h.database },
    );
    expect((await send(down, { method: 'GET', url: '/healthz' })).status).toBe(200);
    expect(ok(await send(down, { method: 'GET', url: '/v1/auth/options' })).oidc).toEqual({ name: 'Down IdP' });
    const r = await start({}, down);
    expectError(r, 'UNAVAILABLE');
    expect(r.body.error.details).toEqual({ reason: 'unavailable' });
    expect(cookieOf(r, 'parley_oidc')).toBeNull();
    // Password sign-in is untouched.
    const who = await buildAccount(down, 'Stillhere');
    ok(await signInRaw(down, { email: who.account.email, password: PASSWORD }));
    // The provider comes up on that port: the next start discovers it.
    back = await startProvider([CALLBACK], port);
    const again = await start({}, down);
    const { authorization_url } = ok(again);
    expect(new URL(authorization_url).origin).toBe(issuer);
    // Down again between the provider's pages and the return: the callback says so.
    back.people.set('sub-midway', { email: email('midway'), email_verified: true });
    const url = await signInAt(authorization_url, 'sub-midway', CALLBACK);
    await back.stop();
    const r2 = await arrive(url, cookieOf(again, 'parley_oidc'), down);
    expectRefused(r2, 'UNAVAILABLE', 'unavailable');
    expect((await send(down, { method: 'GET', url: '/healthz' })).status).toBe(200);
  });
});
