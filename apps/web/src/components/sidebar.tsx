/**
 * The sidebar: workspace menu, shortcuts, the conversation list (from the kit, in the user's own
 * sections: Starred and theirs, kept on the server), and you.
 */
import type { Workspace } from '@parley/protocol';
import { ChannelList, InboxBadge } from '@parley/react';
import {
  ActivityIcon,
  BookmarkIcon,
  ComposeIcon,
  HashIcon,
  NoteIcon,
  OfficeIcon,
  PeopleIcon,
  PhoneIcon,
  PlusIcon,
  SearchIcon,
  UserPlusIcon,
} from './icons.js';
import { MeBar } from './me-bar.js';
import type { DialogName } from './shell-types.js';
import { WorkspaceMenu } from './workspace-menu.js';

export interface SidebarProps {
  workspace: Workspace;
  activeCid: string | null;
  onSelect(cid: string): void;
  /** Open the office (spaces and who is where). */
  onOffice(): void;
  officeOpen?: boolean;
  /** Open the People page (everyone in the workspace). */
  onPeople(): void;
  peopleOpen?: boolean;
  /** Open the Activity page (the inbox). */
  onActivity(): void;
  activityOpen?: boolean;
  /** The Notes page is open. */
  notesOpen?: boolean;
  onNotes?(): void;
  onDialog(d: DialogName): void;
}

export function Sidebar({
  workspace,
  activeCid,
  onSelect,
  onDialog,
  onOffice,
  officeOpen,
  onPeople,
  peopleOpen,
  onActivity,
  activityOpen,
  notesOpen,
  onNotes,
}: SidebarProps) {
  return (
    <aside className="app-sidebar" aria-label="Workspace sidebar">
      <WorkspaceMenu workspace={workspace} onDialog={onDialog} />
      <div className="app-sidebar__scroll">
        <nav className="app-sidebar__nav" aria-label="Shortcuts">
          <button
            type="button"
            className={`app-sidebar__item${activityOpen ? ' app-sidebar__item--active' : ''}`}
            onClick={onActivity}
            data-testid="activity-button"
          >
            <ActivityIcon />
            <span>Activity</span>
            <InboxBadge className="app-sidebar__badge" />
          </button>
          <button type="button" className="app-sidebar__item" onClick={() => onDialog('search')}>
            <SearchIcon />
            <span>Search messages</span>
          </button>
          <button type="button" className="app-sidebar__item" onClick={() => onDialog('browse')}>
            <HashIcon />
            <span>Browse channels</span>
          </button>
          <button type="button" className="app-sidebar__item" onClick={() => onDialog('new-channel')}>
            <PlusIcon />
            <span>Add a channel</span>
          </button>
          <button type="button" className="app-sidebar__item" onClick={() => onDialog('new-message')}>
            <ComposeIcon />
            <span>New message</span>
          </button>
          <button
            type="button"
            className="app-sidebar__item"
            onClick={() => onDialog('new-group')}
            data-testid="new-group-button"
          >
            <PeopleIcon />
            <span>New group chat</span>
          </button>
          <button
            type="button"
            className="app-sidebar__item"
            onClick={() => onDialog('saved')}
            data-testid="saved-button"
          >
            <BookmarkIcon />
            <span>Saved</span>
          </button>
          <button
            type="button"
            className="app-sidebar__item"
            onClick={() => onDialog('calls')}
            data-testid="calls-history-button"
          >
            <PhoneIcon />
            <span>Calls</span>
          </button>
          <button
            type="button"
            className={`app-sidebar__item${officeOpen ? ' app-sidebar__item--active' : ''}`}
            onClick={onOffice}
            data-testid="office-button"
          >
            <OfficeIcon />
            <span>Office</span>
          </button>
          <button
            type="button"
            className={`app-sidebar__item${peopleOpen ? ' app-sidebar__item--active' : ''}`}
            onClick={onPeople}
            data-testid="people-button"
          >
            <PeopleIcon />
            <span>People</span>
          </button>
          {onNotes ? (
            <button
              type="button"
              className={`app-sidebar__item${notesOpen ? ' app-sidebar__item--active' : ''}`}
              onClick={onNotes}
              data-testid="notes-button"
            >
              <NoteIcon />
              <span>Notes</span>
            </button>
          ) : null}
        </nav>
        <ChannelList
          activeCid={officeOpen || peopleOpen || activityOpen || notesOpen ? null : activeCid}
          onSelect={onSelect}
          sections
          className="app-sidebar__list"
          emptyState={<p className="app-sidebar__empty">No conversations yet. Browse channels to join one.</p>}
        />
        <button
          type="button"
          className="app-sidebar__item app-sidebar__item--invite"
          onClick={() => onDialog('invite')}
        >
          <UserPlusIcon />
          <span>Invite people</span>
        </button>
      </div>
      <MeBar onDialog={onDialog} />
    </aside>
  );
}
