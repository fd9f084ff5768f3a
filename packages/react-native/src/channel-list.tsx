/**
 * `<ChannelList>`: the user's channels and DMs, most recent activity first, each with its last
 * message and unread count (mentions stand out), live. It asks the server for the list on mount
 * and on pull-to-refresh; the client keeps it current from then on (and after reconnects). A
 * load that fails on the network (a phone moving between networks, as Chromium's
 * ERR_NETWORK_CHANGED showed in a test) is tried again by itself after 1, 2, 4… up to 30 s.
 */
import { type ChannelState, type ClientState, keepLoading } from '@parley/client';
import type { ChannelFilter, Member } from '@parley/protocol';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { FlatList, Pressable, Text, View } from 'react-native';
import { useChatClient, useClientState, useMe, usePalette } from './context.js';
import { clockTime, displayName } from './format.js';
import { Avatar } from './user.js';

/**
 * The name to show for a channel: its name; for a DM, the other members' names (falling back to
 * the author of its last message, or "Direct message").
 */
export function channelDisplayName(c: ChannelState, state: Pick<ClientState, 'users'>, me: string | null): string {
  if (c.channel.type !== 'dm') return c.channel.name || c.channel.id;
  const members: Member[] = Object.values(c.members).length ? Object.values(c.members) : (c.channel.members ?? []);
  const peers = members.filter((m) => m.user_id !== me);
  if (peers.length > 0) return peers.map((m) => displayName(state.users[m.user_id] ?? m.user, m.user_id)).join(', ');
  const last = c.channel.last_message;
  if (last && last.user_id !== me) return displayName(state.users[last.user_id] ?? last.user, last.user_id);
  return c.channel.name || 'Direct message';
}

interface Row {
  cid: string;
  name: string;
  dm: boolean;
  peer: string | null;
  preview: string;
  at: string | null;
  unread: number;
  mentions: number;
}

function rowOf(c: ChannelState, s: ClientState, me: string | null): Row {
  const m = c.channel.last_message;
  const who = m ? (m.user_id === me ? 'You' : displayName(s.users[m.user_id] ?? m.user, m.user_id)) : '';
  const text = m ? (m.type === 'deleted' ? 'Message deleted' : m.text.replace(/\s+/g, ' ').trim()) : '';
  const peers = Object.keys(c.members).filter((id) => id !== me);
  return {
    cid: c.cid,
    name: channelDisplayName(c, s, me),
    dm: c.channel.type === 'dm',
    peer: c.channel.type === 'dm' ? (peers[0] ?? null) : null,
    preview: m ? `${who}: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}` : '',
    at: m?.created_at ?? null,
    unread: c.unreadCount,
    mentions: c.mentionCount,
  };
}

/** Props of {@link ChannelList}. */
export interface ChannelListProps {
  /** The selected conversation, highlighted. */
  activeCid?: string | null;
  /** Called with the cid of the conversation chosen. */
  onSelect(cid: string): void;
  /** Which channels to ask the server for (default: the user's). */
  query?: ChannelFilter;
  /** Show only the conversations this accepts (default: all the user is a member of). */
  filter?(channel: ChannelState): boolean;
  /** Shown when there are no conversations. */
  emptyState?: ReactNode;
}

