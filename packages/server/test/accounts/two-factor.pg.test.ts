/**
 * Two-factor sign-in through the public API on a real database: setup (password, otpauth URI,
 * QR code, the secret sealed at rest), confirmation by a first code, backup codes (shown once,
 * hashed, single-use), the challenge of sign-in's second step, replay of a TOTP code within
 * its window, wrong codes counted by the lockout, and turning it off. Codes are computed here
 * with otplib for the time of an injected clock, which the tests move: nothing waits.
 */
import { sql } from 'drizzle-orm';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness } from '../harness.js';
import {
  type Browser,
  browser,
  buildAccount,
  cookiePair,
  expectError,
  ok,
  PASSWORD,
  send,
  setCookie,
  signInRaw,
} from './helpers.js';

let now = Date.parse('2026-11-22T12:00:00Z');
const clock = () => now;
const STEP = 30_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    {
      signin: {
        perIp: 100_000,
        perAccount: 100_000,
        windowMs: 60_000,
        lockAfter: 3,
        lockBaseMs: 60_000,
        lockMaxMs: 3600_000,
        mailPerWindow: 100_000,
        mailWindowMs: 60_000,
        signupPerIp: 100_000,
        signupPerAddress: 100_000,
        signupWindowMs: 60_000,
      },
    },
    { clock },
  );
});
afterAll(async () => {
  await h?.close();
});

/** The TOTP code of `secret` at the clock's time (or `at`). */
const totp = (secret: string, at = now) => generate({ secret, epoch: Math.floor(at / 1000) });
/** A code that none of the windows the server takes (one step either side of now) shows. */
async function wrongCode(secret: string): Promise<string> {
  const taken = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totp(secret, now + d))));
  let n = 0;
  while (taken.has(String(n).padStart(6, '0'))) n++;
  return String(n).padStart(6, '0');
}

/** Move to the start of a fresh 30-second step, so a new code exists. */
const nextStep = () => {
  now = (Math.floor(now / STEP) + 1) * STEP + 1000;
};

const signIn = (mail: string, password = PASSWORD) => signInRaw(h, { email: mail, password });
const second = (challenge: string, code: string) =>
  send(h, { method: 'POST', url: '/v1/auth/signin/2fa', payload: { challenge, code } });

/** Sign up, set up and turn on 2FA; returns the browser, the secret and the backup codes. */
async function withTwoFactor(name: string): Promise<{ who: Browser; secret: string; codes: string[] }> {
  const who = await buildAccount(h, name);
  const setup = ok(await who.post('/v1/auth/2fa/setup', { password: PASSWORD }));
  const { backup_codes } = ok(await who.post('/v1/auth/2fa/enable', { code: await totp(setup.secret) }));
  return { who, secret: setup.secret, codes: backup_codes };
}

/** The first step: the password, answered with a challenge (and no cookie). */
async function challengeOf(mail: string): Promise<string> {
  const r = await signIn(mail);
  const body = ok(r);
  expect(body).toMatchObject({ two_factor_required: true, challenge: expect.any(String) });
  expect(r.headers['set-cookie']).toBeUndefined();
  return body.challenge;
}

