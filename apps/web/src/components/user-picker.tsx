/**
 * Pick people by name: a search box over the workspace's users with the picked ones as chips.
 * Arrow keys move through the results, Enter picks, Backspace in an empty box removes the
 * last chip.
 */
import type { User } from '@parley/protocol';
import { Avatar, PresenceDot, useMe } from '@parley/react';
import { type KeyboardEvent, useId, useState } from 'react';
import { useUserSearch } from '../hooks/use-user-search.js';
import { CloseIcon } from './icons.js';

export interface UserPickerProps {
  selected: User[];
  onChange(users: User[]): void;
  /** Ids never offered (e.g. current members). */
  exclude?: readonly string[];
  label: string;
  placeholder?: string;
  /** At most this many people. */
  max?: number;
}

export function UserPicker({ selected, onChange, exclude = [], label, placeholder, max = 8 }: UserPickerProps) {
  const me = useMe();
  const id = useId();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const { users, loading, error } = useUserSearch(query);
  const taken = new Set([...exclude, ...selected.map((u) => u.id), ...(me ? [me] : [])]);
  const options = users.filter((u) => !taken.has(u.id));
  const full = selected.length >= max;
  const activeIndex = Math.min(active, Math.max(0, options.length - 1));

  const pick = (u: User) => {
    if (full) return;
    onChange([...selected, u]);
    setQuery('');
    setActive(0);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = options.length || 1;
      setActive((activeIndex + (e.key === 'ArrowDown' ? 1 : -1) + n) % n);
    } else if (e.key === 'Enter') {
      const u = options[activeIndex];
      if (u) {
        e.preventDefault();
        pick(u);
      }
    } else if (e.key === 'Backspace' && query === '' && selected.length > 0) {
      onChange(selected.slice(0, -1));
    }
  };

  return (
    <div className="app-picker">
      <label htmlFor={`${id}-input`} className="app-field__label">
        {label}
      </label>
      <div className="app-picker__box">
        {selected.map((u) => (
          <span key={u.id} className="app-chip">
            <Avatar user={u} id={u.id} size={18} />
            <span>{u.name}</span>
            <button
              type="button"
              className="app-chip__remove"
              aria-label={`Remove ${u.name}`}
              onClick={() => onChange(selected.filter((x) => x.id !== u.id))}
            >
              <CloseIcon />
            </button>
          </span>
        ))}
        <input
          id={`${id}-input`}
          className="app-picker__input"
          role="combobox"
          aria-expanded={options.length > 0}
          aria-controls={`${id}-list`}
          aria-activedescendant={options[activeIndex] ? `${id}-opt-${activeIndex}` : undefined}
          autoComplete="off"
          value={query}
          disabled={full}
          placeholder={full ? `At most ${max} people` : (placeholder ?? 'Type a name')}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          // biome-ignore lint/a11y/noAutofocus: the picker is the first field of the dialogs that use it
          autoFocus
        />
      </div>
      <div id={`${id}-list`} role="listbox" aria-label="People" className="app-picker__list">
        {options.map((u, i) => (
          <div
            key={u.id}
            id={`${id}-opt-${i}`}
            role="option"
            tabIndex={-1}
            aria-selected={i === activeIndex}
            className={`app-picker__option${i === activeIndex ? ' app-picker__option--active' : ''}`}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(u);
            }}
            onMouseEnter={() => setActive(i)}
          >
            <span className="app-avatar-with-dot">
              <Avatar user={u} id={u.id} size={28} />
              <PresenceDot presence={u.presence} className="app-avatar-with-dot__dot" />
            </span>
            <span className="app-picker__name">{u.name}</span>
            {u.username ? <span className="app-muted">@{u.username}</span> : null}
          </div>
        ))}
        {!loading && options.length === 0 ? (
          <p className="app-muted app-picker__empty">
            {error ?? (query ? 'Nobody matches that name.' : 'Nobody else here yet.')}
          </p>
        ) : null}
      </div>
    </div>
  );
}
