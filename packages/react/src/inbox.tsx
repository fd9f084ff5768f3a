/**
 * The activity inbox in the kit: {@link InboxBadge} (the live unread count, for a sidebar
 * entry) and {@link InboxList} (items with filters, read state, mark all read, paging). Both
 * read `client.inbox.state`, which the SDK keeps live from `inbox.updated`.
 */
import { type ClientState, type InboxState, keepLoading } from '@parley/client';
import type { InboxFilter, InboxItem, Task } from '@parley/protocol';
import { useEffect, useSyncExternalStore } from 'react';
import { channelDisplayName } from './channel-list.js';
import { useChatClient, useClientState } from './context.js';
import { displayName, relativeTime } from './format.js';
import { TaskList } from './tasks.js';
import { Avatar, lookupUser } from './user.js';

/** The inbox's state, live. */
export function useInbox(): InboxState {
  const client = useChatClient();
  return useSyncExternalStore(
    (l) => client.inbox.state.subscribe(l),
    () => client.inbox.state.get(),
    () => client.inbox.state.get(),
  );
}

/** Props of {@link InboxBadge}. */
export interface InboxBadgeProps {
  /** Fetch the count once on mount (the live count needs no call afterwards). Default true. */
  fetch?: boolean;
  className?: string;
}

/** The inbox's unread count as a badge; renders nothing at 0. */
export function InboxBadge({ fetch = true, className }: InboxBadgeProps) {
  const client = useChatClient();
  const { unreadCount } = useInbox();
  // Tried again while it fails on the network (keepLoading), like every first load of the kit.
  useEffect(() => (fetch ? keepLoading(() => client.inbox.count()) : undefined), [client, fetch]);
  if (unreadCount === 0) return null;
  const text = unreadCount > 99 ? '99+' : String(unreadCount);
  return (
    <span className={`parley-inbox-badge${className ? ` ${className}` : ''}`} data-count={unreadCount}>
      {text}
      <span className="parley-sr-only"> unread in activity</span>
    </span>
  );
}

const FILTERS: { id: InboxFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'mentions', label: 'Mentions' },
  { id: 'threads', label: 'Threads' },
  { id: 'reactions', label: 'Reactions' },
  { id: 'tasks', label: 'Tasks' },
];

/** What an item says happened, without the actor's name. */
export function inboxItemSummary(item: InboxItem): string {
  switch (item.kind) {
    case 'mention':
      return item.via === 'group'
        ? `mentioned @${item.group_handle ?? 'a group'}`
        : item.via === 'here'
          ? 'said @here'
          : item.via === 'channel'
            ? 'said @channel'
            : 'mentioned you';
    case 'thread':
      return 'replied in a thread';
    case 'reaction':
      return `reacted ${item.reaction_type ?? ''} to your message`.replace('  ', ' ');
    case 'dm':
      return 'sent you a message';
    case 'invitation':
      return `added you to ${item.cid ?? 'a channel'}`;
    case 'reminder':
      return 'Reminder';
    case 'note_mention':
      return item.via === 'group'
        ? `mentioned @${item.group_handle ?? 'a group'} in a note`
        : 'mentioned you in a note';
    case 'task':
      return 'assigned you a task';
    case 'note_updated':
      return 'changed a note you follow';
  }
}

/** Props of {@link InboxList}. */
export interface InboxListProps {
  /** Open an item: jump to its message. The item is marked read first. */
  onOpen?: (item: InboxItem) => void;
  /** Open a task of the Tasks tab (my open tasks): jump to its message. */
  onOpenTask?: (task: Task) => void;
  /** Items per page. */
  pageSize?: number;
}

/**
 * Where an item happened, shown after its summary: the channel's name as the sidebar shows it
 * (its id while the client does not hold it); nothing for a DM, which the summary names.
 */
export function inboxItemWhere(item: InboxItem, state: ClientState): string | null {
  if (!item.cid || item.cid.startsWith('dm:')) return null;
  const c = state.channels[item.cid];
  return c ? channelDisplayName(c, state, state.user?.id ?? null) : item.cid.slice(item.cid.indexOf(':') + 1);
}

/** The inbox: filter tabs, items newest first (unread marked), mark all read, load more. */
export function InboxList({ onOpen, onOpenTask, pageSize = 30 }: InboxListProps) {
  const client = useChatClient();
  const inbox = useInbox();
  const users = useClientState((s) => s, Object.is);
  useEffect(() => keepLoading(() => client.inbox.load(client.inbox.state.get().filter, pageSize)), [client, pageSize]);
  const open = (item: InboxItem) => {
    if (!item.read) void client.inbox.markRead(item.id).catch(() => {});
    onOpen?.(item);
  };
  return (
    <section className="parley-inbox" aria-label="Activity">
      <div className="parley-inbox__bar">
        <div className="parley-inbox__filters" role="tablist" aria-label="Filter activity">
          {FILTERS.map((f) => (
            <button
              key={f.id}
              type="button"
              role="tab"
              aria-selected={inbox.filter === f.id}
              className="parley-inbox__filter"
              onClick={() => void client.inbox.load(f.id, pageSize).catch(() => {})}
            >
              {f.label}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="parley-inbox__all-read"
          disabled={inbox.unreadCount === 0}
          onClick={() => void client.inbox.markAllRead().catch(() => {})}
        >
          Mark all read
        </button>
      </div>
      {inbox.filter === 'tasks' ? (
        // The Tasks tab: the tasks assigned to me now (open ones, to mark done), then the
        // assignments as they came.
        <TaskList {...(onOpenTask ? { onOpen: onOpenTask } : {})} className="parley-inbox__tasks" />
      ) : null}
      {inbox.loaded && inbox.items.length === 0 && inbox.filter !== 'tasks' ? (
        <p className="parley-inbox__empty">Nothing here yet.</p>
      ) : null}
      <ul className="parley-inbox__items">
        {inbox.items.map((item) => {
          const actor = item.actor_id ? lookupUser(users, undefined, item.actor_id) : undefined;
          const who = item.kind === 'reminder' ? '' : displayName(actor, item.actor_id ?? '');
          const where = inboxItemWhere(item, users);
          return (
            <li key={item.id} className={`parley-inbox__item${item.read ? '' : ' parley-inbox__item--unread'}`}>
              <button
                type="button"
                className="parley-inbox__open"
                data-item-id={item.id}
                data-kind={item.kind}
                onClick={() => open(item)}
              >
                {item.actor_id ? <Avatar user={actor} id={item.actor_id} size={28} /> : null}
                <span className="parley-inbox__text">
                  <span className="parley-inbox__what">
                    {who ? <strong>{who}</strong> : null} {inboxItemSummary(item)}
                    {where ? <span className="parley-inbox__where"> · {where}</span> : null}
                  </span>
                  {item.message ? <span className="parley-inbox__excerpt">{item.message.text}</span> : null}
                  {item.note_title ? <span className="parley-inbox__excerpt">{item.note_title}</span> : null}
                </span>
                <time className="parley-inbox__time" dateTime={item.created_at}>
                  {relativeTime(item.created_at)}
                </time>
                {item.read ? null : <span className="parley-inbox__dot" role="img" aria-label="unread" />}
              </button>
            </li>
          );
        })}
      </ul>
      {inbox.next ? (
        <button
          type="button"
          className="parley-inbox__more"
          onClick={() => void client.inbox.more(pageSize).catch(() => {})}
        >
          Load more
        </button>
      ) : null}
    </section>
  );
}
