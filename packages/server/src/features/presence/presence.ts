/**
 * Presence: a user is online while any connection of theirs is open (on any node), away when
 * they say so or after a stretch without activity, and offline once the last connection has
 * been closed for a short grace period (so a page reload does not flap them offline and back).
 * Each node tracks its own connections and pools its view through a PresenceShare (Redis when
 * scaled out). Changes of the pooled state go, as `presence.changed`, to the user's own
 * connections and to the connections that follow the user (`presence.subscribe`, the hub's
 * presence topics) — never to every co-member, which cost a query and a frame per co-member
 * on every connect. A tick's changes are announced together (one users query per app).
 *
 * Busy (do not disturb) is laid over the pooled state when announcing and answering: a
 * connected user in DND (busy.ts, kept in the database) reads `busy`; offline stays offline.
 *
 * The kinds of device a user is connected on (`web`, `desktop`, `mobile`: each connection's
 * `device`) are pooled with the state and announced as `devices` when they change, a kind's last
 * connection closing after the same grace as going offline.
 */
import { DEVICE_KINDS, type DeviceKind, type EventOf, type User } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { schema } from '../../platform/db/index.js';
import type { Outgoing } from '../../realtime/bus.js';
import { presentUser, type UserRow } from '../users/index.js';
import { busyUsers, type DndPrefs, dndPrefs, isBusy } from './busy.js';
import { LocalShare, type PresenceShare, type State, sortDevices } from './share.js';

/** A pooled state with busy laid over it: what users are shown. */
export type ShownState = State | 'busy';

interface Entry {
  appId: string;
  userId: string;
  connections: number;
  /**
   * This node's connections of the user by device kind (0: none). A record of fixed shape, not
   * a Map: one per connected user, and a Map's table was 150 bytes of it.
   */
  devices: Record<DeviceKind, number>;
  state: State;
  /** Set by `presence.set away`; inactivity alone does not clear it. */
  chosenAway: boolean;
  lastActive: number;
  offlineTimer: NodeJS.Timeout | null;
  /** The user as presented when a connection opened (or a profile change was announced). */
  user: User | null;
  /**
   * Their do-not-disturb settings as last read (the connect's opening read, the busy sweep,
   * a change made here); null: none saved; undefined: not read yet.
   */
  dnd: DndPrefs | null | undefined;
}

/**
 * Told when a user went offline everywhere: `lastActive` is what is stored as their
 * `last_active_at` in the same flush, so a later absence can be told apart from this one.
 */
export type OfflineListener = (appId: string, userId: string, lastActive: number) => void;

interface PendingAnnouncement {
  appId: string;
  userId: string;
  /** The pooled state (busy is laid over it when the batch is announced). */
  state: State;
  /** Set when the user went offline: when they were last active, to store. */
  lastActive: number | null;
  /** The pooled device kinds (empty when offline). */
  devices: DeviceKind[];
  /** The presented user, if known: then the announcement needs no read of the users table. */
  user: User | null;
}

export class Presence {
  private readonly entries = new Map<string, Entry>();
  /** Changes to announce at the end of this tick, latest per user. */
  private readonly pending = new Map<string, PendingAnnouncement>();
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  /** The pooled state this node last saw per user, so a change is announced once. */
  private readonly pooledSeen = new Map<string, State>();
  /** The shown state (busy laid over) this node last announced per user. */
  private readonly announced = new Map<string, ShownState>();
  /** The pooled devices this node last saw and last announced per user (`web,mobile`). */
  private readonly devicesSeen = new Map<string, string>();
  private readonly devicesAnnounced = new Map<string, string>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly refresher: NodeJS.Timeout;
  private readonly busyTimer: NodeJS.Timeout;
  private readonly share: PresenceShare;
  private readonly offlineListeners: OfflineListener[] = [];

