/**
 * The activity inbox (`client.inbox`) and user groups (`client.groups`) in the SDK.
 *
 * `inbox.state` holds the loaded pages of one filter and the unread count. The count follows
 * `inbox.updated` live (every device of the user gets it when an item arrives or is read
 * anywhere); a new item is put at the top of the list when it fits the filter. `load()` reads
 * the first page again (after a reconnect too), `more()` the next one.
 *
 * `groups.state` holds the app's groups after `load()`, kept live by `user_group.updated`;
 * `groups.search(prefix)` is what the composer's @-autocomplete uses beside people.
 */
import type {
  CreateUserGroupBody,
  InboxCountResponse,
  InboxFilter,
  InboxItem,
  InboxItemResponse,
  InboxResponse,
  ServerEvent,
  UpdateUserGroupBody,
  UserGroup,
  UserGroupResponse,
  UserGroupSettingsResponse,
  UserGroupsResponse,
} from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

export interface InboxState {
  /** The loaded items of `filter`, newest first. */
  items: InboxItem[];
  filter: InboxFilter;
  /** The cursor of the next page; null when all are loaded (or before `load()`). */
  next: string | null;
  /** Unread items in the whole inbox (every filter). */
  unreadCount: number;
  /** Whether `load()` has run. */
  loaded: boolean;
  loading: boolean;
}

const fits = (filter: InboxFilter, item: InboxItem) =>
  filter === 'all' ||
  (filter === 'unread' && !item.read) ||
  (filter === 'mentions' && (item.kind === 'mention' || item.kind === 'note_mention')) ||
  (filter === 'threads' && item.kind === 'thread') ||
  (filter === 'reactions' && item.kind === 'reaction');

export class Inbox {
  readonly state = new Store<InboxState>({
    items: [],
    filter: 'all',
    next: null,
    unreadCount: 0,
    loaded: false,
    loading: false,
  });

  constructor(private readonly http: Http) {}

  /** Load the first page of `filter` (default: the current one). */
  async load(filter: InboxFilter = this.state.get().filter, limit = 30): Promise<InboxItem[]> {
    this.state.update((s) => ({ ...s, filter, loading: true }));
    try {
      const r = await this.http.call<InboxResponse>('GET', `/v1/inbox?filter=${filter}&limit=${limit}`);
      // A filter changed while this page was on its way keeps its own.
      if (this.state.get().filter !== filter) return r.items;
      this.state.update((s) => ({ ...s, items: r.items, next: r.next, unreadCount: r.unread_count, loaded: true }));
      return r.items;
    } finally {
      this.state.update((s) => ({ ...s, loading: false }));
    }
  }

  /** Load the next (older) page; nothing when all are loaded. */
  async more(limit = 30): Promise<InboxItem[]> {
    const { next, filter } = this.state.get();
    if (!next) return [];
    const r = await this.http.call<InboxResponse>(
      'GET',
      `/v1/inbox?filter=${filter}&limit=${limit}&cursor=${encodeURIComponent(next)}`,
    );
    this.state.update((s) =>
      s.filter !== filter
        ? s
        : {
            ...s,
            items: [...s.items, ...r.items.filter((i) => !s.items.some((x) => x.id === i.id))],
            next: r.next,
            unreadCount: r.unread_count,
          },
    );
    return r.items;
  }

  /** The unread count from the server (the live count needs no call: `state.unreadCount`). */
  async count(): Promise<number> {
    const r = await this.http.call<InboxCountResponse>('GET', '/v1/inbox/count');
    this.state.update((s) => ({ ...s, unreadCount: r.unread_count }));
    return r.unread_count;
  }

  /** Mark one item read (or unread again). */
  async markRead(id: string, read = true): Promise<InboxItem> {
    this.state.update((s) => ({ ...s, items: s.items.map((i) => (i.id === id ? { ...i, read } : i)) }));
    const r = await this.http.call<InboxItemResponse>('POST', `/v1/inbox/${id}/read`, { read });
    this.state.update((s) => ({
      ...s,
      items: s.items.map((i) => (i.id === id ? { ...r.item, message: i.message ?? r.item.message } : i)),
      unreadCount: r.unread_count,
    }));
    return r.item;
  }

  /** Mark every item read. */
  async markAllRead(): Promise<void> {
    this.state.update((s) => ({ ...s, items: s.items.map((i) => ({ ...i, read: true })), unreadCount: 0 }));
    await this.http.call<InboxCountResponse>('POST', '/v1/inbox/read', {});
  }

