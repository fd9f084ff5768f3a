/**
 * `<MessageSearch>`: a search box over the messages the user may read, with filter chips,
 * recent searches (kept in localStorage), results with highlighted snippets, and "more".
 * Picking a result calls `onOpen(hit)`; showing the message in its channel is the host's job
 * (`channel.loadAround(hit.message.id)` and `<MessageList focusMessageId>`).
 *
 * Snippets arrive as HTML in which only `<mark>` is markup; they are still never set as
 * innerHTML here: they are split into text and marks and rendered as React text.
 */
import type { SearchHit, SearchSort } from '@parley/protocol';
import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import { useChatClient, useClientState } from './context.js';
import { clockTime, cx, dayLabel, displayName } from './format.js';
import { useWatchPresence } from './presence.js';
import { Avatar, PresenceDot } from './user.js';

const RECENT_KEY = 'parley:recent-searches';
const MAX_RECENT = 8;

/** A snippet's parts: plain text and marked matches, entities decoded. */
export function highlightParts(html: string): { text: string; mark: boolean }[] {
  const decode = (s: string) =>
    s.replace(/&(lt|gt|amp|quot|#39);/g, (_, e: string) =>
      e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : "'",
    );
  const parts: { text: string; mark: boolean }[] = [];
  const re = /<mark>([\s\S]*?)<\/mark>/g;
  let at = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m.index > at) parts.push({ text: decode(html.slice(at, m.index)), mark: false });
    parts.push({ text: decode(m[1] ?? ''), mark: true });
    at = m.index + m[0].length;
  }
  if (at < html.length) parts.push({ text: decode(html.slice(at)), mark: false });
  return parts;
}

/** A search snippet, its matches in `<mark>`. */
export function SearchHighlight({ html }: { html: string }) {
  return (
    <>
      {highlightParts(html).map((p, i) =>
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one snippet never reorder
        p.mark ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>,
      )}
    </>
  );
}

