/**
 * `channel.watch {cid, since?}`: subscribe to a channel's events and, with `since`, first
 * replay every logged event after it. The subscription (realtime/subscription.ts) owns what
 * reaches the socket: live events that arrive during the replay wait and go out after it,
 * without what the replay already sent — each event exactly once, in order.
 *
 * A resync (`since` given) answers with the channel alone: what changed came as events, and
 * the member list is paged on demand with `channel.members`. A first watch (no `since`) still
 * carries the members (up to 500).
 */
import type { Caller } from '../../platform/auth.js';
import { notFound } from '../../platform/errors.js';
import { readEvents } from '../../platform/event-log.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import type { Services } from '../../services.js';
import {
  accessChannelRead,
  type ChannelAccess,
  channelWithMembers,
  checkRead,
  presentChannel,
  presentMembership,
  rankOf,
} from '../channels/index.js';
import { ownCapabilities } from '../permissions/index.js';
import { type PrefetchedLog, readThrough } from './prefetched-log.js';
import type { WatchFound } from './watch-batch.js';

/** The caller's access to a channel for a watch, with the log page after `since` read ahead. */
async function accessForWatch(
  svc: Services,
  caller: Caller & { kind: 'user' },
  cid: string,
  since: number | undefined,
  /** The base of the connection's existing subscription: its replay ends there. */
  base: number | undefined,
): Promise<{ access: ChannelAccess; log: PrefetchedLog | null }> {
  let found: WatchFound | null;
  try {
    found = await svc.watches.add({
      appId: caller.app.id,
      cid,
      userId: caller.userId,
      after: since ?? null,
      upTo: since === undefined ? null : (base ?? null),
    });
  } catch {
    // The batch failed (logged once, by the batcher): this watch on its own, as before.
    return { access: await accessChannelRead(svc.db, caller, cid), log: null };
  }
  if (!found) throw notFound('Channel');
  const access: ChannelAccess = {
    channel: found.channel,
    member: found.member,
    user: found.user,
    rank: rankOf(caller, found.member, found.user?.role ?? null),
    caller,
  };
  checkRead(access);
  return { access, log: found.log };
}

export const eventSocket: SocketHandlers = {
  'channel.watch': async ({ svc, caller, conn }, f) => {
    // A subscription that already exists holds its live events from the start: one published
    // while access is checked would otherwise go out live and then again in the replay.
    const early = conn.subs.get(f.cid);
    early?.hold();
    let a: ChannelAccess;
    let ahead: PrefetchedLog | null;
    try {
      ({ access: a, log: ahead } = await accessForWatch(svc, caller, f.cid, f.since, early?.baseSeq));
    } catch (err) {
      early?.release();
      throw err;
    }
    const known = a.channel.lastSeq;
    const { sub, created } = svc.hub.subscribe(conn, f.cid, f.since ?? known, 'watching', known);
    if (a.member) sub.add('member');
    if (early && early !== sub) early.release(); // it ended meanwhile; this one is new
    if (early !== sub) sub.hold();
    // The page read with the access serves the replay first; the log is read only past it.
    const read = readThrough(ahead, (after, limit, upTo) => readEvents(svc, caller.app.id, f.cid, after, limit, upTo));
    let reload = false;
    try {
      if (f.since !== undefined) {
        // An existing subscription sent every event above its baseSeq live already, so its
        // replay covers only (since, baseSeq]; a new one replays to the end of the log.
        const end = created ? known : Math.min(sub.baseSeq, known);
        if (end - f.since > svc.config.maxReplay) {
          reload = true;
          if (created) sub.skipTo(known);
        } else {
          await sub.replayHeld(read, created ? { after: f.since } : { after: f.since, upTo: sub.baseSeq });
        }
      } else if (created) {
        // Events committed between the access read and the subscription.
        await sub.replayHeld(read, { after: known });
      }
    } finally {
      sub.release();
    }
    if (f.since !== undefined) {
      const membership = a.member ? presentMembership(a.member) : null;
      return { channel: presentChannel(a.channel, { membership, own_capabilities: ownCapabilities(a) }), reload };
    }
    const snapshot = await channelWithMembers(svc.db, caller, f.cid, a);
    return { ...snapshot, reload };
  },
  'channel.unwatch': async ({ svc, conn }, f) => {
    svc.hub.unsubscribe(conn, f.cid, 'watching');
    return undefined;
  },
};
