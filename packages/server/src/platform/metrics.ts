/** Prometheus metrics, one registry per server instance (tests run several in one process). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  openSockets: Gauge;
  framesIn: Counter<'type'>;
  framesOut: Counter;
  messagesSent: Counter;
  sendBatchSize: Histogram;
  slowConsumers: Counter;
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
  };
}
