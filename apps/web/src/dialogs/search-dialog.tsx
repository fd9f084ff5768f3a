/**
 * Ctrl/⌘+Shift+F (or "Search messages" in the sidebar): search every conversation you can read.
 * A result's author (picture, presence, name) opens their profile card beside the results, with
 * the same buttons as anywhere else (message, call…).
 */
import type { SearchHit } from '@parley/protocol';
import { MessageSearch, type SearchChip } from '@parley/react';
import { useState } from 'react';
import { Modal } from '../components/modal.js';
import { ProfilePanel } from '../components/profile-panel.js';

export function SearchDialog({
  activeCid,
  activeName,
  onClose,
  onOpenHit,
  onOpenConversation,
}: {
  activeCid: string | null;
  activeName: string | null;
  onClose(): void;
  onOpenHit(hit: SearchHit): void;
  onOpenConversation(cid: string): void;
}) {
  const [profile, setProfile] = useState<string | null>(null);
  const chips: SearchChip[] = activeCid
    ? [{ label: `In ${activeName ?? 'this conversation'}`, term: `in:${activeCid}` }]
    : [];
  return (
    <Modal title="Search messages" onClose={onClose} size="large">
      <div className={`app-search-layout${profile ? ' app-search-layout--profile' : ''}`}>
        <MessageSearch
          onOpen={onOpenHit}
          onSelectUser={setProfile}
          chips={chips}
          autoFocus
          className="app-message-search"
        />
        {profile ? (
          <aside className="app-search-layout__profile" aria-label="Profile" data-testid="search-profile">
            <button
              type="button"
              className="app-button app-button--ghost app-button--small"
              onClick={() => setProfile(null)}
            >
              Close profile
            </button>
            <ProfilePanel key={profile} userId={profile} onOpenConversation={onOpenConversation} />
          </aside>
        ) : null}
      </div>
    </Modal>
  );
}
