/** The frame of the pages around the app (sign-in, recovery, invites, join pages, 2FA). */
import type { ReactNode } from 'react';
import { Logo } from './icons.js';

/** A centred card under Parley's mark. */
export function AuthCard({ children }: { children: ReactNode }) {
  return (
    <div className="app-auth">
      <main className="app-auth__card">
        <div className="app-auth__brand">
          <Logo size={44} />
          <span>Parley</span>
        </div>
        {children}
      </main>
    </div>
  );
}

/** What a link led to could not be found (or loaded): a title, why, and the way home. */
export function LinkNotFound({ title, message }: { title: string; message: string }) {
  return (
    <>
      <h1 className="app-auth__title">{title}</h1>
      <p className="app-auth__lead">{message}</p>
      <a className="app-button app-button--block" href="/">
        Go to Parley
      </a>
    </>
  );
}
