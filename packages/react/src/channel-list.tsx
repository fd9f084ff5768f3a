/**
 * `<ChannelList>`: the user's conversations in two sections, "Channels" and "Direct messages",
 * each in the client's order (most recent activity first, so a new message moves its
 * conversation up). Rows show unread and mention badges, a presence dot for DMs and a preview
 * of the last message. Keyboard: arrow keys move, Home/End jump, Enter or Space selects.
 *
 * With `sections`, the user's own sidebar sections (`client.sidebar`: Starred and their custom
 * ones) come first, each collapsible and sorted as the user chose; rows are dragged between
 * sections (HTML5 drag and drop), or moved with their menu (Shift+F10 or the context-menu key
 * on a row, or its ⋯ button), and every change is kept on the server and live on the user's
 * other devices.
 */
import { type ChannelState, type ClientState, groupChannels } from '@parley/client';
import type { Member, SidebarSection, User } from '@parley/protocol';
import { type DragEvent, type KeyboardEvent, type ReactNode, useId, useRef, useState } from 'react';
import { useChatClient, useClientState, useMe } from './context.js';
import { useDmMembers } from './dm-members.js';
import { cx, displayName } from './format.js';
import { LockIcon } from './icons.js';
import { useWatchPresence } from './presence.js';
import {
  DRAG_TYPE,
  InlineName,
  PopupMenu,
  rowMenuItems,
  SECTION_DRAG_TYPE,
  sectionMenuItems,
  sectionOrderAfterDrop,
  useSidebar,
} from './sidebar-sections.js';
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
  /**
   * Group by the user's sidebar sections (`client.sidebar`): Starred and custom sections
   * first, made, renamed, sorted, collapsed and reordered here, with rows moved by drag and
   * drop or by their menu. Off by default: the two default groups only.
   */
  sections?: boolean;
  className?: string;
}

interface Group {
  key: string;
  name: string;
  section: SidebarSection | null;
  cids: string[];
}

const sameGroups = (a: Group[], b: Group[]) => JSON.stringify(a) === JSON.stringify(b);

