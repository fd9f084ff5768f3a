/**
 * `<SavedList>`: the user's saved messages (`client.saved`), newest first, paged, live from
 * their other devices. Each item says where and who, shows the text, and offers Open, Done,
 * Remove, a due time (once or recurring), a note of one's own, and — once its reminder has fired —
 * Snooze.
 * `useSavedItems` is the same state for a UI of one's own; `useSavedItem` answers whether one
 * message is saved (a message's Save action toggles it).
 */
import { keepLoading, type SavedState } from '@parley/client';
import type { SavedItem, SaveMessageBody } from '@parley/protocol';
import { type FormEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { channelDisplayName } from './channel-list.js';
import { useChatClient, useClientState, useMe } from './context.js';
import { displayName, fullTime, relativeTime } from './format.js';

/** The user's saved items from `client.saved` (loaded on first use). */
export function useSavedItems(): SavedState {
  const client = useChatClient();
  const state = useSyncExternalStore(
    (l) => client.saved.state.subscribe(l),
    () => client.saved.state.get(),
    () => client.saved.state.get(),
  );
  useEffect(
    () => keepLoading(() => (client.saved.state.get().loaded ? Promise.resolve() : client.saved.load())),
    [client],
  );
  return state;
}

/**
 * The saved item of one message, or null — from what `client.saved` has loaded (this hook
 * loads nothing: a list of messages would ask once per message).
 */
export function useSavedItem(messageId: string): SavedItem | null {
  const client = useChatClient();
  const get = () => client.saved.state.get().items.find((i) => i.message_id === messageId) ?? null;
  return useSyncExternalStore((l) => client.saved.state.subscribe(l), get, get);
}

type Due = Omit<SaveMessageBody, 'message_id'>;
const DUE: [string, Due][] = [
  ['In 20 minutes', { in: '20m' }],
  ['In 1 hour', { in: '1h' }],
  ['Tomorrow at 9:00', { in: 'tomorrow' }],
  ['Every day from tomorrow', { in: 'tomorrow', repeat: 'daily' }],
  ['Every weekday from tomorrow', { in: 'tomorrow', repeat: 'weekdays' }],
  ['Every week from tomorrow', { in: 'tomorrow', repeat: 'weekly' }],
];
const SNOOZE: [string, string][] = [
  ['20 minutes', '20m'],
  ['1 hour', '1h'],
  ['Tomorrow', 'tomorrow'],
];
const REPEAT = { daily: 'every day', weekdays: 'every weekday', weekly: 'every week' } as const;

/** Props of {@link SavedList}. */
export interface SavedListProps {
  /** Open the message where it was said. */
  onOpen?(item: SavedItem): void;
  className?: string;
}

function SavedRow({ item, onOpen }: { item: SavedItem; onOpen?: (item: SavedItem) => void }) {
  const client = useChatClient();
  const me = useMe();
  const where = useClientState((s) => {
    const c = s.channels[item.cid];
    if (!c) return 'a conversation';
    return c.channel.type === 'dm' ? channelDisplayName(c, s, me) : `#${channelDisplayName(c, s, me)}`;
  });
  const m = item.message;
  const who = useClientState((s) => (m ? displayName(s.users[m.user_id] ?? m.user, m.user_id) : ''));
  const [error, setError] = useState<string | null>(null);
  const [choosing, setChoosing] = useState<'due' | 'snooze' | null>(null);
  const [noting, setNoting] = useState<string | null>(null);
  const saveNote = (e: FormEvent) => {
    e.preventDefault();
    const text = noting ?? '';
    setNoting(null);
    client.saved.setNote(item.id, text.trim() ? text : null).catch(fail);
  };
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const fired = !!item.reminder_id && !item.due_at;
  const setDue = (due: Due) => {
    setChoosing(null);
    client.saved.save(item.message_id, due).catch(fail);
  };
  const snooze = (inText: string) => {
    setChoosing(null);
    if (!item.reminder_id) return;
    client
      .snoozeReminder(item.reminder_id, { in: inText })
      .then(() => client.saved.load())
      .catch(fail);
  };
  return (
    <li className="parley-saved__item" data-testid="saved-item" data-message-id={item.message_id}>
      <div className="parley-saved__meta">
        <span className="parley-saved__where">{where}</span>
        {m ? <span className="parley-saved__who">{who}</span> : null}
        {item.due_at ? (
          <span className="parley-saved__due" title={fullTime(item.due_at)}>
            Due {relativeTime(item.due_at)}
            {item.repeat ? `, ${REPEAT[item.repeat]}` : ''}
          </span>
        ) : fired ? (
          <span className="parley-saved__due">Reminder sent</span>
        ) : null}
      </div>
      <p className="parley-saved__text">
        {m ? (m.type === 'deleted' ? 'This message was deleted' : m.text) : 'This message is gone'}
      </p>
      {item.note && noting === null ? (
        <p className="parley-saved__note" data-testid="saved-note">
          <span className="parley-sr-only">Your note: </span>
          {item.note}
        </p>
      ) : null}
      {noting !== null ? (
        <form className="parley-saved__note-form" aria-label="Note on this saved item" onSubmit={saveNote}>
          <input
            className="parley-input"
            aria-label="Your note"
            placeholder="A note for yourself"
            maxLength={500}
            value={noting}
            onChange={(e) => setNoting(e.target.value)}
          />
          <button type="submit" className="parley-button parley-button--small">
            Save note
          </button>
          <button type="button" className="parley-button parley-button--small" onClick={() => setNoting(null)}>
            Cancel
          </button>
        </form>
      ) : null}
      <div className="parley-saved__actions">
        {onOpen ? (
          <button type="button" className="parley-button parley-button--small" onClick={() => onOpen(item)}>
            Open
          </button>
        ) : null}
        <button
          type="button"
          className="parley-button parley-button--small"
          onClick={() => void client.saved.complete(item.id).catch(fail)}
        >
          Done
        </button>
        <button
          type="button"
          className="parley-button parley-button--small"
          aria-expanded={choosing === 'due'}
          onClick={() => setChoosing(choosing === 'due' ? null : 'due')}
        >
          {item.due_at ? 'Change reminder' : 'Remind me'}
        </button>
        {fired ? (
          <button
            type="button"
            className="parley-button parley-button--small"
            aria-expanded={choosing === 'snooze'}
            onClick={() => setChoosing(choosing === 'snooze' ? null : 'snooze')}
          >
            Snooze
          </button>
        ) : null}
        <button
          type="button"
          className="parley-button parley-button--small"
          aria-expanded={noting !== null}
          onClick={() => setNoting(noting === null ? (item.note ?? '') : null)}
        >
          {item.note ? 'Edit note' : 'Add note'}
        </button>
        <button
          type="button"
          className="parley-button parley-button--small"
          onClick={() => void client.saved.remove(item.id).catch(fail)}
        >
          Remove
        </button>
      </div>
      {choosing === 'due' ? (
        <fieldset className="parley-remind">
          <legend className="parley-remind__legend">Remind me about this</legend>
          {DUE.map(([label, due]) => (
            <button
              key={label}
              type="button"
              className="parley-button parley-button--small"
              onClick={() => setDue(due)}
            >
              {label}
            </button>
          ))}
        </fieldset>
      ) : null}
      {choosing === 'snooze' ? (
        <fieldset className="parley-remind">
          <legend className="parley-remind__legend">Snooze for</legend>
          {SNOOZE.map(([label, inText]) => (
            <button
              key={label}
              type="button"
              className="parley-button parley-button--small"
              onClick={() => snooze(inText)}
            >
              {label}
            </button>
          ))}
        </fieldset>
      ) : null}
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}

/** The user's saved messages (see the module comment). Render inside `<ChatProvider>`. */
export function SavedList({ onOpen, className }: SavedListProps) {
  const client = useChatClient();
  const { items, next, loaded } = useSavedItems();
  // Open afresh: a reminder may have fired since (its due time is read with the list).
  useEffect(() => keepLoading(() => client.saved.load()), [client]);
  if (!loaded) return <p className="parley-muted">Loading…</p>;
  if (items.length === 0)
    return (
      <p className={`parley-muted ${className ?? ''}`}>
        Nothing saved. Use Save message in a message's actions to find it here.
      </p>
    );
  return (
    <div className={`parley-saved ${className ?? ''}`}>
      <ul className="parley-saved__list" aria-label="Saved messages">
        {items.map((i) => (
          <SavedRow key={i.id} item={i} {...(onOpen ? { onOpen } : {})} />
        ))}
      </ul>
      {next ? (
        <button type="button" className="parley-button" onClick={() => void client.saved.more().catch(() => {})}>
          Show more
        </button>
      ) : null}
    </div>
  );
}
