/**
 * The admin console's Emoji tab: the workspace's custom emoji (add one: a shortcode, aliases and
 * a PNG, GIF or WebP image; remove one), and who may manage them (admins, or everyone). The list
 * is the SDK's (`client.emoji`), kept current live by `emoji.updated`, so another admin's change
 * shows here at once.
 */
import type { EmojiSettings } from '@parley/protocol';
import { useChatClient, useCustomEmoji, useMe } from '@parley/react';
import { useEffect, useRef, useState } from 'react';
import { Modal } from '../components/modal.js';
import type { AdminTabProps } from './tab-props.js';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The workspace's custom emoji for everyone (workspace menu): add and remove where the setting lets them. */
export function EmojiDialog({ isAdmin, onClose }: { isAdmin: boolean; onClose(): void }) {
  return (
    <Modal title="Custom emoji" subtitle="The workspace's own emoji, for messages and reactions" onClose={onClose}>
      <EmojiTab isAdmin={isAdmin} />
    </Modal>
  );
}

export function EmojiTab({ isAdmin = true }: { isAdmin?: boolean } & Partial<AdminTabProps>) {
  const me = useMe();
  const client = useChatClient();
  const emoji = useCustomEmoji();
  const [shortcode, setShortcode] = useState('');
  const [aliases, setAliases] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [who, setWho] = useState<EmojiSettings['who_can_manage'] | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    client.emoji.settings().then(
      (s) => setWho(s.who_can_manage),
      (e: unknown) => setError(message(e)),
    );
  }, [client]);

  const add = () => {
    setError(null);
    if (!shortcode.trim()) return setError('Give the emoji a shortcode, e.g. party_parrot.');
    if (!file) return setError('Choose an image: PNG, GIF or WebP.');
    setBusy(true);
    client.emoji
      .add(
        file,
        shortcode.trim(),
        aliases
          .split(/[\s,]+/)
          .map((a) => a.trim())
          .filter(Boolean),
        file.name,
      )
      .then(
        () => {
          setShortcode('');
          setAliases('');
          setFile(null);
          if (fileInput.current) fileInput.current.value = '';
        },
        (e: unknown) => setError(message(e)),
      )
      .finally(() => setBusy(false));
  };

  const changeWho = (next: EmojiSettings['who_can_manage']) => {
    setError(null);
    client.emoji.setSettings({ who_can_manage: next }).then(
      (s) => setWho(s.who_can_manage),
      (e: unknown) => setError(message(e)),
    );
  };

  return (
    <div className="app-form" data-testid="admin-emoji">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {!isAdmin && who === null && !error ? <p className="app-muted">Checking who may add emoji…</p> : null}
      {!isAdmin && who === 'admins' ? (
        <p className="app-muted">Only admins add custom emoji in this workspace.</p>
      ) : null}
      {isAdmin || who === 'everyone' ? (
        <form
          className="app-form"
          aria-label="Add a custom emoji"
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <div className="app-row">
            <label className="app-field">
              <span className="app-field__label">Shortcode</span>
              <input
                className="app-input"
                value={shortcode}
                placeholder="party_parrot"
                onChange={(e) => setShortcode(e.target.value.toLowerCase())}
              />
            </label>
            <label className="app-field">
              <span className="app-field__label">Aliases (optional)</span>
              <input
                className="app-input"
                value={aliases}
                placeholder="partyparrot, conga"
                onChange={(e) => setAliases(e.target.value)}
              />
            </label>
          </div>
          <label className="app-field">
            <span className="app-field__label">Image (PNG, GIF or WebP, at most 512 KB; shown at 128 px)</span>
            <input
              ref={fileInput}
              type="file"
              accept="image/png,image/gif,image/webp"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </label>
          <div className="app-row app-row--end">
            <button type="submit" className="app-button app-button--primary" disabled={busy}>
              Add emoji
            </button>
          </div>
        </form>
      ) : null}
      {isAdmin ? (
        <label className="app-field">
          <span className="app-field__label">Who may add and remove custom emoji</span>
          <select
            className="app-input"
            value={who ?? 'admins'}
            disabled={who === null}
            onChange={(e) => changeWho(e.target.value as EmojiSettings['who_can_manage'])}
          >
            <option value="admins">Admins only</option>
            <option value="everyone">Everyone</option>
          </select>
        </label>
      ) : null}
      {emoji.length === 0 ? (
        <p className="app-muted">No custom emoji yet.</p>
      ) : (
        <ul className="app-emoji-list" aria-label="Custom emoji">
          {emoji.map((e) => (
            <li key={e.shortcode} className="app-emoji-list__item">
              <img className="app-emoji-list__image" src={e.url} alt={`:${e.shortcode}:`} />
              <span className="app-emoji-list__name">
                :{e.shortcode}:
                {e.aliases.length ? (
                  <span className="app-muted"> also {e.aliases.map((a) => `:${a}:`).join(' ')}</span>
                ) : null}
              </span>
              {isAdmin || (who === 'everyone' && e.created_by === me) ? (
                <button
                  type="button"
                  className="app-button"
                  aria-label={`Remove :${e.shortcode}:`}
                  onClick={() => client.emoji.remove(e.shortcode).catch((err: unknown) => setError(message(err)))}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
