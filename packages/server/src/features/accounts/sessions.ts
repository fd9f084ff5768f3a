/**
 * Account sessions and their cookie. The cookie carries 32 random bytes (base64url); the
 * database keeps only their SHA-256, so neither a dump nor a log line can be replayed as a
 * cookie. A session lives 30 days from sign-in unless signed out, and ends sooner after
 * `sessionIdleDays` without a request (PARLEY_SESSION_IDLE_DAYS, 14 by default).
 *
 * The cookie is `HttpOnly` (scripts cannot read it), `SameSite=Lax` (browsers leave it off
 * cross-site POSTs), `Path=/`, and `Secure` when the request came over https. Together with
 * `accountRequestGuard` below, that is the CSRF defence: see the comment there.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from '@parley/protocol';
import { and, desc, eq, lte } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { AccountSession } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { liveSession } from './chat-sessions.js';

/** Hex SHA-256 of a secret token: what sessions and invites store instead of the token. */
export const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new random token: 32 bytes, base64url (43 characters). */
export const newToken = () => randomBytes(32).toString('base64url');

/** Start a session for an account at `now`; returns the token for the cookie (never stored). */
export async function createSession(
  q: Queryable,
  accountId: string,
  req: FastifyRequest,
  now: number,
): Promise<string> {
  const token = newToken();
  const ua = req.headers['user-agent'];
  await q.insert(schema.accountSessions).values({
    id: randomUUID(),
    accountId,
    tokenHash: sha256(token),
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    ip: req.ip,
    createdAt: new Date(now),
    lastSeenAt: new Date(now),
    expiresAt: new Date(now + SESSION_TTL_SECONDS * 1000),
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

/** How long a session's `last_seen_at` may lag: it is written at most this often. */
export const TOUCH_MS = 60_000;

/**
 * The live session named by the request's cookie, or null: for the `account` auth mode.
 * One indexed query by token hash. A session last seen a minute ago or more is touched
 * (`last_seen_at`, `ip`): at most one write per session per minute, whatever the traffic, and
 * only by the request that finds it stale (the UPDATE re-checks, so two at once write once).
 */
export async function resolveSession(svc: Services, req: FastifyRequest): Promise<AccountSession | null> {
  const token = readSessionCookie(req.headers.cookie);
  if (!token) return null;
  const now = svc.clock();
  const s = schema.accountSessions;
  const [row] = await svc.db
    .select({ sessionId: s.id, accountId: s.accountId, lastSeenAt: s.lastSeenAt })
    .from(s)
    .where(and(eq(s.tokenHash, sha256(token)), liveSession(now, svc.config.sessionIdleDays)))
    .limit(1);
  if (!row) return null;
  if (now - row.lastSeenAt.getTime() >= TOUCH_MS)
    await svc.db
      .update(s)
      .set({ lastSeenAt: new Date(now), ip: req.ip })
      .where(and(eq(s.id, row.sessionId), lte(s.lastSeenAt, new Date(now - TOUCH_MS))));
  return { sessionId: row.sessionId, accountId: row.accountId };
}

function cookie(req: FastifyRequest, value: string, maxAge: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    `Max-Age=${maxAge}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    // req.protocol is https when the request came over TLS, or through a trusted proxy that
    // says so (PARLEY_TRUST_PROXY); a forwarded header from anyone else is not believed.
    ...(req.protocol === 'https' ? ['Secure'] : []),
  ].join('; ');
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string): void {
  void reply.header('set-cookie', cookie(req, token, SESSION_TTL_SECONDS));
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', cookie(req, '', 0));
}

/**
 * CSRF guard for the account routes, run before anything else on them (`onRequest`). The
 * session cookie is sent by the browser on its own, so a state-changing call must prove it
 * came from our own page:
 * - Browsers that send `Sec-Fetch-Site: cross-site` are refused outright (403).
 * - A POST or PATCH must say `Content-Type: application/json` (even with an empty `{}` body,
 *   415 otherwise). An HTML form cannot send that type, and a cross-origin script can only
 *   send it after a CORS preflight, which Parley does not grant. PATCH and DELETE are not
 *   "simple" methods: browsers always preflight them cross-origin.
 * - `Origin` must be the server's own origin or one of `allowedOrigins` (403 otherwise,
 *   `Origin: null` included). Browsers send it on every POST, PATCH and DELETE; a request
 *   that carries the session cookie without one is refused too. A request with neither cookie
 *   nor Origin (a script signing up with curl) passes: it has no session to abuse.
 * Together with `SameSite=Lax`, that leaves no cross-site way to change account state.
 */
export function accountRequestGuard(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async (req: FastifyRequest): Promise<void> => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    if (req.headers['sec-fetch-site'] === 'cross-site')
      throw new ApiError('FORBIDDEN', 'Cross-site requests to account endpoints are refused');
    if (req.method !== 'DELETE') {
      const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json')
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Account endpoints accept only Content-Type: application/json');
    }
    const origin = req.headers.origin;
    if (origin === undefined) {
      if (readSessionCookie(req.headers.cookie) !== null)
        throw new ApiError('FORBIDDEN', 'A request with the session cookie must carry an Origin header');
      return;
    }
    if (!isOwnOrigin(req, origin, allowed))
      throw new ApiError('FORBIDDEN', "Requests to account endpoints must come from this server's own pages");
  };
}

/**
 * Whether `origin` is this server's: its host (and port) is the one the request was sent to
 * (`Host`, or `X-Forwarded-Host` from a trusted proxy), over http or https — or https only
 * when the request is known to have come over https — or it is one of the configured ones.
 * Either scheme is taken while the server cannot tell (TLS ended at a proxy it does not
 * trust): the host decides, and a page on another host is never taken for ours.
 */
export function isOwnOrigin(req: FastifyRequest, origin: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.has(origin)) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // "null", garbage
  }
  if (o.origin !== origin) return false; // a path, credentials, or anything not an origin
  if (o.protocol !== 'https:' && (o.protocol !== 'http:' || req.protocol === 'https')) return false;
  let own: URL;
  try {
    own = new URL(`${o.protocol}//${req.host}`);
  } catch {
    return false;
  }
  return own.host === o.host;
}

/** The account's live sessions, the most recently active first. */
export async function liveSessionsOf(svc: Services, accountId: string) {
  const s = schema.accountSessions;
  return svc.db
    .select()
    .from(s)
    .where(and(eq(s.accountId, accountId), liveSession(svc.clock(), svc.config.sessionIdleDays)))
    .orderBy(desc(s.lastSeenAt), desc(s.createdAt))
    .limit(200);
}
