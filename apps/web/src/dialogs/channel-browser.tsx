/**
 * Find public channels by name and open or join them. The search goes straight to the query
 * endpoint (not `client.queryChannels`), so browsing does not replace the query the client
 * repeats after reconnecting to refresh your own channel list.
 */
import type { Channel } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect, useState } from 'react';
import { HashIcon, SearchIcon } from '../components/icons.js';
import { Modal } from '../components/modal.js';

function useChannelSearch(query: string) {
  const client = useChatClient();
  const [result, setResult] = useState<{ channels: Channel[] | null; next: string | null; error: string | null }>({
    channels: null,
    next: null,
    error: null,
  });
  const [more, setMore] = useState<string | null>(null);
  const q = query.trim();
  // A new query starts from the first page.
  // biome-ignore lint/correctness/useExhaustiveDependencies: resetting on a new query is the point
  useEffect(() => setMore(null), [q]);
  useEffect(() => {
    let cancelled = false;
    const t = setTimeout(
      () => {
        client.http
          .call<{ channels: Channel[]; next: string | null }>('POST', '/v1/channels/query', {
            // Words anywhere in the name, topic or description.
            filter: { type: 'public', archived: false, ...(q ? { search: q } : {}) },
            sort: [{ field: 'last_message_at', direction: -1 }],
            limit: 30,
            ...(more ? { cursor: more } : {}),
          })
          .then((r) => {
            if (cancelled) return;
            setResult((prev) => ({
              channels: more ? [...(prev.channels ?? []), ...r.channels] : r.channels,
              next: r.next,
              error: null,
            }));
          })
          .catch((e: unknown) => {
            if (!cancelled)
              setResult((prev) => ({
                channels: more ? prev.channels : [],
                next: null,
                error: e instanceof Error ? e.message : String(e),
              }));
          });
      },
      more ? 0 : 150,
    );
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [client, q, more]);
  return { ...result, loadMore: () => setMore(result.next) };
}

export function ChannelBrowser({ onClose, onOpen }: { onClose(): void; onOpen(cid: string): void }) {
  const client = useChatClient();
  const [query, setQuery] = useState('');
  const { channels, next, error, loadMore } = useChannelSearch(query);
  const [joining, setJoining] = useState<string | null>(null);
  const [joinError, setJoinError] = useState<string | null>(null);

  const join = async (c: Channel) => {
    setJoining(c.cid);
    setJoinError(null);
    try {
      await client.channel(c.type, c.id).join();
      onOpen(c.cid);
    } catch (e) {
      setJoining(null);
      setJoinError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Modal title="Browse channels" onClose={onClose} size="large">
      <div className="app-search">
        <SearchIcon />
        <input
          className="app-search__input"
          aria-label="Search channels"
          placeholder="Search by name, topic or description"
          value={query}
          // biome-ignore lint/a11y/noAutofocus: the search box is the point of this dialog
          autoFocus
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {error || joinError ? (
        <p className="app-form__error" role="alert">
          {error ?? joinError}
        </p>
      ) : null}
      <ul className="app-browser" aria-label="Public channels">
        {channels === null ? <li className="app-muted app-browser__note">Loading…</li> : null}
        {channels?.length === 0 ? (
          <li className="app-muted app-browser__note">
            {query ? `No channels match “${query}”.` : 'No public channels yet.'}
          </li>
        ) : null}
        {channels?.map((c) => {
          const joined = !!c.membership;
          return (
            <li key={c.cid} className="app-browser__row">
              <button type="button" className="app-browser__open" onClick={() => onOpen(c.cid)}>
                <span className="app-browser__name">
                  <HashIcon />
                  {c.name ?? c.id}
                </span>
                <span className="app-browser__meta">
                  {joined ? <span className="app-browser__joined">✓ Joined · </span> : null}
                  {c.member_count} {c.member_count === 1 ? 'member' : 'members'}
                  {c.topic ? ` · ${c.topic}` : ''}
                </span>
              </button>
              {joined ? null : (
                <button
                  type="button"
                  className="app-button app-button--primary app-button--small"
                  disabled={joining === c.cid}
                  onClick={() => void join(c)}
                  aria-label={`Join #${c.name ?? c.id}`}
                >
                  {joining === c.cid ? 'Joining…' : 'Join'}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {next ? (
        <button type="button" className="app-button app-button--small" onClick={loadMore}>
          More channels
        </button>
      ) : null}
    </Modal>
  );
}
