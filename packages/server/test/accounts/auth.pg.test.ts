/**
 * Sign-up, sign-in and sessions: typed errors for every bad input, one answer for a wrong
 * password and an unknown email, the session cookie's attributes, sign-out of one session and
 * of all of them, tokens hashed at rest, and the CSRF guard (JSON bodies only).
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  send,
  setCookie,
  signInAgain,
  signInRaw,
  signUpRaw,
} from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('sign up', () => {
  it('creates an account, answers it and signs in with a session cookie', async () => {
    const mail = email('ada');
    const r = await signUpRaw(h, { email: mail, password: PASSWORD, name: 'Ada Lovelace' });
    const body = ok(r);
    expect(body.account).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: mail,
      name: 'Ada Lovelace',
      email_verified: false,
      two_factor_enabled: false,
      created_at: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
    const me = ok(await browser(h, cookiePair(setCookie(r))).me());
    expect(me.account).toEqual(body.account);
  });

  it('sets an HttpOnly, SameSite=Lax, Path=/ cookie for 30 days; Secure only over https', async () => {
    const r = await signUpRaw(h, { email: email(), password: PASSWORD, name: 'C' });
    const c = setCookie(r);
    const attrs = c.split(';').map((s) => s.trim());
    expect(attrs[0]).toMatch(/^parley_session=[A-Za-z0-9_-]{43}$/);
    expect(attrs).toContain('HttpOnly');
    expect(attrs).toContain('SameSite=Lax');
    expect(attrs).toContain('Path=/');
    expect(attrs).toContain(`Max-Age=${30 * 24 * 3600}`);
    expect(attrs).not.toContain('Secure');

    // X-Forwarded-Proto is not believed from a client (PARLEY_TRUST_PROXY is off): the cookie
    // follows the server's own scheme. With a trusted proxy: test/foundation/proxy.pg.test.ts.
    const viaProxy = await signInRaw(
      h,
      { email: ok(r).account.email, password: PASSWORD },
      { 'x-forwarded-proto': 'https' },
    );
    expect(setCookie(viaProxy).split('; ')).not.toContain('Secure');
  });

  it('treats emails case-insensitively: a taken email in any case is 409 CONFLICT', async () => {
    const mail = email('Grace');
    ok(await signUpRaw(h, { email: mail, password: PASSWORD, name: 'Grace' }));
    expectError(await signUpRaw(h, { email: mail, password: PASSWORD, name: 'Again' }), 'CONFLICT');
    const r = await signUpRaw(h, { email: mail.toUpperCase(), password: `${PASSWORD}!`, name: 'Shouty' });
    expectError(r, 'CONFLICT');
    expect(r.headers['set-cookie']).toBeUndefined();
    // …and signing in works in any case too.
    ok(await signInRaw(h, { email: mail.toUpperCase(), password: PASSWORD }));
  });

  it('refuses bad input with 400 VALIDATION_ERROR and details, and creates nothing', async () => {
    const cases: Record<string, unknown>[] = [
      { email: email(), password: 'short', name: 'Weak' },
      { email: email(), password: '123456789', name: 'Nine' },
      { email: email(), password: 'x'.repeat(201), name: 'Long' },
      { email: 'not-an-email', password: PASSWORD, name: 'Bad' },
      { email: email(), password: PASSWORD, name: '' },
      { email: email(), password: PASSWORD, name: '   ' },
      { email: email(), password: PASSWORD },
      { password: PASSWORD, name: 'No email' },
      { email: email(), password: PASSWORD, name: 'Extra', role: 'admin' },
      { email: email(), password: 1234567890123, name: 'Number' },
    ];
    for (const body of cases) {
      const r = await signUpRaw(h, body);
      expectError(r, 'VALIDATION_ERROR');
      expect(Array.isArray(r.body.error.details), JSON.stringify(r.body)).toBe(true);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    const weak = await signUpRaw(h, { email: email(), password: 'short', name: 'Weak' });
    expect(JSON.stringify(weak.body.error.details)).toContain('/password');
    // Exactly 10 characters is enough; 10 non-ASCII characters count as 10.
    ok(await signUpRaw(h, { email: email(), password: '0123456789', name: 'Ten' }));
    ok(await signUpRaw(h, { email: email(), password: 'ünïcödé✓✓✓', name: 'Unicode' }));
    ok(await signUpRaw(h, { email: email(), password: 'x'.repeat(200), name: 'Max' }));
  });

  it('stores an argon2id hash, never the password', async () => {
    const a = await buildAccount(h, 'Hashy');
    const [row] = await rows<{ password_hash: string }>(
      h.database.db,
      sql`select password_hash from accounts where id = ${a.account.id}`,
    );
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.password_hash).not.toContain(PASSWORD);
  });
});

describe('sign in', () => {
  it('signs in with the right password and starts a new session', async () => {
    const a = await buildAccount(h, 'Bob');
    const second = await signInAgain(h, a);
    expect(second.cookie).not.toBe(a.cookie);
    expect(ok(await second.me()).account.id).toBe(a.account.id);
    expect(ok(await a.me()).account.id).toBe(a.account.id);
  });

  it('answers a wrong password and an unknown email the same: 401 with one message', async () => {
    const a = await buildAccount(h, 'Carol');
    const wrong = await signInRaw(h, { email: a.account.email, password: 'wrong password!' });
    const unknown = await signInRaw(h, { email: email('nobody'), password: 'wrong password!' });
    expectError(wrong, 'UNAUTHORIZED');
    expectError(unknown, 'UNAUTHORIZED');
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.message).toBe('Wrong email or password');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(unknown.headers['set-cookie']).toBeUndefined();
    // A malformed email or a too-short password is a wrong credential too, not a schema error.
    expect((await signInRaw(h, { email: 'nope', password: 'x' })).body).toEqual(wrong.body);
    // Empty fields are a schema error.
    expectError(await signInRaw(h, { email: a.account.email, password: '' }), 'VALIDATION_ERROR');
  });

  it('spends about the same time on an unknown email as on a wrong password', async () => {
    // Two accounts, so that no one of them reaches the lockout (5 failures in a row).
    const accounts = [await buildAccount(h, 'Timing'), await buildAccount(h, 'Timing2')];
    const time = async (mail: string) => {
      const t = performance.now();
      expectError(await signInRaw(h, { email: mail, password: 'wrong password!' }), 'UNAUTHORIZED');
      return performance.now() - t;
    };
    const median = (xs: number[]) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)] as number;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await time((accounts[i % 2] as (typeof accounts)[number]).account.email));
      unknown.push(await time(email('ghost')));
    }
    // Both run one argon2 verification (tens of ms); without the dummy verification the
    // unknown email would answer in a few ms. The bounds are loose on purpose (shared CI).
    const ratio = median(unknown) / median(wrong);
    expect(ratio, `unknown ${median(unknown)}ms vs wrong ${median(wrong)}ms`).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3.5);
  });
});

describe('sessions', () => {
  it('GET /v1/auth/session answers "signed out" as {account: null} with 200, not an error', async () => {
    const a = await buildAccount(h, 'Sessions');
    expect(ok(await browser(h, null).get('/v1/auth/session'))).toEqual({ account: null });
    const made = 'parley_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(ok(await browser(h, made).get('/v1/auth/session'))).toEqual({ account: null });
    expect(ok(await a.get('/v1/auth/session')).account).toEqual(a.account);
    ok(await a.signOut());
    expect(ok(await a.get('/v1/auth/session'))).toEqual({ account: null });
  });

  it('GET /v1/auth/me without a cookie, or with a made-up one, is 401', async () => {
    expectError(await browser(h, null).me(), 'UNAUTHORIZED');
    expectError(await browser(h, 'parley_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').me(), 'UNAUTHORIZED');
    expectError(await browser(h, 'parley_session=not a token').me(), 'UNAUTHORIZED');
    expectError(await browser(h, 'other=1').me(), 'UNAUTHORIZED');
    // The cookie is found among others.
    const a = await buildAccount(h, 'Crumbs');
    ok(await browser(h, `theme=dark; ${a.cookie}; lang=en`).me());
  });

  it('keeps only the SHA-256 of the session token', async () => {
    const a = await buildAccount(h, 'Hashed');
    const token = (a.cookie as string).split('=')[1] as string;
    const stored = await rows<{ token_hash: string }>(
      h.database.db,
      sql`select token_hash from account_sessions where account_id = ${a.account.id}`,
    );
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex') }]);
  });

  it('an expired session is refused', async () => {
    const a = await buildAccount(h, 'Expiring');
    await h.database.db.execute(
      sql`update account_sessions set expires_at = now() - interval '1 second' where account_id = ${a.account.id}`,
    );
    expectError(await a.me(), 'UNAUTHORIZED');
  });

  it('sign out ends this session only and clears the cookie', async () => {
    const a = await buildAccount(h, 'Dan');
    const other = await signInAgain(h, a);
    const r = await a.signOut();
    expect(ok(r)).toEqual({ ok: true });
    const cleared = setCookie(r).split('; ');
    expect(cleared[0]).toBe('parley_session=');
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('HttpOnly');
    expectError(await a.me(), 'UNAUTHORIZED');
    expectError(await a.signOut(), 'UNAUTHORIZED');
    ok(await other.me());
  });

  it('sign out everywhere ends every session of the account, and no one else’s', async () => {
    const a = await buildAccount(h, 'Eve');
    const laptop = await signInAgain(h, a);
    const phone = await signInAgain(h, a);
    const stranger = await buildAccount(h, 'Frank');
    ok(await phone.signOutEverywhere());
    expectError(await a.me(), 'UNAUTHORIZED');
    expectError(await laptop.me(), 'UNAUTHORIZED');
    expectError(await phone.me(), 'UNAUTHORIZED');
    ok(await stranger.me());
    // Signing in again works.
    ok(await (await signInAgain(h, a)).me());
  });
});

describe('CSRF guard: state-changing account endpoints take JSON bodies only', () => {
  it('refuses a form-encoded sign-up, sign-in or sign-out (415)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const mail = email('csrf');
    const up = await send(h, {
      method: 'POST',
      url: '/v1/auth/signup',
      headers: form,
      payload: `email=${encodeURIComponent(mail)}&password=${PASSWORD}&name=X`,
    });
    expectError(up, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await signInRaw(h, { email: mail, password: PASSWORD }), 'UNAUTHORIZED'); // not created

    const a = await buildAccount(h, 'Target');
    const out = await send(h, {
      method: 'POST',
      url: '/v1/auth/signout',
      headers: { ...form, cookie: a.cookie as string },
      payload: 'x=1',
    });
    expectError(out, 'UNSUPPORTED_MEDIA_TYPE');
    ok(await a.me());
  });

  it('refuses text/plain and multipart bodies, and a POST with no body and no Content-Type', async () => {
    const a = await buildAccount(h, 'Target2');
    const cookie = a.cookie as string;
    for (const headers of [
      { 'content-type': 'text/plain', cookie },
      { 'content-type': 'multipart/form-data; boundary=x', cookie },
    ]) {
      expectError(
        await send(h, { method: 'POST', url: '/v1/auth/signout-everywhere', headers, payload: '{}' }),
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }
    // A body-less POST (what `fetch(url, {method: 'POST', credentials: 'include'})` sends).
    expectError(
      await send(h, { method: 'POST', url: '/v1/auth/signout-everywhere', headers: { cookie } }),
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await send(h, {
        method: 'POST',
        url: '/v1/workspaces',
        headers: { cookie, 'content-type': 'text/plain' },
        payload: '{"name":"x"}',
      }),
      'UNSUPPORTED_MEDIA_TYPE',
    );
    ok(await a.me());
    expect(ok(await a.workspaces()).workspaces).toEqual([]);
  });

  it('refuses requests a browser marks as cross-site (Sec-Fetch-Site), even with JSON', async () => {
    const a = await buildAccount(h, 'Target3');
    const r = await send(h, {
      method: 'POST',
      url: '/v1/workspaces',
      headers: { cookie: a.cookie as string, 'sec-fetch-site': 'cross-site' },
      payload: { name: 'Evil' },
    });
    expectError(r, 'FORBIDDEN');
    expect(ok(await a.workspaces()).workspaces).toEqual([]);
    // Same-origin requests pass.
    const same = await send(h, {
      method: 'POST',
      url: '/v1/workspaces',
      headers: { cookie: a.cookie as string, 'sec-fetch-site': 'same-origin', origin: ORIGIN },
      payload: { name: 'Fine' },
    });
    ok(same);
  });

  it('accepts application/json with a charset', async () => {
    const r = await send(h, {
      method: 'POST',
      url: '/v1/auth/signup',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ email: email(), password: PASSWORD, name: 'Charset' }),
    });
    ok(r);
  });
});
