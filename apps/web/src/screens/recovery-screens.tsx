/**
 * The pages of mailed links and of a forgotten password: ask for a reset link, set a new
 * password from one, verify an email, confirm a change of email. Each sits in the same card
 * as the sign-in page.
 */
import type { AuthOptions } from '@parley/protocol';
import { PASSWORD_MIN_LENGTH } from '@parley/protocol';
import { type FormEvent, type ReactNode, useEffect, useId, useState } from 'react';
import { AuthCard } from '../components/auth-card.js';
import { TextField } from '../components/text-field.js';
import { useAccount } from '../hooks/account.js';
import { isBadLink, newPasswordProblem } from '../lib/account-errors.js';
import { accounts } from '../lib/api.js';
import { navigate, onLinkClick } from '../lib/router.js';

function Card({ title, lead, children }: { title: string; lead?: ReactNode; children: ReactNode }) {
  return (
    <AuthCard>
      <h1 className="app-auth__title">{title}</h1>
      {lead ? <p className="app-auth__lead">{lead}</p> : null}
      {children}
    </AuthCard>
  );
}

const BackToSignIn = () => (
  <p className="app-form__switch">
    <a href="/signin" onClick={onLinkClick('/signin')}>
      Back to sign in
    </a>
  </p>
);

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** `/forgot-password`: ask for a reset link. The answer never says whether the email has an account. */
export function ForgotPasswordScreen() {
  const id = useId();
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [options, setOptions] = useState<AuthOptions | null>(null);
  useEffect(() => {
    accounts
      .options()
      .then(setOptions)
      .catch(() => {});
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await accounts.forgotPassword(email.trim());
      setSent(true);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  if (sent)
    return (
      <Card title="Check your email">
        <p role="status" className="app-auth__lead">
          If an account uses {email.trim()}, we sent it a link to choose a new password. The link works once, for 30
          minutes.
        </p>
        <BackToSignIn />
      </Card>
    );
  return (
    <Card title="Forgot your password?" lead="Enter your email and we will send you a link to choose a new one.">
      {options?.email_delivery === 'log' ? (
        <p className="app-form__error" role="note">
          This server cannot send email yet (no SMTP server is configured): ask its administrator for the link, which is
          written to the server's log.
        </p>
      ) : null}
      <form className="app-form" onSubmit={submit} aria-label="Forgot password">
        <TextField
          id={`${id}-email`}
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onValue={setEmail}
        />
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="app-button app-button--primary app-button--block" disabled={busy}>
          {busy ? 'One moment…' : 'Send reset link'}
        </button>
      </form>
      <BackToSignIn />
    </Card>
  );
}

/** `/reset-password?token=…`: choose a new password; every session ends, then sign in with it. */
export function ResetPasswordScreen({ token }: { token: string }) {
  const id = useId();
  const { lost } = useAccount();
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [badLink, setBadLink] = useState(!token);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (next !== again) {
      setError('The two passwords do not match.');
      return;
    }
    setBusy(true);
    try {
      await accounts.resetPassword(token, next);
      lost(); // every session of the account ended, this browser's too
      navigate('/signin?reset=1', { replace: true });
    } catch (err) {
      setBusy(false);
      if (isBadLink(err)) setBadLink(true);
      else setError(newPasswordProblem(err) ?? message(err));
    }
  };

  if (badLink)
    return (
      <Card
        title="This link does not work"
        lead="It may have expired (links work for 30 minutes) or been used already."
      >
        <a className="app-button app-button--primary" href="/forgot-password" onClick={onLinkClick('/forgot-password')}>
          Send a new link
        </a>
        <BackToSignIn />
      </Card>
    );
  return (
    <Card title="Choose a new password" lead="You will be signed out everywhere, then sign in with the new password.">
      <form className="app-form" onSubmit={submit} aria-label="Choose a new password">
        <TextField
          id={`${id}-new`}
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          value={next}
          onValue={setNext}
          hint=<>At least {PASSWORD_MIN_LENGTH} characters, not a common one.</>
        />
        <TextField
          id={`${id}-again`}
          label="Confirm new password"
          type="password"
          autoComplete="new-password"
          required
          value={again}
          onValue={setAgain}
        />
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="app-button app-button--primary app-button--block" disabled={busy}>
          {busy ? 'One moment…' : 'Set new password'}
        </button>
      </form>
    </Card>
  );
}

/**
 * One request per link, even when React runs the effect twice (StrictMode in development): a
 * second request with a one-time token would be refused and show a used link as broken.
 */
const redeemed = new Map<string, Promise<unknown>>();
function redeemOnce(kind: 'verify' | 'confirm', token: string): Promise<unknown> {
  const key = `${kind}:${token}`;
  let p = redeemed.get(key);
  if (!p) {
    p = kind === 'verify' ? accounts.verifyEmail(token) : accounts.confirmEmail(token);
    redeemed.set(key, p);
  }
  return p;
}

/** `/verify-email?token=…` and `/confirm-email?token=…`: one request, then the outcome. */
export function MailLinkScreen({ kind, token }: { kind: 'verify' | 'confirm'; token: string }) {
  const [state, setState] = useState<'working' | 'done' | 'bad' | 'error'>(token ? 'working' : 'bad');
  const [error, setError] = useState('');
  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    redeemOnce(kind, token)
      .then(() => !cancelled && setState('done'))
      .catch((err: unknown) => {
        if (cancelled) return;
        if (isBadLink(err)) setState('bad');
        else {
          setError(message(err));
          setState('error');
        }
      });
    return () => {
      cancelled = true;
    };
  }, [kind, token]);

  const what = kind === 'verify' ? 'Email confirmed' : 'Email changed';
  if (state === 'working') return <Card title="One moment…">{null}</Card>;
  if (state === 'bad')
    return (
      <Card title="This link does not work" lead="It may have expired or been used already.">
        <BackToSignIn />
      </Card>
    );
  if (state === 'error')
    return (
      <Card title="Something went wrong">
        <p className="app-form__error" role="alert">
          {error}
        </p>
        <BackToSignIn />
      </Card>
    );
  return (
    <Card
      title={what}
      lead={
        kind === 'verify' ? 'Thanks: your email address is confirmed.' : 'Your account now uses the new email address.'
      }
    >
      <a className="app-button app-button--primary" href="/" onClick={onLinkClick('/')}>
        Continue to Parley
      </a>
    </Card>
  );
}
