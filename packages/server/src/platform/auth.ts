/**
 * Who is calling. Every request names its app by API key; a bearer token signed with that
 * app's secret says who the caller is: a user (`sub`) or the embedder's backend
 * (`server: true`). Verification is jose's: signature (HS256 only), `exp` and `nbf`.
 */
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { ApiError } from './errors.js';

/** An app as the server keeps it in memory. */
export interface AppContext {
  id: string;
  name: string;
  apiKey: string;
  /** The decoded HS256 key. */
  secretKey: Uint8Array;
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

/** Verify a token for an app and say who it names. Throws UNAUTHORIZED on any fault. */
export async function verifyToken(app: AppContext, token: string): Promise<Caller> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, app.secretKey, { algorithms: ['HS256'] }));
  } catch (err) {
    const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
    throw new ApiError('UNAUTHORIZED', expired ? 'Token expired' : 'Invalid token');
  }
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

/**
 * Sign a user token (`sub`) or, with `userId: null`, a server token. `sessionId` ties a user
 * token to a web app account session (the `psid` claim; see features/accounts/chat-sessions.ts).
 */
export async function signToken(
  secret: string,
  userId: string | null,
  opts: { expiresIn?: string | number; sessionId?: string } = {},
): Promise<string> {
  const claims = userId === null ? { server: true } : opts.sessionId ? { psid: opts.sessionId } : {};
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (userId !== null) jwt.setSubject(userId);
  if (opts.expiresIn !== undefined) jwt.setExpirationTime(opts.expiresIn);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** Read `Authorization: Bearer <token>`. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
