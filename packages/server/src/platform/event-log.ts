/**
 * The per-channel event log and sequence counter. Every channel event a client can see takes
 * the channel's next seq — taken by `UPDATE channels … RETURNING last_seq` inside the same
 * transaction as the write, never computed as MAX()+1 — and is appended here with its seq,
 * serialized once. Replays read from this log; live delivery publishes the same string.
 */
import type { ChannelEvent } from '@parley/protocol';
import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Infra } from '../infra.js';
import type { Outgoing } from '../realtime/bus.js';
import { hotStatement, type Queryable, schema, type Tx } from './db/index.js';
import { notFound } from './errors.js';

/** Events collected during a transaction, published once it commits. */
export type Outbox = Outgoing[];

/**
 * Run `fn` in one transaction and publish what it collected only after commit. A throw
 * rolls everything back and publishes nothing.
 */
export async function withTransaction<T>(svc: Infra, fn: (tx: Tx, out: Outbox) => Promise<T>): Promise<T> {
  const out: Outbox = [];
  let result: T;
  let after: (() => void) | null = null;
  try {
    result = await svc.db.transaction(async (tx) => {
      const r = await fn(tx, out);
      if (svc.beforeCommit && out.length > 0) after = await svc.beforeCommit(tx, out);
      return r;
    });
  } catch (err) {
    if (err instanceof Unchanged) return err.value as T;
    throw err;
  }
  svc.bus.publish(out);
  (after as (() => void) | null)?.();
  return result;
}

/**
 * Thrown inside `withTransaction` when, after taking the channel lock, the action finds
 * there is nothing to do (a repeated reaction, a second delete): the transaction rolls back,
 * so the seq it took is given back, and `value` is returned as the result.
 */
export class Unchanged<T = unknown> {
  constructor(readonly value: T) {}
}

/**
 * Take `n` seqs for a channel (locking its row until commit) and return the first one.
 * `lastMessageAt` also moves the channel's sort time.
 */
export async function takeSeqs(
  tx: Queryable,
  appId: string,
  cid: string,
  n: number,
  lastMessageAt?: Date,
): Promise<number> {
  const set: Record<string, unknown> = { lastSeq: sql`${schema.channels.lastSeq} + ${n}` };
  if (lastMessageAt) set.lastMessageAt = lastMessageAt;
  const [row] = await tx
    .update(schema.channels)
    .set(set)
    .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)))
    .returning({ lastSeq: schema.channels.lastSeq });
  if (!row) throw notFound('Channel');
  return row.lastSeq - n + 1;
}

/**
 * Append events (seqs already taken) to the log and to the outbox, each serialized once.
 * `shadowOf`: they are about a shadowed message of that author (moderation/shadow.ts).
 */
export async function logEvents(
  tx: Queryable,
  out: Outbox,
  appId: string,
  events: ChannelEvent[],
  shadowOf?: string | null,
): Promise<void> {
  if (events.length === 0) return;
  const frames = events.map((e) => JSON.stringify(e));
  await tx.insert(schema.channelEvents).values(
    events.map((e, i) => ({
      appId,
      cid: e.cid,
      seq: e.seq,
      type: e.type,
      payload: sql`${frames[i]}::jsonb`,
      createdAt: new Date(e.created_at),
      shadowOf: shadowOf ?? null,
    })),
  );
  events.forEach((e, i) => {
    out.push({
      to: 'channel',
      appId,
      cid: e.cid,
      event: e,
      frame: frames[i] as string,
      ...(shadowOf ? { shadowOf } : {}),
    });
  });
}

/** Logged events with `after < seq <= upTo`, oldest first, at most `limit`. */
export async function readEvents(
  svc: Infra,
  appId: string,
  cid: string,
  after: number,
  limit: number,
  upTo?: number,
): Promise<{ seq: number; frame: string; shadowOf: string | null }[]> {
  const conds = [
    eq(schema.channelEvents.appId, appId),
    eq(schema.channelEvents.cid, cid),
    gt(schema.channelEvents.seq, after),
  ];
  if (upTo !== undefined) conds.push(lte(schema.channelEvents.seq, upTo));
  const rows = await svc.db
    .select({
      seq: schema.channelEvents.seq,
      frame: sql<string>`${schema.channelEvents.payload}::text`,
      shadowOf: schema.channelEvents.shadowOf,
    })
    .from(schema.channelEvents)
    .where(and(...conds))
    .orderBy(asc(schema.channelEvents.seq))
    .limit(limit);
  return rows;
}

/**
 * $1: the channels asked, `[{ord, app_id, cid}]`; a row per channel that exists, its
 * `last_seq`. The probe keeps to the primary key on any statistics (platform/db/hot.ts).
 */
const CHANNEL_SEQS = hotStatement({
  name: 'parley_channel_seqs',
  lane: 'read',
  reads: { channels: 'channels_app_id_cid_pk' },
  text: `select p.ord, c.last_seq
from json_to_recordset($1::json) as p(ord int, app_id uuid, cid text)
cross join lateral (
  select c.last_seq from channels c where c.app_id = p.app_id and c.cid between p.cid and p.cid order by c.cid limit 1
) c`,
});

/**
 * The last seq of each channel asked (null where there is none), of any tenants, with one
 * statement: the batch run of `svc.channelSeqs`, which gathers a turn's catch-ups (the first
 * connect to a channel on a node reads its seq again after subscribing; in a reconnect storm,
 * every channel's first connect).
 */
export async function readChannelSeqs(svc: Infra, asked: { appId: string; cid: string }[]): Promise<(number | null)[]> {
  const input = asked.map((a, ord) => ({ ord, app_id: a.appId, cid: a.cid }));
  const rows = await svc.database.prepared<{ ord: number; last_seq: number | string }>(CHANNEL_SEQS, [
    JSON.stringify(input),
  ]);
  const out: (number | null)[] = asked.map(() => null);
  for (const r of rows) out[r.ord] = Number(r.last_seq);
  return out;
}
