/** What every admin console tab is given (its own module, so tabs and the registry import no cycle). */
import type { Workspace } from '@parley/protocol';

export interface AdminTabProps {
  workspace: Workspace;
}
