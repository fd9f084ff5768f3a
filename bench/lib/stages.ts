import type { Registry } from 'prom-client';

/**
 * Where sends spent their time, from the server's own metrics: mean ms per stage
 * (platform/metrics.ts, `parley_send_stage_seconds`) and the mean batch size, since the
 * registry was last reset; and how many sends were checked against cached rows, against rows read
 * for them, or found stale by the write (`parley_send_access_rows_total`).
 */
export async function stageMeans(registry: Registry): Promise<string> {
  const out: string[] = [];
  const rows: string[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    if (m.name === 'parley_send_access_rows_total') {
      for (const v of m.values) rows.push(`${v.labels.rows} ${v.value}`);
      continue;
    }
    if (m.name !== 'parley_send_stage_seconds' && m.name !== 'parley_send_batch_size') continue;
    const vals = m.values as { metricName?: string; labels: Record<string, string | number>; value: number }[];
    const sums = new Map<string, number>();
    const counts = new Map<string, number>();
    const buckets = new Map<string, [number, number][]>();
    for (const v of vals) {
      const key = String(v.labels.stage ?? 'batch size');
      if (v.metricName?.endsWith('_sum')) sums.set(key, v.value);
      if (v.metricName?.endsWith('_count')) counts.set(key, v.value);
      if (v.metricName?.endsWith('_bucket'))
        buckets.set(key, [...(buckets.get(key) ?? []), [Number(v.labels.le), v.value]]);
    }
    for (const [key, sum] of sums) {
      const n = counts.get(key) ?? 0;
      const mean = n ? sum / n : Number.NaN;
      // The histogram's bucket that holds the 99th percentile: an upper bound of it.
      const p99 = (buckets.get(key) ?? []).sort((a, b) => a[0] - b[0]).find(([, c]) => c >= 0.99 * n)?.[0];
      const tail = p99 === undefined ? '' : ` (p99 ≤ ${key === 'batch size' ? p99 : p99 * 1000})`;
      out.push(key === 'batch size' ? `batch ${mean.toFixed(1)}${tail}` : `${key} ${(mean * 1000).toFixed(2)}${tail}`);
    }
  }
  const counted = rows.length ? `; rows: ${rows.join(', ')}` : '';
  return `mean ms per stage (p99 bucket): ${out.join(', ')}${counted}`;
}
