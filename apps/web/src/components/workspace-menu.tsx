/** The top of the sidebar: the workspace's name (a menu of workspace actions) and "new message". */
import type { Workspace } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { leave, useAccount } from '../hooks/account.js';
import { roleLabel } from '../lib/names.js';
import { navigate } from '../lib/router.js';
import { ChevronDownIcon, ComposeIcon } from './icons.js';
import { Menu } from './menu.js';
import type { DialogName } from './shell-types.js';
import { WorkspaceTile } from './workspace-tile.js';

export function WorkspaceMenu({ workspace, onDialog }: { workspace: Workspace; onDialog(d: DialogName): void }) {
  const { signOut } = useAccount();
  const client = useChatClient();
  return (
    <header className="app-sidebar__header">
      <Menu
        className="app-sidebar__workspace"
        triggerClassName="app-sidebar__workspace-button"
        trigger={
          <>
            {workspace.logo ? <WorkspaceTile workspace={workspace} /> : null}
            <span className="app-sidebar__workspace-name" data-testid="workspace-name">
              {workspace.name}
            </span>
            <ChevronDownIcon />
          </>
        }
        header={
          <div className="app-menu__workspace">
            <WorkspaceTile workspace={workspace} />
            <div>
              <strong>{workspace.name}</strong>
              <div className="app-muted">{roleLabel(workspace.role)}</div>
            </div>
          </div>
        }
        items={[
          // Guests see their channels only: no directory, no browser, no new channels.
          ...(workspace.role === 'guest'
            ? []
            : ([
                { label: `Invite people to ${workspace.name}`, onSelect: () => onDialog('invite') },
                {
                  label: workspace.role === 'member' ? 'Members' : 'Manage members',
                  onSelect: () => onDialog('members'),
                },
                ...(workspace.role === 'owner' || workspace.role === 'admin'
                  ? [{ label: 'Admin console', onSelect: () => onDialog('admin') }]
                  : []),
                { label: 'Custom emoji', onSelect: () => onDialog('emoji') },
                { label: 'Browse channels', onSelect: () => onDialog('browse') },
                { label: 'Create a channel', onSelect: () => onDialog('new-channel') },
                { label: 'New group chat', onSelect: () => onDialog('new-group') },
              ] as const)),
          // Owners and admins are the app's admins: they moderate (reports, bans, block lists) and
          // manage the app's webhooks.
          ...(workspace.role === 'owner' || workspace.role === 'admin'
            ? ([
                { label: 'Moderation', onSelect: () => onDialog('moderation') },
                { label: 'Webhooks', onSelect: () => onDialog('webhooks') },
              ] as const)
            : []),
          'separator',
          { label: 'Reminders and scheduled messages', onSelect: () => onDialog('later') },
          { label: 'Preferences', onSelect: () => onDialog('settings') },
          { label: 'Switch workspace', onSelect: () => navigate('/') },
          { label: `Leave ${workspace.name}`, onSelect: () => onDialog('leave'), danger: true },
          { label: 'Sign out', onSelect: () => void leave(client, signOut), danger: true },
        ]}
      />
      <button
        type="button"
        className="app-sidebar__compose"
        aria-label="New message"
        title="New message"
        onClick={() => onDialog('new-message')}
      >
        <ComposeIcon />
      </button>
    </header>
  );
}
