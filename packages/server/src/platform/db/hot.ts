/**
 * Hot statements: the named prepared statements of the hot paths (today the send batch's read
 * and write). On PostgreSQL each is prepared once per pooled connection and kept for the life
 * of the connection, and after five runs PostgreSQL may switch it to a generic plan that it
 * never revisits until the tables' statistics change. A plan made while the tables were empty
 * and never analyzed — a fresh install, or any database where autovacuum is off — must
 * therefore already be the right one: on such tables every index that starts with `app_id`
 * costs the same as the primary key, and PostgreSQL 15 took the newest of them and scanned the
 * whole tenant on every send.
 *
 * So each hot statement declares which index every table it reads must be reached through,
 * and `test/foundation/hot-plans.pg.test.ts` EXPLAINs its generic and custom plans on an empty,
 * never-analyzed database, on one grown large before it was ever analyzed, on one analyzed while
 * tiny and grown since, and on a large analyzed one, and holds them to that. `Database.prepared`
 * runs only registered statements, so a new one cannot skip the check. On PostgreSQL the send
 * lane's and the read lane's are planned once per connection of their pool, without sequential
 * scans, bitmap scans or sorts where there is another way (a Sort costed at nothing for one
 * estimated row once let another index win), and the connection is replaced every five minutes
 * (see index.ts). The plan test also
 * runs every one of them on such a connection while the tables fit in a page, grows them, and
 * EXPLAINs the plans that connection kept.
 *
 * Shapes that keep a key probe on its key whatever the statistics say (see send-batch.ts):
 * - a LATERAL subquery with a constant `limit 1`, the key's second column as a one-value range
 *   (`cid between p.cid and p.cid`) and `order by` that column: only the primary key yields that
 *   order, so every other index would need a Sort (an equality would make the order trivial, and
 *   the planner would drop it);
 * - where the key has more columns after the first, all of them as one row range
 *   (`(m.cid, m.user_id) between (p.cid, p.uid) and (p.cid, p.uid)`, ordered by both): an
 *   equality on a later column (`m.user_id = p.uid`) would let an index on (app_id, user_id)
 *   serve it, and on tables analyzed while tiny and grown since — whose statistics still say
 *   `user_id` is nearly unique — PostgreSQL 15 preferred that index and read every membership
 *   of the user; the row range can only be searched in the primary key;
 * - an update of a row by its key as `insert … on conflict (key) do update`: the arbiter is the
 *   unique index itself, not a plan choice;
 * - where two indexes are keys of a row and the planner takes one or the other by the state of
 *   the statistics (`user_message_flags` by (user, message) or by (user, cid, seq)), the probe
 *   names the row in both, so either is an exact probe, and `reads` lists both;
 * - no small index on the key's first column alone to tie with it: without statistics the
 *   planner costs an index by its pages, so an index of deduplicated NULLs beat the primary key
 *   and the Sort after it (the users' username indexes, now partial on `username is not null`).
 *
 * The send path's hot statements run on connections of their own (`hotPoolSize` in index.ts),
 * so a send never waits for a connection behind other queries; the batched reads of connects
 * and resyncs are hot statements too, on connections of their own (`lane: 'read'`).
 */
import { getTableColumns, type Table } from 'drizzle-orm';

/** One hot statement: its prepared name, its SQL, and how each table it reads is reached. */
export interface HotStatement {
  /** Prepared statement name (`parley_*`), unique. */
  readonly name: string;
  /** SQL text with $n parameters. */
  readonly text: string;
  /**
   * Table → the index every read of it must use (an Index Scan or Index Only Scan, or the
   * arbiter of an `on conflict`), or the indexes of which it may use any: where the statement
   * makes a probe exact on each of them (see the shapes above). Tables it only inserts into
   * (without `on conflict`) are not listed.
   */
  readonly reads: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Which connections it runs on (PostgreSQL): `send` (the default), the hot pool that only the
   * send path uses, so a send never waits for a connection behind anything else; `read`, a pool
   * of its own planned the same way, for the batched reads of connects and resyncs — in a
   * reconnect storm they would take every hot connection and the sends would queue behind them.
   */
  readonly lane?: 'send' | 'read';
}

const registry = new Map<string, HotStatement>();

/** Declare a hot statement (once, at module load). */
export function hotStatement(def: HotStatement): HotStatement {
  if (registry.has(def.name)) throw new Error(`hot statement ${def.name} declared twice`);
  const s = Object.freeze({ ...def, reads: Object.freeze({ ...def.reads }) });
  registry.set(s.name, s);
  return s;
}

/** Every declared hot statement (the plan test walks them all). */
export function hotStatements(): HotStatement[] {
  return [...registry.values()];
}

/** Whether `s` is the statement declared under its name (the only ones `prepared` runs). */
export function isHotStatement(s: HotStatement): boolean {
  return registry.get(s.name) === s;
}

/**
 * A row of `table` from its `to_json` form (column names, JSON values), mapped as drizzle maps
 * it: hot statements return whole rows that way, beside the other rows of a lateral join.
 */
export function fromJson<T extends Table>(table: T, json: Record<string, unknown> | null): T['$inferSelect'] | null {
  if (json === null) return null;
  const out: Record<string, unknown> = {};
  for (const [key, col] of Object.entries(getTableColumns(table))) {
    const v = json[col.name];
    out[key] = v === null || v === undefined ? null : col.mapFromDriverValue(v);
  }
  return out as T['$inferSelect'];
}

/**
 * SQL for a row's digest: SHA-256 of its `jsonb` text, which is canonical (keys in one order,
 * values as stored), so the same row gives the same digest on any connection of one server;
 * base64, 44 characters. `jsonb` is the row as a jsonb expression (`to_jsonb(u)`, or one with
 * columns removed). A statement that must know a row is unchanged compares digests rather than
 * the row itself: the row's JSON sent back was most of what PostgreSQL parsed per send
 * (docs/benchmarks.md). SHA-256 rather than md5, which a server in FIPS mode refuses.
 */
export const rowDigest = (jsonb: string): string => `encode(sha256(convert_to((${jsonb})::text, 'UTF8')), 'base64')`;