describe('setup', () => {
  it('needs the password, and answers a secret, its otpauth URI and a QR code; sealed at rest', async () => {
    const ada = await buildAccount(h, 'Ada');
    const wrong = await ada.post('/v1/auth/2fa/setup', { password: 'not my password' });
    expectError(wrong, 'FORBIDDEN');
    expectError(await browser(h, null).post('/v1/auth/2fa/setup', { password: PASSWORD }), 'UNAUTHORIZED');

    const setup = ok(await ada.post('/v1/auth/2fa/setup', { password: PASSWORD }));
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Parley:/);
    expect(setup.otpauth_uri).toContain(`secret=${setup.secret}`);
    expect(setup.otpauth_uri).toContain(encodeURIComponent(ada.account.email));
    expect(setup.qr_code).toMatch(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(setup.qr_code.split(',')[1], 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    // Not in force yet: sign-in still takes the password alone.
    expect(ok(await ada.get('/v1/auth/2fa'))).toEqual({ enabled: false, enabled_at: null, backup_codes_left: 0 });
    expect(ok(await signIn(ada.account.email)).account).toMatchObject({ two_factor_enabled: false });

    // The secret is sealed (AES-GCM, `v1.…`), never stored as is.
    const [row] = await rows<{ pending: string | null; secret: string | null }>(
      h.database.db,
      sql`select two_factor_pending_sealed as pending, two_factor_secret_sealed as secret from accounts where id = ${ada.account.id}`,
    );
    expect(row?.pending).toMatch(/^v1\./);
    expect(row?.pending).not.toContain(setup.secret);
    expect(row?.secret).toBeNull();
  });

  it('is confirmed by a first code only; answers ten backup codes once, stored hashed', async () => {
    const bo = await buildAccount(h, 'Bo');
    expectError(await bo.post('/v1/auth/2fa/enable', { code: '123456' }), 'CONFLICT'); // no setup yet
    const setup = ok(await bo.post('/v1/auth/2fa/setup', { password: PASSWORD }));
    const wrong = await bo.post('/v1/auth/2fa/enable', { code: ((Number(await totp(setup.secret)) + 1) % 1e6) + '' });
    expectError(wrong, 'FORBIDDEN');
    expect(wrong.body.error.details).toEqual({ reason: 'wrong_code' });
    expectError(await bo.post('/v1/auth/2fa/enable', { code: 'abcdef' }), 'FORBIDDEN');

    const { backup_codes } = ok(await bo.post('/v1/auth/2fa/enable', { code: await totp(setup.secret) }));
    expect(backup_codes).toHaveLength(10);
    expect(new Set(backup_codes).size).toBe(10);
    for (const c of backup_codes)
      expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    const stored = await rows<{ code_hash: string }>(
      h.database.db,
      sql`select code_hash from account_backup_codes where account_id = ${bo.account.id}`,
    );
    expect(stored).toHaveLength(10);
    for (const r of stored) for (const c of backup_codes) expect(r.code_hash).not.toContain(c.replaceAll('-', ''));

    expect(ok(await bo.get('/v1/auth/2fa'))).toMatchObject({ enabled: true, backup_codes_left: 10 });
    expect(ok(await bo.me()).account.two_factor_enabled).toBe(true);
    // On already: no second setup, no second enable.
    expectError(await bo.post('/v1/auth/2fa/setup', { password: PASSWORD }), 'CONFLICT');
    expectError(await bo.post('/v1/auth/2fa/enable', { code: await totp(setup.secret) }), 'CONFLICT');
  });

  it('refuses bad input with typed errors', async () => {
    const cy = await buildAccount(h, 'Cy');
    expectError(await cy.post('/v1/auth/2fa/setup', {}), 'VALIDATION_ERROR');
    expectError(await cy.post('/v1/auth/2fa/enable', { code: 'a\u0000b' }), 'VALIDATION_ERROR');
    expectError(await cy.post('/v1/auth/2fa/disable', {}), 'VALIDATION_ERROR');
    expectError(await cy.post('/v1/auth/2fa/enable', { code: 123456 }), 'VALIDATION_ERROR');
    expectError(await second('x', '\ud800'), 'VALIDATION_ERROR');
    expectError(await cy.post('/v1/auth/2fa/backup-codes', { password: PASSWORD }), 'CONFLICT'); // 2FA is off
  });
});

describe('sign-in with two factors', () => {
  it('answers a challenge; a TOTP code signs in, once: no replay within its window', async () => {
    const { who, secret } = await withTwoFactor('Di');
    const mail = who.account.email;
    // The code that confirmed the setup cannot sign in: its step is used.
    const replayed = await second(await challengeOf(mail), await totp(secret));
    expectError(replayed, 'UNAUTHORIZED');
    expect(replayed.body.error.details).toEqual({ reason: 'wrong_code' });

    nextStep();
    const code = await totp(secret);
    const challenge = await challengeOf(mail);
    const done = await second(challenge, code);
    expect(ok(done).account).toMatchObject({ id: who.account.id, two_factor_enabled: true });
    const cookie = cookiePair(setCookie(done));
    ok(await browser(h, cookie).me());

    // The same code again, 10 seconds later (same window), with a fresh challenge: refused.
    now += 10_000;
    const again = await second(await challengeOf(mail), code);
    expect(again.body.error).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'wrong_code' } });
    // The challenge worked once.
    expect((await second(challenge, code)).body.error.details).toEqual({ reason: 'invalid_challenge' });
  });

  it('refuses unknown, malformed and expired challenges alike', async () => {
    const { who, secret } = await withTwoFactor('Ed');
    for (const bad of ['A'.repeat(43), 'nope', `${await challengeOf(who.account.email)}x`]) {
      const r = await second(bad, '000000');
      expectError(r, 'UNAUTHORIZED');
      expect(r.body.error.details).toEqual({ reason: 'invalid_challenge' });
    }
    const challenge = await challengeOf(who.account.email);
    now += 5 * 60_000 + 1000; // past the challenge's 5 minutes
    const late = await second(challenge, await totp(secret));
    expect(late.body.error).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'invalid_challenge' } });
  });

  it('a wrong code keeps the challenge; a backup code signs in once, in any case and spacing', async () => {
    const { who, secret, codes } = await withTwoFactor('Flo');
    nextStep();
    const challenge = await challengeOf(who.account.email);
    expectError(await second(challenge, await wrongCode(secret)), 'UNAUTHORIZED');
    const backup = (codes[3] as string).toUpperCase().replace(/-/g, ' ');
    ok(await second(challenge, backup)); // the same challenge, after a wrong code
    const reused = await second(await challengeOf(who.account.email), codes[3] as string);
    expect(reused.body.error.details).toEqual({ reason: 'wrong_code' });
    expect(ok(await who.get('/v1/auth/2fa')).backup_codes_left).toBe(9);
    // A TOTP code still works beside them.
    ok(await second(await challengeOf(who.account.email), await totp(secret)));
  });

  it('counts wrong codes toward the lockout; a right password does not clear them', async () => {
    const { who, secret } = await withTwoFactor('Gil');
    const mail = who.account.email;
    nextStep();
    expectError(await second(await challengeOf(mail), '111111'), 'UNAUTHORIZED');
    expectError(await second(await challengeOf(mail), '222222'), 'UNAUTHORIZED');
    const locked = await second(await challengeOf(mail), '333333'); // the third failure in a row
    expectError(locked, 'ACCOUNT_LOCKED');
    expect(locked.body.error.details.retry_after_ms).toBe(60_000);
    // Locked: the password step and the code step are both refused, a right code too.
    expectError(await signIn(mail), 'ACCOUNT_LOCKED');
    now += 61_000;
    const challenge = await challengeOf(mail);
    ok(await second(challenge, await totp(secret)));
    // Success cleared the run: one wrong code is just a wrong code again.
    nextStep();
    expectError(await second(await challengeOf(mail), '444444'), 'UNAUTHORIZED');
  });

  it('a newer challenge retires the older; two second steps racing with one challenge: one signs in', async () => {
    const { who, secret } = await withTwoFactor('Hal');
    nextStep();
    const older = await challengeOf(who.account.email);
    const challenge = await challengeOf(who.account.email);
    expect((await second(older, await totp(secret))).body.error.details).toEqual({ reason: 'invalid_challenge' });
    const code = await totp(secret);
    const results = await Promise.all([second(challenge, code), second(challenge, code)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });
});

