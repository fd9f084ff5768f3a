/**
 * Make a group in one step, as Slack's and WhatsApp's new-group dialogs do: its people, a name,
 * an optional photo and the first message, sent together (`ChatClient.createGroup`, one
 * transaction on the server), so everyone gets the group with its first message. The message's
 * id is made once per dialog: pressing Create again after a failure that did go through finds
 * the group it made instead of making a second one.
 */
import { ParleyError } from '@parley/client';
import { type User, uuidv7 } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { Modal } from '../components/modal.js';
import { UserPicker } from '../components/user-picker.js';

/** What a refused group means, in words. */
function groupError(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === 'GROUP_TOO_SMALL') return 'Add at least one other person: a group needs someone besides you.';
    if (err.code === 'MESSAGE_BLOCKED')
      return 'The first message was blocked by this workspace’s rules; nothing was created.';
    if (err.code === 'MESSAGE_REJECTED') return 'The first message was refused; nothing was created.';
  }
  return err instanceof Error ? err.message : String(err);
}

const isPhotoUrl = (s: string) => /^https?:\/\/\S+$/i.test(s);

export function NewGroupDialog({ onClose, onCreated }: { onClose(): void; onCreated(cid: string): void }) {
  const client = useChatClient();
  const id = useId();
  const [picked, setPicked] = useState<User[]>([]);
  const [name, setName] = useState('');
  const [photo, setPhoto] = useState('');
  const [text, setText] = useState('');
  const [messageId] = useState(() => uuidv7());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const photoUrl = photo.trim();
  const photoOk = photoUrl === '' || isPhotoUrl(photoUrl);
  const ready = picked.length > 0 && name.trim() !== '' && text.trim() !== '' && photoOk;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const group = await client.createGroup({
        members: picked.map((u) => u.id),
        name: name.trim(),
        text,
        messageId,
        ...(photoUrl ? { image: photoUrl } : {}),
      });
      onCreated(group.cid);
    } catch (err) {
      setBusy(false);
      setError(groupError(err));
    }
  };

  return (
    <Modal
      title="New group chat"
      subtitle="Pick people, name the group and say hello: everyone gets the group with your first message."
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form={`${id}-form`}
            className="app-button app-button--primary"
            disabled={busy || !ready}
            data-testid="new-group-create"
          >
            {busy ? 'Creating…' : 'Create group'}
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="app-form app-new-group" onSubmit={create} data-testid="new-group-form">
        <UserPicker selected={picked} onChange={setPicked} label="People" placeholder="Type a name or @username" />
        {picked.length === 0 ? (
          <span className="app-field__hint">A group needs at least one other person besides you.</span>
        ) : null}
        <div className="app-new-group__row">
          <span className="app-new-group__photo" aria-hidden="true">
            {photoUrl && photoOk ? <img src={photoUrl} alt="" /> : <span>{(name.trim()[0] ?? '#').toUpperCase()}</span>}
          </span>
          <label className="app-field app-new-group__name" htmlFor={`${id}-name`}>
            <span className="app-field__label">Group name</span>
            <input
              id={`${id}-name`}
              className="app-input"
              value={name}
              maxLength={80}
              placeholder="e.g. Launch crew"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
        </div>
        <label className="app-field" htmlFor={`${id}-photo`}>
          <span className="app-field__label">
            Photo <span className="app-muted">(optional, a picture’s link)</span>
          </span>
          <input
            id={`${id}-photo`}
            className="app-input"
            type="url"
            value={photo}
            maxLength={2048}
            placeholder="https://…"
            onChange={(e) => setPhoto(e.target.value)}
          />
          {photoOk ? null : <span className="app-field__hint">Paste a link that starts with https://</span>}
        </label>
        <label className="app-field" htmlFor={`${id}-text`}>
          <span className="app-field__label">First message</span>
          <textarea
            id={`${id}-text`}
            className="app-input app-textarea"
            rows={3}
            value={text}
            maxLength={10_000}
            placeholder="Say what the group is for"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
