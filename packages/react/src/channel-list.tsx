/**
 * `<ChannelList>`: the user's conversations in two sections, "Channels" and "Direct messages",
 * each in the client's order (most recent activity first, so a new message moves its
 * conversation up). Rows show unread and mention badges, a presence dot for DMs and a preview
 * of the last message. Keyboard: arrow keys move, Home/End jump, Enter or Space selects.
 */
import type { ChannelState, ClientState } from '@parley/client';
import type { Member, User } from '@parley/protocol';
import { type KeyboardEvent, type ReactNode, useId, useRef, useState } from 'react';
import { useChatClient, useClientState, useMe } from './context.js';
import { useDmMembers } from './dm-members.js';
import { cx, displayName } from './format.js';
import { useWatchPresence } from './presence.js';
import { PresenceDot } from './user.js';

type Fallback = Readonly<Record<string, readonly Member[]>>;

/** The members of a channel: from its state, else from the members fetched for the list. */
function membersOf(c: ChannelState, fallback: Fallback | undefined): readonly Member[] {
  const own = Object.values(c.members);
  return own.length > 0 ? own : (fallback?.[c.cid] ?? []);
}

/** The other members of a DM (everyone but `me`). */
function dmPeers(c: ChannelState, me: string | null, fallback?: Fallback): string[] {
  return membersOf(c, fallback)
    .map((m) => m.user_id)
    .filter((id) => id !== me);
}

function userOf(state: Pick<ClientState, 'users'>, c: ChannelState, id: string, fallback?: Fallback): User | undefined {
  return state.users[id] ?? membersOf(c, fallback).find((m) => m.user_id === id)?.user;
}

/**
 * The name to show for a channel: its name; for a DM, the other members' names (from its
 * state, or `members` fetched separately). A DM whose members are unknown falls back to the
 * author of its last message, or "Direct message".
 */
export function channelDisplayName(
  c: ChannelState,
  state: Pick<ClientState, 'users'>,
  me: string | null,
  members?: Readonly<Record<string, readonly Member[]>>,
): string {
  if (c.channel.type !== 'dm') return c.channel.name || c.channel.id;
  const peers = dmPeers(c, me, members);
  if (peers.length > 0) return peers.map((id) => displayName(userOf(state, c, id, members), id)).join(', ');
  const last = c.channel.last_message;
  if (last && last.user_id !== me) return displayName(state.users[last.user_id] ?? last.user, last.user_id);
  return c.channel.name || 'Direct message';
}

/**
 * How to refer to a channel in labels: `#name` for named channels, the other members' names
 * for DMs (when known), else "this conversation".
 */
export function useChannelTitle(c: ChannelState | undefined): string {
  const me = useMe();
  return useClientState((s) => {
    if (!c) return 'this conversation';
    if (c.channel.type !== 'dm') return c.channel.name ? `#${c.channel.name}` : 'this conversation';
    const name = channelDisplayName(c, s, me);
    return name === 'Direct message' ? 'this conversation' : name;
  });
}

function preview(c: ChannelState, state: Pick<ClientState, 'users'>, me: string | null): string {
  const m = c.channel.last_message;
  if (!m) return '';
  const who = m.user_id === me ? 'You' : displayName(state.users[m.user_id] ?? m.user, m.user_id);
  const text = m.type === 'deleted' ? 'Message deleted' : m.text.replace(/\s+/g, ' ').trim();
  return `${who}: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`;
}

interface Row {
  cid: string;
  dm: boolean;
  name: string;
  preview: string;
  unread: number;
  mentions: number;
  muted: boolean;
  presence: User['presence'] | undefined;
  /** A DM peer's custom status (emoji and text), or null. */
  status: string | null;
  type: string;
}

/** Props of {@link ChannelList}. */
export interface ChannelListProps {
  /** The selected conversation, highlighted. */
  activeCid?: string | null;
  /** Called with the cid of the conversation chosen (click, Enter or Space). */
  onSelect(cid: string): void;
  /** Show only the conversations this accepts (default: all the user is a member of). */
  filter?(channel: ChannelState): boolean;
  /** Shown when there are no conversations. */
  emptyState?: ReactNode;
  /** Section titles; default "Channels" and "Direct messages". */
  labels?: { channels?: string; directMessages?: string };
  className?: string;
}

