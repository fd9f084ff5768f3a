/**
 * Sign-in with an OpenID Connect provider (`openid-client`): the authorization code flow with
 * PKCE (S256), `state` and `nonce`.
 *
 * - Start (`POST /v1/auth/oidc/start`): fresh state, nonce and code verifier go into a short
 *   cookie (`parley_oidc`, sealed with the master key like app secrets, HttpOnly, SameSite=Lax,
 *   10 minutes, path /v1/auth/oidc) and the browser is sent to the provider. Nothing is stored
 *   server-side: any node can finish the flow.
 * - Callback (`GET /v1/auth/oidc/callback`, the redirect URI to register at the provider):
 *   the cookie is cleared whatever happens; its state must equal the one that came back (a
 *   callback this browser did not start — login CSRF — is refused), then openid-client checks
 *   the response's issuer, exchanges the code with the verifier (a code works once at the
 *   provider: a replayed one is refused there), and checks the ID token's signature, audience,
 *   times and nonce. The email comes from the userinfo endpoint.
 * - Which account: the identity (`iss`, `sub`) once linked (`account_identities`), whatever the
 *   email says by then. Unlinked, the email decides, and only when the provider says it is
 *   verified (`email_verified: true`, exactly): an account with that email is linked if its
 *   own email was verified here too (else someone may have signed up with another person's
 *   address to wait for them: `account_unverified`); no account → a new one, marked verified,
 *   if PARLEY_OIDC_SIGNUP allows. New accounts get a random password nobody knows; "forgot
 *   password" sets one.
 * - Then it is a sign-in like any other: the lockout applies, an account with two-factor
 *   sign-in gets the same challenge as after a password (the second step is the same
 *   `POST /v1/auth/signin/2fa`), and the session is the same cookie and row.
 *
 * The callback is a browser navigation, so its answers are redirects to the web app: the
 * `return_to` path when signed in, `/signin#oidc_challenge=…` for the second step (a fragment:
 * never sent to a server or in a Referer), and `/signin?oidc_error=CODE&oidc_reason=REASON`
 * when refused (protocol: `OIDC_REFUSALS`).
 *
 * Discovery is lazy: the first start (or the warm-up right after the server starts, which
 * does not wait for it) fetches the provider's metadata, and a failure is only remembered
 * until the next try. A provider that is down stops no server from starting; starting a
 * sign-in answers UNAVAILABLE until it is back.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '@parley/protocol';
import { OIDC_COOKIE, OIDC_LOGIN_TTL_SECONDS, type OidcRefusal, type TwoFactorChallenge } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { isLoopbackHost, type OidcConfig } from '../../platform/config.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accountActor, recordAudit } from '../audit/index.js';
import { hashPassword } from './passwords.js';
import type { AccountRow } from './present.js';
import { accountByEmail, accountById } from './queries.js';
import { createSession, newToken } from './sessions.js';
import { checkNotLocked, limitSignin } from './signin-guard.js';
import { issueChallenge } from './two-factor.js';

const { accounts, accountIdentities } = schema;

/** The path of the callback under the server's public URL: the redirect URI to register. */
export const OIDC_CALLBACK_PATH = '/v1/auth/oidc/callback';

/** A refusal of the flow: an error code of the catalogue and a reason from `OIDC_REFUSALS`. */
export class OidcRefused extends ApiError {
  constructor(
    code: ErrorCode,
    readonly reason: OidcRefusal,
    message: string,
  ) {
    super(code, message, { reason });
  }
}

const refuse = (reason: OidcRefusal, message: string, code: ErrorCode = 'FORBIDDEN') =>
  new OidcRefused(code, reason, message);

/**
 * The provider's metadata, discovered once and kept; a failed discovery is forgotten at once,
 * so the next sign-in tries again. Concurrent callers share one discovery.
 */
export class OidcProvider {
  private discovered: client.Configuration | null = null;
  private pending: Promise<client.Configuration> | null = null;

