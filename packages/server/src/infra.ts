/**
 * What one server instance is built on, before any feature: configuration, the database, the
 * bus, the hub, the rate limiter. The feature components that `Services` carries (presence,
 * typing, the send batcher, chat sessions) are built on this alone, so `services.ts` can name
 * their types without an import cycle: services.ts → features → infra.ts, never back.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './platform/config.js';
import type { Database, Db, Tx } from './platform/db/index.js';
import type { JobQueue } from './platform/jobs/queue.js';
import type { Mailer } from './platform/mailer.js';
import type { Metrics } from './platform/metrics.js';
import type { RateLimiter } from './platform/rate-limit.js';
import type { Sealer } from './platform/secrets.js';
import type { Storage } from './platform/storage/index.js';
import type { AppRegistry } from './platform/tenancy.js';
import type { Broker } from './realtime/broker.js';
import type { Bus, Outgoing } from './realtime/bus.js';
import type { Hub } from './realtime/hub.js';
import type { StabilityMeter } from './realtime/stability.js';

export interface Infra {
  config: Config;
  database: Database;
  db: Db;
  log: FastifyBaseLogger;
  metrics: Metrics;
  apps: AppRegistry;
  broker: Broker;
  bus: Bus;
  hub: Hub;
  /** Reconnects, connected time and resync times on this node (realtime/stability.ts). */
  stability: StabilityMeter;
  limiter: RateLimiter;
  /** Durable background jobs (platform/jobs). */
  jobs: JobQueue;
  /** Where file bytes live (a local folder or S3), and the signer of file URLs. */
  storage: Storage;
  /** Changes when the data is restored from a backup; the WebSocket hello carries it (platform/backup). */
  dataEpoch: string | undefined;
  /** Account mail (platform/mailer.ts). */
  mailer: Mailer;
  /** Seals secrets at rest under the master key (app secrets, TOTP secrets): platform/secrets.ts. */
  sealer: Sealer;
  /** Now, in ms since the epoch: `Date.now` unless a test injects a clock (lockout timing). */
  clock: () => number;
  /**
   * Wakes the senders of webhook lanes (endpoint × channel) whose deliveries just committed;
   * `Services` names the implementation (features/webhooks/pump.ts).
   */
  webhooks: { wake(lanes: readonly { appId: string; endpointId: string; lane: string }[]): void };
  /**
   * Runs inside every `withTransaction` just before commit, with what it will publish: the
   * outbox of side effects that must commit with the events (webhook deliveries). Answers what
   * to run after commit (wake workers), if anything.
   */
  beforeCommit?: (tx: Tx, out: readonly Outgoing[]) => Promise<(() => void) | null>;
}
