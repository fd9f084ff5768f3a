/** People of the workspace matching a prefix of their name or username, as you type (debounced). */
import type { User } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect, useState } from 'react';

export function useUserSearch(query: string, limit = 12): { users: User[]; loading: boolean; error: string | null } {
  const client = useChatClient();
  const [result, setResult] = useState<{ users: User[]; loading: boolean; error: string | null }>({
    users: [],
    loading: true,
    error: null,
  });
  useEffect(() => {
    let cancelled = false;
    setResult((r) => ({ ...r, loading: true }));
    const t = setTimeout(() => {
      client
        .queryUsers(query.trim(), limit)
        .then((users) => {
          if (!cancelled) setResult({ users, loading: false, error: null });
        })
        .catch((e: unknown) => {
          if (!cancelled) setResult({ users: [], loading: false, error: e instanceof Error ? e.message : String(e) });
        });
    }, 150);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [client, query, limit]);
  return result;
}
