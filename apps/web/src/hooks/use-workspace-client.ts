/**
 * Connect a ChatClient to one workspace: fetch the workspace and a chat session (API key,
 * user id, token) through the accounts API, connect with a token *provider* (so an expired
 * token is replaced without signing in again), prepare the workspace, and disconnect when
 * the workspace is left.
 */
import {
  ChatClient,
  IndexedDBStorage,
  MemoryStorage,
  retrying,
  type StorageAdapter,
  type Transport,
} from '@parley/client';
import type { Workspace, WorkspaceSession } from '@parley/protocol';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, accounts } from '../lib/api.js';
import { type KeptWorkspace, keepWorkspace, keptWorkspace, unreachable } from '../lib/offline.js';
import { aliasWorkspace, isWorkspaceId } from '../lib/router.js';
import { workspaceTokenProvider } from '../lib/token-provider.js';
import { setUpWorkspace } from '../lib/workspace-setup.js';

/** Resolves once `client.connectUser` has loaded what storage holds (the client is then connecting). */
function restored(client: ChatClient): Promise<void> {
  return new Promise((resolve) => {
    const off = client.state.subscribe((s) => {
      if (s.connection === 'idle') return;
      off();
      resolve();
    });
    if (client.state.get().connection !== 'idle') {
      off();
      resolve();
    }
  });
}

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

const TRANSPORT_KEY = 'parley.transport';
const isTransport = (v: string | null | undefined): v is Transport => v === 'auto' || v === 'websocket' || v === 'sse';

/**
 * `?transport=sse` (or `websocket`, `auto`) on any page of the app is remembered as the
 * `parley.transport` setting (localStorage), so it holds past sign-in and navigation; called
 * once at start (main.tsx).
 */
export function rememberTransportChoice(): void {
  const fromUrl = new URLSearchParams(window.location.search).get('transport');
  try {
    if (isTransport(fromUrl)) window.localStorage.setItem(TRANSPORT_KEY, fromUrl);
  } catch {
    // storage refused (private mode): the choice holds for this page only (chosenTransport)
  }
}

/**
 * The transport to use: `?transport=` in this page's URL, else the `parley.transport` setting,
 * else `auto` (a WebSocket, falling back to the event stream by itself where a proxy refuses
 * upgrades).
 */
export function chosenTransport(): Transport {
  const fromUrl = new URLSearchParams(window.location.search).get('transport');
  if (isTransport(fromUrl)) return fromUrl;
  try {
    const saved = window.localStorage.getItem(TRANSPORT_KEY);
    if (isTransport(saved)) return saved;
  } catch {
    // storage refused: the default
  }
  return 'auto';
}

