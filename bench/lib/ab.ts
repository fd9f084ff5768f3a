/**
 * The pure part of bench/ab.ts: the order of the runs, the figures read from a scenario's
 * markdown report, and the side-by-side table of two commits. Kept apart from the script so a
 * unit test can check it without git, npm or a server.
 */
import { median, spread, UNRELIABLE } from './stats.js';

/** One side of the comparison. */
export type Side = 'A' | 'B';

/**
 * The runs of one scenario, A, B, A, B, …: run i of A and run i of B are made one after the
 * other, so a burst of other work on the machine lands on one pair, and a drift over the whole
 * call (a machine slowing down) moves both sides alike.
 */
export function interleave(runs: number): { side: Side; run: number }[] {
  const out: { side: Side; run: number }[] = [];
  for (let run = 0; run < runs; run++) out.push({ side: 'A', run }, { side: 'B', run });
  return out;
}

/**
 * A figure of a report cell: `1,234`, `72.0`, `0.98×`, `12.5 %`, or the median of
 * `72.0 (10.2–95.7)`; NaN for anything else (`–`, `**yes**`, a name).
 */
export function cellNumber(cell: string): number {
  const head = cell
    .trim()
    .replace(/\*\*/g, '')
    .replace(/\s*\(.*\)\s*$/, '');
  const m = /^([-+]?[\d,]*\.?\d+)\s*(?:×|%|ms|s)?$/.exec(head.trim());
  return m ? Number((m[1] as string).replace(/,/g, '')) : Number.NaN;
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

/**
 * Every figure of a markdown report, by name: `<section> · <row label> · <column>`, where the
 * section is the nearest `##`/`###` heading above the table and the row label is the row's
 * cells that are not figures. A table of every run (`| run | …`) and the targets table are
 * left out: they repeat the medians. A name met twice keeps its first figure.
 */
export function readReport(markdown: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = markdown.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const h = /^#{2,3}\s+(.*)$/.exec(line);
    if (h) {
      section = (h[1] as string).trim();
      continue;
    }
    // A table: a header row, then a separator row of dashes.
    if (!line.trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? '')) continue;
    const head = splitRow(line);
    let j = i + 2;
    const skip = section === 'Targets' || /^run$/i.test(head[0] ?? '');
    for (; j < lines.length && (lines[j] as string).trim().startsWith('|'); j++) {
      if (skip) continue;
      const cells = splitRow(lines[j] as string);
      const labels = cells
        .filter((c, k) => k === 0 || Number.isNaN(cellNumber(c)))
        .filter((c) => c !== '' && c !== '–');
      const label = labels.join(' ');
      cells.forEach((c, k) => {
        const n = cellNumber(c);
        if (k === 0 || Number.isNaN(n)) return;
        const name = [section, label, head[k] ?? `column ${k + 1}`].filter(Boolean).join(' · ');
        if (!out.has(name)) out.set(name, n);
      });
    }
    i = j - 1;
  }
  return out;
}

/** One measure of the comparison: each side's runs, and the ratios B/A of the pairs. */
export interface Compared {
  measure: string;
  a: number[];
  b: number[];
  /** B/A per pair (run i of B over run i of A), for the pairs where both have a figure. */
  ratios: number[];
}

/** Per measure, the figures of each side's runs (index = run), in the order the measures first appeared. */
export function compare(a: Map<string, number>[], b: Map<string, number>[]): Compared[] {
  const names: string[] = [];
  for (const m of [...a, ...b]) for (const k of m.keys()) if (!names.includes(k)) names.push(k);
  return names.map((measure) => {
    const ra = a.map((m) => m.get(measure) ?? Number.NaN);
    const rb = b.map((m) => m.get(measure) ?? Number.NaN);
    const ratios: number[] = [];
    for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
      const x = ra[i] as number;
      const y = rb[i] as number;
      if (Number.isFinite(x) && Number.isFinite(y) && x !== 0) ratios.push(y / x);
    }
    return { measure, a: ra.filter(Number.isFinite), b: rb.filter(Number.isFinite), ratios };
  });
}

const num = (n: number) =>
  Number.isFinite(n)
    ? Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : n.toFixed(2)
    : '–';

/** "median (min–max)", or the one figure, or – with no run. */
export function medianCell(xs: number[]): string {
  if (xs.length === 0) return '–';
  const s = spread(xs);
  return xs.length === 1 || s.min === s.max ? num(median(xs)) : `${num(median(xs))} (${num(s.min)}–${num(s.max)})`;
}

/** The median of the pairs' B/A with their spread; marked when the pairs disagree by more than 2×. */
export function ratioCell(ratios: number[]): string {
  if (ratios.length === 0) return '–';
  const s = spread(ratios);
  const x = (n: number) => `${n.toFixed(2)}×`;
  const body =
    ratios.length === 1 || s.min === s.max ? x(median(ratios)) : `${x(median(ratios))} (${x(s.min)}–${x(s.max)})`;
  return s.min > 0 && s.max / s.min > UNRELIABLE ? `${body} **unreliable**` : body;
}

/** The side-by-side table: one row per measure. */
export function abTable(rows: Compared[], nameA: string, nameB: string): string {
  return [
    `| measure | A ${nameA} | B ${nameB} | B/A |`,
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.measure} | ${medianCell(r.a)} | ${medianCell(r.b)} | ${ratioCell(r.ratios)} |`),
  ].join('\n');
}
