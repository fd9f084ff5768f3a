/**
 * The user's own sidebar (`client.sidebar`) and saved items (`client.saved`), kept on the
 * server and live on every device: `load()` reads them, every change answers with the new
 * state, and `sidebar.updated` / `saved.updated` from the user's other devices land in `state`.
 * `groupChannels` turns a sidebar and the channel list into what a UI draws.
 */
import type {
  CreateSectionBody,
  PlaceChannelBody,
  SavedItem,
  SavedItemsResponse,
  SaveMessageBody,
  ServerEvent,
  Sidebar,
  SidebarResponse,
  SidebarSection,
  UpdateSectionBody,
} from '@parley/protocol';
import type { Http } from './http.js';
import type { ChannelState } from './state.js';
import { Store } from './store.js';

const path = (cid: string) => encodeURIComponent(cid);

/** `client.sidebar`'s state: null until loaded. */
export interface SidebarState {
  sidebar: Sidebar | null;
}

/** Sidebar sections: custom ones and Starred, with the channels placed in each. */
export class SidebarSections {
  readonly state = new Store<SidebarState>({ sidebar: null });

  constructor(private readonly http: Http) {}

  private put(r: SidebarResponse): Sidebar {
    this.state.update(() => ({ sidebar: r.sidebar }));
    return r.sidebar;
  }

  /** Read the sidebar (again). */
  async load(): Promise<Sidebar> {
    return this.put(await this.http.call<SidebarResponse>('GET', '/v1/me/sidebar'));
  }

  /** A new section, last (or at `position`). */
  async createSection(name: string, position?: number): Promise<Sidebar> {
    const body: CreateSectionBody = position === undefined ? { name } : { name, position };
    return this.put(await this.http.call<SidebarResponse>('POST', '/v1/me/sidebar/sections', body));
  }

  /** Rename, collapse/expand or change how a section sorts. */
  async updateSection(id: string, body: UpdateSectionBody): Promise<Sidebar> {
    return this.put(await this.http.call<SidebarResponse>('PATCH', `/v1/me/sidebar/sections/${id}`, body));
  }

  /** Remove a section; its channels go back to their default group. */
  async deleteSection(id: string): Promise<Sidebar> {
    return this.put(await this.http.call<SidebarResponse>('DELETE', `/v1/me/sidebar/sections/${id}`));
  }

  /** Put the sections in this order (every section id, each once). */
  async reorder(sectionIds: string[]): Promise<Sidebar> {
    return this.put(await this.http.call<SidebarResponse>('PUT', '/v1/me/sidebar/order', { section_ids: sectionIds }));
  }

  /** Move a channel into a section (at `position`, default last), or back to its group with null. */
  async place(cid: string, sectionId: string | null, position?: number): Promise<Sidebar> {
    const body: PlaceChannelBody =
      position === undefined ? { section_id: sectionId } : { section_id: sectionId, position };
    return this.put(await this.http.call<SidebarResponse>('PUT', `/v1/me/sidebar/channels/${path(cid)}`, body));
  }

  /** Star a channel (into the Starred section) or unstar it (back to its group). */
  async star(cid: string, starred = true): Promise<Sidebar> {
    return this.put(await this.http.call<SidebarResponse>(starred ? 'PUT' : 'DELETE', `/v1/me/starred/${path(cid)}`));
  }

  /** Whether `cid` is in the Starred section. */
  isStarred(cid: string): boolean {
    return !!this.state.get().sidebar?.sections.some((s) => s.kind === 'starred' && s.cids.includes(cid));
  }

  /** The section `cid` is in, or null. */
  sectionOf(cid: string): SidebarSection | null {
    return this.state.get().sidebar?.sections.find((s) => s.cids.includes(cid)) ?? null;
  }

  /** @internal the client routes `sidebar.updated` here. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'sidebar.updated') this.state.update(() => ({ sidebar: e.sidebar }));
  }

  /** @internal after a reconnect: what changed meanwhile was missed, so read it again. */
  reconnected(): void {
    if (this.state.get().sidebar) void this.load().catch(() => {});
  }
}

/** One section as drawn: its channels, in the section's sort. */
export interface SidebarGroup {
  /** The section; null for the default groups. */
  section: SidebarSection | null;
  /** `section` for a user's section, else `channels` or `direct` (the default groups). */
  key: string;
  name: string;
  channels: ChannelState[];
}

const activity = (c: ChannelState) => c.channel.last_message_at ?? c.channel.created_at;

/**
 * Group the user's channels (`list`: cids, most recent first, as `ClientState.channelList`)
 * into the sidebar's sections, then the default Channels and Direct messages groups. A cid
 * the sidebar places but the list does not hold (left, not loaded) is skipped. `nameOf`
 * names a channel for the `name` sort (a DM has no name of its own).
 */
