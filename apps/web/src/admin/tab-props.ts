/** What every admin console tab is given (its own module, so tabs and the registry import no cycle). */
import type { Workspace } from '@parley/protocol';

export interface AdminTabProps {
  workspace: Workspace;
  /** The workspace was changed in a tab (its logo, its address): show the new one everywhere. */
  onWorkspaceChange?: ((workspace: Workspace) => void) | undefined;
}
