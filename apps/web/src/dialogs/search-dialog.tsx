/** Ctrl/⌘+Shift+F (or "Search messages" in the sidebar): search every conversation you can read. */
import type { SearchHit } from '@parley/protocol';
import { MessageSearch, type SearchChip } from '@parley/react';
import { Modal } from '../components/modal.js';

export function SearchDialog({
  activeCid,
  activeName,
  onClose,
  onOpenHit,
}: {
  activeCid: string | null;
  activeName: string | null;
  onClose(): void;
  onOpenHit(hit: SearchHit): void;
}) {
  const chips: SearchChip[] = activeCid
    ? [{ label: `In ${activeName ?? 'this conversation'}`, term: `in:${activeCid}` }]
    : [];
  return (
    <Modal title="Search messages" onClose={onClose} size="large">
      <MessageSearch onOpen={onOpenHit} chips={chips} autoFocus className="app-message-search" />
    </Modal>
  );
}
