/**
 * Unread counts the server pushes (`unread.updated`): after a change that moves a user's counts
 * commits, their channel's `unread_count` and `mention_count` and their totals go to their
 * connections.
 *
 * Exact, never counted up and down: the values are read from the database after the commit,
 * with the same expressions as the REST answers (queries.ts), so a push can be late but never
 * wrong. Ordering: each batch first takes a revision (`nextval('member_read_rev')`, the sequence
 * read marks already use) in a statement of its own, and only then reads the counts. So the
 * push with the largest revision read its counts after every change that led to a push had
 * committed (each change's own push took its revision after that change's commit), and a client
 * that keeps the largest revision it saw ends on the exact counts. Taking the revision in the
 * same statement as the counts would not do: the statement's snapshot is taken before it runs,
 * so a later revision could come with an older snapshot.
 *
 * Who is read, and where. Two kinds of change:
 * - A message that counts, new or deleted, moves every member's counts but its author's. Each
 *   node reads and pushes the counts of its own connected members only, when the event reaches
 *   it (the hub's `onCounts`, from the bus message's `counts` field), and writes them to those
 *   connections itself. A member connected nowhere costs nothing: their client reads its counts
 *   after the hello of its next connect (`GET /v1/me`, the channel list), which is later than
 *   any change whose event reached no node of theirs. A connect in flight is covered the same
 *   way: the connection is subscribed to its channels before its hello, so a change is either
 *   heard by the node (and pushed) or committed before the client's read after the hello.
 * - A change of one user's own (a read, a mark unread, a channel or user mute, a join, a leave,
 *   an edit that adds or drops their mention): the node that made it reads that user's counts
 *   and publishes them on the user's topic, to their connections on every node.
 *
 * Cost. Nothing is added to the send path's transaction. A change of a user's own waits
 * `PARLEY_UNREAD_PUSH_MS` (25 ms), a message's `PARLEY_UNREAD_PUSH_MESSAGES_MS` (250 ms: the
 * client counts a message it sees at once, and the push confirms it), and the changes due
 * together are read in two statements — the revision, and one read of the counts of every
 * (user, channel) pair and the totals of every user touched — however many messages the window
 * held. A member of a busy channel therefore costs at most one count per window, whatever the
 * channel's rate (a fan-out to 1,000 connected members at 20 msg/s halved the deliveries a second
 * with a 25 ms window). A batch reads each channel's messages after a read mark once, and only
 * those after the part this node kept from an earlier batch while the channel's messages have
 * not changed (kept-passes.ts), so members who never read do not make it grow with the
 * channel's history. `parley_unread_push_counts_total` counts the (user, channel) reads,
 * `parley_unread_push_passes_total` the passes read whole or added to.
 */
import type { EventOf } from '@parley/protocol';
import { hotStatement } from '../../platform/db/index.js';
import { untraced } from '../../platform/tracing.js';
import type { Outgoing } from '../../realtime/bus.js';
import type { Services, UnreadPusher } from '../../services.js';
import { type AskedCounts, type CountParts, countRows } from './count-rows.js';
import { KeptPasses, type MarkRow, type PassRow } from './kept-passes.js';
import { COUNTABLE, takeUnreadRev } from './queries.js';

/** What the push statement returns: the parts of count-rows.ts, its passes in kept-passes.ts' form. */
type Parts = CountParts & { marks: MarkRow[]; passes: PassRow[] };

/** Most (user, channel) keys in one batch; the rest go in the next. */
const MAX_KEYS = 2_000;

/**
 * A message's pushes wait at least this many times as long as the last batch took, so message
 * pushes keep the database at most 1 / (1 + BUSY_WAIT) of one connection's time: where each
 * count is long (many connected members with many unread messages each, as in a fan-out to
 * 1,000 members who never read) the pushes come later instead of taking over the database.
 */
const BUSY_WAIT = 4;

/**
 * …but never longer than this (ms): a batch's time includes its wait for a connection, which on
 * PGlite's single one behind a storm of sends took seconds, and a push put off by four times
 * that came after a client had stopped waiting for it (the chaos test's 10 s).
 */
const MAX_BUSY_WAIT_MS = 2_000;