  constructor(
    private readonly svc: () => Infra,
    share?: PresenceShare,
  ) {
    const { awayAfterMs, presenceTtlMs } = svc().config;
    this.share =
      share ??
      new LocalShare(
        (a, u) => this.stateOf(a, u),
        (a, u) => this.devicesHere(a, u),
      );
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(awayAfterMs / 4, 30_000)));
    this.sweeper.unref();
    // Three refreshes per lifetime of an entry in the pool: one lost write lapses nobody.
    this.refresher = setInterval(
      () => {
        const live = [...this.entries.values()].map((e) => ({
          appId: e.appId,
          userId: e.userId,
          state: e.state,
          devices: this.devicesHere(e.appId, e.userId),
        }));
        this.share.refresh(live).catch((err: unknown) => this.svc().log.warn({ err }, 'presence refresh failed'));
      },
      Math.max(100, presenceTtlMs / 3),
    );
    this.refresher.unref();
    const { busyCheckMs } = svc().config;
    this.busyTimer = setInterval(() => {
      this.busySweep().catch((err: unknown) => this.svc().log.warn({ err }, 'presence busy sweep failed'));
    }, busyCheckMs);
    this.busyTimer.unref();
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

  /** The kinds of device the user is connected on at this node. */
  devicesHere(appId: string, userId: string): DeviceKind[] {
    const devices = this.entries.get(`${appId}:${userId}`)?.devices;
    return devices ? sortDevices(DEVICE_KINDS.filter((k) => devices[k] > 0)) : [];
  }

  /** The kinds of device each user is connected on over every node (empty for the offline). */
  async devicesOf(appId: string, userIds: readonly string[]): Promise<Map<string, DeviceKind[]>> {
    const read = await this.readShare(appId, userIds).catch(() =>
      userIds.map((id) => ({ state: this.stateOf(appId, id), devices: this.devicesHere(appId, id) })),
    );
    return new Map(userIds.map((id, i) => [id, read[i]?.devices ?? []]));
  }

  /** The pool's state and devices of each user (a share that pools no devices: this node's). */
  private async readShare(
    appId: string,
    userIds: readonly string[],
  ): Promise<{ state: State; devices: DeviceKind[] }[]> {
    if (this.share.read) return this.share.read(appId, userIds);
    const states = await this.share.get(appId, userIds);
    return userIds.map((id, i) => {
      const state = states[i] ?? 'offline';
      return { state, devices: state === 'offline' ? [] : this.devicesHere(appId, id) };
    });
  }

  /** This node's own view of a user, with busy laid over from what it last read of their DND. */
  shownStateOf(appId: string, userId: string): ShownState {
    const e = this.entries.get(`${appId}:${userId}`);
    if (!e || e.state === 'offline') return 'offline';
    return isBusy(e.dnd, new Date(this.svc().clock())) ? 'busy' : e.state;
  }

  /** The users' presence over every node, without busy (connected or not is what counts). */
  private async pooled(appId: string, userIds: readonly string[]): Promise<Map<string, State>> {
    const states = await this.share.get(appId, userIds).catch(() => userIds.map((id) => this.stateOf(appId, id)));
    return new Map(userIds.map((id, i) => [id, states[i] ?? 'offline']));
  }

  /**
   * The users' presence over every node, as shown: busy laid over the connected ones (one
   * query, made only when someone is connected).
   */
  async statesOf(appId: string, userIds: readonly string[]): Promise<Map<string, ShownState>> {
    const states: Map<string, ShownState> = await this.pooled(appId, userIds);
    const connected = userIds.filter((id) => states.get(id) !== 'offline');
    for (const id of await busyUsers(this.svc().db, appId, connected, new Date(this.svc().clock())))
      states.set(id, 'busy');
    return states;
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
    // Busy people are present too: the pooled state answers without reading their DND.
    const states = await this.pooled(appId, userIds);
    return userIds.filter((id) => states.get(id) !== 'offline');
  }

  /**
   * A connection of the user opened. `user` is the user as the gateway presented it: kept, so
   * announcing this user's changes reads no table.
   */
  connected(appId: string, userId: string, user?: User, dnd?: DndPrefs | null, device: DeviceKind = 'web'): void {
    const key = `${appId}:${userId}`;
    let e = this.entries.get(key);
    if (!e) {
      e = {
        appId,
        userId,
        connections: 0,
        devices: { web: 0, desktop: 0, mobile: 0 },
        state: 'offline',
        chosenAway: false,
        lastActive: Date.now(),
        offlineTimer: null,
        user: null,
        dnd: undefined,
      };
      this.entries.set(key, e);
    }
    if (user) e.user = user;
    if (dnd !== undefined) e.dnd = dnd;
    e.connections++;
    const sameKind = e.devices[device];
    e.devices[device] = sameKind + 1;
    e.lastActive = Date.now();
    if (e.offlineTimer) {
      clearTimeout(e.offlineTimer);
      e.offlineTimer = null;
    }
    if (e.state === 'offline') this.change(e, e.chosenAway ? 'away' : 'online');
    // Online already, now on a kind of device more: pooled and announced if the pool moved.
    else if (sameKind === 0) void this.changed(e, e.state);
  }

  disconnected(appId: string, userId: string, device: DeviceKind = 'web'): void {
    const e = this.entries.get(`${appId}:${userId}`);
    if (!e) return;
    e.connections = Math.max(0, e.connections - 1);
    const left = Math.max(0, e.devices[device] - 1);
    e.devices[device] = left;
    // The last connection of a kind of device, others open: after the same grace as going
    // offline (a reload is not a change), the devices are pooled and announced if they moved.
    if (e.connections > 0 && left <= 0) {
      setTimeout(() => {
        if (this.entries.get(`${appId}:${userId}`) === e && e.connections > 0 && e.devices[device] === 0)
          void this.changed(e, e.state);
      }, this.svc().config.presenceGraceMs).unref();
    }
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

  /**
   * Re-read DND for the users connected here (one query per app) and announce those whose
   * busy changed since: a DND window opening or closing, a pause running out, or a change
   * made on another node. Every node holding a connection of the user may announce the same
   * change once; clients take a repeated state as no change.
   */
  private async busySweep(): Promise<void> {
    const svc = this.svc();
    const apps = new Map<string, Entry[]>();
    for (const e of this.entries.values()) {
      if (e.connections === 0 || !this.announced.has(`${e.appId}:${e.userId}`)) continue;
      const list = apps.get(e.appId);
      if (list) list.push(e);
      else apps.set(e.appId, [e]);
    }
    const now = new Date(svc.clock());
    for (const [appId, list] of apps) {
      const prefs = await dndPrefs(
        svc.db,
        appId,
        list.map((e) => e.userId),
      );
      for (const e of list) {
        e.dnd = prefs.get(e.userId) ?? null;
        const was = this.announced.get(`${appId}:${e.userId}`) === 'busy';
        if (was !== isBusy(e.dnd, now)) void this.changed(e, e.state, true);
      }
    }
  }

  /**
   * The user's DND changed (`presence.set busy`, their notification settings): announce their
   * presence again now. With no connection of theirs here, the shown state is read from the
   * pool and published from this node.
   */
  async busyChanged(appId: string, userId: string): Promise<void> {
    const e = this.entries.get(`${appId}:${userId}`);
    if (e && e.connections > 0) {
      e.dnd = (await dndPrefs(this.svc().db, appId, [userId])).get(userId) ?? null;
      return this.changed(e, e.state, true);
    }
    const state = (await this.statesOf(appId, [userId])).get(userId) ?? 'offline';
    if (state === 'offline') return;
    const [row] = await this.svc()
      .db.select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
    if (row) this.publish(appId, [{ user: presentUser(row), state }]);
  }

  private change(e: Entry, state: State): void {
    e.state = state;
    void this.changed(e, state);
  }

  /** Pool the new local state; announce if the pooled state moved (or, `force`d, busy may have). */
  private async changed(e: Entry, state: State, force = false): Promise<void> {
    const svc = this.svc();
    const key = `${e.appId}:${e.userId}`;
    let pooled: State = state;
    const here = state === 'offline' ? [] : this.devicesHere(e.appId, e.userId);
    let devices: DeviceKind[] = here;
    try {
      await this.share.put(e.appId, e.userId, state, here);
      const read = (await this.readShare(e.appId, [e.userId]))[0];
      pooled = read?.state ?? state;
      devices = read?.devices ?? here;
    } catch (err) {
      svc.log.warn({ err, user: e.userId }, 'presence share unavailable; using this node only');
    }
    const devKey = devices.join(',');
    if (this.pooledSeen.get(key) === pooled && (this.devicesSeen.get(key) ?? '') === devKey && !force) return;
    if (devKey) this.devicesSeen.set(key, devKey);
    else this.devicesSeen.delete(key);
    if (pooled === 'offline') {
      if (this.pooledSeen.delete(key) || !force)
        for (const fn of this.offlineListeners) fn(e.appId, e.userId, e.lastActive);
    } else this.pooledSeen.set(key, pooled);
    this.pending.set(key, {
      appId: e.appId,
      userId: e.userId,
      state: pooled,
      lastActive: state === 'offline' ? e.lastActive : null,
      devices,
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
   * offline users' last_active_at and the rows (with their DND, for busy) of users not presented
   * at connect —
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
        // Rows of users not presented at connect, and the DND of connected users this node has
        // not read yet: one statement for both (a connect's own opening read brings its DND).
        const now = new Date(svc.clock());
        const entryOf = (p: PendingAnnouncement) => this.entries.get(`${appId}:${p.userId}`);
        const toRead = list.filter((p) => !p.user || (p.state !== 'offline' && entryOf(p)?.dnd === undefined));
        const read = new Map<string, { row: UserRow; dnd: DndPrefs | null }>();
        if (toRead.length > 0) {
          const ns = schema.notificationSettings;
          const rows = await svc.db
            .select({ user: schema.users, dndUntil: ns.dndUntil, dndSchedule: ns.dndSchedule, timeZone: ns.timeZone })
            .from(schema.users)
            .leftJoin(ns, and(eq(ns.appId, schema.users.appId), eq(ns.userId, schema.users.id)))
            .where(
              and(
                eq(schema.users.appId, appId),
                inArray(
                  schema.users.id,
                  toRead.map((p) => p.userId),
                ),
              ),
            );
          for (const r of rows) {
            const dnd =
              r.timeZone === null ? null : { dndUntil: r.dndUntil, dndSchedule: r.dndSchedule, timeZone: r.timeZone };
            read.set(r.user.id, { row: r.user, dnd });
          }
        }
        // Busy laid over the connected; a state already announced is not announced again.
        const changes: { user: User; state: ShownState; devices: DeviceKind[] }[] = [];
        for (const p of list) {
          const key = `${appId}:${p.userId}`;
          const e = entryOf(p);
          const got = read.get(p.userId);
          if (e && e.dnd === undefined && got) e.dnd = got.dnd;
          const dnd = e ? e.dnd : got?.dnd;
          const state: ShownState = p.state !== 'offline' && isBusy(dnd, now) ? 'busy' : p.state;
          const devices = state === 'offline' ? [] : p.devices;
          const devKey = devices.join(',');
          if (this.announced.get(key) === state && (this.devicesAnnounced.get(key) ?? '') === devKey) continue;
          if (state === 'offline') this.announced.delete(key);
          else this.announced.set(key, state);
          if (devKey) this.devicesAnnounced.set(key, devKey);
          else this.devicesAnnounced.delete(key);
          const base = p.user ?? (got ? presentUser(got.row) : null);
          if (!base) continue;
          changes.push({
            user: p.lastActive === null ? base : { ...base, last_active_at: new Date(p.lastActive).toISOString() },
            state,
            devices,
          });
        }
        this.publish(appId, changes);
      } catch (err) {
        svc.log.warn({ err, users: list.length }, 'presence update failed');
      }
    }
  }

  /** Tell the user's connections and their followers the user's presence (a profile or status change). */
  async announce(appId: string, row: UserRow, known?: ShownState): Promise<void> {
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
  private publish(appId: string, changes: { user: User; state: ShownState; devices?: DeviceKind[] }[]): void {
    if (changes.length === 0) return;
    const at = new Date();
    this.svc().bus.publish(
      changes.flatMap(({ user, state, devices }) =>
        presenceOutgoing(appId, user, state, at, devices ? { devices } : {}),
      ),
    );
  }

  close(): void {
    clearInterval(this.sweeper);
    clearInterval(this.refresher);
    clearInterval(this.busyTimer);
    for (const e of this.entries.values())
      if (e.connections > 0) void this.share.put(e.appId, e.userId, 'offline').catch(() => {});
    for (const e of this.entries.values()) if (e.offlineTimer) clearTimeout(e.offlineTimer);
    this.entries.clear();
  }
}

/**
 * A user's `presence.changed`, once to the user's own topic and once to their presence topic,
 * which reaches every node with a follower: no query, the event serialized once. `extra`
 * carries what else the change is about (`space_id` when they moved in the office, `devices`
 * when their connections' kinds of device are known).
 */
export function presenceOutgoing(
  appId: string,
  user: User,
  state: ShownState,
  at: Date,
  extra: { space_id?: string | null; devices?: DeviceKind[] } = {},
): Outgoing[] {
  const event: EventOf<'presence.changed'> = {
    type: 'presence.changed',
    user: { ...user, presence: state, ...(extra.devices ? { devices: extra.devices } : {}) },
    presence: state,
    ...extra,
    created_at: at.toISOString(),
  };
  return [
    { to: 'user', appId, userId: user.id, event },
    { to: 'presence', appId, userId: user.id, event },
  ];
}
