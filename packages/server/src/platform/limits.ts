/**
 * Rate limits on everything, one mechanism: every budget is a fixed-window counter of
 * platform/rate-limit.ts (in memory, or in Redis so that every node counts against the same
 * budget), per user, per IP and per app. A refusal is RATE_LIMITED (429) whose details say
 * which limit (`limit`), which budget ran out (`scope`: user, ip or app) and when to retry
 * (`retry_after_ms`; the HTTP answer also carries Retry-After). Budgets are in
 * `config.limits` (env `PARLEY_LIMITS`, JSON: `{"reactions":{"user":30}}`); 0 turns one off.
 * Messages keep their own budget (`rateMessages`, messages/actions.ts) and slow mode
 * (moderation/slow-mode.ts); sign-ins keep theirs (accounts/signin-guard.ts), both on the same
 * limiter. Infrastructure, as every feature's routes and actions count through it.
 */
import type { Infra } from '../infra.js';
import type { LimitName } from './config.js';
import { ApiError } from './errors.js';

/** Count one `name` action against the user's, the IP's and the app's budgets; RATE_LIMITED past any. */
export async function checkRate(
  svc: Infra,
  name: LimitName,
  appId: string,
  userId: string | null,
  ip?: string | null,
): Promise<void> {
  const b = svc.config.limits[name];
  const scopes: [scope: 'user' | 'ip' | 'app', key: string, limit: number][] = [];
  if (userId && b.user > 0) scopes.push(['user', `${name}:u:${appId}:${userId}`, b.user]);
  if (ip && b.ip > 0) scopes.push(['ip', `${name}:ip:${ip}`, b.ip]);
  if (b.app > 0) scopes.push(['app', `${name}:a:${appId}`, b.app]);
  if (scopes.length === 0) return;
  const results = await Promise.all(scopes.map(([, key, limit]) => svc.limiter.hit(key, limit, b.windowMs)));
  results.forEach((r, i) => {
    const [scope, , limit] = scopes[i] as (typeof scopes)[number];
    if (!r.ok)
      throw new ApiError('RATE_LIMITED', `Too many ${name}: at most ${limit} per ${b.windowMs / 1000} s per ${scope}`, {
        limit: name,
        scope,
        retry_after_ms: r.retryAfterMs,
      });
  });
}
