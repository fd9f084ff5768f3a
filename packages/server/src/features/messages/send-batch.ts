/**
 * Group commit for plain sends. Sends that arrive together — from any socket, REST call or
 * tenant — are written with ONE statement that checks the rows they were checked against are
 * still the stored ones, takes their seqs, inserts the messages, appends the log rows and flags
 * the mentions. Those rows are the node's (access-cache.ts); a send whose rows it does not hold
 * has them read first, one read for all such sends of the batch. A lone send is a batch of one
 * (one statement, or two the first time, no BEGIN/COMMIT round trips); under load, batches grow
 * and the per-message cost of SQL building, round trips and commits shrinks with them.
 *
 * Order: at most one batch per channel is in flight, and a channel's sends enter batches in
 * the order they arrived, so one sender's messages keep their order. Several batches for
 * different channels run at once (`maxInFlight`), each locking its channels' counter rows in
 * (app, cid) order, so concurrent batches — on this node or another — cannot deadlock.
 *
 * The statement is all or nothing. If it fails on one send's data (a message id taken by a
 * concurrent send, say), the batch is rerun one send at a time through `fallback`, so only
 * that send fails; if the database is down, every send of the batch gets that error.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelEvent, Message } from '@parley/protocol';
import type { Infra } from '../../infra.js';
import type { Caller } from '../../platform/auth.js';
import { fromJson, hotStatement, type PreparedTiming, schema } from '../../platform/db/index.js';
import { notFound } from '../../platform/errors.js';
import type { Outbox } from '../../platform/event-log.js';
import { sendPathMetrics } from '../../platform/metrics.js';
import { activeTrace, inSpan, rememberEvent, startSpan, type TraceContext, tracingOn } from '../../platform/tracing.js';
import type { ChannelRow } from '../channels/index.js';
import { checkPost, rankOf } from '../channels/index.js';
import { checkSlowMode } from '../moderation/index.js';
import type { UserRow } from '../users/index.js';
import { AccessCache, type AccessRows, channelDigest, type RawRow, userDigest } from './access-cache.js';
import { channelsPerBatch, type Queued, takeBatch } from './batch-plan.js';
import { type Mentions, mentionReasons } from './mentions.js';
import { type MessageRow, presentMessage } from './present.js';
import { ChannelWarmer } from './warm.js';

/** One plain send (no thread parent, quote or @channel), validated, its mentions resolved. */
export interface SendJob {
  me: Caller & { kind: 'user' };
  cid: string;
  id: string;
  text: string;
  mentions: Mentions;
  at: Date;
  /**
   * The app's webhook endpoints that want `message.new`: the batch statement writes a delivery
   * for each with the message (features/webhooks/outbox.ts's rows, for a plain send).
   */
  webhooks?: readonly string[];
  /** The trace of the request that sent it (set by `submit` when tracing is on). */
  trace?: TraceContext | undefined;
}

/** What a send comes back as: its stored message, or word that its id was stored before. */
/** A send of the batch that must run on its own (`fallback`): a shadow-banned author's. */
class OnItsOwn extends Error {}

export type JobResult =
  /**
   * `inbox`: the send wrote its row of the inbox's outbox (`inbox_pending`: a mention, @here,
   * @channel, a thread reply or a DM), so it may put items in inboxes; only such a send is
   * handed to the inbox after commit (features/inbox/record.ts).
   */
  | { kind: 'sent'; message: Message; author: UserRow | null; inbox: boolean }
  /** Its id is already stored: the caller answers with the stored message (or CONFLICT). */
  | { kind: 'taken' };

interface Pending extends Queued {
  job: SendJob;
  /** When it was submitted (performance.now()), for the stage metrics. */
  at: number;
  resolve: (r: JobResult) => void;
  reject: (err: unknown) => void;
}

export interface BatcherOptions {
  /** Batches running at once (each holds one database connection at a time). */
  maxInFlight: number;
  /** Most sends in one batch. */
  maxBatch: number;
  /**
   * Batches a burst is spread over (default 1): a queue of at least `2 × SPREAD_MIN` sends
   * (batch-plan.ts) is cut by channel into this many batches, less those already running, so
   * that many statements run side by side. The database runs each statement on one core: one batch of
   * a burst kept PostgreSQL on one of the machine's two cores while the senders waited.
   */
  spread?: number;
}

