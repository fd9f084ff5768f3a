/** The sign-in and sign-up pages. */
import { useEffect, useState } from 'react';
import { AuthCard } from '../components/auth-card.js';
import { AuthForm, SecondStep } from '../components/auth-form.js';
import { clearOidcReturn, OidcSignInButton, readOidcReturn } from '../components/oidc-sign-in.js';
import { useAccount } from '../hooks/account.js';
import { navigate } from '../lib/router.js';

export function AuthScreen({ mode, next }: { mode: 'signin' | 'signup'; next: string | null }) {
  const query = next ? `?next=${encodeURIComponent(next)}` : '';
  const { signedIn } = useAccount();
  // Back from the OpenID Connect provider: a refusal to show, or a second step to take.
  const [oidc, setOidc] = useState(readOidcReturn);
  useEffect(clearOidcReturn, []);
  return (
    <AuthCard>
      <h1 className="app-auth__title">{mode === 'signup' ? 'Create your account' : 'Sign in to Parley'}</h1>
      <p className="app-auth__lead">
        {mode === 'signup'
          ? 'Channels, direct messages and threads for your team.'
          : 'Welcome back. Pick up where your team left off.'}
      </p>
      {mode === 'signin' && new URLSearchParams(window.location.search).get('reset') === '1' ? (
        <p className="app-ok" role="status">
          Your password was changed and you were signed out everywhere. Sign in with the new password.
        </p>
      ) : null}
      {oidc.error ? (
        <p className="app-form__error" role="alert">
          {oidc.error}
        </p>
      ) : null}
      {oidc.challenge ? (
        <SecondStep
          challenge={oidc.challenge}
          onDone={(account) => {
            signedIn(account);
            navigate(next ?? '/', { replace: true });
          }}
          onRestart={(why) => setOidc({ error: why, challenge: null })}
        />
      ) : (
        <>
          <AuthForm
            mode={mode}
            onModeChange={(m) => navigate(`/${m}${query}`, { replace: true })}
            onDone={() => navigate(next ?? '/', { replace: true })}
          />
          <OidcSignInButton next={next} />
        </>
      )}
    </AuthCard>
  );
}
