/**
 * `<MessageInput>`: the composer. Typing tells the channel (throttled by the SDK); `@` suggests
 * the channel's members (and @here, @channel), inserting `@username`, which the server resolves;
 * the attach button asks the app's picker for files (`pickFiles`: expo-document-picker or
 * expo-image-picker on a phone, a file input on the web), checks them against the app's upload
 * rules and sends them with the message, showing each file's progress. It also edits (a message
 * put into it by the Edit action) and quotes.
 */
import type { UploadFile } from '@parley/client';
import { MAX_MESSAGE_LENGTH, type User } from '@parley/protocol';
import { useEffect, useMemo, useState } from 'react';
import { Pressable, Text, TextInput, View } from 'react-native';
import { PendingFiles } from './attachments.js';
import { useChannelContext } from './channel.js';
import { useChannelState, useChatClient, useMe, usePalette } from './context.js';
import { displayName } from './format.js';
import { useTyping } from './typing-indicator.js';

/** Props of {@link MessageInput}. */
export interface MessageInputProps {
  /** Reply in this thread (the parent message's id); default: the channel itself. */
  parentId?: string | null;
  placeholder?: string;
  /**
   * Ask the user for files: resolve with what they picked (`NativeFile`s on a phone — `{ uri,
   * name, type, size }` from a picker — or `File`s on the web), or null/[] if they cancelled.
   * Without it there is no attach button.
   */
  pickFiles?: () => Promise<readonly UploadFile[] | null>;
  /** At most this many files per message (the server's limit is 10). */
  maxFiles?: number;
  /** Called after a message is sent (or an edit saved). */
  onSent?: () => void;
}

interface Suggestion {
  key: string;
  insert: string;
  label: string;
  detail: string;
}

const BROADCAST: Suggestion[] = [
  { key: 'here', insert: 'here', label: '@here', detail: 'Notify everyone online here' },
  { key: 'channel', insert: 'channel', label: '@channel', detail: 'Notify everyone in the channel' },
];

/** The `@query` being typed at the end of `text`, if any. */
export function mentionQuery(text: string): { start: number; query: string } | null {
  const m = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]*)$/.exec(text);
  if (!m) return null;
  return { start: m.index + (m[1] as string).length, query: (m[2] as string).toLowerCase() };
}

