/**
 * The conversation's header: its name (with # or a lock, or a presence dot for a DM), topic
 * (editable by members), who else is viewing it now, and buttons for the pinned list, the channel's
 * notes and the members panel.
 */
import type { Channel as ChannelHandle } from '@parley/client';
import {
  Avatar,
  CallButtons,
  ChannelViewers,
  PresenceDot,
  useChannelState,
  useChatClient,
  useSidebar,
  useUser,
  useWatchPresence,
} from '@parley/react';
import { type FormEvent, type ReactNode, useState } from 'react';
import type { ConversationInfo } from '../hooks/use-conversation.js';
import { COMPACT_QUERY, useMediaQuery } from '../lib/layout.js';
import { ChannelModeration } from '../screens/moderation/channel-moderation.js';
import { EditIcon, FilesIcon, HashIcon, LockIcon, PinIcon } from './icons.js';
import { Menu } from './menu.js';
import { NavButton } from './nav-button.js';
import type { PanelName } from './shell-types.js';

function TitleIcon({ info }: { info: ConversationInfo }) {
  const peer = useUser(info.peerId);
  useWatchPresence(info.kind === 'dm' && info.peerId ? [info.peerId] : []);
  if (info.kind === 'dm')
    return info.peerId ? (
      <PresenceDot presence={peer?.presence ?? 'offline'} className="app-channel-header__presence" />
    ) : null;
  // A group's photo (its `image`, set when it was made in the new-group dialog) stands in for the icon.
  const photo = info.state?.channel.image;
  if (photo) return <img className="app-channel-header__photo" src={photo} alt="" data-testid="channel-photo" />;
  return <span className="app-channel-header__icon">{info.kind === 'private' ? <LockIcon /> : <HashIcon />}</span>;
}

function MemberAvatars({ ids }: { ids: string[] }) {
  return (
    <span className="app-avatar-stack" aria-hidden="true">
      {ids.slice(0, 3).map((id) => (
        <StackAvatar key={id} id={id} />
      ))}
    </span>
  );
}
function StackAvatar({ id }: { id: string }) {
  const user = useUser(id);
  return <Avatar user={user} id={id} size={22} />;
}

