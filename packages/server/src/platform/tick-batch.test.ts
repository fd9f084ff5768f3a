import { describe, expect, it } from 'vitest';
import { TickBatcher } from './tick-batch.js';

/** A batcher whose runs are recorded, and held open until `release` is called. */
function recorder(opts: { maxInFlight: number; maxBatch: number }) {
  const runs: number[][] = [];
  const gates: (() => void)[] = [];
  const b = new TickBatcher<number, number>(async (items) => {
    runs.push(items);
    await new Promise<void>((r) => gates.push(r));
    return items.map((i) => i * 10);
  }, opts);
  const release = () => {
    for (const g of gates.splice(0)) g();
  };
  return { b, runs, release };
}

const turn = () => new Promise((r) => setImmediate(r));

/** Turns of the event loop until `runs` holds `n` batches (bounded). */
async function started(runs: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 50 && runs.length < n; i++) await turn();
  expect(runs.length).toBe(n);
}

describe('TickBatcher', () => {
  it('runs the items of one turn as one batch, each caller getting its own result', async () => {
    const { b, runs, release } = recorder({ maxInFlight: 1, maxBatch: 100 });
    const out = Promise.all([1, 2, 3].map((i) => b.add(i)));
    await started(runs, 1);
    release();
    expect(await out).toEqual([10, 20, 30]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('splits at maxBatch and gathers what arrives while batches run', async () => {
    const { b, runs, release } = recorder({ maxInFlight: 1, maxBatch: 2 });
    const first = [1, 2, 3].map((i) => b.add(i));
    await started(runs, 1);
    // 1 and 2 are running; 3 waits, and 4 and 5 join it instead of starting batches of their own.
    const later = [4, 5].map((i) => b.add(i));
    await turn();
    expect(runs).toEqual([[1, 2]]);
    release();
    await started(runs, 2);
    release();
    await started(runs, 3);
    release();
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('runs at most maxInFlight batches at once', async () => {
    const { b, runs, release } = recorder({ maxInFlight: 2, maxBatch: 1 });
    const all = [1, 2, 3].map((i) => b.add(i));
    await started(runs, 2);
    await turn();
    expect(runs).toEqual([[1], [2]]);
    release();
    await started(runs, 3);
    expect(runs).toEqual([[1], [2], [3]]);
    release();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
  });

  it('rejects every caller of a failed batch, and later batches still run', async () => {
    let fail = true;
    const b = new TickBatcher<number, number>(
      async (items) => {
        if (fail) throw new Error('database down');
        return items;
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const failed = [1, 2].map((i) => b.add(i).catch((e: Error) => e.message));
    expect(await Promise.all(failed)).toEqual(['database down', 'database down']);
    fail = false;
    expect(await b.add(3)).toBe(3);
  });

  it('rejects a batch whose run answers the wrong number of results (a bug, not a silent undefined)', async () => {
    const b = new TickBatcher<number, number>(async () => [1], { maxInFlight: 1, maxBatch: 10 });
    const out = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(out.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });

  it('lingers during a burst, gathering items of separate turns; a lone item never waits', async () => {
    const runs: number[][] = [];
    const b = new TickBatcher<number, number>(
      async (items) => {
        runs.push(items);
        return items;
      },
      { maxInFlight: 2, maxBatch: 10, lingerMs: 300 },
    );
    // No burst yet: a lone item runs in the next turn. (A batcher that lingered on it would
    // hold this one for a minute, past the test's timeout.)
    const patient = new TickBatcher<number, number>(async (items) => items, {
      maxInFlight: 2,
      maxBatch: 10,
      lingerMs: 60_000,
    });
    expect(await patient.add(7)).toBe(7);
    expect(await b.add(1)).toBe(1);
    expect(runs).toEqual([[1]]);
    // A batch just started: items of the next turns wait for each other, up to the linger.
    const second = b.add(2);
    await turn();
    const third = b.add(3);
    await turn();
    expect(runs).toEqual([[1]]);
    expect(await Promise.all([second, third])).toEqual([2, 3]);
    expect(runs).toEqual([[1], [2, 3]]);
  });

  it('does not linger without the option: one batch per turn, as before', async () => {
    const { b, runs, release } = recorder({ maxInFlight: 2, maxBatch: 10 });
    const first = b.add(1);
    await started(runs, 1);
    const second = b.add(2);
    await started(runs, 2);
    expect(runs).toEqual([[1], [2]]);
    release();
    release();
    expect(await Promise.all([first, second])).toEqual([10, 20]);
  });

  it('settles once every item added so far has had its batch run, queued and failed ones included', async () => {
    const { b, runs, release } = recorder({ maxInFlight: 1, maxBatch: 2 });
    await b.settled(); // idle: at once
    const results = [1, 2, 3].map((i) => b.add(i));
    let settled = false;
    const done = b.settled().then(() => {
      settled = true;
    });
    await started(runs, 1);
    release(); // [1, 2] done; [3] starts
    await started(runs, 2);
    expect(settled).toBe(false);
    release();
    await done;
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
    const failing = new TickBatcher<number, number>(
      async () => {
        throw new Error('down');
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const lost = failing.add(1).catch((e: Error) => e.message);
    await failing.settled();
    expect(await lost).toBe('down');
  });
});
