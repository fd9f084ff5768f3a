/**
 * The permission model, in one place: which role may do what, per channel type. Every action
 * of every feature asks `checkCan` (throws) or `can` (boolean); channel answers carry
 * `ownCapabilities`. docs/permissions.md prints DEFAULT_GRANTS as a table, and
 * test/permissions.pg.test.ts generates its cases from it, so the table is the test.
 *
 * A caller's power in a channel is one rank: the higher of their channel role (member 0,
 * moderator 1, admin 2, owner 3) and their app role (app `moderator` → 1, app `admin` and the
 * server token → 3); a non-member without an app role has -1. A capability is granted at a
 * level: `anyone` (-1: whoever may read), `member` (0), `moderator`, `admin`, `owner`, or
 * `nobody`. Apps override levels per channel type (`apps.permissions`, set through the admin
 * API), read with the app itself, so no check costs a query.
 *
 * On top of the levels, the channel's state and the caller's standing, in this order:
 *   1. read-channel first: who may not read gets NOT_FOUND (never learns it exists)
 *   2. an app-wide ban (users.banned_at, lifting at ban_expires_at) refuses everything, reads too: BANNED
 *   3. guests: `anyone` counts as `member` for them, and they never add members
 *   4. writes: a guest whose time ran out gets GUEST_LOCKED; an archived channel refuses
 *   5. acting in a channel (send, react, pin, bookmarks, upload, @channel) needs a membership row for a
 *      user, whatever their app role (the server token needs none)
 *   6. frozen: send, upload, @channel, react, pin and bookmarks need `moderator`; `reactions: open`
 *      lowers send-reaction to `anyone`
 */
import {
  CAPABILITIES,
  type Capability,
  CHANNEL_TYPES,
  type ErrorCode,
  type GrantLevel,
  type PermissionOverrides,
} from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import { ApiError } from '../../platform/errors.js';
import type { UserRow } from '../users/index.js';

export type ChannelTypeName = (typeof CHANNEL_TYPES)[number];

/** What a check needs to know about one caller in one channel (channels/access.ts loads it). */
export interface PermissionSubject {
  channel: { type: string; archivedAt: Date | null; frozen: boolean; reactions: string };
  member: { role: string } | null;
  user: UserRow | null;
  rank: number;
  caller: Caller;
}

export const LEVEL_RANK: Record<GrantLevel, number> = {
  anyone: -1,
  member: 0,
  moderator: 1,
  admin: 2,
  owner: 3,
  nobody: 99,
};

const all = (l: GrantLevel): Record<ChannelTypeName, GrantLevel> => ({ public: l, announcement: l, group: l, dm: l });

/** The default table: capability → channel type → the lowest role granted. */
export const DEFAULT_GRANTS: Record<Capability, Record<ChannelTypeName, GrantLevel>> = {
  'read-channel': { public: 'anyone', announcement: 'anyone', group: 'member', dm: 'member' },
  'join-channel': { public: 'anyone', announcement: 'anyone', group: 'moderator', dm: 'nobody' },
  'send-message': { public: 'member', announcement: 'moderator', group: 'member', dm: 'member' },
  'mention-channel': { public: 'member', announcement: 'moderator', group: 'member', dm: 'member' },
  'upload-file': { public: 'member', announcement: 'moderator', group: 'member', dm: 'member' },
  'send-reaction': all('member'),
  'pin-message': all('member'),
  'manage-bookmarks': { public: 'member', announcement: 'moderator', group: 'member', dm: 'member' },
  'edit-own-message': all('anyone'),
  'edit-any-message': all('nobody'),
  'delete-own-message': all('anyone'),
  'delete-any-message': all('moderator'),
  'update-channel-topic': all('member'),
  'update-channel': all('admin'),
  'freeze-channel': { public: 'moderator', announcement: 'moderator', group: 'moderator', dm: 'nobody' },
  'add-members': { public: 'member', announcement: 'admin', group: 'member', dm: 'nobody' },
  'remove-members': { public: 'admin', announcement: 'admin', group: 'admin', dm: 'nobody' },
  'update-member-roles': { public: 'admin', announcement: 'admin', group: 'admin', dm: 'nobody' },
  'ban-members': { public: 'moderator', announcement: 'moderator', group: 'moderator', dm: 'nobody' },
  'skip-slow-mode': all('moderator'),
  'flag-message': all('anyone'),
  'create-poll': { public: 'member', announcement: 'moderator', group: 'member', dm: 'member' },
  'vote-poll': all('member'),
  'edit-channel-notes': all('member'),
};

