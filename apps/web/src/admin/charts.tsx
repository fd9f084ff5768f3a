/**
 * Small hand-rolled SVG charts for the admin console: a bar chart of one value per day, with
 * its axis maximum, first and last day labelled, and a title per bar (the exact value on
 * hover). No chart library: a few dozen bars need none.
 */
export interface Point {
  day: string;
  value: number;
}

const W = 560;
const H = 140;
const PAD = { top: 10, right: 8, bottom: 20, left: 36 };

/** A round axis maximum at or above `max` (1, 2, 5 × 10^n). */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function BarChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const top = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = points.length ? innerW / points.length : innerW;
  const bar = Math.max(1, slot * 0.7);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const first = points[0]?.day;
  const last = points[points.length - 1]?.day;
  const total = points.reduce((n, p) => n + p.value, 0);
  return (
    <figure className="app-chart" data-testid={`chart-${title.toLowerCase().replace(/\W+/g, '-')}`}>
      <figcaption className="app-chart__title">{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${points.length} days, largest ${top}`}>
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} className="app-chart__axis" />
        <line x1={PAD.left} x2={W - PAD.right} y1={y(top)} y2={y(top)} className="app-chart__grid" />
        <text x={PAD.left - 4} y={y(top) + 4} textAnchor="end" className="app-chart__label">
          {top}
        </text>
        <text x={PAD.left - 4} y={y(0)} textAnchor="end" className="app-chart__label">
          0
        </text>
        {points.map((p, i) => (
          <rect
            key={p.day}
            x={PAD.left + i * slot + (slot - bar) / 2}
            y={y(p.value)}
            width={bar}
            height={Math.max(0, y(0) - y(p.value))}
            className="app-chart__bar"
            data-value={p.value}
          >
            <title>{`${p.day}: ${p.value}${unit}`}</title>
          </rect>
        ))}
        {first ? (
          <text x={PAD.left} y={H - 4} className="app-chart__label">
            {first}
          </text>
        ) : null}
        {last && last !== first ? (
          <text x={W - PAD.right} y={H - 4} textAnchor="end" className="app-chart__label">
            {last}
          </text>
        ) : null}
      </svg>
      <span className="app-muted app-chart__total">
        {points.length} days · total {total}
        {unit}
      </span>
    </figure>
  );
}
