/**
 * The passes a node keeps between unread push batches (push.ts), so a batch reads only the
 * messages that came since the last one, not every unread message again.
 *
 * A pass is a channel's countable messages after one read mark, counted by author
 * (count-rows.ts). Members who never read make it grow with the channel's history: the chat
 * mix's 2,000 members, in channels of 20, made each batch read every message of every channel
 * again, and the push statement took more of PostgreSQL's time than the sends did.
 *
 * Still read from the database, never counted up and down from events: a kept pass is the count
 * of the messages in (mark, up to] as one earlier statement read them, and the next statement
 * adds the messages in (up to, last seq]. That holds while no message at or before `up to`
 * changed in a way that counts: the channel's epoch (`channel_count_epochs`) is a new value after
 * any change to a counted column and any delete of its messages, and a channel made again under
 * its cid starts with a new one (triggers, migrations 0054 and 0055); the statement takes the
 * whole pass again from the mark when the epoch it sees is not the one kept. A channel's messages
 * become visible in seq order (each takes `last_seq + 1` under the channel row's lock, held to
 * its commit), so one snapshot's `last_seq` bounds exactly what it saw.
 */
import { type AskedCounts, type CountParts, inner, type Pass, type Passes } from './count-rows.js';

/** What the statement is told of a kept pass: [app, cid, read mark, up to, epoch]. */
export type KeptHint = { app_id: string; cid: string; r: number; up_to: number; epoch: number };

/**
 * Each (channel, read mark) the statement counted: [app, cid, read mark, from, last seq, epoch].
 * `from` is the kept pass's `up to` when the statement added to it, else the read mark.
 */
export type MarkRow = [string, string, number, number, number, number];

/** A part of a pass as the statement read it: [app, cid, from, author, count, @channel count]. */
export type PassRow = [string, string, number, string, number, number];

/** A pass (its totals and its counts by author) as read up to `upTo` at `epoch`. */
interface Kept extends Pass {
  upTo: number;
  epoch: number;
}

/** Most (author) entries kept over all passes; the least recently used passes go first. */
const MAX_WEIGHT = 100_000;
/** Most users whose read marks are remembered (to say which kept passes a batch may use). */
const MAX_USERS = 20_000;

export class KeptPasses {
  /** By `app|cid|mark`, least recently used first. */
  private passes = new Map<string, Kept>();
  private weight = 0;
  /** By `app|user`: the channels with something past the user's mark, and that mark. */
  private marks = new Map<string, Map<string, number>>();

  constructor(
    private readonly maxWeight = MAX_WEIGHT,
    private readonly maxUsers = MAX_USERS,
  ) {}

  /** The kept passes the asked users' memberships may use, as their last batch saw them. */
  hints(asked: readonly AskedCounts[]): KeptHint[] {
    const out = new Map<string, KeptHint>();
    for (const a of asked) {
      const marks = this.marks.get(`${a.appId}|${a.userId}`);
      if (!marks) continue;
      for (const [cid, r] of marks) {
        const key = `${a.appId}|${cid}|${r}`;
        if (out.has(key)) continue;
        const kept = this.passes.get(key);
        if (kept) out.set(key, { app_id: a.appId, cid, r, up_to: kept.upTo, epoch: kept.epoch });
      }
    }
    return [...out.values()];
  }

  /**
   * The statement's marks and parts made into this batch's passes (by app, cid and read mark, as
   * `countRows` takes them), each kept for the next batch — a kept pass added to in place — with
   * how many were read from the mark (`whole`) and how many added to a kept pass (`kept`); and
   * the asked users' marks remembered.
   */
  take(asked: readonly AskedCounts[], marks: readonly MarkRow[], parts: readonly PassRow[], mem: CountParts['mem']) {
    const read = new Map<string, PassRow[]>();
    for (const p of parts) {
      const key = `${p[0]}|${p[1]}|${Number(p[2])}`;
      const list = read.get(key);
      if (list) list.push(p);
      else read.set(key, [p]);
    }
    const passes: Passes = new Map();
    let whole = 0;
    for (const [app, cid, r0, from0, last0, epoch0] of marks) {
      const r = Number(r0);
      const from = Number(from0);
      const key = `${app}|${cid}|${r}`;
      let pass = this.passes.get(key);
      if (from !== r) {
        // The statement added to the pass this node told it of: it must still be here, as told.
        if (!pass || pass.upTo !== from) {
          this.drop(key);
          throw new Error(`unread push: no kept pass of ${cid} after ${r} up to ${from}`);
        }
        this.passes.delete(key); // set again below: the most recently used
      } else {
        whole++;
        this.drop(key);
        pass = { n: 0, nc: 0, by: new Map(), upTo: 0, epoch: 0 };
        this.weight++;
      }
      for (const p of read.get(`${app}|${cid}|${from}`) ?? []) {
        pass.n += p[4];
        pass.nc += p[5];
        const c = pass.by.get(p[3]);
        if (c) {
          c[0] += p[4];
          c[1] += p[5];
        } else {
          pass.by.set(p[3], [p[4], p[5]]);
          this.weight++;
        }
      }
      pass.upTo = Number(last0);
      pass.epoch = Number(epoch0);
      this.passes.set(key, pass);
      inner(
        inner(passes, app, () => new Map<string, Map<number, Pass>>()),
        cid,
        () => new Map<number, Pass>(),
      ).set(r, pass);
    }
    while (this.weight > this.maxWeight) {
      const oldest = this.passes.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }

    const seen = new Map<string, Map<string, number>>();
    for (const a of asked) seen.set(`${a.appId}|${a.userId}`, new Map());
    for (const [app, user, cid, , r] of mem) seen.get(`${app}|${user}`)?.set(cid, Number(r));
    for (const [k, m] of seen) {
      this.marks.delete(k);
      this.marks.set(k, m);
    }
    while (this.marks.size > this.maxUsers) {
      const oldest = this.marks.keys().next();
      if (oldest.done) break;
      this.marks.delete(oldest.value);
    }
    return { passes, whole, kept: marks.length - whole };
  }

  /** How many passes are kept (tests, metrics). */
  get size(): number {
    return this.passes.size;
  }

  private drop(key: string): void {
    const had = this.passes.get(key);
    if (!had) return;
    this.passes.delete(key);
    this.weight -= 1 + had.by.size;
  }
}
