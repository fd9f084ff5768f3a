/**
 * The default rate limit of every REST route under `/v1` (`config.httpLimits`): per client IP
 * before anything else is done, and per caller once the credentials are known — a user (token
 * or session) or an app's server token. Routes with limits of their own (sends, sign-in, mail,
 * sign-up, uploads, reactions…) keep them; this is the ceiling under which every other route
 * lives, so no route is unlimited. Counted on the shared limiter (Redis when set, so every node
 * counts against one budget; failing open after 250 ms without Redis). Answers
 * `429 RATE_LIMITED` with `details.retry_after_ms` and `Retry-After`, like every limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Infra } from '../infra.js';
import { ApiError } from './errors.js';

async function hit(svc: Pick<Infra, 'limiter'>, key: string, max: number, windowMs: number, scope: string) {
  if (max <= 0) return;
  const r = await svc.limiter.hit(key, max, windowMs);
  if (!r.ok)
    throw new ApiError('RATE_LIMITED', `Too many requests (${scope}); try again later`, {
      retry_after_ms: r.retryAfterMs,
      limit: 'http',
      scope,
    });
}

const limited = (req: FastifyRequest) => (req.url ?? '').startsWith('/v1/');

export function registerHttpLimits(app: FastifyInstance, svc: Pick<Infra, 'limiter' | 'config'>): void {
  const { ip, user, server, windowMs } = svc.config.httpLimits;
  if (ip > 0)
    app.addHook('onRequest', async (req) => {
      if (limited(req)) await hit(svc, `http:ip:${req.ip}`, ip, windowMs, 'ip');
    });
  if (user > 0 || server > 0)
    // After the credentials are checked (platform/http.ts registers that hook first).
    app.addHook('preValidation', async (req) => {
      if (!limited(req)) return;
      const c = req.caller;
      if (c?.kind === 'user') await hit(svc, `http:user:${c.app.id}:${c.userId}`, user, windowMs, 'user');
      else if (c?.kind === 'server') await hit(svc, `http:server:${c.app.id}`, server, windowMs, 'server');
      else if (req.account) await hit(svc, `http:account:${req.account.accountId}`, user, windowMs, 'user');
    });
}