/** SQLSTATE classes that blame the data of some send, not the database: rerun one by one. */
const isDataError = (err: unknown) => {
  // drizzle wraps the driver's error: the SQLSTATE is on it or on its cause.
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
};

export class SendBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  /** Channels (app:cid) with a batch in flight: their later sends wait for it. */
  private readonly busy = new Set<string>();
  private scheduled = false;
  /** The rows sends were last checked against, per node (see access-cache.ts). */
  readonly cache = new AccessCache();
  /** Reads channel rows ahead of a connected user's first sends (warm.ts). */
  readonly warmer: ChannelWarmer;

  constructor(
    private readonly svc: () => Infra,
    /** Runs one job alone in its own transaction (the path that also handles thread replies). */
    private readonly fallback: (job: SendJob) => Promise<JobResult>,
    private readonly opts: BatcherOptions,
  ) {
    this.warmer = new ChannelWarmer(svc, this.cache);
  }

  submit(job: SendJob): Promise<JobResult> {
    if (tracingOn()) job.trace = activeTrace();
    return new Promise((resolve, reject) => {
      const app = job.me.app.id;
      this.queue.push({
        job,
        key: `${app}:${job.cid}`,
        idKey: `${app}:${job.id}`,
        at: performance.now(),
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // One turn of the event loop gathers every send that arrived with this one.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // A burst is cut by channel into `spread` batches, less those running (batch-plan.ts).
    const parts = Math.min(this.opts.maxInFlight, this.opts.spread ?? 1) - this.inFlight;
    const channels = channelsPerBatch(this.queue, this.busy, parts);
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const { batch, rest } = takeBatch(this.queue, this.busy, channels, this.opts.maxBatch);
      this.queue = rest;
      if (batch.length === 0) return;
      this.inFlight++;
      for (const p of batch) this.busy.add(p.key);
      void this.run(batch).finally(() => {
        this.inFlight--;
        for (const p of batch) this.busy.delete(p.key);
        this.schedule();
      });
    }
  }

  /**
   * One batch. Traced (platform/tracing.ts): a span that is a child of the first send's action
   * and links to the others', its statements inside it.
   */
  private run(batch: Pending[]): Promise<void> {
    if (!tracingOn()) return this.runBatch(batch);
    return inSpan('message.send.batch', () => this.runBatch(batch), {
      parent: batch[0]?.job.trace ?? null,
      links: batch.slice(1).map((p) => p.job.trace),
      attributes: { 'parley.batch_size': batch.length },
    });
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const svc = this.svc();
    svc.metrics.sendBatchSize.observe(batch.length);
    const stage = sendPathMetrics(svc.metrics).sendStage;
    const start = performance.now();
    for (const p of batch) stage.observe({ stage: 'queued' }, (start - p.at) / 1000);
    // Sends answered as soon as their write committed, before the rest of the batch.
    const answered = new Set<number>();
    const total = (p: Pending) => stage.observe({ stage: 'total' }, (performance.now() - p.at) / 1000);
    try {
      const results = await writeBatch(
        svc,
        this.cache,
        batch.map((p) => p.job),
        (name, ms) => stage.observe({ stage: name }, ms / 1000),
        (ord, result) => {
          const p = batch[ord] as Pending;
          answered.add(ord);
          total(p);
          p.resolve(result);
        },
      );
      for (const [i, p] of batch.entries()) {
        if (answered.has(i)) continue;
        total(p);
        const r = results[i] as JobResult | Error;
        if (r instanceof OnItsOwn) await this.fallback(p.job).then(p.resolve, p.reject);
        else if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      }
    } catch (err) {
      const left = batch.filter((_, i) => !answered.has(i));
      if (!isDataError(err)) {
        for (const p of left) p.reject(err);
        return;
      }
      // One send's data spoiled the statement: each on its own, so only that one fails.
      for (const p of left) await this.fallback(p.job).then(p.resolve, p.reject);
    }
  }
}

/**
 * The search document of `text` (an SQL expression), as `parley_search_document` makes it
 * (migration 0025), without calling that function for a text in which it would find no
 * identifier: there it is only the text with `<` and `>` blanked. A call cost the send batch
 * more than the rest of the document, about half as much again as to_tsvector itself
 * (bench/pg-cost.ts, issue 57); PL/pgSQL since migration 0056, so its plan is kept by the
 * session rather than made again by each batch that calls it.
 * The test is the function's own pattern reduced to whether it matches at all
 * (`[[:alnum:]]+(?:[_.@/:+-]+[[:alnum:]]+)+` matches exactly where this one does);
 * test/search/search.pg.test.ts holds the two to the same result.
 */
export function searchDocument(text: string): string {
  return `case when ${text} ~ '[[:alnum:]][_.@/:+-]+[[:alnum:]]' then parley_search_document(${text})
    else translate(${text}, '<>', '  ') end`;
}

/**
 * The write of a batch, one statement: $1 the sends (in arrival order, `ord`), each with the
 * digests of the rows it was checked against (`access-cache.ts`; the rows themselves were about
 * 1 KB more JSON to parse per send, 14–22 % of the write, docs/benchmarks.md), $2 the users
 * each one flags. Lock the channels' counter rows in (app, cid) order; keep only the sends
 * whose channel, membership and user rows are still the ones they were checked against (but
 * for the columns in `MOVING`) and whose id is free; move each counter on by its number of
 * kept sends, number them from there in arrival order, and insert the messages (with their
 * search vectors in their app's language, as the insert trigger would make them; migration
 * 0023), their log rows (the published event, with the two seqs filled in), the mention
 * flags and, for a send that may put items in an inbox (a mention, @here, a DM), its row of the
 * inbox's outbox (`inbox_pending`, features/inbox/record.ts). As a single statement it
 * commits alone, all or nothing. It returns each written send's seq, and for each other send
 * the stored rows and their digests (`channel` null: gone) and whether they matched but its id
 * was taken.
 *
 * The channel row is compared after its lock, so what a send was checked against is what the
 * channel is when its seq is taken; the membership and user rows are read at the statement's
 * start, as the one-send path reads them.
 *
 * Its plan is cached per connection, so rows are reached only in shapes that must use the
 * primary key (platform/db/hot.ts): the lock and the lookups are ordered key probes, and the
 * counter moves through `insert … on conflict (app_id, cid) do update`, whose arbiter is the
 * key itself — an `update … from` join would let the planner reach the rows through any index
 * on `app_id`. The row is there and locked, so the insert part never inserts; it carries the
 * number of sends in `last_seq` and the newest send time in `last_message_at` to the update.
 */
const WRITE_BATCH = hotStatement({
  name: 'parley_send_batch',
  reads: {
    channels: 'channels_app_id_cid_pk',
    members: 'members_app_id_cid_user_id_pk',
    users: 'users_app_id_id_pk',
    messages: 'messages_app_id_id_pk',
  },
  text: `with input as materialized (
  select * from json_to_recordset($1::json) as i(ord int, app_id uuid, id uuid, cid text, user_id text,
    text text, mentioned_users jsonb, mentioned_here boolean, inbox boolean, created_at timestamptz, payload jsonb,
    channel_digest text, member_role text, user_digest text)
),
locked as materialized (
  select c.app_id, c.cid, c.type, c.id, c.row, ${channelDigest('c.row')} as digest
  from (select distinct app_id, cid from input order by app_id, cid) k
  cross join lateral (
    select app_id, cid, type, id, to_jsonb(c) as row from channels c
    where c.app_id = k.app_id and c.cid between k.cid and k.cid order by c.cid limit 1 for update
  ) c
),
stored as materialized (
  select i.ord, l.row as channel, l.digest as channel_digest, m.role as member_role, u.row as "user",
    u.digest as user_digest, t.id is not null as taken,
    l.digest = i.channel_digest and m.role is not distinct from i.member_role
      and u.digest is not distinct from i.user_digest as matched
  from input i
  left join locked l on l.app_id = i.app_id and l.cid = i.cid
  left join lateral (
    select m.role from members m
    where m.app_id = i.app_id and (m.cid, m.user_id) between (i.cid, i.user_id) and (i.cid, i.user_id)
    order by m.cid, m.user_id limit 1
  ) m on true
  left join lateral (
    select u.row, ${userDigest('u.row')} as digest
    from (select to_jsonb(u) as row from users u where u.app_id = i.app_id and u.id between i.user_id and i.user_id
      order by u.id limit 1) u
  ) u on true
  left join lateral (
    select t.id from messages t where t.app_id = i.app_id and t.id between i.id and i.id order by t.id limit 1
  ) t on true
),
ok as materialized (
  select i.* from input i join stored s on s.ord = i.ord where s.matched and not s.taken
),
counts as (select app_id, cid, count(*)::int as n, max(created_at) as at from ok group by app_id, cid),
bumped as (
  insert into channels as c (app_id, cid, type, id, last_seq, last_message_at)
  select l.app_id, l.cid, l.type, l.id, k.n, k.at
  from locked l join counts k on k.app_id = l.app_id and k.cid = l.cid
  on conflict (app_id, cid) do update
    set last_seq = c.last_seq + excluded.last_seq,
      last_message_at = greatest(c.last_message_at, excluded.last_message_at)
  returning c.app_id, c.cid, c.last_seq
),
numbered as materialized (
  select o.*, b.last_seq - k.n + row_number() over (partition by o.app_id, o.cid order by o.ord) as seq
  from ok o
  join bumped b on b.app_id = o.app_id and b.cid = o.cid
  join counts k on k.app_id = o.app_id and k.cid = o.cid
),
langs as materialized (
  select k.app_id, parley_search_config(k.app_id) as cfg from (select distinct app_id from ok) k
),
m as (
  insert into messages (app_id, id, cid, seq, user_id, type, text, mentioned_users, mentioned_here,
    created_at, updated_at, search_tsv)
  select n.app_id, n.id, n.cid, n.seq, n.user_id, 'regular', n.text, n.mentioned_users, n.mentioned_here,
    n.created_at, n.created_at, to_tsvector(l.cfg, ${searchDocument('n.text')})
  from numbered n join langs l on l.app_id = n.app_id
),
e as (
  insert into channel_events (app_id, cid, seq, type, payload, created_at)
  select app_id, cid, seq, 'message.new',
    jsonb_set(jsonb_set(payload, '{seq}', to_jsonb(seq)), '{message,seq}', to_jsonb(seq)), created_at
  from numbered
),
w as (
  insert into webhook_deliveries (app_id, id, endpoint_id, lane, event_type, body)
  select n.app_id, d.id, d.endpoint_id, n.cid, 'message.new',
    '{"event_id":' || to_json(n.cid || ':' || n.seq)::text || ',"type":"message.new","app_id":'
      || to_json(n.app_id)::text || ',"created_at":' || to_json(n.payload->>'created_at')::text || ',"event":'
      || jsonb_set(jsonb_set(n.payload, '{seq}', to_jsonb(n.seq)), '{message,seq}', to_jsonb(n.seq))::text || '}'
  from json_to_recordset($3::json) as d(ord int, id uuid, endpoint_id uuid)
  join numbered n on n.ord = d.ord
),
f as (
  insert into user_message_flags (app_id, user_id, message_id, cid, seq, mentioned)
  select n.app_id, f.user_id, n.id, n.cid, n.seq, true
  from json_to_recordset($2::json) as f(ord int, user_id text)
  join numbered n on n.ord = f.ord
  on conflict do nothing
),
p as (
  insert into inbox_pending (app_id, message_id)
  select n.app_id, n.id from numbered n where n.inbox
)
select ord, seq, null::jsonb as channel, null as channel_digest, null as member_role, null::jsonb as "user",
  null as user_digest, false as matched, false as taken
from numbered
union all
select s.ord, null, s.channel, s.channel_digest, s.member_role, s."user", s.user_digest, coalesce(s.matched, false), s.taken
from stored s where not (coalesce(s.matched, false) and not s.taken)`,
});

/**
 * The read of a batch: each send's channel, the author's membership and user row, and
 * whether its id is taken. Each lookup is a LATERAL subquery with a constant `limit 1`, so the
 * plan stays a key probe per send: a prepared statement gets a generic plan, sized for the
 * planner's guess of 100 input rows, which with plain joins hashes whole tables (all of
 * `messages` for the id check) and keeps doing so as they grow. Each probe gives the key's
 * second column as a one-value range and orders by it: only the primary key yields that order,
 * so it stays the cheapest index even on empty tables without statistics, where any index on
 * `app_id` costs the same (with `=`, the order is trivial and the planner ignores it; a plan
 * made on a fresh database then scanned the whole tenant on every send, for good).
 */
const ACCESS = hotStatement({
  name: 'parley_send_access',
  reads: {
    channels: 'channels_app_id_cid_pk',
    members: 'members_app_id_cid_user_id_pk',
    users: 'users_app_id_id_pk',
    messages: 'messages_app_id_id_pk',
  },
  text: `select p.ord, t.id is not null as taken, to_json(c) as channel, ${channelDigest('to_jsonb(c)')} as channel_digest,
  m.role as member_role, to_json(u) as "user", ${userDigest('to_jsonb(u)')} as user_digest
from json_to_recordset($1::json) as p(ord int, app_id uuid, cid text, uid text, id uuid)
cross join lateral (
  select * from channels c where c.app_id = p.app_id and c.cid between p.cid and p.cid order by c.cid limit 1
) c
left join lateral (
  select m.role from members m where m.app_id = p.app_id and (m.cid, m.user_id) between (p.cid, p.uid) and (p.cid, p.uid)
  order by m.cid, m.user_id limit 1
) m on true
left join lateral (
  select * from users u where u.app_id = p.app_id and u.id between p.uid and p.uid order by u.id limit 1
) u on true
left join lateral (
  select t.id from messages t where t.app_id = p.app_id and t.id between p.id and p.id order by t.id limit 1
) t on true`,
});

/** A send's stored rows and their digests, as the read and the write return them. */
interface StoredRows {
  channel: RawRow;
  channel_digest: string;
  member_role: string | null;
  user: RawRow | null;
  user_digest: string | null;
}

const rowsOf = (r: StoredRows): AccessRows => ({
  channel: r.channel,
  channelDigest: r.channel_digest,
  role: r.member_role,
  user: r.user,
  userDigest: r.user_digest,
});

interface AccessRow extends StoredRows {
  ord: number;
  taken: boolean;
}

/** A row the write returns: a written send's seq, or the stored rows of one it did not write. */
interface WrittenRow extends Omit<StoredRows, 'channel' | 'channel_digest'> {
  ord: number;
  seq: number | string | null;
  /** Null for a written send, or when the channel is gone. */
  channel: RawRow | null;
  channel_digest: string | null;
  /** Its rows were the stored ones, but its id was taken. */
  matched: boolean;
  taken: boolean;
}

/** Rounds (read and check, then write) a batch takes before what is left goes the one-send way. */
const MAX_ROUNDS = 3;

type Stage = 'access_wait' | 'access' | 'write_wait' | 'write';

/** A send that passed its checks, with the rows they used and the event it will publish. */
interface Ready {
  ord: number;
  job: SendJob;
  rows: AccessRows;
  author: UserRow | null;
  event: ChannelEvent & { type: 'message.new' };
  /** Users to flag and notify, with why. */
  notify: Map<string, 'mention' | 'here'>;
  /** Whether it writes its row of the inbox's outbox (a mention, @here or a DM). */
  inbox: boolean;
}

/**
 * Check and write a batch. Sends whose rows are cached (`AccessCache`) are checked against
 * them and go straight to the write, which writes them only if those rows are still the stored
 * ones: one statement for the batch. Sends without cached rows, or in a channel in slow mode,
 * are read first (one statement for all of them), while the others are written beside that
 * read; the read ones are written next. The write hands back the stored rows of the
 * sends it did not write, and those are checked again and written by the next write; after
 * `MAX_ROUNDS`, whatever is left goes the one-send way. A refusal is only ever decided on rows
 * just read: a send refused by cached rows is read again first.
 *
 * One sender's sends to one channel are checked against the same rows, so they are written
 * together and keep their order.
 * Returns, per job in order, its result or the error to answer it with.
 */
async function writeBatch(
  svc: Infra,
  cache: AccessCache,
  jobs: SendJob[],
  observe: (stage: Stage, ms: number) => void,
  /** Told of each send as soon as its write has committed (before the rest of the batch). */
  onSent?: (ord: number, result: JobResult) => void,
): Promise<(JobResult | Error)[]> {
  const results: (JobResult | Error | undefined)[] = jobs.map(() => undefined);
  const counted = sendPathMetrics(svc.metrics).sendRows;
  /** The rows each send is checked against, and whether they were read during this batch. */
  const rows = new Map<number, AccessRows>();
  const fresh = new Set<number>();
  /** Sends whose id a read found taken. */
  const taken = new Set<number>();
  /** Sends that passed slow mode (one limiter hit per send, however many writes it takes). */
  const slowPassed = new Set<number>();
  let todo = jobs.map((_, ord) => ord);

  /** Check `ords` against their rows and write those that pass (one statement). */
  const checkAndWrite = async (ords: number[]): Promise<void> => {
    const ready: Ready[] = [];
    for (const ord of ords) {
      const got = rows.get(ord);
      if (results[ord] !== undefined || !got) continue;
      const job = jobs[ord] as SendJob;
      const verdict = await check(svc, job, got, fresh.has(ord), !slowPassed.has(ord));
      if (verdict.slowPassed) slowPassed.add(ord);
      // Refused or sent aside by cached rows: decided again on rows read next round.
      if (verdict.kind === 'recheck') cache.forget(job.me.app.id, job.cid, job.me.userId);
      else if (verdict.kind === 'final') results[ord] = verdict.result;
      else if (taken.has(ord)) results[ord] = { kind: 'taken' };
      else ready.push({ ord, job, rows: got, ...verdict.ready });
    }
    if (ready.length === 0) return;
    const back = await write(svc, ready, observe);
    const readyByOrd = new Map(ready.map((r) => [r.ord, r]));
    for (const r of back) {
      const job = jobs[r.ord] as SendJob;
      const sent = r.seq === null ? undefined : readyByOrd.get(r.ord);
      if (sent) {
        const result: JobResult = {
          kind: 'sent',
          message: sent.event.message,
          author: sent.author,
          inbox: sent.inbox,
        };
        results[r.ord] = result;
        onSent?.(r.ord, result);
      } else if (r.channel === null) {
        results[r.ord] = notFound('Channel');
        cache.gone(job.me.app.id, job.cid, job.me.userId);
      } else if (r.matched && r.taken) results[r.ord] = { kind: 'taken' };
      else {
        // Changed since they were cached or read: check again against the stored rows.
        counted.inc({ rows: 'stale' });
        const stored = rowsOf(r as StoredRows);
        cache.put(job.me.app.id, job.cid, job.me.userId, stored);
        rows.set(r.ord, stored);
        fresh.add(r.ord);
        taken.delete(r.ord);
      }
    }
  };

  for (let round = 0; todo.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      for (const ord of todo) results[ord] = new OnItsOwn();
      break;
    }
    // Rows: those the last write handed back, else cached ones, else read.
    const toRead: number[] = [];
    let hits = 0;
    for (const ord of todo) {
      if (fresh.has(ord)) continue;
      const job = jobs[ord] as SendJob;
      const cached = cache.get(job.me.app.id, job.cid, job.me.userId);
      // Slow mode is checked on rows just read: its limiter hit is spent whatever the write finds.
      if (cached && !cached.channel.slow_mode_s) {
        rows.set(ord, cached);
        hits++;
      } else toRead.push(ord);
    }
    if (hits > 0) counted.inc({ rows: 'cached' }, hits);
    if (toRead.length === 0) await checkAndWrite(todo);
    else {
      counted.inc({ rows: 'read' }, toRead.length);
      const reading = readRows(svc, cache, jobs, toRead, observe, (ord, found, isTaken) => {
        if (!found) results[ord] = notFound('Channel');
        else {
          rows.set(ord, found);
          fresh.add(ord);
          if (isTaken) taken.add(ord);
        }
      });
      // The sends that have their rows do not wait for the others' read: they are written
      // beside it (two hot connections), and published and answered when that write commits.
      // A burst into channels this node has not sent to yet had held every send of its batch
      // behind one read (docs/benchmarks.md, "Kept rows do not wait"). Each sender's sends to
      // a channel share their rows, so they stay in one of the two writes and keep their order.
      const unread = new Set(toRead);
      const kept = todo.filter((ord) => !unread.has(ord));
      await both(reading, kept.length > 0 ? checkAndWrite(kept) : null);
      await checkAndWrite(toRead);
    }
    todo = todo.filter((ord) => results[ord] === undefined);
  }
  return results as (JobResult | Error)[];
}

/**
 * Wait for both, even when one fails (a write still in flight must not outlive its batch, which
 * releases its channels when it returns); then throw the first failure.
 */
async function both(a: Promise<void>, b: Promise<void> | null): Promise<void> {
  const [ra, rb] = await Promise.allSettled([a, b ?? Promise.resolve()]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
}

/** Read the rows of `ords` (one statement) into the cache, and hand each to `got` (null: no channel). */
async function readRows(
  svc: Infra,
  cache: AccessCache,
  jobs: SendJob[],
  ords: number[],
  observe: (stage: Stage, ms: number) => void,
  got: (ord: number, rows: AccessRows | null, taken: boolean) => void,
): Promise<void> {
  const input = ords.map((ord) => {
    const j = jobs[ord] as SendJob;
    return { ord, app_id: j.me.app.id, cid: j.cid, uid: j.me.userId, id: j.id };
  });
  const t: PreparedTiming = { waitMs: 0, runMs: 0 };
  const found = await svc.database.prepared<AccessRow>(ACCESS, [JSON.stringify(input)], t);
  observe('access_wait', t.waitMs);
  observe('access', t.runMs);
  const seen = new Set<number>();
  for (const row of found) {
    const job = jobs[row.ord] as SendJob;
    const r = rowsOf(row);
    cache.put(job.me.app.id, job.cid, job.me.userId, r);
    seen.add(row.ord);
    got(row.ord, r, row.taken);
  }
  for (const ord of ords) {
    if (seen.has(ord)) continue;
    const job = jobs[ord] as SendJob;
    cache.gone(job.me.app.id, job.cid, job.me.userId);
    got(ord, null, false);
  }
}

/** Typed rows by the raw row they came from: a kept row is typed once, not once per send. */
const typedRows = new WeakMap<RawRow, unknown>();

/**
 * `fromJson` of a row the batch checks against, memoized by the raw row, which the access cache
 * hands out unchanged until it is replaced. Frozen: every send checked against that row shares
 * it (the check, the author of the result).
 */
function typed<T extends typeof schema.users | typeof schema.channels>(
  table: T,
  raw: RawRow | null,
): T['$inferSelect'] | null {
  if (raw === null) return null;
  const kept = typedRows.get(raw) as T['$inferSelect'] | undefined;
  if (kept !== undefined) return kept;
  const row = fromJson(table, raw) as T['$inferSelect'];
  typedRows.set(raw, Object.freeze(row));
  return row;
}

type Verdict = { slowPassed?: boolean } & (
  | { kind: 'final'; result: JobResult | Error }
  | { kind: 'recheck' }
  | { kind: 'ready'; ready: Pick<Ready, 'author' | 'event' | 'notify' | 'inbox'> }
);

/**
 * One send's checks against `rows`: the one-send path's (`checkPost`, slow mode), then the
 * shadow ban, which sends it the one-send way. `fresh`: the rows were just read, so a refusal
 * stands; on cached rows, anything but "write it" is a `recheck`.
 */
async function check(svc: Infra, job: SendJob, rows: AccessRows, fresh: boolean, slowDue: boolean): Promise<Verdict> {
  const member = rows.role === null ? null : { role: rows.role };
  const user = typed(schema.users, rows.user);
  const access = {
    channel: typed(schema.channels, rows.channel) as ChannelRow,
    member,
    user,
    rank: rankOf(job.me, member, user?.role ?? null),
    caller: job.me,
  };
  let slowPassed = false;
  try {
    checkPost(access, svc.clock());
    // Only a channel in slow mode costs a limiter round trip (never a query); cached rows never
    // get here with it on.
    if (slowDue && access.channel.slowModeS > 0) {
      await checkSlowMode(svc, access, job.me.userId);
      slowPassed = true;
    }
  } catch (err) {
    return fresh ? { kind: 'final', result: err as Error } : { kind: 'recheck' };
  }
  // A shadow-banned author's send goes the one-send way, which stores it shadowed.
  if (user?.shadowBanned) return fresh ? { kind: 'final', result: new OnItsOwn(), slowPassed } : { kind: 'recheck' };
  const messageRow: MessageRow = {
    appId: job.me.app.id,
    id: job.id,
    cid: job.cid,
    seq: 0,
    userId: job.me.userId,
    type: 'regular',
    text: job.text,
    parentId: null,
    showInChannel: false,
    replyCount: 0,
    lastReplyAt: null,
    threadParticipants: [],
    quotedMessageId: null,
    reactionCounts: {},
    latestReactions: [],
    mentionedUsers: job.mentions.users,
    mentionedHere: job.mentions.hereFlag,
    mentionedChannel: false,
    shadowed: false,
    attachments: [],
    previews: [],
    hiddenPreviews: [],
    poll: null,
    pinnedAt: null,
    pinnedBy: null,
    editedAt: null,
    createdAt: job.at,
    updatedAt: job.at,
    deletedAt: null,
  };
  const event = {
    type: 'message.new' as const,
    cid: job.cid,
    seq: 0,
    created_at: job.at.toISOString(),
    message: presentMessage(messageRow, { user, quoted: null }),
  };
  return {
    kind: 'ready',
    slowPassed,
    ready: {
      author: user,
      event,
      notify: mentionReasons(job.mentions, job.me.userId),
      // Decided here, on the channel row the write then holds it to: the statement writes the
      // outbox row exactly when this says so.
      inbox: job.mentions.hereFlag || job.mentions.users.length > 0 || access.channel.type === 'dm',
    },
  };
}

/**
 * Write the sends that passed (one statement), then publish what was written in seq order per
 * channel. Returns the statement's rows: a seq for each written send, stored rows for the rest.
 */
async function write(svc: Infra, ready: Ready[], observe: (stage: Stage, ms: number) => void): Promise<WrittenRow[]> {
  // The log row is the event as published: the statement fills in the two seqs it takes.
  const writes = ready.map(({ ord, job, event, rows, inbox }) => ({
    ord,
    app_id: job.me.app.id,
    id: job.id,
    cid: job.cid,
    user_id: job.me.userId,
    text: job.text,
    mentioned_users: job.mentions.users,
    mentioned_here: job.mentions.hereFlag,
    inbox,
    created_at: event.created_at,
    payload: event,
    channel_digest: rows.channelDigest,
    member_role: rows.role,
    user_digest: rows.userDigest,
  }));
  const flags = ready.flatMap(({ ord, notify }) => [...notify.keys()].map((user_id) => ({ ord, user_id })));
  const t: PreparedTiming = { waitMs: 0, runMs: 0 };
  const deliveries = ready.flatMap(({ ord, job }) =>
    (job.webhooks ?? []).map((endpoint_id) => ({ ord, id: randomUUID(), endpoint_id })),
  );
  const back = await svc.database.prepared<WrittenRow>(
    WRITE_BATCH,
    [JSON.stringify(writes), JSON.stringify(flags), JSON.stringify(deliveries)],
    t,
  );
  observe('write_wait', t.waitMs);
  observe('write', t.runMs);

  // Committed: publish in seq order per channel.
  const seqOf = new Map(back.filter((w) => w.seq !== null).map((w) => [w.ord, Number(w.seq)]));
  const out: Outbox = [];
  for (const r of ready) {
    const seq = seqOf.get(r.ord);
    if (seq === undefined) continue;
    r.event.seq = seq;
    r.event.message.seq = seq;
    out.push({ to: 'channel', appId: r.job.me.app.id, cid: r.job.cid, event: r.event });
    for (const [userId, reason] of r.notify)
      out.push({
        to: 'user',
        appId: r.job.me.app.id,
        userId,
        event: {
          type: 'notification.new',
          cid: r.job.cid,
          reason,
          message: r.event.message,
          created_at: r.event.created_at,
        },
      });
  }
  if (out.length > 0) {
    // Traced: a publish span in each send's own trace, which its webhook deliveries continue.
    const spans = tracingOn() ? publishSpans(ready, seqOf) : null;
    svc.bus.publish(out, spans ? { traced: true } : undefined);
    for (const s of spans ?? []) s.end();
  }
  // The deliveries committed with their messages; their lanes are woken now, in memory (a crash
  // before that is caught by the webhooks' sweep, features/webhooks/pump.ts).
  const lanes = new Map<string, { appId: string; endpointId: string; lane: string }>();
  for (const r of ready)
    if (seqOf.has(r.ord))
      for (const endpointId of r.job.webhooks ?? [])
        lanes.set(`${endpointId}\n${r.job.cid}`, { appId: r.job.me.app.id, endpointId, lane: r.job.cid });
  if (lanes.size > 0) svc.webhooks.wake([...lanes.values()]);
  return back;
}

/** A `publish` span per written send, parented to its own request's trace; remembers its event's. */
function publishSpans(ready: Ready[], seqOf: Map<number, number>): { end(): void }[] {
  const spans: { end(): void }[] = [];
  for (const r of ready) {
    const seq = seqOf.get(r.ord);
    if (seq === undefined) continue;
    const started = startSpan('publish', {
      kind: 'producer',
      parent: r.job.trace,
      attributes: { 'parley.cid': r.job.cid, 'parley.seq': seq, 'parley.event': 'message.new' },
    });
    if (!started) continue;
    rememberEvent(r.job.me.app.id, `${r.job.cid}:${seq}`, started.ctx);
    spans.push(started.span);
  }
  return spans;
}
