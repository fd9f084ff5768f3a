/**
 * One connection's subscription to one channel, and the only owner of its delivery state —
 * as in Centrifuge's client.go, where only the client changes its channel state. Nothing
 * outside this class reads or writes `lastSeq`, `baseSeq` or the held queue: the hub offers
 * live events (`offer`), the connect catch-up and `channel.watch` replay the log (`replay`),
 * and the subscription decides what reaches the socket.
 *
 * Invariants (each logged event reaches the socket exactly once, in seq order):
 * - `lastSeq` is the highest seq sent; an event at or below it is a duplicate and dropped.
 * - Events at or below `baseSeq` were never sent live by this subscription, only by a replay;
 *   a replay of an existing subscription therefore covers at most (since, baseSeq].
 * - While a replay runs, live events wait in `held`; when the last replay ends they go out
 *   in order, those the replay already sent dropped by `lastSeq`.
 * - While more than one hold is open, a replay sends no event above `lastSeq` either: it waits
 *   in `held` too. Another holder (a `channel.watch` still checking access) may yet replay
 *   older events, which must not follow newer ones onto the socket.
 */
import type { OutFrame } from './frame.js';

/** Why a connection receives a channel's events: it is a member, it watches, or both. */
export type SubscriptionReason = 'member' | 'watching';

/** Where replayed and live frames go: the connection's queue. */
export type FrameSink = (frame: string | OutFrame) => void;

/** Reads logged events `after < seq <= upTo` (upTo undefined: to the end), oldest first, at most `limit`. */
export type LogPageReader = (
  after: number,
  limit: number,
  upTo: number | undefined,
) => Promise<{ seq: number; frame: string; shadowOf?: string | null }[]>;

/** Whether this subscriber receives events about a shadowed message of `author`. */
export type ShadowFilter = (author: string) => boolean;

/** How far a replay reads. */
export interface ReplayRange {
  /** Send every logged event above this seq. */
  after: number;
  /** …and at or below this one; undefined reads to the log's end. */
  upTo?: number | undefined;
  /** Rows per log read, so a long gap never loads in one query. */
  pageSize?: number;
}

const PAGE = 500;

export class Subscription {
  #lastSeq: number;
  #baseSeq: number;
  #member = false;
  #watching = false;
  /** Live events waiting while `#replays` > 0. */
  #held: { seq: number; frame: string | OutFrame | null }[] = [];
  #replays = 0;
  /** The replay running now, if any: the next one starts after it. */
  #replaying: Promise<unknown> = Promise.resolve();

  constructor(
    readonly cid: string,
    /** The seq the client's view is current to: events above it are delivered. */
    knownSeq: number,
    private readonly sink: FrameSink,
    /** Replayed events about shadowed messages go out only where this allows (all when absent). */
    private readonly seesShadowOf: ShadowFilter = () => true,
  ) {
    this.#lastSeq = knownSeq;
    this.#baseSeq = knownSeq;
  }

  /** Highest seq sent on this connection (or known to the client at subscribe). */
  get lastSeq(): number {
    return this.#lastSeq;
  }
  /** Events at or below this seq were never sent live by this subscription. */
  get baseSeq(): number {
    return this.#baseSeq;
  }
  get member(): boolean {
    return this.#member;
  }
  get watching(): boolean {
    return this.#watching;
  }
  /** Whether live events are being held for a replay. */
  get holding(): boolean {
    return this.#replays > 0;
  }

  /** Add a reason to receive this channel. */
  add(reason: SubscriptionReason): void {
    if (reason === 'member') this.#member = true;
    else this.#watching = true;
  }

  /** Drop a reason; true when none is left (the subscription should end). */
  drop(reason: SubscriptionReason): boolean {
    if (reason === 'member') this.#member = false;
    else this.#watching = false;
    return !this.#member && !this.#watching;
  }

  /**
   * A live event from the hub: sent now, held behind a running replay, or dropped as a
   * duplicate. `null`: an event this subscriber may not see (a shadowed message's): its seq is
   * passed without sending anything.
   */
  offer(seq: number, frame: string | OutFrame | null): void {
    if (this.#replays > 0) {
      this.#held.push({ seq, frame });
      return;
    }
    if (seq <= this.#lastSeq) return;
    this.#lastSeq = seq;
    if (frame !== null) this.sink(frame);
  }

  /**
   * Hold live events from now until `release` (used when the range of a replay is not known
   * yet, e.g. while access is checked, so an event published meanwhile is not sent live and
   * then again by the replay). Every `hold` needs exactly one `release`.
   */
  hold(): void {
    this.#replays++;
  }

  /** End one hold; when none is left, send what was held, in order, without duplicates. */
  release(): void {
    if (this.#replays === 0) return;
    if (--this.#replays > 0) return;
    const held = this.#held;
    this.#held = [];
    held.sort((a, b) => a.seq - b.seq);
    for (const h of held) this.offer(h.seq, h.frame);
  }

  /**
   * The one replay routine, for the connect catch-up and for `channel.watch`: hold live
   * events, send the logged events of `range` page by page, then release what was held.
   * Returns the highest seq read (or `range.after`).
   *
   * A replayed event is sent unless this subscription already sent it: events in
   * (`baseSeq`, `lastSeq`] went out live or by an earlier replay and are skipped; those at or
   * below `baseSeq` were never sent live and go out (the client asked for them); those above
   * `lastSeq` go out and move it. Afterwards `baseSeq` drops to `range.after`: what the replay
   * sent is now known to the client through this connection.
   */
  async replay(read: LogPageReader, range: ReplayRange): Promise<number> {
    this.hold();
    try {
      return await this.replayHeld(read, range);
    } finally {
      this.release();
    }
  }

  /**
   * `replay` for a caller that already holds (see `hold`); the caller releases. Replays of one
   * subscription run one after another (everything live is held meanwhile, so nothing waits
   * in vain): two reading past `lastSeq` at once could each skip what the other had not sent.
   */
  replayHeld(read: LogPageReader, range: ReplayRange): Promise<number> {
    const run = this.#replaying.then(() => this.#replayNow(read, range));
    this.#replaying = run.catch(() => {});
    return run;
  }

  async #replayNow(read: LogPageReader, range: ReplayRange): Promise<number> {
    const base = this.#baseSeq;
    const page = range.pageSize ?? PAGE;
    let after = range.after;
    // An empty range reads nothing: a resync whose client already has every event up to the
    // subscription's base (the common reconnect of a quiet channel) costs no query.
    while (range.upTo === undefined || after < range.upTo) {
      const rows = await read(after, page, range.upTo);
      for (const r of rows) {
        if (r.seq <= after) continue;
        after = r.seq;
        const hidden = r.shadowOf != null && !this.seesShadowOf(r.shadowOf);
        if (r.seq > this.#lastSeq) {
          // Another hold is open (a watch whose range is not known yet, or the next replay):
          // it may still send events below this one, so a new event waits with the live ones.
          if (this.#replays > 1) {
            this.#held.push({ seq: r.seq, frame: hidden ? null : r.frame });
            continue;
          }
          this.#lastSeq = r.seq;
        } else if (r.seq > base) continue;
        if (hidden) continue;
        this.sink(r.frame);
      }
      if (rows.length < page) break;
    }
    this.#baseSeq = Math.min(this.#baseSeq, range.after);
    return after;
  }

  /**
   * The client is told to reload the channel instead of replaying: from here on only events
   * above `seq` (the channel's last seq when that was decided) are sent.
   */
  skipTo(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }
}