function Topic({ channel, info }: { channel: ChannelHandle; info: ConversationInfo }) {
  const topic = info.state?.channel.topic ?? '';
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canEdit = info.isMember && info.kind !== 'dm';

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (editing === null) return;
    try {
      await channel.update({ topic: editing.trim() || null });
      setEditing(null);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  if (editing !== null)
    return (
      <form className="app-topic-form" onSubmit={save}>
        <input
          className="app-input app-input--small"
          aria-label="Channel topic"
          value={editing}
          maxLength={500}
          // biome-ignore lint/a11y/noAutofocus: the field appears because the user asked to edit
          autoFocus
          onChange={(e) => setEditing(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setEditing(null);
          }}
          onBlur={() => setEditing(null)}
        />
        {error ? <span className="app-form__error">{error}</span> : null}
      </form>
    );
  if (!topic && !canEdit) return null;
  return canEdit ? (
    <button
      type="button"
      className="app-channel-header__topic app-channel-header__topic--editable"
      onClick={() => setEditing(topic)}
      title="Edit topic"
    >
      <span data-testid="channel-topic">{topic || 'Add a topic'}</span>
      <EditIcon />
    </button>
  ) : (
    <span className="app-channel-header__topic" data-testid="channel-topic">
      {topic}
    </span>
  );
}

export interface ChannelHeaderProps {
  channel: ChannelHandle;
  info: ConversationInfo;
  panel: PanelName | null;
  onPanel(panel: PanelName | null): void;
  onLeft(): void;
  /** Opens the sidebar on narrow screens. */
  onOpenNav(): void;
  /** More buttons, first among the actions (the assistant's "Catch up"). */
  actions?: ReactNode;
  /** The one-row form (name, calls, "⋯") whatever the screen's width. */
  compact?: boolean;
}

export function ChannelHeader({
  channel,
  info,
  panel,
  onPanel,
  onLeft,
  onOpenNav,
  actions,
  compact: narrow = false,
}: ChannelHeaderProps) {
  const toggle = (kind: 'members' | 'pinned' | 'files' | 'notes') => onPanel(panel?.kind === kind ? null : { kind });
  const [error, setError] = useState<string | null>(null);
  const [moderating, setModerating] = useState(false);
  const canModerate = useChannelState(channel)?.channel.own_capabilities?.includes('freeze-channel') ?? false;
  const leave = () => {
    setError(null);
    channel
      .leave()
      .then(onLeft)
      .catch((e: unknown) => setError(`Could not leave: ${e instanceof Error ? e.message : String(e)}`));
  };
  const muted = !!info.state?.channel.membership?.muted;
  const client = useChatClient();
  const { sidebar } = useSidebar();
  const cid = info.state?.cid ?? null;
  const starred = !!cid && !!sidebar?.sections.some((s) => s.kind === 'starred' && s.cids.includes(cid));
  const act = (what: string, p: Promise<unknown>) => {
    setError(null);
    p.catch((e: unknown) => setError(`Could not ${what}: ${e instanceof Error ? e.message : String(e)}`));
  };
  const notifyItems = [
    {
      label: muted ? 'Unmute' : 'Mute',
      hint: muted ? undefined : 'No notifications, left out of unread counts',
      onSelect: () => act('mute', channel.setMuted(!muted)),
    },
    {
      label: 'Notify: every message',
      onSelect: () => act('change notifications', channel.setNotificationLevel('all')),
    },
    {
      label: 'Notify: mentions only',
      onSelect: () => act('change notifications', channel.setNotificationLevel('mentions')),
    },
    { label: 'Notify: nothing', onSelect: () => act('change notifications', channel.setNotificationLevel('none')) },
    {
      label: 'Notify: my default',
      onSelect: () => act('change notifications', channel.setNotificationLevel('default')),
    },
  ];
  const compact = useMediaQuery(COMPACT_QUERY) || narrow;
  if (compact) {
    // One row on a phone or a narrow tablet: back (or the sidebar), the name, the call buttons,
    // and everything else in "⋯" (the desktop's eight buttons would leave the name no room).
    const panels = [
      { label: `Members (${info.memberCount})`, onSelect: () => onPanel({ kind: 'members' }) },
      { label: 'Pinned messages', onSelect: () => onPanel({ kind: 'pinned' }) },
      ...(info.isMember ? [{ label: 'Files', onSelect: () => onPanel({ kind: 'files' }) }] : []),
      { label: 'Notes', onSelect: () => onPanel({ kind: 'notes' }) },
      ...(info.isMember && cid
        ? [
            {
              label: starred ? 'Unstar' : 'Star',
              onSelect: () => act(starred ? 'unstar' : 'star', client.sidebar.star(cid, !starred)),
            },
          ]
        : []),
    ];
    const more = info.isMember
      ? info.kind !== 'dm'
        ? [
            ...(canModerate ? [{ label: 'Moderation settings', onSelect: () => setModerating(true) }] : []),
            'separator' as const,
            ...notifyItems,
            'separator' as const,
            {
              label: info.kind === 'private' ? `Leave ${info.name}` : `Leave #${info.name}`,
              onSelect: leave,
              danger: true,
            },
          ]
        : ['separator' as const, ...notifyItems]
      : [];
    return (
      <>
        <header className="app-channel-header">
          <NavButton onClick={onOpenNav} />
          <div className="app-channel-header__main">
            <h1 className="app-channel-header__name" data-testid="channel-name" title={info.name}>
              <TitleIcon info={info} />
              <span>{info.name}</span>
            </h1>
          </div>
          <div className="app-channel-header__actions">
            {actions}
            <ChannelViewers channel={channel.id ? channel.cid : null} max={2} size={20} />
            {info.isMember ? (
              <CallButtons cid={channel.cid} onError={(e) => setError(`Could not call: ${e.message}`)} />
            ) : null}
            <Menu
              label={info.kind === 'dm' ? 'Conversation options' : 'Channel options'}
              triggerClassName="app-icon-button"
              trigger={<span aria-hidden="true">⋯</span>}
              items={[...panels, ...more]}
            />
          </div>
          {moderating ? <ChannelModeration channel={channel} onClose={() => setModerating(false)} /> : null}
        </header>
        {error ? (
          <p className="app-form__error app-channel-header__error" role="alert">
            {error}
          </p>
        ) : null}
      </>
    );
  }
  return (
    <header className="app-channel-header">
      <NavButton onClick={onOpenNav} />
      <div className="app-channel-header__main">
        <h1 className="app-channel-header__name" data-testid="channel-name" title={info.name}>
          <TitleIcon info={info} />
          <span>{info.name}</span>
        </h1>
        <Topic channel={channel} info={info} />
      </div>
      <div className="app-channel-header__actions">
        {error ? (
          <span className="app-form__error" role="alert">
            {error}
          </span>
        ) : null}
        {actions}
        <ChannelViewers channel={channel.id ? channel.cid : null} />
        {info.isMember ? (
          <CallButtons cid={channel.cid} onError={(e) => setError(`Could not call: ${e.message}`)} />
        ) : null}
        <button
          type="button"
          className="app-header-button"
          aria-label={`Members: ${info.memberCount}`}
          aria-pressed={panel?.kind === 'members'}
          onClick={() => toggle('members')}
          data-testid="members-button"
        >
          <MemberAvatars ids={info.memberIds} />
          <span>{info.memberCount}</span>
        </button>
        <button
          type="button"
          className="app-icon-button"
          aria-label="Pinned messages"
          title="Pinned messages"
          aria-pressed={panel?.kind === 'pinned'}
          onClick={() => toggle('pinned')}
        >
          <PinIcon />
        </button>
        {info.isMember && cid ? (
          <button
            type="button"
            className="app-icon-button"
            aria-label={starred ? 'Unstar' : 'Star'}
            title={starred ? 'Unstar (out of your Starred section)' : 'Star (into your Starred section)'}
            aria-pressed={starred}
            onClick={() => act(starred ? 'unstar' : 'star', client.sidebar.star(cid, !starred))}
            data-testid="star-button"
          >
            <span aria-hidden="true">{starred ? '★' : '☆'}</span>
          </button>
        ) : null}
        {info.isMember ? (
          <button
            type="button"
            className="app-icon-button"
            aria-label="Files"
            title="Files shared here"
            aria-pressed={panel?.kind === 'files'}
            onClick={() => toggle('files')}
            data-testid="files-button"
          >
            <FilesIcon />
          </button>
        ) : null}
        <button
          type="button"
          className="app-header-button"
          aria-label="Channel notes"
          title="Channel notes"
          data-testid="channel-notes-button"
          aria-pressed={panel?.kind === 'notes'}
          onClick={() => toggle('notes')}
        >
          <span>Notes</span>
        </button>
        {info.isMember && info.kind !== 'dm' ? (
          <Menu
            label="Channel options"
            triggerClassName="app-icon-button"
            trigger={<span aria-hidden="true">⋯</span>}
            items={[
              { label: 'View members', onSelect: () => onPanel({ kind: 'members' }) },
              ...(canModerate ? [{ label: 'Moderation settings', onSelect: () => setModerating(true) }] : []),
              'separator',
              ...notifyItems,
              'separator',
              {
                label: info.kind === 'private' ? `Leave ${info.name}` : `Leave #${info.name}`,
                onSelect: leave,
                danger: true,
              },
            ]}
          />
        ) : info.isMember ? (
          <Menu
            label="Conversation options"
            triggerClassName="app-icon-button"
            trigger={<span aria-hidden="true">⋯</span>}
            items={notifyItems}
          />
        ) : null}
      </div>
      {moderating ? <ChannelModeration channel={channel} onClose={() => setModerating(false)} /> : null}
    </header>
  );
}
