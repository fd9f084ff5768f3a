/**
 * Sign-in with the server's OpenID Connect provider, when it has one (`GET /v1/auth/options`
 * says `oidc`): the "Sign in with {name}" button, and what the provider's return brings back
 * to the sign-in page — a refusal (`?oidc_error=CODE&oidc_reason=REASON`) or, for an account
 * with two-factor sign-in, the challenge of the second step (`#oidc_challenge=…`). A
 * successful return lands on the page it started from, signed in, without passing here.
 */
import type { OidcOption, OidcRefusal } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { ApiError, accounts } from '../lib/api.js';

/** What the sign-in page was given by the provider's return; read once, then taken out of the URL. */
export interface OidcReturn {
  error: string | null;
  challenge: string | null;
}

const REFUSALS: Record<OidcRefusal, string> = {
  invalid_state: 'That sign-in was not started in this browser, or took too long. Try again.',
  provider_error: 'The provider did not confirm the sign-in. Try again.',
  email_missing: 'The provider did not share your email address, so no account could be found or made.',
  email_unverified: 'The provider does not say your email address is verified. Verify it there, then try again.',
  account_unverified:
    'An account here uses your email but never confirmed it. Sign in with its password and verify the email (or reset the password), then try again.',
  already_linked: 'This account is linked to another identity at the provider already.',
  signup_closed: 'No account uses your email, and new accounts cannot be made this way here.',
  unavailable: 'The provider cannot be reached right now. Try again in a moment.',
};

function describe(code: string, reason: string | null): string {
  if (reason && reason in REFUSALS) return REFUSALS[reason as OidcRefusal];
  if (code === 'ACCOUNT_LOCKED') return 'Too many failed sign-ins: this account is locked for a while.';
  if (code === 'RATE_LIMITED') return 'Too many attempts. Try again in a minute.';
  return 'Signing in with the provider did not work. Try again.';
}

/** The provider's return in the page's URL (pure: `clearOidcReturn` takes it out). */
export function readOidcReturn(): OidcReturn {
  const url = new URL(window.location.href);
  const code = url.searchParams.get('oidc_error');
  const reason = url.searchParams.get('oidc_reason');
  const hash = new URLSearchParams(url.hash.slice(1));
  const challenge = hash.get('oidc_challenge');
  return { error: code ? describe(code, reason) : null, challenge };
}

/** Take the provider's return out of the URL, once read. */
export function clearOidcReturn(): void {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('oidc_error') && !url.hash.includes('oidc_challenge')) return;
  url.searchParams.delete('oidc_error');
  url.searchParams.delete('oidc_reason');
  url.hash = '';
  // Replaced, not pushed: a reload or Back must not show the refusal (or reuse the challenge) again.
  window.history.replaceState(null, '', url.pathname + url.search);
}

/** "Sign in with {name}", or nothing when the server has no provider. */
export function OidcSignInButton({ next }: { next: string | null }) {
  const [provider, setProvider] = useState<OidcOption | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    accounts
      .options()
      .then((o) => {
        if (live) setProvider(o.oidc);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);

  if (!provider) return null;
  const go = async () => {
    setError(null);
    setBusy(true);
    try {
      // A navigation, not a fetch: the provider's pages are the next thing this tab shows.
      window.location.assign(await accounts.oidcStart(next ?? '/'));
    } catch (err) {
      setBusy(false);
      const reason = err instanceof ApiError ? (err.details as { reason?: string } | undefined)?.reason : undefined;
      setError(
        err instanceof ApiError ? describe(err.code, reason ?? null) : 'Signing in with the provider did not work.',
      );
    }
  };
  return (
    <div className="app-form">
      <p className="app-form__switch">or</p>
      <button type="button" className="app-button app-button--block" disabled={busy} onClick={go}>
        {busy ? 'One moment…' : `Sign in with ${provider.name}`}
      </button>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