/** Capabilities that change something: refused in archived channels and to locked guests. */
const WRITES = new Set<Capability>([
  'send-message',
  'mention-channel',
  'upload-file',
  'send-reaction',
  'pin-message',
  'manage-bookmarks',
  'edit-own-message',
  'edit-any-message',
  'freeze-channel',
  'add-members',
  'ban-members',
  'create-poll',
  'vote-poll',
  'edit-channel-notes',
]);
/** Acting in the channel itself: a user needs a membership row, whatever their app role. */
const IN_CHANNEL = new Set<Capability>([
  'send-message',
  'mention-channel',
  'upload-file',
  'send-reaction',
  'pin-message',
  'create-poll',
  'vote-poll',
  'manage-bookmarks',
  'edit-channel-notes',
]);
/** What a frozen channel keeps to its moderators. */
const FROZEN = new Set<Capability>([
  'send-message',
  'mention-channel',
  'upload-file',
  'send-reaction',
  'pin-message',
  'create-poll',
  'vote-poll',
  'manage-bookmarks',
]);
/** Overrides may not open DMs or groups to outsiders. */
const FIXED: Partial<Record<Capability, ChannelTypeName[]>> = {
  'read-channel': ['dm', 'group'],
  'join-channel': ['dm'],
};

/** Why a refusal at the level check, per capability (the errors tests and clients already know). */
const DENIED: Partial<Record<Capability, string>> = {
  'send-message': 'Not allowed to post here',
  'add-members': 'Not allowed to add members here',
  'remove-members': 'Not allowed to remove members',
  'update-member-roles': 'Not allowed to change roles',
  'update-channel': 'Not allowed to rename, re-image or archive this channel',
  'update-channel-topic': 'Only members may change this channel',
  'delete-any-message': 'Only the author or a moderator may delete this message',
  'edit-any-message': 'Only the author may edit a message',
  'create-poll': 'Not allowed to start a poll here',
  'vote-poll': 'Not allowed to vote here',
  'edit-channel-notes': "Not allowed to edit this channel's notes",
};

/** Check an override document; VALIDATION_ERROR names what may not be overridden. */
export function checkOverrides(o: PermissionOverrides): void {
  for (const [type, caps] of Object.entries(o))
    for (const cap of Object.keys(caps ?? {}) as Capability[])
      if (FIXED[cap]?.includes(type as ChannelTypeName))
        throw new ApiError('VALIDATION_ERROR', `${cap} of ${type} channels cannot be overridden`, {
          type,
          capability: cap,
        });
}

/** The level an app grants `cap` at in channels of `type` (its override, else the default). */
export function grantLevel(overrides: PermissionOverrides | undefined, type: string, cap: Capability): GrantLevel {
  const t = type as ChannelTypeName;
  return overrides?.[t]?.[cap] ?? DEFAULT_GRANTS[cap][t] ?? 'nobody';
}

/** The effective table of an app: channel type → capability → level. */
export function effectiveTable(o: PermissionOverrides): Record<string, Record<string, GrantLevel>> {
  return Object.fromEntries(
    CHANNEL_TYPES.map((t) => [t, Object.fromEntries(CAPABILITIES.map((c) => [c, grantLevel(o, t, c)]))]),
  );
}

export const isGuest = (user: UserRow | null) => user?.role === 'guest';

/** Whether an app-wide ban stands for this user row at `now`. */
export function appBanned(user: UserRow | null, now: number): boolean {
  return !!user?.bannedAt && (!user.banExpiresAt || user.banExpiresAt.getTime() > now);
}

/** Builds what a refusal returns: the typed error, or only the fact (see `ownCapabilities`). */
type Deny<R> = (code: ErrorCode, message: string, details?: unknown) => R;

const asError: Deny<ApiError> = (code, message, details) => new ApiError(code, message, details);
/**
 * `ownCapabilities` asks about every capability and only wants to know which are refused: an
 * ApiError per refusal (an Error, its stack captured) cost a few percent of a reconnect storm's
 * CPU, as every `channel.watch` reply carries the list.
 */
const asFact: Deny<true> = () => true;

/** The error for `cap`, or null when it is granted. */
export function refusal(s: PermissionSubject, cap: Capability, now: number = Date.now()): ApiError | null {
  return judge(s, cap, now, asError);
}

/** The refusal rules, in one place: `deny` makes what a refusal returns. */
/** The rank a capability needs in the subject's channel (frozen and open reactions folded in). */
function level(s: PermissionSubject, c: Capability): number {
  let l = grantLevel(s.caller.app.permissions, s.channel.type, c);
  if (c === 'send-reaction' && s.channel.reactions === 'open' && l === 'member') l = 'anyone';
  if (s.channel.frozen && FROZEN.has(c) && LEVEL_RANK[l] < LEVEL_RANK.moderator) l = 'moderator';
  // 3. Guests: nothing is open to them beyond their own channels.
  if (isGuest(s.user) && l === 'anyone') l = 'member';
  return LEVEL_RANK[l];
}

