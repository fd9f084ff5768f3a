/**
 * Feature flags in the kit: `useFlag(key)` reads the user's flags once per client
 * (`client.getFlags()`) and re-renders when one changes live (`feature_flags.updated`).
 */
import { useEffect, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';

/** Whether the connected user has the feature flag: false until the flags are read, and for an unknown key. */
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
