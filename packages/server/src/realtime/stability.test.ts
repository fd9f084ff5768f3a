import { describe, expect, it } from 'vitest';
import { createMetrics } from '../platform/metrics.js';
import { StabilityMeter } from './stability.js';

function meter() {
  let now = 1_000_000;
  const metrics = createMetrics('test');
  const m = new StabilityMeter(() => now, metrics);
  return { m, metrics, tick: (ms: number) => (now += ms) };
}

describe('StabilityMeter', () => {
  it('integrates connected time exactly over opens and closes, per app', () => {
    const { m, tick } = meter();
    m.opened('a', false);
    tick(1000);
    m.opened('a', true); // two open for the next 500 ms
    m.opened('b', false);
    tick(500);
    m.closed('a');
    tick(250);
    const t = m.take();
    // a: 1000 × 1 + 500 × 2 + 250 × 1; b: 750 × 1.
    expect(t.get('a')).toEqual({ connectedMs: 2250, reconnects: 1, resyncs: 0, resyncMs: 0, resyncMaxMs: 0 });
    expect(t.get('b')?.connectedMs).toBe(750);
  });

  it('starts a new period at each take, and forgets an app with nothing open and nothing to say', () => {
    const { m, tick } = meter();
    m.opened('a', true);
    m.resynced('a', 120);
    m.resynced('a', 80);
    tick(100);
    expect(m.take().get('a')).toEqual({ connectedMs: 100, reconnects: 1, resyncs: 2, resyncMs: 200, resyncMaxMs: 120 });
    tick(50);
    m.closed('a');
    expect(m.take().get('a')).toEqual({ connectedMs: 50, reconnects: 0, resyncs: 0, resyncMs: 0, resyncMaxMs: 0 });
    tick(1000);
    expect(m.take().size).toBe(0);
    // A close with nothing open (a socket opened before a restart of the meter) does not go negative.
    m.closed('a');
    tick(10);
    expect(m.take().size).toBe(0);
  });

  it('feeds Prometheus as it goes', async () => {
    const { m, metrics, tick } = meter();
    m.opened('a', true);
    tick(2000);
    m.resynced('a', 300);
    m.closed('a');
    expect((await metrics.reconnects.get()).values[0]?.value).toBe(1);
    expect((await metrics.connectedSeconds.get()).values[0]?.value).toBe(2);
    const count = (await metrics.resyncSeconds.get()).values.find(
      (v) => v.metricName === 'parley_resync_seconds_count',
    );
    expect(count?.value).toBe(1);
  });
});
