/**
 * `<MessageList>`: the open channel's messages, virtualized with react-virtuoso so a channel
 * with 10,000 loaded messages scrolls smoothly (only the rows in view are in the DOM).
 *
 * - Older messages load as the list nears its top (`channel.loadOlder()`): once the first row
 *   in view is within {@link PREFETCH_ROWS} of the oldest loaded one, so a reader scrolling up
 *   through history rarely meets the end of what is loaded. The `firstItemIndex` of the list is
 *   lowered by the number of rows added above, so the view stays where it was instead of jumping.
 * - It follows the bottom when new messages arrive if it is already at the bottom, and always
 *   after the viewer sends one.
 * - It opens at the "New messages" line when there is one, else at the bottom, and marks the
 *   channel read while the bottom is in view.
 */
import { type LocalMessage, readByOf } from '@parley/client';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso } from 'react-virtuoso';
import { useChannelContext } from './channel.js';
import { useChannelTitle } from './channel-list.js';
import { useChannelState, useClientState, useMe } from './context.js';
import { cx, dayLabel, displayName } from './format.js';
import type { MessageUIComponent } from './message-types.js';
import { MessageSlot, useMessageUI } from './message-ui.js';
import { useWatchPresence } from './presence.js';
import { buildRows, type MessageRow } from './rows.js';
import { useChannelTasks } from './tasks.js';

/** Props of {@link MessageList}. */
export interface MessageListProps {
  /** Open a thread; default: open it in the surrounding `<Channel>` (shown by `<Thread />`). */
  onOpenThread?(parentId: string): void;
  /** Called when an author's name is clicked. */
  onSelectUser?(userId: string): void;
  /** Mark the channel read while its bottom is in view; default true. */
  markRead?: boolean;
  /** Shown when the channel has no messages. */
  emptyState?: ReactNode;
  /** Render this many rows before any measuring (server rendering; tests without layout). */
  initialItemCount?: number;
  /**
   * A message to show and highlight (a search hit, a link): the list scrolls to it once it is
   * loaded (load it with `channel.loadAround(id)` when it is not).
   */
  focusMessageId?: string | null;
  /** Render each message row with this; default: the surrounding `<Channel MessageUI>`, else the kit's row. */
  MessageUI?: MessageUIComponent;
  className?: string;
}

// Virtuoso wants a positive index for the first row that only ever decreases as rows are
// prepended; start high enough for any history.
const START_INDEX = 1_000_000_000;
/** How long the bottom stays in view before the read mark goes (a burst is one read.mark). */
const MARK_READ_DEBOUNCE_MS = 300;

/** Send a read mark; a failed one is sent again on the channel's next change. */
function sendMark(channel: { markRead(): Promise<void> }): void {
  channel.markRead().catch(() => {
    // kept by the SDK and sent again after the next connect (`unsentRead`)
  });
}

const EMPTY: readonly LocalMessage[] = [];
/**
 * Rows from the top at which the page before is fetched. Virtuoso's own `startReached` waits
 * for the list to rest at its very top for 200 ms, so scrolling up through a long history
 * stopped at every page of 50 (measured: 200 pages took 40 s in Chromium, all of it that wait).
 */
const PREFETCH_ROWS = 20;

interface ListContext {
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder(): void;
  channelName: string;
  hasNewer: boolean;
  loadingNewer: boolean;
  loadNewer(): void;
}

function Header({ context }: { context: ListContext }) {
  if (context.hasOlder)
    return (
      <div className="parley-message-list__header">
        <button
          type="button"
          className="parley-button parley-button--small"
          onClick={context.loadOlder}
          disabled={context.loadingOlder}
        >
          {context.loadingOlder ? 'Loading…' : 'Load older messages'}
        </button>
      </div>
    );
  return (
    <div className="parley-message-list__header parley-muted">This is the beginning of {context.channelName}.</div>
  );
}

/**
 * Below a window of older history (after a jump): the next page. Reaching the end loads it too,
 * so this row moves down as pages arrive; "Jump to latest" therefore floats over the list
 * instead of living here, where it ran away from the pointer (or a test's click) at every page.
 */
