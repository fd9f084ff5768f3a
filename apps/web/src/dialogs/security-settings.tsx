/**
 * The account's security in Preferences: two-factor sign-in (set up with a QR code and a first
 * code, backup codes shown once, turned off with the password or a code) and the list of
 * signed-in sessions (sign out one, or every other).
 */
import type { AccountSessionInfo, TwoFactorSetup, TwoFactorStatus } from '@parley/protocol';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { TextField } from '../components/text-field.js';
import { ApiError, accounts } from '../lib/api.js';

type Note = { ok: boolean; text: string } | null;

function problem(err: unknown, wrong: string): string {
  if (err instanceof ApiError && err.code === 'FORBIDDEN') return wrong;
  if (err instanceof ApiError && err.code === 'RATE_LIMITED') return 'Too many tries. Wait a minute and try again.';
  return err instanceof Error ? err.message : String(err);
}

function NoteLine({ note }: { note: Note }) {
  if (!note) return null;
  return (
    <span className={note.ok ? 'app-ok' : 'app-form__error'} role={note.ok ? 'status' : 'alert'}>
      {note.text}
    </span>
  );
}

/** Backup codes, shown once: the person saves them before moving on. */
function BackupCodes({ codes, onDone }: { codes: string[]; onDone(): void }) {
  return (
    <section className="app-form" aria-label="Backup codes">
      <p className="app-muted">
        Save these backup codes somewhere safe. Each one signs you in once if you lose your phone. They are shown only
        now.
      </p>
      <ul className="app-backup-codes" aria-label="Your backup codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <div className="app-row">
        <button
          type="button"
          className="app-button"
          onClick={() => void navigator.clipboard?.writeText(codes.join('\n'))}
        >
          Copy codes
        </button>
        <button type="button" className="app-button app-button--primary" onClick={onDone}>
          I saved my backup codes
        </button>
      </div>
    </section>
  );
}

/** Setting it up: the password, then the QR code and a first code from the app. */
function Setup({ onEnabled, onCancel }: { onEnabled(codes: string[]): void; onCancel(): void }) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>(null);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    setBusy(true);
    try {
      setSetup(await accounts.setupTwoFactor(password));
      setPassword('');
    } catch (err) {
      setNote({ ok: false, text: problem(err, 'Your password is not right.') });
    } finally {
      setBusy(false);
    }
  };
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    setBusy(true);
    try {
      onEnabled(await accounts.enableTwoFactor(code.trim()));
    } catch (err) {
      setBusy(false);
      setNote({
        ok: false,
        text: problem(err, 'That code is not right. Check the time on your phone and enter the newest code.'),
      });
    }
  };

  if (!setup)
    return (
      <form className="app-form" onSubmit={start} aria-label="Set up two-factor sign-in">
        <TextField
          id={`${id}-password`}
          label="Your password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
        />
        <div className="app-row">
          <button type="submit" className="app-button app-button--primary" disabled={busy || !password}>
            Continue
          </button>
          <button type="button" className="app-button" onClick={onCancel}>
            Cancel
          </button>
          <NoteLine note={note} />
        </div>
      </form>
    );

  return (
    <form className="app-form" onSubmit={confirm} aria-label="Confirm two-factor sign-in">
      <p className="app-muted">
        Scan this QR code with an authenticator app (1Password, Google Authenticator, Authy…), then enter the 6-digit
        code it shows.
      </p>
      <img className="app-qr" src={setup.qr_code} alt="QR code for your authenticator app" width={180} height={180} />
      <p className="app-muted">
        Cannot scan? Enter this key instead: <code className="app-secret">{setup.secret}</code>
      </p>
      <TextField
        id={`${id}-code`}
        label="Code from the app"
        autoComplete="one-time-code"
        inputMode="numeric"
        maxLength={10}
        value={code}
        onValue={setCode}
      />
      <div className="app-row">
        <button type="submit" className="app-button app-button--primary" disabled={busy || !code.trim()}>
          Turn on
        </button>
        <button type="button" className="app-button" onClick={onCancel}>
          Cancel
        </button>
        <NoteLine note={note} />
      </div>
    </form>
  );
}

/** With the password or a code: turn it off, or make new backup codes. */
function Manage({ status, onChanged }: { status: TwoFactorStatus; onChanged(codes: string[] | null): void }) {
  const id = useId();
  const [proof, setProof] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>(null);
  // A code is digits or a backup code's shape; anything else is taken for the password.
  const asProof = () =>
    /^[\d\s]{6,8}$/.test(proof) || /^[0-9a-z]{4}-?[0-9a-z]{4}-?[0-9a-z]{4}$/i.test(proof.trim())
      ? { code: proof.trim() }
      : { password: proof };

  const run = async (what: 'off' | 'codes') => {
    setNote(null);
    setBusy(true);
    try {
      if (what === 'off') {
        await accounts.disableTwoFactor(asProof());
        onChanged(null);
      } else onChanged(await accounts.newBackupCodes(asProof()));
    } catch (err) {
      setNote({ ok: false, text: problem(err, 'That password or code is not right.') });
      setBusy(false);
    }
  };

  return (
    <form
      className="app-form"
      onSubmit={(e) => {
        e.preventDefault();
        void run('off');
      }}
      aria-label="Manage two-factor sign-in"
    >
      <p className="app-muted">
        On{status.enabled_at ? ` since ${new Date(status.enabled_at).toLocaleDateString()}` : ''} ·{' '}
        {status.backup_codes_left} backup code{status.backup_codes_left === 1 ? '' : 's'} left
      </p>
      <TextField
        id={`${id}-proof`}
        label="Password or a current code"
        type="password"
        autoComplete="current-password"
        value={proof}
        onValue={setProof}
      />
      <div className="app-row">
        <button type="button" className="app-button" disabled={busy || !proof} onClick={() => void run('codes')}>
          New backup codes
        </button>
        <button type="submit" className="app-button app-button--danger-outline" disabled={busy || !proof}>
          Turn off
        </button>
        <NoteLine note={note} />
      </div>
    </form>
  );
}

