/**
 * The admin console's tabs, in order. Adding a tab is one line here: an id (used in test ids),
 * a label, and a component that gets the workspace. Tabs render only while selected, so each
 * loads its own data when opened.
 */
import type { ComponentType } from 'react';
import { MembersPanel } from '../dialogs/members-dialog.js';
import { WebhooksPanel } from '../dialogs/webhooks-dialog.js';
import { BansAndBlockLists, ModerationQueue } from '../screens/moderation/moderation-screen.js';
import { AnalyticsTab } from './analytics-tab.js';
import { AssistantTab } from './assistant-tab.js';
import { AuditTab } from './audit-tab.js';
import { ChannelsTab } from './channels-tab.js';
import { CommandsTab } from './commands-tab.js';
import { EmojiTab } from './emoji-tab.js';
import { FlagsTab } from './flags-tab.js';
import { ProfileFieldsTab } from './profile-fields-tab.js';
import { SystemTab } from './system-tab.js';
import type { AdminTabProps } from './tab-props.js';
import { TransparencyTab } from './transparency-tab.js';
import { UploadsTab } from './uploads-tab.js';
import { WorkspaceTab } from './workspace-tab.js';

export type { AdminTabProps } from './tab-props.js';

export interface AdminTab {
  id: string;
  label: string;
  Component: ComponentType<AdminTabProps>;
}

export const ADMIN_TABS: readonly AdminTab[] = [
  { id: 'members', label: 'Members', Component: MembersPanel },
  { id: 'workspace', label: 'Workspace', Component: WorkspaceTab },
  { id: 'channels', label: 'Channels', Component: ChannelsTab },
  { id: 'moderation', label: 'Moderation queue', Component: ModerationQueue },
  { id: 'bans', label: 'Bans and block lists', Component: BansAndBlockLists },
  { id: 'transparency', label: 'Transparency report', Component: TransparencyTab },
  { id: 'profile-fields', label: 'Profile fields', Component: ProfileFieldsTab },
  { id: 'uploads', label: 'Uploads', Component: UploadsTab },
  { id: 'emoji', label: 'Emoji', Component: EmojiTab },
  { id: 'webhooks', label: 'Webhooks', Component: WebhooksPanel },
  { id: 'commands', label: 'Commands', Component: CommandsTab },
  { id: 'flags', label: 'Feature flags', Component: FlagsTab },
  { id: 'assistant', label: 'Assistant', Component: AssistantTab },
  { id: 'audit', label: 'Audit log', Component: AuditTab },
  { id: 'analytics', label: 'Analytics', Component: AnalyticsTab },
  { id: 'system', label: 'System', Component: SystemTab },
];
