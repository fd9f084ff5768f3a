/** Call history: your calls, newest first (missed ones in red); a row opens its conversation. */
import { CallHistory } from '@parley/react';
import { Modal } from '../components/modal.js';

export function CallsDialog({ onClose, onOpen }: { onClose(): void; onOpen(cid: string): void }) {
  return (
    <Modal title="Calls" subtitle="Your call history" onClose={onClose}>
      <CallHistory onOpen={onOpen} />
    </Modal>
  );
}
