/** The pinned messages of a conversation, newest pin first. */
import { type Channel as ChannelHandle, keepLoading } from '@parley/client';
import type { Message } from '@parley/protocol';
import { Avatar, clockTime, dayLabel, displayName, Markdown, useClientState } from '@parley/react';
import { useEffect, useState } from 'react';

function Pinned({ m }: { m: Message }) {
  const author = useClientState((s) => s.users[m.user_id] ?? m.user ?? undefined);
  return (
    <li className="app-pinned">
      <div className="app-pinned__header">
        <Avatar user={author} id={m.user_id} size={22} />
        <strong>{displayName(author, m.user_id)}</strong>
        <span className="app-muted">
          {dayLabel(m.created_at)} {clockTime(m.created_at)}
        </span>
      </div>
      <div className="app-pinned__text">
        <Markdown text={m.text} />
      </div>
    </li>
  );
}

export function PinnedPanel({ channel, lastSeq }: { channel: ChannelHandle; lastSeq: number }) {
  const [pinned, setPinned] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Reload as the channel changes (a pin or an unpin is a channel event too).
  useEffect(() => {
    let cancelled = false;
    void lastSeq;
    const stop = keepLoading(
      () =>
        channel.getPinned().then((list) => {
          if (cancelled) return;
          setPinned(list);
          setError(null);
        }),
      { onError: (e) => !cancelled && setError(e instanceof Error ? e.message : String(e)) },
    );
    return () => {
      cancelled = true;
      stop();
    };
  }, [channel, lastSeq]);

  if (error)
    return (
      <p className="app-form__error" role="alert">
        {error}
      </p>
    );
  if (!pinned) return <p className="app-muted app-panel__note">Loading…</p>;
  if (pinned.length === 0)
    return (
      <div className="app-panel__empty">
        <p>
          <strong>No pinned messages yet</strong>
        </p>
        <p className="app-muted">Important messages pinned in this conversation show up here.</p>
      </div>
    );
  return (
    <ul className="app-pinned-list" aria-label="Pinned messages">
      {pinned.map((m) => (
        <Pinned key={m.id} m={m} />
      ))}
    </ul>
  );
}
