/**
 * readThrough: a page of the log read ahead answers a replay exactly as the log would, page
 * for page, and the log is read only past it. Checked against a real in-memory log for every
 * small range and page size, and through Subscription's replay, which stops on a short page.
 */
import { describe, expect, it } from 'vitest';
import { type LogPageReader, Subscription } from '../../realtime/subscription.js';
import { type PrefetchedLog, readThrough } from './prefetched-log.js';

/** A log of the given seqs (holes allowed), read in pages; counts reads. */
function log(seqs: number[]) {
  const reads: { after: number; limit: number; upTo: number | undefined }[] = [];
  const rows = seqs.map((seq) => ({ seq, frame: `{"seq":${seq}}`, shadowOf: null }));
  const read: LogPageReader = async (after, limit, upTo) => {
    reads.push({ after, limit, upTo });
    return rows.filter((r) => r.seq > after && (upTo === undefined || r.seq <= upTo)).slice(0, limit);
  };
  /** What a statement reading `(after, to]` ahead, at most `max` rows, would have kept. */
  const ahead = (after: number, to: number, max = 500): PrefetchedLog => {
    const page = rows.filter((r) => r.seq > after && r.seq <= to).slice(0, max);
    return { after, to: page.length >= max ? (page.at(-1)?.seq ?? after) : to, rows: page };
  };
  return { read, reads, ahead };
}

const SEQS = [1, 2, 3, 5, 6, 7, 9, 10, 11, 12];

describe('readThrough', () => {
  it('answers every page as the log alone would', async () => {
    const plain = log(SEQS);
    for (const [pa, pt, max] of [
      [0, 12, 500],
      [2, 7, 500],
      [0, 12, 3],
      [5, 5, 500],
      [3, 9, 2],
    ] as const) {
      const lg = log(SEQS);
      const through = readThrough(lg.ahead(pa, pt, max), lg.read);
      for (let after = 0; after <= 13; after++)
        for (const upTo of [undefined, 0, 4, 7, 9, 12, 20])
          for (const limit of [1, 2, 3, 500]) {
            const want = await plain.read(after, limit, upTo);
            expect(
              await through(after, limit, upTo),
              `ahead (${pa}, ${pt}] max ${max}: ${after} ${limit} ${upTo}`,
            ).toEqual(want);
          }
    }
  });

  it('reads nothing from the log for a range the page covers, only the rest past it', async () => {
    const lg = log(SEQS);
    const through = readThrough(lg.ahead(2, 9), lg.read);
    expect((await through(2, 500, 9)).map((r) => r.seq)).toEqual([3, 5, 6, 7, 9]);
    expect(lg.reads).toEqual([]);
    expect((await through(3, 500, undefined)).map((r) => r.seq)).toEqual([5, 6, 7, 9, 10, 11, 12]);
    expect(lg.reads).toEqual([{ after: 9, limit: 496, upTo: undefined }]);
  });

  it('serves a whole replay of a subscription, which sends each event once, in order', async () => {
    const lg = log(SEQS);
    const sent: string[] = [];
    const sub = new Subscription('c', 2, (f) => sent.push(typeof f === 'string' ? f : f.text));
    // A page cut short by its row limit: the replay reads on past it from the log.
    await sub.replay(readThrough(lg.ahead(2, 12, 4), lg.read), { after: 2, pageSize: 3 });
    expect(sent.map((f) => (JSON.parse(f) as { seq: number }).seq)).toEqual([3, 5, 6, 7, 9, 10, 11, 12]);
    expect(lg.reads.every((r) => r.after >= 7)).toBe(true);
  });

  it('replays an empty range without reading', async () => {
    const lg = log(SEQS);
    const sub = new Subscription('c', 7, () => {});
    await sub.replay(lg.read, { after: 7, upTo: 7 });
    await sub.replay(lg.read, { after: 9, upTo: 7 });
    expect(lg.reads).toEqual([]);
  });
});
