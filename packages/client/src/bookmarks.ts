/**
 * Channel bookmarks in the SDK (`client.bookmarks`): each channel's header bar, loaded with
 * `load(cid)` and kept live by `bookmarks.updated` (the whole bar, so the newest event wins);
 * changes answer the new bar too. `files(cid, …)` pages the channel's Files tab.
 */
import type {
  BookmarksResponse,
  ChannelBookmark,
  ChannelFilesQuery,
  ChannelFilesResponse,
  CreateBookmarkBody,
  ServerEvent,
} from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

/** `client.bookmarks`'s state: the bars loaded (or heard of), by cid. */
export interface BookmarksState {
  byCid: Readonly<Record<string, readonly ChannelBookmark[]>>;
}

const base = (cid: string) => `/v1/channels/${encodeURIComponent(cid)}/bookmarks`;

export class ChannelBookmarks {
  readonly state = new Store<BookmarksState>({ byCid: {} });

  constructor(private readonly http: Http) {}

  private put(cid: string, bookmarks: ChannelBookmark[]): ChannelBookmark[] {
    this.state.update((s) => ({ byCid: { ...s.byCid, [cid]: bookmarks } }));
    return bookmarks;
  }

  /** The channel's bar (read again). */
  async load(cid: string): Promise<ChannelBookmark[]> {
    return this.put(cid, (await this.http.call<BookmarksResponse>('GET', base(cid))).bookmarks);
  }

  /** Add a link or a file of the channel, last. */
  async add(cid: string, body: CreateBookmarkBody): Promise<ChannelBookmark> {
    const r = await this.http.call<{ bookmark: ChannelBookmark }>('POST', base(cid), body);
    const now = this.state.get().byCid[cid] ?? [];
    if (!now.some((b) => b.id === r.bookmark.id)) this.put(cid, [...now, r.bookmark]);
    return r.bookmark;
  }

  async rename(cid: string, id: string, title: string): Promise<ChannelBookmark> {
    const r = await this.http.call<{ bookmark: ChannelBookmark }>('PATCH', `${base(cid)}/${id}`, { title });
    this.put(
      cid,
      (this.state.get().byCid[cid] ?? []).map((b) => (b.id === id ? r.bookmark : b)),
    );
    return r.bookmark;
  }

  async remove(cid: string, id: string): Promise<ChannelBookmark[]> {
    return this.put(cid, (await this.http.call<BookmarksResponse>('DELETE', `${base(cid)}/${id}`)).bookmarks);
  }

  /** Put the bar in this order (every id, each once). */
  async reorder(cid: string, ids: string[]): Promise<ChannelBookmark[]> {
    return this.put(
      cid,
      (await this.http.call<BookmarksResponse>('PUT', `${base(cid)}/order`, { bookmark_ids: ids })).bookmarks,
    );
  }

  /** A page of the channel's files, newest first (`next` → `cursor`). */
  async files(cid: string, query: ChannelFilesQuery = {}): Promise<ChannelFilesResponse> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString() ? `?${q.toString()}` : '';
    return this.http.call<ChannelFilesResponse>('GET', `/v1/channels/${encodeURIComponent(cid)}/files${qs}`);
  }

  /** @internal the client routes `bookmarks.updated` here. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'bookmarks.updated') this.put(e.cid, e.bookmarks);
  }
}
