/**
 * The hub routes bus messages to this node's connections. It keeps an index from channel
 * and user topics to local connections, so fan-out never scans; each event arrives already
 * serialized, is framed once (an OutFrame) and the same bytes are written to every subscriber.
 *
 * Order: events of one channel are delivered in seq order. If the bus hands the hub seq
 * n+2 before n+1 (two nodes published close together), the later one waits briefly and
 * the hole is filled from the channel's event log, so a connection never sees a gap that
 * the database does not have.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  appTopic,
  type Broker,
  type BusMessage,
  channelTopic,
  presenceTopic,
  spacesTopic,
  userTopic,
} from './broker.js';
import type { Connection } from './connection.js';
import { OutFrame } from './frame.js';
import type { Subscription, SubscriptionReason } from './subscription.js';

interface ChannelState {
  appId: string;
  cid: string;
  conns: Set<Connection>;
  /** Next seq expected from the bus, or null until the first subscriber says where it is. */
  next: number | null;
  pending: Map<number, OutFrame>;
  timer: NodeJS.Timeout | null;
}

/** What an app-wide event's frame is for each user: `appId` and the frame as published. */
export type Personalizer = (appId: string, frame: string) => Promise<(userId: string) => string>;

/** Reads logged events `after < seq <= upTo` from the channel's log, as frames. */
export type EventLogReader = (
  appId: string,
  cid: string,
  after: number,
  upTo: number,
) => Promise<{ seq: number; frame: string; shadowOf?: string | null }[]>;

export class Hub {
  private readonly channels = new Map<string, ChannelState>();
  private readonly users = new Map<string, Set<Connection>>();
  /** Presence topics (`p:…`) and spaces topics (`s:…`) to the local connections that follow them. */
  private readonly followers = new Map<string, Set<Connection>>();
  /** Per-user messages routed here before being sent, for membership changes. */
  onUserEvent: (conn: Connection, msg: BusMessage) => void = () => {};
  /** Messages on control topics (`x:…`), which concern the node rather than a connection. */
  onControl: (topic: string, msg: BusMessage) => void = () => {};
  /**
   * A channel event moved the unread counts of these local members (each connected user once,
   * the author left out): features/reads/push.ts reads and pushes their new counts.
   */
  onCounts: (appId: string, cid: string, userIds: string[]) => void = () => {};
  /**
   * App-wide events whose frame differs per user, by type (`personalize`): the frame on the bus
   * is what the app sees; each connection gets what the function makes of it for its user.
   */
  private readonly personal = new Map<string, Personalizer>();

  constructor(
    private readonly broker: Broker,
    private readonly readLog: EventLogReader,
    private readonly log: FastifyBaseLogger,
    private readonly gapWaitMs = 150,
  ) {
    broker.onMessage((topic, msg) => this.route(topic, msg));
  }

  /**
   * Write app-wide events of `type` per user: `make` answers (once per event, on this node) what
   * each user's connections get. The hub knows no feature: the server's wiring registers them.
   * Such an event waits for `make`, so it may pass other app-wide events; one `make` fails: the
   * frame goes out as it came (a client without the per-user part reads it itself).
   */
  personalize(type: string, make: Personalizer): void {
    this.personal.set(type, make);
  }

  /** Local connections of one user. */
  connectionsOf(appId: string, userId: string): ReadonlySet<Connection> {
    return this.users.get(userTopic(appId, userId)) ?? new Set();
  }

