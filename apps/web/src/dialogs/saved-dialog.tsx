/**
 * "Saved": the messages I saved for later (the kit's `<SavedList>`), with their reminders and my
 * notes on them, and — on the Tasks tab — the tasks assigned to me (the kit's `<TaskList>`).
 */
import { SavedList, TaskList } from '@parley/react';
import { useState } from 'react';
import { Modal } from '../components/modal.js';

/** What Open jumps to: a message in its conversation (a saved item's, a task's). */
type Target = { cid: string; message_id: string };

export function SavedDialog({ onClose, onOpen }: { onClose(): void; onOpen(item: Target): void }) {
  const [tab, setTab] = useState<'saved' | 'tasks'>('saved');
  return (
    <Modal
      title="Saved"
      subtitle="Messages you saved for later and tasks given to you. Done ones leave the list; a due time sends you a reminder."
      onClose={onClose}
      size="large"
    >
      <div className="parley-inbox__filters app-saved__tabs" role="tablist" aria-label="Saved or tasks">
        <button
          type="button"
          role="tab"
          className="parley-inbox__filter"
          aria-selected={tab === 'saved'}
          onClick={() => setTab('saved')}
        >
          Saved
        </button>
        <button
          type="button"
          role="tab"
          className="parley-inbox__filter"
          aria-selected={tab === 'tasks'}
          onClick={() => setTab('tasks')}
        >
          Tasks
        </button>
      </div>
      {tab === 'saved' ? (
        <SavedList onOpen={onOpen} className="app-saved" />
      ) : (
        <TaskList onOpen={onOpen} className="app-saved" />
      )}
    </Modal>
  );
}
