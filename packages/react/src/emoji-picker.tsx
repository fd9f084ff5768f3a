/**
 * The composer's emoji picker: the Unicode emoji of `@emoji-mart/data` (names, keywords and
 * categories; loaded only when the picker first opens, so it costs nothing until then),
 * searchable, with recently used ones first.
 *
 * Keyboard: focus stays in the search box, which drives the grid as a combobox drives its
 * list — arrow keys move (Up/Down by a row), Home/End jump, Enter picks, Escape closes. A
 * click picks too. The pick is handed to `onPick`; `MessageInput` inserts it at the caret.
 */
import type { EmojiMartData } from '@emoji-mart/data';
import type { CustomEmoji } from '@parley/protocol';
import { type KeyboardEvent, type RefObject, useEffect, useId, useMemo, useRef, useState } from 'react';
import { cx } from './format.js';

/** One emoji as the picker offers it. */
export interface EmojiEntry {
  /** Short name, e.g. `thumbsup`. */
  id: string;
  /** The character(s) inserted. */
  native: string;
  /** Human name, e.g. `Thumbs Up`. */
  name: string;
  keywords: readonly string[];
  /** Category id (`people`, `nature`, `foods`, `activity`, `places`, `objects`, `symbols`, `flags`, `custom`). */
  category: string;
  /** A custom emoji's image (then `native` is its `:shortcode:`). */
  image?: string;
}

/** The app's custom emoji as picker entries: inserted as `:shortcode:`, found by alias too. */
export function customEntries(list: readonly CustomEmoji[]): EmojiEntry[] {
  return list.map((e) => ({
    id: e.shortcode,
    native: `:${e.shortcode}:`,
    name: e.shortcode.replaceAll(/[_-]/g, ' '),
    keywords: e.aliases,
    category: 'custom',
    image: e.url,
  }));
}

const CATEGORY_NAMES: Record<string, string> = {
  recent: 'Recently used',
  custom: 'Custom',
  people: 'Smileys & people',
  nature: 'Animals & nature',
  foods: 'Food & drink',
  activity: 'Activity',
  places: 'Travel & places',
  objects: 'Objects',
  symbols: 'Symbols',
  flags: 'Flags',
};

let loading: Promise<EmojiEntry[]> | null = null;

/** The emoji dataset, loaded once (a separate chunk for bundlers). */
export function loadEmojis(): Promise<EmojiEntry[]> {
  loading ??= import('@emoji-mart/data', { with: { type: 'json' } }).then((mod) => {
    const data = ((mod as unknown as { default?: EmojiMartData }).default ?? mod) as EmojiMartData;
    const out: EmojiEntry[] = [];
    for (const c of data.categories)
      for (const id of c.emojis) {
        const e = data.emojis[id];
        const native = e?.skins[0]?.native;
        if (e && native) out.push({ id, native, name: e.name, keywords: e.keywords, category: c.id });
      }
    return out;
  });
  return loading;
}

/**
 * Emoji matching `query`: by short name, name or keyword, those whose name or short name
 * starts with it first. Empty query: all of them, in category order.
 */
export function searchEmojis(all: readonly EmojiEntry[], query: string, limit = 200): EmojiEntry[] {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, '');
  if (!q) return [...all];
  const first: EmojiEntry[] = [];
  const rest: EmojiEntry[] = [];
  for (const e of all) {
    const name = e.name.toLowerCase();
    if (e.id.startsWith(q) || name.startsWith(q) || name.split(' ').some((w) => w.startsWith(q))) first.push(e);
    else if (e.id.includes(q) || name.includes(q) || e.keywords.some((k) => k.startsWith(q))) rest.push(e);
  }
  return [...first, ...rest].slice(0, limit);
}

const RECENT_KEY = 'parley.emoji.recent';
const MAX_RECENT = 16;

