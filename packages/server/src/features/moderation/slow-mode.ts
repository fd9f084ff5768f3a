/**
 * Slow mode: one message per `slow_mode_s` seconds per member of a channel, moderators exempt
 * (`skip-slow-mode`). A window of the shared rate limiter (so every node agrees); the refusal
 * is RATE_LIMITED with `limit: slow_mode` and the remaining wait in `retry_after_ms`. Read from
 * the channel row the send's access check already loaded: a channel without slow mode costs
 * nothing, one with it a limiter round trip.
 */
import type { Infra } from '../../infra.js';
import { ApiError } from '../../platform/errors.js';
import { can, type PermissionSubject } from '../permissions/index.js';

export async function checkSlowMode(
  svc: Infra,
  a: PermissionSubject & { channel: { appId: string; cid: string; slowModeS: number } },
  userId: string,
): Promise<void> {
  const s = a.channel.slowModeS;
  if (!s || can(a, 'skip-slow-mode')) return;
  const r = await svc.limiter.hit(`slow:${a.channel.appId}:${a.channel.cid}:${userId}`, 1, s * 1000);
  if (!r.ok)
    throw new ApiError('RATE_LIMITED', `Slow mode: one message every ${s} s in this channel`, {
      limit: 'slow_mode',
      scope: 'user',
      retry_after_ms: r.retryAfterMs,
    });
}
