/**
 * Preferences: your profile (display name, username), the theme, your privacy (read receipts),
 * your storage use, and your account — its password and email, two-factor sign-in, its sessions,
 * and signing out everywhere.
 */
import { ParleyError } from '@parley/client';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { Modal } from '../components/modal.js';
import { TextField } from '../components/text-field.js';
import { leave, useAccount } from '../hooks/account.js';
import { useMeUser } from '../hooks/use-me.js';
import { newPasswordProblem } from '../lib/account-errors.js';
import { ApiError, accounts } from '../lib/api.js';
import { setThemeChoice, type ThemeChoice, useTheme } from '../lib/theme.js';
import { DataExportSettings } from './data-export.js';
import { PrivacySettings } from './privacy-settings.js';
import { SessionsSettings, TwoFactorSettings } from './security-settings.js';
import { StorageSettings } from './storage-settings.js';

const THEMES: { value: ThemeChoice; label: string; hint: string }[] = [
  { value: 'light', label: 'Light', hint: 'Bright and clear' },
  { value: 'dark', label: 'Dark', hint: 'Easy on the eyes' },
  { value: 'system', label: 'System', hint: 'Follow your device' },
];

function Profile() {
  const client = useChatClient();
  const me = useMeUser();
  const id = useId();
  const [name, setName] = useState(me?.name ?? '');
  const [username, setUsername] = useState(me?.username ?? '');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setNote(null);
    try {
      await client.updateMe({
        ...(name.trim() && name.trim() !== me?.name ? { name: name.trim() } : {}),
        ...(username.trim() && username.trim() !== me?.username ? { username: username.trim() } : {}),
      });
      setNote({ ok: true, text: 'Saved.' });
    } catch (err) {
      setNote({
        ok: false,
        text:
          err instanceof ParleyError && err.code === 'CONFLICT'
            ? `${err.message}. Try another.` // whose it is: a person's or a group's
            : err instanceof ParleyError && err.code === 'VALIDATION_ERROR'
              ? (err.details as { reason?: string } | undefined)?.reason === 'reserved'
                ? 'That username is reserved. Try another.'
                : 'Usernames use letters, digits, dots, dashes and underscores.'
              : err instanceof Error
                ? err.message
                : String(err),
      });
    } finally {
      setBusy(false);
    }
  };
  const changed = (name.trim() && name.trim() !== me?.name) || (username.trim() && username.trim() !== me?.username);

  return (
    <form className="app-form" onSubmit={save} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="app-section-title">
        Profile
      </h3>
      <TextField id={`${id}-name`} label="Display name" value={name} maxLength={100} onValue={setName} />
      <label className="app-field" htmlFor={`${id}-username`}>
        <span className="app-field__label">Username</span>
        <span className="app-input-prefix">
          <span aria-hidden="true">@</span>
          <input
            id={`${id}-username`}
            className="app-input"
            value={username}
            maxLength={64}
            pattern="[A-Za-z0-9_.\-]+"
            onChange={(e) => setUsername(e.target.value)}
          />
        </span>
        <span className="app-field__hint">People mention you with @{username || 'username'}.</span>
      </label>
      <div className="app-row">
        <button type="submit" className="app-button app-button--primary" disabled={busy || !changed}>
          Save profile
        </button>
        {note ? (
          <span className={note.ok ? 'app-ok' : 'app-form__error'} role={note.ok ? 'status' : 'alert'}>
            {note.text}
          </span>
        ) : null}
      </div>
    </form>
  );
}

