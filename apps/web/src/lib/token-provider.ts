/**
 * The chat token of a workspace comes from the accounts API (`POST /v1/workspaces/{id}/session`,
 * cookie auth) and lives 12 hours. The client asks this provider for a token when it connects
 * and again whenever the server refuses the one it has (expired): the first call uses the
 * session fetched to learn the API key, every later one fetches a fresh session.
 */
import type { ChatClient } from '@parley/client';
import type { WorkspaceSession } from '@parley/protocol';
import { ApiError, accounts } from './api.js';
import { forgetWorkspace } from './offline.js';
import { navigate } from './router.js';

/** Refuse to hand out a token this close to its expiry: fetch a new one instead. */
const MARGIN_MS = 60_000;

/** Workspaces the user is leaving right now: whether the leave went through, once known. */
const leaving = new Map<string, Promise<boolean>>();

/**
 * Leave a workspace (remove your own membership), then disconnect and go to the workspace
 * list. The server closes this workspace's sockets (4001) as it removes the membership, which
 * can be before its answer arrives; a token request made then would fail with 404 — a failed
 * request in the console for a leave the user asked for. So token requests for the workspace
 * wait for the answer: after a refusal (the last owner, 409) they go on as before, after a
 * success they fail quietly and the client is disconnected. The error of a refusal is thrown.
 */
export async function leaveWorkspace(client: ChatClient, workspaceId: string, accountId: string): Promise<void> {
  const done = accounts.removeMember(workspaceId, accountId);
  const held = done.then(
    () => true,
    () => false,
  );
  leaving.set(workspaceId, held);
  try {
    await done;
    forgetWorkspace(workspaceId);
    await client.disconnectUser().catch(() => {});
  } finally {
    if (leaving.get(workspaceId) === held) leaving.delete(workspaceId);
  }
  navigate('/');
}

/**
 * `first`: the session fetched to learn the API key, whose token is used first; null when the
 * app started offline from what it kept (lib/offline.ts), so the first token is fetched too.
 */
export function workspaceTokenProvider(
  workspaceId: string,
  first: WorkspaceSession | null,
  onSignedOut?: () => void,
): () => Promise<string> {
  let unused: WorkspaceSession | null = first;
  return async () => {
    const held = leaving.get(workspaceId);
    if (held && (await held)) throw new ApiError('NOT_FOUND', 'You left this workspace', 404);
    const s = unused;
    unused = null;
    if (s && Date.parse(s.expires_at) - Date.now() > MARGIN_MS) return s.token;
    try {
      return (await accounts.session(workspaceId)).token;
    } catch (e) {
      // The account session itself is gone (signed out elsewhere, expired): back to sign-in.
      if (e instanceof ApiError && e.status === 401) onSignedOut?.();
      // No longer a member (removed, or left in another tab): back to the workspace list,
      // rather than retrying a token that will never come.
      if (e instanceof ApiError && e.status === 404) {
        forgetWorkspace(workspaceId);
        navigate('/');
      }
      // The workspace now requires two-factor sign-in, which this account lacks: open it
      // afresh, which shows how to set it up.
      if (e instanceof ApiError && (e.details as { reason?: unknown } | undefined)?.reason === 'two_factor_required')
        window.location.reload();
      throw e;
    }
  };
}
