/**
 * The catalogue's stories: each exported component of @parley/react in its main states, on real
 * clients connected to the server that serves the catalogue (seeded by `parley demo`).
 *
 * `ready` is a CSS selector that is on the page once the story shows what it is about (the
 * kit's test waits for it before looking at the console and taking the screenshot).
 */
import type { ChatClient, LocalMessage } from '@parley/client';
import type { User } from '@parley/protocol';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import {
  Avatar,
  BookmarksBar,
  CallButtons,
  CallHistory,
  Channel,
  ChannelList,
  EmojiPicker,
  InboxBadge,
  InboxList,
  MessageInput,
  MessageItem,
  MessageList,
  MessageSearch,
  type MessageUIProps,
  NotesPanel,
  PresenceDot,
  ReactionPicker,
  SavedList,
  TaskList,
  Thread,
  TypingIndicator,
  UserProfileCard,
  useTyping,
} from '../src/index.js';

/** What the stories get: the demo's Ada (the viewer) and Grace (someone else), and lookups. */
export interface Kit {
  ada: ChatClient;
  grace: ChatClient;
  /** The loaded message of `cid` whose text starts with `prefix`. */
  find(cid: string, prefix: string): LocalMessage;
  dmCid: string;
}

export interface Story {
  id: string;
  component: string;
  state: string;
  ready: string;
  render(kit: Kit): ReactNode;
}

const GENERAL = 'public:general';
const noop = () => {};
const handle = (c: ChatClient, cid: string) => {
  const [type, id] = cid.split(':') as [string, string];
  return c.channel(type, id);
};

function Pane({ children, width = 720, height }: { children: ReactNode; width?: number; height?: number }) {
  return (
    <div className="kit-pane" style={{ width, ...(height ? { height } : {}) }}>
      {children}
    </div>
  );
}

function ChannelView({ kit, cid, children }: { kit: Kit; cid: string; children: ReactNode }) {
  const ch = useMemo(() => handle(kit.ada, cid), [kit, cid]);
  return <Channel channel={ch}>{children}</Channel>;
}

/** A channel made for the story, with nothing in it yet (the empty state). */
function EmptyChannel({ kit }: { kit: Kit }) {
  const [ch, setCh] = useState<ReturnType<typeof handle> | null>(null);
  useEffect(() => {
    const id = `kit-empty-${Date.now().toString(36)}`;
    const c = kit.ada.channel('public', id);
    c.createChannel({ name: id }).then(() => setCh(c), noop);
  }, [kit]);
  if (!ch) return null;
  return (
    <Channel channel={ch}>
      <MessageList />
    </Channel>
  );
}

/** Grace types in #general for as long as the story is open (the SDK throttles her frames). */
function GraceTyping({ kit, parentId = null }: { kit: Kit; parentId?: string | null }) {
  useEffect(() => {
    const ch = handle(kit.grace, GENERAL);
    ch.keystroke(parentId);
    const t = setInterval(() => ch.keystroke(parentId), 1_500);
    return () => {
      clearInterval(t);
      ch.stopTyping(parentId);
    };
  }, [kit, parentId]);
  return null;
}

/** useTyping in a component of one's own: the names, and your typing sent as you type. */
function TypingHookDemo() {
  const { names, keystroke } = useTyping();
  return (
    <div className="kit-typing-hook">
      <input className="parley-input" placeholder="Type here: useTyping().keystroke()" onChange={keystroke} />
      <p>
        useTyping().names: <strong data-testid="typing-names">{names.join(', ') || '—'}</strong>
      </p>
    </div>
  );
}

/** A custom message row through the MessageUI slot: a compact chat-bubble look. */
function Bubble({ message, mine, actions, Default, defaultProps }: MessageUIProps) {
  if (message.poll || message.attachments?.length) return <Default {...defaultProps} />;
  const reactions = Object.entries(message.reactions).filter(([, n]) => n > 0);
  return (
    <div className={`kit-bubble ${mine ? 'kit-bubble--mine' : ''}`} data-message-id={message.id}>
      <div className="kit-bubble__who">{message.user?.name ?? message.user_id}</div>
      <div className="kit-bubble__text">{message.type === 'deleted' ? <em>deleted</em> : message.text}</div>
      <div className="kit-bubble__meta">
        {reactions.map(([t, n]) => (
          <span key={t}>
            {t} {n}{' '}
          </span>
        ))}
        {message.reply_count > 0 ? <span>· {message.reply_count} replies</span> : null}
        <button type="button" className="parley-link-button" onClick={() => void actions.toggleReaction('like')}>
          👍
        </button>
      </div>
    </div>
  );
}

