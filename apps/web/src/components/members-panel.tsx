/** The members of a conversation with presence and status, online first; members can add people. */
import { type Channel as ChannelHandle, keepLoading } from '@parley/client';
import type { User } from '@parley/protocol';
import { Avatar, PresenceDot, useChatClient, useClientState, useMe, useWatchPresence } from '@parley/react';
import { useEffect, useState } from 'react';
import type { ConversationInfo } from '../hooks/use-conversation.js';
import { UserPlusIcon } from './icons.js';
import { UserPicker } from './user-picker.js';

const RANK = { online: 0, busy: 1, away: 2, offline: 3 } as const;

function useMembers(info: ConversationInfo): User[] {
  // The panel shows each member's presence: follow it while the panel is open.
  useWatchPresence(info.memberIds);
  return useClientState((s) =>
    info.memberIds
      .map((id) => s.users[id] ?? info.state?.members[id]?.user)
      .filter((u): u is User => !!u)
      .sort((a, b) => RANK[a.presence ?? 'offline'] - RANK[b.presence ?? 'offline'] || a.name.localeCompare(b.name)),
  );
}

function AddPeople({ channel, info }: { channel: ChannelHandle; info: ConversationInfo }) {
  const [open, setOpen] = useState(false);
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" className="app-panel__action" onClick={() => setOpen(true)}>
        <span className="app-panel__action-icon">
          <UserPlusIcon />
        </span>
        <span>Add people</span>
      </button>
    );
  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      await channel.addMembers(picked.map((u) => u.id));
      setPicked([]);
      setOpen(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="app-panel__add">
      <UserPicker selected={picked} onChange={setPicked} exclude={info.memberIds} label="Add people" max={20} />
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="app-row app-row--end">
        <button type="button" className="app-button" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button
          type="button"
          className="app-button app-button--primary"
          disabled={busy || picked.length === 0}
          onClick={() => void add()}
        >
          Add
        </button>
      </div>
    </div>
  );
}

/**
 * Presence reaches you live only from people who share a channel with you, from the moment
 * they do: someone who joined after connecting would show as offline. Opening the list (and
 * every change of its members) fetches everyone's current presence first.
 */
function useFreshPresence(memberIds: string[]): void {
  const client = useChatClient();
  const key = [...memberIds].sort().join(',');
  // Until it answers (tried again while it fails on the network) the list shows what the store
  // knows; live changes still arrive.
  useEffect(() => (key ? keepLoading(() => client.queryUsers('', 200)) : undefined), [client, key]);
}

export function MembersPanel({
  channel,
  info,
  onSelectUser,
}: {
  channel: ChannelHandle;
  info: ConversationInfo;
  onSelectUser(id: string): void;
}) {
  const me = useMe();
  const client = useChatClient();
  const members = useMembers(info);
  useFreshPresence(info.memberIds);
  // Moderators see a Ban button on each member (capability `ban-members`).
  const canBan = useClientState((s) => s.channels[channel.cid]?.channel.own_capabilities?.includes('ban-members'));
  const [banError, setBanError] = useState<string | null>(null);
  // "Active now": everyone connected (online, away or busy), then the rest.
  const active = members.filter((u) => (u.presence ?? 'offline') !== 'offline');
  const sections: [string, User[]][] = [
    ['Active now', active],
    ['Offline', members.filter((u) => (u.presence ?? 'offline') === 'offline')],
  ];
  const ban = (userId: string) => {
    setBanError(null);
    client.moderation
      .ban({ user_id: userId, cid: channel.cid, reason: 'Banned from the channel by a moderator' })
      .catch((e: unknown) => setBanError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <>
      {info.isMember && info.kind !== 'dm' ? <AddPeople channel={channel} info={info} /> : null}
      {banError ? (
        <p className="app-form__error" role="alert">
          {banError}
        </p>
      ) : null}
      {sections.map(([label, list]) =>
        list.length > 0 ? (
          <section key={label} className="app-member-section" aria-label={label}>
            <h3 className="app-member-section__title" data-testid={label === 'Active now' ? 'active-now' : undefined}>
              {label} · {list.length}
            </h3>
            <ul className="app-member-list" aria-label={label}>
              {list.map((u) => (
                <li key={u.id}>
                  <button
                    type="button"
                    className="app-member"
                    onClick={() => onSelectUser(u.id)}
                    data-testid={`member-${u.id}`}
                    data-presence={u.presence ?? 'offline'}
                  >
                    <span className="app-avatar-with-dot">
                      <Avatar user={u} id={u.id} size={32} />
                      <PresenceDot presence={u.presence ?? 'offline'} className="app-avatar-with-dot__dot" />
                    </span>
                    <span className="app-member__text">
                      <span className="app-member__name">
                        {u.name}
                        {u.id === me ? <span className="app-muted"> (you)</span> : null}
                      </span>
                      {u.status?.text ? (
                        <span className="app-member__status">
                          {u.status.emoji ? `${u.status.emoji} ` : ''}
                          {u.status.text}
                        </span>
                      ) : null}
                    </span>
                  </button>
                  {canBan && u.id !== me ? (
                    <button
                      type="button"
                      className="app-button app-button--small app-button--danger-outline"
                      aria-label={`Ban ${u.name} from this channel`}
                      onClick={() => ban(u.id)}
                    >
                      Ban
                    </button>
                  ) : null}
                </li>
              ))}
            </ul>
          </section>
        ) : null,
      )}
    </>
  );
}