  /** Open connections on this node by app (what usage analytics samples). */
  connectionCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const set of this.users.values())
      for (const conn of set) counts.set(conn.appId, (counts.get(conn.appId) ?? 0) + 1);
    return counts;
  }

  addConnection(conn: Connection): void {
    const topic = userTopic(conn.appId, conn.userId);
    let set = this.users.get(topic);
    if (!set) {
      set = new Set();
      this.users.set(topic, set);
      this.broker.subscribe(topic);
    }
    set.add(conn);
    // Every connection hears its app's app-wide events (emoji.updated).
    this.follow(conn, appTopic(conn.appId));
  }

  removeConnection(conn: Connection): void {
    this.unfollow(conn, appTopic(conn.appId));
    const topic = userTopic(conn.appId, conn.userId);
    const set = this.users.get(topic);
    if (set) {
      set.delete(conn);
      if (set.size === 0) {
        this.users.delete(topic);
        this.broker.unsubscribe(topic);
      }
    }
    for (const cid of conn.subs.keys()) this.detach(conn, cid);
    conn.dropSubs();
    this.unfollowPresence(conn, [...conn.presence]);
    this.unwatchSpaces(conn);
  }

  /**
   * Subscribe a connection to a channel (or add a reason to its subscription). `knownSeq` is
   * the seq its view is current to; `channelSeq` the channel's last seq as just read, where
   * the node's ordering starts if this is its first subscriber.
   *
   * `nodeSeq` says what this node has already fanned out of the channel before this call: the
   * highest seq, or null when the node was not subscribed (so it may have missed events
   * published before now). A subscriber whose view is older than `nodeSeq` missed the events
   * in between and replays them; one at or past it misses nothing.
   */
  subscribe(
    conn: Connection,
    cid: string,
    knownSeq: number,
    why: SubscriptionReason | { member?: boolean; watching?: boolean },
    channelSeq = knownSeq,
  ): { sub: Subscription; created: boolean; nodeSeq: number | null } {
    // The object form is the older signature (the bench's micro-fanout still uses it).
    const reasons: SubscriptionReason[] =
      typeof why === 'string'
        ? [why]
        : [...(why.member ? ['member' as const] : []), ...(why.watching ? ['watching' as const] : [])];
    const topic = channelTopic(conn.appId, cid);
    let st = this.channels.get(topic);
    const nodeSeq = st?.next != null ? st.next - 1 : null;
    const existing = conn.subs.get(cid);
    if (existing) {
      for (const r of reasons) existing.add(r);
      return { sub: existing, created: false, nodeSeq };
    }
    const sub = conn.newSubscription(cid, knownSeq);
    for (const r of reasons) sub.add(r);
    conn.putSub(cid, sub);
    if (!st) {
      st = { appId: conn.appId, cid, conns: new Set(), next: channelSeq + 1, pending: new Map(), timer: null };
      this.channels.set(topic, st);
      this.broker.subscribe(topic);
    }
    st.conns.add(conn);
    return { sub, created: true, nodeSeq };
  }

  /** Drop one reason for a subscription; the subscription ends when none is left. */
  unsubscribe(conn: Connection, cid: string, reason: SubscriptionReason): void {
    const sub = conn.subs.get(cid);
    if (!sub?.drop(reason)) return;
    conn.dropSub(cid);
    this.detach(conn, cid);
  }

  /** Follow users' presence on a connection: their `presence.changed` reaches it from now on. */
  followPresence(conn: Connection, userIds: readonly string[]): void {
    for (const id of userIds) {
      if (!conn.addPresence(id)) continue;
      this.follow(conn, presenceTopic(conn.appId, id));
    }
  }

  /**
   * Resolves once the topics followed so far are in effect on the broker: with Redis a
   * SUBSCRIBE is answered on its own connection, so a publish from another node can still miss
   * a topic followed a moment ago. Presence has no seq to fill a gap with, so its reply waits.
   */
  settled(): Promise<void> {
    return this.broker.settled();
  }

  unfollowPresence(conn: Connection, userIds: readonly string[]): void {
    for (const id of userIds) {
      if (!conn.dropPresence(id)) continue;
      this.unfollow(conn, presenceTopic(conn.appId, id));
    }
  }

  /** Watch the app's spaces on a connection: `space.updated` reaches it from now on. */
  watchSpaces(conn: Connection): void {
    if (conn.watchesSpaces) return;
    conn.watchesSpaces = true;
    this.follow(conn, spacesTopic(conn.appId));
  }

  unwatchSpaces(conn: Connection): void {
    if (!conn.watchesSpaces) return;
    conn.watchesSpaces = false;
    this.unfollow(conn, spacesTopic(conn.appId));
  }

  /** Presence and spaces topics share one index: topic → the local connections that follow it. */
  private follow(conn: Connection, topic: string): void {
    let set = this.followers.get(topic);
    if (!set) {
      set = new Set();
      this.followers.set(topic, set);
      this.broker.subscribe(topic);
    }
    set.add(conn);
  }

  private unfollow(conn: Connection, topic: string): void {
    const set = this.followers.get(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) {
      this.followers.delete(topic);
      this.broker.unsubscribe(topic);
    }
  }

  private detach(conn: Connection, cid: string): void {
    const topic = channelTopic(conn.appId, cid);
    const st = this.channels.get(topic);
    if (!st) return;
    st.conns.delete(conn);
    if (st.conns.size === 0) {
      if (st.timer) clearTimeout(st.timer);
      this.channels.delete(topic);
      this.broker.unsubscribe(topic);
    }
  }

  private route(topic: string, msg: BusMessage): void {
    if (topic.startsWith('x:')) {
      this.onControl(topic, msg);
      return;
    }
    if (topic.startsWith('u:')) {
      for (const conn of this.users.get(topic) ?? []) this.onUserEvent(conn, msg);
      return;
    }
    if (topic.startsWith('p:') || topic.startsWith('s:') || topic.startsWith('a:')) {
      // Framed once; each follower's queue coalesces a tick's changes into one write.
      const set = this.followers.get(topic);
      if (!set) return;
      const make = topic.startsWith('a:') ? this.personal.get(msg.type) : undefined;
      if (make) {
        void this.sendPersonal(topic, msg, make);
        return;
      }
      const frame = new OutFrame(msg.frame);
      for (const conn of set) conn.send(frame);
      return;
    }
    const st = this.channels.get(topic);
    if (!st) return;
    if (msg.counts !== undefined) this.countsMoved(st, msg.counts);
    const frame = new OutFrame(msg.frame);
    if (msg.shadow) frame.shadowOf = msg.shadow;
    if (msg.seq === undefined) {
      for (const conn of st.conns) conn.send(frame);
      return;
    }
    this.ordered(st, msg.seq, frame);
  }

  private countsMoved(st: ChannelState, author: string): void {
    const users = new Set<string>();
    for (const conn of st.conns) if (conn.userId !== author && conn.subs.get(st.cid)?.member) users.add(conn.userId);
    if (users.size > 0) this.onCounts(st.appId, st.cid, [...users]);
  }

  private async sendPersonal(topic: string, msg: BusMessage, make: Personalizer): Promise<void> {
    let frameFor: ((userId: string) => string) | null = null;
    try {
      frameFor = await make(topic.slice(2), msg.frame);
    } catch (err) {
      this.log.warn({ err, type: msg.type }, 'personal frame failed; sent as it came');
    }
    // The followers as they are now: a connection that left while `make` ran gets nothing.
    const byUser = new Map<string, OutFrame>();
    for (const conn of this.followers.get(topic) ?? []) {
      let frame = byUser.get(conn.userId);
      if (!frame) {
        frame = new OutFrame(frameFor ? frameFor(conn.userId) : msg.frame);
        byUser.set(conn.userId, frame);
      }
      conn.send(frame);
    }
  }

  private ordered(st: ChannelState, seq: number, frame: OutFrame): void {
    if (st.next === null || seq === st.next) {
      this.fanOut(st, seq, frame);
      st.next = seq + 1;
      this.drain(st);
      return;
    }
    if (seq < st.next) return; // already delivered (a replay overlap or a duplicate publish)
    st.pending.set(seq, frame);
    if (!st.timer) st.timer = setTimeout(() => void this.fillGap(st), this.gapWaitMs);
  }

  private drain(st: ChannelState): void {
    while (st.next !== null && st.pending.has(st.next)) {
      const frame = st.pending.get(st.next) as OutFrame;
      st.pending.delete(st.next);
      this.fanOut(st, st.next, frame);
      st.next++;
    }
    if (st.pending.size === 0 && st.timer) {
      clearTimeout(st.timer);
      st.timer = null;
    }
  }

  /**
   * Read the holes below the highest held seq from the log, then deliver. A seq below one the
   * bus delivered is always in the log (seqs are taken under the channel's row lock in the
   * writing transaction), so a covered seq the read did not find can only be one the log lost;
   * it is skipped. Only a seq the read covered: while the log is read the bus keeps delivering,
   * and may close this hole and open another above it (a storm's late publishes), which this
   * read never looked at — taking that one for "not in the log" dropped an event at every
   * subscriber of the node. A failed read covers nothing; the fill is tried again.
   */
  private async fillGap(st: ChannelState): Promise<void> {
    st.timer = null;
    if (st.pending.size === 0 || st.next === null) return;
    // Every hole below the highest held seq, in one read.
    const upTo = Math.max(...st.pending.keys()) - 1;
    let covered = st.next - 1;
    try {
      const missing = await this.readLog(st.appId, st.cid, covered, upTo);
      covered = upTo;
      // The bus may have delivered some of these while the log was read: keep what is still ahead.
      for (const e of missing)
        if (e.seq >= st.next && !st.pending.has(e.seq)) {
          const f = new OutFrame(e.frame);
          if (e.shadowOf) f.shadowOf = e.shadowOf;
          st.pending.set(e.seq, f);
        }
    } catch (err) {
      this.log.warn({ err, cid: st.cid }, 'gap fill failed; trying again');
    }
    if (st.pending.size === 0) return;
    while (st.next <= covered && !st.pending.has(st.next)) st.next++;
    this.drain(st);
    // A hole above what was read, or one the read failed on, gets its own wait.
    if (st.pending.size > 0 && !st.timer) st.timer = setTimeout(() => void this.fillGap(st), this.gapWaitMs);
  }

  private fanOut(st: ChannelState, seq: number, frame: OutFrame): void {
    for (const conn of st.conns) conn.deliver(st.cid, seq, frame);
  }

  /** Connections of every subscriber on this node, for shutdown and heartbeats. */
  *allConnections(): Iterable<Connection> {
    for (const set of this.users.values()) yield* set;
  }
}