export function useWorkspaceClient(
  workspaceId: string,
  onSignedOut: () => void,
): { conn: WorkspaceConnection; update(workspace: Workspace): void } {
  const [conn, setConn] = useState<WorkspaceConnection>({ phase: 'connecting', workspace: null });

  useEffect(() => {
    let cancelled = false;
    let client: ChatClient | null = null;
    setConn({ phase: 'connecting', workspace: null });
    // Stops the tries below when the workspace is left.
    const left = new AbortController();
    const run = async () => {
      // `/w/<slug>` or `/w/<id>`: a slug is looked up first (members only: 404 otherwise).
      const open = async () => {
        const found = isWorkspaceId(workspaceId) ? null : await accounts.workspaceBySlug(workspaceId);
        const id = found?.id ?? workspaceId;
        return Promise.all([found ?? accounts.workspace(id), accounts.session(id)]);
      };
      let workspace: Workspace;
      let session: WorkspaceSession;
      try {
        // Not reached (a network coming up, a proxy's 503 while the server restarts) and nothing
        // kept here to open on: asked again after 1, 2, 4… 30 s, "Connecting…" meanwhile.
        [workspace, session] = await retrying(open, {
          retryable: (e) => unreachable(e) && !keptWorkspace(workspaceId),
          signal: left.signal,
        });
      } catch (e) {
        if (cancelled) return;
        const kept = unreachable(e) ? keptWorkspace(workspaceId) : null;
        if (!kept) throw e;
        await startOffline(kept);
        return;
      }
      if (cancelled) return;
      keepWorkspace({ workspace, api_key: session.api_key, user_id: session.user_id });
      aliasWorkspace(workspaceId, [workspace.id, workspace.slug]);
      setConn({ phase: 'connecting', workspace });
      const c = newClient(session.api_key);
      client = c;
      await c.connectUser({ id: session.user_id }, workspaceTokenProvider(workspace.id, session, onSignedOut));
      if (cancelled) return;
      // The channel list's first read lost on the network is read again likewise: the
      // workspace would otherwise open on its error page although the socket is up.
      await retrying(() => setUpWorkspace(c, workspace.role), { signal: left.signal });
      follow(c);
      if (!cancelled) setConn({ phase: 'ready', client: c, workspace });
    };

    /**
     * No server (an installed app opened offline): the client starts from what it stored for
     * this user — channels, recent messages, unsent messages — and keeps trying to connect; the
     * workspace shows at once, as it was. Sends queue in the client's outbox and go out, in
     * order, once it connects; then the workspace is set up as on a normal start.
     */
    const startOffline = async (kept: KeptWorkspace) => {
      const { workspace } = kept;
      aliasWorkspace(workspaceId, [workspace.id, workspace.slug]);
      const c = newClient(kept.api_key);
      client = c;
      const connected = c.connectUser({ id: kept.user_id }, workspaceTokenProvider(workspace.id, null, onSignedOut));
      connected.then(
        () => {
          if (cancelled) return;
          setUpWorkspace(c, workspace.role).catch((e: unknown) => console.warn('Could not set up the workspace', e));
          // The workspace as the server has it now (a new name or logo while away).
          accounts.workspace(workspace.id).then(
            (w) => {
              if (cancelled) return;
              keepWorkspace({ ...kept, workspace: w });
              setConn((cur) => (cur.phase === 'ready' && cur.client === c ? { ...cur, workspace: w } : cur));
            },
            () => {},
          );
        },
        (e: unknown) => {
          if (cancelled) return;
          setConn({ phase: 'error', error: e instanceof Error ? e : new Error(String(e)) });
        },
      );
      // Shown as soon as the stored state is loaded (the client is then connecting), not when
      // the server answers (which may be much later).
      await Promise.race([connected, restored(c)]);
      if (cancelled) return;
      follow(c);
      setConn({ phase: 'ready', client: c, workspace });
    };

    const newClient = (apiKey: string) =>
      new ChatClient({ url: window.location.origin, apiKey, storage: storage(), transport: chosenTransport() });

    // Another admin's new logo, name or address: shown here at once, without a reload.
    const follow = (c: ChatClient) =>
      c.on('workspace.updated', (e) => {
        aliasWorkspace(workspaceId, [e.workspace_id, e.slug]);
        setConn((cur) =>
          cur.phase === 'ready' && cur.workspace.id === e.workspace_id
            ? { ...cur, workspace: { ...cur.workspace, name: e.name, slug: e.slug, logo: e.logo } }
            : cur,
        );
      });
    run().catch((e: unknown) => {
      if (cancelled) return;
      if (e instanceof ApiError && e.status === 401) onSignedOut();
      setConn({ phase: 'error', error: e instanceof Error ? e : new Error(String(e)) });
    });
    return () => {
      cancelled = true;
      left.abort();
      void client?.disconnectUser();
    };
  }, [workspaceId, onSignedOut]);

  /** The workspace changed (a new name, slug or logo saved here): shown at once. */
  const update = useCallback(
    (workspace: Workspace) => {
      aliasWorkspace(workspaceId, [workspace.id, workspace.slug]);
      setConn((c) => (c.phase === 'ready' && c.workspace.id === workspace.id ? { ...c, workspace } : c));
    },
    [workspaceId],
  );
  return { conn, update };
}
