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
import type { SocketHandlers } from '../../realtime/handlers.js';
import type { LogPageReader } from '../../realtime/subscription.js';
import { accessChannelRead } from '../channels/access.js';
import { channelWithMembers } from '../channels/actions.js';
import { presentChannel, presentMembership } from '../channels/present.js';
import { ownCapabilities } from '../permissions/policy.js';
import { readEvents } from './log.js';

export const eventSocket: SocketHandlers = {
  'channel.watch': async ({ svc, caller, conn }, f) => {
    // A subscription that already exists holds its live events from the start: one published
    // while access is checked would otherwise go out live and then again in the replay.
    const early = conn.subs.get(f.cid);
    early?.hold();
    let a: Awaited<ReturnType<typeof accessChannelRead>>;
    try {
      a = await accessChannelRead(svc.db, caller, f.cid);
    } catch (err) {
      early?.release();
      throw err;
    }
    const known = a.channel.lastSeq;
    const { sub, created } = svc.hub.subscribe(conn, f.cid, f.since ?? known, 'watching', known);
    if (a.member) sub.add('member');
    if (early && early !== sub) early.release(); // it ended meanwhile; this one is new
    if (early !== sub) sub.hold();
    const read: LogPageReader = (after, limit, upTo) => readEvents(svc, caller.app.id, f.cid, after, limit, upTo);
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
