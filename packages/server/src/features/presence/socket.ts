import { MAX_PRESENCE_SUBSCRIPTIONS } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { checkRate } from '../../platform/limits.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/index.js';
import { visibleToGuest } from '../users/index.js';
import { setPresence } from './actions.js';

/** Which of `ids` the guest `viewer` may see (one query). */
async function guestVisible(svc: Services, appId: string, viewer: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const u = schema.users;
  const rows = await svc.db
    .select({ id: u.id })
    .from(u)
    .where(and(eq(u.appId, appId), inArray(u.id, ids), visibleToGuest(appId, viewer, sql`${u.id}`)));
  return new Set(rows.map((r) => r.id));
}

export const presenceSocket: SocketHandlers = {
  'presence.set': async ({ svc, caller }, f) => ({
    presence: await setPresence(svc, requireUser(caller, 'Only users have a presence'), f.presence, f.until),
  }),
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
    // A guest follows only people it may see (itself and those who share a channel with it):
    // anyone else reads as offline and is not followed, whether or not the id exists.
    const visible = conn.user.role === 'guest' ? await guestVisible(svc, caller.app.id, caller.userId, ids) : null;
    const followed = visible ? ids.filter((id) => visible.has(id)) : ids;
    // The user's own changes already reach all of their connections (their user topic).
    svc.hub.followPresence(
      conn,
      followed.filter((id) => id !== caller.userId),
    );
    // In effect on the broker before the read: a change another node publishes after the read
    // then reaches this connection (a Redis SUBSCRIBE is answered on its own connection).
    await svc.hub.settled();
    const [states, places, devices] = await Promise.all([
      svc.presence.statesOf(caller.app.id, followed),
      // Where they are in the office is part of their presence; guests have no place there.
      conn.user.role === 'guest' ? new Map<string, string>() : svc.spacesOfUsers(svc.db, caller.app.id, followed),
      svc.presence.devicesOf(caller.app.id, followed),
    ]);
    return {
      presence: Object.fromEntries(ids.map((id) => [id, states.get(id) ?? 'offline'])),
      spaces: Object.fromEntries(followed.map((id) => [id, places.get(id) ?? null])),
      // The kinds of device each connected one is on (the offline are left out).
      devices: Object.fromEntries(
        followed.flatMap((id) => {
          const kinds = devices.get(id) ?? [];
          return kinds.length > 0 && states.get(id) !== 'offline' ? [[id, kinds]] : [];
        }),
      ),
    };
  },
  'presence.unsubscribe': async ({ svc, conn }, f) => {
    svc.hub.unfollowPresence(conn, f.user_ids);
    return undefined;
  },
  /**
   * Say which channel this connection shows now (null: none). Only a channel the caller may
   * read (else FORBIDDEN or NOT_FOUND, as for reading it); its members and watchers are told.
   */
  'channel.view': async ({ svc, caller, conn }, f) => {
    if (f.cid !== null) await accessChannelRead(svc.db, caller, f.cid);
    await checkRate(svc, 'views', caller.app.id, caller.userId);
    // A connection closed meanwhile has left: a view now would outlive it.
    if (!conn.isOpen) return { viewers: [] };
    const viewers = await svc.viewers.view(conn, f.cid);
    if (!conn.isOpen) svc.viewers.closed(conn.id);
    return { viewers };
  },
  ping: async () => ({ pong: Date.now() }),
  /**
   * A client that came back says how long its resync took: counted once per connection, and
   * only on one that connected with `reconnect=1` (realtime/stability.ts); else ignored.
   */
  'connection.resynced': async ({ svc, conn }, f) => {
    if (conn.reconnect && !conn.resyncReported) {
      conn.resyncReported = true;
      svc.stability.resynced(conn.appId, f.ms);
    }
    return undefined;
  },
};
