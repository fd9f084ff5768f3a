/**
 * The kit's message row: avatar and name (unless it continues a group), the text with mentions
 * marked, the quoted message, files, reactions, the thread summary, delivery state ("Sending…",
 * "Not sent · Retry") and, under the viewer's latest message, who has seen it. A long press (or
 * the "⋯" button) opens the message's actions: react, reply in thread, quote, edit, delete.
 */
import type { LocalMessage } from '@parley/client';
import { memo, useState } from 'react';
import { Modal, Pressable, Text, View } from 'react-native';
import { MessageAttachments } from './attachments.js';
import { useOptionalChannelContext } from './channel.js';
import { cidOf, useClientState, useMe, usePalette } from './context.js';
import { clockTime, displayName } from './format.js';
import { useMessageActions } from './message-actions.js';
import type { MessageItemProps } from './message-types.js';
import { ReactionList, ReactionPicker } from './reaction-picker.js';
import { SeenBy } from './read-by.js';
import { Avatar } from './user.js';

/** The text with `@mentions` of the message's mentioned users (and @here, @channel) marked. */
function MessageText({ message }: { message: LocalMessage }) {
  const palette = usePalette();
  const users = useClientState((s) => s.users, Object.is);
  const mentioned = new Set(message.mentioned_users.map((id) => users[id]?.username ?? id).concat(['here', 'channel']));
  const parts = message.text.split(/(@[A-Za-z0-9_.-]+)/);
  return (
    <Text style={{ color: palette.text, fontSize: 15, lineHeight: 21 }} selectable>
      {parts.map((p, i) =>
        p.startsWith('@') && mentioned.has(p.slice(1)) ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text, in order
          <Text key={i} style={{ fontWeight: '600', color: palette.accent, backgroundColor: palette.mention }}>
            {p}
          </Text>
        ) : (
          p
        ),
      )}
    </Text>
  );
}

/**
 * One message as the kit shows it (the default of the `MessageUI` slot). Memoized, and it
 * follows its author rather than the whole channel: a new message re-renders its own row, not
 * every row above it.
 */