  /** @internal The client hands over `inbox.updated`. */
  onEvent(e: Extract<ServerEvent, { type: 'inbox.updated' }>): void {
    this.state.update((s) => {
      let items = s.items;
      const item = e.item;
      if (item && s.loaded && fits(s.filter, item) && !items.some((i) => i.id === item.id)) items = [item, ...items];
      // Taken back (an edit removed the mention before it was read).
      if (e.removed?.length) {
        const gone = new Set(e.removed);
        items = items.filter((i) => !gone.has(i.id));
      }
      // Read elsewhere: these items (one opened on another device, a channel read past them),
      // or all of them when the count says so.
      if (e.read?.length) {
        const read = new Set(e.read);
        items = items.map((i) => (i.read || !read.has(i.id) ? i : { ...i, read: true }));
      }
      if (e.unread_count === 0) items = items.map((i) => (i.read ? i : { ...i, read: true }));
      return { ...s, items, unreadCount: e.unread_count };
    });
    // The new item's message comes with a fresh page (the event carries the item only).
    if (e.item && this.state.get().loaded && fits(this.state.get().filter, e.item)) void this.refreshItem(e.item.id);
  }

  private async refreshItem(id: string): Promise<void> {
    const { filter } = this.state.get();
    const r = await this.http.call<InboxResponse>('GET', `/v1/inbox?filter=${filter}&limit=10`).catch(() => null);
    if (!r) return;
    const found = r.items.find((i) => i.id === id);
    if (found) this.state.update((s) => ({ ...s, items: s.items.map((i) => (i.id === id ? found : i)) }));
  }

  /** @internal After a reconnect: what arrived while away. */
  reconnected(): void {
    if (this.state.get().loaded) void this.load().catch(() => {});
    else void this.count().catch(() => {});
  }
}

export interface GroupsState {
  /** The app's groups by handle (after `load()`). */
  groups: UserGroup[];
  loaded: boolean;
}

const byHandle = (a: UserGroup, b: UserGroup) => a.handle.toLowerCase().localeCompare(b.handle.toLowerCase());

export class Groups {
  readonly state = new Store<GroupsState>({ groups: [], loaded: false });

  constructor(private readonly http: Http) {}

  /** Load the app's groups (kept live afterwards by `user_group.updated`). */
  async load(): Promise<UserGroup[]> {
    const r = await this.http.call<UserGroupsResponse>('GET', '/v1/user-groups?limit=200');
    this.state.update(() => ({ groups: [...r.groups].sort(byHandle), loaded: true }));
    return r.groups;
  }

  /** Groups whose handle or name starts with `prefix` (from the loaded list when there is one). */
  async search(prefix: string, limit = 8): Promise<UserGroup[]> {
    const p = prefix.toLowerCase();
    const s = this.state.get();
    if (s.loaded)
      return s.groups
        .filter((g) => g.handle.toLowerCase().startsWith(p) || g.name.toLowerCase().startsWith(p))
        .slice(0, limit);
    const r = await this.http.call<UserGroupsResponse>(
      'GET',
      `/v1/user-groups?q=${encodeURIComponent(prefix)}&limit=${limit}`,
    );
    return r.groups;
  }

  async get(id: string): Promise<UserGroup> {
    return (await this.http.call<UserGroupResponse>('GET', `/v1/user-groups/${id}`)).group;
  }

  async create(body: CreateUserGroupBody): Promise<UserGroup> {
    const g = (await this.http.call<UserGroupResponse>('POST', '/v1/user-groups', body)).group;
    this.put(g);
    return g;
  }

  async update(id: string, body: UpdateUserGroupBody): Promise<UserGroup> {
    const g = (await this.http.call<UserGroupResponse>('PATCH', `/v1/user-groups/${id}`, body)).group;
    this.put(g);
    return g;
  }

  async remove(id: string): Promise<void> {
    await this.http.call<UserGroupResponse>('DELETE', `/v1/user-groups/${id}`);
    this.state.update((s) => ({ ...s, groups: s.groups.filter((g) => g.id !== id) }));
  }

  /** Add and/or remove members. */
  async members(id: string, change: { add?: string[]; remove?: string[] }): Promise<UserGroup> {
    const g = (await this.http.call<UserGroupResponse>('POST', `/v1/user-groups/${id}/members`, change)).group;
    this.put(g);
    return g;
  }

  /** Who may manage groups: `admins` or `everyone`. */
  async settings(): Promise<UserGroupSettingsResponse['settings']> {
    return (await this.http.call<UserGroupSettingsResponse>('GET', '/v1/user-group-settings')).settings;
  }

  async setSettings(managers: 'admins' | 'everyone'): Promise<void> {
    await this.http.call<UserGroupSettingsResponse>('PUT', '/v1/user-group-settings', { managers });
  }

  private put(g: UserGroup): void {
    this.state.update((s) => ({ ...s, groups: [...s.groups.filter((x) => x.id !== g.id), g].sort(byHandle) }));
  }

  /** @internal The client hands over `user_group.updated`. */
  onEvent(e: Extract<ServerEvent, { type: 'user_group.updated' }>): void {
    if (e.change === 'deleted')
      this.state.update((s) => ({ ...s, groups: s.groups.filter((g) => g.id !== e.group.id) }));
    else this.put(e.group);
  }
}
