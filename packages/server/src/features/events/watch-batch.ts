/**
 * The reads of `channel.watch`, batched: every watch that arrives in one turn of the event
 * loop — from any socket, of any tenant — is read with ONE hot statement (platform/db/hot.ts):
 * per watch the channel, the caller's membership and user row (what `loadChannel` reads), and
 * with `since` the first page of the log after it (what the replay reads next). A reconnect
 * storm is thousands of watches in a few seconds; built one by one they cost two statements
 * each, and building and mapping them with the query builder was a quarter of the storm's
 * server CPU (docs/benchmarks.md). The two watches a client sends on reconnect usually land in
 * one batch, so their replies and replays leave in one socket write.
 *
 * Reads only, so batches need no order among themselves. The access check stays with the
 * caller (`checkRead`): the statement reads the log page whether or not the caller may see it,
 * and a refused caller's page is dropped unseen. Channel, membership and log page come from
 * one snapshot: every event up to the `last_seq` read is in the page (seqs are taken and
 * logged in one transaction), which two statements did not promise.
 */
import type { Infra } from '../../infra.js';
import { fromJson, hotStatement, schema } from '../../platform/db/index.js';
import { TickBatcher, type TickBatcherOptions } from '../../platform/tick-batch.js';
import type { ChannelRow, MemberRow } from '../channels/index.js';
import type { UserRow } from '../users/index.js';
import type { PrefetchedLog } from './prefetched-log.js';

/** One watch's read: `after`/`upTo` bound the log page (none without `since`). */
export interface WatchRead {
  appId: string;
  cid: string;
  userId: string;
  /** The log page starts after this seq; null reads no log. */
  after: number | null;
  /** …and ends at this seq or the channel's `last_seq`, whichever is lower (null: `last_seq`). */
  upTo: number | null;
}

/** What a watch's read found: null when the channel does not exist. */
export interface WatchFound {
  channel: ChannelRow;
  member: MemberRow | null;
  user: UserRow | null;
  log: PrefetchedLog | null;
}

/** Rows of the log page per watch: the replay's own page size (realtime/subscription.ts). */
export const WATCH_PAGE = 500;

/**
 * $1: the watches `[{ord, app_id, cid, uid, after, up_to}]`. One header row per watch whose
 * channel exists (the three rows as JSON, and where its page ends), then its log rows.
 *
 * Each probe has the shape that keeps it on its key on any statistics (hot.ts): the key's
 * trailing columns as a range, ordered by them. The log page is the channel's seqs
 * (after, after + WATCH_PAGE], ordered by seq, which only the primary key of `channel_events`
 * holds in order. Bounded by seq, not only by the limit: on a large log never analyzed the
 * planner took a Bitmap Heap Scan and a Sort of the whole (after, last_seq] range, every event
 * since the client's `since`, for one page of it.
 */
const WATCH_READ = hotStatement({
  name: 'parley_watch_read',
  lane: 'read',
  reads: {
    channels: 'channels_app_id_cid_pk',
    members: 'members_app_id_cid_user_id_pk',
    users: 'users_app_id_id_pk',
    channel_events: 'channel_events_app_id_cid_seq_pk',
  },
  text: `with p as materialized (
  select * from json_to_recordset($1::json) as p(ord int, app_id uuid, cid text, uid text, after bigint, up_to bigint)
),
a as materialized (
  select p.ord, p.app_id, p.cid, p.after, least(p.up_to, c.last_seq) as up_to,
    to_json(c) as channel, to_json(m) as member, to_json(u) as "user"
  from p
  cross join lateral (
    select * from channels c where c.app_id = p.app_id and c.cid between p.cid and p.cid order by c.cid limit 1
  ) c
  left join lateral (
    select * from members m
    where m.app_id = p.app_id and (m.cid, m.user_id) between (p.cid, p.uid) and (p.cid, p.uid)
    order by m.cid, m.user_id limit 1
  ) m on true
  left join lateral (
    select * from users u where u.app_id = p.app_id and u.id between p.uid and p.uid order by u.id limit 1
  ) u on true
)
select a.ord, a.channel, a.member, a."user", a.up_to, null::bigint as seq, null::text as frame, null::text as shadow_of
from a
union all
select a.ord, null, null, null, null, e.seq, e.payload::text, e.shadow_of
from a
cross join lateral (
  select e.seq, e.payload, e.shadow_of from channel_events e
  where e.app_id = a.app_id and e.cid = a.cid and e.seq > a.after and e.seq <= least(a.up_to, a.after + ${WATCH_PAGE})
  order by e.seq limit ${WATCH_PAGE}
) e`,
});

interface WatchRow {
  ord: number;
  channel: Record<string, unknown> | null;
  member: Record<string, unknown> | null;
  user: Record<string, unknown> | null;
  up_to: number | string | null;
  seq: number | string | null;
  frame: string | null;
  shadow_of: string | null;
}

/** Read a batch of watches with one statement; per watch in order, what it found. */
export async function readWatches(svc: Infra, reads: WatchRead[]): Promise<(WatchFound | null)[]> {
  const input = reads.map((r, ord) => ({
    ord,
    app_id: r.appId,
    cid: r.cid,
    uid: r.userId,
    after: r.after,
    up_to: r.upTo,
  }));
  const rows = await svc.database.prepared<WatchRow>(WATCH_READ, [JSON.stringify(input)]);
  const found: (WatchFound | null)[] = reads.map(() => null);
  const pages = new Map<number, PrefetchedLog['rows']>();
  const ends = new Map<number, number | null>();
  for (const row of rows) {
    if (row.seq === null) {
      found[row.ord] = {
        channel: fromJson(schema.channels, row.channel) as ChannelRow,
        member: fromJson(schema.members, row.member),
        user: fromJson(schema.users, row.user),
        log: null,
      };
      ends.set(row.ord, row.up_to === null ? null : Number(row.up_to));
      continue;
    }
    let page = pages.get(row.ord);
    if (!page) {
      page = [];
      pages.set(row.ord, page);
    }
    page.push({ seq: Number(row.seq), frame: row.frame as string, shadowOf: row.shadow_of });
  }
  for (const [ord, f] of found.entries()) {
    const after = (reads[ord] as WatchRead).after;
    const end = ends.get(ord);
    if (!f || after === null || end === null || end === undefined) continue;
    // A union's rows come in no promised order.
    const page = (pages.get(ord) ?? []).sort((x, y) => x.seq - y.seq);
    // The page reads at most WATCH_PAGE seqs past `after`: it covers the log up to there, or to
    // the end when that is nearer (a full page ends at its last row, the same seq).
    const to = Math.max(after, Math.min(end, after + WATCH_PAGE));
    f.log = { after, to, rows: page };
  }
  return found;
}

/**
 * The batcher of `svc.watches`: the watches of one event-loop turn read together
 * (platform/tick-batch.ts). A failed batch rejects each of its watches, and each is then read
 * on its own (events/socket.ts); the failure is logged here, once per batch, not once per watch.
 */
export function watchBatcher(svc: () => Infra, opts: TickBatcherOptions): TickBatcher<WatchRead, WatchFound | null> {
  return new TickBatcher(async (reads) => {
    try {
      return await readWatches(svc(), reads);
    } catch (err) {
      svc().log.warn({ err, watches: reads.length }, 'batched watch read failed');
      throw err;
    }
  }, opts);
}
