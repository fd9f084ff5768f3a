/**
 * The unread counts of a push batch (push.ts), worked out from what the database returns in one
 * statement: each member's read mark, each channel's unread messages by author per read mark,
 * the mutes, and the mentions flagged for each member. Pure, so it is tested against counting
 * message by message (count-rows.test.ts).
 *
 * Why here and not in SQL: members who share a read mark share one pass over a channel's
 * unread messages, counted by author; taking out each member's own messages and their muted
 * authors is then a few additions per (member, author) here, where the SQL join of every member
 * with every author of their pass, grouped by text keys, cost a batch of 500 members 0.2–0.5 s.
 */

/** A (user, channel) the batch asks for: a channel, every channel of the user ('*'), or only the totals (null). */
export interface AskedCounts {
  appId: string;
  userId: string;
  cid: string | null;
}

/** What the statement returns (one JSON object), each row an array. */
export interface CountParts {
  /**
   * The memberships of the users asked for with messages past their mark (the others count 0):
   * [app, user, cid, muted, read mark].
   */
  mem: [string, string, string, boolean, number][];
  /** Unread messages per channel and read mark, by author: [app, cid, read mark, author, count, @channel count]. */
  byAuthor: [string, string, number, string, number, number][];
  /** The users asked for, and whom each muted: [app, user, muted user]. */
  mutes: [string, string, string][];
  /** Mentions flagged for a member past their mark (not @channel, not their own), by author: [app, user, cid, author, count]. */
  flagged: [string, string, string, string, number][];
  /**
   * Each (user, channel) asked for, a user's '*' made into each of their channels, with the
   * channel's last seq (null: no such channel): [app, user, cid, last seq].
   */
  pairs: [string, string, string, number | null][];
}

export interface CountRow {
  app_id: string;
  user_id: string;
  /** Null: the row carries the user's totals only. */
  cid: string | null;
  unread: number | null;
  mentions: number | null;
  last_seq: number | null;
  total: number;
  total_mentions: number;
  channels: number;
}

interface Counted {
  muted: boolean;
  unread: number;
  mentions: number;
}

/** A pass's totals, and its counts by author ([unread, @channel]). */
interface Pass {
  n: number;
  nc: number;
  by: Map<string, [number, number]>;
}

const key2 = (a: string, b: string) => `${a}\u0000${b}`;
const key3 = (a: string, b: string, c: string | number) => `${a}\u0000${b}\u0000${c}`;

/**
 * One row per (user, channel) asked for or implied, each with the user's totals (muted channels
 * left out, as `GET /v1/me` counts them); a user asked for their totals alone gets one row with
 * `cid` null. A channel the user is not a member of counts 0.
 */
export function countRows(asked: readonly AskedCounts[], parts: CountParts): CountRow[] {
  // Each pass's totals, and its counts by author: a member's count is the total less their own
  // and their muted authors' (a lookup each, not a walk over every author of the pass).
  const passes = new Map<string, Pass>();
  for (const [app, cid, r, author, n, nc] of parts.byAuthor) {
    const k = key3(app, cid, r);
    const p = passes.get(k) ?? { n: 0, nc: 0, by: new Map<string, [number, number]>() };
    passes.set(k, p);
    p.n += n;
    p.nc += nc;
    p.by.set(author, [n, nc]);
  }
  const mutes = new Map<string, Set<string>>();
  for (const [app, user, muted] of parts.mutes) {
    const k = key2(app, user);
    const set = mutes.get(k);
    if (set) set.add(muted);
    else mutes.set(k, new Set([muted]));
  }
  const flagged = new Map<string, [string, number][]>();
  for (const [app, user, cid, author, n] of parts.flagged) {
    const k = key3(app, user, cid);
    const list = flagged.get(k);
    if (list) list.push([author, n]);
    else flagged.set(k, [[author, n]]);
  }

  // Each user's channels, counted.
  const users = new Map<string, Map<string, Counted>>();
  for (const [app, user, cid, isMuted, r] of parts.mem) {
    const muted = mutes.get(key2(app, user));
    const pass = passes.get(key3(app, cid, r));
    let unread = pass?.n ?? 0;
    let mentions = pass?.nc ?? 0;
    const own = pass?.by.get(user);
    if (own) {
      unread -= own[0];
      mentions -= own[1];
    }
    for (const author of muted ?? []) {
      const theirs = author === user ? undefined : pass?.by.get(author);
      if (!theirs) continue;
      unread -= theirs[0];
      mentions -= theirs[1];
    }
    for (const [author, n] of flagged.get(key3(app, user, cid)) ?? []) if (!muted?.has(author)) mentions += n;
    const uk = key2(app, user);
    const channels = users.get(uk) ?? new Map<string, Counted>();
    users.set(uk, channels);
    channels.set(cid, { muted: isMuted, unread, mentions });
  }
  // The users asked for, in the order asked, each with their (channel, last seq) pairs.
  const wanted = new Map<string, { appId: string; userId: string; cids: Map<string, number | null> }>();
  for (const a of asked) {
    const uk = key2(a.appId, a.userId);
    if (!wanted.has(uk)) wanted.set(uk, { appId: a.appId, userId: a.userId, cids: new Map() });
  }
  for (const [app, user, cid, seq] of parts.pairs)
    wanted.get(key2(app, user))?.cids.set(cid, seq === null ? null : Number(seq));

  const out: CountRow[] = [];
  for (const [uk, w] of wanted) {
    const channels = users.get(uk);
    let total = 0;
    let totalMentions = 0;
    let unreadChannels = 0;
    for (const c of channels?.values() ?? []) {
      if (c.muted) continue;
      total += c.unread;
      totalMentions += c.mentions;
      if (c.unread > 0) unreadChannels++;
    }
    const totals = { total, total_mentions: totalMentions, channels: unreadChannels };
    const base = { app_id: w.appId, user_id: w.userId };
    if (w.cids.size === 0) {
      out.push({ ...base, cid: null, unread: null, mentions: null, last_seq: null, ...totals });
      continue;
    }
    for (const [cid, lastSeq] of w.cids) {
      const c = channels?.get(cid);
      out.push({ ...base, cid, unread: c?.unread ?? 0, mentions: c?.mentions ?? 0, last_seq: lastSeq, ...totals });
    }
  }
  return out;
}
