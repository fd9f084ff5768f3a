/**
 * Who is viewing a conversation right now. Each connection views at most one channel
 * (`channel.view`); the channel's members and watchers are told, as `viewers.changed` on its
 * channel topic, everyone who views it after each change. Ephemeral like typing: nothing is
 * logged or stored in the database, and nothing is read from it here (the socket handler's
 * access check is the only query), so the send path pays nothing for it.
 *
 * Nodes pool what their connections view through a ViewerShare: in one process, this node's own
 * map; scaled out, a Redis hash per channel with one field per viewing connection, each with an
 * expiry its node keeps refreshing. A connection that closes is dropped at once; a node that
 * dies stops counting when its fields expire, and the next refresh of a node with a viewer of
 * that channel (or any change there) announces the list without them.
 */
import type { DeviceKind, EventOf, Viewer } from '@parley/protocol';
import type { Redis } from 'ioredis';
import type { Infra } from '../../infra.js';

/** One connection's view: what it shows, as whom, on what. */
export interface Viewing {
  appId: string;
  cid: string;
  userId: string;
  device: DeviceKind;
  connId: string;
}

export interface ViewerShare {
  /** Whether other nodes write to it too (then lists are re-read on the refresh, for dead nodes). */
  readonly pooled: boolean;
  put(v: Viewing): Promise<void>;
  drop(v: Viewing): Promise<void>;
  /** Everyone viewing the channel on any live node. */
  list(appId: string, cid: string): Promise<{ userId: string; device: DeviceKind }[]>;
  /** Re-assert this node's views (called on an interval). */
  refresh(views: readonly Viewing[]): Promise<void>;
}

/** One process: the pool is this node's own views. */
export class LocalViewerShare implements ViewerShare {
  readonly pooled = false;
  private readonly byChannel = new Map<string, Map<string, Viewing>>();
  async put(v: Viewing): Promise<void> {
    const k = `${v.appId}|${v.cid}`;
    let m = this.byChannel.get(k);
    if (!m) {
      m = new Map();
      this.byChannel.set(k, m);
    }
    m.set(v.connId, v);
  }
  async drop(v: Viewing): Promise<void> {
    const k = `${v.appId}|${v.cid}`;
    const m = this.byChannel.get(k);
    m?.delete(v.connId);
    if (m?.size === 0) this.byChannel.delete(k);
  }
  async list(appId: string, cid: string): Promise<{ userId: string; device: DeviceKind }[]> {
    return [...(this.byChannel.get(`${appId}|${cid}`)?.values() ?? [])];
  }
  async refresh(): Promise<void> {}
}

/** Scaled out: `parley:viewers:<app>:<cid>` → field `<node>|<conn>` = `<user>|<device>|<until>`. */
export class RedisViewerShare implements ViewerShare {
  readonly pooled = true;
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly ttlMs = 45_000,
    private readonly prefix = 'parley:viewers:',
  ) {}
  private key(appId: string, cid: string): string {
    return `${this.prefix}${appId}:${cid}`;
  }
  private field(v: Viewing): string {
    return `${this.nodeId}|${v.connId}`;
  }
  async put(v: Viewing): Promise<void> {
    await this.refresh([v]);
  }
  async drop(v: Viewing): Promise<void> {
    await this.redis.hdel(this.key(v.appId, v.cid), this.field(v));
  }
  async list(appId: string, cid: string): Promise<{ userId: string; device: DeviceKind }[]> {
    const fields = await this.redis.hgetall(this.key(appId, cid));
    const now = Date.now();
    const out: { userId: string; device: DeviceKind }[] = [];
    for (const value of Object.values(fields)) {
      // The user id may hold `|`: the device and the expiry are the last two parts.
      const parts = value.split('|');
      const until = Number(parts.pop());
      const device = parts.pop() as DeviceKind;
      if (until > now) out.push({ userId: parts.join('|'), device });
    }
    return out;
  }
  async refresh(views: readonly Viewing[]): Promise<void> {
    if (views.length === 0) return;
    const p = this.redis.pipeline();
    const until = Date.now() + this.ttlMs;
    for (const v of views) {
      const k = this.key(v.appId, v.cid);
      p.hset(k, this.field(v), `${v.userId}|${v.device}|${until}`).pexpire(k, this.ttlMs * 2);
    }
    await p.exec();
  }
}

const ORDER: Record<DeviceKind, number> = { web: 0, desktop: 1, mobile: 2 };

