/**
 * A latency histogram with logarithmic buckets (2 % wide, from 10 µs to ~20 minutes), cheap
 * to record into and to merge across processes (arrays of counts are summed).
 */
const MIN_MS = 0.01;
const GROWTH = 1.02;
const LOG_G = Math.log(GROWTH);
export const BUCKETS = 1000;

export interface HistData {
  counts: number[];
  n: number;
  sum: number;
  max: number;
}

export class Hist {
  counts = new Uint32Array(BUCKETS);
  n = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    let i = Math.floor(Math.log(v / MIN_MS) / LOG_G);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  toJSON(): HistData {
    return { counts: Array.from(this.counts), n: this.n, sum: this.sum, max: this.max };
  }
}

export function merge(parts: HistData[]): HistData {
  const counts = new Array<number>(BUCKETS).fill(0);
  let n = 0;
  let sum = 0;
  let max = 0;
  for (const p of parts) {
    for (let i = 0; i < BUCKETS; i++) counts[i] = (counts[i] as number) + (p.counts[i] ?? 0);
    n += p.n;
    sum += p.sum;
    max = Math.max(max, p.max);
  }
  return { counts, n, sum, max };
}

/** The p-th percentile (0–100), as the upper edge of its bucket (≤ 2 % high). */
export function percentile(h: HistData, p: number): number {
  if (h.n === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * h.n);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i] as number;
    if (seen >= rank) return Math.min(h.max, MIN_MS * GROWTH ** (i + 1));
  }
  return h.max;
}

export function summary(h: HistData): { n: number; p50: number; p95: number; p99: number; max: number } {
  return { n: h.n, p50: percentile(h, 50), p95: percentile(h, 95), p99: percentile(h, 99), max: h.max };
}

/** Exact percentile of a small list of numbers. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** The clock shared by every process on this machine, in ms. */
export const now = (): number => performance.timeOrigin + performance.now();
