/**
 * A sign-in never tells whether an address has an account: a known and an unknown address,
 * driven side by side past every limit — the per-email budget, the per-IP budget, the lockout
 * and its doubling up to the cap — get the same status, body and headers on every attempt.
 *
 * Each address tries from an IP of its own, so their per-IP budgets are spent alike. The limits
 * are small (the per-email budget above the lockout, as in docs/security.md) and the server's
 * clock is injected: the rate limiter and the lockout both read it, so `retry_after_ms` and
 * `Retry-After` are exact, and moving it ends locks and windows without waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { buildAccount, email, type Res, send } from './helpers.js';

const MIN = 60_000;
const WINDOW = 10 * MIN;
let now = Date.parse('2026-12-01T09:00:00Z');
let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    {
      signin: {
        perIp: 9,
        perAccount: 6,
        windowMs: WINDOW,
        lockAfter: 2,
        lockBaseMs: MIN,
        lockMaxMs: 4 * MIN,
        mailPerWindow: 1000,
        mailWindowMs: WINDOW,
        signupPerIp: 1000,
        signupPerAddress: 1000,
        signupWindowMs: WINDOW,
      },
    },
    { clock: () => now },
  );
});
afterAll(async () => h?.close());

/** What an answer shows: all of it, but the headers that differ between any two requests. */
const shape = (r: Res) => ({
  status: r.status,
  body: r.body,
  headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== 'date' && k !== 'x-request-id')),
});
const wrong = (address: string, ip: string) =>
  send(h, {
    method: 'POST',
    url: '/v1/auth/signin',
    payload: { email: address, password: 'not the password at all' },
    remoteAddress: ip,
  });

describe('sign-in answers a known and an unknown address alike', () => {
  it('past the per-email budget, the per-IP budget and every lock, attempt by attempt', async () => {
    const known = (await buildAccount(h, 'Known')).account.email as string;
    const known2 = (await buildAccount(h, 'Known2')).account.email as string;
    const unknown = email('nobody');
    const unknown2 = email('nobody-two');
    const log: string[] = [];
    /** One attempt at each, spelled `spell`: the two answers must be the same. */
    const both = async (k: string, u: string, label: string, spell = (s: string) => s) => {
      const a = shape(await wrong(spell(k), '10.1.0.1'));
      const b = shape(await wrong(spell(u), '10.2.0.1'));
      expect(b, `${label}: known ${JSON.stringify(a)} unknown ${JSON.stringify(b)}`).toEqual(a);
      log.push(
        `${label} ${a.status}${a.body?.error?.details?.retry_after_ms ? `:${a.body.error.details.retry_after_ms / 1000}s` : ''}`,
      );
      return a;
    };

    // One window. The 2nd failure locks (1 min); tries while locked are refused before the
    // password and not counted as failures, but they are counted against the budgets: the 7th
    // try is past the per-email budget of 6, for both — not 423 for one and 429 for the other.
    for (let i = 1; i <= 7; i++)
      await both(known, unknown, `email #${i}`, i === 4 ? (s) => ` ${s.toUpperCase()}` : undefined);
    // The same IPs name other addresses: their 8th and 9th tries fit the IP's budget of 9 (and
    // lock the new addresses), the 10th is past it.
    for (let i = 8; i <= 10; i++) await both(known2, unknown2, `ip #${i}`);
    expect(log).toEqual([
      'email #1 401',
      'email #2 423:60s',
      'email #3 423:60s',
      'email #4 423:60s',
      'email #5 423:60s',
      'email #6 423:60s',
      `email #7 429:${WINDOW / 1000}s`,
      'ip #8 401',
      'ip #9 423:60s',
      `ip #10 429:${WINDOW / 1000}s`,
    ]);

    // Past the window (and the lock): the budgets are new; failures go on counting from where
    // they were, and each further lock doubles, up to the cap of 4 minutes.
    const locks: number[] = [];
    for (let round = 0; round < 4; round++) {
      now += WINDOW;
      const first = await both(known, unknown, `round ${round} try 1`);
      expect(first.status).toBe(401);
      const second = await both(known, unknown, `round ${round} try 2`);
      expect(second.status).toBe(423);
      expect(second.headers['retry-after']).toBe(String(second.body.error.details.retry_after_ms / 1000));
      locks.push(second.body.error.details.retry_after_ms);
      // Half-way through the lock: still locked, with the time left, for both.
      now += second.body.error.details.retry_after_ms / 2;
      const half = await both(known, unknown, `round ${round} half-way`);
      expect(half.body.error.details.retry_after_ms).toBe(second.body.error.details.retry_after_ms / 2);
    }
    expect(locks).toEqual([2 * MIN, 4 * MIN, 4 * MIN, 4 * MIN]);
  });
});
