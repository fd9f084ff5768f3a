/** A hand-written SVG: one panel per chart, bars or lines, no dependencies. */
import type { Chart } from './report.js';

const W = 520;
const H = 300;
const PAD = { l: 70, r: 20, t: 34, b: 70 };
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function nice(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function short(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  if (n >= 10 || n === 0) return n.toFixed(0);
  return n.toFixed(n >= 1 ? 1 : 2);
}

function panel(c: Chart, x0: number, y0: number): string {
  const out: string[] = [];
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const ox = x0 + PAD.l;
  const oy = y0 + PAD.t;
  out.push(`<rect x="${x0 + 4}" y="${y0 + 4}" width="${W - 8}" height="${H - 8}" fill="#fff" stroke="#ddd"/>`);
  out.push(
    `<text x="${x0 + W / 2}" y="${y0 + 22}" text-anchor="middle" font-size="13" font-weight="bold">${esc(c.title)}</text>`,
  );
  if (c.bars) {
    const bars = c.bars.filter((b) => Number.isFinite(b.value));
    const max = nice(1.08 * Math.max(0, ...bars.map((b) => (Number.isFinite(b.hi) ? (b.hi as number) : b.value))));
    for (let i = 0; i <= 4; i++) {
      const y = oy + ih - (ih * i) / 4;
      out.push(`<line x1="${ox}" x2="${ox + iw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
      out.push(`<text x="${ox - 6}" y="${y + 4}" text-anchor="end" font-size="10">${short((max * i) / 4)}</text>`);
    }
    const bw = iw / Math.max(1, bars.length);
    bars.forEach((b, i) => {
      const h = max ? (ih * b.value) / max : 0;
      const x = ox + i * bw + bw * 0.15;
      out.push(
        `<rect x="${x}" y="${oy + ih - h}" width="${bw * 0.7}" height="${h}" fill="${COLORS[i % COLORS.length]}"/>`,
      );
      // The spread of the runs: a whisker from min to max.
      let top = oy + ih - h;
      if (max && Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
        const yl = oy + ih - (ih * (b.lo as number)) / max;
        const yh = oy + ih - (ih * (b.hi as number)) / max;
        const cx = x + bw * 0.35;
        out.push(`<line x1="${cx}" x2="${cx}" y1="${yl}" y2="${yh}" stroke="#111" stroke-width="1.5"/>`);
        out.push(`<line x1="${cx - 6}" x2="${cx + 6}" y1="${yl}" y2="${yl}" stroke="#111" stroke-width="1.5"/>`);
        out.push(`<line x1="${cx - 6}" x2="${cx + 6}" y1="${yh}" y2="${yh}" stroke="#111" stroke-width="1.5"/>`);
        top = Math.min(top, yh);
      }
      out.push(
        `<text x="${x + bw * 0.35}" y="${top - 4}" text-anchor="middle" font-size="10">${short(b.value)}</text>`,
      );
      out.push(
        `<text x="${x + bw * 0.35}" y="${oy + ih + 14}" text-anchor="middle" font-size="10">${esc(b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label)}</text>`,
      );
    });
    out.push(
      `<text x="${x0 + 14}" y="${oy + ih / 2}" font-size="10" transform="rotate(-90 ${x0 + 14} ${oy + ih / 2})" text-anchor="middle">${esc(c.unit)}</text>`,
    );
  } else if (c.series) {
    const pts = c.series
      .flatMap((s) => s.points)
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
    const maxX = nice(Math.max(1, ...pts.map((p) => p.x)));
    const minY = c.logY ? 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...pts.map((p) => p.y), 1)))) : 0;
    const maxY = c.logY
      ? 10 ** Math.ceil(Math.log10(Math.max(minY * 10, ...pts.map((p) => p.y))))
      : nice(Math.max(1, ...pts.map((p) => p.y)));
    const sx = (x: number) => ox + (iw * x) / maxX;
    const sy = (y: number) =>
      c.logY
        ? oy + ih - (ih * (Math.log10(Math.max(y, minY)) - Math.log10(minY))) / (Math.log10(maxY) - Math.log10(minY))
        : oy + ih - (ih * y) / maxY;
    const yTicks = c.logY
      ? Array.from({ length: Math.round(Math.log10(maxY / minY)) + 1 }, (_, i) => minY * 10 ** i)
      : [0, 1, 2, 3, 4].map((i) => (maxY * i) / 4);
    for (const t of yTicks) {
      out.push(`<line x1="${ox}" x2="${ox + iw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
      out.push(`<text x="${ox - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${short(t)}</text>`);
    }
    for (let i = 0; i <= 4; i++) {
      const x = (maxX * i) / 4;
      out.push(`<text x="${sx(x)}" y="${oy + ih + 14}" text-anchor="middle" font-size="10">${short(x)}</text>`);
    }
    out.push(
      `<text x="${ox + iw / 2}" y="${oy + ih + 30}" text-anchor="middle" font-size="10">${esc(c.xUnit ?? '')}</text>`,
    );
    out.push(
      `<text x="${x0 + 14}" y="${oy + ih / 2}" font-size="10" transform="rotate(-90 ${x0 + 14} ${oy + ih / 2})" text-anchor="middle">${esc(c.unit)}${c.logY ? ' (log)' : ''}</text>`,
    );
    if (c.refY !== undefined && c.refY >= minY && c.refY <= maxY) {
      out.push(
        `<line x1="${ox}" x2="${ox + iw}" y1="${sy(c.refY)}" y2="${sy(c.refY)}" stroke="#999" stroke-dasharray="5,4"/>`,
      );
      out.push(
        `<text x="${ox + iw - 4}" y="${sy(c.refY) - 4}" text-anchor="end" font-size="10" fill="#666">${esc(c.refLabel ?? '')}</text>`,
      );
    }
    c.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
      if (ps.length) {
        out.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2" points="${ps.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`,
        );
        for (const p of ps)
          out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
      }
      out.push(`<rect x="${ox + i * 150}" y="${y0 + H - 22}" width="10" height="10" fill="${color}"/>`);
      out.push(`<text x="${ox + i * 150 + 14}" y="${y0 + H - 13}" font-size="10">${esc(s.label)}</text>`);
    });
  }
  out.push(`<line x1="${ox}" x2="${ox}" y1="${oy}" y2="${oy + ih}" stroke="#888"/>`);
  out.push(`<line x1="${ox}" x2="${ox + iw}" y1="${oy + ih}" y2="${oy + ih}" stroke="#888"/>`);
  return out.join('\n');
}

export function renderSvg(title: string, charts: Chart[]): string {
  const cols = 2;
  const rows = Math.max(1, Math.ceil(charts.length / cols));
  const width = cols * W;
  const height = rows * H + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    ...charts.map((c, i) => panel(c, (i % cols) * W, 40 + Math.floor(i / cols) * H)),
    '</svg>',
    '',
  ].join('\n');
}
