/**
 * `useWatchPresence(ids)`: while a component shows these users, the client follows their
 * presence (protocol 2 sends `presence.changed` only about followed users; see
 * `ChatClient.watchPresence`). The follow ends when the component unmounts or the ids change.
 */
import { useEffect } from 'react';
import { useChatClient } from './context.js';

/** Follow the presence of the users a component shows (ids in any order; duplicates are fine). */
export function useWatchPresence(userIds: readonly string[]): void {
  const client = useChatClient();
  const key = [...new Set(userIds)].sort().join(' ');
  useEffect(() => {
    if (!key) return;
    return client.watchPresence(key.split(' '));
  }, [client, key]);
}
