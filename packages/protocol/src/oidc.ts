/**
 * Sign-in with an OpenID Connect provider (the bundled web app's accounts): the body and
 * answer of starting it, the option that says a provider is configured, and the words the
 * callback puts in the web app's URL when it cannot sign in. The flow itself is in
 * docs/protocol/accounts.md ("Sign in with OpenID Connect").
 */
import { type Static, Type } from '@sinclair/typebox';

/** Where the web app learns a provider is configured (`GET /v1/auth/options`, `oidc`). */
export const OidcOption = Type.Object({
  /** The provider's name for the button: "Sign in with {name}" (PARLEY_OIDC_NAME). */
  name: Type.String(),
});
export type OidcOption = Static<typeof OidcOption>;

/**
 * `POST /v1/auth/oidc/start`: `return_to`, a path on this server to land on once signed in
 * (default `/`; anything but a same-origin path is refused with VALIDATION_ERROR).
 */
export const OidcStartBody = Type.Object(
  // A path: starts with one "/" (not "//" or "/\\", which browsers read as another host), printable ASCII.
  {
    return_to: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        pattern: '^/([\\x21-\\x2e\\x30-\\x5b\\x5d-\\x7e][\\x21-\\x7e]*)?$',
      }),
    ),
  },
  { additionalProperties: false },
);
export type OidcStartBody = Static<typeof OidcStartBody>;

/** The provider's authorization URL: navigate the browser there (not a fetch). */
export const OidcStartResponse = Type.Object({ authorization_url: Type.String() });
export type OidcStartResponse = Static<typeof OidcStartResponse>;

/** Name of the short-lived cookie that binds a sign-in with a provider to the browser that started it. */
export const OIDC_COOKIE = 'parley_oidc';
/** How long a started sign-in with a provider may take to come back, in seconds. */
export const OIDC_LOGIN_TTL_SECONDS = 600;

/**
 * `details.reason` of the callback's refusals (in the web app URL's `oidc_reason`, with the
 * error code in `oidc_error`):
 * - `invalid_state`: no started sign-in in this browser, a state that does not match it, or
 *   one that expired (FORBIDDEN);
 * - `provider_error`: the provider answered an error, refused the code (used already,
 *   expired) or sent a token that does not check out (FORBIDDEN);
 * - `email_missing`: the provider gave no email for an identity not linked yet (FORBIDDEN);
 * - `email_unverified`: the email names an account, but the provider does not say it is
 *   verified (`email_verified: true`), so the account is not linked (FORBIDDEN);
 * - `account_unverified`: the email names an account whose own email was never verified
 *   here, which could be someone else's squat on the address: verify it first (FORBIDDEN);
 * - `already_linked`: the account is linked to another identity at this provider (CONFLICT);
 * - `signup_closed`: no account has this email and new accounts cannot be made this way (FORBIDDEN);
 * - `unavailable`: the provider cannot be reached (UNAVAILABLE).
 */
export const OIDC_REFUSALS = [
  'invalid_state',
  'provider_error',
  'email_missing',
  'email_unverified',
  'account_unverified',
  'already_linked',
  'signup_closed',
  'unavailable',
] as const;
export type OidcRefusal = (typeof OIDC_REFUSALS)[number];
