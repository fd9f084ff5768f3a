/** The connected user as the store knows them (the users map has the freshest presence and status). */
import type { User } from '@parley/protocol';
import { useClientState } from '@parley/react';

export function useMeUser(): User | null {
  // A new object per snapshot, but shallow-equal (the default comparison) while nothing changed.
  return useClientState((s) => (s.user ? { ...s.user, ...(s.users[s.user.id] ?? {}) } : null));
}
