/**
 * The unread counts of a push batch (push.ts), worked out from what the database returns in one
 * statement: each member's read mark, each channel's unread messages by author per read mark,
 * the mutes, and the mentions flagged for each member. Pure, so it is tested against counting
 * message by message (count-rows.test.ts).
 *
 * Why here and not in SQL: members who share a read mark share one pass over a channel's
 * unread messages, counted by author; a member's count is the pass's total less their own and
 * their muted authors' messages, a lookup each. The SQL join of every member with every author
 * of their pass, grouped by text keys, cost a batch of 500 members 0.2–0.5 s; the same lookups
 * in SQL cost PostgreSQL 1.7× the CPU a send of these (docs/benchmarks.md).
 */

/** A (user, channel) the batch asks for: a channel, every channel of the user ('*'), or only the totals (null). */
export interface AskedCounts {
  appId: string;
  userId: string;
  cid: string | null;
}

/** What the statement returns (push.ts `partsOf`), each row an array. */
export interface CountParts {
  /**
   * The memberships of the users asked for with messages past their mark (the others count 0):
   * [app, user, cid, muted, read mark].
   */
  mem: [string, string, string, boolean, number][];
  /**
   * Unread messages per channel and read mark, by author: [app, cid, read mark, author, count,
   * @channel count]; absent when the passes come made (`countRows`' `given`).
   */
  byAuthor?: [string, string, number, string, number, number][];
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
export interface Pass {
  n: number;
  nc: number;
  by: Map<string, [number, number]>;
}

/** Passes by app, cid and read mark. */
export type Passes = Map<string, Map<string, Map<number, Pass>>>;

/** What one app's rows of the batch come to: by cid, then read mark; by user; by user, then cid. */
interface AppParts {
  passes: Map<string, Map<number, Pass>>;
  mutes: Map<string, Set<string>>;
  flagged: Map<string, Map<string, [string, number][]>>;
  users: Map<string, UserCounts>;
}

/** A user asked for: their channels, counted, and the (channel, last seq) pairs to push (null: totals only). */
interface UserCounts {
  channels: Map<string, Counted>;
  pairs: Map<string, number | null> | null;
}

/**
 * Nested maps, not joined string keys: a batch looks up thousands of keys, and joining them
 * (with destructured rows) took a batch of 1,000 members 7.4 ms, against 0.8 ms so.
 */
export function inner<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

/**
 * One row per (user, channel) asked for or implied, each with the user's totals (muted channels
 * left out, as `GET /v1/me` counts them); a user asked for their totals alone gets one row with
 * `cid` null. A channel the user is not a member of counts 0.
 */
export function countRows(asked: readonly AskedCounts[], parts: CountParts, given?: Passes): CountRow[] {
  const apps = new Map<string, AppParts>();
  const appOf = (app: string) =>
    inner(apps, app, () => ({
      passes: given?.get(app) ?? new Map(),
      mutes: new Map(),
      flagged: new Map(),
      users: new Map(),
    }));
  const newMap = () => new Map();

  // Each pass's totals, and its counts by author: a member's count is the total less their own
  // and their muted authors' (a lookup each, not a walk over every author of the pass). The
  // passes come made (`given`, kept-passes.ts) or as rows.
  for (const row of parts.byAuthor ?? []) {
    const byMark = inner(appOf(row[0]).passes, row[1], newMap);
    const pass = inner(byMark, Number(row[2]), () => ({ n: 0, nc: 0, by: new Map() }) as Pass);
    pass.n += row[4];
    pass.nc += row[5];
    pass.by.set(row[3], [row[4], row[5]]);
  }
  for (const row of parts.mutes) inner(appOf(row[0]).mutes, row[1], () => new Set<string>()).add(row[2]);
  for (const row of parts.flagged)
    inner(inner(appOf(row[0]).flagged, row[1], newMap), row[2], () => [] as [string, number][]).push([row[3], row[4]]);

  // The users asked for, in the order asked, then each one's channels, counted.
  const order: { app: string; user: string }[] = [];
  for (const a of asked) {
    const users = appOf(a.appId).users;
    if (users.has(a.userId)) continue;
    users.set(a.userId, { channels: new Map(), pairs: null });
    order.push({ app: a.appId, user: a.userId });
  }
  for (const row of parts.mem) {
    const app = appOf(row[0]);
    const user = row[1];
    const cid = row[2];
    const u = app.users.get(user);
    if (!u) continue;
    const pass = app.passes.get(cid)?.get(Number(row[4]));
    let unread = 0;
    let mentions = 0;
    const muted = app.mutes.get(user);
    if (pass) {
      unread = pass.n;
      mentions = pass.nc;
      const own = pass.by.get(user);
      if (own) {
        unread -= own[0];
        mentions -= own[1];
      }
      if (muted)
        for (const author of muted) {
          const theirs = author === user ? undefined : pass.by.get(author);
          if (!theirs) continue;
          unread -= theirs[0];
          mentions -= theirs[1];
        }
    }
    const flags = app.flagged.get(user)?.get(cid);
    if (flags) for (const f of flags) if (!muted?.has(f[0])) mentions += f[1];
    u.channels.set(cid, { muted: row[3], unread, mentions });
  }
  for (const row of parts.pairs) {
    const u = apps.get(row[0])?.users.get(row[1]);
    if (!u) continue;
    u.pairs ??= new Map();
    u.pairs.set(row[2], row[3] === null ? null : Number(row[3]));
  }

  const out: CountRow[] = [];
  for (const { app, user } of order) {
    const u = apps.get(app)?.users.get(user) as UserCounts;
    let total = 0;
    let totalMentions = 0;
    let unreadChannels = 0;
    for (const c of u.channels.values()) {
      if (c.muted) continue;
      total += c.unread;
      totalMentions += c.mentions;
      if (c.unread > 0) unreadChannels++;
    }
    if (!u.pairs) {
      out.push({
        app_id: app,
        user_id: user,
        cid: null,
        unread: null,
        mentions: null,
        last_seq: null,
        total,
        total_mentions: totalMentions,
        channels: unreadChannels,
      });
      continue;
    }
    for (const [cid, lastSeq] of u.pairs) {
      const c = u.channels.get(cid);
      out.push({
        app_id: app,
        user_id: user,
        cid,
        unread: c ? c.unread : 0,
        mentions: c ? c.mentions : 0,
        last_seq: lastSeq,
        total,
        total_mentions: totalMentions,
        channels: unreadChannels,
      });
    }
  }
  return out;
}