export const MessageItem = memo(function MessageItem({
  message,
  continued = false,
  readBy,
  dm = false,
  onOpenThread,
  editScope = null,
  highlighted = false,
}: MessageItemProps) {
  const palette = usePalette();
  const me = useMe();
  const cid = cidOf(useOptionalChannelContext()?.channel);
  const author = useClientState((s) => s.users[message.user_id], Object.is);
  const member = useClientState((s) => (cid ? s.channels[cid]?.members[message.user_id]?.user : undefined), Object.is);
  const user = author ?? message.user ?? member ?? undefined;
  const actions = useMessageActions(message, { editScope, onOpenThread });
  const [menu, setMenu] = useState(false);
  const mine = message.user_id === me;
  const name = displayName(user, message.user_id);

  if (message.type === 'deleted')
    return (
      <View style={{ paddingHorizontal: 12, paddingVertical: 4, marginLeft: 44 }}>
        <Text style={{ color: palette.muted, fontStyle: 'italic' }}>This message was deleted</Text>
      </View>
    );
  if (message.type === 'system')
    return (
      <Text style={{ color: palette.muted, textAlign: 'center', paddingVertical: 4, fontSize: 12 }}>
        {message.text}
      </Text>
    );

  const quoted = message.quoted_message;
  return (
    <Pressable
      onLongPress={() => setMenu(true)}
      accessibilityLabel={`Message from ${name}`}
      accessibilityHint="Long press for actions"
      testID={`message-${message.id}`}
      style={{
        flexDirection: 'row',
        gap: 8,
        paddingHorizontal: 12,
        paddingTop: continued ? 2 : 8,
        paddingBottom: 2,
        backgroundColor: highlighted ? palette.mention : mine ? palette.mine : 'transparent',
      }}
    >
      <View style={{ width: 36 }}>{continued ? null : <Avatar user={user} id={message.user_id} size={36} />}</View>
      <View style={{ flex: 1 }}>
        {continued ? null : (
          <View style={{ flexDirection: 'row', alignItems: 'baseline', gap: 6 }}>
            <Text style={{ color: palette.text, fontWeight: '700' }}>{name}</Text>
            <Text style={{ color: palette.muted, fontSize: 12 }}>{clockTime(message.created_at)}</Text>
            {message.edited_at ? <Text style={{ color: palette.muted, fontSize: 12 }}>(edited)</Text> : null}
          </View>
        )}
        {quoted ? (
          <View
            accessibilityLabel="Quoted message"
            style={{ borderLeftWidth: 3, borderLeftColor: palette.border, paddingLeft: 8, marginVertical: 2 }}
          >
            <Text style={{ color: palette.muted, fontSize: 13 }} numberOfLines={2}>
              {quoted.type === 'deleted' ? 'Deleted message' : quoted.text}
            </Text>
          </View>
        ) : null}
        {message.text ? <MessageText message={message} /> : null}
        <MessageAttachments attachments={message.attachments ?? []} uploads={message.uploads} />
        <ReactionList message={message} onToggle={(t) => void actions.toggleReaction(t).catch(() => {})} />
        {message.reply_count > 0 && actions.openThread ? (
          <Pressable role="button" onPress={actions.openThread} style={{ marginTop: 4 }}>
            <Text style={{ color: palette.accent, fontWeight: '600', fontSize: 13 }}>
              {message.reply_count} {message.reply_count === 1 ? 'reply' : 'replies'}
            </Text>
          </Pressable>
        ) : null}
        {message.status === 'sending' ? (
          <Text style={{ color: palette.muted, fontSize: 12 }}>Sending…</Text>
        ) : message.status === 'failed' ? (
          <View style={{ flexDirection: 'row', gap: 8 }}>
            <Text style={{ color: palette.danger, fontSize: 12 }}>
              Not sent{message.error ? `: ${message.error.message}` : ''}
            </Text>
            <Pressable role="button" onPress={() => void actions.retry().catch(() => {})}>
              <Text style={{ color: palette.accent, fontSize: 12, fontWeight: '600' }}>Retry</Text>
            </Pressable>
          </View>
        ) : null}
        {readBy && readBy.message.id === message.id ? <SeenBy readBy={readBy} dm={dm} /> : null}
      </View>
      <Pressable
        role="button"
        accessibilityLabel="Message actions"
        onPress={() => setMenu(true)}
        hitSlop={8}
        style={{ paddingHorizontal: 4 }}
      >
        <Text style={{ color: palette.muted, fontSize: 16 }}>⋯</Text>
      </Pressable>
      {menu ? (
        <MessageActionsSheet message={message} mine={mine} onClose={() => setMenu(false)} actions={actions} />
      ) : null}
    </Pressable>
  );
});

function MessageActionsSheet({
  message,
  mine,
  actions,
  onClose,
}: {
  message: LocalMessage;
  mine: boolean;
  actions: ReturnType<typeof useMessageActions>;
  onClose(): void;
}) {
  const palette = usePalette();
  const run = (f: () => unknown) => () => {
    onClose();
    void Promise.resolve(f()).catch(() => {});
  };
  const items: { label: string; run: () => void; danger?: boolean }[] = [];
  if (actions.openThread) items.push({ label: 'Reply in thread', run: run(actions.openThread) });
  if (message.status === 'sent') items.push({ label: 'Quote', run: run(actions.quote) });
  if (mine && message.status === 'sent') items.push({ label: 'Edit', run: run(actions.edit) });
  if (mine) items.push({ label: 'Delete', run: run(actions.remove), danger: true });
  return (
    <Modal transparent animationType="fade" visible onRequestClose={onClose}>
      <Pressable
        accessibilityLabel="Close"
        onPress={onClose}
        style={{ flex: 1, backgroundColor: 'rgba(0,0,0,0.35)', justifyContent: 'flex-end' }}
      >
        <View
          role="menu"
          accessibilityLabel="Message actions"
          style={{
            backgroundColor: palette.background,
            padding: 16,
            gap: 12,
            borderTopLeftRadius: 16,
            borderTopRightRadius: 16,
          }}
        >
          {message.status === 'sent' ? (
            <ReactionPicker own={message.own_reactions} onPick={(t) => run(() => actions.toggleReaction(t))()} />
          ) : null}
          {items.map((i) => (
            <Pressable key={i.label} role="menuitem" onPress={i.run} style={{ paddingVertical: 8 }}>
              <Text style={{ color: i.danger ? palette.danger : palette.text, fontSize: 16 }}>{i.label}</Text>
            </Pressable>
          ))}
        </View>
      </Pressable>
    </Modal>
  );
}