/**
 * `cid` '*': every channel of the user (a user mute moves counts wherever its author posted);
 * null: their totals only. `local`: for this node's connections only (a message's members).
 */
type Key = { appId: string; userId: string; cid: string | null; local: boolean; due: number };

/** A message's pushes are due on ticks of this many ms (or of the window, if shorter). */
const PUSH_TICK_MS = 50;

/**
 * A message's push waits up to this many windows for the member's next frame, to leave in its
 * write (`sendLazy`). A member of busy channels gets a frame every few hundred ms, yet with one
 * window (250 ms) the hold ran out for 27–30 % of the chat mix's pushes (1,200–1,300 a second),
 * each then a write of its own, a syscall and a wakeup of the client; with four, for 0.5 %. Chat
 * mix p99 0.92× and 0.61× in two A/Bs of 5 and 6 pairs, server CPU a delivery 1.00× and 0.97×
 * (docs/benchmarks.md). The push only confirms what the client counted from the message it got,
 * so a later one costs its user nothing.
 */
const HOLD_WINDOWS = 4;

/** The end of the `windowMs` window (a tick) holding `t` (t itself without one). */
export function windowEnd(t: number, windowMs: number): number {
  return windowMs > 0 ? Math.ceil(t / windowMs) * windowMs : t;
}

