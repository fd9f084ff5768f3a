/** The app: the account, then the page the URL names. */
import { useEffect } from 'react';
import { ErrorPage, Splash } from './components/splash.js';
import { AccountProvider, useAccount } from './hooks/account.js';
import { navigate, parseRoute, stableWorkspaceKey, useLocation } from './lib/router.js';
import { useTheme } from './lib/theme.js';
import { AuthScreen } from './screens/auth-screen.js';
import { InviteScreen } from './screens/invite-screen.js';
import { JoinScreen } from './screens/join-screen.js';
import { ForgotPasswordScreen, MailLinkScreen, ResetPasswordScreen } from './screens/recovery-screens.js';
import { WorkspaceScreen } from './screens/workspace-screen.js';
import { WorkspacesScreen } from './screens/workspaces-screen.js';

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Pages() {
  const location = useLocation();
  const route = parseRoute(location);
  const { state } = useAccount();
  useTheme();

  if (route.name === 'invite') return <InviteScreen token={route.token} />;
  // Pages of mailed links work signed in or not (a reset from another browser, say).
  if (route.name === 'forgot-password') return <ForgotPasswordScreen />;
  if (route.name === 'reset-password') return <ResetPasswordScreen token={route.token} />;
  if (route.name === 'verify-email') return <MailLinkScreen kind="verify" token={route.token} />;
  if (route.name === 'confirm-email') return <MailLinkScreen kind="confirm" token={route.token} />;
  if (state.status === 'loading') return <Splash label="Loading Parley…" />;
  if (route.name === 'signin' || route.name === 'signup') {
    if (state.status === 'signed-in') return <Redirect to={route.next ?? '/'} />;
    return <AuthScreen mode={route.name} next={route.next} />;
  }
  if (route.name === 'not-found')
    return (
      <ErrorPage title="Page not found" message="There is nothing at this address.">
        <a className="app-button" href="/">
          Go to your workspaces
        </a>
      </ErrorPage>
    );
  if (state.status === 'signed-out') return <Redirect to={`/signin?next=${encodeURIComponent(location)}`} />;
  if (route.name === 'home') return <WorkspacesScreen />;
  if (route.name === 'join') return <JoinScreen workspaceId={route.workspaceId} />;
  return (
    <WorkspaceScreen
      // One screen per workspace, whichever of its names (id, slug) the address uses now.
      key={stableWorkspaceKey(route.workspaceId)}
      workspaceId={stableWorkspaceKey(route.workspaceId)}
      cid={route.cid}
      page={route.page ?? null}
    />
  );
}

export function App() {
  return (
    <AccountProvider>
      <Pages />
    </AccountProvider>
  );
}
