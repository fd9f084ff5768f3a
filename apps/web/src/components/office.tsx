/**
 * The office (sidebar "Office"): the workspace's spaces as cards with who is in each (avatars
 * with presence), a click on a card to go there, a person's menu (message, call, bring them
 * here), and the room chat of the space you are in beside it. Teleports and knocks that
 * concern you show as a bar with their answers. Admins lay the office out here too: add a
 * space, and on each card edit it (name, kind, capacity), move it up or down, or delete it
 * (the server refuses while someone is in it; the card says why). The room chat folds to a
 * slim bar with the room's name and unread count (on a phone: a bar under the cards, and open
 * it takes the screen, its back button folding it again); the choice is kept per device.
 */
import { keepLoading } from '@parley/client';
import type { Space, SpaceInvitation, SpaceKind } from '@parley/protocol';
import { Avatar, PresenceDot, useChannelState, useChatClient, useUser, useWatchPresence } from '@parley/react';
import { useEffect, useMemo, useState } from 'react';
import { useSpaces } from '../hooks/use-spaces.js';
import { usePhoneLayout } from '../lib/layout.js';
import { Conversation } from './conversation.js';
import { NavButton } from './nav-button.js';

const KIND_LABEL: Record<SpaceKind, string> = {
  desk: 'Desk',
  meeting_room: 'Meeting room',
  lounge: 'Lounge',
  kitchen: 'Kitchen',
  focus: 'Focus room',
  other: 'Space',
};
const STATUS_LABEL = { free: 'Free', in_use: 'In use', in_meeting: 'In a meeting' } as const;

/** Whether the room chat beside the cards is open, kept per device like the theme. */
const ROOM_PANEL_KEY = 'parley:office-room';
type RoomPanel = 'expanded' | 'collapsed';
function readRoomPanel(): RoomPanel | null {
  try {
    const v = localStorage.getItem(ROOM_PANEL_KEY);
    return v === 'expanded' || v === 'collapsed' ? v : null;
  } catch {
    return null;
  }
}

/**
 * The room panel's state: the device's saved choice, else open beside the cards on a wide
 * screen and folded on a phone (where open means the whole screen, over the cards).
 */
function useRoomPanel(phone: boolean): [RoomPanel, (next: RoomPanel) => void] {
  const [saved, setSaved] = useState<RoomPanel | null>(readRoomPanel);
  const set = (next: RoomPanel) => {
    setSaved(next);
    try {
      localStorage.setItem(ROOM_PANEL_KEY, next);
    } catch {}
  };
  return [saved ?? (phone ? 'collapsed' : 'expanded'), set];
}
const ROOM_ID = 'app-office-room';

function Person({
  userId,
  mine,
  onMessage,
}: {
  userId: string;
  /** The space I am in, if any: then I may bring this person here. */
  mine: Space | null;
  onMessage(userId: string): void;
}) {
  const client = useChatClient();
  const user = useUser(userId);
  const [open, setOpen] = useState(false);
  const me = client.me;
  const online = user?.presence === 'online' || user?.presence === 'away';
  const here = mine?.occupants.some((o) => o.user_id === userId) ?? false;
  return (
    <span className="app-office__person">
      <button
        type="button"
        className="app-office__avatar"
        aria-label={user?.name ?? userId}
        title={user?.name ?? userId}
        onClick={(e) => {
          e.stopPropagation();
          if (userId !== me) setOpen((o) => !o);
        }}
      >
        <Avatar user={user} id={userId} size={36} />
        <PresenceDot presence={user?.presence} className="app-office__dot" />
      </button>
      {open ? (
        <span className="app-office__menu" role="menu" onClick={(e) => e.stopPropagation()} onKeyDown={() => {}}>
          <strong>{user?.name ?? userId}</strong>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              onMessage(userId);
            }}
          >
            Message
          </button>
          {online ? (
            <button
              type="button"
              role="menuitem"
              onClick={async () => {
                setOpen(false);
                const dm = client.channel('dm', { members: [userId] });
                await dm.createChannel();
                await client.call(dm.cid, {});
              }}
            >
              Call
            </button>
          ) : null}
          {mine && !here && online ? (
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                setOpen(false);
                void client.spaces.teleport(mine.id, userId).catch(() => {});
              }}
            >
              Bring to {mine.name}
            </button>
          ) : null}
        </span>
      ) : null}
    </span>
  );
}

function Invitations() {
  const client = useChatClient();
  const [list, setList] = useState<SpaceInvitation[]>([]);
  const spaces = useSpaces();
  useEffect(
    () =>
      client.spaces.on('invitation', (inv) =>
        setList((l) => {
          const rest = l.filter(
            (x) => !(x.kind === inv.kind && x.space_id === inv.space_id && x.from_user_id === inv.from_user_id),
          );
          return inv.state === 'pending' ? [...rest, inv] : rest;
        }),
      ),
    [client],
  );
  const me = client.me;
  const shown = list.filter((i) => i.from_user_id !== me);
  if (shown.length === 0) return null;
  const name = (id: string) => spaces.find((s) => s.id === id)?.name ?? 'a space';
  return (
    <div className="app-office__invitations">
      {shown.map((i) => (
        <InvitationBar key={`${i.kind}:${i.space_id}:${i.from_user_id}`} invitation={i} spaceName={name(i.space_id)} />
      ))}
    </div>
  );
}