  constructor(
    readonly config: OidcConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Start discovery without waiting for it (at server start); a failure is logged, not thrown. */
  warm(): void {
    this.configuration().catch(() => {});
  }

  /** The discovered configuration, or UNAVAILABLE when the provider cannot be reached now. */
  async configuration(): Promise<client.Configuration> {
    if (this.discovered) return this.discovered;
    this.pending ??= this.discover().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async discover(): Promise<client.Configuration> {
    const c = this.config;
    const url = new URL(c.issuer);
    try {
      this.discovered = await client.discovery(url, c.clientId, c.clientSecret, undefined, {
        timeout: Math.ceil(c.timeoutMs / 1000),
        // http only for a provider on this machine (config.ts refuses any other http issuer).
        ...(url.protocol === 'http:' && isLoopbackHost(url.hostname)
          ? { execute: [client.allowInsecureRequests] }
          : {}),
      });
      this.log.info({ issuer: c.issuer }, 'OpenID Connect provider discovered');
      return this.discovered;
    } catch (err) {
      this.log.warn({ issuer: c.issuer, err: String(err) }, 'OpenID Connect provider unreachable; will retry');
      throw refuse('unavailable', `${c.name} cannot be reached right now; try again in a moment`, 'UNAVAILABLE');
    }
  }
}

/** What the `parley_oidc` cookie carries between start and callback (sealed). */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  redirectUri: string;
  /** ms since the epoch (`svc.clock`). */
  expiresAt: number;
}

/** The redirect URI: under PARLEY_PUBLIC_URL when set, else the origin the browser used. */
function redirectUri(svc: Services, req: FastifyRequest): string {
  const base = svc.config.publicUrl ?? `${req.protocol}://${req.host}`;
  return `${base}${OIDC_CALLBACK_PATH}`;
}

function oidcCookie(req: FastifyRequest, value: string, maxAge: number): string {
  return [
    `${OIDC_COOKIE}=${value}`,
    `Max-Age=${maxAge}`,
    'Path=/v1/auth/oidc',
    'HttpOnly',
    // Lax, not Strict: the callback is a top-level navigation from the provider's site.
    'SameSite=Lax',
    ...(req.protocol === 'https' ? ['Secure'] : []),
  ].join('; ');
}

function readOidcCookie(header: string | undefined): string | null {
  for (const part of header?.split(';') ?? []) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === OIDC_COOKIE) return part.slice(i + 1).trim();
  }
  return null;
}

/**
 * Start a sign-in: the provider's authorization URL, and the cookie that binds the flow to
 * this browser. UNAVAILABLE when the provider cannot be reached.
 */
export async function startOidcSignIn(
  svc: Services,
  provider: OidcProvider,
  req: FastifyRequest,
  reply: FastifyReply,
  returnTo: string,
): Promise<string> {
  await limitSignin(svc, req, null);
  const cfg = await provider.configuration();
  const pending: PendingLogin = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    returnTo,
    redirectUri: redirectUri(svc, req),
    expiresAt: svc.clock() + OIDC_LOGIN_TTL_SECONDS * 1000,
  };
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: pending.redirectUri,
    scope: 'openid email profile',
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  void reply.header('set-cookie', oidcCookie(req, svc.sealer.seal(JSON.stringify(pending)), OIDC_LOGIN_TTL_SECONDS));
  return url.href;
}

/** The outcome of a callback, for the route to turn into a redirect. */
export type OidcOutcome =
  | { kind: 'signed_in'; account: AccountRow; token: string; returnTo: string }
  | { kind: 'two_factor'; challenge: TwoFactorChallenge; returnTo: string };

