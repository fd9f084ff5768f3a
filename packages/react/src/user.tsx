/**
 * People: avatars, presence dots, the profile card, and how a user id becomes a user
 * (the client's `users` map first, then the open channel's members, then message authors).
 */
import type { ChannelState, ClientState } from '@parley/client';
import { imageUrlAt, type ProfileField, type User } from '@parley/protocol';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useBlurhash } from './attachments.js';
import { useOptionalChannelContext } from './channel.js';
import { cidOf, useClientState } from './context.js';
import { cx, devicesText, displayName, initials, isSafeUrl, localTime, relativeTime } from './format.js';

/** A user's presence as the UI shows it. */
export type Presence = NonNullable<User['presence']>;

/** Find a user by id: the client's users map (freshest presence and status), else a channel member's user. */
export function lookupUser(state: ClientState, channel: ChannelState | undefined, id: string): User | undefined {
  const known = state.users[id];
  const member = channel?.members[id]?.user;
  if (known && member) return { ...member, ...known };
  return known ?? member;
}

/**
 * A user by id, from the client's state and the open channel's members; re-renders when that
 * user changes and only then (not on each new message of the channel: every row of a message
 * list asks for its author).
 */
export function useUser(userId: string | null | undefined): User | undefined {
  const cid = cidOf(useOptionalChannelContext()?.channel);
  return useClientState((s) => (userId ? lookupUser(s, cid ? s.channels[cid] : undefined, userId) : undefined));
}

const PRESENCE_LABEL: Record<Presence, string> = {
  online: 'Online',
  away: 'Away',
  busy: 'Busy (do not disturb)',
  offline: 'Offline',
};

/** Props of {@link PresenceDot}. */
export interface PresenceDotProps {
  presence: Presence | undefined;
  className?: string;
}

/** A coloured dot for a user's presence, with a text alternative. */
export function PresenceDot({ presence = 'offline', className }: PresenceDotProps) {
  return (
    <span
      className={cx('parley-presence', `parley-presence--${presence}`, className)}
      role="img"
      aria-label={PRESENCE_LABEL[presence]}
      title={PRESENCE_LABEL[presence]}
    />
  );
}

/** Props of {@link Avatar}. */
export interface AvatarProps {
  user: (Pick<User, 'name' | 'username' | 'image'> & Pick<Partial<User>, 'image_blurhash'>) | undefined;
  /** The id, for the initials when the user is unknown. */
  id: string;
  /** Pixel size; default 32. */
  size?: number;
  className?: string;
}

/**
 * A user's picture (http/https only), or their initials (also when the picture fails to load). Decorative: names are always shown beside
 * it. A Parley picture URL (`/v1/images/…`) is asked for at twice the drawn size, so it is sharp on
 * high-density screens without fetching the largest rendition for a 16-pixel face. While it
 * loads, an uploaded picture's blurhash (`image_blurhash`) is drawn in its place.
 */
export function Avatar({ user, id, size = 32, className }: AvatarProps) {
  const name = displayName(user, id);
  const style = { width: size, height: size, fontSize: Math.round(size * 0.4) };
  const src = isSafeUrl(user?.image) ? imageUrlAt(user.image, size * 2) : null;
  const placeholder = useBlurhash(src ? (user?.image_blurhash ?? null) : null, 1, 1);
  // Which picture has loaded: a new one shows its own placeholder until it has.
  const [loaded, setLoaded] = useState<string | null>(null);
  // A picture that cannot be shown (gone, unreachable, refused by the page's policy) falls back
  // to the initials, never a broken-image icon.
  const [failed, setFailed] = useState<string | null>(null);
  if (src && failed !== src) {
    const waiting = placeholder !== null && loaded !== src;
    return (
      <img
        className={cx('parley-avatar', waiting && 'parley-avatar--placeholder', className)}
        src={src}
        alt=""
        width={size}
        height={size}
        style={waiting ? { ...style, backgroundImage: `url(${placeholder})`, backgroundSize: 'cover' } : style}
        referrerPolicy="no-referrer"
        loading="lazy"
        onLoad={() => setLoaded(src)}
        onError={() => setFailed(src)}
      />
    );
  }
  return (
    <span className={cx('parley-avatar', 'parley-avatar--initials', className)} style={style} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/** Props of {@link UserProfileCard}. */
export interface UserProfileCardProps {
  /** Whose profile: looked up in the client's state (and the open channel's members). */
  userId: string;
  /** A user object to show instead of (or before) the lookup finds one. */
  user?: User;
  /** When given, a close button is shown and Escape closes. */
  onClose?(): void;
  /** Focus the card when it opens (for popovers); default false. */
  autoFocus?: boolean;
  /**
   * The app's custom profile fields (`client.profiles.fields()`), to name and order the user's
   * `fields`; values of fields not listed here are not shown.
   */
  fields?: readonly ProfileField[];
  /** Buttons under the profile ("Message", "Call", …). */
  actions?: ReactNode;
  className?: string;
}

/**
 * The clock re-rendered as each minute turns, so "local time" stays true while the card is open.
 * Each tick waits for the next turn itself (a fixed interval would keep the first wait's length:
 * a card opened at :05 showed the old minute for 55 s of every minute, and one opened just
 * before a turn re-rendered many times a second); a little past it, so a timer that fires early
 * does not read the old minute.
 */
function useMinute(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const arm = () => {
      timer = setTimeout(
        () => {
          setNow(new Date());
          arm();
        },
        60_000 - (Date.now() % 60_000) + 50,
      );
    };
    arm();
    return () => clearTimeout(timer);
  }, []);
  return now;
}