export class UnreadPush implements UnreadPusher {
  private keys = new Map<string, Key>();
  private timer: NodeJS.Timeout | null = null;
  /** When the timer fires (performance.now()). */
  private timerDue = 0;
  /** How long the last batch took (ms): a message's pushes wait at least `BUSY_WAIT` times it. */
  private spent = 0;
  private running: Promise<void> | null = null;
  private closed = false;
  private idle: (() => void)[] = [];
  /** The passes of earlier batches, so a batch reads only what came since (kept-passes.ts). */
  private readonly kept = new KeptPasses();
  /** The badges' passes (`totals`), the asks waiting for the next read, and whether one runs. */
  private readonly badgePasses = new KeptPasses();
  private badgeAsks: {
    appId: string;
    userIds: readonly string[];
    resolve: (totals: Map<string, number>) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private badgeReading = false;

  constructor(private readonly svc: () => Services) {}

  /** A user's counts in `cid` (null: only their totals; '*': all their channels) may have moved. */
  user(appId: string, userId: string, cid: string | null): void {
    this.note(appId, userId, cid, false);
  }

  /** A message moved the counts of these members in `cid`, connected to this node (the hub's `onCounts`). */
  local(appId: string, cid: string, userIds: readonly string[]): void {
    for (const u of userIds) this.note(appId, u, cid, true);
  }

  /**
   * The bus's committed events (Bus.onPublished), on the node that published them: joins and
   * leaves, which move the counts of the one user who joined or left. Messages are the hub's.
   */
  observe(events: readonly Outgoing[]): void {
    for (const o of events) {
      if (o.to === 'channel') {
        const e = o.event;
        if (e.type === 'member.added') this.user(o.appId, e.member.user_id, o.cid);
        else if (e.type === 'member.removed') this.user(o.appId, e.user_id, o.cid);
      } else if (o.to === 'user' && (o.event.type === 'channel.added' || o.event.type === 'channel.removed')) {
        this.user(o.appId, o.userId, o.event.cid);
      }
    }
  }

  /**
   * Each user's unread total across their channels (`GET /v1/me`'s `total`, muted channels left
   * out), for the badges of push notifications: read as a push batch reads it, with passes of
   * its own kept between calls, so a badge reads only the messages since the last one of the
   * same channel and read mark. Read whole each time, a badge cost every unread message of
   * every channel of its user: PostgreSQL's time a push grew with what its users never read
   * (in the production mix, 2,005 blocks a call after a few seconds). One read at a time, for
   * every ask waiting.
   */
  totals(appId: string, userIds: readonly string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.badgeAsks.push({ appId, userIds, resolve, reject });
      if (this.badgeReading) return;
      this.badgeReading = true;
      // After this turn's other asks, so they make one read with it.
      queueMicrotask(() => void this.readBadges());
    });
  }

  /**
   * Read the badges asked for, all of those waiting in one statement (a job's channels push at
   * once, each message's recipients asking for theirs: a statement each cost more in planning
   * and in its JSON than in counting), until none wait.
   */
  private async readBadges(): Promise<void> {
    try {
      while (this.badgeAsks.length > 0) {
        const asks = this.badgeAsks.splice(0);
        const keys = new Map<string, AskedCounts>();
        for (const a of asks)
          for (const userId of a.userIds) keys.set(`${a.appId}|${userId}`, { appId: a.appId, userId, cid: null });
        try {
          const { found } = await readCounts(this.svc(), [...keys.values()], this.badgePasses);
          const totals = new Map(found.map((r) => [`${r.app_id}|${r.user_id}`, Number(r.total)]));
          for (const a of asks) a.resolve(new Map(a.userIds.map((u) => [u, totals.get(`${a.appId}|${u}`) ?? 0])));
        } catch (err) {
          for (const a of asks) a.reject(err);
        }
      }
    } finally {
      this.badgeReading = false;
    }
  }

  /** Resolves once every change noted so far has been pushed (tests, shutdown). */
  settled(): Promise<void> {
    if (!this.timer && !this.running && this.keys.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Push what is queued, then take nothing more (shutdown, before the database closes). */
  async close(): Promise<void> {
    for (const key of this.keys.values()) key.due = 0;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.kick();
    }
    await this.settled();
    this.closed = true;
  }

  /**
   * A change of one user's own waits `PARLEY_UNREAD_PUSH_MS`; a message's, the longer
   * `PARLEY_UNREAD_PUSH_MESSAGES_MS`, so a member of a busy channel gets one push per window
   * whatever the channel's rate. Noted again before it is pushed, a key keeps its time (a
   * burst does not put it off) unless a change of the user's own brings it forward.
   */
  private note(appId: string, userId: string, cid: string | null, local: boolean): void {
    const cfg = this.svc().config;
    if (this.closed || cfg.unreadPushMs <= 0) return;
    const k = `${appId}|${userId}|${cid ?? ''}`;
    const wait = local
      ? Math.max(cfg.unreadPushMs, cfg.unreadPushMessagesMs, Math.min(MAX_BUSY_WAIT_MS, this.spent * BUSY_WAIT))
      : cfg.unreadPushMs;
    // A message's keys are due on a tick of PUSH_TICK_MS after their wait, the same instant for
    // every message of a tick, so those messages make one batch: due 250 ms after each message,
    // a busy node ran a batch (two statements, each channel's unread messages counted again) for
    // nearly every message (the production mix at 100 msg/s: 2.05 statements a send against
    // 0.93 with the pushes off). Ticks of a whole window (250 ms) read less again but pushed in
    // bursts that delayed deliveries (p50 1.19x); 50 ms did not (docs/benchmarks.md).
    const due = local
      ? windowEnd(performance.now() + wait, Math.min(PUSH_TICK_MS, cfg.unreadPushMessagesMs))
      : performance.now() + wait;
    const had = this.keys.get(k);
    if (!had) this.keys.set(k, { appId, userId, cid, local, due });
    else if (!local) {
      // Noted for everywhere once, it stays so until pushed.
      had.local = false;
      had.due = Math.min(had.due, due);
    }
    this.schedule(had && local ? had.due : due);
  }

  /** Have the timer fire by `due` (at once when no batch runs and it is past). */
  private schedule(due: number): void {
    if (this.running) return; // the batch schedules what is left when it ends
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    // Off the trace of the change that scheduled it (a send's trace is the send's alone): the
    // batch serves many changes, and its statements and publish belong to none of them.
    this.timer = untraced(() =>
      setTimeout(
        () => {
          this.timer = null;
          this.kick();
        },
        Math.max(0, due - performance.now()),
      ),
    );
    this.timer.unref?.();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.keys.size > 0) {
        let next = Number.POSITIVE_INFINITY;
        for (const key of this.keys.values()) next = Math.min(next, key.due);
        this.schedule(next);
      } else for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** One batch: the keys that are due (a little early is fine: they would wait for the next). */
  private async drain(): Promise<void> {
    const now = performance.now() + 2;
    const batch: [string, Key][] = [];
    for (const entry of this.keys) {
      if (batch.length === MAX_KEYS) break;
      if (entry[1].due <= now) batch.push(entry);
    }
    for (const [k] of batch) this.keys.delete(k);
    const svc = this.svc();
    const started = performance.now();
    try {
      await pushCounts(
        svc,
        batch.map(([, key]) => key),
        this.kept,
      );
    } catch (err) {
      // Counts are read again on the next change or reconnect; a push lost here is not retried.
      svc.log.warn({ err }, 'unread push failed');
    } finally {
      this.spent = performance.now() - started;
    }
  }
}

