/**
 * Where nodes pool their presence. Each node records, per user, the state it sees from its
 * own connections; a user's presence is the liveliest state any node reports (online > away >
 * offline). In one process that is just the local view; with Redis each node writes its field
 * of a per-user hash, with an expiry it keeps refreshing, so a node that dies stops counting
 * within `ttlMs` without anyone cleaning up after it.
 *
 * Each node's entry also carries the kinds of device the user is connected on there (`web`,
 * `desktop`, `mobile`); a user's devices are those of the live entries, together.
 */
import type { DeviceKind } from '@parley/protocol';
import type { Redis } from 'ioredis';

export type State = 'online' | 'away' | 'offline';
const RANK: Record<State, number> = { offline: 0, away: 1, online: 2 };
export const liveliest = (states: Iterable<State>): State => {
  let best: State = 'offline';
  for (const s of states) if (RANK[s] > RANK[best]) best = s;
  return best;
};

const DEVICE_ORDER: Record<DeviceKind, number> = { web: 0, desktop: 1, mobile: 2 };
/** Device kinds once each, in one order (web, desktop, mobile), so two lists compare as strings. */
export const sortDevices = (devices: Iterable<DeviceKind>): DeviceKind[] =>
  [...new Set(devices)].sort((a, b) => DEVICE_ORDER[a] - DEVICE_ORDER[b]);
const isDevice = (d: string): d is DeviceKind => d in DEVICE_ORDER;

export interface PresenceShare {
  /** Record this node's view of a user (`offline` = no connection of theirs here) and their devices here. */
  put(appId: string, userId: string, state: State, devices?: readonly DeviceKind[]): Promise<void>;
  /** The pooled state of each user. */
  get(appId: string, userIds: readonly string[]): Promise<State[]>;
  /**
   * The pooled state of each user with their devices (empty for the offline): one read for
   * both. Without it, `get` answers and the devices are this node's own.
   */
  read?(appId: string, userIds: readonly string[]): Promise<{ state: State; devices: DeviceKind[] }[]>;
  /** Re-assert this node's live entries (called on an interval). */
  refresh(
    entries: readonly { appId: string; userId: string; state: State; devices?: readonly DeviceKind[] }[],
  ): Promise<void>;
}

/** One process: the pool is this node's own view. */
export class LocalShare implements PresenceShare {
  constructor(
    private readonly local: (appId: string, userId: string) => State,
    private readonly localDevices: (appId: string, userId: string) => DeviceKind[] = () => [],
  ) {}
  async put(): Promise<void> {}
  async get(appId: string, userIds: readonly string[]): Promise<State[]> {
    return userIds.map((id) => this.local(appId, id));
  }
  async read(appId: string, userIds: readonly string[]): Promise<{ state: State; devices: DeviceKind[] }[]> {
    return userIds.map((id) => {
      const state = this.local(appId, id);
      return { state, devices: state === 'offline' ? [] : this.localDevices(appId, id) };
    });
  }
  async refresh(): Promise<void> {}
}

export class RedisShare implements PresenceShare {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly ttlMs = 45_000,
    private readonly prefix = 'parley:presence:',
  ) {}

  private key(appId: string, userId: string): string {
    return `${this.prefix}${appId}:${userId}`;
  }

  async put(appId: string, userId: string, state: State, devices: readonly DeviceKind[] = []): Promise<void> {
    const k = this.key(appId, userId);
    if (state === 'offline') await this.redis.hdel(k, this.nodeId);
    else
      await this.redis
        .multi()
        // `state|until|devices`: readers of the first two parts take it as before.
        .hset(k, this.nodeId, `${state}|${Date.now() + this.ttlMs}|${devices.join(',')}`)
        .pexpire(k, this.ttlMs * 2)
        .exec();
  }

  async get(appId: string, userIds: readonly string[]): Promise<State[]> {
    if (userIds.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of userIds) p.hgetall(this.key(appId, id));
    const res = (await p.exec()) ?? [];
    const now = Date.now();
    return res.map(([err, fields]) => {
      if (err || !fields) return 'offline';
      const live: State[] = [];
      for (const v of Object.values(fields as Record<string, string>)) {
        const [state, until] = v.split('|');
        if (Number(until) > now && (state === 'online' || state === 'away')) live.push(state);
      }
      return liveliest(live);
    });
  }

  async read(appId: string, userIds: readonly string[]): Promise<{ state: State; devices: DeviceKind[] }[]> {
    if (userIds.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of userIds) p.hgetall(this.key(appId, id));
    const res = (await p.exec()) ?? [];
    const now = Date.now();
    return res.map(([err, fields]) => {
      if (err || !fields) return { state: 'offline', devices: [] };
      const live: State[] = [];
      const devices: DeviceKind[] = [];
      for (const v of Object.values(fields as Record<string, string>)) {
        const [state, until, kinds] = v.split('|');
        if (!(Number(until) > now && (state === 'online' || state === 'away'))) continue;
        live.push(state);
        for (const d of (kinds ?? '').split(',')) if (isDevice(d)) devices.push(d);
      }
      const state = liveliest(live);
      return { state, devices: state === 'offline' ? [] : sortDevices(devices) };
    });
  }

  async refresh(
    entries: readonly { appId: string; userId: string; state: State; devices?: readonly DeviceKind[] }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const p = this.redis.pipeline();
    const until = Date.now() + this.ttlMs;
    for (const e of entries) {
      if (e.state === 'offline') continue;
      const k = this.key(e.appId, e.userId);
      p.hset(k, this.nodeId, `${e.state}|${until}|${(e.devices ?? []).join(',')}`).pexpire(k, this.ttlMs * 2);
    }
    await p.exec();
  }
}