/** The composer of a channel or of a thread. */
export function MessageInput({ parentId = null, placeholder, pickFiles, maxFiles = 10, onSent }: MessageInputProps) {
  const palette = usePalette();
  const client = useChatClient();
  const me = useMe();
  const { channel, editing, setEditing, quoting, setQuoting } = useChannelContext();
  const state = useChannelState(channel);
  const { keystroke, stop } = useTyping({ parentId });
  const [text, setText] = useState('');
  const [files, setFiles] = useState<UploadFile[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editTarget = editing && editing.scope === parentId ? editing : null;
  const quoted = parentId === null ? quoting : null;

  // The Edit action puts the message's text here.
  const editingId = editTarget?.id ?? null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when another message is put here, not on every change of the channel
  useEffect(() => {
    if (!editingId) return;
    const m =
      state?.messages.find((x) => x.id === editingId) ??
      (parentId ? state?.threads[parentId]?.find((x) => x.id === editingId) : undefined);
    if (m) setText(m.text);
  }, [editingId]);

  const query = mentionQuery(text)?.query ?? null;
  const suggestions = useMemo(() => {
    if (query === null) return [];
    const people: Suggestion[] = Object.values(state?.members ?? {})
      .flatMap((m) => (m.user?.username && m.user_id !== me ? [m.user as User & { username: string }] : []))
      .filter((u) => u.username.toLowerCase().startsWith(query) || (u.name ?? '').toLowerCase().startsWith(query))
      .slice(0, 6)
      .map((u) => ({ key: u.id, insert: u.username, label: displayName(u, u.id), detail: `@${u.username}` }));
    return [...people, ...BROADCAST.filter((b) => b.insert.startsWith(query))];
  }, [query, state?.members, me]);

  const choose = (s: Suggestion) => {
    const mq = mentionQuery(text);
    if (!mq) return;
    setText(`${text.slice(0, mq.start)}@${s.insert} `);
  };

  const attach = async () => {
    if (!pickFiles) return;
    setError(null);
    const picked = (await pickFiles().catch(() => null)) ?? [];
    if (picked.length === 0) return;
    const next = [...files, ...picked].slice(0, maxFiles);
    for (const f of picked) {
      const no = await client.files.check(f).catch(() => null);
      if (no) {
        setError(no.message);
        return;
      }
    }
    if (files.length + picked.length > maxFiles) setError(`At most ${maxFiles} files per message`);
    setFiles(next);
  };

  const send = async () => {
    const body = text.trim();
    if (busy || (!body && files.length === 0)) return;
    if (body.length > MAX_MESSAGE_LENGTH) {
      setError(`Messages are at most ${MAX_MESSAGE_LENGTH} characters`);
      return;
    }
    setError(null);
    if (editTarget) {
      setBusy(true);
      try {
        await channel.updateMessage(editTarget.id, body);
        setEditing(null);
        setText('');
        onSent?.();
      } catch (e) {
        setError((e as Error).message);
      } finally {
        setBusy(false);
      }
      return;
    }
    const attachments = files;
    setText('');
    setFiles([]);
    setQuoting(null);
    stop();
    onSent?.();
    // The message shows at once (sending, with upload progress); a failure shows on it with Retry.
    await channel
      .sendMessage({
        text: body,
        ...(parentId ? { parent_id: parentId } : {}),
        ...(quoted ? { quoted_message_id: quoted.id } : {}),
        ...(attachments.length ? { attachments } : {}),
      })
      .catch(() => {});
  };

  const canSend = text.trim().length > 0 || files.length > 0;
  return (
    <View style={{ borderTopWidth: 1, borderTopColor: palette.border, backgroundColor: palette.background }}>
      {suggestions.length > 0 ? (
        <View
          role="list"
          accessibilityLabel="People to mention"
          style={{ borderBottomWidth: 1, borderBottomColor: palette.border }}
        >
          {suggestions.map((s) => (
            <Pressable
              key={s.key}
              role="button"
              accessibilityLabel={`Mention ${s.label}`}
              onPress={() => choose(s)}
              style={{ flexDirection: 'row', gap: 8, paddingHorizontal: 12, paddingVertical: 8 }}
            >
              <Text style={{ color: palette.text, fontWeight: '600' }}>{s.label}</Text>
              <Text style={{ color: palette.muted }}>{s.detail}</Text>
            </Pressable>
          ))}
        </View>
      ) : null}
      {editTarget || quoted ? (
        <View style={{ flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 12, paddingTop: 6 }}>
          <Text style={{ flex: 1, color: palette.muted, fontSize: 12 }} numberOfLines={1}>
            {editTarget ? 'Editing message' : `Quoting: ${quoted?.text ?? ''}`}
          </Text>
          <Pressable
            role="button"
            onPress={() => {
              if (editTarget) {
                setEditing(null);
                setText('');
              } else setQuoting(null);
            }}
          >
            <Text style={{ color: palette.accent, fontSize: 12, fontWeight: '600' }}>Cancel</Text>
          </Pressable>
        </View>
      ) : null}
      <PendingFiles files={files} onRemove={(i) => setFiles((f) => f.filter((_, j) => j !== i))} />
      {error ? (
        <Text role="alert" style={{ color: palette.danger, paddingHorizontal: 12, paddingTop: 4, fontSize: 12 }}>
          {error}
        </Text>
      ) : null}
      <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 8, padding: 8 }}>
        {pickFiles && !editTarget ? (
          <Pressable
            role="button"
            accessibilityLabel="Attach files"
            onPress={() => void attach()}
            style={{ padding: 8 }}
          >
            <Text style={{ fontSize: 24, lineHeight: 24, color: palette.muted }}>+</Text>
          </Pressable>
        ) : null}
        <TextInput
          value={text}
          onChangeText={(t) => {
            setText(t);
            if (t) keystroke();
            else stop();
          }}
          placeholder={placeholder ?? (parentId ? 'Reply…' : 'Message')}
          placeholderTextColor={palette.muted}
          accessibilityLabel={parentId ? 'Reply' : 'Message'}
          multiline
          style={{
            flex: 1,
            minHeight: 40,
            maxHeight: 120,
            paddingHorizontal: 12,
            paddingVertical: 8,
            borderRadius: 20,
            backgroundColor: palette.surface,
            color: palette.text,
            fontSize: 15,
          }}
        />
        <Pressable
          role="button"
          accessibilityLabel={editTarget ? 'Save' : 'Send'}
          accessibilityState={{ disabled: !canSend }}
          disabled={!canSend}
          onPress={() => void send()}
          style={{
            paddingHorizontal: 16,
            height: 40,
            borderRadius: 20,
            justifyContent: 'center',
            backgroundColor: canSend ? palette.accent : palette.border,
          }}
        >
          <Text style={{ color: palette.accentText, fontWeight: '700' }}>{editTarget ? 'Save' : 'Send'}</Text>
        </Pressable>
      </View>
    </View>
  );
}
