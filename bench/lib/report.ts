/** Shared shapes of scenario results, formatting helpers, the progress log. */
import { loadavg } from 'node:os';

export interface Target {
  label: string;
  value: string;
  target: string;
  met: boolean | null;
  /** The ratio behind it disagreed by more than 2× between runs. */
  unreliable?: boolean;
}

export interface Bar {
  label: string;
  /** The median of the runs. */
  value: number;
  /** The spread of the runs (min–max), drawn as a whisker. */
  lo?: number;
  hi?: number;
}

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

export interface Chart {
  title: string;
  unit: string;
  bars?: Bar[];
  series?: Series[];
  xUnit?: string;
  logY?: boolean;
  /** A dashed horizontal line (a bound), with its label. */
  refY?: number;
  refLabel?: string;
}

export interface ScenarioResult {
  key: string;
  title: string;
  /** Markdown: what was run, then the tables. */
  markdown: string[];
  targets: Target[];
  charts: Chart[];
}

export interface Ctx {
  full: boolean;
  /** Absolute time (ms, `performance.now()`) by which the whole run must be over. */
  deadline: number;
  log: (scenario: string, msg: string) => void;
}

const T0 = performance.now();
export function progress(scenario: string, msg: string): void {
  const t = ((performance.now() - T0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${scenario.padEnd(9)} ${msg}\n`);
}

export const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
export const ms = (n: number): string =>
  Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : '–';
export const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';

/** A markdown table from a header row and rows of cells. */
export function table(head: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${head.join(' | ')} |`,
    `|${a.map((x) => (x === 'l' ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** Await `p`, logging a line every 5 s while it runs (long setup phases show progress too). */
export async function progressWhile<T>(p: Promise<T>, log: (m: string) => void, what: string): Promise<T> {
  const t0 = performance.now();
  const timer = setInterval(() => log(`… ${what} (${((performance.now() - t0) / 1000).toFixed(0)} s)`), 5000);
  try {
    return await p;
  } finally {
    clearInterval(timer);
  }
}
