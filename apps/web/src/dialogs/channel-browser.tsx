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
  const [result, setResult] = useState<{ channels: Channel[] | null; error: string | null }>({
    channels: null,
    error: null,
  });
  useEffect(() => {
    let cancelled = false;
    const q = query.trim().toLowerCase();
    const t = setTimeout(() => {
      client.http
        .call<{ channels: Channel[] }>('POST', '/v1/channels/query', {
          filter: { type: 'public', archived: false, ...(q ? { name: { $autocomplete: q } } : {}) },
          sort: [{ field: 'last_message_at', direction: -1 }],
          limit: 50,
        })
        .then((r) => {
          if (!cancelled) setResult({ channels: r.channels, error: null });
        })
        .catch((e: unknown) => {
          if (!cancelled) setResult({ channels: [], error: e instanceof Error ? e.message : String(e) });
        });
    }, 150);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [client, query]);
  return result;
}

export function ChannelBrowser({ onClose, onOpen }: { onClose(): void; onOpen(cid: string): void }) {
  const client = useChatClient();
  const [query, setQuery] = useState('');
  const { channels, error } = useChannelSearch(query);
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
          placeholder="Search by channel name"
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
    </Modal>
  );
}