function InvitationBar({ invitation: i, spaceName }: { invitation: SpaceInvitation; spaceName: string }) {
  const client = useChatClient();
  const from = useUser(i.from_user_id);
  const who = from?.name ?? i.from_user_id;
  const teleport = i.kind === 'teleport';
  const answer = (yes: boolean) =>
    void (
      teleport
        ? client.spaces.answerTeleport(i.space_id, yes)
        : client.spaces.answerKnock(i.space_id, i.from_user_id, yes)
    ).catch(() => {});
  return (
    <div className="app-office__invitation" role="alert">
      <span>{teleport ? `${who} asks you to join them in ${spaceName}` : `${who} is knocking on ${spaceName}`}</span>
      <button type="button" className="app-button app-button--primary" onClick={() => answer(true)}>
        {teleport ? 'Go there' : 'Let in'}
      </button>
      <button type="button" className="app-button" onClick={() => answer(false)}>
        {teleport ? 'Not now' : 'Turn away'}
      </button>
    </div>
  );
}

function NewSpace() {
  const client = useChatClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SpaceKind>('desk');
  const [capacity, setCapacity] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="app-office__new"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await client.spaces.create({ name, kind, capacity: capacity ? Number(capacity) : null });
          setName('');
          setCapacity('');
          setError(null);
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <input
        aria-label="Space name"
        placeholder="New space"
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
      />
      <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value as SpaceKind)}>
        {Object.entries(KIND_LABEL).map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      <input
        aria-label="Capacity"
        placeholder="Capacity"
        type="number"
        min={1}
        value={capacity}
        onChange={(e) => setCapacity(e.target.value)}
      />
      <button type="submit" className="app-button">
        Add space
      </button>
      {error ? <span className="app-error">{error}</span> : null}
    </form>
  );
}

