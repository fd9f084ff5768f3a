/**
 * A page of a channel's log read ahead — by the batched read of `channel.watch`
 * (watch-batch.ts), in the same statement and snapshot as the access check — served to a
 * replay as if it were read now. Log rows never change once committed, so rows read a moment
 * earlier are the rows a read now would give; only what lies past the page is read again.
 */
import type { LogPageReader } from '../../realtime/subscription.js';

/** Logged events of one channel read ahead. */
export interface PrefetchedLog {
  /** Every logged event with `after < seq <= to` is in `rows` (and nothing else). */
  after: number;
  to: number;
  /** Oldest first. */
  rows: { seq: number; frame: string; shadowOf: string | null }[];
}

/**
 * A reader that answers from `log` what it covers and asks `read` for the rest, page for page
 * the answer `read` alone would give: at most `limit` rows of `after < seq <= upTo`, oldest
 * first, and fewer only when the range holds no more.
 */
export function readThrough(log: PrefetchedLog | null, read: LogPageReader): LogPageReader {
  if (!log) return read;
  return async (after, limit, upTo) => {
    // Outside what was read ahead: not a row of it is of use.
    if (after < log.after || after >= log.to) return read(after, limit, upTo);
    const end = upTo === undefined ? log.to : Math.min(upTo, log.to);
    const rows: Awaited<ReturnType<LogPageReader>> = [];
    for (const r of log.rows) {
      if (r.seq <= after) continue;
      if (r.seq > end || rows.length === limit) break;
      rows.push(r);
    }
    // A full page, or the whole range: what the log alone would have answered.
    if (rows.length === limit || (upTo !== undefined && upTo <= log.to)) return rows;
    // The range goes on past the page read ahead: the rest from the log itself.
    return rows.concat(await read(log.to, limit - rows.length, upTo));
  };
}
