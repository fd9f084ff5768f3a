/**
 * `/invite/<token>`: who invited you to which workspace, then join — signing up or in on the
 * spot when needed.
 */
import type { InvitePreview } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { AuthCard, LinkNotFound } from '../components/auth-card.js';
import { AuthForm, type AuthMode } from '../components/auth-form.js';
import { WorkspaceTile } from '../components/workspace-tile.js';
import { useAccount } from '../hooks/account.js';
import { ApiError, accounts } from '../lib/api.js';
import { navigate, workspacePath } from '../lib/router.js';

type Preview =
  | { status: 'loading' }
  | { status: 'ok'; invite: InvitePreview }
  | { status: 'missing' | 'error'; message: string };

export function InviteScreen({ token }: { token: string }) {
  const { state } = useAccount();
  const [preview, setPreview] = useState<Preview>({ status: 'loading' });
  const [mode, setMode] = useState<AuthMode>('signup');
  const [joining, setJoining] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    accounts
      .previewInvite(token)
      .then((invite) => setPreview({ status: 'ok', invite }))
      .catch((e: unknown) =>
        setPreview(
          e instanceof ApiError && e.status === 404
            ? { status: 'missing', message: 'This invite link is not valid. It may have been revoked.' }
            : { status: 'error', message: e instanceof Error ? e.message : String(e) },
        ),
      );
  }, [token]);

  const join = async () => {
    setJoining(true);
    setError(null);
    try {
      const ws = await accounts.acceptInvite(token);
      navigate(workspacePath(ws.id), { replace: true });
    } catch (e) {
      setJoining(false);
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const invite = preview.status === 'ok' ? preview.invite : null;
  const reason =
    invite && !invite.valid
      ? invite.reason === 'expired'
        ? 'This invite has expired.'
        : 'This invite has already been used.'
      : null;

  return (
    <AuthCard>
      {preview.status === 'loading' ? <p className="app-muted">Looking up your invite…</p> : null}
      {preview.status === 'missing' || preview.status === 'error' ? (
        <LinkNotFound title="Invite not found" message={preview.message} />
      ) : null}
      {invite ? (
        <>
          <div className="app-invite">
            <WorkspaceTile workspace={{ name: invite.workspace_name, logo: invite.workspace_logo ?? null }} large />
            <h1 className="app-auth__title" data-testid="invite-title">
              {invite.inviter_name ? `${invite.inviter_name} invited you to join` : 'You are invited to join'}{' '}
              <strong>{invite.workspace_name}</strong>
            </h1>
            {invite.valid ? (
              <p className="app-muted">Invite valid until {new Date(invite.expires_at).toLocaleDateString()}</p>
            ) : null}
          </div>
          {reason ? (
            <p className="app-form__error" role="alert">
              {reason} Ask for a new link.
            </p>
          ) : state.status === 'signed-in' ? (
            <>
              <button
                type="button"
                className="app-button app-button--primary app-button--block"
                onClick={() => void join()}
                disabled={joining}
              >
                {joining ? 'Joining…' : `Join ${invite.workspace_name}`}
              </button>
              <p className="app-muted app-center">Signed in as {state.account.email}</p>
            </>
          ) : state.status === 'signed-out' ? (
            <AuthForm
              mode={mode}
              onModeChange={setMode}
              onDone={() => void join()}
              submitLabel={mode === 'signup' ? 'Create account and join' : 'Sign in and join'}
            />
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
