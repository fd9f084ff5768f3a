/** One custom profile field's input, by its kind: a choice is a select, a link a URL field, else text. */
import { PROFILE_LIMITS, type ProfileField } from '@parley/protocol';
import { TextField } from './text-field.js';

export function CustomField({
  id,
  field,
  value,
  onValue,
}: {
  id: string;
  field: ProfileField;
  value: string;
  onValue(v: string): void;
}) {
  const label = field.required ? `${field.name} *` : field.name;
  if (field.kind === 'choice')
    return (
      <div className="app-field">
        <label className="app-field__label" htmlFor={id}>
          {label}
        </label>
        <select
          id={id}
          className="app-input"
          value={value}
          required={field.required}
          onChange={(e) => onValue(e.target.value)}
        >
          <option value="">—</option>
          {field.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
    );
  return (
    <TextField
      id={id}
      label={label}
      value={value}
      onValue={onValue}
      required={field.required}
      {...(field.kind === 'link'
        ? { type: 'url', placeholder: 'https://', maxLength: PROFILE_LIMITS.link_value }
        : { maxLength: PROFILE_LIMITS.field_value })}
    />
  );
}