/** The user's channels and DMs (see the module comment). Render inside `<ChatProvider>`. */
export function ChannelList({
  activeCid = null,
  onSelect,
  filter,
  emptyState,
  labels,
  sections = false,
  className,
}: ChannelListProps) {
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
  const channelsLabel = labels?.channels ?? 'Channels';
  const dmsLabel = labels?.directMessages ?? 'Direct messages';
  const { sidebar, api } = useSidebar(sections);
  const groups = useClientState(
    (s): Group[] =>
      groupChannels(
        sections ? sidebar : null,
        s.channels,
        s.channelList.filter((cid) => {
          const c = s.channels[cid];
          return !!c && (!filter || filter(c));
        }),
        (c) => channelDisplayName(c, s, me, fetchedMembers),
      ).map((g) => ({
        key: g.key,
        section: g.section,
        name: g.key === 'channels' ? channelsLabel : g.key === 'direct' ? dmsLabel : g.name,
        cids: g.channels.map((c) => c.cid),
      })),
    sameGroups,
  );
  const rowOf = new Map(rows.map((r) => [r.cid, r]));
  // The default groups collapse on this device only; a section's collapse is kept on the server.
  const [localCollapsed, setLocalCollapsed] = useState<Record<string, boolean>>({});
  const collapsed = (g: Group) => (g.section ? g.section.collapsed : !!localCollapsed[g.key]);
  const visible = groups.filter((g) => !collapsed(g));
  const ordered = visible.flatMap((g) => g.cids.map((cid) => rowOf.get(cid)).filter((r): r is Row => !!r));
  const [focused, setFocused] = useState<string | null>(null);
  const refs = useRef(new Map<string, HTMLDivElement>());
  const id = useId();
  const [menu, setMenu] = useState<{ kind: 'row' | 'section'; key: string } | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [dragging, setDragging] = useState<string | null>(null);
  const [dropAt, setDropAt] = useState<{ group: string; index: number } | null>(null);
  // A section dragged by its header to another place among the sections.
  const [movingSection, setMovingSection] = useState<string | null>(null);
  const [sectionDrop, setSectionDrop] = useState<{ id: string; after: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const report = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const menuButtons = useRef(new Map<string, HTMLButtonElement>());

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
    if (e.target !== e.currentTarget) return;
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
      case 'ContextMenu':
      case 'F10':
        if (!sections || (e.key === 'F10' && !e.shiftKey)) return;
        setMenu({ kind: 'row', key: cid });
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  /** Drop the dragged row into `g` before its `index`-th row (the end when past the last). */
  const drop = (e: DragEvent, g: Group, index: number) => {
    e.preventDefault();
    e.stopPropagation();
    const cid = e.dataTransfer.getData(DRAG_TYPE) || dragging;
    setDragging(null);
    setDropAt(null);
    if (!cid) return;
    if (!g.section) {
      // The default groups take back what a section held; which one is the channel's type.
      if (groups.some((x) => x.section && x.cids.includes(cid))) api.place(cid, null).catch(report);
      return;
    }
    const from = g.cids.indexOf(cid);
    const at = from >= 0 && from < index ? index - 1 : index;
    if (from === at) return;
    api.place(cid, g.section.id, at).catch(report);
  };
  const overRow = (e: DragEvent<HTMLElement>, g: Group, i: number) => {
    if (!sections || !dragging) return;
    e.preventDefault();
    e.stopPropagation();
    const box = e.currentTarget.getBoundingClientRect();
    const index = e.clientY > box.top + box.height / 2 ? i + 1 : i;
    if (dropAt?.group !== g.key || dropAt.index !== index) setDropAt({ group: g.key, index });
  };

  const renderRow = (r: Row, g: Group, i: number) => {
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
    const menuOpen = menu?.kind === 'row' && menu.key === r.cid;
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
        aria-keyshortcuts={sections ? 'Shift+F10' : undefined}
        tabIndex={r.cid === tabStop ? 0 : -1}
        data-cid={r.cid}
        draggable={sections || undefined}
        className={cx(
          'parley-channel-row',
          active && 'parley-channel-row--active',
          unread && 'parley-channel-row--unread',
          r.muted && 'parley-channel-row--muted',
          dragging === r.cid && 'parley-channel-row--dragging',
          dropAt?.group === g.key && dropAt.index === i && 'parley-channel-row--drop-before',
          dropAt?.group === g.key &&
            dropAt.index === i + 1 &&
            i === g.cids.length - 1 &&
            'parley-channel-row--drop-after',
        )}
        onClick={() => {
          setFocused(r.cid);
          onSelect(r.cid);
        }}
        onFocus={() => setFocused(r.cid)}
        onKeyDown={(e) => onKeyDown(e, r.cid)}
        onContextMenu={
          sections
            ? (e) => {
                e.preventDefault();
                setMenu({ kind: 'row', key: r.cid });
              }
            : undefined
        }
        onDragStart={
          sections
            ? (e) => {
                e.dataTransfer.setData(DRAG_TYPE, r.cid);
                e.dataTransfer.setData('text/plain', r.name);
                e.dataTransfer.effectAllowed = 'move';
                setDragging(r.cid);
              }
            : undefined
        }
        onDragEnd={
          sections
            ? () => {
                setDragging(null);
                setDropAt(null);
              }
            : undefined
        }
        onDragOver={sections ? (e) => overRow(e, g, i) : undefined}
        onDrop={sections ? (e) => drop(e, g, dropAt?.group === g.key ? dropAt.index : i) : undefined}
      >
        <span className="parley-channel-row__icon" aria-hidden="true">
          {r.dm ? <PresenceDot presence={r.presence} /> : r.type === 'group' ? <LockIcon /> : '#'}
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
        {sections ? (
          <button
            type="button"
            tabIndex={-1}
            className="parley-channel-row__more"
            aria-label={`Options for ${r.name}`}
            aria-haspopup="menu"
            aria-expanded={menuOpen}
            onClick={(e) => {
              e.stopPropagation();
              setMenu(menuOpen ? null : { kind: 'row', key: r.cid });
            }}
          >
            ⋯
          </button>
        ) : null}
        {menuOpen ? (
          <PopupMenu
            label={`Options for ${r.name}`}
            items={rowMenuItems(api, sidebar, r.cid, r.dm ? dmsLabel : channelsLabel, report)}
            onClose={() => setMenu(null)}
            returnTo={refs.current.get(r.cid)}
          />
        ) : null}
      </div>
    );
  };

  const renderGroup = (g: Group) => {
    const groupRows = g.cids.map((cid) => rowOf.get(cid)).filter((r): r is Row => !!r);
    // Without sections the default groups show only when they have rows, as always.
    if (!sections && groupRows.length === 0) return null;
    if (sections && !g.section && groupRows.length === 0 && !dragging) return null;
    const titleId = `${id}-${g.key}`;
    const isCollapsed = collapsed(g);
    const section = g.section;
    const menuOpen = menu?.kind === 'section' && menu.key === g.key;
    const dropSection = (e: DragEvent) => {
      const moving = e.dataTransfer.getData(SECTION_DRAG_TYPE) || movingSection;
      const where = sectionDrop;
      setMovingSection(null);
      setSectionDrop(null);
      if (!moving || !sidebar || !section || !where || where.id !== section.id) return;
      const ids = sidebar.sections.map((s) => s.id);
      const next = sectionOrderAfterDrop(ids, moving, section.id, where.after);
      if (next.join() !== ids.join()) api.reorder(next).catch(report);
    };
    const toggle = () => {
      if (section) api.updateSection(section.id, { collapsed: !section.collapsed }).catch(report);
      else setLocalCollapsed((c) => ({ ...c, [g.key]: !c[g.key] }));
    };
    return (
      <section
        key={g.key}
        className={cx(
          'parley-channel-list__section',
          dropAt?.group === g.key && 'parley-channel-list__section--drop',
          section?.kind === 'starred' && 'parley-channel-list__section--starred',
          section && movingSection === section.id && 'parley-channel-list__section--moving',
          section && sectionDrop?.id === section.id && !sectionDrop.after && 'parley-channel-list__section--drop-above',
          section && sectionDrop?.id === section.id && sectionDrop.after && 'parley-channel-list__section--drop-below',
        )}
        data-section={g.key}
        aria-labelledby={titleId}
        onDragOver={
          sections && dragging
            ? (e) => {
                e.preventDefault();
                if (dropAt?.group !== g.key || (e.target as HTMLElement).closest('[data-cid]') === null)
                  setDropAt({ group: g.key, index: g.cids.length });
              }
            : sections && movingSection && section
              ? (e) => {
                  // Another section: drop above it in its upper half, below it in its lower half.
                  if (section.id === movingSection) return setSectionDrop(null);
                  e.preventDefault();
                  const box = e.currentTarget.getBoundingClientRect();
                  const after = e.clientY > box.top + box.height / 2;
                  if (sectionDrop?.id !== section.id || sectionDrop.after !== after)
                    setSectionDrop({ id: section.id, after });
                }
              : undefined
        }
        onDrop={sections ? (e) => (movingSection ? dropSection(e) : drop(e, g, g.cids.length)) : undefined}
      >
        {sections ? (
          // biome-ignore lint/a11y/noStaticElementInteractions: dragging is the mouse's way; keyboards reorder with the section menu's Move up / Move down
          <div
            className="parley-channel-list__head"
            draggable={(section && sidebar && renaming !== g.key) || undefined}
            title={section && sidebar ? 'Drag to reorder sections' : undefined}
            onDragStart={
              section && sidebar
                ? (e) => {
                    e.dataTransfer.setData(SECTION_DRAG_TYPE, section.id);
                    e.dataTransfer.setData('text/plain', g.name);
                    e.dataTransfer.effectAllowed = 'move';
                    setMovingSection(section.id);
                  }
                : undefined
            }
            onDragEnd={
              section && sidebar
                ? () => {
                    setMovingSection(null);
                    setSectionDrop(null);
                  }
                : undefined
            }
          >
            {renaming === g.key && section ? (
              <InlineName
                label="Section name"
                initial={section.name}
                onCancel={() => setRenaming(null)}
                onSave={(name) => {
                  setRenaming(null);
                  api.updateSection(section.id, { name }).catch(report);
                }}
              />
            ) : (
              <button
                type="button"
                className="parley-channel-list__toggle"
                aria-expanded={!isCollapsed}
                onClick={toggle}
              >
                <span className="parley-channel-list__caret" aria-hidden="true">
                  {isCollapsed ? '▸' : '▾'}
                </span>
                <h2 id={titleId} className="parley-channel-list__title">
                  {section?.kind === 'starred' ? <span aria-hidden="true">★ </span> : null}
                  {g.name}
                </h2>
              </button>
            )}
            {section && sidebar ? (
              <button
                type="button"
                ref={(el) => {
                  if (el) menuButtons.current.set(g.key, el);
                  else menuButtons.current.delete(g.key);
                }}
                className="parley-channel-list__more"
                aria-label={`${g.name} section options`}
                aria-haspopup="menu"
                aria-expanded={menuOpen}
                onClick={() => setMenu(menuOpen ? null : { kind: 'section', key: g.key })}
              >
                ⋯
              </button>
            ) : null}
            {menuOpen && section && sidebar ? (
              <PopupMenu
                label={`${g.name} section options`}
                items={sectionMenuItems(api, sidebar, section, () => setRenaming(g.key), report)}
                onClose={() => setMenu(null)}
                returnTo={menuButtons.current.get(g.key)}
              />
            ) : null}
          </div>
        ) : (
          <h2 id={titleId} className="parley-channel-list__title">
            {g.name}
          </h2>
        )}
        {isCollapsed ? null : (
          <div role="listbox" aria-labelledby={titleId}>
            {groupRows.map((r, i) => renderRow(r, g, i))}
            {sections && groupRows.length === 0 ? (
              <p className="parley-channel-list__empty">{dragging ? 'Drop here' : 'Drag conversations here'}</p>
            ) : null}
          </div>
        )}
      </section>
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
      {/* One listbox per section; arrow keys move across all, as through one list. */}
      {groups.map(renderGroup)}
      {sections ? (
        adding ? (
          <InlineName
            label="New section name"
            onCancel={() => setAdding(false)}
            onSave={(name) => {
              setAdding(false);
              api.createSection(name).catch(report);
            }}
          />
        ) : (
          <button type="button" className="parley-channel-list__add" onClick={() => setAdding(true)}>
            + New section
          </button>
        )
      ) : null}
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
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
