/**
 * `<MessageInput>`: compose, send and edit messages.
 *
 * Keys: Enter sends, Shift+Enter is a new line; `@` opens member suggestions and `/` at the
 * start opens commands (arrows move, Enter or Tab picks, Escape closes); ArrowUp in an empty
 * input edits your last message (Enter saves, Escape cancels). The emoji button opens a
 * searchable picker whose pick goes in at the caret (or over the selection). The draft is kept per channel
 * and thread, and typing sends throttled typing notifications.
 */
import { MAX_MESSAGE_LENGTH, type SlashCommand as ServerCommand, type User } from '@parley/protocol';
import {
  type ChangeEvent,
  type FormEvent,
  type KeyboardEvent,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { AttachButton, PendingFiles, usePendingFiles, useUploadAccept } from './attachments.js';
import { useChannelContext } from './channel.js';
import { useChannelTitle } from './channel-list.js';
import { cidOf, useChannelState, useChatClient, useClientState, useMe } from './context.js';
import { useCustomEmoji } from './custom-emoji.js';
import { draftKey, loadDraft, saveDraft } from './drafts.js';
import { type EmojiEntry, EmojiPicker } from './emoji-picker.js';
import { EphemeralMessages } from './ephemeral.js';
import { cx, displayName } from './format.js';
import { excerptOf } from './message.js';
import { PollComposer } from './poll.js';
import { useWatchPresence } from './presence.js';
import { PresenceDot } from './user.js';

/** A slash command: `/name args`. */
export interface SlashCommand {
  /** The name typed after the slash (lower case). */
  name: string;
  /** One line shown in the command list. */
  description: string;
  /** A hint for the arguments, e.g. `[message]`. */
  args?: string;
  /** Turn the arguments into the message text to send; return null to send nothing. */
  run(args: string): string | null;
}

/** `/me` (an action, in italics) and `/shrug` (appends ¯\\_(ツ)_/¯). */
export const defaultCommands: readonly SlashCommand[] = [
  {
    name: 'me',
    args: 'action',
    description: 'Say what you are doing, e.g. /me waves',
    run: (args) => (args.trim() ? `_${args.trim()}_` : null),
  },
  {
    name: 'shrug',
    args: '[message]',
    description: 'Append ¯\\_(ツ)_/¯ to your message',
    // Backslash and underscores escaped, so Markdown shows the shrug as typed.
    run: (args) => `${args.trim() ? `${args.trim()} ` : ''}¯\\\\\\_(ツ)\\_/¯`,
  },
];

/** Props of {@link MessageInput}. */
export interface MessageInputProps {
  /** Reply in this thread (messages are sent with `parent_id`); omit for the channel itself. */
  parentId?: string | null;
  /**
   * Slash commands run here, in the browser; default {@link defaultCommands}. The server's
   * commands (built-ins such as `/remind`, `/giphy`, and the app's own) are listed beside them
   * and run on the server (`client.commands.run`); a local command of the same name wins.
   */
  commands?: readonly SlashCommand[];
  placeholder?: string;
  /** Focus the input on mount and when the conversation changes. */
  autoFocus?: boolean;
  /** Called after a message is handed to the client for sending. */
  onSend?(text: string): void;
  /** Offer polls (a button and `/poll`) where the user may start one; default true. */
  polls?: boolean;
  className?: string;
}

/** `/poll`: handled by the input itself (it opens the poll dialog). */
const POLL_COMMAND: SlashCommand = {
  name: 'poll',
  args: '[question]',
  description: 'Start a poll',
  run: () => null,
};

interface MentionOption {
  kind: 'mention';
  key: string;
  insert: string;
  label: string;
  detail: string;
  /** A person (not @here / @channel): their presence dot is shown. */
  user?: User | undefined;
}
interface CommandOption {
  kind: 'command';
  key: string;
  command: Pick<SlashCommand, 'name' | 'description' | 'args'>;
}
interface EmojiOption {
  kind: 'emoji';
  key: string;
  shortcode: string;
  url: string;
}
type Option = MentionOption | CommandOption | EmojiOption;

/** `:par` just before the caret (after a space or the start): a custom emoji being typed. */
function emojiQuery(text: string, caret: number): { start: number; query: string } | null {
  const m = /(^|[\s(])(:([a-z0-9_+-]{2,32}))$/i.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: (m.index ?? 0) + (m[1] as string).length, query: (m[3] as string).toLowerCase() };
}

const SPECIAL_MENTIONS: MentionOption[] = [
  { kind: 'mention', key: 'here', insert: 'here', label: '@here', detail: 'Notify everyone online here' },
  { kind: 'mention', key: 'channel', insert: 'channel', label: '@channel', detail: 'Notify everyone in the channel' },
];
const MAX_OPTIONS = 8;

/** Clients whose user groups were asked for once (the list stays live by itself afterwards). */
const groupsAsked = new WeakSet<object>();

/** The `@query` being typed just before the caret, if any. */
function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const m = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]*)$/.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: (m.index ?? 0) + (m[1] as string).length, query: (m[2] as string).toLowerCase() };
}

