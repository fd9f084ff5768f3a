/** A strip at the top while the connection is down (the client reconnects and resyncs by itself). */
import { useClientState } from '@parley/react';

export function ConnectionBanner() {
  const connection = useClientState((s) => s.connection);
  if (connection !== 'reconnecting' && connection !== 'offline') return null;
  return (
    <div className="app-banner" role="status">
      {connection === 'offline'
        ? 'You are offline. Messages you send will go out when the connection is back.'
        : 'Reconnecting… Messages you send will go out when the connection is back.'}
    </div>
  );
}
