/**
 * One open conversation: header, the kit's message list, typing indicator and composer, the
 * thread pane, and an optional side panel. Only one of thread and side panel shows at a time,
 * as in Slack: opening one closes the other.
 */
import type { Channel as ChannelHandle } from '@parley/client';
import {
  BookmarksBar,
  MessageInput,
  MessageList,
  Channel as ParleyChannel,
  Thread,
  TypingIndicator,
  useChannelContext,
  useViewing,
} from '@parley/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type ConversationInfo, useConversation } from '../hooks/use-conversation.js';
import { usePhoneLayout } from '../lib/layout.js';
import { back, navigate, useLocation, withQuery } from '../lib/router.js';
import { CatchUpButton, CatchUpPanel, SmartReplies, ThreadCatchUp, useCatchUpOffer } from './catch-up.js';
import { ChannelHeader } from './channel-header.js';
import { HashIcon, LockIcon } from './icons.js';
import type { PanelName } from './shell-types.js';
import { SidePanel } from './side-panel.js';

/**
 * The thread named by the address (`?t=<parent id>`); lives inside <Channel>. On a desktop the
 * address opens it once (a link to a reply). On a phone the thread is a pane of its own, so the
 * two follow each other: opening a thread adds it to the address (a new history entry, which
 * the back gesture takes away again), and the address opens and closes it.
 */
function ThreadAddress({ id, phone, location }: { id: string | null; phone: boolean; location: string }) {
  const { thread, openThread, closeThread } = useChannelContext();
  const prev = useRef<{ id: string | null; thread: string | null }>({ id: null, thread: null });
  useEffect(() => {
    const was = prev.current;
    prev.current = { id, thread };
    if (id !== was.id) {
      if (id && id !== thread) openThread(id);
      else if (!id && phone && thread) closeThread();
      return;
    }
    if (!phone || thread === was.thread || thread === id) return;
    // Opened or closed here (a reply button, the close button): the address follows.
    if (thread) navigate(withQuery(location, { t: thread, ...panelQuery(null) }));
    else back(withQuery(location, { t: null }));
  }, [id, thread, phone, location, openThread, closeThread]);
  return null;
}

/** The side panel the address names on a phone (`?panel=members`, `?panel=profile&user=…`, `?note=…`). */
function panelFromQuery(location: string): PanelName | null {
  const q = new URL(location, 'http://x').searchParams;
  const kind = q.get('panel') ?? (q.get('note') ? 'notes' : null);
  if (kind === 'members' || kind === 'pinned' || kind === 'files') return { kind };
  if (kind === 'notes') {
    const noteId = q.get('note');
    return noteId ? { kind, noteId } : { kind };
  }
  const userId = q.get('user');
  if (kind === 'profile' && userId) return { kind, userId };
  return null;
}

/** The query parameters that name `panel` (all removed for none). */
function panelQuery(panel: PanelName | null): Record<string, string | null> {
  return {
    panel: panel?.kind ?? null,
    user: panel?.kind === 'profile' ? panel.userId : null,
    note: panel?.kind === 'notes' && panel.noteId ? panel.noteId : null,
  };
}

/** Keeps thread and side panel exclusive; lives inside <Channel> to see the thread. */
function OnePane({ panel, onThreadOpened }: { panel: PanelName | null; onThreadOpened(): void }) {
  const { thread, closeThread } = useChannelContext();
  const prev = useRef({ thread, panel });
  useEffect(() => {
    const was = prev.current;
    prev.current = { thread, panel };
    if (thread && thread !== was.thread) onThreadOpened();
    else if (panel && panel !== was.panel && thread) closeThread();
  }, [thread, panel, onThreadOpened, closeThread]);
  return null;
}