/** The message composer (see the module comment). Render inside `<Channel>`. */
export function MessageInput({
  parentId = null,
  commands: commandList = defaultCommands,
  placeholder,
  autoFocus = false,
  onSend,
  polls = true,
  className,
}: MessageInputProps) {
  const { channel, editing, setEditing, quoting: quotingAny, setQuoting } = useChannelContext();
  // Quotes are the channel input's (a thread's input quotes nothing).
  const quoting = parentId === null ? quotingAny : null;
  const state = useChannelState(channel);
  const me = useMe();
  const users = useClientState((s) => s.users, Object.is);
  const cid = cidOf(channel) ?? '';
  const key = draftKey(me, cid, parentId);
  const id = useId();
  const listId = `${id}-suggestions`;
  const hintId = `${id}-hint`;
  const textarea = useRef<HTMLTextAreaElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const customEmoji = useCustomEmoji();
  // Polls are posted in the channel (not threads), where `create-poll` is granted.
  const caps = state?.channel.own_capabilities;
  const pollsHere = polls && parentId === null && (!caps || caps.includes('create-poll'));
  const [pollQuestion, setPollQuestion] = useState<string | null>(null);
  const commands = pollsHere ? [...commandList, POLL_COMMAND] : commandList;
  // The server's commands for this channel, asked for once the text starts with `/`.
  const [serverCommands, setServerCommands] = useState<{ cid: string; list: ServerCommand[] } | null>(null);

  // The draft follows the conversation: switching channel (or thread) shows that one's draft.
  const [draft, setDraftState] = useState(() => ({ key, text: loadDraft(key) }));
  if (draft.key !== key) setDraftState({ key, text: loadDraft(key) });

  // Editing one of your messages replaces the draft in the box (the draft is kept, not lost).
  const target = editing && editing.scope === parentId ? editing : null;
  const [edit, setEdit] = useState<{ id: string; text: string; original: string } | null>(null);
  const source = target
    ? (state?.messages.find((m) => m.id === target.id) ??
      Object.values(state?.threads ?? {})
        .flat()
        .find((m) => m.id === target.id))
    : undefined;
  const wanted = target && source ? target.id : null;
  if (wanted !== (edit?.id ?? null))
    setEdit(wanted && source ? { id: wanted, text: source.text, original: source.text } : null);
  const quotedAuthor = quoting ? (users[quoting.user_id] ?? quoting.user ?? undefined) : undefined;
  const quotingId = quoting?.id ?? null;
  useEffect(() => {
    if (quotingId) textarea.current?.focus();
  }, [quotingId]);
  const missing = !!target && !source;
  useEffect(() => {
    if (missing) setEditing(null); // the message is gone (deleted, or not loaded here)
  }, [missing, setEditing]);

  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  // Files to send with the next message: the attach button, drag and drop, paste.
  const [dismissed, setDismissed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pending = usePendingFiles((why) => setError(why.length ? why.join(' ') : null));
  const accept = useUploadAccept();
  const text = edit ? edit.text : draft.key === key ? draft.text : loadDraft(key);

  const members = useMemo(() => {
    const list: { id: string; username: string; name: string; user: User }[] = [];
    for (const m of Object.values(state?.members ?? {})) {
      if (m.user_id === me) continue;
      const u = users[m.user_id] ?? m.user;
      if (!u?.username) continue; // mentions resolve by username
      list.push({ id: m.user_id, username: u.username, name: displayName(u, m.user_id), user: u });
    }
    return list.sort((a, b) => a.username.localeCompare(b.username));
  }, [state?.members, users, me]);

  // The app's user groups, offered beside people (`@designers` mentions its members who can read here).
  const client = useChatClient();
  const groups = useSyncExternalStore(
    (l) => client.groups.state.subscribe(l),
    () => client.groups.state.get().groups,
    () => client.groups.state.get().groups,
  );
  useEffect(() => {
    if (groupsAsked.has(client)) return;
    groupsAsked.add(client);
    void client.groups.load().catch(() => groupsAsked.delete(client));
  }, [client]);
  const slashing = !edit && text.startsWith('/') && cid !== '';
  useEffect(() => {
    if (!slashing) return;
    let live = true;
    client.commands.list(cid).then(
      (list) => {
        if (live) setServerCommands({ cid, list });
      },
      () => {}, // offline, or not a member yet: the local commands only
    );
    return () => {
      live = false;
    };
  }, [client, cid, slashing]);

  const options = useMemo<Option[]>(() => {
    if (dismissed) return [];
    const cmd = /^\/([a-z0-9_-]*)$/i.exec(text.slice(0, caret));
    if (cmd && !edit && caret === text.length) {
      const q = (cmd[1] as string).toLowerCase();
      const local: CommandOption['command'][] = [...commands];
      const remote = serverCommands?.cid === cid ? serverCommands.list : [];
      for (const c of remote)
        if (!local.some((l) => l.name === c.name))
          local.push({ name: c.name, description: c.description, ...(c.usage ? { args: c.usage } : {}) });
      return local
        .filter((c) => c.name.startsWith(q))
        .sort((a, b) => a.name.localeCompare(b.name))
        .slice(0, MAX_OPTIONS)
        .map((command) => ({ kind: 'command', key: command.name, command }));
    }
    const eq = emojiQuery(text, caret);
    if (eq && customEmoji.length) {
      const hit = (e: (typeof customEmoji)[number], f: (n: string) => boolean) => f(e.shortcode) || e.aliases.some(f);
      const first = customEmoji.filter((e) => hit(e, (n) => n.startsWith(eq.query)));
      const rest = customEmoji.filter((e) => !first.includes(e) && hit(e, (n) => n.includes(eq.query)));
      return [...first, ...rest]
        .slice(0, MAX_OPTIONS)
        .map((e) => ({ kind: 'emoji', key: `emoji:${e.shortcode}`, shortcode: e.shortcode, url: e.url }));
    }
    const mq = mentionQuery(text, caret);
    if (!mq) return [];
    const q = mq.query;
    const byUsername = members.filter((m) => m.username.toLowerCase().startsWith(q));
    const byName = members.filter(
      (m) =>
        !byUsername.includes(m) &&
        m.name
          .toLowerCase()
          .split(/\s+/)
          .some((w) => w.startsWith(q)),
    );
    const people: MentionOption[] = [...byUsername, ...byName].map((m) => ({
      kind: 'mention',
      key: m.id,
      insert: m.username,
      label: m.name,
      detail: `@${m.username}`,
      user: m.user,
    }));
    const teams: MentionOption[] = groups
      .filter((g) => g.handle.toLowerCase().startsWith(q) || g.name.toLowerCase().startsWith(q))
      .map((g) => ({
        kind: 'mention',
        key: `group:${g.id}`,
        insert: g.handle,
        label: g.name,
        detail: `@${g.handle} · group of ${g.member_count}`,
      }));
    const specials = parentId ? [] : SPECIAL_MENTIONS.filter((s) => s.insert.startsWith(q));
    return [...people, ...teams, ...specials].slice(0, MAX_OPTIONS);
  }, [dismissed, text, caret, edit, commands, serverCommands, cid, members, parentId, customEmoji, groups]);
  const open = options.length > 0;
  // The people offered show a presence dot: follow them while the list is open.
  useWatchPresence(options.flatMap((o) => (o.kind === 'mention' && o.user ? [o.key] : [])));
  const activeIndex = Math.min(active, Math.max(0, options.length - 1));

  useLayoutEffect(() => {
    const el = textarea.current;
    if (el && pendingCaret.current !== null) {
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
  });

  // Focus on mount / conversation change when asked, and whenever an edit starts.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is a trigger: focus again when the conversation changes
  useEffect(() => {
    if (autoFocus) textarea.current?.focus();
  }, [autoFocus, key]);
  const editId = edit?.id ?? null;
  useEffect(() => {
    if (!editId) return;
    const el = textarea.current;
    el?.focus();
    if (el) el.setSelectionRange(el.value.length, el.value.length);
  }, [editId]);

  const setText = (next: string, nextCaret: number) => {
    setCaret(nextCaret);
    setActive(0);
    setDismissed(false);
    if (edit) {
      setEdit({ ...edit, text: next });
      return;
    }
    setDraftState({ key, text: next });
    saveDraft(key, next);
    try {
      if (next.trim()) channel.keystroke(parentId);
      else channel.stopTyping(parentId);
    } catch {
      // a DM handle has no cid until it is created: nothing to notify yet
    }
  };

  const onChange = (e: ChangeEvent<HTMLTextAreaElement>) => {
    setError(null);
    setText(e.target.value, e.target.selectionStart ?? e.target.value.length);
  };

  const pick = (option: Option) => {
    if (option.kind === 'command') {
      const next = `/${option.command.name} `;
      pendingCaret.current = next.length;
      setText(next, next.length);
      return;
    }
    if (option.kind === 'emoji') {
      const eq = emojiQuery(text, caret);
      if (!eq) return;
      const insert = `:${option.shortcode}: `;
      const next = text.slice(0, eq.start) + insert + text.slice(caret);
      pendingCaret.current = eq.start + insert.length;
      setText(next, eq.start + insert.length);
      return;
    }
    const mq = mentionQuery(text, caret);
    if (!mq) return;
    const insert = `@${option.insert} `;
    const next = text.slice(0, mq.start) + insert + text.slice(caret);
    const at = mq.start + insert.length;
    pendingCaret.current = at;
    setText(next, at);
  };

  // The emoji picker: where the text was selected when it opened is where the pick goes.
  const [emojiOpen, setEmojiOpen] = useState(false);
  const emojiAt = useRef<{ start: number; end: number }>({ start: 0, end: 0 });
  const emojiButton = useRef<HTMLButtonElement>(null);
  const openEmoji = () => {
    const el = textarea.current;
    const len = el?.value.length ?? text.length;
    emojiAt.current = { start: el?.selectionStart ?? len, end: el?.selectionEnd ?? len };
    setEmojiOpen((o) => !o);
  };
  const insertEmoji = (e: EmojiEntry) => {
    const { start, end } = emojiAt.current;
    const next = text.slice(0, start) + e.native + text.slice(end);
    const at = start + e.native.length;
    pendingCaret.current = at;
    setText(next, at);
    setEmojiOpen(false);
    textarea.current?.focus();
  };

  const cancelEdit = () => {
    setEditing(null);
    textarea.current?.focus();
  };

  const editLast = (): boolean => {
    if (!me) return false;
    const list = parentId ? (state?.threads[parentId] ?? []) : (state?.messages ?? []);
    const mine = list.findLast(
      (m) => m.user_id === me && m.status === 'sent' && m.type === 'regular' && (parentId || !m.parent_id),
    );
    if (!mine) return false;
    setEditing({ id: mine.id, scope: parentId });
    return true;
  };

  const submit = () => {
    const body = text.trim();
    if (edit) {
      const { id: messageId, original } = edit;
      setEditing(null);
      if (!body || body === original.trim()) return;
      channel.updateMessage(messageId, body).catch((e: unknown) => {
        setError(`Could not save your edit: ${e instanceof Error ? e.message : String(e)}`);
      });
      return;
    }
    const files = pending.files;
    if (!body && !files.length) return;
    let out = body;
    if (body.startsWith('//')) out = body.slice(1);
    else if (body.startsWith('/')) {
      const m = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(body);
      const name = (m?.[1] ?? '').toLowerCase();
      // `/poll` alone (or with a question) opens the dialog; `/poll Q | a | b` is the server's.
      if (name === 'poll' && pollsHere && !(m?.[2] ?? '').includes('|')) {
        setText('', 0);
        setPollQuestion((m?.[2] ?? '').trim());
        return;
      }
      const command = name === 'poll' ? undefined : commands.find((c) => c.name === name);
      if (!command) {
        // The server's: parsed and run there (an unknown name comes back as UNKNOWN_COMMAND).
        if (!cid) {
          setError('Send a first message to start this conversation, then run commands in it.');
          return;
        }
        setText('', 0);
        client.commands.run(cid, body, { parentId }).catch((e: unknown) => {
          setText(body, body.length);
          setError(e instanceof Error ? e.message : String(e));
        });
        return;
      }
      const result = command.run(m?.[2] ?? '');
      if (result === null) {
        setError(`Usage: /${command.name}${command.args ? ` ${command.args}` : ''}`);
        return;
      }
      out = result;
    }
    if (out.length > MAX_MESSAGE_LENGTH) {
      setError(`Messages can be at most ${MAX_MESSAGE_LENGTH.toLocaleString()} characters.`);
      return;
    }
    setText('', 0);
    pending.clear();
    const quoted = quoting && quoting.seq > 0 ? quoting.id : null;
    if (quoting) setQuoting(null);
    channel
      .sendMessage({
        text: out,
        ...(parentId ? { parent_id: parentId } : {}),
        ...(quoted ? { quoted_message_id: quoted } : {}),
        ...(files.length ? { attachments: files } : {}),
      })
      .catch(() => {
        // a refused send shows in the list as failed, with Retry
      });
    onSend?.(out);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return; // IME composition: Enter confirms the composition
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = options.length;
        setActive((activeIndex + (e.key === 'ArrowDown' ? 1 : -1) + n) % n);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        const option = options[activeIndex];
        if (option) pick(option);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissed(true);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
      return;
    }
    if (e.key === 'Escape' && quoting && !edit) {
      e.preventDefault();
      e.stopPropagation();
      setQuoting(null);
      return;
    }
    if (e.key === 'Escape' && edit) {
      e.preventDefault();
      e.stopPropagation();
      cancelEdit();
      return;
    }
    if (e.key === 'ArrowUp' && text === '' && !edit) {
      if (editLast()) e.preventDefault();
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  const channelName = useChannelTitle(state);
  const label = edit ? 'Edit message' : parentId ? 'Reply in thread' : `Message ${channelName}`;
  const optionId = (i: number) => `${listId}-${i}`;

  return (
    <>
      {cid ? <EphemeralMessages cid={cid} parentId={parentId} /> : null}
      <form
        className={cx('parley-input', edit && 'parley-input--editing', className)}
        onSubmit={onSubmit}
        onDragOver={(e) => {
          if (!edit && e.dataTransfer.types.includes('Files')) e.preventDefault();
        }}
        onDrop={(e) => {
          if (edit || !e.dataTransfer.files.length) return;
          e.preventDefault();
          pending.add(e.dataTransfer.files);
        }}
      >
        {edit ? (
          <div className="parley-input__editing">
            <span>Editing message: Enter to save, Escape to cancel.</span>{' '}
            <button type="button" className="parley-link-button" onClick={cancelEdit}>
              Cancel
            </button>
          </div>
        ) : null}
        {quoting && !edit ? (
          <div className="parley-input__quoting" role="status">
            <span className="parley-quote parley-quote--draft">
              <span className="parley-quote__author">{displayName(quotedAuthor, quoting.user_id)}</span>
              <span className="parley-quote__text">{excerptOf(quoting.text, 120)}</span>
            </span>
            <button
              type="button"
              className="parley-icon-button"
              aria-label="Remove quote"
              onClick={() => {
                setQuoting(null);
                textarea.current?.focus();
              }}
            >
              <span aria-hidden="true">×</span>
            </button>
          </div>
        ) : null}
        {open ? (
          <div
            id={listId}
            role="listbox"
            className="parley-suggestions"
            aria-label={
              options[0]?.kind === 'command'
                ? 'Commands'
                : options[0]?.kind === 'emoji'
                  ? 'Custom emoji'
                  : 'People to mention'
            }
          >
            {options.map((o, i) => (
              <div
                key={o.key}
                id={optionId(i)}
                role="option"
                tabIndex={-1}
                aria-selected={i === activeIndex}
                className={cx('parley-suggestions__option', i === activeIndex && 'parley-suggestions__option--active')}
                onMouseDown={(e) => {
                  e.preventDefault(); // keep the focus in the textarea
                  pick(o);
                }}
                onMouseEnter={() => setActive(i)}
              >
                {o.kind === 'emoji' ? (
                  <span className="parley-suggestions__label">
                    <img className="parley-emoji" src={o.url} alt="" /> :{o.shortcode}:
                  </span>
                ) : o.kind === 'command' ? (
                  <>
                    <span className="parley-suggestions__label">
                      /{o.command.name}
                      {o.command.args ? <span className="parley-muted"> {o.command.args}</span> : null}
                    </span>
                    <span className="parley-suggestions__detail">{o.command.description}</span>
                  </>
                ) : (
                  <>
                    {o.user ? (
                      <PresenceDot presence={o.user.presence ?? 'offline'} className="parley-suggestions__presence" />
                    ) : null}
                    <span className="parley-suggestions__label">{o.label}</span>
                    <span className="parley-suggestions__detail">{o.detail}</span>
                  </>
                )}
              </div>
            ))}
          </div>
        ) : null}
        <PendingFiles files={pending.files} onRemove={pending.remove} />
        {emojiOpen ? (
          <EmojiPicker
            className="parley-input__emoji-picker"
            custom={customEmoji}
            onPick={insertEmoji}
            anchor={emojiButton}
            onClose={(how) => {
              setEmojiOpen(false);
              // Escape goes back to the text; a click elsewhere leaves the focus where it went.
              if (how === 'escape') textarea.current?.focus();
            }}
          />
        ) : null}
        <div className="parley-input__row">
          {edit ? null : <AttachButton onFiles={pending.add} accept={accept} />}
          <button
            ref={emojiButton}
            type="button"
            className="parley-button parley-input__emoji"
            aria-label="Insert emoji"
            title="Insert emoji"
            aria-haspopup="dialog"
            aria-expanded={emojiOpen}
            onClick={openEmoji}
          >
            <span aria-hidden="true">☺</span>
          </button>
          {pollsHere && !edit ? (
            <button
              type="button"
              className="parley-button parley-input__poll"
              aria-label="Create poll"
              title="Create poll"
              aria-haspopup="dialog"
              onClick={() => setPollQuestion('')}
            >
              <span aria-hidden="true">▤</span>
            </button>
          ) : null}
          <textarea
            ref={textarea}
            className="parley-input__textarea"
            rows={1}
            value={text}
            placeholder={placeholder ?? (parentId ? 'Reply…' : `Message ${channelName}`)}
            aria-label={label}
            aria-describedby={hintId}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={open}
            aria-controls={open ? listId : undefined}
            aria-activedescendant={open ? optionId(activeIndex) : undefined}
            onChange={onChange}
            onKeyDown={onKeyDown}
            onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
            onPaste={(e) => {
              if (edit || !e.clipboardData.files.length) return;
              e.preventDefault();
              pending.add(e.clipboardData.files);
            }}
          />
          <button
            type="submit"
            className="parley-button parley-button--primary"
            disabled={!text.trim() && !pending.files.length}
          >
            {edit ? 'Save' : 'Send'}
          </button>
        </div>
        <p id={hintId} className="parley-sr-only">
          Enter to send, Shift+Enter for a new line. Type @ to mention someone and / for commands.
          {edit ? '' : ' Press the up arrow in an empty box to edit your last message.'}
        </p>
        {error ? (
          <p className="parley-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
      {/* Beside the composer's form, not in it: a form may not hold another. */}
      {pollQuestion !== null ? (
        <PollComposer
          initialQuestion={pollQuestion}
          onClose={() => {
            setPollQuestion(null);
            textarea.current?.focus();
          }}
        />
      ) : null}
    </>
  );
}
