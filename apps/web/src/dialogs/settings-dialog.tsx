/** Preferences: your profile (display name, username) and the theme. */
import { ParleyError } from '@parley/client';
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { Modal } from '../components/modal.js';
import { useAccount } from '../hooks/account.js';
import { useMeUser } from '../hooks/use-me.js';
import { setThemeChoice, type ThemeChoice, useTheme } from '../lib/theme.js';

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
            ? 'That username is taken. Try another.'
            : err instanceof ParleyError && err.code === 'VALIDATION_ERROR'
              ? 'Usernames use letters, digits, dots, dashes and underscores.'
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
      <label className="app-field" htmlFor={`${id}-name`}>
        <span className="app-field__label">Display name</span>
        <input
          id={`${id}-name`}
          className="app-input"
          value={name}
          maxLength={100}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
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

export function SettingsDialog({ onClose }: { onClose(): void }) {
  const { state } = useAccount();
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
      {state.account ? <p className="app-muted app-settings__account">Signed in as {state.account.email}</p> : null}
    </Modal>
  );
}
