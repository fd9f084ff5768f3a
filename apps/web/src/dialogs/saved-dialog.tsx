/** "Saved": the messages I saved for later (the kit's `<SavedList>`), with their reminders. */
import type { SavedItem } from '@parley/protocol';
import { SavedList } from '@parley/react';
import { Modal } from '../components/modal.js';

export function SavedDialog({ onClose, onOpen }: { onClose(): void; onOpen(item: SavedItem): void }) {
  return (
    <Modal
      title="Saved"
      subtitle="Messages you saved for later. Done ones leave the list; a due time sends you a reminder."
      onClose={onClose}
      size="large"
    >
      <SavedList onOpen={onOpen} className="app-saved" />
    </Modal>
  );
}