export function TwoFactorSettings({ onChanged }: { onChanged?(enabled: boolean): void }) {
  const [status, setStatus] = useState<TwoFactorStatus | null>(null);
  const [mode, setMode] = useState<'view' | 'setup'>('view');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [note, setNote] = useState<Note>(null);

  const load = useCallback(() => {
    accounts
      .twoFactor()
      .then(setStatus)
      .catch((err: unknown) => setNote({ ok: false, text: err instanceof Error ? err.message : String(err) }));
  }, []);
  useEffect(load, [load]);

  return (
    <section className="app-settings__section" aria-labelledby="two-factor-title">
      <h3 id="two-factor-title" className="app-section-title">
        Two-factor sign-in
      </h3>
      {codes ? (
        <BackupCodes
          codes={codes}
          onDone={() => {
            setCodes(null);
            load();
          }}
        />
      ) : mode === 'setup' ? (
        <Setup
          onEnabled={(c) => {
            setMode('view');
            setCodes(c);
            setNote({ ok: true, text: 'Two-factor sign-in is on.' });
            onChanged?.(true);
          }}
          onCancel={() => setMode('view')}
        />
      ) : status?.enabled ? (
        <Manage
          status={status}
          onChanged={(c) => {
            if (c) setCodes(c);
            else {
              setNote({ ok: true, text: 'Two-factor sign-in is off.' });
              onChanged?.(false);
              load();
            }
          }}
        />
      ) : status ? (
        <div className="app-settings__danger">
          <p className="app-field__hint">
            Off. With it on, signing in also asks for a code from an authenticator app on your phone.
          </p>
          <button type="button" className="app-button" onClick={() => setMode('setup')}>
            Set up
          </button>
        </div>
      ) : null}
      <NoteLine note={codes ? null : note} />
    </section>
  );
}

// ---- sessions ------------------------------------------------------------------------------

const ago = (iso: string) => {
  const mins = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (mins < 2) return 'active now';
  if (mins < 60) return `active ${mins} minutes ago`;
  const hours = Math.round(mins / 60);
  if (hours < 48) return `active ${hours} hour${hours === 1 ? '' : 's'} ago`;
  return `active ${Math.round(hours / 24)} days ago`;
};

const deviceName = (s: AccountSessionInfo) =>
  [s.browser ?? 'Unknown browser', s.os ? `on ${s.os}` : null].filter(Boolean).join(' ');

export function SessionsSettings() {
  const [sessions, setSessions] = useState<AccountSessionInfo[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>(null);

  const load = useCallback(() => {
    accounts
      .sessions()
      .then((r) => setSessions(r.sessions))
      .catch((err: unknown) => setNote({ ok: false, text: err instanceof Error ? err.message : String(err) }));
  }, []);
  useEffect(load, [load]);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setNote(null);
    try {
      await what();
      setNote({ ok: true, text: done });
    } catch (err) {
      setNote({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
      load();
    }
  };
  const others = sessions?.filter((s) => !s.current).length ?? 0;

  return (
    <section className="app-settings__section" aria-labelledby="sessions-title">
      <h3 id="sessions-title" className="app-section-title">
        Where you are signed in
      </h3>
      {sessions ? (
        <ul className="app-roster" aria-label="Sessions">
          {sessions.map((s) => (
            <li key={s.id} className="app-roster__row app-session" aria-label={deviceName(s)}>
              <div>
                <div className="app-session__name">
                  {deviceName(s)}
                  {s.current ? <span className="app-session__badge">This browser</span> : null}
                </div>
                <div className="app-field__hint">
                  {s.device !== 'unknown' ? `${s.device} · ` : ''}
                  {s.ip ?? 'unknown IP'} · {s.current ? 'active now' : ago(s.last_seen_at)} · signed in{' '}
                  {new Date(s.created_at).toLocaleDateString()}
                </div>
              </div>
              {s.current ? null : (
                <button
                  type="button"
                  className="app-button app-button--danger-outline"
                  disabled={busy}
                  onClick={() => void act(() => accounts.endSession(s.id), `Signed out ${deviceName(s)}.`)}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="app-row">
        <button
          type="button"
          className="app-button"
          disabled={busy || others === 0}
          onClick={() => void act(() => accounts.signOutOthers(), 'Signed out everywhere else.')}
        >
          Sign out all other sessions
        </button>
        <NoteLine note={note} />
      </div>
    </section>
  );
}
