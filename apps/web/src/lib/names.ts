/** Turning display names into channel ids and usernames, and roles into words. */
import type { WorkspaceRole } from '@parley/protocol';

/** A workspace role as people read it. */
export const roleLabel = (role: WorkspaceRole) =>
  role === 'owner' ? 'Owner' : role === 'admin' ? 'Admin' : role === 'guest' ? 'Guest' : 'Member';

/** A channel id from a channel name: lower case, words joined by dashes (`Design Team` → `design-team`). */
export function channelSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 64);
}

/** A username from a person's name (`Ada Lovelace` → `ada.lovelace`), or `user` when nothing is left. */
export function usernameFrom(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '.')
    .replace(/[^a-z0-9_.-]/g, '')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 40);
  return base || 'user';
}
