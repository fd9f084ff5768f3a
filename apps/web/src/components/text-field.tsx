/**
 * A labelled text input as every form of the app draws it: the label above, the input, and an
 * optional hint below. The label names the input (`htmlFor`/`id`), which is how tests and
 * screen readers find it.
 */
import type { InputHTMLAttributes, ReactNode } from 'react';

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'className' | 'id'> {
  id: string;
  label: string;
  /** Called with the input's new value. */
  onValue(value: string): void;
  hint?: ReactNode;
}

export function TextField({ id, label, onValue, hint, ...input }: TextFieldProps) {
  return (
    <label className="app-field" htmlFor={id}>
      <span className="app-field__label">{label}</span>
      <input id={id} className="app-input" onChange={(e) => onValue(e.target.value)} {...input} />
      {hint ? <span className="app-field__hint">{hint}</span> : null}
    </label>
  );
}
