/**
 * `<EphemeralMessages>`: the messages only you see in this conversation — a slash command's
 * answer, a `/giphy` preview with Send / Shuffle / Cancel, an app's buttons, an error — shown
 * above the composer (`<MessageInput>` renders them). They live in `client.commands`, never in
 * the channel's history; a button click goes to the server (and on to the app), which may
 * replace or remove the message on every one of your connections.
 */
import type { EphemeralMessage } from '@parley/protocol';
import { useState, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';
import { cx } from './format.js';

const NONE: readonly EphemeralMessage[] = [];

/** Your ephemeral messages in `cid` (in the thread `parentId`, or the channel itself). */
export function useEphemeralMessages(cid: string, parentId: string | null = null): readonly EphemeralMessage[] {
  const client = useChatClient();
  const all = useSyncExternalStore(
    (l) => client.commands.state.subscribe(l),
    () => client.commands.state.get().ephemeral[cid] ?? NONE,
    () => NONE,
  );
  return all.filter((e) => (e.parent_id ?? null) === parentId);
}

/** Props of {@link EphemeralMessages}. */
export interface EphemeralMessagesProps {
  cid: string;
  parentId?: string | null;
  className?: string;
}

/** The list (see the module comment). */
export function EphemeralMessages({ cid, parentId = null, className }: EphemeralMessagesProps) {
  const list = useEphemeralMessages(cid, parentId);
  if (!list.length) return null;
  return (
    <div className={cx('parley-ephemerals', className)}>
      {list.map((e) => (
        <EphemeralItem key={e.id} ephemeral={e} />
      ))}
    </div>
  );
}

function EphemeralItem({ ephemeral: e }: { ephemeral: EphemeralMessage }) {
  const client = useChatClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const click = (name: string, value?: string) => {
    setBusy(name);
    setFailed(null);
    client.commands
      .act(e, name, value)
      .catch((err: unknown) => setFailed(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(null));
  };
  return (
    <section
      className={cx('parley-ephemeral', e.error && 'parley-ephemeral--error')}
      aria-label={`Only visible to you: /${e.command}`}
      role={e.error ? 'alert' : 'status'}
    >
      <div className="parley-ephemeral__head">
        <span className="parley-ephemeral__badge">Only visible to you</span>
        <button
          type="button"
          className="parley-icon-button parley-ephemeral__dismiss"
          aria-label="Dismiss"
          onClick={() => {
            client.commands.dismiss(e).catch(() => {});
          }}
        >
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {e.text ? <p className="parley-ephemeral__text">{e.text}</p> : null}
      {e.images.map((img) => (
        <img
          key={img.url}
          className="parley-ephemeral__image"
          src={img.url}
          alt={img.title ?? 'GIF'}
          width={img.width ?? undefined}
          height={img.height ?? undefined}
        />
      ))}
      {e.actions.length ? (
        <div className="parley-ephemeral__actions">
          {e.actions.map((a) => (
            <button
              key={a.name}
              type="button"
              className={cx(
                'parley-button',
                a.style === 'primary' && 'parley-button--primary',
                a.style === 'danger' && 'parley-button--danger',
              )}
              disabled={busy !== null}
              onClick={() => click(a.name, a.value)}
            >
              {a.text}
            </button>
          ))}
        </div>
      ) : null}
      {failed ? (
        <p className="parley-error" role="alert">
          {failed}
        </p>
      ) : null}
    </section>
  );
}