function Footer({ context }: { context: ListContext }) {
  if (!context.hasNewer) return null;
  return (
    <div className="parley-message-list__footer">
      <button
        type="button"
        className="parley-button parley-button--small"
        onClick={context.loadNewer}
        disabled={context.loadingNewer}
      >
        {context.loadingNewer ? 'Loading…' : 'Load newer messages'}
      </button>
    </div>
  );
}

const components = { Header, Footer };

/**
 * Shift `firstItemIndex` by the rows added above the previous first message, so prepending
 * keeps the scroll position. Rows appended below leave it alone.
 */
function useFirstItemIndex(rows: MessageRow[], resetKey: string): number {
  const ref = useRef<{ first: number; rows: MessageRow[]; resetKey: string }>({ first: START_INDEX, rows, resetKey });
  const prev = ref.current;
  if (prev.resetKey !== resetKey) {
    ref.current = { first: START_INDEX, rows, resetKey };
  } else if (prev.rows !== rows) {
    let first = prev.first;
    const anchor = prev.rows.find((r) => r.kind === 'message');
    if (anchor) {
      const before = prev.rows.indexOf(anchor);
      const after = rows.findIndex((r) => r.key === anchor.key);
      if (after >= 0) first = Math.max(1, first - (after - before));
    }
    ref.current = { first, rows, resetKey };
  }
  return ref.current.first;
}

