/**
 * An admin edits someone else's custom profile fields: only those the workspace marked
 * `admin_editable` (the server refuses the others, 403). Opened from their profile card.
 */
import type { ProfileField, User } from '@parley/protocol';
import { displayName, useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { CustomField } from '../components/custom-field.js';
import { Modal } from '../components/modal.js';

/** The fields an admin may set on another person's profile. */
export const adminEditable = (fields: readonly ProfileField[] | undefined) =>
  (fields ?? []).filter((f) => f.admin_editable);

export function AdminFieldsDialog({
  user,
  fields,
  onSaved,
  onClose,
}: {
  user: User;
  fields: readonly ProfileField[];
  onSaved(user: User): void;
  onClose(): void;
}) {
  const client = useChatClient();
  const id = useId();
  const editable = adminEditable(fields);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(editable.map((f) => [f.id, user.fields?.[f.id] ?? ''])),
  );
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const next = await client.profiles.setFields(
        user.id,
        Object.fromEntries(editable.map((f) => [f.id, values[f.id]?.trim() ? (values[f.id] ?? null) : null])),
      );
      onSaved(next);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      title={`Profile fields of ${displayName(user, user.id)}`}
      subtitle="As an admin, you set these for them."
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
      <form id={`${id}-form`} className="app-form app-profile-form" onSubmit={save}>
        <div className="app-profile-form__grid">
          {editable.map((f) => (
            <CustomField
              key={f.id}
              id={`${id}-f-${f.id}`}
              field={f}
              value={values[f.id] ?? ''}
              onValue={(v) => setValues((s) => ({ ...s, [f.id]: v }))}
            />
          ))}
        </div>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
