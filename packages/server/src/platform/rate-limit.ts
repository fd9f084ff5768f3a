/**
 * Rate limits: fixed-window counters, in memory for one node or in Redis so that every node
 * counts against the same budget. A refusal says how long until the window resets, so clients
 * can wait exactly that long (RATE_LIMITED is retryable).
 */
import type { Redis } from 'ioredis';

export interface RateLimiter {
  /**
   * Count one hit on `key`; `ok: false` once more than `limit` fell in the current window.
   * `blockMs`: the first hit past the limit makes the window last at least that long from
   * then, so every hit until it ends is refused too (a block after a burst).
   */
  hit(key: string, limit: number, windowMs: number, blockMs?: number): Promise<{ ok: boolean; retryAfterMs: number }>;
  close(): Promise<void>;
}

/**
 * One node's counters. Its time is the server's clock (`svc.clock`), as the lockout's is, so a
 * test that moves the clock moves both together and every refusal's `retry_after_ms` is exact.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 30_000);
  constructor(private readonly clock: () => number = Date.now) {
    this.sweeper.unref();
  }
  async hit(key: string, limit: number, windowMs: number, blockMs = 0) {
    const now = this.clock();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count === limit + 1 && blockMs > 0) w.resetAt = Math.max(w.resetAt, now + blockMs);
    return { ok: w.count <= limit, retryAfterMs: w.count <= limit ? 0 : w.resetAt - now };
  }
  private sweep(): void {
    const now = this.clock();
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'parley:rl:',
    private readonly timeoutMs = 250,
  ) {}
  async hit(key: string, limit: number, windowMs: number, blockMs = 0) {
    const k = this.prefix + key;
    // INCR and a first-hit expiry in one round trip; PTTL tells when the window resets.
    // While Redis is unreachable the limit fails open after a short wait: chat keeps working
    // without its abuse guard rather than stalling every send until Redis is back.
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.redis.multi().incr(k).pexpire(k, windowMs, 'NX').pttl(k).exec(),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), this.timeoutMs);
      }),
    ])
      .catch(() => null)
      .finally(() => clearTimeout(timer));
    if (!r) return { ok: true, retryAfterMs: 0 };
    const count = Number(r?.[0]?.[1] ?? 0);
    let ttl = Number(r?.[2]?.[1] ?? windowMs);
    // The first hit past the limit (INCR is atomic: one node sees it) starts the block.
    if (count === limit + 1 && blockMs > ttl) {
      await Promise.race([
        this.redis.pexpire(k, blockMs),
        new Promise((resolve) => setTimeout(resolve, this.timeoutMs).unref()),
      ]).catch(() => {});
      ttl = blockMs;
    }
    return { ok: count <= limit, retryAfterMs: count <= limit ? 0 : Math.max(ttl, 1) };
  }
  async close(): Promise<void> {}
}
