/**
 * Account sessions and their cookie. The cookie carries 32 random bytes (base64url); the
 * database keeps only their SHA-256, so neither a dump nor a log line can be replayed as a
 * cookie. A session lives 30 days from sign-in (no sliding renewal yet) unless signed out.
 *
 * The cookie is `HttpOnly` (scripts cannot read it), `SameSite=Lax` (browsers leave it off
 * cross-site POSTs), `Path=/`, and `Secure` when the request came over https. Together with
 * `requireJsonBody` below, that is the CSRF defence: see the comment there.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from '@parley/protocol';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { AccountSession } from '../../platform/http.js';
import type { Services } from '../../services.js';

/** Hex SHA-256 of a secret token: what sessions and invites store instead of the token. */
export const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new random token: 32 bytes, base64url (43 characters). */
export const newToken = () => randomBytes(32).toString('base64url');

/** Start a session for an account; returns the token for the cookie (never stored). */
export async function createSession(q: Queryable, accountId: string, req: FastifyRequest): Promise<string> {
  const token = newToken();
  const ua = req.headers['user-agent'];
  await q.insert(schema.accountSessions).values({
    id: randomUUID(),
    accountId,
    tokenHash: sha256(token),
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000),
  });
  return token;
}

/** The `parley_session` value of a Cookie header, if any. */
export function readSessionCookie(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // Our tokens are base64url; anything else cannot be one (and is not worth a query).
    if (/^[A-Za-z0-9_-]{20,128}$/.test(value)) return value;
  }
  return null;
}

/**
 * The live session named by the request's cookie, or null: for the `account` auth mode.
 * One indexed query by token hash.
 */
export async function resolveSession(svc: Services, req: FastifyRequest): Promise<AccountSession | null> {
  const token = readSessionCookie(req.headers.cookie);
  if (!token) return null;
  const [row] = await svc.db
    .select({ sessionId: schema.accountSessions.id, accountId: schema.accountSessions.accountId })
    .from(schema.accountSessions)
    .where(
      and(
        eq(schema.accountSessions.tokenHash, sha256(token)),
        isNull(schema.accountSessions.revokedAt),
        gt(schema.accountSessions.expiresAt, sql`now()`),
      ),
    )
    .limit(1);
  return row ?? null;
}

/** Sign out one session. */
export async function revokeSession(svc: Services, sessionId: string): Promise<void> {
  await svc.db
    .update(schema.accountSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(schema.accountSessions.id, sessionId), isNull(schema.accountSessions.revokedAt)));
}

/** Sign out every session of an account (this one included). */
export async function revokeAllSessions(svc: Services, accountId: string): Promise<void> {
  await svc.db
    .update(schema.accountSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(schema.accountSessions.accountId, accountId), isNull(schema.accountSessions.revokedAt)));
}

/**
 * Whether the request reached us over https: directly, or through a proxy that says so in
 * `X-Forwarded-Proto`. Trusting the header here is safe: a client that lies about it only
 * gets a `Secure` cookie it cannot send back over http.
 */
function overHttps(req: FastifyRequest): boolean {
  if (req.protocol === 'https') return true;
  const fwd = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

function cookie(req: FastifyRequest, value: string, maxAge: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    `Max-Age=${maxAge}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    ...(overHttps(req) ? ['Secure'] : []),
  ].join('; ');
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string): void {
  void reply.header('set-cookie', cookie(req, token, SESSION_TTL_SECONDS));
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', cookie(req, '', 0));
}

/**
 * CSRF guard for the account routes, run before anything else on them. The session cookie
 * is sent by the browser on its own, so a state-changing call must prove it came from our
 * own page:
 * - a POST must say `Content-Type: application/json` (even with an empty `{}` body). An
 *   HTML form cannot send that type, and a cross-origin script can only send it after a CORS
 *   preflight, which Parley does not grant. (Form and text bodies would also fail to parse,
 *   with 415, but a POST with no body at all has no Content-Type: that is what this check adds.)
 * - PATCH and DELETE are not "simple" methods: browsers always preflight them cross-origin.
 * - Browsers that send `Sec-Fetch-Site: cross-site` are refused outright for any of them.
 * Together with `SameSite=Lax` this leaves no cross-site way to change account state.
 */
export async function requireJsonBody(req: FastifyRequest): Promise<void> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  if (req.headers['sec-fetch-site'] === 'cross-site')
    throw new ApiError('FORBIDDEN', 'Cross-site requests to account endpoints are refused');
  if (req.method === 'DELETE') return;
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Account endpoints accept only Content-Type: application/json');
}
