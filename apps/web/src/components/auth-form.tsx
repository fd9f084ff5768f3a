/**
 * Sign-in and sign-up forms (used by the sign-in page and the invite page). On success the
 * account is recorded in context and `onDone` runs.
 */
import { type Account, PASSWORD_MIN_LENGTH } from '@parley/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useAccount } from '../hooks/account.js';
import { newPasswordProblem, signInProblem } from '../lib/account-errors.js';
import { ApiError, accounts } from '../lib/api.js';
import { onLinkClick } from '../lib/router.js';
import { TextField } from './text-field.js';

export type AuthMode = 'signin' | 'signup';

export interface AuthFormProps {
  mode: AuthMode;
  onModeChange(mode: AuthMode): void;
  onDone(): void;
  /** The submit button's text; default "Sign in" / "Create account". */
  submitLabel?: string;
}

export function AuthForm({ mode, onModeChange, onDone, submitLabel }: AuthFormProps) {
  const { signedIn } = useAccount();
  const id = useId();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Sign-up on a server that wants the email verified first: no session yet. */
  const [checkMail, setCheckMail] = useState<string | null>(null);
  /** The password was right and two-factor sign-in is on: the challenge of the second step. */
  const [challenge, setChallenge] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (mode === 'signup' && [...password].length < PASSWORD_MIN_LENGTH) {
      setError(`Use at least ${PASSWORD_MIN_LENGTH} characters for your password.`);
      return;
    }
    setBusy(true);
    try {
      const result =
        mode === 'signup'
          ? await accounts.signUp({ name: name.trim(), email: email.trim(), password })
          : await accounts.signIn({ email: email.trim(), password });
      // Two-factor sign-in is on: the password was right, a code comes next.
      if ('two_factor_required' in result) {
        setBusy(false);
        setChallenge(result.challenge);
        return;
      }
      const account = result;
      // Signed up, but the server wants the email verified before a session: no cookie was set.
      if (mode === 'signup' && !account.email_verified && !(await accounts.me())) {
        setBusy(false);
        setCheckMail(account.email);
        return;
      }
      signedIn(account);
      onDone();
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.code === 'CONFLICT')
        setError('An account with this email already exists. Sign in instead?');
      else if (err instanceof ApiError && err.status === 401) setError('That email and password do not match.');
      else
        setError(
          signInProblem(err) ??
            newPasswordProblem(err, 'password') ??
            (err instanceof Error ? err.message : String(err)),
        );
    }
  };

  if (challenge)
    return (
      <SecondStep
        challenge={challenge}
        onDone={(account) => {
          signedIn(account);
          onDone();
        }}
        onRestart={(why) => {
          setChallenge(null);
          setPassword('');
          setError(why);
        }}
      />
    );

  if (checkMail)
    return (
      <p className="app-auth__lead" role="status">
        Almost there: we sent a link to {checkMail}. Follow it to confirm your email, then sign in.
      </p>
    );

  return (
    <form className="app-form" onSubmit={submit} aria-label={mode === 'signup' ? 'Create an account' : 'Sign in'}>
      {mode === 'signup' ? (
        <TextField
          id={`${id}-name`}
          label="Full name"
          name="name"
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          onValue={setName}
          placeholder="Ada Lovelace"
        />
      ) : null}
      <TextField
        id={`${id}-email`}
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onValue={setEmail}
        placeholder="name@work-email.com"
      />
      <TextField
        id={`${id}-password`}
        label="Password"
        name="password"
        type="password"
        autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
        required
        value={password}
        onValue={setPassword}
        placeholder={mode === 'signup' ? `At least ${PASSWORD_MIN_LENGTH} characters` : ''}
      />
      {mode === 'signin' ? (
        <p className="app-form__switch">
          <a href="/forgot-password" onClick={onLinkClick('/forgot-password')}>
            Forgot your password?
          </a>
        </p>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="app-button app-button--primary app-button--block" disabled={busy}>
        {busy ? 'One moment…' : (submitLabel ?? (mode === 'signup' ? 'Create account' : 'Sign in'))}
      </button>
      <p className="app-form__switch">
        {mode === 'signup' ? 'Already have an account?' : 'New to Parley?'}{' '}
        <button
          type="button"
          className="app-link-button"
          onClick={() => {
            setError(null);
            onModeChange(mode === 'signup' ? 'signin' : 'signup');
          }}
        >
          {mode === 'signup' ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </form>
  );
}

/**
 * Sign-in's second step: a code from the authenticator app, or a backup code. A wrong code
 * can be tried again (the server counts it toward the lockout); an expired challenge sends the
 * person back to the password. (Also after an OpenID Connect provider: oidc-sign-in.tsx.)
 */
export function SecondStep({
  challenge,
  onDone,
  onRestart,
}: {
  challenge: string;
  onDone(account: Account): void;
  onRestart(why: string): void;
}) {
  const id = useId();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      onDone(await accounts.signInSecondStep(challenge, code.trim()));
    } catch (err) {
      setBusy(false);
      const reason = err instanceof ApiError ? (err.details as { reason?: unknown } | undefined)?.reason : undefined;
      if (reason === 'invalid_challenge') onRestart('That took too long. Enter your password again.');
      else if (err instanceof ApiError && err.code === 'ACCOUNT_LOCKED') onRestart(signInProblem(err) ?? err.message);
      else if (reason === 'wrong_code') setError('That code is not right. Try the newest code from your app.');
      else setError(signInProblem(err) ?? (err instanceof Error ? err.message : String(err)));
    }
  };

  return (
    <form className="app-form" onSubmit={submit} aria-label="Two-step verification">
      <p className="app-auth__lead">
        Open your authenticator app and enter the 6-digit code for Parley. Lost your phone? Use one of your backup codes
        instead.
      </p>
      <TextField
        id={`${id}-code`}
        label="Authentication code"
        name="code"
        autoComplete="one-time-code"
        autoCapitalize="off"
        spellCheck={false}
        required
        maxLength={64}
        // Focused: the only field of this step, shown right after the password.
        autoFocus
        value={code}
        onValue={setCode}
        placeholder="123456"
      />
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <button
        type="submit"
        className="app-button app-button--primary app-button--block"
        disabled={busy || !code.trim()}
      >
        {busy ? 'Checking…' : 'Verify'}
      </button>
    </form>
  );
}