/** The user's conversations (see the module comment). Render inside `<ChatProvider>`. */
export function ChannelList({ activeCid = null, onSelect, query, filter, emptyState }: ChannelListProps) {
  const palette = usePalette();
  const client = useChatClient();
  const me = useMe();
  const [refreshing, setRefreshing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rows = useClientState(
    (s) =>
      s.channelList.flatMap((cid) => {
        const c = s.channels[cid];
        if (!c?.channel.membership || (filter && !filter(c))) return [];
        return [rowOf(c, s, me)];
      }),
    (a, b) => JSON.stringify(a) === JSON.stringify(b),
  );
  const users = useClientState((s) => s.users, Object.is);
  const queryKey = JSON.stringify(query ?? {});

  // The load under way and its retries (a load that fails on the network tries again by itself:
  // @parley/client's keepLoading); a new query, a pull or unmounting stops them.
  const stop = useRef<(() => void) | null>(null);
  const load = useCallback(
    (done?: () => void) => {
      // Asked once the user is connected (and again by the client itself after each reconnect).
      if (!me) return done?.();
      stop.current?.();
      stop.current = keepLoading(
        async () => {
          setError(null);
          try {
            await client.queryChannels(JSON.parse(queryKey) as ChannelFilter);
          } finally {
            done?.();
          }
        },
        { onError: (e) => setError((e as Error).message) },
      );
    },
    [client, queryKey, me],
  );
  useEffect(() => {
    load();
    return () => {
      stop.current?.();
      stop.current = null;
    };
  }, [load]);

  return (
    <FlatList
      style={{ flex: 1 }}
      data={rows}
      keyExtractor={(r) => r.cid}
      accessibilityLabel="Conversations"
      refreshing={refreshing}
      onRefresh={() => {
        setRefreshing(true);
        load(() => setRefreshing(false));
      }}
      ListHeaderComponent={
        error ? (
          <Text role="alert" style={{ color: palette.danger, padding: 12 }}>
            Could not load your conversations: {error}
          </Text>
        ) : null
      }
      ListEmptyComponent={
        emptyState ? (
          <View>{emptyState}</View>
        ) : (
          <Text style={{ color: palette.muted, textAlign: 'center', padding: 24 }}>No conversations yet</Text>
        )
      }
      renderItem={({ item }) => {
        const active = item.cid === activeCid;
        const unread = item.unread > 0;
        return (
          <Pressable
            role="button"
            accessibilityLabel={`${item.dm ? '' : '#'}${item.name}${unread ? `, ${item.unread} unread` : ''}${item.mentions ? `, ${item.mentions} mentions` : ''}`}
            accessibilityState={{ selected: active }}
            onPress={() => onSelect(item.cid)}
            style={{
              flexDirection: 'row',
              alignItems: 'center',
              gap: 10,
              paddingHorizontal: 12,
              paddingVertical: 10,
              backgroundColor: active ? palette.mine : 'transparent',
              borderBottomWidth: 1,
              borderBottomColor: palette.border,
            }}
          >
            {item.dm && item.peer ? (
              <Avatar user={users[item.peer]} id={item.peer} size={40} />
            ) : (
              <View
                style={{
                  width: 40,
                  height: 40,
                  borderRadius: 8,
                  backgroundColor: palette.surface,
                  alignItems: 'center',
                  justifyContent: 'center',
                }}
              >
                <Text style={{ color: palette.muted, fontSize: 18, fontWeight: '700' }}>#</Text>
              </View>
            )}
            <View style={{ flex: 1 }}>
              <View style={{ flexDirection: 'row', alignItems: 'baseline', gap: 6 }}>
                <Text
                  numberOfLines={1}
                  style={{ flex: 1, color: palette.text, fontSize: 16, fontWeight: unread ? '700' : '500' }}
                >
                  {item.dm ? item.name : `#${item.name}`}
                </Text>
                {item.at ? <Text style={{ color: palette.muted, fontSize: 12 }}>{clockTime(item.at)}</Text> : null}
              </View>
              <View style={{ flexDirection: 'row', alignItems: 'center', gap: 6 }}>
                <Text numberOfLines={1} style={{ flex: 1, color: palette.muted, fontSize: 14 }}>
                  {item.preview}
                </Text>
                {unread ? (
                  <View
                    style={{
                      minWidth: 20,
                      paddingHorizontal: 6,
                      height: 20,
                      borderRadius: 10,
                      alignItems: 'center',
                      justifyContent: 'center',
                      backgroundColor: item.mentions ? palette.danger : palette.accent,
                    }}
                  >
                    <Text style={{ color: palette.accentText, fontSize: 12, fontWeight: '700' }}>
                      {item.mentions ? `@${item.mentions}` : item.unread}
                    </Text>
                  </View>
                ) : null}
              </View>
            </View>
          </Pressable>
        );
      }}
    />
  );
}
