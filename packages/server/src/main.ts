/**
 * Run a server from the environment: build it, listen, and drain on SIGTERM or SIGINT — fail
 * `/readyz` (and keep serving for `PARLEY_DRAIN_DELAY_MS`, while balancers notice), stop taking
 * connections, let in-flight requests finish, close sockets with SHUTTING_DOWN and a hint to
 * reconnect elsewhere, close the database — then exit 0.
 */
import { buildServer, type ParleyServer } from './app.js';
import type { Config } from './platform/config.js';
import type { Database } from './platform/db/index.js';

export interface Started extends ParleyServer {
  url: string;
  stop(): Promise<void>;
  /** The drain a signal starts: `/readyz` fails, `drainDelayMs` passes, then `stop()`. */
  drain(): Promise<void>;
}

/** Once the drain delay is over, how long the rest of a shutdown may take before the process exits anyway. */
const SHUTDOWN_BOUND_MS = 15_000;

export async function startServer(
  config: Config,
  opts: { handleSignals?: boolean; migrate?: boolean; opening?: Promise<Database>; followPublicUrl?: boolean } = {},
): Promise<Started> {
  const server = await buildServer(config, {
    migrate: opts.migrate !== false,
    opening: opts.opening,
    followPublicUrl: opts.followPublicUrl !== false,
  });
  const { app } = server;
  const address = await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  const port = new URL(address).port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= app.close();
    return stopping;
  };
  let draining: Promise<void> | null = null;
  const drain = () => {
    draining ??= (async () => {
      server.startDraining();
      if (config.drainDelayMs > 0) await new Promise((r) => setTimeout(r, config.drainDelayMs));
      await stop();
    })();
    return draining;
  };
  if (opts.handleSignals) {
    const onSignal = (signal: string) => {
      app.log.info({ signal, drainDelayMs: config.drainDelayMs }, 'draining');
      const force = setTimeout(() => {
        app.log.error({ step: server.shutdownStep() }, 'shutdown took too long; exiting');
        process.exit(1);
      }, config.drainDelayMs + SHUTDOWN_BOUND_MS);
      force.unref();
      drain().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { ...server, url, stop, drain };
}
