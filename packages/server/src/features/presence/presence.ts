/**
 * Presence: a user is online while any connection of theirs is open (on any node), away when
 * they say so or after a stretch without activity, and offline once the last connection has
 * been closed for a short grace period (so a page reload does not flap them offline and back).
 * Each node tracks its own connections and pools its view through a PresenceShare (Redis when
 * scaled out). Changes of the pooled state go, as `presence.changed`, to the user's own
 * connections and to the connections that follow the user (`presence.subscribe`, the hub's
 * presence topics) — never to every co-member, which cost a query and a frame per co-member
 * on every connect. A tick's changes are announced together (one users query per app).
 */
import type { EventOf, User } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { schema } from '../../platform/db/index.js';
import type { Outgoing } from '../../realtime/bus.js';
import { presentUser, type UserRow } from '../users/present.js';
import { LocalShare, type PresenceShare, type State } from './share.js';

interface Entry {
  appId: string;
  userId: string;
  connections: number;
  state: State;
  /** Set by `presence.set away`; inactivity alone does not clear it. */
  chosenAway: boolean;
  lastActive: number;
  offlineTimer: NodeJS.Timeout | null;
  /** The user as presented when a connection opened (or a profile change was announced). */
  user: User | null;
}

/**
 * Told when a user went offline everywhere: `lastActive` is what is stored as their
 * `last_active_at` in the same flush, so a later absence can be told apart from this one.
 */
export type OfflineListener = (appId: string, userId: string, lastActive: number) => void;

interface PendingAnnouncement {
  appId: string;
  userId: string;
  state: State;
  /** Set when the user went offline: when they were last active, to store. */
  lastActive: number | null;
  /** The presented user, if known: then the announcement needs no read of the users table. */
  user: User | null;
}

export class Presence {
  private readonly entries = new Map<string, Entry>();
  /** Changes to announce at the end of this tick, latest per user. */
  private readonly pending = new Map<string, PendingAnnouncement>();
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  /** The pooled state this node last announced per user, so a change is announced once. */
  private readonly announced = new Map<string, State>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly refresher: NodeJS.Timeout;
  private readonly share: PresenceShare;
  private readonly offlineListeners: OfflineListener[] = [];

