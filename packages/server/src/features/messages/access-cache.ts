/**
 * What a send is checked against, kept per node between batches: the channel row, the author's
 * role in it (or that they are not a member) and the author's user row, the rows as `to_json`
 * gave them (column names, JSON values). Filled by the send path's reads, by each
 * connection's opening read, which already reads the user row and every membership, and by the
 * channel rows read ahead once a connection has opened (warm.ts).
 *
 * Nothing here is trusted. A send checked against cached rows is written by a statement that
 * first compares them with the stored rows and writes only the sends whose rows are still the
 * stored ones (send-batch.ts); the others come back with the stored rows, which replace the
 * cached ones, and are checked again. So the cache needs no invalidation, on this node or
 * another: a stale entry costs one more statement, never a wrong decision. The channel row is
 * compared whole but for the columns every send moves (`MOVING`), and the user row whole (the
 * message shows it), each by its digest (`channelDigest`, `userDigest`: SHA-256 of the row's
 * jsonb text, returned beside every row handed to this cache), so a send carries two short
 * strings to the write instead of its rows; of the membership, the checks read only the role
 * (`PermissionSubject`), so only the role is kept and compared — a read position moving on
 * costs nothing.
 */
import { LRUCache } from 'lru-cache';
import { rowDigest } from '../../platform/db/index.js';

/** A row in its `to_json` form. */
export type RawRow = Record<string, unknown>;

/** What one send is checked against. */
export interface AccessRows {
  channel: RawRow;
  /** The channel row's digest but for `MOVING` (`channelDigest`): what the write compares. */
  channelDigest: string;
  /** The author's role in the channel; null: not a member. */
  role: string | null;
  /** Null: no such user. */
  user: RawRow | null;
  /** The user row's digest (`userDigest`); null with the row. */
  userDigest: string | null;
}

/** Channel columns left out of the comparison: every send moves them, and no check reads them. */
export const MOVING = ['last_seq', 'last_message_at'] as const;

/**
 * The digests the write compares instead of the rows (`rowDigest`): of a channel row but for
 * `MOVING`, and of a user row, each given as a jsonb expression (`to_jsonb(c)`). Every
 * statement that hands rows to this cache returns them beside the rows.
 */
export const channelDigest = (row: string): string => rowDigest(`${row} - '{${MOVING.join(',')}}'::text[]`);
export const userDigest = (row: string): string => rowDigest(row);

/** Entries kept per table: the rows are a few hundred bytes, so the whole cache stays under ~40 MB. */
const MAX = { channels: 20_000, roles: 200_000, users: 50_000 };

/**
 * Made on first use: an LRUCache allocates its index arrays for `max` entries when made, which
 * for these sizes took 40–110 ms of a server's start that no request had asked for yet.
 */
export class AccessCache {
  #channels: LRUCache<string, { row: RawRow; digest: string }> | undefined;
  #roles: LRUCache<string, { role: string | null }> | undefined;
  #users: LRUCache<string, { row: RawRow | null; digest: string | null }> | undefined;

  private get channels() {
    this.#channels ??= new LRUCache({ max: MAX.channels });
    return this.#channels;
  }
  // Boxed, so a known absence (not a member, no such user) is cached like a row.
  private get roles() {
    this.#roles ??= new LRUCache({ max: MAX.roles });
    return this.#roles;
  }
  // A connection's opening seeds its user's row: ~0.45 KB per idle connection (as JSON text it
  // measured more, the parsed rows sharing their keys and shape).
  private get users() {
    this.#users ??= new LRUCache({ max: MAX.users });
    return this.#users;
  }

  /** The cached rows for `uid` sending to `cid`, or undefined unless all three are known. */
  get(appId: string, cid: string, uid: string): AccessRows | undefined {
    const channel = this.channels.get(`${appId}:${cid}`);
    if (!channel) return undefined;
    const member = this.roles.get(`${appId}:${cid}:${uid}`);
    const user = member && this.users.get(`${appId}:${uid}`);
    if (!member || !user) return undefined;
    return {
      channel: channel.row,
      channelDigest: channel.digest,
      role: member.role,
      user: user.row,
      userDigest: user.digest,
    };
  }

  /** Keep rows just read. */
  put(appId: string, cid: string, uid: string, rows: AccessRows): void {
    this.channels.set(`${appId}:${cid}`, { row: rows.channel, digest: rows.channelDigest });
    this.roles.set(`${appId}:${cid}:${uid}`, { role: rows.role });
    this.users.set(`${appId}:${uid}`, { row: rows.user, digest: rows.userDigest });
  }

  /** Keep what a connection's opening read: the user row and their role in each of their channels. */
  seed(appId: string, user: RawRow, digest: string, roles: Iterable<[cid: string, role: string]>): void {
    const uid = String(user.id);
    this.users.set(`${appId}:${uid}`, { row: user, digest });
    for (const [cid, role] of roles) this.roles.set(`${appId}:${cid}:${uid}`, { role });
  }

  /** Whether a row of the channel is kept. */
  hasChannel(appId: string, cid: string): boolean {
    return this.channels.has(`${appId}:${cid}`);
  }

  /**
   * Keep a channel row read ahead of any send (warm.ts), unless a send has kept one meanwhile:
   * that one is as fresh, and either is only ever compared with the stored row.
   */
  seedChannel(appId: string, cid: string, row: RawRow, digest: string): void {
    const key = `${appId}:${cid}`;
    if (!this.channels.has(key)) this.channels.set(key, { row, digest });
  }

  /** The channel is gone: drop what was kept of it and of `uid`'s role there. */
  gone(appId: string, cid: string, uid: string): void {
    this.channels.delete(`${appId}:${cid}`);
    this.roles.delete(`${appId}:${cid}:${uid}`);
  }

  /** Drop what is kept of `uid`'s membership of `cid`, so their next send there is read afresh. */
  forget(appId: string, cid: string, uid: string): void {
    this.roles.delete(`${appId}:${cid}:${uid}`);
  }

  /** Entries held, per table (metrics and tests). */
  get size(): { channels: number; roles: number; users: number } {
    return { channels: this.#channels?.size ?? 0, roles: this.#roles?.size ?? 0, users: this.#users?.size ?? 0 };
  }
}
