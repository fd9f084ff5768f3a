/** Prometheus metrics, one registry per server instance (tests run several in one process). */
import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  openSockets: Gauge;
  framesIn: Counter<'type'>;
  /** Sockets authenticated, by how the token came: `upgrade` (subprotocol) or `frame`. */
  handshakes: Counter<'via'>;
  framesOut: Counter;
  messagesSent: Counter;
  sendBatchSize: Histogram;
  slowConsumers: Counter;
  /** Connects whose client said it came back (`reconnect=1`): realtime/stability.ts. */
  reconnects: Counter;
  /** Connection-seconds: the time connections were open, summed over them. */
  connectedSeconds: Counter;
  /** How long clients that came back took to resync, as they report it (`connection.resynced`). */
  resyncSeconds: Histogram;
  unreadPairs: Counter;
  /** Unread push passes (a channel after a read mark) read whole or added to a kept one: features/reads/kept-passes.ts. */
  unreadPasses: Counter<'from'>;
}

export function createMetrics(nodeId: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry, prefix: 'parley_' });
  const reg = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'parley_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['method', 'route', 'status'],
      registers: reg,
    }),
    httpDuration: new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: reg,
    }),
    openSockets: new Gauge({ name: 'parley_ws_open_sockets', help: 'Open WebSocket connections', registers: reg }),
    framesIn: new Counter({
      name: 'parley_ws_frames_in_total',
      help: 'WebSocket frames received, by request type',
      labelNames: ['type'],
      registers: reg,
    }),
    handshakes: new Counter({
      name: 'parley_ws_handshakes_total',
      help: 'Socket tokens accepted, by how they came: with the upgrade, in the auth frame, or with an event stream (the fallback transport)',
      labelNames: ['via'],
      registers: reg,
    }),
    framesOut: new Counter({ name: 'parley_ws_frames_out_total', help: 'WebSocket frames sent', registers: reg }),
    messagesSent: new Counter({ name: 'parley_messages_sent_total', help: 'Messages persisted', registers: reg }),
    sendBatchSize: new Histogram({
      name: 'parley_send_batch_size',
      help: 'Sends checked and written together by one group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: reg,
    }),
    slowConsumers: new Counter({
      name: 'parley_ws_slow_consumer_disconnects_total',
      help: 'Connections closed because their send queue overflowed',
      registers: reg,
    }),
    reconnects: new Counter({
      name: 'parley_ws_reconnects_total',
      help: 'Connections opened by clients that came back (the connect URL says reconnect=1)',
      registers: reg,
    }),
    connectedSeconds: new Counter({
      name: 'parley_ws_connected_seconds_total',
      help: 'Time connections were open, summed over them; reconnects per connection-hour = 3600 × rate(parley_ws_reconnects_total) / rate(parley_ws_connected_seconds_total)',
      registers: reg,
    }),
    unreadPairs: new Counter({
      name: 'parley_unread_push_counts_total',
      help: "A member's counts in a channel read for an unread.updated push (only connected members' are read for a message)",
      registers: reg,
    }),
    unreadPasses: new Counter({
      name: 'parley_unread_push_passes_total',
      help: "A channel's unread messages after a read mark, counted for an unread.updated push: from the mark (whole), or added to the pass this node kept (kept)",
      labelNames: ['from'],
      registers: reg,
    }),
    resyncSeconds: new Histogram({
      name: 'parley_resync_seconds',
      help: 'From hello to caught up, as clients that came back report it (connection.resynced)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: reg,
    }),
  };
}

/**
 * Where a send spends its time (issue 19), and how long queries wait for a pooled connection:
 * `parley_send_stage_seconds{stage}` — `queued` (submitted → its batch starts), `access_wait` /
 * `write_wait` (waiting for a hot connection), `access` / `write` (the read, when a send's rows
 * are not cached, and the write), `total` (submitted → published), `before_send` (the app's
 * before-send hook call, before the send is submitted);
 * `parley_send_access_rows_total{rows}` — sends checked against `cached` rows, rows `read` for
 * them, and `stale` rows the write found changed; `parley_db_pool_wait_seconds{pool}` for every
 * checkout, and the pools' connections by state at scrape time.
 */
export interface SendPathMetrics {
  sendStage: Histogram<'stage'>;
  sendRows: Counter<'rows'>;
  poolWait: Histogram<'pool'>;
}

const SEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const sendPath = new WeakMap<Registry, SendPathMetrics>();

/** The send path's metrics in `metrics`' registry (made on first use, one set per registry). */
export function sendPathMetrics(metrics: Metrics): SendPathMetrics {
  let m = sendPath.get(metrics.registry);
  if (!m) {
    const reg = [metrics.registry];
    m = {
      sendStage: new Histogram({
        name: 'parley_send_stage_seconds',
        help: 'Time of each stage of a batched send: queued, access_wait, access, write_wait, write, total',
        labelNames: ['stage'],
        buckets: SEND_BUCKETS,
        registers: reg,
      }),
      sendRows: new Counter({
        name: 'parley_send_access_rows_total',
        help: 'Sends checked against cached rows, against rows read for them, and sends whose rows the write found changed',
        labelNames: ['rows'],
        registers: reg,
      }),
      poolWait: new Histogram({
        name: 'parley_db_pool_wait_seconds',
        help: 'Time a query waited for a pooled PostgreSQL connection, by pool',
        labelNames: ['pool'],
        buckets: SEND_BUCKETS,
        registers: reg,
      }),
    };
    sendPath.set(metrics.registry, m);
  }
  return m;
}

/**
 * Report `database`'s pool waits and pool sizes in `metrics` (and the event loop's use). A
 * database shared by several servers in one process (tests) reports its waits to the last.
 */
export function observeDatabase(
  metrics: Metrics,
  database: {
    observer: { poolWait?: (seconds: number, pool: 'main' | 'hot') => void };
    poolState(): Partial<Record<string, { total: number; idle: number; waiting: number }>>;
  },
): void {
  const m = sendPathMetrics(metrics);
  observeEventLoop(metrics);
  database.observer.poolWait = (s, pool) => m.poolWait.observe({ pool }, s);
  new Gauge({
    name: 'parley_db_pool_connections',
    help: 'Pooled PostgreSQL connections by pool and state (total, idle, waiting callers)',
    labelNames: ['pool', 'state'],
    registers: [metrics.registry],
    collect() {
      for (const [pool, st] of Object.entries(database.poolState()))
        if (st) for (const [state, v] of Object.entries(st)) this.set({ pool, state }, v);
    },
  });
}

/**
 * `parley_event_loop_utilization`: the share of time the event loop was busy since the previous
 * scrape (0–1). Beside the loop's lag it tells a busy server (utilization high) from one that
 * waits for a CPU on a crowded machine (lag high, utilization low).
 */
export function observeEventLoop(metrics: Metrics): void {
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: 'parley_event_loop_utilization',
    help: 'Share of time the event loop was busy since the previous scrape',
    registers: [metrics.registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
