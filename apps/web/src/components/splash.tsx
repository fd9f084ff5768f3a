/** Full-page states: loading, and errors with a way out. */
import type { ReactNode } from 'react';
import { Logo } from './icons.js';

export function Splash({ label }: { label: string }) {
  return (
    <div className="app-splash" role="status" aria-live="polite">
      <Logo size={56} />
      <div className="app-splash__spinner" aria-hidden="true" />
      <p>{label}</p>
    </div>
  );
}

export function ErrorPage({ title, message, children }: { title: string; message: string; children?: ReactNode }) {
  return (
    <div className="app-splash" role="alert">
      <Logo size={56} />
      <h1 className="app-splash__title">{title}</h1>
      <p className="app-splash__message">{message}</p>
      {children}
    </div>
  );
}
