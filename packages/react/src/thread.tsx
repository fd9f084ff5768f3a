/**
 * `<Thread>`: a thread's parent message, its replies (loaded with `channel.getReplies` and
 * kept live by the client from then on), a typing indicator and a reply box.
 */
import { keepLoading, type LocalMessage } from '@parley/client';
import { type ReactNode, useEffect, useId, useMemo, useState } from 'react';
import { useChannelContext } from './channel.js';
import { useChannelState, useMe } from './context.js';
import { cx } from './format.js';
import { MessageInput } from './message-input.js';
import type { MessageUIComponent } from './message-types.js';
import { MessageSlot, useMessageUI } from './message-ui.js';
import { buildRows } from './rows.js';
import { TypingIndicator } from './typing-indicator.js';

/** Props of {@link Thread}. */
export interface ThreadProps {
  /** The parent message id; default: the thread open in the surrounding `<Channel>`. */
  parentId?: string | null;
  /** Called by the close button and Escape; default: close the `<Channel>`'s thread. */
  onClose?(): void;
  /** Called when an author's name is clicked. */
  onSelectUser?(userId: string): void;
  /** Render the parent and replies with this; default: the surrounding `<Channel MessageUI>`, else the kit's row. */
  MessageUI?: MessageUIComponent;
  className?: string;
  /** Shown at the top of the thread's body, under its header (a summary of the thread, say). */
  children?: ReactNode;
}

const EMPTY: readonly LocalMessage[] = [];

/** A thread panel (renders nothing when no thread is open). Render inside `<Channel>`. */
export function Thread({ parentId, onClose, onSelectUser, MessageUI, className, children }: ThreadProps) {
  const ctx = useChannelContext();
  const UI = useMessageUI(MessageUI);
  const id = parentId ?? ctx.thread;
  const close = onClose ?? ctx.closeThread;
  const { channel, editing } = ctx;
  const state = useChannelState(channel);
  const me = useMe();
  const headingId = useId();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!id) return;
    let cancelled = false;
    setLoading(true);
    setError(null);
    // Asked again after 1, 2, 4… 30 s while it fails on the network (the error shows meanwhile).
    const stop = keepLoading(
      () =>
        channel
          .getReplies(id)
          .then(() => !cancelled && setError(null))
          .finally(() => !cancelled && setLoading(false)),
      { onError: (e) => !cancelled && setError(e instanceof Error ? e.message : String(e)) },
    );
    return () => {
      cancelled = true;
      stop();
    };
  }, [channel, id]);

  const replies = (id ? state?.threads[id] : undefined) ?? EMPTY;
  const rows = useMemo(() => buildRows(replies, { me }), [replies, me]);
  if (!id) return null;
  const parent =
    state?.messages.find((m) => m.id === id) ??
    Object.values(state?.threads ?? {})
      .flat()
      .find((m) => m.id === id);
  const count = parent?.reply_count ?? replies.length;

  return (
    <aside
      className={cx('parley-thread', className)}
      aria-labelledby={headingId}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) {
          e.preventDefault();
          close();
        }
      }}
    >
      <header className="parley-thread__header">
        <h2 id={headingId} className="parley-thread__title">
          Thread
        </h2>
        <button type="button" className="parley-icon-button" aria-label="Close thread" onClick={close}>
          ×
        </button>
      </header>
      <div className="parley-thread__body">
        {children}
        {parent ? (
          <MessageSlot
            UI={UI}
            message={parent}
            {...(onSelectUser ? { onSelectUser } : {})}
            highlighted={editing?.id === parent.id}
          />
        ) : (
          <p className="parley-muted">The original message is not loaded.</p>
        )}
        <div className="parley-thread__count">
          <span>
            {count} {count === 1 ? 'reply' : 'replies'}
          </span>
        </div>
        {error ? (
          <p className="parley-error" role="alert">
            Could not load replies: {error}
          </p>
        ) : null}
        {loading && replies.length === 0 ? (
          <p className="parley-muted" role="status">
            Loading replies…
          </p>
        ) : null}
        <ol className="parley-thread__replies" aria-label="Replies">
          {rows.map((row) =>
            row.kind === 'message' ? (
              <li key={row.key}>
                <MessageSlot
                  UI={UI}
                  message={row.message}
                  continued={row.continued}
                  editScope={id}
                  {...(onSelectUser ? { onSelectUser } : {})}
                  highlighted={editing?.id === row.message.id}
                />
              </li>
            ) : null,
          )}
        </ol>
      </div>
      <TypingIndicator parentId={id} />
      <MessageInput parentId={id} autoFocus />
    </aside>
  );
}