function Appearance() {
  const { choice } = useTheme();
  return (
    <fieldset className="app-themes">
      <legend className="app-section-title">Theme</legend>
      <div className="app-themes__grid">
        {THEMES.map((t) => (
          <label
            key={t.value}
            className={`app-theme app-theme--${t.value}${choice === t.value ? ' app-theme--on' : ''}`}
          >
            <input
              type="radio"
              name="theme"
              value={t.value}
              checked={choice === t.value}
              onChange={() => setThemeChoice(t.value)}
            />
            <span className="app-theme__swatch" aria-hidden="true" />
            <span className="app-theme__label">{t.label}</span>
            <span className="app-field__hint">{t.hint}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The server's answer to a password change, in words: its typed errors, not a status code. */
function passwordProblem(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'FORBIDDEN') return 'Your current password is not right.';
    const policy = newPasswordProblem(err);
    if (policy && (err.details as { reason?: unknown } | undefined)?.reason) return policy;
    if (err.code === 'VALIDATION_ERROR') {
      const about = Array.isArray(err.details)
        ? (err.details as { path?: string; message?: string }[]).find((d) => d.path?.endsWith('new_password'))
        : undefined;
      if (about?.message?.includes('characters'))
        return `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`;
    }
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Change the password. Its length is left to the server (the policy lives there, and its
 * answer is shown): only "the two new ones differ" is caught here, which the server cannot see.
 */
function ChangePassword({ email }: { email: string }) {
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    if (next !== again) {
      setNote({ ok: false, text: 'The new passwords do not match.' });
      return;
    }
    setBusy(true);
    try {
      await accounts.changePassword({ current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setAgain('');
      setNote({ ok: true, text: 'Password changed. You were signed out on every other device.' });
    } catch (err) {
      setNote({ ok: false, text: passwordProblem(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="app-form app-settings__section" onSubmit={save} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="app-section-title">
        Change password
      </h3>
      {/* For password managers: which account this password belongs to. */}
      <input type="email" autoComplete="username" value={email} readOnly hidden />
      <TextField
        id={`${id}-current`}
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        onValue={setCurrent}
      />
      <TextField
        id={`${id}-new`}
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onValue={setNext}
        hint=<>At least {PASSWORD_MIN_LENGTH} characters.</>
      />
      <TextField
        id={`${id}-again`}
        label="Confirm new password"
        type="password"
        autoComplete="new-password"
        value={again}
        onValue={setAgain}
      />
      <div className="app-row">
        <button type="submit" className="app-button app-button--primary" disabled={busy || !current || !next || !again}>
          Change password
        </button>
        {note ? (
          <span className={note.ok ? 'app-ok' : 'app-form__error'} role={note.ok ? 'status' : 'alert'}>
            {note.text}
          </span>
        ) : null}
      </div>
    </form>
  );
}

/**
 * Change the email: the current password proves it is the owner; the server mails a link to
 * the new address, and the email changes when it is followed. Also: the address's verification
 * state, and a new verification link on request.
 */
function ChangeEmail({ email, verified }: { email: string; verified: boolean }) {
  const id = useId();
  const [next, setNext] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    setBusy(true);
    try {
      await accounts.changeEmail(next.trim(), password);
      setPassword('');
      setNote({ ok: true, text: `We sent a link to ${next.trim()}. Your email changes when you follow it.` });
    } catch (err) {
      const text =
        err instanceof ApiError && err.code === 'FORBIDDEN'
          ? 'Your password is not right.'
          : err instanceof ApiError && err.code === 'VALIDATION_ERROR'
            ? 'Enter a different, valid email address.'
            : err instanceof Error
              ? err.message
              : String(err);
      setNote({ ok: false, text });
    } finally {
      setBusy(false);
    }
  };
  const resend = async () => {
    setNote(null);
    try {
      await accounts.resendVerification();
      setNote({ ok: true, text: `We sent a new confirmation link to ${email}.` });
    } catch (err) {
      setNote({ ok: false, text: err instanceof Error ? err.message : String(err) });
    }
  };

  return (
    <form className="app-form app-settings__section" onSubmit={save} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="app-section-title">
        Change email
      </h3>
      <p className="app-muted">
        {email} · {verified ? 'confirmed' : 'not confirmed yet'}{' '}
        {verified ? null : (
          <button type="button" className="app-link-button" onClick={resend}>
            Send a new link
          </button>
        )}
      </p>
      <TextField id={`${id}-new`} label="New email" type="email" autoComplete="email" value={next} onValue={setNext} />
      <TextField
        id={`${id}-password`}
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onValue={setPassword}
      />
      <div className="app-row">
        <button type="submit" className="app-button app-button--primary" disabled={busy || !next || !password}>
          Change email
        </button>
        {note ? (
          <span className={note.ok ? 'app-ok' : 'app-form__error'} role={note.ok ? 'status' : 'alert'}>
            {note.text}
          </span>
        ) : null}
      </div>
    </form>
  );
}

/** Sign out of every session of the account. The server has no "every other one": this one ends too. */
function SignOutEverywhere() {
  const client = useChatClient();
  const { signOutEverywhere } = useAccount();
  const [busy, setBusy] = useState(false);
  return (
    <div className="app-settings__section app-settings__danger">
      <div>
        <h3 className="app-section-title">Sessions</h3>
        <p className="app-field__hint">Signs you out on every device and browser, this one included.</p>
      </div>
      <button
        type="button"
        className="app-button app-button--danger-outline"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void leave(client, signOutEverywhere);
        }}
      >
        Sign out everywhere
      </button>
    </div>
  );
}

export function SettingsDialog({
  onClose,
  onOpenMessage,
}: {
  onClose(): void;
  /** Show a message in its conversation (from the storage section's largest files). */
  onOpenMessage?: (cid: string, messageId: string) => void;
}) {
  const { state, signedIn } = useAccount();
  return (
    <Modal
      title="Preferences"
      onClose={onClose}
      footer={
        <button type="button" className="app-button" onClick={onClose}>
          Close
        </button>
      }
    >
      <Profile />
      <Appearance />
      <PrivacySettings />
      <StorageSettings onOpenMessage={onOpenMessage} />
      {state.account ? (
        <>
          <ChangePassword email={state.account.email} />
          <ChangeEmail email={state.account.email} verified={state.account.email_verified} />
          <TwoFactorSettings onChanged={() => void accounts.me().then((a) => a && signedIn(a))} />
          <SessionsSettings />
          <DataExportSettings />
          <SignOutEverywhere />
          <p className="app-muted app-settings__account">Signed in as {state.account.email}</p>
        </>
      ) : null}
    </Modal>
  );
}
