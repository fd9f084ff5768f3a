/**
 * Work that arrives in one turn of the event loop, run as one batch: every caller of a turn
 * gets its own answer from ONE call of `run`, which is one statement where `run` is one. A
 * connect storm, a reconnect storm, a burst of REST calls are thousands of the same small
 * read in a few seconds; done one by one, their statements' building, their socket writes
 * to the database and their round trips were most of a connect's server CPU
 * (docs/benchmarks.md). While `maxInFlight` batches run, newer work waits and gathers, so the
 * batches grow with the load instead of the statements.
 *
 * For work that needs no order among its batches (reads, idempotent inserts): two batches may
 * run at once. A failed batch rejects each of its callers with the batch's error.
 */

export interface TickBatcherOptions {
  /** Batches running at once (each usually holds one database connection). */
  maxInFlight: number;
  /** Most items in one batch. */
  maxBatch: number;
  /**
   * During a burst (a batch started less than `BURST_MS` ago), wait this long for more items
   * before running a batch that is not full (default 0: one event-loop turn). Work that
   * arrives one item per turn — a connect storm's sockets each finish their handshake in a
   * turn of their own — otherwise goes out one statement each while batches are quick.
   * Nothing waits outside a burst: a lone item runs in the next turn.
   */
  lingerMs?: number;
}

/** A batch started within this many ms means a burst is on (see `lingerMs`). */
const BURST_MS = 50;

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export class TickBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** Callers of `settled` waiting for the batcher to go idle. */
  private idle: (() => void)[] = [];

  /** `run` answers one result per item, in the items' order. */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: TickBatcherOptions,
  ) {}

  /** The result of `item`, once its batch ran; rejects if the batch failed. */
  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Resolves once nothing is queued or running: every item added so far has had its batch
   * run (shutdown, tests). Callers that never await `add` need not keep its promises for this.
   */
  settled(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.pump();
    };
    const linger = this.opts.lingerMs ?? 0;
    if (linger > 0 && this.queue.length < this.opts.maxBatch && performance.now() - this.lastStart < BURST_MS)
      setTimeout(go, linger);
    // One turn of the event loop gathers every item that arrived with this one.
    else setImmediate(go);
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.lastStart = performance.now();
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
        if (this.queue.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    let out: O[];
    try {
      out = await this.run(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`batch of ${batch.length} answered ${out.length} results`);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(out[i] as O);
  }
}
