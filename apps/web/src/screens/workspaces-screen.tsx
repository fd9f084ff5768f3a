/** The workspace picker: open one of your workspaces, or create a new one. */
import { keepLoading } from '@parley/client';
import type { Workspace } from '@parley/protocol';
import { type FormEvent, useEffect, useState } from 'react';
import { Logo } from '../components/icons.js';
import { WorkspaceTile } from '../components/workspace-tile.js';
import { useAccount } from '../hooks/account.js';
import { accounts } from '../lib/api.js';
import { roleLabel } from '../lib/names.js';
import { keepWorkspaces, keptWorkspaces, unreachable } from '../lib/offline.js';
import { navigate, onLinkClick, workspaceKey, workspacePath } from '../lib/router.js';

export function WorkspacesScreen() {
  const { state, signOut } = useAccount();
  const [list, setList] = useState<Workspace[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);

  const [offline, setOffline] = useState(false);
  // Read again after 1, 2, 4… 30 s while the server cannot be reached.
  useEffect(
    () =>
      keepLoading(
        () =>
          accounts.workspaces().then((l) => {
            keepWorkspaces(l);
            setList(l);
            setOffline(false);
            setError(null);
          }),
        {
          retryable: unreachable,
          onError: (e) => {
            // Offline: the list as it was last seen here (the workspaces opened here open offline).
            const kept = unreachable(e) ? keptWorkspaces() : null;
            if (kept) {
              setList(kept);
              setOffline(true);
            } else setError(e instanceof Error ? e.message : String(e));
          },
        },
      ),
    [],
  );

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setCreating(true);
    setError(null);
    try {
      const ws = await accounts.createWorkspace(name.trim());
      navigate(workspacePath(workspaceKey(ws)));
    } catch (err) {
      setCreating(false);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div className="app-home">
      <header className="app-home__bar">
        <div className="app-home__brand">
          <Logo size={30} />
          <span>Parley</span>
        </div>
        <div className="app-home__account">
          <span className="app-muted app-home__email" title={state.account?.email}>
            {state.account?.email}
          </span>
          <button type="button" className="app-button app-button--ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="app-home__main">
        <h1 className="app-home__title">
          {state.account ? `Welcome, ${state.account.name.split(' ')[0]}` : 'Welcome'}
        </h1>
        <p className="app-home__lead">Choose a workspace to get back to your team, or start a new one.</p>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
        {offline ? (
          <p className="app-muted" role="status" data-testid="offline-note">
            You are offline: these are your workspaces as this device last saw them.
          </p>
        ) : null}
        <section className="app-card" aria-labelledby="ws-title">
          <h2 id="ws-title" className="app-card__title">
            Your workspaces
          </h2>
          {list === null ? (
            <p className="app-muted">Loading…</p>
          ) : list.length === 0 ? (
            <p className="app-muted">You are not in any workspace yet. Create one below, or open an invite link.</p>
          ) : (
            <ul className="app-workspace-list">
              {list.map((w) => (
                <li key={w.id}>
                  <a
                    className="app-workspace-row"
                    href={workspacePath(workspaceKey(w))}
                    onClick={onLinkClick(workspacePath(workspaceKey(w)))}
                  >
                    <WorkspaceTile workspace={w} />
                    <span className="app-workspace-row__text">
                      <span className="app-workspace-row__name">{w.name}</span>
                      <span className="app-muted">{roleLabel(w.role)}</span>
                    </span>
                    <span className="app-workspace-row__open">Open</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="app-card" aria-labelledby="ws-create">
          <h2 id="ws-create" className="app-card__title">
            Create a new workspace
          </h2>
          <form className="app-inline-form" onSubmit={create}>
            <label className="app-sr-only" htmlFor="ws-name">
              Workspace name
            </label>
            <input
              id="ws-name"
              className="app-input"
              placeholder="e.g. Acme Inc."
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
            <button type="submit" className="app-button app-button--primary" disabled={creating || !name.trim()}>
              {creating ? 'Creating…' : 'Create workspace'}
            </button>
          </form>
        </section>
      </main>
    </div>
  );
}
