/**
 * An admin corrects someone else's name or title (PATCH /v1/users/{id}), opened from their
 * profile card. Only what changed is sent; a blank title clears it. The server audits it and
 * everyone who shares a channel with them sees the new name live.
 */
import { PROFILE_LIMITS, type UpdateUserBody, type User } from '@parley/protocol';
import { displayName, useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { Modal } from '../components/modal.js';
import { TextField } from '../components/text-field.js';

export function AdminNameDialog({
  user,
  onSaved,
  onClose,
}: {
  user: User;
  onSaved(user: User): void;
  onClose(): void;
}) {
  const client = useChatClient();
  const id = useId();
  const [name, setName] = useState(user.name ?? '');
  const [title, setTitle] = useState(user.title ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    // Said here in words; the server refuses it too (VALIDATION_ERROR), in a schema's.
    if (!name.trim()) return setError('A name cannot be blank.');
    const body: UpdateUserBody = {};
    if (name !== (user.name ?? '')) body.name = name;
    if (title.trim() !== (user.title ?? '')) body.title = title.trim() ? title : null;
    if (Object.keys(body).length === 0) return onClose();
    setSaving(true);
    setError(null);
    try {
      onSaved(await client.profiles.update(user.id, body));
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      title={`Edit name and title of ${displayName(user, user.id)}`}
      subtitle="As an admin, you can correct these. The change is recorded in the audit log."
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button app-button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={`${id}-form`} className="app-button app-button--primary" disabled={saving}>
            Save
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="app-form" onSubmit={save}>
        <TextField id={`${id}-name`} label="Display name" value={name} onValue={setName} required maxLength={200} />
        <TextField
          id={`${id}-title`}
          label="Title"
          value={title}
          onValue={setTitle}
          maxLength={PROFILE_LIMITS.title}
          placeholder="What they do"
        />
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
