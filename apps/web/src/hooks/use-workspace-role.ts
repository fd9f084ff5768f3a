/**
 * The signed-in account's role in the open workspace (the shell provides it), for what a
 * component offers by rank: an admin may correct a member's or a guest's name, not an owner's
 * or another admin's. Null outside a workspace's shell.
 */
import type { WorkspaceRole } from '@parley/protocol';
import { createContext, useContext } from 'react';

export const WorkspaceRoleContext = createContext<WorkspaceRole | null>(null);

export function useWorkspaceRole(): WorkspaceRole | null {
  return useContext(WorkspaceRoleContext);
}
