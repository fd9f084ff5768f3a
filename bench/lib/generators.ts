/** The orchestrator's handle on a group of load generator processes (bench/lib/gen.ts). */
import type { ClientSpec, Target } from './gen.js';
import { type HistData, merge } from './hist.js';
import { type Child, procStats, spawnChild } from './proc.js';

export interface GenReport {
  hist: HistData;
  ackHist: HistData;
  deliveries: number;
  otherStep: number;
  frameBytes: number;
  frames: number;
  bytes: number;
  acksOk: number;
  acksErr: number;
  ackErrors: Record<string, number>;
  unexpectedCloses: number;
  open: number;
  /** The longest event-loop stall of any generator process since `measure`, ms. */
  stallMs: number;
}

export class Generators {
  private constructor(readonly procs: Child[]) {}

  static async start(name: string, n: number): Promise<Generators> {
    const procs = await Promise.all(
      Array.from(
        { length: n },
        async (_, i) => (await spawnChild(`${name}-${i + 1}`, 'lib/gen.ts', { heapMb: 2048 })).child,
      ),
    );
    return new Generators(procs);
  }

  private all<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T[]> {
    return Promise.all(this.procs.map((p) => p.call<T>(cmd, args, timeoutMs)));
  }

  init(target: Target) {
    return this.all('init', target);
  }

  /**
   * Parley: mint the tokens of these clients' users, each in the process `connect` will deal it
   * to, so a timed window that starts after this holds no token minting (gen.ts, `tokens`).
   */
  async tokens(specs: ClientSpec[]) {
    const per = Math.ceil(specs.length / this.procs.length);
    await Promise.all(
      this.procs.map((p, i) =>
        p.call('tokens', { users: specs.slice(i * per, (i + 1) * per).map((s) => s.user) }, 120_000),
      ),
    );
  }

  /** Open clients, dealt out over the processes in contiguous slices. */
  async connect(specs: ClientSpec[], opts: { concurrency?: number; timeoutMs?: number } = {}) {
    const n = this.procs.length;
    const per = Math.ceil(specs.length / n);
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const rs = await Promise.all(
      this.procs.map((p, i) =>
        p.call<{ ok: number; failed: number; ms: number; errors: Record<string, number>; hist: HistData }>(
          'connect',
          { specs: specs.slice(i * per, (i + 1) * per), concurrency: opts.concurrency ?? 100, timeoutMs },
          timeoutMs + 10_000,
        ),
      ),
    );
    const errors: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    return {
      ok: rs.reduce((a, r) => a + r.ok, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...rs.map((r) => r.ms)),
      errors,
      /** Each ready client's connect time (ms), merged over the processes. */
      hist: merge(rs.map((r) => r.hist)),
    };
  }

  measure(step: number, track?: boolean) {
    return this.all('measure', { step, ...(track === undefined ? {} : { track }) });
  }

  async report(): Promise<GenReport> {
    const rs = await this.all<GenReport>('report');
    const sum = (f: (r: GenReport) => number) => rs.reduce((a, r) => a + f(r), 0);
    const ackErrors: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.ackErrors)) ackErrors[k] = (ackErrors[k] ?? 0) + v;
    const deliveries = sum((r) => r.deliveries);
    return {
      hist: merge(rs.map((r) => r.hist)),
      ackHist: merge(rs.map((r) => r.ackHist)),
      deliveries,
      otherStep: sum((r) => r.otherStep),
      frameBytes: deliveries ? sum((r) => r.frameBytes * r.deliveries) / deliveries : 0,
      frames: sum((r) => r.frames),
      bytes: sum((r) => r.bytes),
      acksOk: sum((r) => r.acksOk),
      acksErr: sum((r) => r.acksErr),
      ackErrors,
      unexpectedCloses: sum((r) => r.unexpectedCloses),
      open: sum((r) => r.open),
      stallMs: Math.max(...rs.map((r) => r.stallMs)),
    };
  }

  /** Every process sends `rate / processes` msg/s from its own clients. */
  async send(a: {
    step: number;
    rate: number;
    durationMs: number;
    textBytes: number;
    from: 'first' | 'all';
    room?: number;
  }) {
    const per = { ...a, rate: a.rate / this.procs.length };
    const rs = await this.all<{ sent: number; skipped: number; due: number }>('send', per, a.durationMs + 30_000);
    return { sent: rs.reduce((x, r) => x + r.sent, 0), skipped: rs.reduce((x, r) => x + r.skipped, 0) };
  }

  stopSend() {
    return this.all('stopSend');
  }

  async storm(a: {
    minDelayMs: number;
    maxDelayMs: number;
    timeoutMs: number;
    resync: boolean;
    attemptTimeoutMs?: number;
  }) {
    const rs = await this.all<{
      done: number[];
      failed: number;
      attempts: number;
      hinted: number;
      hints: HistData;
      failures: Record<string, number>;
      reloads: number;
      watchErrors: number;
      ms: number;
    }>('storm', a, a.timeoutMs + 20_000);
    return {
      done: rs.flatMap((r) => r.done),
      failed: rs.reduce((x, r) => x + r.failed, 0),
      attempts: rs.reduce((x, r) => x + r.attempts, 0),
      /** Attempts refused by admission control (4006 with a retry hint), waited out as told. */
      hinted: rs.reduce((x, r) => x + r.hinted, 0),
      /** The retry hints (ms) those refusals carried. */
      hints: merge(rs.map((r) => r.hints)),
      /** Attempts that failed otherwise (a timeout, a close), by message. */
      failures: rs.reduce<Record<string, number>>((x, r) => {
        for (const [k, v] of Object.entries(r.failures)) x[k] = (x[k] ?? 0) + v;
        return x;
      }, {}),
      reloads: rs.reduce((x, r) => x + r.reloads, 0),
      watchErrors: rs.reduce((x, r) => x + r.watchErrors, 0),
      ms: Math.max(...rs.map((r) => r.ms)),
    };
  }

  async verify(finals: Record<string, number>, waitMs = 5000) {
    const rs = await this.all<{
      channels: number;
      missing: number;
      duplicates: number;
      received: number;
      clientsWithGaps: number;
      unchecked: number;
      details: Record<string, unknown>[];
    }>('verify', { finals, waitMs }, waitMs + 30_000);
    const sum = (k: 'channels' | 'missing' | 'duplicates' | 'received' | 'clientsWithGaps' | 'unchecked') =>
      rs.reduce((x, r) => x + r[k], 0);
    return {
      channels: sum('channels'),
      missing: sum('missing'),
      duplicates: sum('duplicates'),
      received: sum('received'),
      clientsWithGaps: sum('clientsWithGaps'),
      unchecked: sum('unchecked'),
      details: rs.flatMap((r) => r.details),
    };
  }

  closeClients() {
    return this.all('close');
  }

  /** CPU ms used so far by every generator process. */
  cpuMs(): number {
    return this.procs.reduce((a, p) => {
      try {
        return a + procStats(p.pid).cpuMs;
      } catch {
        return a;
      }
    }, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
  }
}