/**
 * The push statement (`readCounts`): one statement, so one snapshot, returning the parts the
 * counts of queries.ts (`countsExpr`) are made of, put together by `countRows`. The unread
 * messages of a channel are read once per read mark, not once per member: members who have not
 * read since the same message share one pass, counted by author; and where this node kept that
 * pass from an earlier batch and the channel's messages have not changed since (its count
 * epoch), only the messages after the kept part are read (kept-passes.ts).
 *
 * A hot statement on the read lane (platform/db/hot.ts): planned once per connection instead of
 * on every batch, where planning it cost about a quarter of its run. So every read is a key
 * probe in a LATERAL subquery that the planner cannot fold into a hash join over a whole table:
 * a user's memberships and mutes by user (`offset 0` keeps the subquery a probe per user), a
 * channel's row and count epoch by key (`between` and `limit 1`, hot.ts), a pass's messages as
 * a range of `messages_seq_uq`, and a member's flagged mentions as a range of
 * `flags_user_cid_idx`, each message of them by its seq in `messages_seq_uq` (a flag carries its
 * message's cid and seq; its id is checked after the probe, where it cannot make the primary key
 * the probe's index).
 * $1: the keys asked, JSON [{app_id, a, user_id, cid}], `a` the app's index in the answer
 * (`partsOf`); $2: the kept passes' hints (kept-passes.ts).
 */
