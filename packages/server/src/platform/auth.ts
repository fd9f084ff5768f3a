/**
 * Who is calling. Every request names its app by API key; a bearer token signed with that
 * app's secret says who the caller is: a user (`sub`) or the embedder's backend
 * (`server: true`). Verification is jose's: signature (HS256 only), `exp` and `nbf`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AutomodSettings, PermissionOverrides, UploadRules } from '@parley/protocol';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { ApiError } from './errors.js';

/** An app as the server keeps it in memory. */
export interface AppContext {
  id: string;
  name: string;
  apiKey: string;
  /** The decoded HS256 key. */
  secretKey: Uint8Array;
  /** Permission overrides (features/permissions), read with the app: checks cost no query. */
  permissions?: PermissionOverrides;
  /** Automod settings (features/moderation/automod.ts); null or absent: off. */
  automod?: AutomodSettings | null;
  /** Upload rules (features/files/rules.ts); null or absent: every type, the server's limit. */
  uploadRules?: UploadRules | null;
}

export type Caller =
  | {
      kind: 'user';
      app: AppContext;
      userId: string;
      /** The web app's account session that minted the token (`psid`): checked while it lasts. */
      sessionId?: string;
    }
  | { kind: 'server'; app: AppContext; userId: null };

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const USER_ID = /^[A-Za-z0-9_@.-]{1,64}$/;

/** The caller, if it is a user; FORBIDDEN (saying `why`) for server tokens. */
export function requireUser(caller: Caller, why: string): Caller & { kind: 'user' } {
  if (caller.kind !== 'user') throw new ApiError('FORBIDDEN', why);
  return caller;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const isNumericDate = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v));

/**
 * The payload of a plain, valid, current HS256 token, checked synchronously with node:crypto;
 * null whenever anything is unusual or wrong, and jose then decides (and words the error).
 * jose verifies through WebCrypto, whose HMAC job costs ≈ 0.5 ms of CPU a token here — most
 * of what opening a socket cost — while this takes a few µs. It accepts only what jose would
 * accept the same: a header of `alg` (HS256) and `typ` alone, strict base64url, a matching
 * signature, a JSON object payload whose `iat`/`nbf`/`exp` are numbers, `nbf` not ahead and
 * `exp` not reached (no clock tolerance, as jwtVerify without options).
 */
function verifyHs256(key: Uint8Array, token: string): JWTPayload | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, sig] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(sig)) return null;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header === null || typeof header !== 'object' || Array.isArray(header) || header.alg !== 'HS256') return null;
    for (const k of Object.keys(header)) if (k !== 'alg' && k !== 'typ') return null;
    const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JWTPayload;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
    if (!isNumericDate(payload.iat) || !isNumericDate(payload.nbf) || !isNumericDate(payload.exp)) return null;
    const now = Math.floor(Date.now() / 1000);
    if (payload.nbf !== undefined && payload.nbf > now) return null;
    if (payload.exp !== undefined && payload.exp <= now) return null;
    return payload;
  } catch {
    return null;
  }
}

/** Verify a token for an app and say who it names. Throws UNAUTHORIZED on any fault. */
export async function verifyToken(app: AppContext, token: string): Promise<Caller> {
  return (await verifyClaims(app, token)).caller;
}

/**
 * `verifyToken`, with the token's expiry (`exp`, seconds since the epoch) for a caller that
 * remembers verified tokens: read from the payload the check already decoded.
 */
export async function verifyClaims(app: AppContext, token: string): Promise<{ caller: Caller; exp?: number }> {
  let payload: JWTPayload;
  try {
    payload =
      verifyHs256(app.secretKey, token) ?? (await jwtVerify(token, app.secretKey, { algorithms: ['HS256'] })).payload;
  } catch (err) {
    const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
    throw new ApiError('UNAUTHORIZED', expired ? 'Token expired' : 'Invalid token');
  }
  const caller = callerOf(app, payload);
  return typeof payload.exp === 'number' ? { caller, exp: payload.exp } : { caller };
}

function callerOf(app: AppContext, payload: JWTPayload): Caller {
  if (payload.server === true) return { kind: 'server', app, userId: null };
  if (typeof payload.sub === 'string' && USER_ID.test(payload.sub)) {
    if (payload.psid === undefined) return { kind: 'user', app, userId: payload.sub };
    // Only the accounts feature signs `psid`; one that is not a session id cannot be honoured.
    if (typeof payload.psid !== 'string' || !SESSION_ID.test(payload.psid))
      throw new ApiError('UNAUTHORIZED', 'Invalid token');
    return { kind: 'user', app, userId: payload.sub, sessionId: payload.psid };
  }
  throw new ApiError('UNAUTHORIZED', 'Token names neither a user (sub) nor the server (server: true)');
}

const HEADER = { alg: 'HS256', typ: 'JWT' } as const;
const HEADER_B64 = Buffer.from(JSON.stringify(HEADER)).toString('base64url');
/** A lifetime as the token API takes it (`expires_in`: a count and a unit, e.g. `1h`, `30 d`). */
const LIFETIME = /^(\d+) ?(s|m|h|d|w)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `exp` for a lifetime: a number is the time itself; undefined when jose must read the form. */
function expiryOf(expiresIn: string | number, now: number): number | undefined {
  if (typeof expiresIn === 'number') return Number.isFinite(expiresIn) ? expiresIn : undefined;
  const m = LIFETIME.exec(expiresIn);
  return m ? now + Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number) : undefined;
}

/**
 * Sign a user token (`sub`) or, with `userId: null`, a server token. `sessionId` ties a user
 * token to a web app account session (the `psid` claim; see features/accounts/chat-sessions.ts).
 * The token is the one jose's `SignJWT` makes (same header, claims and order), signed with
 * node:crypto's HMAC as `verifyHs256` checks it: a few µs, where jose's WebCrypto job cost
 * 0.15–0.2 ms of CPU a token (every sign-in, every token the admin API mints). A lifetime in a
 * form other than the API's goes to jose, which reads it or says why not.
 */
export async function signToken(
  secret: string,
  userId: string | null,
  opts: { expiresIn?: string | number; sessionId?: string } = {},
): Promise<string> {
  const claims: JWTPayload = userId === null ? { server: true } : opts.sessionId ? { psid: opts.sessionId } : {};
  const now = Math.floor(Date.now() / 1000);
  const exp = opts.expiresIn === undefined ? undefined : expiryOf(opts.expiresIn, now);
  if (opts.expiresIn !== undefined && exp === undefined) {
    const jwt = new SignJWT(claims).setProtectedHeader(HEADER).setIssuedAt(now);
    if (userId !== null) jwt.setSubject(userId);
    return jwt.setExpirationTime(opts.expiresIn).sign(new TextEncoder().encode(secret));
  }
  claims.iat = now;
  if (userId !== null) claims.sub = userId;
  if (exp !== undefined) claims.exp = exp;
  const signed = `${HEADER_B64}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** Read `Authorization: Bearer <token>`. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
