/**
 * Repeated, interleaved runs and what the report says about them. A scenario runs its servers
 * in turn (A, B, C, A, B, C, …) `repeat` times; each run gives one number per metric. The
 * report prints, per server, the median and the spread (min–max) of every metric, and for
 * each ratio (Parley vs a peer) the ratios of the runs made side by side (run i of Parley over
 * run i of the peer), their median and spread: a ratio whose runs disagree by more than 2×
 * (max / min > 2) is marked unreliable.
 */
import { fmt, ms, table } from './report.js';
import { type Kind, NAMES } from './setup.js';

export const UNRELIABLE = 2;

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function spread(xs: number[]): { min: number; max: number } {
  const s = xs.filter(Number.isFinite);
  return s.length ? { min: Math.min(...s), max: Math.max(...s) } : { min: Number.NaN, max: Number.NaN };
}

export interface Metric {
  key: string;
  label: string;
  /** How a value prints (default: thousands with no decimals). */
  format?: (n: number) => string;
  /** Also print Parley / peer for this metric. */
  ratio?: boolean;
}

export const f0 = (n: number) => fmt(n);
export const f1 = (n: number) => fmt(n, 1);
export const f2 = (n: number) => fmt(n, 2);
export const fms = (n: number) => ms(n);

/**
 * The runs of one scenario: per server (or per variant of one server, named by `names`), one
 * record of metrics per repetition.
 */
export class Runs<K extends string = Kind> {
  readonly by = new Map<K, (Record<string, number> | null)[]>();
  readonly notes: string[] = [];

  constructor(
    readonly servers: K[],
    private readonly names: Record<K, string> = NAMES as Record<K, string>,
  ) {
    for (const k of servers) this.by.set(k, []);
  }

  /** Record run `rep` of `kind` (null: it failed). */
  add(kind: K, rep: number, m: Record<string, number> | null): void {
    const list = this.by.get(kind) ?? [];
    list[rep] = m;
    this.by.set(kind, list);
  }

  values(kind: K, key: string): number[] {
    return (this.by.get(kind) ?? []).map((m) => m?.[key] ?? Number.NaN).filter(Number.isFinite);
  }

  med(kind: K, key: string): number {
    return median(this.values(kind, key));
  }

  /** Parley's run i over the peer's run i, for every i where both have a value. */
  ratios(a: K, b: K, key: string): number[] {
    const ra = this.by.get(a) ?? [];
    const rb = this.by.get(b) ?? [];
    const out: number[] = [];
    for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
      const x = ra[i]?.[key];
      const y = rb[i]?.[key];
      if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && y !== 0) out.push(x / y);
    }
    return out;
  }

  ratio(a: K, b: K, key: string): { med: number; min: number; max: number; n: number; unreliable: boolean } {
    const r = this.ratios(a, b, key);
    const s = spread(r);
    return { med: median(r), ...s, n: r.length, unreliable: r.length > 0 && s.min > 0 && s.max / s.min > UNRELIABLE };
  }

  /** "median (min–max)" of a metric for a server, or – when it has no run. */
  cell(kind: K, m: Metric): string {
    const v = this.values(kind, m.key);
    const f = m.format ?? f0;
    if (v.length === 0) return '–';
    const s = spread(v);
    return v.length === 1 || s.min === s.max ? f(median(v)) : `${f(median(v))} (${f(s.min)}–${f(s.max)})`;
  }

  ratioCell(a: K, b: K, key: string): string {
    const r = this.ratio(a, b, key);
    if (r.n === 0) return '–';
    const x = (n: number) => `${n.toFixed(2)}×`;
    const body = r.n === 1 || r.min === r.max ? x(r.med) : `${x(r.med)} (${x(r.min)}–${x(r.max)})`;
    return r.unreliable ? `${body} **unreliable**` : body;
  }

  /** Medians and spreads: one row per metric, one column per server. */
  table(metrics: Metric[]): string {
    return table(
      ['', ...this.servers.map((k) => this.names[k])],
      metrics.map((m) => [m.label, ...this.servers.map((k) => this.cell(k, m))]),
    );
  }

  /** Ratios of Parley to each peer, for the metrics marked `ratio`. */
  ratioTable(metrics: Metric[], base: K = 'parley' as K): string {
    const peers = this.servers.filter((k) => k !== base);
    const rows = metrics
      .filter((m) => m.ratio)
      .map((m) => [`${m.label}: ${this.names[base]} / peer`, ...peers.map((p) => this.ratioCell(base, p, m.key))]);
    return rows.length ? table(['', ...peers.map((k) => this.names[k])], rows) : '';
  }

  /** Every run, in the order they ran. */
  runTable(metrics: Metric[]): string {
    const rows: string[][] = [];
    const n = Math.max(0, ...[...this.by.values()].map((l) => l.length));
    for (let i = 0; i < n; i++)
      for (const k of this.servers) {
        const m = this.by.get(k)?.[i];
        rows.push([
          `${i + 1}`,
          this.names[k],
          ...metrics.map((x) => (m && Number.isFinite(m[x.key]) ? (x.format ?? f0)(m[x.key] as number) : '–')),
        ]);
      }
    return table(['run', 'server', ...metrics.map((m) => m.label)], rows);
  }

  /** A bar per server: the median, with the spread as a whisker. */
  bars(key: string): { label: string; value: number; lo: number; hi: number }[] {
    return this.servers
      .filter((k) => this.values(k, key).length)
      .map((k) => {
        const s = spread(this.values(k, key));
        return { label: this.names[k], value: this.med(k, key), lo: s.min, hi: s.max };
      });
  }
}

/** A target judged on a median ratio: met, not met, or unreliable (its runs disagree > 2×). */
export function ratioTarget(
  runs: Runs,
  label: string,
  peer: Kind,
  key: string,
  goal: number,
  higherIsBetter: boolean,
): { label: string; value: string; target: string; met: boolean | null; unreliable?: boolean } {
  const r = runs.ratio('parley', peer, key);
  if (r.n === 0) return { label, value: 'not measured', target: `${higherIsBetter ? '≥' : '≤'} ${goal}×`, met: null };
  return {
    label,
    value: runs.ratioCell('parley', peer, key),
    target: `${higherIsBetter ? '≥' : '≤'} ${goal.toFixed(2)}×`,
    met: higherIsBetter ? r.med >= goal : r.med <= goal,
    unreliable: r.unreliable,
  };
}
