/**
 * The Notes page (`/w/<id>/notes`): the user's personal notes — a private scratchpad of
 * titled Markdown documents — listed, opened, edited with a preview, with their history
 * (the kit's NotesPanel). A search box finds any note the user may read, channel notes
 * included; a channel's notes open in that channel's side panel.
 */
import type { Note } from '@parley/protocol';
import { NotesPanel, useChatClient } from '@parley/react';
import { useEffect, useState } from 'react';
import { NavButton } from './nav-button.js';

export function NotesPage({
  onOpenNav,
  onOpenConversation,
}: {
  onOpenNav(): void;
  onOpenConversation(cid: string): void;
}) {
  const client = useChatClient();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Note[] | null>(null);
  useEffect(() => {
    const query = q.trim();
    if (!query) {
      setFound(null);
      return;
    }
    let stale = false;
    const t = setTimeout(() => {
      client.notes
        .search(query)
        .then((notes) => {
          if (!stale) setFound(notes);
        })
        .catch(() => {
          if (!stale) setFound([]);
        });
    }, 200);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [client, q]);

  return (
    <section className="app-notes" aria-label="Notes">
      <header className="app-channel-header">
        <NavButton onClick={onOpenNav} />
        <div className="app-channel-header__main">
          <h1 className="app-channel-header__name">Notes</h1>
        </div>
      </header>
      <div className="app-notes__body">
        <input
          type="search"
          className="app-input"
          placeholder="Search notes you can read"
          aria-label="Search notes"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        {found ? (
          <ul className="app-notes__found" aria-label="Notes found">
            {found.length === 0 ? <li className="app-muted">No notes match.</li> : null}
            {found.map((n) => (
              <li key={n.id}>
                <strong>{n.title}</strong>{' '}
                {n.cid ? (
                  <button type="button" className="app-link-button" onClick={() => onOpenConversation(n.cid as string)}>
                    in {n.cid.split(':')[1]}
                  </button>
                ) : (
                  <span className="app-muted">personal</span>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <NotesPanel />
        )}
      </div>
    </section>
  );
}