/**
 * Whether `s` may do `cap`: null, or what `deny` makes of the refusal. `readable`: the caller
 * already knows `s` may read the channel (ownCapabilities judges that once for every capability).
 */
function judge<R>(s: PermissionSubject, cap: Capability, now: number, deny: Deny<R>, readable = false): R | null {
  const server = s.caller.kind === 'server';
  const type = s.channel.type;
  // 1. Reading first: who may not read may not learn the channel exists.
  if (!readable && cap !== 'read-channel' && cap !== 'join-channel') {
    const r = judge(s, 'read-channel', now, deny);
    if (r) return r;
  }
  if (cap === 'read-channel' && s.member === null && s.rank < level(s, cap))
    return deny('NOT_FOUND', 'Channel not found');
  // 2. App-wide bans: reading included (the sockets are closed too).
  if (!server && appBanned(s.user, now))
    return deny('BANNED', 'You are banned from this app', {
      cid: null,
      expires_at: s.user?.banExpiresAt?.toISOString() ?? null,
    });
  if (cap === 'read-channel') return null;
  if (cap === 'join-channel') {
    if (s.channel.archivedAt) return deny('FORBIDDEN', 'The channel is archived (read-only)');
    return s.rank >= level(s, cap) ? null : deny('NOT_FOUND', 'Channel not found');
  }
  // 3. Guests never bring people in.
  if (cap === 'add-members' && isGuest(s.user)) return deny('FORBIDDEN', 'Guests cannot add people to channels');
  // 4. Writes: guest lock, archive.
  if (WRITES.has(cap)) {
    const u = s.user;
    if (isGuest(u) && u?.guestUntil && u.guestUntil.getTime() <= now)
      return deny('GUEST_LOCKED', 'Your guest access has expired: you can read, but not post', {
        guest_expires_at: u.guestUntil.toISOString(),
      });
    if (cap === 'add-members' && type === 'dm')
      return deny('FORBIDDEN', 'DM membership is fixed; start a new DM instead');
    if (s.channel.archivedAt) return deny('FORBIDDEN', 'The channel is archived (read-only)');
  }
  // 5. Acting in the channel needs membership.
  if (IN_CHANNEL.has(cap) && !s.member && !server && level(s, cap) > LEVEL_RANK.anyone)
    return deny(
      'FORBIDDEN',
      cap === 'send-reaction'
        ? 'Join the channel before reacting'
        : cap === 'vote-poll'
          ? 'Join the channel before voting'
          : 'Join the channel before posting in it',
    );
  // 6. The level (frozen and open reactions folded in).
  if (s.rank >= level(s, cap)) return null;
  if (s.channel.frozen && FROZEN.has(cap)) return deny('FORBIDDEN', 'The channel is frozen: only moderators post');
  if (cap === 'send-message' && type === 'announcement')
    return deny('FORBIDDEN', 'Only moderators and admins post in announcement channels');
  return deny('FORBIDDEN', DENIED[cap] ?? `Not allowed to ${cap.replaceAll('-', ' ')} here`, {
    capability: cap,
  });
}

/** Throw unless `cap` is granted. */
export function checkCan(s: PermissionSubject, cap: Capability, now: number = Date.now()): void {
  const r = refusal(s, cap, now);
  if (r) throw r;
}

export const can = (s: PermissionSubject, cap: Capability, now: number = Date.now()) => refusal(s, cap, now) === null;

/** What the caller may do in this channel: the `own_capabilities` of channel answers. */
export function ownCapabilities(s: PermissionSubject, now: number = Date.now()): Capability[] {
  // Reading is judged once, not again for each capability (every other one needs it): a
  // reconnect storm asks this of every channel of every connection.
  const readable = judge(s, 'read-channel', now, asFact) === null;
  return CAPABILITIES.filter((c) => (c === 'join-channel' || readable) && judge(s, c, now, asFact, readable) === null);
}

/** Capabilities of the app rather than of a channel (docs/permissions.md, "App-level capabilities"). */
export type AppCapability = 'manage-user-groups' | 'read-user-groups';

/**
 * App role → app capability: `roles` always; `openTo` too when the app opened it (for user
 * groups, `PUT /v1/user-group-settings {"managers":"everyone"}`). The server token has them all.
 */
export const APP_GRANTS: Record<AppCapability, { roles: string[]; openTo: string[] }> = {
  'manage-user-groups': { roles: ['admin'], openTo: ['admin', 'moderator', 'user'] },
  'read-user-groups': { roles: ['admin', 'moderator', 'user', 'guest'], openTo: [] },
};

/** Whether an app role (null: the server token) has an app capability; `open`: the app opened it. */
export function appCan(cap: AppCapability, role: string | null, open = false): boolean {
  if (role === null) return true;
  const g = APP_GRANTS[cap];
  return g.roles.includes(role) || (open && g.openTo.includes(role));
}