const PUSH_COUNTS = hotStatement({
  name: 'parley_unread_push',
  lane: 'read',
  reads: {
    members: 'members_user_idx',
    channels: 'channels_app_id_cid_pk',
    channel_count_epochs: 'channel_count_epochs_app_id_cid_pk',
    messages: 'messages_seq_uq',
    user_mutes: 'user_mutes_app_id_user_id_muted_user_id_pk',
    user_message_flags: 'flags_user_cid_idx',
  },
  text: `with asked as (select * from json_to_recordset($1::json) as a(app_id uuid, a int, user_id text, cid text)),
kept as (select * from json_to_recordset($2::json) as k(app_id uuid, cid text, r bigint, up_to bigint, epoch bigint)),
who as (select distinct app_id, a, user_id from asked),
mem as materialized (
  select w.app_id, w.a, w.user_id, m.cid, m.muted, m.r from who w
  cross join lateral (
    select m.cid, m.muted, m.last_read_seq as r from members m
    where m.app_id = w.app_id and m.user_id = w.user_id offset 0
  ) m
),
pairs as (
  select m.app_id, m.a, m.user_id, m.cid from mem m
    join asked a on a.app_id = m.app_id and a.user_id = m.user_id and a.cid = '*'
  union
  select a.app_id, a.a, a.user_id, a.cid from asked a where a.cid is not null and a.cid <> '*'
),
-- Each (channel, read mark) with anything past the mark, and where its pass is read from:
-- after the kept part when the channel's messages are as they were, else after the mark.
marks as materialized (
  select k.app_id, k.a, k.cid, k.r, c.last_seq, coalesce(ce.epoch, 0) as epoch,
    case when kp.epoch = coalesce(ce.epoch, 0) and kp.up_to >= k.r and kp.up_to <= c.last_seq
      then kp.up_to else k.r end as lo
  from (select distinct app_id, a, cid, r from mem) k
  cross join lateral (
    select c.last_seq from channels c
    where c.app_id = k.app_id and c.cid between k.cid and k.cid order by c.cid limit 1
  ) c
  left join lateral (
    select ce.epoch from channel_count_epochs ce
    where ce.app_id = k.app_id and ce.cid between k.cid and k.cid order by ce.cid limit 1
  ) ce on true
  left join kept kp on kp.app_id = k.app_id and kp.cid = k.cid and kp.r = k.r
  where c.last_seq > k.r
),
-- Only the memberships with anything past their mark: the rest count 0, and have no flagged
-- mention past it either (a read channel, most of a user's, costs no probe of the flags).
live as materialized (
  select m.* from mem m where exists (select 1 from marks k where k.app_id = m.app_id and k.cid = m.cid and k.r = m.r)
),
passes as materialized (
  select s.a, s.cid, s.lo, x.user_id as author, count(*)::int as n,
    (count(*) filter (where x.mentioned_channel))::int as nc
  from (select distinct app_id, a, cid, lo, last_seq from marks where lo < last_seq) s
  cross join lateral (
    select x.user_id, x.mentioned_channel from messages x
    where x.app_id = s.app_id and x.cid = s.cid and x.seq > s.lo and x.seq <= s.last_seq
      and ${COUNTABLE}
    order by x.cid, x.seq offset 0
  ) x
  group by s.app_id, s.a, s.cid, s.lo, x.user_id
)
select
  (select string_agg(concat_ws(',', a, to_json(user_id), to_json(cid), muted::int, r), ',') from live) as mem,
  (select string_agg(concat_ws(',', a, to_json(cid), r, lo, last_seq, epoch), ',') from marks) as marks,
  (select string_agg(concat_ws(',', a, to_json(cid), lo, to_json(author), n, nc), ',') from passes) as passes,
  (select string_agg(concat_ws(',', w.a, to_json(w.user_id), to_json(mu.muted_user_id)), ',')
    from who w cross join lateral (
      select mu.muted_user_id from user_mutes mu where mu.app_id = w.app_id and mu.user_id = w.user_id offset 0
    ) mu) as mutes,
  (select string_agg(concat_ws(',', a, to_json(user_id), to_json(cid), to_json(author), n), ',') from (
    select m.a, m.user_id, m.cid, x.user_id as author, count(*)::int as n
    from live m
    cross join lateral (
      select f.message_id, f.cid, f.seq from user_message_flags f
      where f.app_id = m.app_id and f.user_id = m.user_id and (f.cid, f.seq) > (m.cid, m.r)
        and f.cid <= m.cid and f.mentioned
      offset 0
    ) f
    cross join lateral (
      select * from messages x
      where x.app_id = m.app_id and (x.cid, x.seq) between (f.cid, f.seq) and (f.cid, f.seq)
      order by x.cid, x.seq limit 1
    ) x
    where x.id = f.message_id and ${COUNTABLE} and not x.mentioned_channel and x.user_id <> m.user_id
    group by m.app_id, m.a, m.user_id, m.cid, x.user_id) q) as flagged,
  (select string_agg(concat_ws(',', p.a, to_json(p.user_id), to_json(p.cid), coalesce(c.last_seq::text, 'null')), ',')
    from pairs p left join lateral (
      select c.last_seq from channels c
      where c.app_id = p.app_id and c.cid between p.cid and p.cid order by c.cid limit 1
    ) c on true) as pairs`,
});

/**
 * The counts of `keys` in one statement, so one snapshot, its passes added to and kept in `kept`
 * (kept-passes.ts): the rows of count-rows.ts, and how many passes were read from the mark
 * (`whole`) or added to (`added`). One caller at a time per `kept`: each adds to what the one
 * before it kept.
 */
async function readCounts(svc: Services, keys: readonly AskedCounts[], kept: KeptPasses) {
  const apps: string[] = [];
  const appIndex = new Map<string, number>();
  const asked = JSON.stringify(
    keys.map((k) => {
      let a = appIndex.get(k.appId);
      if (a === undefined) {
        a = apps.push(k.appId) - 1;
        appIndex.set(k.appId, a);
      }
      return { app_id: k.appId, a, user_id: k.userId, cid: k.cid };
    }),
  );
  const hints = JSON.stringify(kept.hints(keys));
  const [got] = await svc.database.prepared<Record<keyof Lists, string | null>>(PUSH_COUNTS, [asked, hints]);
  if (!got) return { found: [], whole: 0, added: 0 };
  const parts = partsOf(got, apps);
  const { passes, whole, kept: added } = kept.take(keys, parts.marks, parts.passes, parts.mem);
  return { found: countRows(keys, parts, passes), whole, added };
}