/** The open channel's messages (see the module comment). Render inside `<Channel>`. */
export function MessageList({
  onOpenThread,
  onSelectUser,
  markRead = true,
  emptyState,
  initialItemCount,
  focusMessageId: focusProp = null,
  MessageUI,
  className,
}: MessageListProps) {
  const ctx = useChannelContext();
  const UI = useMessageUI(MessageUI);
  const { channel, initialReadSeq, editing } = ctx;
  // A quote's "show the original": the list's own focus, over the one it was given, until the
  // given one changes (a new search hit) or the channel does.
  const [jump, setJump] = useState<{ channel: typeof channel; id: string; from: string | null } | null>(null);
  const focusMessageId = jump && jump.channel === channel && jump.from === focusProp ? jump.id : focusProp;
  const jumpTo = useCallback(
    (id: string) => {
      setJump({ channel, id, from: focusProp });
      if (!channel.state?.messages.some((m) => m.id === id))
        channel.loadAround(id).catch(() => {
          // the quoted block stays where it is; the original may be gone
        });
    },
    [channel, focusProp],
  );
  const state = useChannelState(channel);
  const me = useMe();
  const messages = state?.messages ?? EMPTY;
  const rows = useMemo(() => buildRows(messages, { readSeq: initialReadSeq, me }), [messages, initialReadSeq, me]);
  // Message rows and mentions show presence: follow the latest authors and mentioned people
  // (at most 100, newest first, so a long history never asks for more than a connection may).
  const shown = useMemo(() => {
    const ids = new Set<string>();
    for (let i = messages.length - 1; i >= 0 && ids.size < 100; i--) {
      const msg = messages[i] as LocalMessage;
      ids.add(msg.user_id);
      for (const id of msg.mentioned_users ?? []) if (ids.size < 100) ids.add(id);
    }
    return [...ids];
  }, [messages]);
  useWatchPresence(shown);
  const cid = state?.cid ?? '';
  // Its messages' task badges (tasks.tsx): the channel's tasks, kept live by task events.
  useChannelTasks(cid || null);
  const firstItemIndex = useFirstItemIndex(rows, cid);
  const [atBottom, setAtBottom] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loadingNewer, setLoadingNewer] = useState(false);
  const loadingRef = useRef(false);
  const hasNewer = state?.hasNewer ?? false;
  const openThread = onOpenThread ?? ctx.openThread;
  const isDm = state?.channel.type === 'dm';
  const channelName = useChannelTitle(state);

  const loadOlder = useCallback(() => {
    if (loadingRef.current || !channel.state?.hasOlder) return;
    loadingRef.current = true;
    setLoadingOlder(true);
    channel
      .loadOlder()
      .catch(() => {
        // the button stays, so the user can try again
      })
      .finally(() => {
        loadingRef.current = false;
        setLoadingOlder(false);
      });
  }, [channel]);

  const loadNewer = useCallback(() => {
    if (loadingRef.current || !channel.state?.hasNewer) return;
    loadingRef.current = true;
    setLoadingNewer(true);
    channel
      .loadNewer()
      .catch(() => {
        // the button stays, so the user can try again
      })
      .finally(() => {
        loadingRef.current = false;
        setLoadingNewer(false);
      });
  }, [channel]);
  const jumpToLatest = useCallback(() => {
    channel.jumpToLatest().catch(() => {
      // the button stays
    });
  }, [channel]);

  // Opening at a focused message (a search hit), the list may pass its top while it scrolls to
  // the message; loading older pages then would carry the view away from it. For a moment after
  // the focus lands, reaching the top loads nothing (the "Load older messages" button still does).
  const focusSettled = useRef(0);
  const focusLoaded = !!focusMessageId && messages.some((m) => m.id === focusMessageId);
  useEffect(() => {
    if (focusLoaded) focusSettled.current = Date.now() + 1_500;
  }, [focusLoaded]);
  const onStartReached = useCallback(() => {
    if (Date.now() < focusSettled.current) return;
    loadOlder();
  }, [loadOlder]);
  // Near the top (not only at it): fetch the page before while the reader still has rows to read.
  const onRangeChanged = useCallback(
    ({ startIndex }: { startIndex: number }) => {
      if (startIndex - firstItemIndex < PREFETCH_ROWS) onStartReached();
    },
    [firstItemIndex, onStartReached],
  );

  // Mark read while the bottom is in view (debounced: a burst of messages is one read.mark):
  // whenever the newest message shown is past your read mark. Not by the unread count, which a
  // message counted by no one (it landed while the channel loaded) would leave at 0.
  let newest = 0;
  for (let i = messages.length - 1; i >= 0 && newest === 0; i--) newest = (messages[i] as LocalMessage).seq;
  const behind = newest > (state?.channel.membership?.last_read_seq ?? Number.POSITIVE_INFINITY);
  const unread = state?.unreadCount ?? 0;
  const loaded = state?.loaded ?? false;
  const member = !!state?.channel.membership;
  // The mark waiting out the debounce. A reader who leaves before it ends (another channel, the
  // list folded or closed) has had the message on screen: the mark goes at once, not never.
  const pendingMark = useRef<{ channel: typeof channel; timer: ReturnType<typeof setTimeout> } | null>(null);
  /** Stop waiting for the pending mark; `send`: send it now. */
  const settleMark = useCallback((send: boolean) => {
    const p = pendingMark.current;
    if (!p) return;
    clearTimeout(p.timer);
    pendingMark.current = null;
    if (send) sendMark(p.channel);
  }, []);
  useEffect(() => {
    const visible = typeof document === 'undefined' || document.visibilityState !== 'hidden';
    const want = markRead && loaded && member && atBottom && !hasNewer && (unread > 0 || behind) && visible;
    // A pending mark of another channel goes now; one of this channel starts its wait again.
    const other = pendingMark.current?.channel;
    settleMark(other !== undefined && other !== channel);
    if (!want) return;
    const timer = setTimeout(() => {
      pendingMark.current = null;
      sendMark(channel);
    }, MARK_READ_DEBOUNCE_MS);
    pendingMark.current = { channel, timer };
  }, [markRead, loaded, member, atBottom, hasNewer, unread, behind, channel, settleMark]);
  useEffect(() => () => settleMark(true), [settleMark]);

  // Read-by: in a DM or a group, under the viewer's latest stored message, who has read it
  // (live from read.updated, SDK's readByOf). Asked of the server once per channel, which says
  // whether read-by is on here (a channel above its member limit shows nothing) and the times.
  const readBy = useMemo(() => {
    if (!state || !me || (state.channel.type !== 'dm' && state.channel.type !== 'group')) return null;
    const r = readByOf(state, me);
    return r && r.enabled !== false ? r : null;
  }, [state, me]);
  const readByAsked = state?.readByEnabled !== undefined;
  const hasOwn = !!readBy;
  useEffect(() => {
    if (!hasOwn || readByAsked) return;
    channel.loadReadBy().catch(() => {
      // read-by stays as the read marks say, without times
    });
  }, [hasOwn, readByAsked, channel]);

  // Announce messages from others as they arrive (the list itself is not a live region:
  // virtualized rows come and go while scrolling, and that must not be read out).
  const users = useClientState((s) => s.users, Object.is);
  const last = messages.at(-1);
  const [announcement, setAnnouncement] = useState('');
  const lastSeen = useRef<string | null>(null);
  useEffect(() => {
    if (!last) return;
    const prevId = lastSeen.current;
    lastSeen.current = last.id;
    if (prevId === null || prevId === last.id || last.user_id === me || last.status !== 'sent') return;
    const name = displayName(users[last.user_id] ?? last.user, last.user_id);
    setAnnouncement(`${name}: ${last.type === 'deleted' ? 'message deleted' : last.text.slice(0, 200)}`);
  }, [last, me, users]);

  const followOutput = useCallback(
    (isAtBottom: boolean) => {
      if (hasNewer) return false;
      const end = rows.at(-1);
      if (end?.kind === 'message' && end.message.user_id === me && end.message.status === 'sending') return 'auto';
      return isAtBottom ? 'auto' : false;
    },
    [rows, me, hasNewer],
  );

  const listContext = useMemo<ListContext>(
    () => ({
      hasOlder: state?.hasOlder ?? false,
      loadingOlder,
      loadOlder,
      channelName,
      hasNewer,
      loadingNewer,
      loadNewer,
    }),
    [state?.hasOlder, loadingOlder, loadOlder, channelName, hasNewer, loadingNewer, loadNewer],
  );

  const renderRow = (_index: number, row: MessageRow) => {
    if (row.kind === 'date')
      return (
        <h3 className="parley-date-separator">
          <span>{dayLabel(row.date)}</span>
        </h3>
      );
    if (row.kind === 'unread')
      return (
        <div className="parley-new-messages">
          <span>New messages</span>
        </div>
      );
    return (
      <MessageSlot
        UI={UI}
        message={row.message}
        continued={row.continued}
        readBy={row.message.id === readBy?.message.id ? readBy : null}
        onJumpToMessage={jumpTo}
        dm={isDm}
        onOpenThread={openThread}
        {...(onSelectUser ? { onSelectUser } : {})}
        highlighted={editing?.id === row.message.id || focusMessageId === row.message.id}
      />
    );
  };

  // A channel that could not be opened shows `<Channel>`'s error, not a load that never ends.
  if (!state?.loaded && ctx.error) return null;
  if (!state?.loaded)
    return (
      <section className={cx('parley-message-list', className)} aria-label="Messages" aria-busy="true">
        <p className="parley-message-list__loading" role="status">
          Loading messages…
        </p>
      </section>
    );

  const unreadIndex = rows.findIndex((r) => r.kind === 'unread');
  const focusIndex = focusMessageId
    ? rows.findIndex((r) => r.kind === 'message' && r.message.id === focusMessageId)
    : -1;
  return (
    <section className={cx('parley-message-list', className)} aria-label={`Messages in ${channelName}`}>
      {rows.length === 0 ? (
        <div className="parley-message-list__empty">
          {emptyState ?? <p className="parley-muted">No messages yet. Say hello!</p>}
        </div>
      ) : (
        <Virtuoso<MessageRow, ListContext>
          // A new focus (or the focused message arriving) mounts the list again at that row.
          key={`${cid}:${focusIndex >= 0 ? focusMessageId : ''}`}
          className="parley-message-list__scroller"
          aria-label={`Message history of ${channelName}`}
          data={rows}
          context={listContext}
          components={components}
          firstItemIndex={firstItemIndex}
          initialTopMostItemIndex={
            focusIndex >= 0
              ? { index: focusIndex, align: 'center' }
              : unreadIndex >= 0
                ? { index: unreadIndex, align: 'start' }
                : { index: rows.length - 1, align: 'end' }
          }
          {...(initialItemCount !== undefined ? { initialItemCount } : {})}
          computeItemKey={(_i, row) => row.key}
          itemContent={renderRow}
          followOutput={followOutput}
          startReached={onStartReached}
          rangeChanged={onRangeChanged}
          endReached={hasNewer ? loadNewer : undefined}
          atBottomStateChange={setAtBottom}
          atBottomThreshold={48}
          increaseViewportBy={{ top: 600, bottom: 300 }}
        />
      )}
      {hasNewer && rows.length > 0 ? (
        <button
          type="button"
          className="parley-button parley-button--primary parley-message-list__jump"
          onClick={jumpToLatest}
        >
          Jump to latest <span aria-hidden="true">↓</span>
        </button>
      ) : null}
      <div className="parley-sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </section>
  );
}
