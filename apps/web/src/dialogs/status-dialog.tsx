/** Set or clear your custom status: an emoji, a text and when it clears. */
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { Modal } from '../components/modal.js';
import { useMeUser } from '../hooks/use-me.js';

const PRESETS = [
  { emoji: '📅', text: 'In a meeting', clear: '1h' },
  { emoji: '🚌', text: 'Commuting', clear: '30m' },
  { emoji: '🤒', text: 'Out sick', clear: 'today' },
  { emoji: '🌴', text: 'Vacationing', clear: 'never' },
  { emoji: '🏡', text: 'Working remotely', clear: 'today' },
] as const;

const CLEARS = [
  { value: 'never', label: "Don't clear" },
  { value: '30m', label: '30 minutes' },
  { value: '1h', label: '1 hour' },
  { value: '4h', label: '4 hours' },
  { value: 'today', label: 'Today' },
] as const;
type Clear = (typeof CLEARS)[number]['value'];

function expiry(clear: Clear): string | null {
  const now = new Date();
  if (clear === 'never') return null;
  if (clear === 'today') {
    const end = new Date(now);
    end.setHours(23, 59, 59, 0);
    return end.toISOString();
  }
  const minutes = { '30m': 30, '1h': 60, '4h': 240 }[clear];
  return new Date(now.getTime() + minutes * 60_000).toISOString();
}

export function StatusDialog({ onClose }: { onClose(): void }) {
  const client = useChatClient();
  const me = useMeUser();
  const id = useId();
  const [emoji, setEmoji] = useState(me?.status?.emoji ?? '💬');
  const [text, setText] = useState(me?.status?.text ?? '');
  const [clear, setClear] = useState<Clear>('never');
  const [error, setError] = useState<string | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      if (text.trim()) await client.setStatus({ text: text.trim(), emoji: emoji || null, expires_at: expiry(clear) });
      else await client.setStatus({ text: null });
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const clearNow = async () => {
    try {
      await client.setStatus({ text: null });
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <Modal
      title="Set a status"
      onClose={onClose}
      size="small"
      footer={
        <>
          {me?.status?.text ? (
            <button type="button" className="app-button app-button--ghost" onClick={() => void clearNow()}>
              Clear status
            </button>
          ) : null}
          <button type="submit" form={`${id}-form`} className="app-button app-button--primary">
            Save
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="app-form" onSubmit={save}>
        <div className="app-status-input">
          <input
            className="app-status-input__emoji"
            aria-label="Status emoji"
            value={emoji}
            maxLength={8}
            onChange={(e) => setEmoji(e.target.value)}
          />
          <input
            className="app-input"
            aria-label="Status text"
            placeholder="What's your status?"
            value={text}
            maxLength={100}
            // biome-ignore lint/a11y/noAutofocus: first field of a dialog the user opened
            autoFocus
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        <ul className="app-presets" aria-label="Suggestions">
          {PRESETS.map((p) => (
            <li key={p.text}>
              <button
                type="button"
                className="app-preset"
                onClick={() => {
                  setEmoji(p.emoji);
                  setText(p.text);
                  setClear(p.clear);
                }}
              >
                <span aria-hidden="true">{p.emoji}</span> {p.text}
                <span className="app-muted"> — {CLEARS.find((c) => c.value === p.clear)?.label}</span>
              </button>
            </li>
          ))}
        </ul>
        <label className="app-field" htmlFor={`${id}-clear`}>
          <span className="app-field__label">Clear after</span>
          <select
            id={`${id}-clear`}
            className="app-input"
            value={clear}
            onChange={(e) => setClear(e.target.value as Clear)}
          >
            {CLEARS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