/** The statement's lists, each a row's width: its values follow one another, row after row. */
const WIDTHS = { mem: 5, marks: 6, passes: 6, mutes: 3, flagged: 5, pairs: 4 } as const;
type Lists = typeof WIDTHS;

/**
 * The statement's answer as the rows of count-rows.ts and kept-passes.ts. Each list comes as one
 * text of JSON values separated by commas (a string `to_json` made, a number, `null`), its rows
 * one after another, each row's app as its index in `apps`. Rows of `json_build_array`, each
 * with its app id, were twice the bytes and cost PostgreSQL 1.11× the CPU and this parse 1.3×
 * (40 batches of a chat mix replayed: 3.67 against 3.30 ms, 173 against 133 µs a batch).
 */
export function partsOf(got: Record<keyof Lists, string | null>, apps: readonly string[]): Parts {
  const rows = <K extends keyof Lists>(list: K) => {
    const flat = got[list] ? (JSON.parse(`[${got[list]}]`) as unknown[]) : [];
    const width = WIDTHS[list];
    if (flat.length % width !== 0) throw new Error(`unread push: ${list} is not rows of ${width}`);
    const out: unknown[][] = [];
    for (let i = 0; i < flat.length; i += width) {
      const row = flat.slice(i, i + width);
      const app = apps[row[0] as number];
      if (app === undefined) throw new Error(`unread push: ${list} names no app asked for`);
      row[0] = app;
      out.push(row);
    }
    return out;
  };
  const mem = rows('mem') as CountParts['mem'];
  for (const m of mem) m[3] = (m[3] as unknown) === 1;
  return {
    mem,
    marks: rows('marks') as MarkRow[],
    passes: rows('passes') as PassRow[],
    mutes: rows('mutes') as CountParts['mutes'],
    flagged: rows('flagged') as CountParts['flagged'],
    pairs: rows('pairs') as CountParts['pairs'],
  };
}

async function pushCounts(svc: Services, keys: Key[], kept: KeptPasses): Promise<void> {
  if (keys.length === 0) return;
  const rev = await takeUnreadRev(svc);
  const { found, whole, added } = await readCounts(svc, keys, kept);
  svc.metrics.unreadPasses.inc({ from: 'mark' }, whole);
  svc.metrics.unreadPasses.inc({ from: 'kept' }, added);
  svc.metrics.unreadPairs.inc(found.length);
  if (found.length === 0) return;
  // A user noted for everywhere hears every row of theirs through the bus; the others' rows go
  // to this node's connections only.
  const everywhere = new Set(keys.filter((k) => !k.local).map((k) => `${k.appId}|${k.userId}`));
  const created_at = new Date(svc.clock()).toISOString();
  const published: Outgoing[] = [];
  for (const r of found) {
    const event: EventOf<'unread.updated'> = {
      type: 'unread.updated',
      ...(r.cid !== null
        ? {
            cid: r.cid,
            unread_count: Number(r.unread ?? 0),
            mention_count: Number(r.mentions ?? 0),
            ...(r.last_seq !== null ? { last_seq: Number(r.last_seq) } : {}),
          }
        : {}),
      total: Number(r.total),
      mentions: Number(r.total_mentions),
      channels: Number(r.channels),
      rev,
      created_at,
    };
    if (everywhere.has(`${r.app_id}|${r.user_id}`))
      published.push({ to: 'user', appId: r.app_id, userId: r.user_id, event });
    else {
      // Moved by messages only: the push may wait (`HOLD_WINDOWS` message windows at most) for
      // the member's next delivery and leave in the same write (connection.ts `sendLazy`).
      const frame = JSON.stringify(event);
      for (const conn of svc.hub.connectionsOf(r.app_id, r.user_id))
        conn.sendLazy(frame, svc.config.unreadPushMessagesMs * HOLD_WINDOWS);
    }
  }
  if (published.length > 0) svc.bus.publish(published);
}
