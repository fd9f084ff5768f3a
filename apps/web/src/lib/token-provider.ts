/**
 * The chat token of a workspace comes from the accounts API (`POST /v1/workspaces/{id}/session`,
 * cookie auth) and lives 12 hours. The client asks this provider for a token when it connects
 * and again whenever the server refuses the one it has (expired): the first call uses the
 * session fetched to learn the API key, every later one fetches a fresh session.
 */
import type { WorkspaceSession } from '@parley/protocol';
import { ApiError, accounts } from './api.js';
import { navigate } from './router.js';

/** Refuse to hand out a token this close to its expiry: fetch a new one instead. */
const MARGIN_MS = 60_000;

export function workspaceTokenProvider(
  workspaceId: string,
  first: WorkspaceSession,
  onSignedOut?: () => void,
): () => Promise<string> {
  let unused: WorkspaceSession | null = first;
  return async () => {
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
      if (e instanceof ApiError && e.status === 404) navigate('/');
      throw e;
    }
  };
}
