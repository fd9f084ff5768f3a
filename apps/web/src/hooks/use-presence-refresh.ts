/**
 * Presence reaches a client live only from people it shares a channel with, and only from the
 * moment it does: a teammate who connected before joining your channels would show offline
 * until they next change. So whenever someone new appears in your conversations, fetch
 * everyone's current presence once (debounced). Covers the first 200 people of a workspace;
 * the API has no "presence of these ids" call yet.
 */
import { useChatClient, useClientState } from '@parley/react';
import { useEffect } from 'react';

export function usePresenceRefresh(): void {
  const client = useChatClient();
  const people = useClientState((s) => {
    const ids = new Set<string>();
    for (const cid of s.channelList) for (const id of Object.keys(s.channels[cid]?.members ?? {})) ids.add(id);
    return [...ids].sort().join(',');
  });
  useEffect(() => {
    if (!people) return;
    const t = setTimeout(() => {
      client.queryUsers('', 200).catch(() => {
        // presence stays as the store knows it; live changes still arrive
      });
    }, 300);
    return () => clearTimeout(t);
  }, [client, people]);
}