export const STORIES: Story[] = [
  {
    id: 'channel-list',
    component: 'ChannelList',
    state: 'channels and DMs, with unread',
    ready: '.parley-channel-row__name',
    render: () => (
      <Pane width={300} height={520}>
        <ChannelList activeCid={GENERAL} onSelect={noop} />
      </Pane>
    ),
  },
  {
    id: 'channel-list-sections',
    component: 'ChannelList',
    state: 'sidebar sections (Starred, custom)',
    ready: '.parley-channel-row__name',
    render: () => (
      <Pane width={300} height={560}>
        <ChannelList activeCid={GENERAL} onSelect={noop} sections />
      </Pane>
    ),
  },
  {
    id: 'message-list',
    component: 'MessageList',
    state: 'with data: threads, reactions, a poll, a quote',
    ready: 'article.parley-message',
    render: (kit) => (
      <Pane height={640}>
        <ChannelView kit={kit} cid={GENERAL}>
          <MessageList markRead={false} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'message-list-loading',
    component: 'MessageList',
    state: 'loading',
    ready: '.parley-message-list__loading',
    render: (kit) => (
      <Pane height={200}>
        <Channel channel={kit.ada.channel('public', 'engineering')} watch={false}>
          <MessageList />
        </Channel>
      </Pane>
    ),
  },
  {
    id: 'message-list-empty',
    component: 'MessageList',
    state: 'empty',
    ready: '.parley-message-list__empty',
    render: (kit) => (
      <Pane height={200}>
        <EmptyChannel kit={kit} />
      </Pane>
    ),
  },
  {
    id: 'channel-error',
    component: 'Channel',
    state: 'error (no such channel)',
    ready: '.parley-error',
    render: (kit) => (
      <Pane height={160}>
        <Channel channel={kit.ada.channel('public', 'no-such-channel')}>
          <MessageList />
        </Channel>
      </Pane>
    ),
  },
  {
    id: 'message-states',
    component: 'MessageItem',
    state: "own vs other's, edited, deleted",
    ready: 'article.parley-message--deleted',
    render: (kit) => (
      <Pane height={420}>
        <ChannelView kit={kit} cid="public:random">
          <MessageList markRead={false} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'message-reactions',
    component: 'MessageItem',
    state: 'reactions, pinned',
    ready: '.parley-reactions',
    render: (kit) => (
      <Pane>
        <ChannelView kit={kit} cid={GENERAL}>
          <MessageItem message={kit.find(GENERAL, 'Welcome to')} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'message-own',
    component: 'MessageItem',
    state: 'own message, with its toolbar',
    ready: 'article.parley-message--mine',
    render: (kit) => (
      <Pane>
        <ChannelView kit={kit} cid={kit.dmCid}>
          <MessageItem message={kit.find(kit.dmCid, 'Wouldn')} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'attachments',
    component: 'MessageAttachments',
    state: 'an image and a file',
    ready: '.parley-message img',
    render: (kit) => (
      <Pane height={560}>
        <ChannelView kit={kit} cid="public:design">
          <MessageList markRead={false} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'poll',
    component: 'Poll',
    state: 'open, with votes',
    ready: '.parley-poll',
    render: (kit) => (
      <Pane>
        <ChannelView kit={kit} cid={GENERAL}>
          <MessageItem message={kit.find(GENERAL, 'Where should the launch party')} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'thread',
    component: 'Thread',
    state: 'a parent and its replies',
    ready: '.parley-thread__replies li',
    render: (kit) => (
      <Pane width={460} height={640}>
        <ChannelView kit={kit} cid={GENERAL}>
          <Thread parentId={kit.find(GENERAL, 'The 2.0 launch').id} onClose={noop} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'read-by',
    component: 'SeenBy',
    state: 'a DM, read by the other',
    ready: '.parley-message__seen, .parley-seen-by',
    render: (kit) => (
      <Pane height={300}>
        <ChannelView kit={kit} cid={kit.dmCid}>
          <MessageList markRead={false} />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'typing',
    component: 'TypingIndicator',
    state: 'someone typing, and useTyping',
    ready: '.parley-typing:not(:empty)',
    render: (kit) => (
      <Pane>
        <GraceTyping kit={kit} />
        <ChannelView kit={kit} cid={GENERAL}>
          <TypingIndicator />
          <TypingHookDemo />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'message-input',
    component: 'MessageInput',
    state: 'the composer',
    ready: '.parley-message-input textarea, textarea',
    render: (kit) => (
      <Pane>
        <ChannelView kit={kit} cid={GENERAL}>
          <MessageInput />
        </ChannelView>
      </Pane>
    ),
  },
  {
    id: 'presence',
    component: 'Avatar, PresenceDot',
    state: 'avatars with presence dots',
    ready: '.parley-avatar',
    render: (kit) => <People kit={kit} />,
  },
  {
    id: 'profile-card',
    component: 'UserProfileCard',
    state: "someone's profile",
    ready: '.parley-profile__name',
    render: (kit) => (
      <Pane width={380}>
        <UserProfileCard userId={kit.grace.me} onClose={noop} />
      </Pane>
    ),
  },
  {
    id: 'inbox',
    component: 'InboxList, InboxBadge',
    state: 'a mention waiting',
    ready: '.parley-inbox li',
    render: () => (
      <Pane width={480} height={420}>
        <p>
          Activity <InboxBadge />
        </p>
        <InboxList />
      </Pane>
    ),
  },
  {
    id: 'saved',
    component: 'SavedList',
    state: 'a saved message',
    ready: '.parley-saved li, .parley-saved-list li',
    render: () => (
      <Pane width={480} height={360}>
        <SavedList />
      </Pane>
    ),
  },
  {
    id: 'tasks',
    component: 'TaskList',
    state: 'a task given to you',
    ready: '.parley-tasks li',
    render: () => (
      <Pane width={480} height={300}>
        <TaskList />
      </Pane>
    ),
  },
  {
    id: 'bookmarks',
    component: 'BookmarksBar',
    state: "a channel's bookmarks",
    ready: '.parley-bookmarks a, .parley-bookmarks-bar a',
    render: () => (
      <Pane>
        <BookmarksBar cid={GENERAL} />
      </Pane>
    ),
  },
  {
    id: 'notes',
    component: 'NotesPanel',
    state: "a channel's notes",
    ready: '.parley-notes li, .parley-note',
    render: () => (
      <Pane width={520} height={420}>
        <NotesPanel cid={GENERAL} />
      </Pane>
    ),
  },
  {
    id: 'search',
    component: 'MessageSearch',
    state: 'results for "launch"',
    ready: 'mark',
    render: () => (
      <Pane height={480}>
        <MessageSearch onOpen={noop} initialQuery="launch" />
      </Pane>
    ),
  },
  {
    id: 'calls',
    component: 'CallButtons, CallHistory',
    state: 'start a call; no calls yet',
    ready: '.parley-call-buttons',
    render: () => (
      <Pane>
        <CallButtons cid={GENERAL} />
        <CallHistory cid={GENERAL} />
      </Pane>
    ),
  },
  {
    id: 'reaction-picker',
    component: 'ReactionPicker',
    state: 'open',
    ready: '.parley-reaction-picker__option',
    render: () => (
      <Pane height={200}>
        <ReactionPicker onPick={noop} onClose={noop} selected={['like']} />
      </Pane>
    ),
  },
  {
    id: 'emoji-picker',
    component: 'EmojiPicker',
    state: 'open',
    ready: '.parley-emoji-picker__option',
    render: () => (
      <Pane width={380} height={440}>
        <EmojiPicker onPick={noop} onClose={noop} />
      </Pane>
    ),
  },
  {
    id: 'message-ui',
    component: 'MessageUI slot',
    state: 'a custom row, falling back to the default for polls and files',
    ready: '.kit-bubble',
    render: (kit) => (
      <Pane height={640}>
        <ChannelView kit={kit} cid={GENERAL}>
          <MessageList markRead={false} MessageUI={Bubble} />
        </ChannelView>
      </Pane>
    ),
  },
];

function People({ kit }: { kit: Kit }) {
  const [users, setUsers] = useState<User[]>([]);
  useEffect(() => {
    kit.ada.queryUsers('', 20).then(setUsers, noop);
  }, [kit]);
  const presences = ['online', 'away', 'busy', 'offline'] as const;
  return (
    <Pane width={520}>
      <ul className="kit-people">
        {users.map((u, i) => (
          <li key={u.id}>
            <span className="parley-avatar-dot">
              <Avatar user={u} id={u.id} />
              <PresenceDot presence={presences[i % presences.length]} className="parley-avatar-dot__dot" />
            </span>{' '}
            {u.name} <span className="parley-muted">({presences[i % presences.length]})</span>
          </li>
        ))}
      </ul>
    </Pane>
  );
}
