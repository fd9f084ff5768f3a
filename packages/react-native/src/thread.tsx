/**
 * `<Thread>`: the open thread (the `<Channel>`'s `thread`), full screen over the channel as on a
 * phone: its parent message, the replies (loaded with `channel.getReplies`, then live), who is
 * typing there, and a composer that replies in it. Renders nothing while no thread is open.
 */
import { keepLoading } from '@parley/client';
import { useEffect, useState } from 'react';
import { FlatList, Pressable, Text, View } from 'react-native';
import { useChannelContext } from './channel.js';
import { useChannelState, usePalette } from './context.js';
import { MessageInput, type MessageInputProps } from './message-input.js';
import type { MessageUIComponent } from './message-types.js';
import { MessageSlot, useMessageUI } from './message-ui.js';
import { TypingIndicator } from './typing-indicator.js';

/** Props of {@link Thread}. */
export interface ThreadProps {
  /** Render rows with this instead of the kit's (default: the `<Channel MessageUI>`). */
  MessageUI?: MessageUIComponent;
  /** Passed to the thread's composer. */
  pickFiles?: MessageInputProps['pickFiles'];
}

/** The open thread, or nothing. */
export function Thread({ MessageUI, pickFiles }: ThreadProps) {
  const palette = usePalette();
  const { channel, thread, closeThread, editing } = useChannelContext();
  const state = useChannelState(channel);
  const UI = useMessageUI(MessageUI);
  const [error, setError] = useState<string | null>(null);

  // Asked again after 1, 2, 4… 30 s while it fails on the network (the error shows meanwhile).
  useEffect(() => {
    if (!thread) return;
    setError(null);
    return keepLoading(() => channel.getReplies(thread).then(() => setError(null)), {
      onError: (e) => setError((e as Error).message),
    });
  }, [channel, thread]);

  if (!thread) return null;
  const parent = state?.messages.find((m) => m.id === thread);
  const replies = state?.threads[thread] ?? [];
  return (
    <View
      accessibilityLabel="Thread"
      style={{ position: 'absolute', top: 0, left: 0, right: 0, bottom: 0, backgroundColor: palette.background }}
    >
      <View
        style={{
          flexDirection: 'row',
          alignItems: 'center',
          padding: 12,
          borderBottomWidth: 1,
          borderBottomColor: palette.border,
        }}
      >
        <Text accessibilityRole="header" style={{ flex: 1, color: palette.text, fontWeight: '700', fontSize: 16 }}>
          Thread
        </Text>
        <Pressable role="button" accessibilityLabel="Close thread" onPress={closeThread} hitSlop={8}>
          <Text style={{ color: palette.accent, fontWeight: '600' }}>Close</Text>
        </Pressable>
      </View>
      <FlatList
        style={{ flex: 1 }}
        data={replies}
        keyExtractor={(m) => m.id}
        accessibilityLabel="Replies"
        ListHeaderComponent={
          parent ? (
            <View
              style={{ borderBottomWidth: 1, borderBottomColor: palette.border, paddingBottom: 8, marginBottom: 4 }}
            >
              <MessageSlot UI={UI} message={parent} />
              <Text style={{ color: palette.muted, fontSize: 12, paddingHorizontal: 12 }}>
                {parent.reply_count} {parent.reply_count === 1 ? 'reply' : 'replies'}
              </Text>
            </View>
          ) : null
        }
        ListEmptyComponent={
          error ? <Text style={{ color: palette.danger, padding: 12 }}>Could not load the replies: {error}</Text> : null
        }
        renderItem={({ item, index }) => (
          <MessageSlot
            UI={UI}
            message={item}
            continued={index > 0 && replies[index - 1]?.user_id === item.user_id}
            editScope={thread}
            highlighted={editing?.id === item.id}
          />
        )}
      />
      <TypingIndicator parentId={thread} />
      <MessageInput parentId={thread} {...(pickFiles ? { pickFiles } : {})} />
    </View>
  );
}
