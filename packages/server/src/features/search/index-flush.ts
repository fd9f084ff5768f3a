/**
 * The search index's pending list, flushed off the send path.
 *
 * `messages_search_idx` is a GIN index with `fastupdate` on and a large pending list (migration
 * 0012): a send appends its message's tsvector to the list — a few page writes — instead of
 * updating one posting tree per word (17–20 µs a row at 1M messages, most of what search added
 * to a send). The list is still part of the index, written in the send's transaction, so a
 * message is searchable the moment it commits; a query reads the list beside the trees.
 *
 * What must not happen is a send finding the list full and merging megabytes of it into the
 * trees while its sender waits (a 100 ms+ stall; why the index once had `fastupdate` off). So
 * this loop merges it every `searchFlushMs` on a connection of its own, long before it fills:
 * at 4,000 messages/s a second's list is about 2 MB of the 64 MB limit, and merging it in bulk
 * costs less than the same entries inserted one by one. Every node runs the loop; a second
 * flush that finds one under way waits for it and then finds nothing to do.
 *
 * `searchFlushMs = 0` leaves the list to autovacuum and to the limit (for tests of that path).
 */

import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { Database } from '../../platform/db/index.js';
import { rows } from '../../platform/db/index.js';

/** The GIN index whose pending list is flushed. */
export const SEARCH_INDEX = 'messages_search_idx';

/** The index's storage options (migration 0012); the bench rebuilds it with the same. */
export const SEARCH_INDEX_WITH = 'fastupdate = on, gin_pending_list_limit = 65536';

export interface SearchIndexFlush {
  /** Merge the pending list now; resolves to the pages it emptied. */
  flush(): Promise<number>;
  /** Stop the loop, after a flush under way. */
  stop(): Promise<void>;
}

export function startSearchIndexFlush(
  database: Database,
  opts: { everyMs: number; log: FastifyBaseLogger; registry: Registry },
): SearchIndexFlush {
  const seconds = new Histogram({
    name: 'parley_search_index_flush_seconds',
    help: "Time to merge the search index's pending list into its trees",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.registry],
  });
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const flush = (): Promise<number> => {
    running ??= (async () => {
      const end = seconds.startTimer();
      try {
        const [row] = await rows<{ pages: number }>(
          database.db,
          sql`select gin_clean_pending_list(${SEARCH_INDEX}::regclass)::int as pages`,
        );
        return row?.pages ?? 0;
      } finally {
        end();
        running = null;
      }
    })();
    return running;
  };

  const tick = async () => {
    timer = null;
    try {
      await flush();
    } catch (err) {
      // The database away (it comes back; sends answer 503 meanwhile) or closing: try later.
      if (!stopped) opts.log.warn({ err }, 'search index flush failed');
    }
    if (!stopped) schedule();
  };
  const schedule = () => {
    timer = setTimeout(tick, opts.everyMs);
    timer.unref();
  };
  if (opts.everyMs > 0) schedule();

  return {
    flush,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => {});
    },
  };
}
