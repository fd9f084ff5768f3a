/**
 * Connection stability, from a real client to the admin's analytics: a client that comes back
 * says so on its connect (`reconnect=1`), reports how long its resync took, and the server
 * counts both, with the connected time, into Prometheus and the usage samples that
 * `GET /v1/analytics` reads. A first connect is no reconnect, and a report from one is ignored.
 */
import { describe, expect, it } from 'vitest';
import { sampleInstant, sampleUsage } from '../../server/src/features/analytics/usage.js';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'ada', name: 'ada' },
  { id: 'bob', name: 'bob' },
  { id: 'boss', name: 'boss', role: 'admin' },
]);

/** A Prometheus figure of the server (0 when it has no sample yet). */
async function figure(name: string): Promise<number> {
  const text = await bed.h.server.svc.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('connection stability', () => {
  it('counts a reconnect, its resync time and connected time, and shows them in analytics', async () => {
    const svc = bed.h.server.svc;
    const ada = await bed.connect('ada');
    const bob = await bed.connect('bob');
    const boss = await bed.connect('boss');
    const ch = ada.channel('group', 'steady');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    expect(await figure('parley_ws_reconnects_total')).toBe(0);
    // A first connect's report is not a resync: ignored, and answered.
    await ada.request('connection.resynced', { ms: 5 });
    expect(await figure('parley_resync_seconds_count')).toBe(0);
    // Bad figures are refused with the typed error, and change nothing.
    await expect(ada.request('connection.resynced', { ms: -1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(ada.request('connection.resynced', { ms: 600_001 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });

    // Ada's socket dies; while she is away Bob writes; she comes back, catches up and says so.
    ada.dropConnection();
    await bob.channel('group', 'steady').sendMessage({ text: 'while you were away' });
    await until(() => ada.lastResyncMs !== null, 15_000, 'ada resynced');
    // Sent while she was away or just after she came back: it is there either way.
    await until(() => ch.state?.messages.some((m) => m.text === 'while you were away'), 15_000, 'the message');
    await until(async () => (await figure('parley_resync_seconds_count')) === 1, 10_000, 'the report counted');
    expect(await figure('parley_ws_reconnects_total')).toBe(1);
    expect(await figure('parley_ws_connected_seconds_total')).toBeGreaterThan(0);
    // Only one report per connection counts.
    await ada.request('connection.resynced', { ms: 7 });
    expect(await figure('parley_resync_seconds_count')).toBe(1);

    await sampleUsage(svc, sampleInstant(Date.now(), 60));
    const today = new Date().toISOString().slice(0, 10);
    const r = await boss.admin.analytics({ from: today, to: today });
    const day = r.days[0];
    expect(day).toMatchObject({ reconnects: 1, resyncs: 1 });
    expect(day?.connection_hours).toBeGreaterThan(0);
    // One reconnect over the connection time (rounded to a hundredth per hour).
    expect((day?.reconnects_per_connection_hour ?? 0) * (day?.connection_hours ?? 0)).toBeCloseTo(1, 2);
    expect(day?.resync_ms_avg).toBe(Math.round(ada.lastResyncMs ?? -1));
    expect(day?.resync_ms_max).toBe(day?.resync_ms_avg);
    // Another sample adds only what happened since: nothing more.
    await sampleUsage(svc, sampleInstant(Date.now(), 60));
    const again = await boss.admin.analytics({ from: today, to: today });
    expect(again.days[0]).toMatchObject({ reconnects: 1, resyncs: 1 });
    expect(again.days[0]?.connection_hours).toBeGreaterThanOrEqual(day?.connection_hours ?? 0);
  });
});
