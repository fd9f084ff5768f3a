/**
 * Privacy: whether others see when you have read their messages (Zulip's "Let others see when
 * I've read messages"). Saved as soon as it is switched; the server keeps your own read state
 * exactly as it was, only what others see of it changes.
 */
import { useChatClient } from '@parley/react';
import { useEffect, useId, useState } from 'react';

export function PrivacySettings() {
  const client = useChatClient();
  const id = useId();
  /** Whether your read receipts are shown; null until the server said. */
  const [shown, setShown] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    client
      .getReadPrivacy()
      .then((p) => live && setShown(!p.hide_read_receipts))
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [client]);

  // The box shows the new value at once (as a switch does) and is held until the server
  // answered; a refusal puts the old value back with the reason.
  const change = async (next: boolean) => {
    setShown(next);
    setBusy(true);
    setError(null);
    try {
      setShown(!(await client.setReadPrivacy({ hide_read_receipts: !next })).hide_read_receipts);
    } catch (e) {
      setShown(!next);
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="app-settings__section" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="app-section-title">
        Privacy
      </h3>
      <label className="app-check">
        <input
          type="checkbox"
          checked={shown ?? true}
          disabled={shown === null || busy}
          onChange={(e) => void change(e.target.checked)}
        />
        Let others see when I've read messages
      </label>
      <p className="app-field__hint">
        When off, you are left out of "Seen by" — in direct messages too — and count as not having seen a message. Your
        own unread counts are not affected.
      </p>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
