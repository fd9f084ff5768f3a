/**
 * `channel.watch {cid, since?}`: subscribe to a channel's events and, with `since`, first
 * replay every logged event after it. Live events that arrive during the replay are held and
 * released after it, skipping what the replay already sent: each event exactly once, in order.
 */
import type { Connection, Subscription } from '../../realtime/connection.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import { accessChannelRead } from '../channels/access.js';
import { channelWithMembers } from '../channels/actions.js';
import { readEvents } from './log.js';

export const eventSocket: SocketHandlers = {
  'channel.watch': async ({ svc, caller, conn }, f) => {
    // A subscription that already exists holds its live events from the start: one published
    // while access is checked would otherwise go out live and then again in the replay.
    const early = conn.subs.get(f.cid);
    const heldEarly = early !== undefined && early.held === null;
    if (heldEarly) early.held = [];
    const a = await accessChannelRead(svc.db, caller, f.cid).catch((err: unknown) => {
      if (heldEarly) release(conn, f.cid, early!);
      throw err;
    });
    const existing = conn.subs.get(f.cid);
    const known = a.channel.lastSeq;
    svc.hub.subscribe(conn, f.cid, f.since ?? known, { watching: true, member: !!a.member }, known);
    const sub = conn.subs.get(f.cid);
    if (heldEarly && sub !== early) release(conn, f.cid, early);
    if (!sub) return { reload: true };
    // A subscription that already existed has sent every event above its baseSeq live, so a
    // replay covers only (since, baseSeq]: each event reaches the socket once, even if the
    // live ones went out first. A new one holds live events while it replays.
    const from = f.since ?? (existing ? sub.lastSeq : known);
    const upTo = existing ? sub.baseSeq : undefined;
    let reload = false;
    const holding = (heldEarly && sub === early) || sub.held === null;
    if (holding) sub.held ??= [];
    try {
      const end = upTo ?? Number.MAX_SAFE_INTEGER;
      if (f.since !== undefined && Math.min(end, known) - from > svc.config.maxReplay) {
        reload = true;
      } else if (f.since !== undefined || !existing) {
        // Pages of the log, so a long gap never loads in one query.
        let after = from;
        for (;;) {
          const rows = await readEvents(svc, caller.app.id, f.cid, after, 500, upTo);
          for (const r of rows) {
            conn.send(r.frame);
            after = r.seq;
          }
          if (rows.length < 500) break;
        }
        if (!existing) sub.lastSeq = Math.max(sub.lastSeq, after);
        else sub.baseSeq = Math.min(sub.baseSeq, from);
      }
    } finally {
      if (holding) {
        const held = sub.held ?? [];
        sub.held = null;
        if (reload && !existing) sub.lastSeq = Math.max(sub.lastSeq, known);
        for (const h of held) conn.deliver(f.cid, h.seq, h.frame);
      }
    }
    const snapshot = await channelWithMembers(svc.db, caller, f.cid, a);
    return { ...snapshot, reload };
  },
  'channel.unwatch': async ({ svc, conn }, f) => {
    svc.hub.unsubscribe(conn, f.cid, 'watching');
    return undefined;
  },
};

/** Stop holding a subscription's live events and deliver what was held (deduplicated by seq). */
function release(conn: Connection, cid: string, sub: Subscription): void {
  const held = sub.held ?? [];
  sub.held = null;
  for (const h of held) conn.deliver(cid, h.seq, h.frame);
}
