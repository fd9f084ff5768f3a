/**
 * Mail, password reset, email verification, change of email and sign-in protection, through
 * the public API on a real database, with a real SMTP server (smtp-server) receiving the mail.
 * Time that matters (token expiry, lockout) comes from an injected clock that the tests move:
 * nothing here waits for time to pass.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { eventually, type Harness, startHarness } from '../harness.js';
import {
  browser,
  buildAccount,
  cookiePair,
  email,
  expectError,
  ok,
  PASSWORD,
  send,
  setCookie,
  signInRaw,
  signUpRaw,
} from './helpers.js';
import { linkToken, startSmtp, type TestSmtp } from './smtp.js';

const PUBLIC = 'https://chat.example.test';
let now = Date.parse('2026-11-22T12:00:00Z');
const clock = () => now;
const MIN = 60_000;

let smtp: TestSmtp;
let h: Harness;
beforeAll(async () => {
  smtp = await startSmtp();
  h = await startHarness(
    {
      smtpUrl: smtp.url,
      publicUrl: PUBLIC,
      mailFrom: 'Parley <noreply@chat.example.test>',
      signin: {
        perIp: 1000,
        perAccount: 1000,
        windowMs: 60_000,
        lockAfter: 3,
        lockBaseMs: MIN,
        lockMaxMs: 60 * MIN,
        mailPerWindow: 1000,
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
  await smtp?.close();
});

const post = (url: string, payload: unknown, remoteAddress?: string) =>
  send(h, { method: 'POST', url, payload: payload as object, ...(remoteAddress ? { remoteAddress } : {}) });
const forgot = (mail: string) => post('/v1/auth/password/forgot', { email: mail });
const reset = (token: string, new_password: string) => post('/v1/auth/password/reset', { token, new_password });

/** Ask for a reset link and return its token, read from the mail the SMTP server got. */
async function resetToken(mail: string): Promise<string> {
  const since = smtp.mails.length;
  ok(await forgot(mail));
  return linkToken(await smtp.waitFor(mail, { subject: /Reset your Parley password/, since }));
}

describe('mailer and options', () => {
  it('says mail is sent over SMTP and verification is optional', async () => {
    expect(ok(await send(h, { method: 'GET', url: '/v1/auth/options' }))).toEqual({
      email_delivery: 'smtp',
      email_verification_required: false,
      password_min_length: 10,
      oidc: null,
    });
  });

  it('mails a verification link on sign-up, from the configured sender, to the public URL', async () => {
    const ada = await buildAccount(h, 'Ada');
    expect(ada.account).toMatchObject({ email_verified: false });
    const m = await smtp.waitFor(ada.account.email, { subject: /Confirm your email/ });
    expect(m.from).toBe('noreply@chat.example.test');
    expect(m.text).toContain(`${PUBLIC}/verify-email?token=`);
  });
});

