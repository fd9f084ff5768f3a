/**
 * One message: author and time (unless it continues a group), text, markers (edited, deleted,
 * sending, failed with Retry), reactions, the thread summary, "Seen", and an actions toolbar.
 */
import type { QuotedMessage } from '@parley/protocol';
import { memo, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { MessageAttachments } from './attachments.js';
import { useChannelContext } from './channel.js';
import { useChatClient, useClientState, useMe } from './context.js';
import { ReactionGlyph, useCustomEmoji, useEmojiMap } from './custom-emoji.js';
import { clockTime, cx, displayName, fullTime, relativeTime } from './format.js';
import { AlarmIcon, BookmarkIcon, CopyIcon, PinIcon, TrashIcon } from './icons.js';
import { Markdown } from './markdown.js';
import { MessageSheet, type SheetAction, useLongPress } from './message-sheet.js';
import type { MessageItemProps } from './message-types.js';
import { Poll } from './poll.js';
import { MessagePreviews } from './previews.js';
import { ReactionPicker } from './reaction-picker.js';
import { SeenBy } from './read-by.js';
import { useSavedItem } from './saved.js';
import { TaskBadge, TaskForm, useMessageTask } from './tasks.js';
import { Avatar, PresenceDot, useUser } from './user.js';

/** The names that mention the viewer: their username and their user groups' handles (stable while they hold). */
function useMyMentionNames(me: string | null, username: string | null): readonly string[] {
  const client = useChatClient();
  const handles = useSyncExternalStore(
    (l) => client.groups.state.subscribe(l),
    () =>
      me
        ? client.groups.state
            .get()
            .groups.filter((g) => g.members.includes(me))
            .map((g) => g.handle)
            .join(' ')
        : '',
    () => '',
  );
  return useMemo(() => [username ?? '', ...handles.split(' ')].filter(Boolean), [username, handles]);
}

export type { MessageItemProps } from './message-types.js';

/** A message as the message list and threads show it (the default `MessageUI`). */
export const MessageItem = memo(function MessageItem({
  message: m,
  continued = false,
  seen = false,
  readBy = null,
  dm = false,
  onJumpToMessage,
  onOpenThread,
  onSelectUser,
  editScope = null,
  highlighted = false,
}: MessageItemProps) {
  const { channel, setEditing, setQuoting } = useChannelContext();
  const me = useMe();
  const myUsername = useClientState((s) => s.user?.username ?? null);
  // The viewer's names in mentions: their username and the handles of their user groups.
  const myNames = useMyMentionNames(me, myUsername);
  const author = useUser(m.user_id) ?? m.user ?? undefined;
  const users = useClientState((s) => s.users);
  const emoji = useEmojiMap();
  const customEmoji = useCustomEmoji();
  const openMention = (target: EventTarget) => {
    const name = (target as Element).closest?.('[data-mention]')?.getAttribute('data-mention')?.toLowerCase();
    if (!name || !onSelectUser) return;
    const id = m.mentioned_users.find((u) => (users[u]?.username ?? u).toLowerCase() === name);
    if (id) onSelectUser(id);
  };
  const name = displayName(author, m.user_id);
  const mine = m.user_id === me;
  const deleted = m.type === 'deleted';
  const system = m.type === 'system';
  const [picking, setPicking] = useState(false);
  const reactButton = useRef<HTMLButtonElement>(null);
  const article = useRef<HTMLElement>(null);
  // A long press (touch) opens the actions in a sheet: a touch screen has no hover toolbar.
  const [sheet, setSheet] = useState(false);
  const press = useLongPress(() => setSheet(true));
  // Mentions carry the mentioned person's presence dot: their presence by username, as one
  // string so the row re-renders only when one of them changes (MessageList follows them).
  const body = useRef<HTMLDivElement>(null);
  const mentionPresence = useClientState((s) =>
    (m.mentioned_users ?? [])
      .map((id) => s.users[id])
      .filter((u) => u?.username)
      .map((u) => `${u?.username?.toLowerCase()}=${u?.presence ?? 'offline'}`)
      .join(' '),
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: m.text re-renders the mention spans
  useEffect(() => {
    const el = body.current;
    if (!el) return;
    const byName = new Map(
      mentionPresence ? mentionPresence.split(' ').map((p) => p.split('=') as [string, string]) : [],
    );
    for (const span of el.querySelectorAll<HTMLElement>('.parley-mention[data-mention]')) {
      const state = byName.get((span.dataset.mention ?? '').toLowerCase());
      if (state) span.dataset.presence = state;
      else delete span.dataset.presence;
    }
  }, [mentionPresence, m.text]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const client = useChatClient();
  const [reminding, setReminding] = useState(false);
  const [remindAt, setRemindAt] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const saved = useSavedItem(m.id);
  const task = useMessageTask(m.id);
  const [tasking, setTasking] = useState(false);
  const canAct = m.status === 'sent' && !deleted && !system;
  // What the server says this user may do here (own_capabilities); unknown: show everything
  // and let the server refuse, as before capabilities existed.
  const caps = useClientState((s) => s.channels[m.cid]?.channel.own_capabilities);
  const can = (c: string) => !caps || caps.includes(c);
  const [reporting, setReporting] = useState(false);
  const [reason, setReason] = useState('');
  const [reported, setReported] = useState(false);
  const sendReport = () => {
    setActionError(null);
    client.moderation.flagMessage(m.id, reason.trim() || 'Reported').then(() => {
      setReporting(false);
      setReported(true);
    }, report);
  };

  const report = (e: unknown) => setActionError(e instanceof Error ? e.message : String(e));
  const toggleReaction = (type: string) => {
    setActionError(null);
    const p = m.own_reactions.includes(type) ? channel.deleteReaction(m.id, type) : channel.sendReaction(m.id, type);
    p.catch(report);
  };
  const retry = () => {
    channel.retry(m.id).catch(() => {
      // the message shows as failed again, with the server's reason
    });
  };
  const remove = () => {
    setConfirmDelete(false);
    channel.deleteMessage(m.id).catch(report);
  };
  /** "Remind me about this message": a preset (`20m`, `1h`, `tomorrow`) or a chosen local time. */
  const remind = (when: { in: string } | { remind_at: string }, label: string) => {
    setActionError(null);
    setReminding(false);
    client
      .createReminder({ message_id: m.id, ...when })
      .then(() => setNote(`I'll remind you ${label}.`))
      .catch(report);
  };
  /** Save for later (the Saved list), or take it out again. */
  const toggleSaved = () => {
    setActionError(null);
    if (saved) client.saved.remove(saved.id).catch(report);
    else
      client.saved
        .save(m.id)
        .then(() => setNote('Saved. Find it in Saved.'))
        .catch(report);
  };
  const togglePin = () => {
    setActionError(null);
    (m.pinned ? channel.unpin(m.id) : channel.pin(m.id)).catch(report);
  };

  // The actions, drawn as the hover toolbar (mouse and keyboard) and in the long-press sheet (touch).
  const actions: SheetAction[] = [];
  if (canAct) {
    if (!m.parent_id && editScope === null && can('send-message'))
      actions.push({
        key: 'quote',
        label: 'Quote',
        icon: <span aria-hidden="true">❝</span>,
        onSelect: () => setQuoting(m),
      });
    if (onOpenThread && !m.parent_id)
      actions.push({
        key: 'thread',
        label: 'Reply in thread',
        icon: <span aria-hidden="true">↩</span>,
        onSelect: () => onOpenThread(m.id),
      });
    actions.push({
      key: 'remind',
      label: 'Remind me about this message',
      icon: <AlarmIcon />,
      expanded: reminding,
      onSelect: () => setReminding((r) => !r),
    });
    if (!task && !m.parent_id && can('send-message'))
      actions.push({
        key: 'task',
        label: 'Make a task',
        icon: <span aria-hidden="true">☑</span>,
        expanded: tasking,
        onSelect: () => setTasking((t) => !t),
      });
    actions.push({
      key: 'save',
      label: saved ? 'Remove from saved' : 'Save message',
      icon: <BookmarkIcon filled={!!saved} />,
      pressed: !!saved,
      onSelect: toggleSaved,
    });
    if (m.type === 'regular' && can('pin-message'))
      actions.push({
        key: 'pin',
        label: m.pinned ? 'Unpin message' : 'Pin message',
        icon: <PinIcon filled={m.pinned} />,
        pressed: m.pinned,
        onSelect: togglePin,
      });
    if (mine && can('edit-own-message'))
      actions.push({
        key: 'edit',
        label: 'Edit message',
        icon: <span aria-hidden="true">✎</span>,
        onSelect: () => setEditing({ id: m.id, scope: editScope }),
      });
    if ((mine && can('delete-own-message')) || (!mine && caps?.includes('delete-any-message')))
      actions.push({
        key: 'delete',
        label: 'Delete message',
        icon: <TrashIcon />,
        danger: true,
        onSelect: () => setConfirmDelete(true),
      });
    if (!mine && m.type === 'regular' && caps?.includes('flag-message'))
      actions.push({
        key: 'report',
        label: 'Report message',
        icon: <span aria-hidden="true">⚑</span>,
        danger: true,
        onSelect: () => setReporting(true),
      });
  }

  if (system)
    return (
      <div className="parley-message parley-message--system" role="note">
        <Markdown text={m.text} me={myNames} emoji={emoji} />
      </div>
    );

  const reactions = Object.entries(m.reactions).filter(([, n]) => n > 0);
  return (
    <article
      ref={article}
      {...(canAct ? press : {})}
      className={cx(
        'parley-message',
        continued && 'parley-message--continued',
        mine && 'parley-message--mine',
        m.status === 'sending' && 'parley-message--sending',
        m.status === 'failed' && 'parley-message--failed',
        deleted && 'parley-message--deleted',
        highlighted && 'parley-message--highlighted',
      )}
      aria-label={`${name}, ${clockTime(m.created_at)}`}
      aria-busy={m.status === 'sending' || undefined}
      data-message-id={m.id}
      data-status={m.status}
    >
      <div className="parley-message__gutter">
        {continued ? (
          <time className="parley-message__hover-time" dateTime={m.created_at} title={fullTime(m.created_at)}>
            {clockTime(m.created_at)}
          </time>
        ) : onSelectUser ? (
          <button
            type="button"
            className="parley-message__avatar-button parley-avatar-dot"
            aria-label={`${name}'s profile`}
            onClick={() => onSelectUser(m.user_id)}
          >
            <Avatar user={author} id={m.user_id} />
            <PresenceDot presence={author?.presence ?? 'offline'} className="parley-avatar-dot__dot" />
          </button>
        ) : (
          <span className="parley-avatar-dot">
            <Avatar user={author} id={m.user_id} />
            <PresenceDot presence={author?.presence ?? 'offline'} className="parley-avatar-dot__dot" />
          </span>
        )}
      </div>
      <div className="parley-message__main">
        {continued ? null : (
          <header className="parley-message__header">
            {onSelectUser ? (
              <button
                type="button"
                className="parley-message__author parley-link-button"
                onClick={() => onSelectUser(m.user_id)}
              >
                {name}
              </button>
            ) : (
              <span className="parley-message__author">{name}</span>
            )}
            <time className="parley-message__time" dateTime={m.created_at} title={fullTime(m.created_at)}>
              {clockTime(m.created_at)}
            </time>
          </header>
        )}
        {m.quoted_message && !deleted ? (
          <QuotedBlock quoted={m.quoted_message} {...(onJumpToMessage ? { onJump: onJumpToMessage } : {})} />
        ) : null}
        {/* A click on an @mention opens that person's profile (the message names who it mentions). */}
        {/* biome-ignore lint/a11y/noStaticElementInteractions: mentions are inline text; the keyboard reaches profiles by the author button and the members list */}
        {/* biome-ignore lint/a11y/useKeyWithClickEvents: as above */}
        <div
          className="parley-message__body"
          ref={body}
          onClick={onSelectUser ? (e) => openMention(e.target) : undefined}
        >
          {deleted ? (
            <p className="parley-message__deleted-text">This message was deleted</p>
          ) : (
            <Markdown text={m.text} me={myNames} emoji={emoji} />
          )}
          {m.poll && !deleted ? (
            <Poll
              messageId={m.id}
              authorId={m.user_id}
              question={m.text}
              poll={m.poll}
              canVote={m.status === 'sent' && can('vote-poll')}
              canClose={m.status === 'sent' && (mine || !!caps?.includes('delete-any-message'))}
              onError={report}
            />
          ) : null}
          {m.edited_at && !deleted ? (
            <span className="parley-message__edited" title={`Edited ${fullTime(m.edited_at)}`}>
              (edited)
            </span>
          ) : null}
          {m.status === 'sending' ? <span className="parley-sr-only">Sending…</span> : null}
          {deleted ? null : <MessageAttachments message={m} />}
          {deleted ? null : <MessagePreviews message={m} />}
        </div>
        {m.status === 'failed' ? (
          <div className="parley-message__failed" role="alert">
            <span>Not sent{m.error ? `: ${m.error.message}` : ''}.</span>{' '}
            <button type="button" className="parley-button parley-button--small" onClick={retry}>
              Retry
            </button>
          </div>
        ) : null}
        {reactions.length > 0 && !deleted ? (
          <ul className="parley-reactions" aria-label="Reactions">
            {reactions.map(([type, count]) => {
              const own = m.own_reactions.includes(type);
              return (
                <li key={type}>
                  <button
                    type="button"
                    className={cx('parley-reaction', own && 'parley-reaction--own')}
                    aria-pressed={own}
                    aria-label={`${type}: ${count}${own ? ', including you' : ''}`}
                    title={own ? `${type} (click to remove yours)` : type}
                    disabled={!canAct}
                    onClick={() => toggleReaction(type)}
                  >
                    <ReactionGlyph type={type} map={emoji} /> <span className="parley-reaction__count">{count}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        ) : null}
        {deleted ? null : <TaskBadge messageId={m.id} />}
        {m.reply_count > 0 && !m.parent_id && onOpenThread ? (
          <button type="button" className="parley-thread-summary parley-link-button" onClick={() => onOpenThread(m.id)}>
            {m.reply_count} {m.reply_count === 1 ? 'reply' : 'replies'}
            {m.last_reply_at ? (
              <span className="parley-muted"> · last reply {relativeTime(m.last_reply_at)}</span>
            ) : null}
          </button>
        ) : null}
        {readBy ? <SeenBy readBy={readBy} dm={dm} /> : seen ? <p className="parley-message__seen">Seen</p> : null}
        {note ? (
          <p className="parley-message__note" role="status">
            {note}{' '}
            <button type="button" className="parley-link-button" onClick={() => setNote(null)}>
              Dismiss
            </button>
          </p>
        ) : null}
        {tasking ? (
          <TaskForm
            message={m}
            onDone={() => {
              setTasking(false);
              setNote('Task made.');
            }}
            onCancel={() => setTasking(false)}
          />
        ) : null}
        {reminding ? (
          <fieldset className="parley-remind">
            <legend className="parley-remind__legend">Remind me about this message</legend>
            <button
              type="button"
              className="parley-button parley-button--small"
              onClick={() => remind({ in: '20m' }, 'in 20 minutes')}
            >
              In 20 minutes
            </button>
            <button
              type="button"
              className="parley-button parley-button--small"
              onClick={() => remind({ in: '1h' }, 'in 1 hour')}
            >
              In 1 hour
            </button>
            <button
              type="button"
              className="parley-button parley-button--small"
              onClick={() => remind({ in: 'tomorrow' }, 'tomorrow at 9:00')}
            >
              Tomorrow
            </button>
            <input
              type="datetime-local"
              className="parley-remind__at"
              aria-label="Remind me at"
              value={remindAt}
              onChange={(e) => setRemindAt(e.target.value)}
            />
            <button
              type="button"
              className="parley-button parley-button--small"
              disabled={!remindAt}
              onClick={() => {
                const at = new Date(remindAt);
                remind({ remind_at: at.toISOString() }, `at ${at.toLocaleString()}`);
              }}
            >
              Set
            </button>
            <button type="button" className="parley-button parley-button--small" onClick={() => setReminding(false)}>
              Cancel
            </button>
          </fieldset>
        ) : null}
        {actionError ? (
          <p className="parley-error" role="alert">
            {actionError}
          </p>
        ) : null}
        {reporting ? (
          <form
            className="parley-message__confirm"
            aria-label="Report this message"
            onSubmit={(e) => {
              e.preventDefault();
              sendReport();
            }}
          >
            <input
              className="parley-input"
              aria-label="Why are you reporting this message?"
              placeholder="Why? (spam, abuse, …)"
              maxLength={500}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />{' '}
            <button type="submit" className="parley-button parley-button--danger parley-button--small">
              Report
            </button>{' '}
            <button type="button" className="parley-button parley-button--small" onClick={() => setReporting(false)}>
              Cancel
            </button>
          </form>
        ) : null}
        {reported ? (
          <div className="parley-message__seen" role="status">
            Reported to the moderators.
          </div>
        ) : null}
        {confirmDelete ? (
          <div className="parley-message__confirm">
            <span>Delete this message?</span>{' '}
            <button type="button" className="parley-button parley-button--danger parley-button--small" onClick={remove}>
              Delete
            </button>{' '}
            <button
              type="button"
              className="parley-button parley-button--small"
              onClick={() => setConfirmDelete(false)}
            >
              Cancel
            </button>
          </div>
        ) : null}
      </div>
      {canAct ? (
        <div className={cx('parley-message__actions', picking && 'parley-message__actions--open')}>
          <div role="toolbar" aria-label="Message actions">
            {can('send-reaction') ? (
              <button
                ref={reactButton}
                type="button"
                className="parley-icon-button"
                aria-label="Add reaction"
                aria-haspopup="true"
                aria-expanded={picking}
                onClick={() => setPicking((p) => !p)}
              >
                <span aria-hidden="true">☺</span>
              </button>
            ) : null}
            {actions.map((a) => (
              <button
                key={a.key}
                type="button"
                className="parley-icon-button"
                aria-label={a.label}
                aria-pressed={a.pressed}
                aria-expanded={a.expanded}
                onClick={a.onSelect}
              >
                {a.icon}
              </button>
            ))}
          </div>
          {picking ? (
            <ReactionPicker
              selected={m.own_reactions}
              custom={customEmoji}
              onPick={toggleReaction}
              onClose={() => {
                setPicking(false);
                reactButton.current?.focus();
              }}
            />
          ) : null}
        </div>
      ) : null}
      {sheet && canAct ? (
        <MessageSheet
          anchor={article.current}
          summary={`${name}: ${excerptOf(m.text, 80) || 'a message'}`}
          reactions={
            can('send-reaction') ? { selected: m.own_reactions, custom: customEmoji, onPick: toggleReaction } : null
          }
          actions={[
            ...actions,
            ...(m.text && !deleted
              ? [
                  {
                    key: 'copy',
                    label: 'Copy text',
                    icon: <CopyIcon />,
                    onSelect: () => {
                      navigator.clipboard?.writeText(m.text).then(() => setNote('Copied.'), report);
                    },
                  },
                ]
              : []),
          ]}
          onClose={() => setSheet(false)}
        />
      ) : null}
    </article>
  );
});

/** A quoted message inside the one that quotes it: author and an excerpt; a click shows the original. */
function QuotedBlock({ quoted, onJump }: { quoted: QuotedMessage; onJump?(id: string): void }) {
  const author = useUser(quoted.user_id) ?? quoted.user ?? undefined;
  const name = displayName(author, quoted.user_id);
  const gone = quoted.type === 'deleted' || !!quoted.deleted_at;
  const excerpt = gone ? 'This message was deleted' : excerptOf(quoted.text);
  const body = (
    <>
      <span className="parley-quote__author">{name}</span>
      <span className="parley-quote__text">{excerpt}</span>
    </>
  );
  return onJump && !gone ? (
    <button
      type="button"
      className="parley-quote parley-quote--link"
      aria-label={`Quoted message from ${name}: ${excerpt}. Show it`}
      onClick={() => onJump(quoted.id)}
    >
      {body}
    </button>
  ) : (
    <blockquote className="parley-quote">{body}</blockquote>
  );
}

/** The first 200 characters of a message's text, on one line. */
export function excerptOf(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