function JoinBar({ channel, info }: { channel: ChannelHandle; info: ConversationInfo }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const join = () => {
    setBusy(true);
    channel
      .join()
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <div className="app-join-bar">
      <p>
        You are viewing <strong>#{info.name}</strong>
        {info.state?.channel.description ? ` · ${info.state.channel.description}` : ''}
      </p>
      <button type="button" className="app-button app-button--primary" onClick={join} disabled={busy}>
        Join channel
      </button>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function Intro({ info }: { info: ConversationInfo }) {
  const created = info.state?.channel.created_at;
  return (
    <div className="app-intro">
      <span className="app-intro__icon" aria-hidden="true">
        {info.kind === 'private' ? <LockIcon /> : info.kind === 'dm' ? '@' : <HashIcon />}
      </span>
      <h2 className="app-intro__title">{info.kind === 'dm' ? info.name : `Welcome to #${info.name}`}</h2>
      <p className="app-muted">
        {info.kind === 'dm'
          ? `This is the very beginning of your conversation with ${info.name}.`
          : `This is the very beginning of #${info.name}${created ? `, created ${new Date(created).toLocaleDateString()}` : ''}.`}
        {info.state?.channel.topic ? ` Topic: ${info.state.channel.topic}` : ''}
      </p>
    </div>
  );
}

export interface ConversationProps {
  channel: ChannelHandle;
  /** A message to scroll to and highlight (`?m=` in the URL), loaded around if need be. */
  focusMessageId?: string | null;
  /** A thread to open (`?t=<parent id>`: a thread reply opened from Activity). */
  threadId?: string | null;
  /** A channel note to open in the side panel (`?note=<id>`: a note mention opened from Activity). */
  noteId?: string | null;
  onOpenConversation(cid: string): void;
  onLeft(): void;
  onOpenNav(): void;
  /** Open the dialog that edits your own profile. */
  onEditProfile?(): void;
  /** The header's one-row form at any width (a narrow pane beside another: the office's room). */
  compactHeader?: boolean;
}

export function Conversation({
  channel,
  focusMessageId = null,
  threadId = null,
  noteId = null,
  onOpenConversation,
  onLeft,
  onOpenNav,
  onEditProfile,
  compactHeader = false,
}: ConversationProps) {
  const info = useConversation(channel);
  // This conversation is in front of the user (while the tab is visible and focused): the others
  // see them among its viewers.
  useViewing(channel);
  // Once the channel is loaded, a focus that is not in view loads a window of history around it.
  // Once per focus: "Jump to latest" must not be undone by the next load.
  const loaded = info.state?.loaded ?? false;
  const focused = useRef<string | null>(null);
  useEffect(() => {
    if (!focusMessageId || !loaded || focused.current === focusMessageId) return;
    focused.current = focusMessageId;
    if (channel.state?.messages.some((m) => m.id === focusMessageId)) return;
    channel.loadAround(focusMessageId).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [channel, focusMessageId, loaded]);
  // On a phone the side panel is a pane of its own, named by the address (so the back gesture
  // closes it); elsewhere it is this component's state.
  const phone = usePhoneLayout();
  const location = useLocation();
  const [ownPanel, setOwnPanel] = useState<PanelName | null>(noteId ? { kind: 'notes', noteId } : null);
  useEffect(() => {
    if (noteId) setOwnPanel({ kind: 'notes', noteId });
  }, [noteId]);
  const addressed = useMemo(() => (phone ? panelFromQuery(location) : null), [phone, location]);
  const panel = phone ? addressed : ownPanel;
  const here = useRef({ phone, location, open: !!panel });
  here.current = { phone, location, open: !!panel };
  // Stable (the kit's rows are memoized): reads the address through the ref.
  const setPanel = useCallback((next: PanelName | null) => {
    const { phone, location, open } = here.current;
    if (!phone) setOwnPanel(next);
    else if (next) navigate(withQuery(location, panelQuery(next)));
    else if (open) back(withQuery(location, panelQuery(null)));
  }, []);
  const [error, setError] = useState<string | null>(null);
  // Stable: the kit's message rows are memoized, and a new callback each render would redraw
  // every visible row on every change of the channel.
  const showProfile = useCallback((userId: string) => setPanel({ kind: 'profile', userId }), [setPanel]);
  const closePanel = useCallback(() => setPanel(null), [setPanel]);
  const onWatchError = useCallback((e: Error) => setError(e.message), []);
  // A first load that failed on the network is tried again by the kit: once the channel is
  // loaded, its error is no longer true and must not stay with a screen reader.
  useEffect(() => {
    if (loaded) setError(null);
  }, [loaded]);
  const showJoin = info.state?.loaded && !info.isMember && info.kind !== 'dm';
  // The assistant's catch-up of what was unread when the channel was opened.
  const offer = useCatchUpOffer(channel, info);
  const [catchingUp, setCatchingUp] = useState(false);
  return (
    <section className="app-conversation" aria-label={`Conversation: ${info.name}`}>
      <ChannelHeader
        channel={channel}
        info={info}
        panel={panel}
        onPanel={setPanel}
        onLeft={onLeft}
        onOpenNav={onOpenNav}
        compact={compactHeader}
        actions={
          offer ? <CatchUpButton offer={offer} open={catchingUp} onToggle={() => setCatchingUp((v) => !v)} /> : null
        }
      />
      {offer && catchingUp ? (
        <CatchUpPanel cid={channel.cid} offer={offer} onClose={() => setCatchingUp(false)} />
      ) : null}
      {info.state?.loaded && info.kind !== 'dm' ? <BookmarksBar cid={channel.cid} className="app-bookmarks" /> : null}
      <div className={`app-conversation__body${panel ? ' app-conversation__body--panel' : ''}`}>
        <ParleyChannel channel={channel} className="app-channel" onError={onWatchError}>
          <MessageList onSelectUser={showProfile} emptyState={<Intro info={info} />} focusMessageId={focusMessageId} />
          <TypingIndicator />
          {showJoin ? null : <SmartReplies channel={channel} />}
          {showJoin ? <JoinBar channel={channel} info={info} /> : <MessageInput autoFocus />}
          <Thread onSelectUser={showProfile}>
            <ThreadCatchUp />
          </Thread>
          {/* On a phone a profile opens over the thread it was opened from, and back returns to it. */}
          {phone ? null : <OnePane panel={panel} onThreadOpened={closePanel} />}
          <ThreadAddress id={threadId} phone={phone} location={location} />
        </ParleyChannel>
        {panel ? (
          <SidePanel
            panel={panel}
            channel={channel}
            info={info}
            onPanel={setPanel}
            onOpenConversation={onOpenConversation}
            {...(onEditProfile ? { onEditProfile } : {})}
          />
        ) : null}
      </div>
      {error ? (
        <p className="app-sr-only" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
