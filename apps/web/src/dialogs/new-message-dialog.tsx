/** Start a direct message with one person, or a group DM with several. */
import type { User } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useState } from 'react';
import { Modal } from '../components/modal.js';
import { UserPicker } from '../components/user-picker.js';

export function NewMessageDialog({ onClose, onCreated }: { onClose(): void; onCreated(cid: string): void }) {
  const client = useChatClient();
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      // Get-or-create: the same people always land in the same conversation.
      const dm = client.channel('dm', { members: picked.map((u) => u.id) });
      await dm.createChannel();
      onCreated(dm.cid);
    } catch (e) {
      setBusy(false);
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Modal
      title="New message"
      subtitle="Pick one person for a direct message, or several for a group conversation."
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="app-button app-button--primary"
            disabled={busy || picked.length === 0}
            onClick={() => void start()}
          >
            {picked.length > 1 ? 'Start group conversation' : 'Start conversation'}
          </button>
        </>
      }
    >
      <UserPicker selected={picked} onChange={setPicked} label="To:" placeholder="Type a name or @username" />
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
