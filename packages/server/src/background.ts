/**
 * The background thread (`PARLEY_BACKGROUND=thread`): this node's jobs — notifications and their
 * pushes, webhook deliveries, mail, previews, thumbnails, the recurring ones — run on a worker
 * thread of the same process, with its own event loop and database connections, instead of on
 * the loop that serves clients. The thread builds a server of its own (background-thread.ts)
 * that never listens; the main thread's server runs no jobs and wakes the thread's through the
 * broker. Without Redis the thread is one more member of the process's in-process broker, over
 * a MessagePort (realtime/port-broker.ts); with Redis it is one more node on it.
 *
 * If the thread dies, it is started again a second later: its jobs are durable (pg-boss hands a
 * dead run's job back at expiry, webhook lanes are leased) and nothing is lost meanwhile.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from './platform/config.js';
import { allowTexts, type OutboundKind } from './platform/outbound.js';
import { type Broker, MemoryBroker } from './realtime/broker.js';
import { bridgeToPort } from './realtime/port-broker.js';

/** What the main thread and the background thread say to each other. */
export type ToThread = { k: 'build'; port?: MessagePort } | { k: 'stop' } | { k: 'metrics'; id: number };
export type FromThread =
  | { k: 'ready' }
  | { k: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] };

/** What the thread is given to build its server with. */
export interface ThreadData {
  /** The configuration but its allow-lists, which do not survive a copy to another thread… */
  config: Omit<Config, 'outboundAllow'>;
  /** …and are sent as the entries' text. */
  outboundAllow: Record<OutboundKind, string[]>;
  logger: boolean;
}

const ENTRY = new URL(`./background-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/**
 * Run from the TypeScript sources (the bench, `tsx`, the CLI on sources newer than their build),
 * a worker thread does not inherit the loader the main thread registered: the thread registers
 * it itself first, from where this file finds it (not the working folder, which may be any).
 */
const BOOT = ENTRY.pathname.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY.href)}); })`
  : null;
/** A graceful stop waits this long beyond the jobs' own stop timeout before ending the thread. */
const STOP_GRACE_MS = 5_000;
const RESTART_MS = 1_000;

export interface Background {
  /** The running thread's id (a thread started again has a new one). */
  readonly threadId: number;
  /** The thread's metrics, to serve beside the main thread's (empty while it is down). */
  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
  /** End the thread at once, as a crash in it would (tests): it is started again. */
  kill(): Promise<void>;
  /** Stop the thread's jobs (running ones finish or are handed back) and end it. */
  stop(): Promise<void>;
}

type Answer = (m: MetricObjectWithValues<MetricValue<string>>[]) => void;

/**
 * Spawns the background thread as soon as it is made, so that the thread loads its modules
 * (about 1.5 s) while this thread migrates and builds; `start` then has it build its server,
 * once the broker exists.
 */
export class BackgroundLaunch implements Background {
  private readonly data: ThreadData;
  private worker: Worker;
  /** Settles when the current thread is ready, or exits before. */
  private ready!: Promise<void>;
  private broker: Broker | null = null;
  /** The current thread's way into the in-process broker (none with Redis). */
  private bridge: { close(): void } | null = null;
  private log: FastifyBaseLogger | null = null;
  private stopping = false;
  private nextId = 0;
  private readonly asked = new Map<number, Answer>();

  constructor(
    private readonly config: Config,
    logger: boolean,
  ) {
    const { outboundAllow, ...rest } = {
      ...config,
      background: 'inline',
      jobWorkers: true,
      nodeId: `${config.nodeId}/bg`,
    };
    this.data = { config: rest as ThreadData['config'], outboundAllow: allowTexts(outboundAllow), logger };
    this.worker = this.spawn();
  }

  /** Build the thread's server on `broker`; resolves once its jobs run, rejects if it cannot start. */
  async start(broker: Broker, log: FastifyBaseLogger): Promise<Background> {
    this.broker = broker;
    this.log = log;
    this.build();
    await this.ready;
    return this;
  }

  private spawn(): Worker {
    const options = { workerData: this.data, name: 'parley-background' };
    const w = BOOT ? new Worker(BOOT, { ...options, eval: true }) : new Worker(ENTRY, options);
    let up = false;
    let failure: Error | null = null;
    this.ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: FromThread) => {
        if (m.k === 'ready') {
          up = true;
          resolve();
        } else if (m.k === 'metrics') {
          this.asked.get(m.id)?.(m.metrics);
          this.asked.delete(m.id);
        }
      });
      w.on('error', (err) => {
        failure = err;
        if (up) this.log?.error({ err }, 'background thread failed');
      });
      w.on('exit', (code) => {
        this.bridge?.close();
        this.bridge = null;
        for (const answer of this.asked.values()) answer([]);
        this.asked.clear();
        if (!up) {
          const why = failure ? `: ${failure.message}` : ` (code ${code})`;
          reject(new Error(`the background thread did not start${why}`, { cause: failure }));
          return;
        }
        if (this.stopping) return;
        this.log?.error({ code }, 'background thread exited; starting it again');
        const again = setTimeout(() => {
          if (this.stopping) return;
          this.worker = this.spawn();
          this.build();
          this.ready.catch((err) => this.log?.error({ err }, 'background thread did not start again'));
        }, RESTART_MS);
        again.unref();
      });
    });
    // Awaited by `start`; a thread that dies before is reported there.
    this.ready.catch(() => {});
    return w;
  }

  /** Tell the thread to build: with a port into this process's broker when it is in process. */
  private build(): void {
    const broker = this.broker as Broker;
    if (broker instanceof MemoryBroker) {
      const { port1, port2 } = new MessageChannel();
      this.bridge = bridgeToPort(broker.network, port1);
      this.worker.postMessage({ k: 'build', port: port2 } satisfies ToThread, [port2]);
    } else this.worker.postMessage({ k: 'build' } satisfies ToThread);
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.asked.set(id, resolve);
      this.worker.postMessage({ k: 'metrics', id } satisfies ToThread);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const w = this.worker;
    const exited = new Promise<void>((resolve) => {
      if (w.threadId === -1) resolve();
      else w.once('exit', () => resolve());
    });
    w.postMessage({ k: 'stop' } satisfies ToThread);
    const force = setTimeout(() => void w.terminate(), this.config.jobStopTimeoutMs + STOP_GRACE_MS);
    await exited;
    clearTimeout(force);
  }
}