function loadRecent(): string[] {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

function saveRecent(id: string): void {
  try {
    const next = [id, ...loadRecent().filter((x) => x !== id)].slice(0, MAX_RECENT);
    globalThis.localStorage?.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // storage full or off: recents are a nicety
  }
}

/** Props of {@link EmojiPicker}. */
export interface EmojiPickerProps {
  /** Called with the chosen emoji. */
  onPick(emoji: EmojiEntry): void;
  /** Called on Escape, and on a click outside the picker (and outside `anchor`). */
  onClose?(how: 'escape' | 'outside'): void;
  /** The button that opens the picker: a click on it is not a click outside (it toggles). */
  anchor?: RefObject<HTMLElement | null>;
  /** Grid columns (for Up/Down); default 8. */
  columns?: number;
  /** The app's custom emoji: a Custom tab lists them (searchable). */
  custom?: readonly CustomEmoji[];
  className?: string;
}

/** A searchable grid of emoji (see the module comment for the keys). */
export function EmojiPicker({ onPick, onClose, anchor, columns = 8, custom = [], className }: EmojiPickerProps) {
  const [tab, setTab] = useState<'all' | 'custom'>('all');
  const customs = useMemo(() => customEntries(custom), [custom]);
  const [all, setAll] = useState<EmojiEntry[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [recent] = useState(loadRecent);
  const search = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const listId = useId();

  // A click anywhere else closes it, as a popover should.
  useEffect(() => {
    if (!onClose) return;
    const away = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t && (root.current?.contains(t) || anchor?.current?.contains(t))) return;
      onClose('outside');
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [onClose, anchor]);

  useEffect(() => {
    let live = true;
    loadEmojis().then(
      (list) => live && setAll(list),
      () => live && setFailed(true),
    );
    search.current?.focus();
    return () => {
      live = false;
    };
  }, []);

  // What the grid shows: recents then every category, or the search results.
  const shown = useMemo(() => {
    if (tab === 'custom') return searchEmojis(customs, query).map((e) => ({ ...e, section: 'custom' }));
    if (!all) return [];
    if (query.trim()) return searchEmojis(all, query).map((e) => ({ ...e, section: 'results' }));
    const byId = new Map(all.map((e) => [e.id, e]));
    const recents = recent.flatMap((id) => {
      const e = byId.get(id);
      return e ? [{ ...e, section: 'recent' }] : [];
    });
    return [...recents, ...all.map((e) => ({ ...e, section: e.category }))];
  }, [all, query, recent, tab, customs]);
  const index = Math.min(active, Math.max(0, shown.length - 1));
  const optionId = (i: number) => `${listId}-${i}`;

  useEffect(() => {
    const el = grid.current?.querySelector<HTMLElement>(`[data-index="${index}"]`);
    el?.scrollIntoView?.({ block: 'nearest' });
  }, [index]);

  const pick = (e: EmojiEntry) => {
    saveRecent(e.id);
    onPick(e);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const n = shown.length;
    const to = (i: number) => setActive(Math.max(0, Math.min(n - 1, i)));
    switch (e.key) {
      case 'ArrowRight':
        to(index + 1);
        break;
      case 'ArrowLeft':
        to(index - 1);
        break;
      case 'ArrowDown':
        to(index + columns);
        break;
      case 'ArrowUp':
        to(index - columns);
        break;
      case 'Home':
        to(0);
        break;
      case 'End':
        to(n - 1);
        break;
      case 'Enter': {
        const chosen = shown[index];
        if (chosen) pick(chosen);
        break;
      }
      case 'Escape':
        onClose?.('escape');
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  // Rows of the grid, a heading before each section (when not searching).
  const sections: { id: string; items: { e: EmojiEntry; i: number }[] }[] = [];
  shown.forEach((e, i) => {
    const last = sections.at(-1);
    if (last && last.id === e.section) last.items.push({ e, i });
    else sections.push({ id: e.section, items: [{ e, i }] });
  });

  return (
    <div ref={root} className={cx('parley-emoji-picker', className)} role="dialog" aria-label="Emoji">
      {customs.length ? (
        <div className="parley-emoji-picker__tabs" role="tablist" aria-label="Emoji sets">
          {(['all', 'custom'] as const).map((t) => (
            <button
              key={t}
              type="button"
              role="tab"
              aria-selected={tab === t}
              className={cx('parley-emoji-picker__tab', tab === t && 'parley-emoji-picker__tab--active')}
              onMouseDown={(ev) => ev.preventDefault()}
              onClick={() => {
                setTab(t);
                setActive(0);
                search.current?.focus();
              }}
            >
              {t === 'all' ? 'Emoji' : 'Custom'}
            </button>
          ))}
        </div>
      ) : null}
      <input
        ref={search}
        type="search"
        className="parley-emoji-picker__search"
        placeholder="Search emoji"
        aria-label="Search emoji"
        role="combobox"
        aria-expanded={true}
        aria-controls={listId}
        aria-activedescendant={shown.length ? optionId(index) : undefined}
        autoComplete="off"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div ref={grid} id={listId} role="listbox" aria-label="Emoji" className="parley-emoji-picker__grid">
        {failed ? <p className="parley-error">The emoji could not be loaded.</p> : null}
        {!all && !failed && tab === 'all' ? <p className="parley-muted">Loading…</p> : null}
        {(all || tab === 'custom') && shown.length === 0 ? (
          <p className="parley-muted">No emoji match “{query}”.</p>
        ) : null}
        {sections.map((s) => (
          // biome-ignore lint/a11y/useSemanticElements: a group of options inside a listbox
          <div key={s.id} role="group" aria-label={CATEGORY_NAMES[s.id] ?? 'Results'}>
            {s.id !== 'results' && tab === 'all' ? (
              <div className="parley-emoji-picker__heading">{CATEGORY_NAMES[s.id] ?? s.id}</div>
            ) : null}
            <div className="parley-emoji-picker__row" style={{ gridTemplateColumns: `repeat(${columns}, 1fr)` }}>
              {s.items.map(({ e, i }) => (
                <div
                  key={`${s.id}-${e.id}`}
                  id={optionId(i)}
                  data-index={i}
                  role="option"
                  tabIndex={-1}
                  aria-selected={i === index}
                  aria-label={e.name}
                  title={`:${e.id}:`}
                  className={cx('parley-emoji-picker__option', i === index && 'parley-emoji-picker__option--active')}
                  onMouseDown={(ev) => {
                    ev.preventDefault(); // keep the focus in the search box
                    pick(e);
                  }}
                  onMouseEnter={() => setActive(i)}
                >
                  {e.image ? <img className="parley-emoji" src={e.image} alt={e.native} /> : e.native}
                </div>
              ))}
            </div>
          </div>
        ))}
      </div>
      <div className="parley-emoji-picker__footer" aria-live="polite">
        {shown[index] ? (shown[index].image ? shown[index].native : `${shown[index].native} :${shown[index].id}:`) : ''}
      </div>
    </div>
  );
}
