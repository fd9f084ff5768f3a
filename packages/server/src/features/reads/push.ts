/**
 * Unread counts the server pushes (`unread.updated`): after a change that moves a user's counts
 * commits, their channel's `unread_count` and `mention_count` and their totals go to every
 * connection of that user, on every node (the bus's per-user topic).
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
 * Cost. Nothing is added to the send path: the bus hands the committed events to `observe`
 * (a method call per publish, no query), and this module batches the users and channels named
 * within a short window (`PARLEY_UNREAD_PUSH_MS`, 25 ms; during a burst, every change that arrives while a batch
 * runs waits for the next one) into two statements per batch — the revision, and one read of
 * the counts of every (user, channel) pair and the totals of every user touched, however many
 * messages the window held. A busy channel therefore costs one count per member per window,
 * not per message. What one batch reads grows with the members of the channels that changed
 * and with those members' channel counts (a total sums all of a user's channels through the
 * index on (app, cid, seq)); a very large channel with constant traffic is the expensive case,
 * bounded by the window. Pushes go to every member, connected or not: filtering by presence
 * would save the reads of offline members but opens a race with a connect in flight, whose
 * client reads its counts only after the hello.
 */
import type { EventOf } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import { untraced } from '../../platform/tracing.js';
import type { Outgoing } from '../../realtime/bus.js';
import type { Services, UnreadPusher } from '../../services.js';
import { mentionExpr, takeUnreadRev, unreadExpr } from './queries.js';

/** Most (user, channel) keys and channels in one batch; the rest go in the next. */
const MAX_KEYS = 2_000;

/** `cid` '*': every channel of the user (a user mute moves counts wherever its author posted). */
type Key = { appId: string; userId: string; cid: string | null };
type ChannelKey = { appId: string; cid: string; except: string | null };

interface CountRow {
  app_id: string;
  user_id: string;
  cid: string | null;
  unread: number | null;
  mentions: number | null;
  last_seq: number | string | null;
  total: number;
  total_mentions: number;
  channels: number;
}

export class UnreadPush implements UnreadPusher {
  private users = new Map<string, Key>();
  private chans = new Map<string, ChannelKey>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(private readonly svc: () => Services) {}

  /** A user's counts in `cid` (null: only their totals; '*': all their channels) may have moved. */
  user(appId: string, userId: string, cid: string | null): void {
    if (this.off()) return;
    this.users.set(`${appId}|${userId}|${cid ?? ''}`, { appId, userId, cid });
    this.schedule();
  }

  /** Every member's counts in `cid` may have moved, but `except`'s (a message's author). */
  channel(appId: string, cid: string, except: string | null): void {
    if (this.off()) return;
    const k = `${appId}|${cid}`;
    const had = this.chans.get(k);
    // Two authors in one window: nobody is left out.
    this.chans.set(k, { appId, cid, except: had && had.except !== except ? null : except });
    this.schedule();
  }

  /**
   * The bus's committed events (Bus.onPublished): the ones that move counts. A shadowed message
   * counts for no one but is seen by its author only, so it moves nothing.
   */
  observe(events: readonly Outgoing[]): void {
    for (const o of events) {
      if (o.to === 'channel') {
        const e = o.event;
        if (o.shadowOf) continue;
        if (e.type === 'message.new' || e.type === 'message.deleted') {
          const m = e.message;
          if (m.parent_id !== null && !m.show_in_channel) continue;
          if (e.type === 'message.new' && m.type !== 'regular') continue;
          this.channel(o.appId, o.cid, m.user_id);
        } else if (e.type === 'member.added') this.user(o.appId, e.member.user_id, o.cid);
        else if (e.type === 'member.removed') this.user(o.appId, e.user_id, o.cid);
      } else if (o.to === 'user' && (o.event.type === 'channel.added' || o.event.type === 'channel.removed')) {
        this.user(o.appId, o.userId, o.event.cid);
      }
    }
  }

  /** Resolves once every change noted so far has been pushed (tests, shutdown). */
  settled(): Promise<void> {
    if (!this.timer && !this.running && this.users.size === 0 && this.chans.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Push what is queued, then take nothing more (shutdown, before the database closes). */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.kick();
    }
    await this.settled();
    this.closed = true;
  }

