/**
 * The admin console's Feature flags tab: the workspace's flags (key, description, on or off, the
 * percentage of people who get it, and the people named to get it whatever the percentage), to
 * add, edit and delete. A flag's form doubles as the editor: Edit fills it with the flag.
 */
import { FEATURE_FLAG_KEY_PATTERN, type FeatureFlag } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const KEY = new RegExp(FEATURE_FLAG_KEY_PATTERN);
const EMPTY = { key: '', description: '', enabled: false, percentage: '0', users: '' };

export function FlagsTab() {
  const client = useChatClient();
  const [flags, setFlags] = useState<FeatureFlag[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState(EMPTY);
  const [editing, setEditing] = useState<string | null>(null);

  const load = useCallback(() => {
    client.flags.list().then(setFlags, (e: unknown) => setError(message(e)));
  }, [client]);
  useEffect(load, [load]);

  const save = () => {
    setError(null);
    const key = draft.key.trim();
    if (!KEY.test(key)) return setError('A key is 1–64 of a-z, 0-9, _, . and -, starting with a letter or digit.');
    const percentage = Number(draft.percentage);
    if (!Number.isInteger(percentage) || percentage < 0 || percentage > 100)
      return setError('The percentage is a whole number from 0 to 100.');
    const userIds = draft.users
      .split(/[\s,]+/)
      .map((u) => u.trim())
      .filter(Boolean);
    client.flags
      .put(key, { description: draft.description.trim(), enabled: draft.enabled, percentage, user_ids: userIds })
      .then(
        () => {
          setDraft(EMPTY);
          setEditing(null);
          load();
        },
        (e: unknown) => setError(message(e)),
      );
  };

  const edit = (f: FeatureFlag) => {
    setError(null);
    setEditing(f.key);
    setDraft({
      key: f.key,
      description: f.description,
      enabled: f.enabled,
      percentage: String(f.percentage),
      users: f.user_ids.join(', '),
    });
  };

  return (
    <div className="app-form" data-testid="flags-admin">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="app-muted">
        A flag is on for the people named, and for the given percentage of everyone else (the same people each time),
        while it is enabled. Apps read theirs with <code>client.flag(key)</code>.
      </p>
      <table className="app-table" aria-label="Feature flags">
        <thead>
          <tr>
            <th>Flag</th>
            <th>State</th>
            <th>Rollout</th>
            <th>Named people</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {flags.length === 0 ? (
            <tr>
              <td colSpan={5} className="app-muted">
                No feature flags yet.
              </td>
            </tr>
          ) : null}
          {flags.map((f) => (
            <tr key={f.key} data-testid={`flag-${f.key}`}>
              <td>
                <code>{f.key}</code>
                {f.description ? <div className="app-muted">{f.description}</div> : null}
              </td>
              <td>{f.enabled ? 'On' : 'Off'}</td>
              <td>{f.percentage} %</td>
              <td>{f.user_ids.length ? f.user_ids.join(', ') : <span className="app-muted">none</span>}</td>
              <td>
                <button type="button" className="app-link-button" aria-label={`Edit ${f.key}`} onClick={() => edit(f)}>
                  Edit
                </button>{' '}
                <button
                  type="button"
                  className="app-link-button"
                  aria-label={`Delete ${f.key}`}
                  onClick={() => client.flags.remove(f.key).then(load, (e: unknown) => setError(message(e)))}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="app-form"
        aria-label={editing ? `Edit ${editing}` : 'Add a feature flag'}
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <h3>{editing ? `Edit ${editing}` : 'Add a feature flag'}</h3>
        <div className="app-row">
          <label className="app-field">
            <span className="app-field__label">Key</span>
            <input
              className="app-input"
              value={draft.key}
              placeholder="new-composer"
              readOnly={editing !== null}
              onChange={(e) => setDraft({ ...draft, key: e.target.value })}
            />
          </label>
          <label className="app-field">
            <span className="app-field__label">Rollout percentage</span>
            <input
              className="app-input"
              type="number"
              min={0}
              max={100}
              step={1}
              value={draft.percentage}
              onChange={(e) => setDraft({ ...draft, percentage: e.target.value })}
            />
          </label>
        </div>
        <label className="app-field">
          <span className="app-field__label">Description</span>
          <input
            className="app-input"
            value={draft.description}
            onChange={(e) => setDraft({ ...draft, description: e.target.value })}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">Named people (user ids, comma separated)</span>
          <input
            className="app-input"
            value={draft.users}
            placeholder="alice, bob"
            onChange={(e) => setDraft({ ...draft, users: e.target.value })}
          />
        </label>
        <label className="app-check">
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
          />{' '}
          Enabled
        </label>
        <div className="app-row app-row--end">
          {editing ? (
            <button
              type="button"
              className="app-button"
              onClick={() => {
                setEditing(null);
                setDraft(EMPTY);
              }}
            >
              Cancel
            </button>
          ) : null}
          <button type="submit" className="app-button app-button--primary">
            {editing ? 'Save flag' : 'Add flag'}
          </button>
        </div>
      </form>
    </div>
  );
}
