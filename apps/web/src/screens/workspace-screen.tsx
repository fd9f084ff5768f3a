/** `/w/<workspace>(/c/<cid>)`: connect to the workspace, then show it. */
import { ChatProvider } from '@parley/react';
import { Shell } from '../components/shell.js';
import { ErrorPage, Splash } from '../components/splash.js';
import { useAccount } from '../hooks/account.js';
import { useWorkspaceClient } from '../hooks/use-workspace-client.js';
import { ApiError } from '../lib/api.js';
import { useTheme } from '../lib/theme.js';

export function WorkspaceScreen({ workspaceId, cid }: { workspaceId: string; cid: string | null }) {
  const { lost } = useAccount();
  const { theme } = useTheme();
  const conn = useWorkspaceClient(workspaceId, lost);

  if (conn.phase === 'error') {
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
      <Shell workspace={conn.workspace} cid={cid} />
    </ChatProvider>
  );
}