export function groupChannels(
  sidebar: Sidebar | null,
  channels: Readonly<Record<string, ChannelState>>,
  list: readonly string[],
  nameOf: (c: ChannelState) => string = (c) => c.channel.name ?? c.cid,
): SidebarGroup[] {
  const placed = new Set<string>();
  const groups: SidebarGroup[] = [];
  for (const section of sidebar?.sections ?? []) {
    const inIt = section.cids.map((cid) => channels[cid]).filter((c): c is ChannelState => !!c?.channel.membership);
    for (const c of inIt) placed.add(c.cid);
    if (section.sort === 'name') inIt.sort((a, b) => nameOf(a).localeCompare(nameOf(b)) || (a.cid < b.cid ? -1 : 1));
    if (section.sort === 'recent')
      inIt.sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
    groups.push({ section, key: section.id, name: section.name, channels: inIt });
  }
  const rest = list.map((cid) => channels[cid]).filter((c): c is ChannelState => !!c && !placed.has(c.cid));
  groups.push({
    section: null,
    key: 'channels',
    name: 'Channels',
    channels: rest.filter((c) => c.channel.type !== 'dm'),
  });
  groups.push({
    section: null,
    key: 'direct',
    name: 'Direct messages',
    channels: rest.filter((c) => c.channel.type === 'dm'),
  });
  return groups;
}

/** `client.saved`'s state. */
export interface SavedState {
  /** Saved (not completed) items, newest first, as far as loaded. */
  items: SavedItem[];
  /** The cursor of the next page; null when all are loaded (or before `load()`). */
  next: string | null;
  loaded: boolean;
}

/** Saved messages ("save for later"), with optional due times (reminders). */
export class SavedItems {
  readonly state = new Store<SavedState>({ items: [], next: null, loaded: false });

  constructor(private readonly http: Http) {}

  /** The first page of saved items (`status` completed for the done ones; not kept in state). */
  async load(limit = 30): Promise<SavedItem[]> {
    const r = await this.http.call<SavedItemsResponse>('GET', `/v1/saved?limit=${limit}`);
    this.state.update(() => ({ items: r.saved_items, next: r.next ?? null, loaded: true }));
    return r.saved_items;
  }

  /** The next page, appended to `state.items`. */
  async more(limit = 30): Promise<SavedItem[]> {
    const { next } = this.state.get();
    if (!next) return [];
    const r = await this.http.call<SavedItemsResponse>('GET', `/v1/saved?limit=${limit}&cursor=${next}`);
    this.state.update((s) => ({
      items: [...s.items, ...r.saved_items.filter((i) => !s.items.some((x) => x.id === i.id))],
      next: r.next ?? null,
      loaded: true,
    }));
    return r.saved_items;
  }

  /** Completed items, newest first (one page). */
  async completed(limit = 30): Promise<SavedItem[]> {
    return (await this.http.call<SavedItemsResponse>('GET', `/v1/saved?status=completed&limit=${limit}`)).saved_items;
  }

  /** Save a message; a due time (`remind_at` or `in`, and `repeat`) makes a reminder. */
  async save(messageId: string, due: Omit<SaveMessageBody, 'message_id'> = {}): Promise<SavedItem> {
    const tz = due.in === 'tomorrow' || due.repeat ? { tz_offset: new Date().getTimezoneOffset() } : {};
    const r = await this.http.call<{ saved_item: SavedItem }>('POST', '/v1/saved', {
      message_id: messageId,
      ...tz,
      ...due,
    });
    this.apply('saved', r.saved_item);
    return r.saved_item;
  }

  /** Mark done (cancels its reminder) — or not done, with `done` false. */
  async complete(id: string, done = true): Promise<SavedItem> {
    const r = await this.http.call<{ saved_item: SavedItem }>('PATCH', `/v1/saved/${id}`, {
      status: done ? 'completed' : 'saved',
    });
    this.apply('updated', r.saved_item);
    return r.saved_item;
  }

  /** Set the item's own short note, or clear it with `null` (or a blank one). */
  async setNote(id: string, note: string | null): Promise<SavedItem> {
    const r = await this.http.call<{ saved_item: SavedItem }>('PATCH', `/v1/saved/${id}`, { note });
    this.apply('updated', r.saved_item);
    return r.saved_item;
  }

  /** Remove a saved item (and its pending reminder). */
  async remove(id: string): Promise<void> {
    const r = await this.http.call<{ saved_item: SavedItem }>('DELETE', `/v1/saved/${id}`);
    this.apply('removed', r.saved_item);
  }

  /** Whether `messageId` is saved (among the loaded items). */
  isSaved(messageId: string): boolean {
    return this.state.get().items.some((i) => i.message_id === messageId);
  }

  private apply(change: 'saved' | 'updated' | 'removed', item: SavedItem): void {
    this.state.update((s) => {
      const old = s.items.find((i) => i.id === item.id);
      const rest = s.items.filter((i) => i.id !== item.id);
      if (change === 'removed' || item.status === 'completed') return { ...s, items: rest };
      // Events carry no message: keep the one already loaded.
      const merged = { ...item, message: item.message ?? old?.message ?? null };
      return { ...s, items: old ? s.items.map((i) => (i.id === item.id ? merged : i)) : [merged, ...rest] };
    });
    // A new item from another device has no message yet: read the list again to get it.
    if (change !== 'removed' && item.status === 'saved' && item.message === undefined && this.state.get().loaded)
      if (!this.state.get().items.find((i) => i.id === item.id)?.message) void this.load().catch(() => {});
  }

  /** @internal the client routes `saved.updated` here. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'saved.updated') this.apply(e.change, e.saved_item);
  }

  /** @internal after a reconnect: read the first page again. */
  reconnected(): void {
    if (this.state.get().loaded) void this.load().catch(() => {});
  }
}
