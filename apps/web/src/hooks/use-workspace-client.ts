/**
 * Connect a ChatClient to one workspace: fetch the workspace and a chat session (API key,
 * user id, token) through the accounts API, connect with a token *provider* (so an expired
 * token is replaced without signing in again), prepare the workspace, and disconnect when
 * the workspace is left.
 */
import { ChatClient, IndexedDBStorage, MemoryStorage, type StorageAdapter } from '@parley/client';
import type { Workspace } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { ApiError, accounts } from '../lib/api.js';
import { workspaceTokenProvider } from '../lib/token-provider.js';
import { setUpWorkspace } from '../lib/workspace-setup.js';

export type WorkspaceConnection =
  | { phase: 'connecting'; workspace: Workspace | null }
  | { phase: 'ready'; client: ChatClient; workspace: Workspace }
  | { phase: 'error'; error: Error };

function storage(): StorageAdapter {
  try {
    return new IndexedDBStorage('parley');
  } catch {
    return new MemoryStorage();
  }
}

export function useWorkspaceClient(workspaceId: string, onSignedOut: () => void): WorkspaceConnection {
  const [conn, setConn] = useState<WorkspaceConnection>({ phase: 'connecting', workspace: null });

  useEffect(() => {
    let cancelled = false;
    let client: ChatClient | null = null;
    setConn({ phase: 'connecting', workspace: null });
    const run = async () => {
      const [workspace, session] = await Promise.all([accounts.workspace(workspaceId), accounts.session(workspaceId)]);
      if (cancelled) return;
      setConn({ phase: 'connecting', workspace });
      client = new ChatClient({ url: window.location.origin, apiKey: session.api_key, storage: storage() });
      await client.connectUser({ id: session.user_id }, workspaceTokenProvider(workspaceId, session, onSignedOut));
      if (cancelled) return;
      await setUpWorkspace(client, workspace.role);
      if (!cancelled) setConn({ phase: 'ready', client, workspace });
    };
    run().catch((e: unknown) => {
      if (cancelled) return;
      if (e instanceof ApiError && e.status === 401) onSignedOut();
      setConn({ phase: 'error', error: e instanceof Error ? e : new Error(String(e)) });
    });
    return () => {
      cancelled = true;
      void client?.disconnectUser();
    };
  }, [workspaceId, onSignedOut]);

  return conn;
}
