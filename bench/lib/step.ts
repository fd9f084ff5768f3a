/** One measured load step: open-loop sending at a rate, then wait for the deliveries. */

import path from 'node:path';
import type { Generators, GenReport } from './generators.js';
import { summary } from './hist.js';
import { type Child, machineCpu, procStats, type TcpCounters, tcpCounters } from './proc.js';
import { sleep } from './report.js';

export interface StepResult {
  step: number;
  rate: number;
  durationMs: number;
  sent: number;
  expected: number;
  delivered: number;
  /** Deliveries per second over the sending window. */
  perSecond: number;
  fraction: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Send → reply of the sender (parley: includes the commit). */
  ackP50: number;
  ackP99: number;
  ackErrors: Record<string, number>;
  /** Server CPU (all nodes) per delivery, µs. */
  cpuUsPerDelivery: number;
  /**
   * The CPU of every PostgreSQL process of the machine per delivery, µs (the server's commits,
   * its reads, and the cluster's own background work; about 0 for a server without a database).
   */
  pgUsPerDelivery: number;
  /** Server CPU use over the step, in cores. */
  serverCores: number;
  /** Generator CPU use over the step, in cores (a saturated generator makes numbers its own). */
  genCores: number;
  frameBytes: number;
  unexpectedCloses: number;
  /** The load generators' longest event-loop stall over the step, ms (every delivery it held shows that much later). */
  genStallMs: number;
  /** SQL statements per message acknowledged in the window (Parley), when counted. */
  queriesPerMessage: number;
  /** The machine's TCP counters over the step (`TcpCounters`). */
  tcp: TcpCounters;
}

const cpuOf = (pids: number[]) =>
  pids.reduce((a, pid) => {
    try {
      return a + procStats(pid).cpuMs;
    } catch {
      return a;
    }
  }, 0);

export async function runStep(a: {
  receivers: Generators;
  senders: Generators;
  serverPids: number[];
  step: number;
  rate: number;
  durationMs: number;
  drainMs: number;
  textBytes: number;
  from: 'first' | 'all';
  /** Deliveries each message should make. */
  fanout: number;
  /** Reads the server's SQL statement counter (Parley nodes). */
  queries?: () => Promise<number>;
  /** With BENCH_PROFILE_DIR: CPU-profile the server over the step (Parley nodes). */
  profile?: { child: Child; name: string };
}): Promise<StepResult> {
  const same = a.receivers === a.senders;
  await Promise.all([a.receivers.measure(a.step), same ? null : a.senders.measure(a.step)]);
  const q0 = a.queries ? await a.queries() : 0;
  const profDir = process.env.BENCH_PROFILE_DIR;
  if (profDir && a.profile) await a.profile.child.call('profileStart');
  const cpu0 = cpuOf(a.serverPids);
  const pg0 = machineCpu([]).postgres;
  const tcp0 = tcpCounters();
  const g0 = a.receivers.cpuMs() + (same ? 0 : a.senders.cpuMs());
  const t0 = performance.now();
  const sent = await a.senders.send({
    step: a.step,
    rate: a.rate,
    durationMs: a.durationMs,
    textBytes: a.textBytes,
    from: a.from,
  });
  const expected = sent.sent * a.fanout;
  const drainUntil = performance.now() + a.drainMs;
  let r: GenReport = await a.receivers.report();
  while (r.deliveries < expected && performance.now() < drainUntil) {
    await sleep(200);
    r = await a.receivers.report();
  }
  const elapsed = performance.now() - t0;
  const cpu1 = cpuOf(a.serverPids);
  const pg1 = machineCpu([]).postgres;
  const tcp1 = tcpCounters();
  const q1 = a.queries ? await a.queries() : 0;
  if (profDir && a.profile)
    await a.profile.child.call('profileStop', { file: path.resolve(profDir, `${a.profile.name}.cpuprofile`) });
  const g1 = a.receivers.cpuMs() + (same ? 0 : a.senders.cpuMs());
  const acks = same ? r : await a.senders.report();
  const h = summary(r.hist);
  const ah = summary(acks.ackHist);
  return {
    step: a.step,
    rate: a.rate,
    durationMs: a.durationMs,
    sent: sent.sent,
    expected,
    delivered: r.deliveries,
    perSecond: r.deliveries / (a.durationMs / 1000),
    fraction: expected ? r.deliveries / expected : 0,
    p50: h.p50,
    p95: h.p95,
    p99: h.p99,
    max: h.max,
    ackP50: ah.p50,
    ackP99: ah.p99,
    ackErrors: acks.ackErrors,
    cpuUsPerDelivery: r.deliveries ? ((cpu1 - cpu0) * 1000) / r.deliveries : Number.NaN,
    pgUsPerDelivery: r.deliveries ? ((pg1 - pg0) * 1000) / r.deliveries : Number.NaN,
    serverCores: (cpu1 - cpu0) / elapsed,
    genCores: (g1 - g0) / elapsed,
    frameBytes: r.frameBytes,
    unexpectedCloses: r.unexpectedCloses,
    genStallMs: r.stallMs,
    // Per message committed in the window (acks), so a backlog does not dilute it.
    queriesPerMessage: a.queries && acks.acksOk ? (q1 - q0) / acks.acksOk : Number.NaN,
    tcp: {
      retransmits: tcp1.retransmits - tcp0.retransmits,
      probes: tcp1.probes - tcp0.probes,
      timeouts: tcp1.timeouts - tcp0.timeouts,
    },
  };
}