/** The verified claims the account is chosen by. */
export interface OidcClaims {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const EMAIL = /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/;

const isUnavailable = (err: unknown) =>
  err instanceof TypeError ||
  (err instanceof client.ClientError && (err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT'));

/**
 * Finish a sign-in from the provider's redirect: check the state against this browser's
 * cookie, redeem the code, read the claims, find or make the account, and start a session (or
 * the two-factor challenge). Throws `OidcRefused` (or the lockout's and rate limit's errors).
 */
export async function finishOidcSignIn(
  svc: Services,
  provider: OidcProvider,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<OidcOutcome> {
  void reply.header('set-cookie', oidcCookie(req, '', 0));
  await limitSignin(svc, req, null);
  const pending = openPending(svc, readOidcCookie(req.headers.cookie));
  const q = req.url.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  const state = query.get('state') ?? '';
  if (!pending || !sameText(state, pending.state))
    throw refuse('invalid_state', 'This sign-in was not started here, or took too long: start again');
  try {
    return await complete(svc, provider, req, pending, query);
  } catch (err) {
    // The refusal's redirect keeps where the person was going, for a sign-in by other means.
    if (err instanceof Error) Object.assign(err, { returnTo: pending.returnTo });
    throw err;
  }
}

async function complete(
  svc: Services,
  provider: OidcProvider,
  req: FastifyRequest,
  pending: PendingLogin,
  query: URLSearchParams,
): Promise<OidcOutcome> {
  const cfg = await provider.configuration();
  const currentUrl = new URL(pending.redirectUri);
  currentUrl.search = query.toString();
  let claims: OidcClaims;
  try {
    const tokens = await client.authorizationCodeGrant(cfg, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const id = tokens.claims();
    if (!id) throw refuse('provider_error', 'The provider sent no ID token');
    const info = await client.fetchUserInfo(cfg, tokens.access_token, id.sub);
    const email = typeof info.email === 'string' ? info.email : typeof id.email === 'string' ? id.email : null;
    const verified = typeof info.email === 'string' ? info.email_verified : id.email_verified;
    // What is stored must be storable: no control characters (NUL cannot go into PostgreSQL text).
    if (id.sub.length > 255 || CONTROL.test(id.sub))
      throw refuse('provider_error', 'The provider sent an unusable subject');
    claims = {
      issuer: id.iss,
      subject: id.sub,
      email: email && email.length <= 254 && EMAIL.test(email) ? email : null,
      emailVerified: verified === true,
      name: typeof info.name === 'string' ? info.name : typeof id.name === 'string' ? id.name : null,
    };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (isUnavailable(err))
      throw refuse('unavailable', `${provider.config.name} cannot be reached right now`, 'UNAVAILABLE');
    svc.log.warn({ err: String(err) }, 'OpenID Connect callback refused');
    throw refuse('provider_error', `${provider.config.name} did not confirm this sign-in: start again`);
  }
  const account = await accountForClaims(svc, provider.config, claims);
  checkNotLocked(svc, account);
  if (account.twoFactorSecretSealed)
    return { kind: 'two_factor', challenge: await issueChallenge(svc, account), returnTo: pending.returnTo };
  const token = await svc.db.transaction(async (tx) => {
    await recordAudit(tx, {
      appId: null,
      actor: accountActor(account.id),
      action: 'account.signin',
      target: { kind: 'account', id: account.id },
      details: { method: 'oidc', provider: provider.config.name },
    });
    return createSession(tx, account.id, req, svc.clock());
  });
  return { kind: 'signed_in', account, token, returnTo: pending.returnTo };
}

function openPending(svc: Services, sealed: string | null): PendingLogin | null {
  if (!sealed || sealed.length > 4096) return null;
  try {
    const p = JSON.parse(svc.sealer.open(sealed)) as PendingLogin;
    return typeof p.state === 'string' && p.expiresAt > svc.clock() ? p : null;
  } catch {
    return null; // not ours, tampered with, or sealed under another key
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505';

/**
 * The account the claims name, linking or creating it as the module comment says, in one
 * transaction. Two first sign-ins of one person racing (two tabs) meet a unique index: the
 * loser tries once more and finds what the winner made.
 */
export async function accountForClaims(svc: Services, cfg: OidcConfig, claims: OidcClaims): Promise<AccountRow> {
  // Hashed outside the transaction (argon2 takes a while); used only for a new account.
  const passwordHash = await hashPassword(newToken());
  for (let attempt = 0; ; attempt++) {
    try {
      return await svc.db.transaction((tx) => linkOrCreate(svc, tx, cfg, claims, passwordHash));
    } catch (err) {
      if (attempt > 0 || !isUniqueViolation(err)) throw err;
    }
  }
}

async function linkOrCreate(
  svc: Services,
  tx: Queryable,
  cfg: OidcConfig,
  claims: OidcClaims,
  passwordHash: string,
): Promise<AccountRow> {
  const now = new Date(svc.clock());
  const [linked] = await tx
    .update(accountIdentities)
    .set({ lastUsedAt: now })
    .where(and(eq(accountIdentities.issuer, claims.issuer), eq(accountIdentities.subject, claims.subject)))
    .returning({ accountId: accountIdentities.accountId });
  if (linked) {
    const account = await accountById(tx, linked.accountId);
    if (!account) throw new Error('identity without its account');
    return account;
  }
  if (!claims.email) throw refuse('email_missing', `${cfg.name} did not share an email address for this account`);
  if (!claims.emailVerified)
    throw refuse('email_unverified', `${cfg.name} does not say ${claims.email} is verified: verify it there first`);
  let account = await accountByEmail(tx, claims.email);
  if (account) {
    if (account.emailVerifiedAt === null)
      throw refuse(
        'account_unverified',
        `An account here uses ${claims.email} but never confirmed it: sign in with its password and verify the email (or reset the password), then try again`,
      );
    const [other] = await tx
      .select({ subject: accountIdentities.subject })
      .from(accountIdentities)
      .where(and(eq(accountIdentities.accountId, account.id), eq(accountIdentities.issuer, claims.issuer)))
      .limit(1);
    // This very identity, linked by a sign-in that raced this one and committed after the
    // update above looked: the same person, signed in.
    if (other?.subject === claims.subject) return account;
    if (other)
      throw refuse('already_linked', `This account is linked to another ${cfg.name} identity already`, 'CONFLICT');
  } else {
    if (!cfg.signup) throw refuse('signup_closed', `No account uses ${claims.email}, and new ones cannot be made here`);
    const name = cleanName(claims.name) ?? cleanName(claims.email.split('@')[0] ?? null) ?? 'New member';
    const [made] = await tx
      .insert(accounts)
      .values({ id: randomUUID(), email: claims.email, name, passwordHash, emailVerifiedAt: now })
      .returning();
    if (!made) throw new Error('insert returned no account');
    account = made;
  }
  await tx.insert(accountIdentities).values({
    issuer: claims.issuer,
    subject: claims.subject,
    accountId: account.id,
    email: claims.email,
    createdAt: now,
    lastUsedAt: now,
  });
  await tx.update(accounts).set({ updatedAt: sql`now()` }).where(eq(accounts.id, account.id));
  svc.log.info({ account: account.id, issuer: claims.issuer }, 'OpenID Connect identity linked');
  return account;
}

/** A display name from the provider: control characters out, 1–100 characters, or null. */
function cleanName(s: string | null): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const t = [...(s ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim()].slice(0, 100).join('');
  return t.trim() || null;
}
