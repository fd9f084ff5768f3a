/** What the header and panels of one conversation need: its title, kind, members and whether you are in it. */
import type { Channel as ChannelHandle, ChannelState } from '@parley/client';
import { channelDisplayName, useChannelState, useClientState, useMe } from '@parley/react';

export interface ConversationInfo {
  state: ChannelState | undefined;
  /** `#general`-style name for channels, people's names for DMs. */
  name: string;
  kind: 'public' | 'private' | 'dm' | 'announcement';
  memberIds: string[];
  memberCount: number;
  isMember: boolean;
  /** For a one-to-one DM: the other person. */
  peerId: string | null;
}

export function useConversation(channel: ChannelHandle): ConversationInfo {
  const state = useChannelState(channel);
  const me = useMe();
  const name = useClientState((s) => (state ? channelDisplayName(state, s, me) : (channel.id ?? '')));
  const type = state?.channel.type ?? channel.type;
  const kind =
    type === 'group' ? 'private' : type === 'dm' ? 'dm' : type === 'announcement' ? 'announcement' : 'public';
  const memberIds = state ? Object.keys(state.members) : [];
  const peers = memberIds.filter((id) => id !== me);
  return {
    state,
    name,
    kind,
    memberIds,
    memberCount: memberIds.length > 0 ? memberIds.length : (state?.channel.member_count ?? 0),
    isMember: !!state?.channel.membership,
    peerId: kind === 'dm' && peers.length === 1 ? (peers[0] ?? null) : null,
  };
}
