/**
 * Routes of sign-in with an OpenID Connect provider (oidc.ts): start, from the web app's
 * page (JSON, behind the same CSRF guard as every account write), and the callback, the
 * browser's return from the provider, answered with redirects into the web app. Always
 * registered (and so in the OpenAPI document); without a provider (PARLEY_OIDC_*) start is
 * NOT_FOUND and the callback redirects with `oidc_error=NOT_FOUND`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, OidcStartBody, OidcStartResponse } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { finishOidcSignIn, OIDC_CALLBACK_PATH, OidcProvider, startOidcSignIn } from './oidc.js';
import { accountRequestGuard, setSessionCookie } from './sessions.js';

export function oidcRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const cfg = svc.config.oidc;
    const provider = cfg ? new OidcProvider(cfg, svc.log) : null;
    // Discovery starts now but is not waited for: a provider that is down delays nothing.
    provider?.warm();
    const configured = () => {
      if (!provider) throw new ApiError('NOT_FOUND', 'No OpenID Connect provider is configured on this server');
      return provider;
    };

    app.addHook('onRequest', accountRequestGuard(svc.config.allowedOrigins));
    app.addHook('onSend', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
    });

    app.post(
      '/v1/auth/oidc/start',
      {
        schema: {
          tags: ['accounts'],
          summary: `Start signing in with the OpenID Connect provider: its authorization URL, and a short cookie for the callback`,
          description:
            'Navigate the browser to authorization_url (authorization code flow with PKCE S256, state and nonce). ' +
            'The provider sends it back to GET /v1/auth/oidc/callback. 503 UNAVAILABLE (details.reason `unavailable`) ' +
            'while the provider cannot be reached; 429 RATE_LIMITED past the sign-in attempts per IP. ' +
            '404 NOT_FOUND when no provider is configured (GET /v1/auth/options answers `oidc: null`).',
          security: [],
          body: OidcStartBody,
          response: {
            200: OidcStartResponse,
            400: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
            415: ErrorBody,
            429: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => ({
        authorization_url: await startOidcSignIn(svc, configured(), req, reply, req.body.return_to ?? '/'),
      }),
    );

    app.get(
      OIDC_CALLBACK_PATH,
      {
        schema: {
          tags: ['accounts'],
          summary: 'The redirect URI: the provider sends the browser back here; answers a redirect into the web app',
          description:
            'Register `<PARLEY_PUBLIC_URL>/v1/auth/oidc/callback` at the provider. Always 303, and the parley_oidc cookie is cleared: ' +
            'signed in → the return_to path with the parley_session cookie set; two-factor sign-in on → ' +
            '`/signin?next=…#oidc_challenge=…&expires_at=…` (finish with POST /v1/auth/signin/2fa); refused → ' +
            '`/signin?oidc_error=CODE&oidc_reason=REASON&next=…` with CODE from the error catalogue and REASON one of ' +
            'invalid_state, provider_error, email_missing, email_unverified, account_unverified, already_linked, ' +
            'signup_closed, unavailable (or the lockout and rate limits: ACCOUNT_LOCKED, RATE_LIMITED).',
          security: [],
          querystring: Type.Object({}, { additionalProperties: true }),
          response: { 303: Type.Null() },
        },
      },
      async (req, reply) => {
        const web = svc.config.publicUrl ?? '';
        try {
          const r = await finishOidcSignIn(svc, configured(), req, reply);
          if (r.kind === 'signed_in') {
            setSessionCookie(req, reply, r.token);
            return reply.redirect(`${web}${r.returnTo}`, 303);
          }
          const fragment = new URLSearchParams({
            oidc_challenge: r.challenge.challenge,
            expires_at: r.challenge.expires_at,
          });
          return reply.redirect(`${web}/signin?next=${encodeURIComponent(r.returnTo)}#${fragment}`, 303);
        } catch (err) {
          const e = err as { code?: unknown; details?: { reason?: unknown } };
          if (typeof e.code !== 'string' || !e.code.match(/^[A-Z_]+$/)) {
            svc.log.error({ err }, 'OpenID Connect callback failed');
          }
          const code = typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'INTERNAL';
          const q = new URLSearchParams({ oidc_error: code });
          if (typeof e.details?.reason === 'string') q.set('oidc_reason', e.details.reason);
          const next = (err as { returnTo?: unknown }).returnTo;
          if (typeof next === 'string' && next !== '/') q.set('next', next);
          return reply.redirect(`${web}/signin?${q}`, 303);
        }
      },
    );
  };
}
