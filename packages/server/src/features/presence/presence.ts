/**
 * Presence on this node: a user is online while any connection of theirs is open, away when
 * they say so or after a stretch without activity, and offline once the last connection has
 * been closed for a short grace period (so a page reload does not flap them offline and back).
 * Changes go, as `presence.changed`, only to users who share a channel with them.
 */
import { and, eq, sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import { presentUser, type UserRow } from '../users/present.js';

type State = 'online' | 'away' | 'offline';

interface Entry {
  appId: string;
  userId: string;
  connections: number;
  state: State;
  /** Set by `presence.set away`; inactivity alone does not clear it. */
  chosenAway: boolean;
  lastActive: number;
  offlineTimer: NodeJS.Timeout | null;
}

export class Presence {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly svc: () => Services) {
    const { awayAfterMs } = svc().config;
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(awayAfterMs / 4, 30_000)));
    this.sweeper.unref();
  }

  stateOf(appId: string, userId: string): State {
    return this.entries.get(`${appId}:${userId}`)?.state ?? 'offline';
  }

  /** Those of `userIds` who are online or away (for `@here`). */
  present(appId: string, userIds: readonly string[]): string[] {
    return userIds.filter((id) => this.stateOf(appId, id) !== 'offline');
  }

  connected(appId: string, userId: string): void {
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
      };
      this.entries.set(key, e);
    }
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
    const svc = this.svc();
    const write =
      state === 'offline'
        ? svc.db
            .update(schema.users)
            .set({ lastActiveAt: new Date(e.lastActive) })
            .where(and(eq(schema.users.appId, e.appId), eq(schema.users.id, e.userId)))
            .returning()
        : svc.db
            .select()
            .from(schema.users)
            .where(and(eq(schema.users.appId, e.appId), eq(schema.users.id, e.userId)));
    write
      .then(([row]) => (row ? this.announce(e.appId, row) : undefined))
      .catch((err: unknown) => svc.log.warn({ err, user: e.userId }, 'presence update failed'));
  }

  /** Tell everyone who shares a channel with this user (and the user's own tabs). */
  async announce(appId: string, row: UserRow): Promise<void> {
    const svc = this.svc();
    const state = this.stateOf(appId, row.id);
    const result = await rows<{ user_id: string }>(
      svc.db,
      sql`
      select distinct m2.user_id from ${schema.members} m1
      join ${schema.members} m2 on m2.app_id = m1.app_id and m2.cid = m1.cid
      where m1.app_id = ${appId} and m1.user_id = ${row.id}`,
    );
    const recipients = new Set(result.map((r) => r.user_id));
    recipients.add(row.id);
    const event = {
      type: 'presence.changed',
      user: presentUser(row, state),
      presence: state,
      created_at: new Date().toISOString(),
    };
    svc.bus.publish([...recipients].map((userId) => ({ to: 'user' as const, appId, userId, event })));
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const e of this.entries.values()) if (e.offlineTimer) clearTimeout(e.offlineTimer);
    this.entries.clear();
  }
}