describe('turning it off and new backup codes', () => {
  it('needs the password or a current code; afterwards the password alone signs in', async () => {
    const { who, secret, codes } = await withTwoFactor('Ivy');
    const wrong = await who.post('/v1/auth/2fa/disable', {
      password: 'not my password',
      code: await wrongCode(secret),
    });
    expectError(wrong, 'FORBIDDEN');
    expect(wrong.body.error.details).toEqual({ reason: 'wrong_code' });

    // New backup codes with a TOTP code: the old ones stop working.
    nextStep();
    const fresh = ok(await who.post('/v1/auth/2fa/backup-codes', { code: await totp(secret) })).backup_codes;
    expect(fresh).toHaveLength(10);
    expect((await second(await challengeOf(who.account.email), codes[0] as string)).status).toBe(401);
    ok(await second(await challengeOf(who.account.email), fresh[0]));

    ok(await who.post('/v1/auth/2fa/disable', { code: fresh[1] }));
    expect(ok(await who.get('/v1/auth/2fa'))).toEqual({ enabled: false, enabled_at: null, backup_codes_left: 0 });
    const plain = ok(await signIn(who.account.email));
    expect(plain.account).toMatchObject({ two_factor_enabled: false });
    const left = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from account_backup_codes where account_id = ${who.account.id}`,
    );
    expect(left[0]?.n).toBe(0);
  });

  it('with the password, too', async () => {
    const { who } = await withTwoFactor('Jo');
    ok(await who.post('/v1/auth/2fa/disable', { password: PASSWORD }));
    expect(ok(await who.me()).account.two_factor_enabled).toBe(false);
  });
});