describe('password reset', () => {
  it('answers an unknown email exactly like a known one, and mails only the known one', async () => {
    const ada = await buildAccount(h, 'Ada');
    const ghost = email('ghost');
    const a = await forgot(ghost);
    const b = await forgot(ada.account.email.toUpperCase());
    expect(a.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(a.body).toEqual({ ok: true });
    await h.server.svc.mailer.settled();
    expect(smtp.to(ghost)).toEqual([]);
    const mail = await smtp.waitFor(ada.account.email, { subject: /Reset your Parley password/ });
    expect(mail.text).toContain(`${PUBLIC}/reset-password?token=`);
  });

  it('sets the new password, ends every session, and works once', async () => {
    const bob = await buildAccount(h, 'Bob');
    const other = browser(
      h,
      cookiePair(setCookie(await signInRaw(h, { email: bob.account.email, password: PASSWORD }))),
    );
    const token = await resetToken(bob.account.email);
    // Stored hashed: the token itself is nowhere in the database.
    const stored = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from account_tokens where token_hash = ${token}`,
    );
    expect(stored[0]?.n).toBe(0);

    ok(await reset(token, 'a brand new passphrase'));
    expectError(await bob.me(), 'UNAUTHORIZED');
    expectError(await other.me(), 'UNAUTHORIZED');
    expectError(await signInRaw(h, { email: bob.account.email, password: PASSWORD }), 'UNAUTHORIZED');
    ok(await signInRaw(h, { email: bob.account.email, password: 'a brand new passphrase' }));

    const again = await reset(token, 'another new passphrase');
    expectError(again, 'FORBIDDEN');
    expect(again.body.error.details).toEqual({ reason: 'invalid_token' });
  });

  it('refuses expired, unknown, malformed and superseded tokens alike', async () => {
    const cy = await buildAccount(h, 'Cy');
    const first = await resetToken(cy.account.email);
    const second = await resetToken(cy.account.email);
    for (const bad of [first, 'A'.repeat(43), 'not a token', `${second}x`]) {
      const r = await reset(bad, 'a brand new passphrase');
      expectError(r, 'FORBIDDEN');
      expect(r.body.error.details).toEqual({ reason: 'invalid_token' });
    }
    now += 31 * MIN; // past the 30 minutes of a reset link
    expectError(await reset(second, 'a brand new passphrase'), 'FORBIDDEN');
    ok(await cy.me()); // nothing changed
    ok(await signInRaw(h, { email: cy.account.email, password: PASSWORD }));
  });

  it('keeps the token usable when the new password breaks the policy', async () => {
    const di = await buildAccount(h, 'Di');
    const token = await resetToken(di.account.email);
    const breached = await reset(token, 'qwertyuiop');
    expectError(breached, 'VALIDATION_ERROR');
    expect(breached.body.error.details).toEqual({ reason: 'breached' });
    const reused = await reset(token, PASSWORD);
    expectError(reused, 'VALIDATION_ERROR');
    expect(reused.body.error.details).toEqual({ reason: 'reused' });
    expectError(await reset(token, 'short'), 'VALIDATION_ERROR');
    ok(await reset(token, 'fresh and unused words'));
  });

  it('two resets racing with one token: exactly one wins', async () => {
    const ed = await buildAccount(h, 'Ed');
    const token = await resetToken(ed.account.email);
    const [a, b] = await Promise.all([
      reset(token, 'first racing passphrase'),
      reset(token, 'second racing passphrase'),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 403]);
  });
});

describe('password policy', () => {
  it('refuses breached passwords and the email as a password on sign-up', async () => {
    const breached = await signUpRaw(h, { email: email(), password: 'Password123', name: 'P' });
    expectError(breached, 'VALIDATION_ERROR');
    expect(breached.body.error.details).toEqual({ reason: 'breached' });
    const mail = email('samesame');
    const same = await signUpRaw(h, { email: mail, password: mail.toUpperCase(), name: 'S' });
    expect(same.body.error.details).toEqual({ reason: 'email' });
  });

  it('refuses the last passwords on change, and accepts an older one', async () => {
    const fay = await buildAccount(h, 'Fay');
    const change = (current: string, next: string) =>
      fay.post('/v1/auth/password', { current_password: current, new_password: next });
    const r = await change(PASSWORD, PASSWORD);
    expect(r.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { reason: 'reused' } });
    let current = PASSWORD;
    for (let i = 1; i <= 5; i++) {
      ok(await change(current, `history number ${i}`));
      current = `history number ${i}`;
    }
    // The last five were numbers 1–5; the first password is out of the history now.
    expect((await change(current, 'history number 2')).body.error.details).toEqual({ reason: 'reused' });
    ok(await change(current, PASSWORD));
    await h.server.svc.mailer.settled();
    expect(smtp.to(fay.account.email).some((m) => /password was changed/.test(m.subject))).toBe(true);
  });
});

describe('email verification', () => {
  it('verifies with the mailed token, once', async () => {
    const gus = await buildAccount(h, 'Gus');
    const token = linkToken(await smtp.waitFor(gus.account.email, { subject: /Confirm your email/ }));
    ok(await post('/v1/auth/email/verify', { token }));
    expect(ok(await gus.me()).account.email_verified).toBe(true);
    expectError(await post('/v1/auth/email/verify', { token }), 'FORBIDDEN');
    // A reset token is not a verification token, and the other way round.
    const resetTok = await resetToken(gus.account.email);
    expectError(await post('/v1/auth/email/verify', { token: resetTok }), 'FORBIDDEN');
    expectError(await reset(token, 'any new passphrase'), 'FORBIDDEN');
  });

  it('sends a new link on request, and none once verified', async () => {
    const hal = await buildAccount(h, 'Hal');
    await smtp.waitFor(hal.account.email, { subject: /Confirm your email/ });
    const since = smtp.mails.length;
    ok(await hal.post('/v1/auth/email/verification', {}));
    const token = linkToken(await smtp.waitFor(hal.account.email, { subject: /Confirm your email/, since }));
    ok(await post('/v1/auth/email/verify', { token }));
    const after = smtp.mails.length;
    ok(await hal.post('/v1/auth/email/verification', {}));
    await h.server.svc.mailer.settled();
    expect(smtp.mails.slice(after).filter((m) => m.to.includes(hal.account.email.toLowerCase()))).toEqual([]);
  });
});

describe('change of email', () => {
  it('changes only when the new address confirms, and tells the old one', async () => {
    const ivy = await buildAccount(h, 'Ivy');
    const next = email('ivy.new');
    expectError(await ivy.post('/v1/auth/email/change', { new_email: next, password: 'wrong password' }), 'FORBIDDEN');
    ok(await ivy.post('/v1/auth/email/change', { new_email: next, password: PASSWORD }));
    const notice = await smtp.waitFor(ivy.account.email, { subject: /about to change/ });
    expect(notice.text).toContain(next);
    expect(ok(await ivy.me()).account.email).toBe(ivy.account.email); // not yet
    const token = linkToken(await smtp.waitFor(next, { subject: /Confirm your new email/ }));
    ok(await post('/v1/auth/email/confirm', { token }));
    expect(ok(await ivy.me()).account).toMatchObject({ email: next, email_verified: true });
    expectError(await post('/v1/auth/email/confirm', { token }), 'FORBIDDEN');
    ok(await signInRaw(h, { email: next, password: PASSWORD }));
    expectError(await signInRaw(h, { email: ivy.account.email, password: PASSWORD }), 'UNAUTHORIZED');
  });

  it('answers a taken address like a free one, and mails it no link', async () => {
    const jo = await buildAccount(h, 'Jo');
    const kim = await buildAccount(h, 'Kim');
    const free = await jo.post('/v1/auth/email/change', { new_email: email('jo.free'), password: PASSWORD });
    const taken = await jo.post('/v1/auth/email/change', { new_email: kim.account.email, password: PASSWORD });
    expect(taken.status).toBe(200);
    expect(taken.body).toEqual(free.body);
    const m = await smtp.waitFor(kim.account.email, { subject: /Confirm your new email/ });
    expect(m.text).toContain('already belongs to an account');
    expect(() => linkToken(m)).toThrow();
  });

  it('refuses the same address and a malformed one', async () => {
    const lu = await buildAccount(h, 'Lu');
    const same = await lu.post('/v1/auth/email/change', { new_email: lu.account.email, password: PASSWORD });
    expect(same.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { reason: 'same_email' } });
    expectError(await lu.post('/v1/auth/email/change', { new_email: 'nope', password: PASSWORD }), 'VALIDATION_ERROR');
  });
});

describe('lockout', () => {
  const wrong = (mail: string) => signInRaw(h, { email: mail, password: 'not the password' });

  it('locks after 3 failures with the time left, refuses even the right password, and mails the owner', async () => {
    const max = await buildAccount(h, 'Max');
    const mail = max.account.email;
    expectError(await wrong(mail), 'UNAUTHORIZED');
    expectError(await wrong(mail), 'UNAUTHORIZED');
    const third = await wrong(mail);
    expectError(third, 'ACCOUNT_LOCKED');
    expect(third.body.error.details).toEqual({
      retry_after_ms: MIN,
      locked_until: new Date(now + MIN).toISOString(),
    });
    expect(third.headers['set-cookie']).toBeUndefined();
    const lockMail = await smtp.waitFor(mail, { subject: /was locked/ });
    expect(lockMail.text).toContain(`${PUBLIC}/forgot-password`);

    now += 20_000;
    const right = await signInRaw(h, { email: mail, password: PASSWORD });
    expectError(right, 'ACCOUNT_LOCKED');
    expect(right.body.error.details.retry_after_ms).toBe(40_000);
    expect(right.headers['set-cookie']).toBeUndefined();

    now += 40_000; // the lock is over
    ok(await signInRaw(h, { email: mail, password: PASSWORD }));
    // A success ends the run: two more failures do not lock.
    expectError(await wrong(mail), 'UNAUTHORIZED');
    expectError(await wrong(mail), 'UNAUTHORIZED');
    ok(await signInRaw(h, { email: mail, password: PASSWORD }));
  });

  it('doubles the lock each time failures go on after one', async () => {
    const ned = await buildAccount(h, 'Ned');
    const mail = ned.account.email;
    const lengths: number[] = [];
    for (let round = 0; round < 3; round++) {
      await wrong(mail);
      await wrong(mail);
      const r = await wrong(mail);
      expectError(r, 'ACCOUNT_LOCKED');
      lengths.push(r.body.error.details.retry_after_ms);
      // Tries while locked are not counted.
      expectError(await wrong(mail), 'ACCOUNT_LOCKED');
      now += r.body.error.details.retry_after_ms;
    }
    expect(lengths).toEqual([MIN, 2 * MIN, 4 * MIN]);
  });

  it('is lifted by a password reset', async () => {
    const oz = await buildAccount(h, 'Oz');
    for (let i = 0; i < 3; i++) await wrong(oz.account.email);
    expectError(await signInRaw(h, { email: oz.account.email, password: PASSWORD }), 'ACCOUNT_LOCKED');
    ok(await reset(await resetToken(oz.account.email), 'unlocked by the mailbox'));
    ok(await signInRaw(h, { email: oz.account.email, password: 'unlocked by the mailbox' }));
  });

  it('answers an unknown email exactly as a known one, step by step, locks and doubling included', async () => {
    // Once an unknown email answered 401 for ever while a known one locked: who had an account
    // showed in lockAfter + 1 tries. Now both run the same states, statuses, bodies and headers.
    const known = (await buildAccount(h, 'Quinn')).account.email;
    const unknown = email('ghost');
    const volatile = new Set(['date', 'x-request-id']);
    const shape = (r: Awaited<ReturnType<typeof wrong>>) => ({
      status: r.status,
      body: r.body,
      headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => !volatile.has(k))),
    });
    const seen: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        const a = shape(await wrong(known));
        const b = shape(await wrong(unknown));
        expect(b, `round ${round} try ${i}: ${JSON.stringify(a.body)} vs ${JSON.stringify(b.body)}`).toEqual(a);
        seen.push(a.status);
      }
      // Another case names the same address, for either.
      expect(shape(await wrong(unknown.toUpperCase()))).toEqual(shape(await wrong(known.toUpperCase())));
      const left = (await wrong(known)).body.error.details.retry_after_ms;
      expect((await wrong(unknown)).body.error.details.retry_after_ms).toBe(left);
      now += left; // the lock is over: failures go on counting, and the next lock is twice as long
    }
    expect(seen).toEqual([401, 401, 423, 423, 401, 401, 423, 423, 401, 401, 423, 423]);
  });

  it('an unknown email that was locked and then signs up starts clean', async () => {
    const addr = email('later');
    for (let i = 0; i < 3; i++) await wrong(addr);
    expectError(await wrong(addr), 'ACCOUNT_LOCKED');
    const up = await post('/v1/auth/signup', { email: addr, password: PASSWORD, name: 'Later' });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    ok(await signInRaw(h, { email: addr, password: PASSWORD }));
  });
});

describe('rate limits and required verification (a second server)', () => {
  let h2: Harness;
  beforeAll(async () => {
    h2 = await startHarness(
      {
        smtpUrl: smtp.url,
        publicUrl: PUBLIC,
        requireEmailVerification: true,
        signin: {
          perIp: 4,
          perAccount: 3,
          windowMs: 60_000,
          lockAfter: 0,
          lockBaseMs: MIN,
          lockMaxMs: MIN,
          mailPerWindow: 2,
          mailWindowMs: 60_000,
          signupPerIp: 3,
          signupPerAddress: 2,
          signupWindowMs: 60_000,
        },
      },
      { clock },
    );
  });
  afterAll(async () => {
    await h2?.close();
  });
  const signin = (mail: string, ip: string) =>
    send(h2, { method: 'POST', url: '/v1/auth/signin', payload: { email: mail, password: 'x' }, remoteAddress: ip });

  it('limits sign-ups per IP and per address, taken or not', async () => {
    const up = (mail: string, ip: string) =>
      send(h2, {
        method: 'POST',
        url: '/v1/auth/signup',
        payload: { email: mail, password: PASSWORD, name: 'Up' },
        remoteAddress: ip,
      });
    for (let i = 0; i < 3; i++) expect((await up(email('up'), '10.0.9.1')).status).toBe(200);
    const fourth = await up(email('up'), '10.0.9.1');
    expectError(fourth, 'RATE_LIMITED');
    expect(fourth.body.error.details.retry_after_ms).toBeGreaterThan(0);
    expect(fourth.headers['retry-after']).toBeDefined();
    expect((await up(email('up'), '10.0.9.2')).status).toBe(200); // another IP is not held back
    // One address, from many IPs: the third try is refused whether the address is taken or not.
    const taken = email('taken');
    const free = email('free');
    expect((await up(taken, '10.0.9.3')).status).toBe(200);
    const again = await up(taken, '10.0.9.4');
    expect((await up(free, '10.0.9.5')).status).toBe(200);
    expect((await up(free, '10.0.9.6')).status).toBe(again.status);
    expectError(await up(taken, '10.0.9.7'), 'RATE_LIMITED');
    expectError(await up(free, '10.0.9.8'), 'RATE_LIMITED');
  });

  it('limits sign-in attempts per IP, whatever the email', async () => {
    for (let i = 0; i < 4; i++) expectError(await signin(email(), '10.0.0.1'), 'UNAUTHORIZED');
    const r = await signin(email(), '10.0.0.1');
    expectError(r, 'RATE_LIMITED');
    expect(r.body.error.details.retry_after_ms).toBeGreaterThan(0);
    expectError(await signin(email(), '10.0.0.2'), 'UNAUTHORIZED'); // another IP is not held back
  });

  it('limits sign-in attempts per email, whatever the IP', async () => {
    const mail = email('target');
    for (let i = 0; i < 3; i++) expectError(await signin(mail, `10.1.0.${i}`), 'UNAUTHORIZED');
    expectError(await signin(mail.toUpperCase(), '10.1.0.9'), 'RATE_LIMITED');
  });

  it('limits reset mails per address', async () => {
    const mail = email('flood');
    const f = () => send(h2, { method: 'POST', url: '/v1/auth/password/forgot', payload: { email: mail } });
    ok(await f());
    ok(await f());
    expectError(await f(), 'RATE_LIMITED');
  });

  it('with verification required: no session until the mailed link is followed', async () => {
    const mail = email('strict');
    expect(ok(await send(h2, { method: 'GET', url: '/v1/auth/options' })).email_verification_required).toBe(true);
    const r = await send(h2, {
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: mail, password: PASSWORD, name: 'Strict' },
    });
    expect(ok(r).account.email_verified).toBe(false);
    expect(r.headers['set-cookie']).toBeUndefined();
    const ip = '10.9.0.1';
    const signinRight = () =>
      send(h2, {
        method: 'POST',
        url: '/v1/auth/signin',
        payload: { email: mail, password: PASSWORD },
        remoteAddress: ip,
      });
    const refused = await signinRight();
    expectError(refused, 'FORBIDDEN');
    expect(refused.body.error.details).toEqual({ reason: 'email_unverified' });
    const token = linkToken(await smtp.waitFor(mail, { subject: /Confirm your email/ }));
    ok(await send(h2, { method: 'POST', url: '/v1/auth/email/verify', payload: { token } }));
    const done = await signinRight();
    expect(ok(done).account.email_verified).toBe(true);
    setCookie(done);
  });
});

describe('without SMTP, and with a failing or slow SMTP server', () => {
  it('writes mail to the log, and says so in the options', async () => {
    const lines: string[] = [];
    const h3 = await startHarness({ logLevel: 'warn' }, { logStream: { write: (s: string) => void lines.push(s) } });
    try {
      expect(ok(await send(h3, { method: 'GET', url: '/v1/auth/options' })).email_delivery).toBe('log');
      const ada = await buildAccount(h3, 'Ada');
      ok(await send(h3, { method: 'POST', url: '/v1/auth/password/forgot', payload: { email: ada.account.email } }));
      await h3.server.svc.mailer.settled();
      const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.mail?.subject === 'Reset your Parley password');
      expect(logged).toHaveLength(1);
      expect(logged[0].mail.text).toContain('/reset-password?token=');
    } finally {
      await h3.close();
    }
  });

  it('logs a mail that could not be delivered, with its recipient, and still answers', async () => {
    const dead = await startSmtp();
    const url = dead.url;
    await dead.close(); // nothing listens there now
    const lines: string[] = [];
    const h4 = await startHarness(
      { smtpUrl: url, logLevel: 'warn' },
      { logStream: { write: (s: string) => void lines.push(s) } },
    );
    try {
      const ada = await buildAccount(h4, 'Ada');
      ok(await send(h4, { method: 'POST', url: '/v1/auth/password/forgot', payload: { email: ada.account.email } }));
      // Queued, tried, and kept for a retry (test/accounts/mail-queue.pg.test.ts follows it).
      const failed = () =>
        lines
          .map((l) => JSON.parse(l))
          .filter((l) => l.msg === 'mail not sent yet: will try again')
          .some((l) => l.to === ada.account.email && l.job === 'password reset' && l.attempt === 1);
      await eventually(failed, 15_000);
    } finally {
      await h4.close();
    }
  });

  it('answers before a slow SMTP server has taken the mail', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = await startSmtp({ hold: gate });
    const h5 = await startHarness({ smtpUrl: slow.url });
    try {
      const ada = await buildAccount(h5, 'Ada');
      ok(await send(h5, { method: 'POST', url: '/v1/auth/password/forgot', payload: { email: ada.account.email } }));
      expect(slow.to(ada.account.email)).toEqual([]); // answered, mail still held by the server
      release();
      await slow.waitFor(ada.account.email, { subject: /Reset your Parley password/ });
    } finally {
      release();
      await h5.close();
      await slow.close();
    }
  });
});
