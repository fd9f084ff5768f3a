/**
 * Feature flags in the kit: `useFlag(key)` answers from the user's flags as the connection's
 * hello said them (a server without them in its hello: read once per client with
 * `client.getFlags()`) and re-renders when one changes live (`feature_flags.updated`, with the
 * user's value).
 */
import { useEffect, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';

/** Whether the connected user has the feature flag: false until the flags are known (the hello), and for an unknown key. */
export function useFlag(key: string): boolean {
  const client = useChatClient();
  const on = useSyncExternalStore(
    (cb) => client.flags.state.subscribe(cb),
    () => client.flag(key),
    () => client.flag(key),
  );
  useEffect(() => {
    client.getFlags().catch(() => {
      // not read (offline, or a server without flags): every flag stays off
    });
  }, [client]);
  return on;
}
