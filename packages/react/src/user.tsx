/**
 * People: avatars, presence dots, the profile card, and how a user id becomes a user
 * (the client's `users` map first, then the open channel's members, then message authors).
 */
import type { ChannelState, ClientState } from '@parley/client';
import type { User } from '@parley/protocol';
import { useEffect, useRef } from 'react';
import { useOptionalChannelContext } from './channel.js';
import { useChannelState, useClientState } from './context.js';
import { cx, displayName, initials, isSafeUrl, relativeTime } from './format.js';

/** A user's presence as the UI shows it. */
export type Presence = NonNullable<User['presence']>;

/** Find a user by id: the client's users map (freshest presence and status), else a channel member's user. */
export function lookupUser(state: ClientState, channel: ChannelState | undefined, id: string): User | undefined {
  const known = state.users[id];
  const member = channel?.members[id]?.user;
  if (known && member) return { ...member, ...known };
  return known ?? member;
}

/** A user by id, from the client's state and the open channel's members; re-renders on change. */
export function useUser(userId: string | null | undefined): User | undefined {
  const ctx = useOptionalChannelContext();
  const channel = useChannelState(ctx?.channel);
  return useClientState((s) => (userId ? lookupUser(s, channel, userId) : undefined));
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
  user: Pick<User, 'name' | 'username' | 'image'> | undefined;
  /** The id, for the initials when the user is unknown. */
  id: string;
  /** Pixel size; default 32. */
  size?: number;
  className?: string;
}

/** A user's picture (http/https only), or their initials. Decorative: names are always shown beside it. */
export function Avatar({ user, id, size = 32, className }: AvatarProps) {
  const name = displayName(user, id);
  const style = { width: size, height: size, fontSize: Math.round(size * 0.4) };
  if (isSafeUrl(user?.image))
    return (
      <img
        className={cx('parley-avatar', className)}
        src={user?.image ?? ''}
        alt=""
        width={size}
        height={size}
        style={style}
        referrerPolicy="no-referrer"
        loading="lazy"
      />
    );
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
  className?: string;
}

/** Name, username, presence, custom status and last active time of one user. */
export function UserProfileCard({ userId, user: given, onClose, autoFocus = false, className }: UserProfileCardProps) {
  const found = useUser(userId);
  const user = found ?? given;
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
        <Avatar user={user} id={userId} size={56} />
        <div>
          <h2 id={headingId} className="parley-profile__name">
            {name}
          </h2>
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
      {presence !== 'online' && user?.last_active_at ? (
        <p className="parley-profile__last-active parley-muted">
          Last active <time dateTime={user.last_active_at}>{relativeTime(user.last_active_at)}</time>
        </p>
      ) : null}
    </section>
  );
}
