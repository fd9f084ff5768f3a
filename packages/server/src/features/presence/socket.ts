import { MAX_PRESENCE_SUBSCRIPTIONS } from '@parley/protocol';
import { ApiError } from '../../platform/errors.js';
import type { SocketHandlers } from '../../realtime/handlers.js';

export const presenceSocket: SocketHandlers = {
  'presence.set': async ({ svc, caller }, f) => {
    svc.presence.set(caller.app.id, caller.userId, f.presence);
    return { presence: svc.presence.stateOf(caller.app.id, caller.userId) };
  },
  /**
   * Follow users' presence on this connection. Ids are of the caller's app (topics are scoped
   * by it), so another app's user of the same id is never reached. Refused whole, changing
   * nothing, if the connection would follow more than MAX_PRESENCE_SUBSCRIPTIONS users.
   */
  'presence.subscribe': async ({ svc, caller, conn }, f) => {
    const ids = [...new Set(f.user_ids)];
    const added = ids.filter((id) => id !== caller.userId && !conn.presence.has(id)).length;
    if (conn.presence.size + added > MAX_PRESENCE_SUBSCRIPTIONS)
      throw new ApiError(
        'VALIDATION_ERROR',
        `A connection may follow the presence of at most ${MAX_PRESENCE_SUBSCRIPTIONS} users`,
      );
    // Followed before reading, so a change between the read and the follow is not missed
    // (at worst it arrives as an event after a reply that already shows it).
    // A connection closed meanwhile has left the hub: following now would outlive it.
    if (!conn.isOpen) return { presence: {} };
    // The user's own changes already reach all of their connections (their user topic).
    svc.hub.followPresence(
      conn,
      ids.filter((id) => id !== caller.userId),
    );
    const states = await svc.presence.statesOf(caller.app.id, ids);
    return { presence: Object.fromEntries(ids.map((id) => [id, states.get(id) ?? 'offline'])) };
  },
  'presence.unsubscribe': async ({ svc, conn }, f) => {
    svc.hub.unfollowPresence(conn, f.user_ids);
    return undefined;
  },
  ping: async () => ({ pong: Date.now() }),
};
