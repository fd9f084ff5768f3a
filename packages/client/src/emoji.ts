/**
 * Custom emoji in the SDK (`client.emoji`): the app's `:shortcode:` images. `load()` reads the
 * list once; from then on `emoji.updated` (an app-wide event every connection gets) keeps
 * `state` current, so pickers and message text never ask again. `add` and `remove` are for
 * those the app lets manage emoji (app admins, or everyone).
 */
import type { CustomEmoji, EmojiListResponse, EmojiResponse, EmojiSettings, ServerEvent } from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

export interface EmojiState {
  /** The app's custom emoji by shortcode order (after `load()`). */
  emoji: CustomEmoji[];
  loaded: boolean;
}

const byCode = (a: CustomEmoji, b: CustomEmoji) => (a.shortcode < b.shortcode ? -1 : a.shortcode > b.shortcode ? 1 : 0);

export class Emoji {
  readonly state = new Store<EmojiState>({ emoji: [], loaded: false });
  #loading: Promise<CustomEmoji[]> | null = null;

  constructor(private readonly http: Http) {}

  /** The list, read once (again only with `force`). */
  load(force = false): Promise<CustomEmoji[]> {
    if (this.state.get().loaded && !force) return Promise.resolve(this.state.get().emoji);
    if (!this.#loading || force)
      this.#loading = this.http.call<EmojiListResponse>('GET', '/v1/emoji').then((r) => {
        const emoji = r.emoji.map((e) => this.absolute(e)).sort(byCode);
        this.state.update(() => ({ emoji, loaded: true }));
        return emoji;
      });
    const p = this.#loading;
    p.catch(() => {
      this.#loading = null;
    });
    return p;
  }

  /** The emoji a name (shortcode or alias, colons optional) stands for, if any. */
  find(name: string): CustomEmoji | undefined {
    const n = name.replace(/^:/, '').replace(/:$/, '');
    return this.state.get().emoji.find((e) => e.shortcode === n || e.aliases.includes(n));
  }

  /** Add an emoji: its image (PNG, GIF or WebP) and names. */
  async add(file: Blob, shortcode: string, aliases: string[] = [], name = 'emoji'): Promise<CustomEmoji> {
    const r = await this.http.upload<EmojiResponse>('/v1/emoji', file, name, {
      fields: { shortcode, aliases: aliases.join(',') },
    });
    const e = this.absolute(r.emoji);
    this.put(e);
    return e;
  }

  async remove(shortcode: string): Promise<void> {
    await this.http.call('DELETE', `/v1/emoji/${encodeURIComponent(shortcode)}`);
    this.drop(shortcode);
  }

  /** Who may add and remove the app's emoji (`admins` or `everyone`). */
  async settings(): Promise<EmojiSettings> {
    return (await this.http.call<{ settings: EmojiSettings }>('GET', '/v1/emoji/settings')).settings;
  }

  /** Set who may add and remove emoji (app admins only). */
  async setSettings(settings: EmojiSettings): Promise<EmojiSettings> {
    return (await this.http.call<{ settings: EmojiSettings }>('PATCH', '/v1/emoji/settings', settings)).settings;
  }

  /** The client hands every `emoji.updated` here. */
  onEvent(e: ServerEvent): void {
    if (e.type !== 'emoji.updated') return;
    if (e.change === 'added' && e.emoji) this.put(this.absolute(e.emoji));
    else this.drop(e.shortcode);
  }

  /** Image URLs are server paths: made absolute, so an `<img>` on any origin shows them. */
  private absolute(e: CustomEmoji): CustomEmoji {
    return { ...e, url: this.http.resolve(e.url) };
  }

  private put(e: CustomEmoji): void {
    this.state.update((s) => ({
      ...s,
      emoji: [...s.emoji.filter((x) => x.shortcode !== e.shortcode), e].sort(byCode),
    }));
  }

  private drop(shortcode: string): void {
    this.state.update((s) => ({ ...s, emoji: s.emoji.filter((x) => x.shortcode !== shortcode) }));
  }
}
