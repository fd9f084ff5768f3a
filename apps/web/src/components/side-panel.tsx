/** The right-hand panel of a conversation: members, pinned messages, its files, its notes or a profile. */
import type { Channel as ChannelHandle } from '@parley/client';
import { ChannelFiles, NotesPanel, useChannelState } from '@parley/react';
import type { ConversationInfo } from '../hooks/use-conversation.js';
import { usePhoneLayout } from '../lib/layout.js';
import { BackIcon, CloseIcon } from './icons.js';
import { MembersPanel } from './members-panel.js';
import { PinnedPanel } from './pinned-panel.js';
import { ProfilePanel } from './profile-panel.js';
import type { PanelName } from './shell-types.js';

export interface SidePanelProps {
  panel: PanelName;
  channel: ChannelHandle;
  info: ConversationInfo;
  onPanel(panel: PanelName | null): void;
  onOpenConversation(cid: string): void;
  onEditProfile?(): void;
}

export function SidePanel({ panel, channel, info, onPanel, onOpenConversation, onEditProfile }: SidePanelProps) {
  const phone = usePhoneLayout();
  const canEditNotes = useChannelState(channel)?.channel.own_capabilities?.includes('edit-channel-notes') ?? false;
  const title =
    panel.kind === 'members'
      ? `Members · ${info.memberCount}`
      : panel.kind === 'pinned'
        ? 'Pinned messages'
        : panel.kind === 'files'
          ? 'Files'
          : panel.kind === 'notes'
            ? 'Notes'
            : 'Profile';
  return (
    <aside className="app-panel" aria-label={panel.kind === 'members' ? 'Members' : title}>
      <header className="app-panel__header">
        {phone ? (
          // A pane of its own on a phone: back to the one it was opened from.
          <button
            type="button"
            className="app-icon-button app-back-button"
            aria-label="Back"
            onClick={() => onPanel(null)}
          >
            <BackIcon />
          </button>
        ) : null}
        <h2 className="app-panel__title">{title}</h2>
        {phone ? null : (
          <button type="button" className="app-icon-button" aria-label="Close panel" onClick={() => onPanel(null)}>
            <CloseIcon />
          </button>
        )}
      </header>
      <div className="app-panel__body">
        {panel.kind === 'members' ? (
          <MembersPanel channel={channel} info={info} onSelectUser={(userId) => onPanel({ kind: 'profile', userId })} />
        ) : panel.kind === 'pinned' ? (
          <PinnedPanel channel={channel} lastSeq={info.state?.lastSeq ?? 0} />
        ) : panel.kind === 'files' ? (
          <ChannelFiles cid={channel.cid} />
        ) : panel.kind === 'notes' ? (
          <NotesPanel
            cid={channel.cid}
            canEdit={canEditNotes}
            {...(panel.noteId ? { openNoteId: panel.noteId } : {})}
          />
        ) : (
          <ProfilePanel
            userId={panel.userId}
            onOpenConversation={onOpenConversation}
            {...(onEditProfile ? { onEditProfile } : {})}
          />
        )}
      </div>
    </aside>
  );
}
