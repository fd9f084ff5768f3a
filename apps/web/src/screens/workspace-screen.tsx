/** `/w/<workspace>(/c/<cid>)`: connect to the workspace, then show it. */
import { ChatProvider } from '@parley/react';
import { useEffect, useState } from 'react';
import { AuthCard } from '../components/auth-card.js';
import { Shell } from '../components/shell.js';
import { ErrorPage, Splash } from '../components/splash.js';
import { TwoFactorSettings } from '../dialogs/security-settings.js';
import { useAccount } from '../hooks/account.js';
import { useWorkspaceClient } from '../hooks/use-workspace-client.js';
import { ApiError } from '../lib/api.js';
import { navigate, useLocation, workspaceKey } from '../lib/router.js';
import { useTheme } from '../lib/theme.js';

export function WorkspaceScreen({
  workspaceId,
  cid,
  page = null,
}: {
  workspaceId: string;
  cid: string | null;
  page?: 'people' | 'activity' | 'notes' | null;
}) {
  const { lost } = useAccount();
  const { theme } = useTheme();
  const { conn, update } = useWorkspaceClient(workspaceId, lost);
  // Opened by id (an old link) or by a slug since changed: show the address it has now.
  const location = useLocation();
  const ready = conn.phase === 'ready' ? conn.workspace : null;
  useEffect(() => {
    if (!ready) return;
    const m = /^\/w\/([^/?#]+)(.*)$/s.exec(location);
    const key = workspaceKey(ready);
    if (m && decodeURIComponent(m[1] as string) !== key)
      navigate(`/w/${encodeURIComponent(key)}${m[2] ?? ''}`, { replace: true });
  }, [ready, location]);

  if (conn.phase === 'error') {
    if (
      conn.error instanceof ApiError &&
      (conn.error.details as { reason?: unknown } | undefined)?.reason === 'two_factor_required'
    )
      return <TwoFactorNeeded />;
    const missing = conn.error instanceof ApiError && conn.error.status === 404;
    return (
      <ErrorPage
        title={missing ? 'Workspace not found' : 'Could not open this workspace'}
        message={missing ? 'It does not exist, or you are not a member of it.' : conn.error.message}
      >
        <a className="app-button app-button--primary" href="/">
          Back to your workspaces
        </a>
      </ErrorPage>
    );
  }
  if (conn.phase === 'connecting')
    return <Splash label={conn.workspace ? `Connecting to ${conn.workspace.name}…` : 'Connecting…'} />;
  return (
    <ChatProvider client={conn.client} theme={theme} className="app-chat">
      <Shell workspace={conn.workspace} cid={cid} page={page} onWorkspaceChange={update} />
    </ChatProvider>
  );
}

/**
 * The workspace requires two-factor sign-in and this account has none: set it up here, save
 * the backup codes, then open the workspace.
 */
function TwoFactorNeeded() {
  const [ready, setReady] = useState(false);
  return (
    <AuthCard>
      <h1 className="app-auth__title">Two-factor sign-in required</h1>
      <p className="app-auth__lead">
        This workspace asks every member to sign in with a code from an authenticator app as well as a password. Set it
        up to continue.
      </p>
      <TwoFactorSettings onChanged={(on) => setReady(on)} />
      <div className="app-row">
        {ready ? (
          <button type="button" className="app-button app-button--primary" onClick={() => window.location.reload()}>
            Open the workspace
          </button>
        ) : null}
        <a className="app-button" href="/">
          Back to your workspaces
        </a>
      </div>
    </AuthCard>
  );
}
