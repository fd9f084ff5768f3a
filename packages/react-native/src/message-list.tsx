/**
 * `<MessageList>`: the open channel's messages, newest at the bottom (an inverted `FlatList`, as
 * chat lists on phones are), with day separators and author groups. Scrolling up loads older
 * history; new messages mark the channel read while the list is shown; the viewer's latest
 * message says who has seen it.
 */
import { type LocalMessage, readByOf } from '@parley/client';
import { useEffect, useMemo, useRef } from 'react';
import { ActivityIndicator, FlatList, Text, View } from 'react-native';
import { useChannelContext } from './channel.js';
import { useChannelState, useMe, usePalette } from './context.js';
import { dayLabel } from './format.js';
import type { MessageUIComponent } from './message-types.js';
import { MessageSlot, useMessageUI } from './message-ui.js';

/** Props of {@link MessageList}. */
export interface MessageListProps {
  /** Render rows with this instead of the kit's (default: the `<Channel MessageUI>`, else the kit's). */
  MessageUI?: MessageUIComponent;
  /** Mark the channel read as messages arrive while the list is shown (default true). */
  markRead?: boolean;
  /** Shown when the channel has no messages. */
  emptyText?: string;
}

type Row =
  | { kind: 'message'; key: string; message: LocalMessage; continued: boolean }
  | { kind: 'day'; key: string; label: string };

/** Messages within this long of the previous one by the same author continue its group. */
const GROUP_MS = 5 * 60_000;

/** Rows oldest first: a day separator before each new day, `continued` within an author's run. */
export function buildRows(messages: readonly LocalMessage[]): Row[] {
  const rows: Row[] = [];
  let prev: LocalMessage | null = null;
  for (const m of messages) {
    const day = dayLabel(m.created_at);
    const newDay = !prev || dayLabel(prev.created_at) !== day;
    if (newDay) rows.push({ kind: 'day', key: `day-${m.id}`, label: day });
    const continued =
      !newDay &&
      prev !== null &&
      prev.user_id === m.user_id &&
      prev.type === 'regular' &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_MS;
    rows.push({ kind: 'message', key: m.id, message: m, continued });
    prev = m;
  }
  return rows;
}

/** The open channel's messages, live; pages older history in as the user scrolls up. */
export function MessageList({ MessageUI, markRead = true, emptyText = 'No messages yet' }: MessageListProps) {
  const palette = usePalette();
  const { channel, openThread, editing } = useChannelContext();
  const state = useChannelState(channel);
  const me = useMe();
  const UI = useMessageUI(MessageUI);
  const loadingOlder = useRef(false);
  const messages = state?.messages;
  const rows = useMemo(() => buildRows(messages ?? []).reverse(), [messages]);
  const readBy = useMemo(() => (state && me ? readByOf(state, me) : null), [state, me]);
  const dm = state?.channel.type === 'dm';

  // Read-by needs the readers' times and whether it is on here: asked once per channel.
  const askedReadBy = useRef<string | null>(null);
  useEffect(() => {
    if (!state?.loaded || !readBy || askedReadBy.current === state.cid) return;
    askedReadBy.current = state.cid;
    void channel.loadReadBy().catch(() => {});
  }, [channel, state?.loaded, state?.cid, readBy]);

  const unread = state?.unreadCount ?? 0;
  useEffect(() => {
    if (!markRead || !state?.loaded || unread === 0) return;
    void channel.markRead().catch(() => {});
  }, [channel, markRead, state?.loaded, unread]);

  if (!state?.loaded)
    return (
      <View style={{ flex: 1, alignItems: 'center', justifyContent: 'center' }}>
        <ActivityIndicator accessibilityLabel="Loading messages" color={palette.muted} />
      </View>
    );

  return (
    <FlatList
      inverted
      style={{ flex: 1 }}
      data={rows}
      keyExtractor={(r) => r.key}
      accessibilityLabel="Messages"
      onEndReachedThreshold={0.5}
      onEndReached={() => {
        if (!state.hasOlder || loadingOlder.current) return;
        loadingOlder.current = true;
        void channel
          .loadOlder()
          .catch(() => {})
          .finally(() => {
            loadingOlder.current = false;
          });
      }}
      ListEmptyComponent={<Text style={{ color: palette.muted, textAlign: 'center', padding: 24 }}>{emptyText}</Text>}
      renderItem={({ item }) =>
        item.kind === 'day' ? (
          <Text
            accessibilityRole="header"
            style={{ color: palette.muted, textAlign: 'center', fontSize: 12, fontWeight: '600', paddingVertical: 8 }}
          >
            {item.label}
          </Text>
        ) : (
          <MessageSlot
            UI={UI}
            message={item.message}
            continued={item.continued}
            readBy={item.message.id === readBy?.message.id ? readBy : null}
            dm={dm}
            onOpenThread={openThread}
            editScope={null}
            highlighted={editing?.id === item.message.id}
          />
        )
      }
    />
  );
}