/** One entry per person, ordered by user id, each with their device kinds (once each). */
export function groupViewers(rows: readonly { userId: string; device: DeviceKind }[]): Viewer[] {
  const by = new Map<string, Set<DeviceKind>>();
  for (const r of rows) {
    let set = by.get(r.userId);
    if (!set) {
      set = new Set();
      by.set(r.userId, set);
    }
    set.add(r.device);
  }
  return [...by.keys()]
    .sort()
    .map((userId) => ({ user_id: userId, devices: [...(by.get(userId) ?? [])].sort((a, b) => ORDER[a] - ORDER[b]) }));
}

export class Viewers {
  /** This node's connections that view a channel, by connection id. */
  private readonly byConn = new Map<string, Viewing>();
  /** The list this node last announced or read per `app|cid`, so the refresh repeats no list. */
  private readonly known = new Map<string, string>();
  private readonly refresher: NodeJS.Timeout;

  constructor(
    private readonly svc: () => Infra,
    private readonly share: ViewerShare = new LocalViewerShare(),
  ) {
    this.refresher = setInterval(
      () => {
        this.refresh().catch((err: unknown) => this.svc().log.warn({ err }, 'viewers refresh failed'));
      },
      Math.max(100, svc().config.presenceTtlMs / 3),
    );
    this.refresher.unref();
  }

  /** What the connection views now, if anything. */
  viewing(connId: string): Viewing | undefined {
    return this.byConn.get(connId);
  }

  /**
   * The connection views `cid` now (null: nothing). Announces to the channel it left and the one
   * it entered; answers who views `cid` now (empty for null). Access is the caller's to check.
   */
  async view(
    conn: { id: string; appId: string; userId: string; device: DeviceKind },
    cid: string | null,
  ): Promise<Viewer[]> {
    const prev = this.byConn.get(conn.id);
    if (prev && prev.cid === cid) return groupViewers(await this.share.list(prev.appId, prev.cid));
    if (prev) {
      this.byConn.delete(conn.id);
      await this.share.drop(prev);
      await this.announce(prev.appId, prev.cid);
    }
    if (cid === null) return [];
    const v: Viewing = { appId: conn.appId, cid, userId: conn.userId, device: conn.device, connId: conn.id };
    this.byConn.set(conn.id, v);
    await this.share.put(v);
    return this.announce(v.appId, v.cid);
  }

  /** The connection may no longer read `cid` (removed from it): if it views it, it stops. */
  lost(connId: string, cid: string): void {
    if (this.byConn.get(connId)?.cid === cid) this.closed(connId);
  }

  /** The connection closed: it views nothing any more. */
  closed(connId: string): void {
    const prev = this.byConn.get(connId);
    if (!prev) return;
    this.byConn.delete(connId);
    this.share
      .drop(prev)
      .then(() => this.announce(prev.appId, prev.cid))
      .catch((err: unknown) => this.svc().log.warn({ err, cid: prev.cid }, 'viewers update failed'));
  }

  /** Publish who views the channel now, to its members and watchers; answers the list. */
  private async announce(appId: string, cid: string): Promise<Viewer[]> {
    const viewers = groupViewers(await this.share.list(appId, cid));
    this.publish(appId, cid, viewers);
    return viewers;
  }

  private publish(appId: string, cid: string, viewers: Viewer[]): void {
    const key = `${appId}|${cid}`;
    if (viewers.length === 0) this.known.delete(key);
    else this.known.set(key, JSON.stringify(viewers));
    const event: EventOf<'viewers.changed'> = {
      type: 'viewers.changed',
      cid,
      viewers,
      created_at: new Date().toISOString(),
    };
    this.svc().bus.publish([{ to: 'channel', appId, cid, event }]);
  }

  /**
   * Keep this node's fields alive in the pool and, where others write to it too, read again the
   * channels viewed here: a list that shrank without a change announced (a node died with
   * viewers of it) is announced now. One hash read per channel viewed here, per refresh.
   */
  private async refresh(): Promise<void> {
    const views = [...this.byConn.values()];
    await this.share.refresh(views);
    if (!this.share.pooled) return;
    const channels = new Map<string, { appId: string; cid: string }>();
    for (const v of views) channels.set(`${v.appId}|${v.cid}`, { appId: v.appId, cid: v.cid });
    for (const [key, { appId, cid }] of channels) {
      const viewers = groupViewers(await this.share.list(appId, cid));
      if (this.known.get(key) !== JSON.stringify(viewers)) this.publish(appId, cid, viewers);
    }
  }

  close(): void {
    clearInterval(this.refresher);
    for (const v of this.byConn.values()) void this.share.drop(v).catch(() => {});
    this.byConn.clear();
  }
}
