import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AppContext, signToken, verifyClaims } from './auth.js';

const SECRET = 'a-secret-of-forty-characters-or-so-here';
const KEY = new TextEncoder().encode(SECRET);
const app: AppContext = { id: 'app', name: 'app', apiKey: 'key', secretKey: KEY };

/** The token jose's SignJWT makes for the same input, at the same second. */
async function joseToken(userId: string | null, opts: { expiresIn?: string | number; sessionId?: string } = {}) {
  const claims = userId === null ? { server: true } : opts.sessionId ? { psid: opts.sessionId } : {};
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (userId !== null) jwt.setSubject(userId);
  if (opts.expiresIn !== undefined) jwt.setExpirationTime(opts.expiresIn);
  return jwt.sign(KEY);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('signToken', () => {
  const now = new Date('2026-12-03T08:00:00.500Z');
  const cases: [string, string | null, { expiresIn?: string | number; sessionId?: string }][] = [
    ['a user token', 'alice', {}],
    ['a server token', null, {}],
    ['a session token with an absolute expiry', 'bob', { expiresIn: 1_800_000_000, sessionId: crypto.randomUUID() }],
    ['a lifetime in the API form', 'carol', { expiresIn: '30d' }],
    ['a lifetime with a space', 'dave', { expiresIn: '5 m' }],
    ['a lifetime only jose reads', 'erin', { expiresIn: '2 hours' }],
    ['a user id JSON must escape', 'o"brien', { expiresIn: '1w' }],
  ];

  it.each(cases)('makes the token jose makes: %s', async (_, userId, opts) => {
    vi.useFakeTimers({ now, toFake: ['Date'] });
    const ours = await signToken(SECRET, userId, opts);
    expect(ours).toBe(await joseToken(userId, opts));
    expect(decodeProtectedHeader(ours)).toEqual({ alg: 'HS256', typ: 'JWT' });
    // jose verifies it, and so does the server's own check.
    const { payload } = await jwtVerify(ours, KEY, { algorithms: ['HS256'], currentDate: now });
    const iat = Math.floor(now.getTime() / 1000);
    expect(payload.iat).toBe(iat);
    if (opts.expiresIn === '30d') expect(payload.exp).toBe(iat + 30 * 86_400);
    if (opts.expiresIn === '2 hours') expect(payload.exp).toBe(iat + 7_200);
  });

  it('signs tokens the server accepts, naming the user or the server', async () => {
    expect((await verifyClaims(app, await signToken(SECRET, 'alice'))).caller).toMatchObject({ userId: 'alice' });
    expect((await verifyClaims(app, await signToken(SECRET, null))).caller.kind).toBe('server');
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await verifyClaims(app, await signToken(SECRET, 'alice', { expiresIn: '1m' }))).toMatchObject({ exp });
  });

  it('makes a token that is dead once its lifetime has passed', async () => {
    const token = await signToken(SECRET, 'alice', { expiresIn: '1s' });
    vi.useFakeTimers({ now: Date.now() + 2_000, toFake: ['Date'] });
    await expect(verifyClaims(app, token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'Token expired' });
  });

  it('refuses a lifetime nobody can read, as jose does', async () => {
    await expect(signToken(SECRET, 'alice', { expiresIn: 'soon' })).rejects.toThrow(TypeError);
    await expect(signToken(SECRET, 'alice', { expiresIn: Number.NaN })).rejects.toThrow(TypeError);
    // A token signed with another secret is not the server's.
    const other = await signToken('another-secret-of-forty-characters-here', 'alice');
    await expect(verifyClaims(app, other)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(decodeJwt(other).sub).toBe('alice');
  });
});
