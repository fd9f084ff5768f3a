/**
 * `/join/<workspace>`: ask to join a workspace that takes requests, or join one open to your
 * email domain. Shows where a request stands (pending, approved, declined). Workspaces that
 * take neither answer 404, shown as "no join page".
 */
import type { JoinPage } from '@parley/protocol';
import { useCallback, useEffect, useState } from 'react';
import { AuthCard, LinkNotFound } from '../components/auth-card.js';
import { WorkspaceTile } from '../components/workspace-tile.js';
import { useAccount } from '../hooks/account.js';
import { ApiError } from '../lib/api.js';
import { membership } from '../lib/membership-api.js';
import { navigate, workspacePath } from '../lib/router.js';

type Page = { status: 'loading' } | { status: 'ok'; join: JoinPage } | { status: 'missing' | 'error'; message: string };

export function JoinScreen({ workspaceId }: { workspaceId: string }) {
  const { state } = useAccount();
  const [page, setPage] = useState<Page>({ status: 'loading' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    membership
      .joinPage(workspaceId)
      .then((join) => setPage({ status: 'ok', join }))
      .catch((e: unknown) =>
        setPage(
          e instanceof ApiError && (e.status === 404 || e.status === 400)
            ? { status: 'missing', message: 'This workspace has no join page. Ask one of its admins for an invite.' }
            : { status: 'error', message: e instanceof Error ? e.message : String(e) },
        ),
      );
  }, [workspaceId]);
  useEffect(load, [load]);

  const ask = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await membership.join(workspaceId);
      if ('workspace' in r) navigate(workspacePath(r.workspace.id), { replace: true });
      else load();
    } catch (e) {
      const reason = e instanceof ApiError ? (e.details as { reason?: unknown } | undefined)?.reason : undefined;
      setError(
        reason === 'email_unverified'
          ? 'Confirm your email first: follow the link we mailed you.'
          : e instanceof Error
            ? e.message
            : String(e),
      );
    } finally {
      setBusy(false);
    }
  };

  const join = page.status === 'ok' ? page.join : null;
  const request = join?.request ?? null;
  return (
    <AuthCard>
      {page.status === 'loading' ? <p className="app-muted">Looking up the workspace…</p> : null}
      {page.status === 'missing' || page.status === 'error' ? (
        <LinkNotFound title="No join page" message={page.message} />
      ) : null}
      {join ? (
        <>
          <div className="app-invite">
            <WorkspaceTile workspace={{ name: join.workspace_name, logo: join.workspace_logo ?? null }} large />
            <h1 className="app-auth__title" data-testid="join-title">
              Join <strong>{join.workspace_name}</strong>
            </h1>
            <p className="app-muted">
              {join.join_policy === 'domain'
                ? `Anyone with a confirmed email at ${join.join_domain} can join.`
                : 'Ask to join: an admin of the workspace approves or declines your request.'}
            </p>
          </div>
          {join.member ? (
            <a
              className="app-button app-button--primary app-button--block"
              href={workspacePath(join.workspace_id)}
              data-testid="join-open"
            >
              Open {join.workspace_name}
            </a>
          ) : request?.status === 'pending' ? (
            <p className="app-muted app-center" role="status" data-testid="join-state">
              Your request is waiting for an admin. We will mail you when they decide.
            </p>
          ) : (
            <>
              {request?.status === 'denied' ? (
                <p className="app-form__error" role="status" data-testid="join-state">
                  Your last request was declined. You can ask again.
                </p>
              ) : null}
              <button
                type="button"
                className="app-button app-button--primary app-button--block"
                disabled={busy || (join.join_policy === 'domain' && !join.can_join)}
                onClick={() => void ask()}
                data-testid="join-ask"
              >
                {join.join_policy === 'domain' ? `Join ${join.workspace_name}` : 'Ask to join'}
              </button>
              {join.join_policy === 'domain' && !join.can_join ? (
                <p className="app-muted app-center">Your confirmed email must be at {join.join_domain} to join.</p>
              ) : null}
            </>
          )}
          {state.status === 'signed-in' ? (
            <p className="app-muted app-center">Signed in as {state.account.email}</p>
          ) : null}
          {error ? (
            <p className="app-form__error" role="alert">
              {error}
            </p>
          ) : null}
        </>
      ) : null}
    </AuthCard>
  );
}