/**
 * One user's profile: picture, names, title, pronouns, presence, custom status, local time, about,
 * phone, the custom fields the viewer may see, and last active time; `actions` below.
 */
export function UserProfileCard({
  userId,
  user: given,
  onClose,
  autoFocus = false,
  fields,
  actions,
  className,
}: UserProfileCardProps) {
  const found = useUser(userId);
  // The state's copy is the live one (user.updated); a given user may carry `fields` it lacks.
  const user = found && given ? { ...given, ...found, fields: found.fields ?? given.fields } : (found ?? given);
  const now = useMinute();
  const time = localTime(user?.time_zone, now);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (autoFocus) ref.current?.focus();
  }, [autoFocus]);
  const name = displayName(user, userId);
  const presence = user?.presence ?? 'offline';
  const status = user?.status;
  const headingId = `parley-profile-${userId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <section
      ref={ref}
      className={cx('parley-profile', className)}
      aria-labelledby={headingId}
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && onClose) {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="parley-profile__header">
        <Avatar user={user} id={userId} size={72} />
        <div>
          <h2 id={headingId} className="parley-profile__name">
            {name}
            {user?.pronouns ? <span className="parley-profile__pronouns"> ({user.pronouns})</span> : null}
          </h2>
          {user?.full_name && user.full_name !== name ? (
            <p className="parley-profile__full-name">{user.full_name}</p>
          ) : null}
          {user?.title ? <p className="parley-profile__title">{user.title}</p> : null}
          {user?.username ? <p className="parley-profile__username">@{user.username}</p> : null}
        </div>
        {onClose ? (
          <button type="button" className="parley-icon-button" aria-label="Close profile" onClick={onClose}>
            ×
          </button>
        ) : null}
      </div>
      <p className="parley-profile__presence">
        <PresenceDot presence={presence} /> {PRESENCE_LABEL[presence]}
        {presence !== 'offline' && user?.devices?.length ? (
          <span className="parley-profile__devices"> · {devicesText(user.devices)}</span>
        ) : null}
      </p>
      {status?.text ? (
        <p className="parley-profile__status">
          {status.emoji ? <span aria-hidden="true">{status.emoji} </span> : null}
          {status.text}
          {status.expires_at ? (
            <span className="parley-muted"> (until {new Date(status.expires_at).toLocaleString()})</span>
          ) : null}
        </p>
      ) : null}
      {time ? (
        <p className="parley-profile__local-time">
          <span className="parley-profile__clock">{time}</span> local time
        </p>
      ) : null}
      {user?.about ? <p className="parley-profile__about">{user.about}</p> : null}
      <ProfileDetails user={user} fields={fields} />
      {presence !== 'online' && user?.last_active_at ? (
        <p className="parley-profile__last-active parley-muted">
          Last active <time dateTime={user.last_active_at}>{relativeTime(user.last_active_at)}</time>
        </p>
      ) : null}
      {actions ? <div className="parley-profile__actions">{actions}</div> : null}
    </section>
  );
}

/** Phone and custom fields as a definition list; links open in a new tab, http/https only. */
function ProfileDetails({ user, fields }: { user: User | undefined; fields: readonly ProfileField[] | undefined }) {
  const rows: { key: string; label: string; value: ReactNode }[] = [];
  if (user?.phone)
    rows.push({
      key: 'phone',
      label: 'Phone',
      value: <a href={`tel:${user.phone.replace(/[^+0-9]/g, '')}`}>{user.phone}</a>,
    });
  for (const f of fields ?? []) {
    const v = user?.fields?.[f.id];
    if (!v) continue;
    rows.push({
      key: f.id,
      label: f.name,
      value:
        f.kind === 'link' && isSafeUrl(v) ? (
          <a href={v} target="_blank" rel="noopener noreferrer">
            {v.replace(/^https?:\/\//, '')}
          </a>
        ) : (
          v
        ),
    });
  }
  if (rows.length === 0) return null;
  return (
    <dl className="parley-profile__fields">
      {rows.map((r) => (
        <div key={r.key} className="parley-profile__field">
          <dt>{r.label}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  );
}
