/**
 * Where nodes pool their presence. Each node records, per user, the state it sees from its
 * own connections; a user's presence is the liveliest state any node reports (online > away >
 * offline). In one process that is just the local view; with Redis each node writes its field
 * of a per-user hash, with an expiry it keeps refreshing, so a node that dies stops counting
 * within `ttlMs` without anyone cleaning up after it.
 */
import type { Redis } from 'ioredis';

export type State = 'online' | 'away' | 'offline';
const RANK: Record<State, number> = { offline: 0, away: 1, online: 2 };
export const liveliest = (states: Iterable<State>): State => {
  let best: State = 'offline';
  for (const s of states) if (RANK[s] > RANK[best]) best = s;
  return best;
};

export interface PresenceShare {
  /** Record this node's view of a user (`offline` = no connection of theirs here). */
  put(appId: string, userId: string, state: State): Promise<void>;
  /** The pooled state of each user. */
  get(appId: string, userIds: readonly string[]): Promise<State[]>;
  /** Re-assert this node's live entries (called on an interval). */
  refresh(entries: readonly { appId: string; userId: string; state: State }[]): Promise<void>;
}

/** One process: the pool is this node's own view. */
export class LocalShare implements PresenceShare {
  constructor(private readonly local: (appId: string, userId: string) => State) {}
  async put(): Promise<void> {}
  async get(appId: string, userIds: readonly string[]): Promise<State[]> {
    return userIds.map((id) => this.local(appId, id));
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

  async put(appId: string, userId: string, state: State): Promise<void> {
    const k = this.key(appId, userId);
    if (state === 'offline') await this.redis.hdel(k, this.nodeId);
    else
      await this.redis
        .multi()
        .hset(k, this.nodeId, `${state}|${Date.now() + this.ttlMs}`)
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

  async refresh(entries: readonly { appId: string; userId: string; state: State }[]): Promise<void> {
    if (entries.length === 0) return;
    const p = this.redis.pipeline();
    const until = Date.now() + this.ttlMs;
    for (const e of entries) {
      if (e.state === 'offline') continue;
      const k = this.key(e.appId, e.userId);
      p.hset(k, this.nodeId, `${e.state}|${until}`).pexpire(k, this.ttlMs * 2);
    }
    await p.exec();
  }
}
