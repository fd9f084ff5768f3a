/**
 * A strip at the top while the connection is down (the client reconnects and resyncs by
 * itself), or for good once the user is banned from the workspace (`user.banned`, then the
 * server closes the socket with 4503 and the client does not reconnect). An app opened with no
 * network shows what it stored until the first connection ('connecting' all along): the strip
 * says so.
 */
import { useChatClient, useClientState, useMe } from '@parley/react';
import { useEffect, useState, useSyncExternalStore } from 'react';

function onNetworkChange(change: () => void): () => void {
  window.addEventListener('online', change);
  window.addEventListener('offline', change);
  return () => {
    window.removeEventListener('online', change);
    window.removeEventListener('offline', change);
  };
}

export function ConnectionBanner() {
  const client = useChatClient();
  const me = useMe();
  const connection = useClientState((s) => s.connection);
  const [banned, setBanned] = useState<{ reason: string | null } | null>(null);
  const online = useSyncExternalStore(
    onNetworkChange,
    () => navigator.onLine,
    () => true,
  );
  useEffect(
    () =>
      client.on('user.banned', (e) => {
        if (e.user_id === me && !e.ban.cid) setBanned({ reason: e.ban.reason });
      }),
    [client, me],
  );
  if (banned)
    return (
      <div className="app-banner" role="alert" data-testid="banned-banner">
        You were banned from this workspace{banned.reason ? `: ${banned.reason}` : ''}.
      </div>
    );
  if (connection === 'online' || connection === 'idle') return null;
  return (
    <div className="app-banner" role="status" data-testid="connection-banner">
      {connection === 'offline' || !online
        ? 'You are offline. Messages you send will go out when the connection is back.'
        : connection === 'connecting'
          ? 'Cannot reach Parley yet: showing what this device has. Messages you send will go out once connected.'
          : 'Reconnecting… Messages you send will go out when the connection is back.'}
    </div>
  );
}