/** An admin's controls on one space's card: move it, or open its form (edit, delete). */
function SpaceAdmin({ space: s, spaces }: { space: Space; spaces: Space[] }) {
  const client = useChatClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(s.name);
  const [kind, setKind] = useState<SpaceKind>(s.kind);
  const [capacity, setCapacity] = useState(s.capacity ? String(s.capacity) : '');
  const [error, setError] = useState<string | null>(null);
  const at = spaces.findIndex((x) => x.id === s.id);
  const run = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  };
  // The whole order as shown is sent, with the two neighbours swapped: the server numbers the
  // positions 0, 1, … from it, so the move holds whatever positions the spaces had before.
  const move = (by: -1 | 1) => {
    const order = spaces.map((x) => x.id);
    const to = at + by;
    if (at < 0 || to < 0 || to >= order.length) return;
    [order[at], order[to]] = [order[to] as string, order[at] as string];
    void run(() => client.spaces.arrange(order));
  };
  const open = () => {
    setName(s.name);
    setKind(s.kind);
    setCapacity(s.capacity ? String(s.capacity) : '');
    setError(null);
    setEditing(true);
  };
  return (
    <div className="app-office__admin">
      <div className="app-office__admin-row">
        <button
          type="button"
          className="app-button"
          aria-label={`Move ${s.name} up`}
          disabled={at <= 0}
          onClick={() => move(-1)}
        >
          ↑
        </button>
        <button
          type="button"
          className="app-button"
          aria-label={`Move ${s.name} down`}
          disabled={at < 0 || at >= spaces.length - 1}
          onClick={() => move(1)}
        >
          ↓
        </button>
        <button
          type="button"
          className="app-button"
          aria-expanded={editing}
          onClick={() => (editing ? setEditing(false) : open())}
        >
          {editing ? 'Close' : 'Edit'}
        </button>
      </div>
      {editing ? (
        <form
          className="app-office__edit"
          aria-label={`Edit ${s.name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            const done = await run(() =>
              client.spaces.update(s.id, { name, kind, capacity: capacity ? Number(capacity) : null }),
            );
            if (done) setEditing(false);
          }}
        >
          {/* Each field labelled where it is seen: an empty capacity shows only "No limit". */}
          <label className="app-office__field">
            <span>Name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label className="app-office__field">
            <span>Kind</span>
            <select value={kind} onChange={(e) => setKind(e.target.value as SpaceKind)}>
              {Object.entries(KIND_LABEL).map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label className="app-office__field">
            <span>Capacity</span>
            <input
              placeholder="No limit"
              type="number"
              min={1}
              value={capacity}
              onChange={(e) => setCapacity(e.target.value)}
            />
          </label>
          <button type="submit" className="app-button app-button--primary">
            Save
          </button>
          <button
            type="button"
            className="app-button app-button--danger"
            onClick={() => void run(() => client.spaces.remove(s.id))}
          >
            Delete
          </button>
        </form>
      ) : null}
      {error ? (
        <p className="app-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Office({
  isAdmin,
  onMessage,
  onOpenConversation,
  onOpenNav,
}: {
  isAdmin: boolean;
  onMessage(userId: string): void;
  onOpenConversation(cid: string): void;
  /** The header's leading button (back to the sidebar on a phone). */
  onOpenNav?(): void;
}) {
  const client = useChatClient();
  const spaces = useSpaces();
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      keepLoading(() => client.spaces.watch().then(() => setError(null)), {
        onError: (e) => setError((e as Error).message),
      }),
    [client],
  );
  const me = client.me;
  const mine = spaces.find((s) => s.occupants.some((o) => o.user_id === me)) ?? null;
  const everyone = useMemo(() => spaces.flatMap((s) => s.occupants.map((o) => o.user_id)), [spaces]);
  useWatchPresence(everyone);
  const room = useMemo(
    () => (mine?.cid ? client.channel('group', mine.cid.slice('group:'.length)) : null),
    [client, mine?.cid],
  );
  const phone = usePhoneLayout();
  const [panel, setPanel] = useRoomPanel(phone);
  const unread = useChannelState(room)?.unreadCount ?? 0;

  const enter = async (s: Space) => {
    setError(null);
    try {
      if (s.status === 'in_meeting' && s.id !== mine?.id) await client.spaces.knock(s.id);
      else await client.spaces.enter(s.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="app-office" data-room={room ? panel : 'none'}>
      <section className="app-office__floor" aria-label="Office">
        <header className="app-office__header">
          {onOpenNav ? <NavButton onClick={onOpenNav} /> : null}
          <h1>Office</h1>
          {mine ? (
            <span className="app-office__here">
              You are in <strong>{mine.name}</strong>
              {mine.cid ? (
                <button type="button" className="app-button" onClick={() => void client.call(mine.cid as string, {})}>
                  Start call
                </button>
              ) : null}
              <button type="button" className="app-button" onClick={() => void client.spaces.leave()}>
                Leave
              </button>
            </span>
          ) : (
            <span className="app-muted">Click a space to go there.</span>
          )}
        </header>
        <Invitations />
        {error ? (
          <p className="app-error" role="alert">
            {error}
          </p>
        ) : null}
        <ul className="app-office__grid">
          {spaces.map((s) => (
            <li key={s.id}>
              <div
                className={`app-office__space app-office__space--${s.status}${s.id === mine?.id ? ' app-office__space--mine' : ''}`}
              >
                <button
                  type="button"
                  className="app-office__space-head"
                  aria-label={`${s.name}, ${STATUS_LABEL[s.status]}`}
                  onClick={() => void enter(s)}
                >
                  <strong>{s.name}</strong>
                  <span className="app-office__kind">{KIND_LABEL[s.kind]}</span>
                </button>
                <div className="app-office__people">
                  {s.occupants.map((o) => (
                    <Person key={o.user_id} userId={o.user_id} mine={mine} onMessage={onMessage} />
                  ))}
                </div>
                <div className="app-office__space-foot">
                  <span className={`app-office__status app-office__status--${s.status}`}>{STATUS_LABEL[s.status]}</span>
                  <span className="app-muted">
                    {s.occupants.length}
                    {s.capacity ? ` / ${s.capacity}` : ''}
                  </span>
                </div>
                {isAdmin ? <SpaceAdmin space={s} spaces={spaces} /> : null}
              </div>
            </li>
          ))}
        </ul>
        {spaces.length === 0 ? <p className="app-muted">No spaces yet.{isAdmin ? ' Add one below.' : ''}</p> : null}
        {isAdmin ? <NewSpace /> : null}
      </section>
      {room && mine && panel === 'collapsed' ? (
        <button
          type="button"
          className="app-office__room-bar"
          aria-expanded={false}
          aria-controls={ROOM_ID}
          aria-label={`Show the room chat of ${mine.name}${unread > 0 ? `, ${unread} unread` : ''}`}
          onClick={() => setPanel('expanded')}
        >
          <span className="app-office__room-bar-name">{mine.name}</span>
          {unread > 0 ? <span className="app-office__room-unread">{unread}</span> : null}
        </button>
      ) : null}
      {room && mine ? (
        <section id={ROOM_ID} className="app-office__room" aria-label="Room chat" hidden={panel === 'collapsed'}>
          {/* Folded, the room is not mounted: what arrives stays unread, and the bar counts it. */}
          {panel === 'expanded' ? (
            <>
              <div className="app-office__room-head">
                {/* The room's own header (its compact form) names it just below. */}
                <span className="app-office__room-name">Room chat</span>
                <button
                  type="button"
                  className="app-button"
                  aria-expanded={true}
                  aria-controls={ROOM_ID}
                  onClick={() => setPanel('collapsed')}
                >
                  {phone ? '← Office' : 'Hide room chat →'}
                </button>
              </div>
              <Conversation
                key={room.cid}
                channel={room}
                focusMessageId={null}
                onOpenConversation={onOpenConversation}
                onLeft={() => {}}
                onOpenNav={() => setPanel('collapsed')}
                compactHeader
              />
            </>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