  /** Closed, or pushes are off (`PARLEY_UNREAD_PUSH_MS=0`). */
  private off(): boolean {
    return this.closed || this.svc().config.unreadPushMs <= 0;
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    // Off the trace of the change that scheduled it (a send's trace is the send's alone): the
    // batch serves many changes, and its statements and publish belong to none of them.
    this.timer = untraced(() =>
      setTimeout(() => {
        this.timer = null;
        this.kick();
      }, this.svc().config.unreadPushMs),
    );
    this.timer.unref?.();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.users.size > 0 || this.chans.size > 0) this.schedule();
      else for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  private async drain(): Promise<void> {
    const users = [...this.users.values()].slice(0, MAX_KEYS);
    const chans = [...this.chans.values()].slice(0, MAX_KEYS);
    for (const u of users) this.users.delete(`${u.appId}|${u.userId}|${u.cid ?? ''}`);
    for (const c of chans) this.chans.delete(`${c.appId}|${c.cid}`);
    const svc = this.svc();
    try {
      await pushCounts(svc, users, chans);
    } catch (err) {
      // Counts are read again on the next change or reconnect; a push lost here is not retried.
      svc.log.warn({ err }, 'unread push failed');
    }
  }
}

async function pushCounts(svc: Services, users: Key[], chans: ChannelKey[]): Promise<void> {
  if (users.length === 0 && chans.length === 0) return;
  const rev = await takeUnreadRev(svc);
  const asked = JSON.stringify(users.map((u) => ({ app_id: u.appId, user_id: u.userId, cid: u.cid })));
  const changed = JSON.stringify(chans.map((c) => ({ app_id: c.appId, cid: c.cid, except_user: c.except })));
  // One statement: the (user, channel) pairs named or implied, each pair's counts, and each
  // user's totals (muted channels left out, as `GET /v1/me` counts them).
  const found = await rows<CountRow>(
    svc.db,
    sql`
    with ch as (select * from json_to_recordset(${changed}::json) as c(app_id uuid, cid text, except_user text)),
    asked as (select * from json_to_recordset(${asked}::json) as a(app_id uuid, user_id text, cid text)),
    pairs as (
      select m.app_id, m.user_id, m.cid from ch
        join ${schema.members} m on m.app_id = ch.app_id and m.cid = ch.cid
        where ch.except_user is null or m.user_id <> ch.except_user
      union
      select a.app_id, a.user_id, m.cid from asked a
        join ${schema.members} m on m.app_id = a.app_id and m.user_id = a.user_id
        where a.cid = '*'
      union
      select a.app_id, a.user_id, a.cid from asked a where a.cid is distinct from '*'
    ),
    who as (select distinct app_id, user_id from pairs),
    tot as (
      select w.app_id, w.user_id,
        coalesce(sum(u.unread), 0)::int as total, coalesce(sum(u.mentions), 0)::int as total_mentions,
        count(*) filter (where u.unread > 0)::int as channels
      from who w
      left join ${schema.members} m on m.app_id = w.app_id and m.user_id = w.user_id and not m.muted
      left join lateral (select ${unreadExpr} as unread, ${mentionExpr} as mentions) u on m.cid is not null
      group by w.app_id, w.user_id
    ),
    per as (
      select p.app_id, p.user_id, p.cid, coalesce(u.unread, 0)::int as unread, coalesce(u.mentions, 0)::int as mentions,
        c.last_seq
      from pairs p
      left join ${schema.members} m on m.app_id = p.app_id and m.cid = p.cid and m.user_id = p.user_id
      left join lateral (select ${unreadExpr} as unread, ${mentionExpr} as mentions) u on m.cid is not null
      left join ${schema.channels} c on c.app_id = p.app_id and c.cid = p.cid
      where p.cid is not null
    )
    select t.app_id, t.user_id, pc.cid, pc.unread, pc.mentions, pc.last_seq, t.total, t.total_mentions, t.channels
    from tot t left join per pc on pc.app_id = t.app_id and pc.user_id = t.user_id`,
  );
  if (found.length === 0) return;
  const created_at = new Date(svc.clock()).toISOString();
  svc.bus.publish(
    found.map((r) => {
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
      return { to: 'user' as const, appId: r.app_id, userId: r.user_id, event };
    }),
  );
}
