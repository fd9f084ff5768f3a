/**
 * How the send batcher (send-batch.ts) cuts its queue into batches. Pure, so the rules are
 * tested on their own (batch-plan.test.ts):
 * - a channel's sends never overtake: once one of its sends waits, the later ones wait too;
 * - a channel with a batch in flight (`busy`) waits for it;
 * - a send whose id is already in the batch waits for the next one (and then finds it taken);
 * - a burst is cut by channel, so each channel's sends stay in one batch.
 */

/** What the planner needs of a queued send. */
export interface Queued {
  /** The channel: `app:cid`. */
  key: string;
  /** The message id: `app:id`. */
  idKey: string;
}

/** Bursts smaller than twice this stay one batch: smaller batches cost more commits than they save. */
export const SPREAD_MIN = 16;

/**
 * How many channels each batch may take when `parts` batches are to start: all of them for one
 * part or a queue under 2 × SPREAD_MIN sends, else the idle channels shared out evenly.
 */
export function channelsPerBatch(queue: readonly Queued[], busy: ReadonlySet<string>, parts: number): number {
  if (parts <= 1 || queue.length < 2 * SPREAD_MIN) return Number.POSITIVE_INFINITY;
  const idle = new Set<string>();
  for (const q of queue) if (!busy.has(q.key)) idle.add(q.key);
  return Math.ceil(idle.size / parts);
}

/** The next batch, oldest first, from at most `channels` channels; `rest` keeps its order. */
export function takeBatch<T extends Queued>(
  queue: readonly T[],
  busy: ReadonlySet<string>,
  channels: number,
  maxBatch: number,
): { batch: T[]; rest: T[] } {
  const batch: T[] = [];
  const rest: T[] = [];
  const blocked = new Set<string>();
  const ids = new Set<string>();
  const taken = new Set<string>();
  for (const q of queue) {
    const room = batch.length < maxBatch && (taken.has(q.key) || taken.size < channels);
    if (!room || busy.has(q.key) || blocked.has(q.key) || ids.has(q.idKey)) {
      blocked.add(q.key);
      rest.push(q);
      continue;
    }
    ids.add(q.idKey);
    taken.add(q.key);
    batch.push(q);
  }
  return { batch, rest };
}