  constructor(
    private readonly svc: () => Infra,
    share?: PresenceShare,
  ) {
    const { awayAfterMs, presenceTtlMs } = svc().config;
    this.share = share ?? new LocalShare((a, u) => this.stateOf(a, u));
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(awayAfterMs / 4, 30_000)));
    this.sweeper.unref();
    // Three refreshes per lifetime of an entry in the pool: one lost write lapses nobody.
    this.refresher = setInterval(
      () => {
        const live = [...this.entries.values()].map((e) => ({ appId: e.appId, userId: e.userId, state: e.state }));
        this.share.refresh(live).catch((err: unknown) => this.svc().log.warn({ err }, 'presence refresh failed'));
      },
      Math.max(100, presenceTtlMs / 3),
    );
    this.refresher.unref();
  }

  /**
   * Call `fn` when a user's pooled state becomes offline: the node whose view made it so calls
   * it, once (a user with a connection left on another node is not offline). A node that dies
   * calls nothing for its users, who lapse in the pool without any node seeing a transition.
   */
  onOffline(fn: OfflineListener): void {
    this.offlineListeners.push(fn);
  }

  /** This node's own view of a user. */
  stateOf(appId: string, userId: string): State {
    return this.entries.get(`${appId}:${userId}`)?.state ?? 'offline';
  }

  /** The users' presence over every node. */
  async statesOf(appId: string, userIds: readonly string[]): Promise<Map<string, State>> {
    const states = await this.share.get(appId, userIds).catch(() => userIds.map((id) => this.stateOf(appId, id)));
    return new Map(userIds.map((id, i) => [id, states[i] ?? 'offline']));
  }

  /**
   * The users' presence over every node, or a rejection when the pool cannot be read — never
   * this node's own view in its place: for decisions that must not take a user seen on no node
   * here for one seen on no node at all (the spaces sweep).
   */
  async pooledStatesOf(appId: string, userIds: readonly string[]): Promise<Map<string, State>> {
    const states = await this.share.get(appId, userIds);
    return new Map(userIds.map((id, i) => [id, states[i] ?? 'offline']));
  }

  /** Those of `userIds` who are online or away anywhere (for `@here`). */
  async present(appId: string, userIds: readonly string[]): Promise<string[]> {
    const states = await this.statesOf(appId, userIds);
    return userIds.filter((id) => states.get(id) !== 'offline');
  }

  /**
   * A connection of the user opened. `user` is the user as the gateway presented it: kept, so
   * announcing this user's changes reads no table.
   */
  connected(appId: string, userId: string, user?: User): void {
    const key = `${appId}:${userId}`;
    let e = this.entries.get(key);
    if (!e) {
      e = {
        appId,
        userId,
        connections: 0,
        state: 'offline',
        chosenAway: false,
        lastActive: Date.now(),
        offlineTimer: null,
        user: null,
      };
      this.entries.set(key, e);
    }
    if (user) e.user = user;
    e.connections++;
    e.lastActive = Date.now();
    if (e.offlineTimer) {
      clearTimeout(e.offlineTimer);
      e.offlineTimer = null;
    }
    if (e.state === 'offline') this.change(e, e.chosenAway ? 'away' : 'online');
  }

  disconnected(appId: string, userId: string): void {
    const e = this.entries.get(`${appId}:${userId}`);
    if (!e) return;
    e.connections = Math.max(0, e.connections - 1);
    if (e.connections > 0 || e.offlineTimer) return;
    e.offlineTimer = setTimeout(() => {
      e.offlineTimer = null;
      if (e.connections > 0) return;
      this.entries.delete(`${appId}:${userId}`);
      this.change(e, 'offline');
    }, this.svc().config.presenceGraceMs);
  }

  /** Any frame from the user counts as activity and brings an idle user back online. */
  activity(appId: string, userId: string): void {
    const e = this.entries.get(`${appId}:${userId}`);
    if (!e) return;
    e.lastActive = Date.now();
    if (e.state === 'away' && !e.chosenAway) this.change(e, 'online');
  }

  set(appId: string, userId: string, state: 'online' | 'away'): void {
    const e = this.entries.get(`${appId}:${userId}`);
    if (!e) return;
    e.chosenAway = state === 'away';
    e.lastActive = Date.now();
    if (e.state !== state) this.change(e, state);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.svc().config.awayAfterMs;
    for (const e of this.entries.values()) {
      if (e.state === 'online' && e.connections > 0 && e.lastActive < cutoff) this.change(e, 'away');
    }
  }

  private change(e: Entry, state: State): void {
    e.state = state;
    void this.changed(e, state);
  }

  /** Pool the new local state; announce if the pooled state moved. */
  private async changed(e: Entry, state: State): Promise<void> {
    const svc = this.svc();
    const key = `${e.appId}:${e.userId}`;
    let pooled: State = state;
    try {
      await this.share.put(e.appId, e.userId, state);
      pooled = (await this.share.get(e.appId, [e.userId]))[0] ?? state;
    } catch (err) {
      svc.log.warn({ err, user: e.userId }, 'presence share unavailable; using this node only');
    }
    if (this.announced.get(key) === pooled) return;
    if (pooled === 'offline') {
      this.announced.delete(key);
      for (const fn of this.offlineListeners) fn(e.appId, e.userId, e.lastActive);
    } else this.announced.set(key, pooled);
    this.pending.set(key, {
      appId: e.appId,
      userId: e.userId,
      state: pooled,
      lastActive: state === 'offline' ? e.lastActive : null,
      user: e.user,
    });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One flush at a time, so a user's changes are announced in the order they happened.
      setImmediate(() => {
        this.flushing = this.flushing.then(() => this.flushAnnouncements());
      });
    }
  }

  /**
   * Announce every change queued this tick, per app with at most two statements in all — the
   * offline users' last_active_at and the rows of users not presented at connect —
   * instead of two per change: a thousand members connecting at once (a deploy, a network
   * blip) would otherwise cost two thousand queries. Each user's event is serialized once.
   */
  private async flushAnnouncements(): Promise<void> {
    this.flushScheduled = false;
    const batch = [...this.pending.values()];
    this.pending.clear();
    const svc = this.svc();
    const apps = new Map<string, PendingAnnouncement[]>();
    for (const p of batch) {
      const list = apps.get(p.appId);
      if (list) list.push(p);
      else apps.set(p.appId, [p]);
    }
    for (const [appId, list] of apps) {
      try {
        const gone = list.filter((p) => p.lastActive !== null);
        if (gone.length) {
          const seen = gone.map((p) => ({ id: p.userId, at: new Date(p.lastActive as number).toISOString() }));
          await svc.db.execute(
            sql`update ${schema.users} u set last_active_at = v.at
            from json_to_recordset(${JSON.stringify(seen)}::json) as v(id text, at timestamptz)
            where u.app_id = ${appId} and u.id = v.id`,
          );
        }
        // Users presented at connect need no read; the rest are read in one query.
        const changes: { user: User; state: State }[] = [];
        const unknown: PendingAnnouncement[] = [];
        for (const p of list) {
          if (!p.user) unknown.push(p);
          else
            changes.push({
              user:
                p.lastActive === null ? p.user : { ...p.user, last_active_at: new Date(p.lastActive).toISOString() },
              state: p.state,
            });
        }
        if (unknown.length > 0) {
          const users = await svc.db
            .select()
            .from(schema.users)
            .where(
              and(
                eq(schema.users.appId, appId),
                inArray(
                  schema.users.id,
                  unknown.map((p) => p.userId),
                ),
              ),
            );
          const states = new Map(unknown.map((p) => [p.userId, p.state]));
          for (const row of users) changes.push({ user: presentUser(row), state: states.get(row.id) ?? 'offline' });
        }
        this.publish(appId, changes);
      } catch (err) {
        svc.log.warn({ err, users: list.length }, 'presence update failed');
      }
    }
  }

  /** Tell the user's connections and their followers the user's presence (a profile or status change). */
  async announce(appId: string, row: UserRow, known?: State): Promise<void> {
    const user = presentUser(row);
    const e = this.entries.get(`${appId}:${row.id}`);
    if (e) e.user = user;
    const state = known ?? (await this.statesOf(appId, [row.id])).get(row.id) ?? 'offline';
    this.publish(appId, [{ user, state }]);
  }

  /**
   * Publish each user's `presence.changed` once to the user's own topic and once to their
   * presence topic, which reaches every node with a follower: no query, each event
   * serialized once.
   */
  private publish(appId: string, changes: { user: User; state: State }[]): void {
    if (changes.length === 0) return;
    const at = new Date();
    this.svc().bus.publish(changes.flatMap(({ user, state }) => presenceOutgoing(appId, user, state, at)));
  }

  close(): void {
    clearInterval(this.sweeper);
    clearInterval(this.refresher);
    for (const e of this.entries.values())
      if (e.connections > 0) void this.share.put(e.appId, e.userId, 'offline').catch(() => {});
    for (const e of this.entries.values()) if (e.offlineTimer) clearTimeout(e.offlineTimer);
    this.entries.clear();
  }
}

/**
 * A user's `presence.changed`, once to the user's own topic and once to their presence topic,
 * which reaches every node with a follower: no query, the event serialized once. `extra`
 * carries what else the change is about (`space_id` when they moved in the office).
 */
export function presenceOutgoing(
  appId: string,
  user: User,
  state: State,
  at: Date,
  extra: { space_id?: string | null } = {},
): Outgoing[] {
  const event: EventOf<'presence.changed'> = {
    type: 'presence.changed',
    user: { ...user, presence: state },
    presence: state,
    ...extra,
    created_at: at.toISOString(),
  };
  return [
    { to: 'user', appId, userId: user.id, event },
    { to: 'presence', appId, userId: user.id, event },
  ];
}
