/**
 * Connection stability on this node, per app: how often clients come back (a connect whose URL
 * says `reconnect=1`: the SDK adds it to every connect after its first), how long connections
 * stay up (connected time, integrated exactly over opens and closes), and how long a client that
 * came back takes to resync (what it reports with `connection.resynced`, once per connection).
 *
 * The figures go to Prometheus as they happen (`parley_ws_reconnects_total`,
 * `parley_ws_connected_seconds_total`, `parley_resync_seconds`) and, each usage sample period,
 * into `usage_samples` with the connection counts (features/analytics), where a day's
 * reconnects per connection-hour and resync times are read across every node.
 */
import type { Metrics } from '../platform/metrics.js';

/** One app's figures for one period. */
export interface StabilityTally {
  /** Connection-milliseconds: the sum over its connections of the time each was open. */
  connectedMs: number;
  reconnects: number;
  resyncs: number;
  /** The reported resync times, summed (the mean is `resyncMs / resyncs`). */
  resyncMs: number;
  resyncMaxMs: number;
}

interface AppTally extends StabilityTally {
  /** Connections open now. */
  open: number;
  /** When `connectedMs` was last brought up to date. */
  since: number;
}

const empty = (): StabilityTally => ({ connectedMs: 0, reconnects: 0, resyncs: 0, resyncMs: 0, resyncMaxMs: 0 });

export class StabilityMeter {
  private readonly apps = new Map<string, AppTally>();

  constructor(
    private readonly clock: () => number,
    private readonly metrics: Pick<Metrics, 'reconnects' | 'connectedSeconds' | 'resyncSeconds'>,
  ) {}

  /** A connection of `appId` opened (after its hello); `reconnect`: the client said it came back. */
  opened(appId: string, reconnect: boolean): void {
    const t = this.advance(appId);
    t.open++;
    if (reconnect) {
      t.reconnects++;
      this.metrics.reconnects.inc();
    }
  }

  /** A connection of `appId` that `opened` closed. */
  closed(appId: string): void {
    const t = this.advance(appId);
    t.open = Math.max(0, t.open - 1);
  }

  /** A client that came back caught up in `ms`. */
  resynced(appId: string, ms: number): void {
    const t = this.advance(appId);
    t.resyncs++;
    t.resyncMs += ms;
    t.resyncMaxMs = Math.max(t.resyncMaxMs, ms);
    this.metrics.resyncSeconds.observe(ms / 1000);
  }

  /**
   * Each app's figures since the last `take`, brought up to now (connections still open count
   * their time to this instant), and a new period begins. Apps with nothing to say are left out.
   */
  take(): Map<string, StabilityTally> {
    const out = new Map<string, StabilityTally>();
    for (const appId of [...this.apps.keys()]) {
      const t = this.advance(appId);
      if (t.connectedMs > 0 || t.reconnects > 0 || t.resyncs > 0) {
        out.set(appId, {
          connectedMs: Math.round(t.connectedMs),
          reconnects: t.reconnects,
          resyncs: t.resyncs,
          resyncMs: Math.round(t.resyncMs),
          resyncMaxMs: Math.round(t.resyncMaxMs),
        });
      }
      if (t.open === 0) this.apps.delete(appId);
      else Object.assign(t, empty());
    }
    return out;
  }

  /** `appId`'s tally with its connected time brought up to now. */
  private advance(appId: string): AppTally {
    const now = this.clock();
    let t = this.apps.get(appId);
    if (!t) {
      t = { ...empty(), open: 0, since: now };
      this.apps.set(appId, t);
    }
    const elapsed = now - t.since;
    if (elapsed > 0 && t.open > 0) {
      t.connectedMs += elapsed * t.open;
      this.metrics.connectedSeconds.inc((elapsed * t.open) / 1000);
    }
    t.since = now;
    return t;
  }
}
