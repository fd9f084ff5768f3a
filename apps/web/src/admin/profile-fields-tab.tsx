/**
 * The admin console's Profile fields tab: the custom fields every profile shows (text, link,
 * choice), in order, each required or not and visible to members or to admins only. Changes go
 * through `client.profiles` (app admins); deleting a field deletes everyone's value of it.
 */
import { PROFILE_FIELD_KINDS, type ProfileField, type ProfileFieldKind } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const KIND_LABEL: Record<ProfileFieldKind, string> = { text: 'Text', link: 'Link', choice: 'Choice' };

export function ProfileFieldsTab() {
  const client = useChatClient();
  const id = useId();
  const [fields, setFields] = useState<ProfileField[]>([]);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ProfileFieldKind>('text');
  const [options, setOptions] = useState('');
  const [required, setRequired] = useState(false);
  const [adminsOnly, setAdminsOnly] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    client.profiles
      .fields()
      .then(setFields)
      .catch((e) => setError(message(e)));
  }, [client]);
  useEffect(load, [load]);

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      load();
    } catch (e) {
      setError(message(e));
    }
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      await client.profiles.createField({
        name,
        kind,
        ...(kind === 'choice' ? { options: options.split('\n').filter((o) => o.trim()) } : {}),
        required,
        visibility: adminsOnly ? 'admins' : 'members',
      });
      setName('');
      setOptions('');
      setRequired(false);
      setAdminsOnly(false);
    });
  };
  const move = (i: number, by: number) => {
    const ids = fields.map((f) => f.id);
    const [it] = ids.splice(i, 1);
    ids.splice(i + by, 0, it as string);
    void act(() => client.profiles.reorderFields(ids));
  };

  return (
    <div className="app-form">
      <p className="app-muted">
        Custom fields appear on everyone's profile card, in this order. Fields for admins only are never shown to anyone
        else.
      </p>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="app-field-list" aria-label="Profile fields">
        {fields.map((f, i) => (
          <li key={f.id} className="app-field-list__row" data-testid={`profile-field-${f.name}`}>
            <span className="app-field-list__name">
              <strong>{f.name}</strong>{' '}
              <span className="app-muted">
                {KIND_LABEL[f.kind]}
                {f.kind === 'choice' ? `: ${f.options.join(', ')}` : ''}
                {f.required ? ' · required' : ''}
                {f.visibility === 'admins' ? ' · admins only' : ''}
              </span>
            </span>
            <button
              type="button"
              className="app-button app-button--ghost"
              aria-label={`Move ${f.name} up`}
              disabled={i === 0}
              onClick={() => move(i, -1)}
            >
              ↑
            </button>
            <button
              type="button"
              className="app-button app-button--ghost"
              aria-label={`Move ${f.name} down`}
              disabled={i === fields.length - 1}
              onClick={() => move(i, 1)}
            >
              ↓
            </button>
            <button
              type="button"
              className="app-button app-button--ghost"
              aria-label={`Delete ${f.name}`}
              onClick={() => {
                if (window.confirm(`Delete "${f.name}" and everyone's value of it?`))
                  void act(() => client.profiles.deleteField(f.id));
              }}
            >
              Delete
            </button>
          </li>
        ))}
        {fields.length === 0 ? <li className="app-muted">No custom fields yet.</li> : null}
      </ul>
      <form className="app-form" onSubmit={add} aria-label="New profile field">
        <div className="app-row">
          <label className="app-field" htmlFor={`${id}-name`}>
            <span className="app-field__label">Field name</span>
            <input
              id={`${id}-name`}
              className="app-input"
              value={name}
              required
              maxLength={60}
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <label className="app-field" htmlFor={`${id}-kind`}>
            <span className="app-field__label">Kind</span>
            <select
              id={`${id}-kind`}
              className="app-input"
              value={kind}
              onChange={(e) => setKind(e.target.value as ProfileFieldKind)}
            >
              {PROFILE_FIELD_KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABEL[k]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {kind === 'choice' ? (
          <label className="app-field" htmlFor={`${id}-options`}>
            <span className="app-field__label">Options (one a line)</span>
            <textarea
              id={`${id}-options`}
              className="app-input"
              rows={3}
              value={options}
              onChange={(e) => setOptions(e.target.value)}
            />
          </label>
        ) : null}
        <div className="app-row">
          <label className="app-check">
            <input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} /> Required
          </label>
          <label className="app-check">
            <input type="checkbox" checked={adminsOnly} onChange={(e) => setAdminsOnly(e.target.checked)} /> Visible to
            admins only
          </label>
        </div>
        <div className="app-row app-row--end">
          <button type="submit" className="app-button app-button--primary">
            Add field
          </button>
        </div>
      </form>
    </div>
  );
}