/** The user's channels and DMs (see the module comment). Render inside `<ChatProvider>`. */
export function ChannelList({ activeCid = null, onSelect, filter, emptyState, labels, className }: ChannelListProps) {
  const me = useMe();
  const client = useChatClient();
  // DMs listed without members: fetch them (once) so the rows can be named.
  const bare = useClientState((s) =>
    s.channelList.filter((cid) => {
      const c = s.channels[cid];
      return c?.channel.type === 'dm' && Object.keys(c.members).length === 0;
    }),
  );
  const fetchedMembers = useDmMembers(client, bare);
  const rows = useClientState(
    (s): Row[] =>
      s.channelList.flatMap((cid) => {
        const c = s.channels[cid];
        if (!c || (filter && !filter(c))) return [];
        const dm = c.channel.type === 'dm';
        const peer = dm ? dmPeers(c, me, fetchedMembers)[0] : undefined;
        return [
          {
            cid,
            dm,
            name: channelDisplayName(c, s, me, fetchedMembers),
            preview: preview(c, s, me),
            unread: c.unreadCount,
            mentions: c.mentionCount,
            muted: c.channel.membership?.muted ?? false,
            presence: peer ? (userOf(s, c, peer, fetchedMembers)?.presence ?? 'offline') : undefined,
            status: peer ? statusText(userOf(s, c, peer, fetchedMembers)) : null,
            type: c.channel.type,
          },
        ];
      }),
    rowsEqual,
  );
  // The DM rows show their peers' presence: follow it while the list is shown.
  const peers = useClientState((s) =>
    s.channelList
      .flatMap((cid) => {
        const c = s.channels[cid];
        return c?.channel.type === 'dm' ? dmPeers(c, me, fetchedMembers) : [];
      })
      .join(' '),
  );
  useWatchPresence(peers ? peers.split(' ') : []);
  const channels = rows.filter((r) => !r.dm);
  const dms = rows.filter((r) => r.dm);
  const ordered = [...channels, ...dms];
  const [focused, setFocused] = useState<string | null>(null);
  const refs = useRef(new Map<string, HTMLDivElement>());
  const id = useId();

  // One row is in the tab order: the focused one, else the active one, else the first.
  const tabStop =
    (focused && ordered.some((r) => r.cid === focused) && focused) ||
    (activeCid && ordered.some((r) => r.cid === activeCid) && activeCid) ||
    ordered[0]?.cid;

  const focusRow = (cid: string | undefined) => {
    if (!cid) return;
    setFocused(cid);
    refs.current.get(cid)?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLElement>, cid: string) => {
    const i = ordered.findIndex((r) => r.cid === cid);
    switch (e.key) {
      case 'ArrowDown':
        focusRow(ordered[Math.min(i + 1, ordered.length - 1)]?.cid);
        break;
      case 'ArrowUp':
        focusRow(ordered[Math.max(i - 1, 0)]?.cid);
        break;
      case 'Home':
        focusRow(ordered[0]?.cid);
        break;
      case 'End':
        focusRow(ordered.at(-1)?.cid);
        break;
      case 'Enter':
      case ' ':
        onSelect(cid);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const renderRow = (r: Row) => {
    const active = r.cid === activeCid;
    const unread = r.unread > 0 && !r.muted;
    const label = [
      r.dm ? `Direct message with ${r.name}` : r.name,
      r.presence ? r.presence : null,
      r.status,
      unread ? `${r.unread} unread` : null,
      r.mentions > 0 ? `${r.mentions} ${r.mentions === 1 ? 'mention' : 'mentions'}` : null,
      r.muted ? 'muted' : null,
    ]
      .filter(Boolean)
      .join(', ');
    return (
      <div
        key={r.cid}
        ref={(el) => {
          if (el) refs.current.set(r.cid, el);
          else refs.current.delete(r.cid);
        }}
        role="option"
        aria-selected={active}
        aria-label={label}
        tabIndex={r.cid === tabStop ? 0 : -1}
        data-cid={r.cid}
        className={cx(
          'parley-channel-row',
          active && 'parley-channel-row--active',
          unread && 'parley-channel-row--unread',
          r.muted && 'parley-channel-row--muted',
        )}
        onClick={() => {
          setFocused(r.cid);
          onSelect(r.cid);
        }}
        onFocus={() => setFocused(r.cid)}
        onKeyDown={(e) => onKeyDown(e, r.cid)}
      >
        <span className="parley-channel-row__icon" aria-hidden="true">
          {r.dm ? <PresenceDot presence={r.presence} /> : r.type === 'group' ? '🔒' : '#'}
        </span>
        <span className="parley-channel-row__text">
          <span className="parley-channel-row__name">
            {r.name}
            {r.status ? (
              <span className="parley-channel-row__status" data-testid="dm-status">
                {r.status}
              </span>
            ) : null}
          </span>
          {r.preview ? <span className="parley-channel-row__preview">{r.preview}</span> : null}
        </span>
        {r.mentions > 0 ? (
          <span className="parley-badge parley-badge--mention" data-testid="mention-badge">
            @{r.mentions}
          </span>
        ) : null}
        {unread ? (
          <span className="parley-badge" data-testid="unread-badge">
            {r.unread > 99 ? '99+' : r.unread}
          </span>
        ) : null}
      </div>
    );
  };

  if (rows.length === 0)
    return (
      <nav className={cx('parley-channel-list', className)} aria-label="Conversations">
        {emptyState ?? <p className="parley-muted">No conversations yet.</p>}
      </nav>
    );

  return (
    <nav className={cx('parley-channel-list', className)} aria-label="Conversations">
      {/* One listbox per section; arrow keys move across both, as through one list. */}
      {channels.length > 0 ? (
        <div className="parley-channel-list__section">
          <h2 id={`${id}-channels`} className="parley-channel-list__title">
            {labels?.channels ?? 'Channels'}
          </h2>
          <div role="listbox" aria-labelledby={`${id}-channels`}>
            {channels.map(renderRow)}
          </div>
        </div>
      ) : null}
      {dms.length > 0 ? (
        <div className="parley-channel-list__section">
          <h2 id={`${id}-dms`} className="parley-channel-list__title">
            {labels?.directMessages ?? 'Direct messages'}
          </h2>
          <div role="listbox" aria-labelledby={`${id}-dms`}>
            {dms.map(renderRow)}
          </div>
        </div>
      ) : null}
    </nav>
  );
}

/** A user's custom status as one line ("🌴 On holiday"), or null without one. */
function statusText(u: User | undefined): string | null {
  const s = u?.status;
  if (!s?.text) return null;
  return s.emoji ? `${s.emoji} ${s.text}` : s.text;
}

function rowsEqual(a: Row[], b: Row[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Row;
    const y = b[i] as Row;
    for (const k of Object.keys(x) as (keyof Row)[]) if (x[k] !== y[k]) return false;
  }
  return true;
}
