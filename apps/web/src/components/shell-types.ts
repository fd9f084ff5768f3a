/** Names shared by the shell's parts. */

/** The dialogs the shell can open. */
export type DialogName =
  | 'new-channel'
  | 'new-message'
  | 'new-group'
  | 'browse'
  | 'invite'
  | 'members'
  | 'leave'
  | 'settings'
  | 'status'
  | 'profile'
  | 'switcher'
  | 'search'
  | 'moderation'
  | 'admin'
  | 'calls'
  | 'notifications'
  | 'later'
  | 'webhooks'
  | 'emoji'
  | 'saved';

/** What the right-hand panel of a conversation shows. */
export type PanelName =
  | { kind: 'members' }
  | { kind: 'pinned' }
  | { kind: 'files' }
  | { kind: 'notes'; noteId?: string }
  | { kind: 'profile'; userId: string };