export function loadRecentSearches(): string[] {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

function rememberSearch(q: string): string[] {
  const next = [q, ...loadRecentSearches().filter((x) => x !== q)].slice(0, MAX_RECENT);
  try {
    globalThis.localStorage?.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // storage full or denied: recent searches are a convenience
  }
  return next;
}

/** Filters offered as chips: each adds an operator to the query. */
export interface SearchChip {
  label: string;
  term: string;
}

export const DEFAULT_SEARCH_CHIPS: SearchChip[] = [
  { label: 'From me', term: 'from:@me' },
  { label: 'Mentions me', term: 'mentions:@me' },
  { label: 'Has link', term: 'has:link' },
  { label: 'Pinned', term: 'is:pinned' },
  { label: 'In threads', term: 'is:thread' },
];

export interface MessageSearchProps {
  onOpen(hit: SearchHit): void;
  /** Extra chips (e.g. "In this channel" with `in:<cid>`), shown first. */
  chips?: SearchChip[];
  initialQuery?: string;
  autoFocus?: boolean;
  /** When given, a result's author (picture, presence, name) is a button that calls it: open their profile card. */
  onSelectUser?: (userId: string) => void;
  className?: string;
}

function Hit({
  hit,
  active,
  onOpen,
  onSelectUser,
}: {
  hit: SearchHit;
  active: boolean;
  onOpen(): void;
  onSelectUser?: ((userId: string) => void) | undefined;
}) {
  const m = hit.message;
  const author = useClientState((s) => s.users[m.user_id] ?? m.user ?? undefined);
  const name = displayName(author, m.user_id);
  const where = hit.channel.type === 'dm' ? 'Direct message' : `#${hit.channel.name ?? hit.channel.cid.split(':')[1]}`;
  const face = (
    <span className="parley-avatar-dot">
      <Avatar user={author} id={m.user_id} size={28} />
      <PresenceDot presence={author?.presence ?? 'offline'} className="parley-avatar-dot__dot" />
    </span>
  );
  return (
    <li className={cx('parley-search__row', active && 'parley-search__row--active')}>
      {onSelectUser ? (
        // Its own button beside the hit's (buttons do not nest): the author's profile card.
        <button
          type="button"
          className="parley-search__author"
          aria-label={`${name}'s profile`}
          onClick={() => onSelectUser(m.user_id)}
        >
          {face}
          <strong className="parley-search__name">{name}</strong>
        </button>
      ) : (
        <span className="parley-search__author">
          {face}
          <strong className="parley-search__name">{name}</strong>
        </span>
      )}
      <button
        type="button"
        className={cx('parley-search__hit', active && 'parley-search__hit--active')}
        onClick={onOpen}
        data-message-id={m.id}
      >
        <span className="parley-search__meta parley-muted">
          in {where} · {dayLabel(m.created_at)} {clockTime(m.created_at)}
        </span>
        <span className="parley-search__snippet">
          <SearchHighlight html={hit.highlight} />
        </span>
      </button>
    </li>
  );
}

export function MessageSearch({
  onOpen,
  chips = [],
  initialQuery = '',
  autoFocus,
  onSelectUser,
  className,
}: MessageSearchProps) {
  const client = useChatClient();
  const [input, setInput] = useState(initialQuery);
  const [sort, setSort] = useState<SearchSort>('relevance');
  const [submitted, setSubmitted] = useState<string | null>(initialQuery || null);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [recent, setRecent] = useState<string[]>(loadRecentSearches);
  const run = useRef(0);

  const fetchPage = useCallback(
    async (q: string, cursor: string | null) => {
      const id = ++run.current;
      setBusy(true);
      setError(null);
      try {
        const r = await client.search(q, { sort, cursor, limit: 20 });
        if (id !== run.current) return;
        setHits((h) => (cursor ? [...h, ...r.results] : r.results));
        setNext(r.next);
      } catch (e) {
        if (id !== run.current) return;
        setError(e instanceof Error ? e.message : String(e));
        if (!cursor) setHits([]);
        setNext(null);
      } finally {
        if (id === run.current) setBusy(false);
      }
    },
    [client, sort],
  );

  useEffect(() => {
    if (submitted) void fetchPage(submitted, null);
  }, [submitted, fetchPage]);

  const submit = (q: string) => {
    const t = q.trim();
    if (!t) return;
    setInput(t);
    setActive(0);
    setRecent(rememberSearch(t));
    if (t === submitted) void fetchPage(t, null);
    else setSubmitted(t);
  };

  const toggleChip = (term: string) => {
    const words = input.trim().split(/\s+/).filter(Boolean);
    const has = words.includes(term);
    const q = (has ? words.filter((w) => w !== term) : [...words, term]).join(' ');
    setInput(q);
    if (q) submit(q);
    else {
      setSubmitted(null);
      setHits([]);
      setNext(null);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const hit = hits[active];
      if (submitted === input.trim() && hit) onOpen(hit);
      else submit(input);
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && hits.length > 0) {
      e.preventDefault();
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : -1) + hits.length) % hits.length);
    }
  };

  // Each result shows its author's presence dot.
  useWatchPresence(hits.map((h) => h.message.user_id));
  const words = new Set(input.trim().split(/\s+/));
  return (
    <div className={cx('parley-search', className)}>
      <div className="parley-search__bar">
        <input
          className="parley-search__input"
          type="search"
          aria-label="Search messages"
          placeholder='Search messages — "phrase", from:@name, in:#channel, has:link, before:2026-01-31'
          value={input}
          // biome-ignore lint/a11y/noAutofocus: a search box opened on purpose is typed into
          autoFocus={autoFocus}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <select
          className="parley-search__sort"
          aria-label="Sort results"
          value={sort}
          onChange={(e) => setSort(e.target.value as SearchSort)}
        >
          <option value="relevance">Most relevant</option>
          <option value="newest">Newest</option>
        </select>
      </div>
      <fieldset className="parley-search__chips" aria-label="Filters">
        {[...chips, ...DEFAULT_SEARCH_CHIPS].map((c) => (
          <button
            key={c.term}
            type="button"
            className={cx('parley-search__chip', words.has(c.term) && 'parley-search__chip--on')}
            aria-pressed={words.has(c.term)}
            onClick={() => toggleChip(c.term)}
          >
            {c.label}
          </button>
        ))}
      </fieldset>
      {!submitted && recent.length > 0 ? (
        <div className="parley-search__recent">
          <h3 className="parley-muted">Recent searches</h3>
          <ul aria-label="Recent searches">
            {recent.map((q) => (
              <li key={q}>
                <button type="button" className="parley-search__recent-item" onClick={() => submit(q)}>
                  {q}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {error ? (
        <p className="parley-search__error" role="alert">
          {error}
        </p>
      ) : null}
      {submitted && !error ? (
        <div className="parley-search__results" aria-busy={busy}>
          <p className="parley-muted" role="status">
            {busy && hits.length === 0
              ? 'Searching…'
              : hits.length === 0
                ? `No messages match “${submitted}”.`
                : `${hits.length}${next ? '+' : ''} result${hits.length === 1 ? '' : 's'}`}
          </p>
          <ul aria-label="Search results">
            {hits.map((hit, i) => (
              <Hit
                key={hit.message.id}
                hit={hit}
                active={i === active}
                onOpen={() => onOpen(hit)}
                onSelectUser={onSelectUser}
              />
            ))}
          </ul>
          {next ? (
            <button
              type="button"
              className="parley-button parley-button--small"
              disabled={busy}
              onClick={() => void fetchPage(submitted, next)}
            >
              {busy ? 'Loading…' : 'More results'}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
